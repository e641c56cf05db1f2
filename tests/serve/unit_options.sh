#!/bin/sh
# unit_options.sh - dist/dnad.service runs options dnad has: every --option
# on its ExecStart is one `dnad serve --help` lists, the command is `serve`,
# and the unit keeps what docs/operations.md says it does (secrets from
# /etc/dna/dnad.env, the state directory writable, SIGHUP for reload,
# SIGTERM with a stop timeout).  With systemd-analyze on the machine the
# unit is also verified (against this build's dnad).
#
#   unit_options.sh DNAD SRCDIR WORKDIR
set -u
dnad=$1 src=$2 work=$3
unit=$src/dist/dnad.service
fail() { echo "FAIL (unit_options): $*"; exit 1; }
[ -f "$unit" ] || fail "no $unit"
mkdir -p "$work" && cd "$work" || exit 2
"$dnad" serve --help > help.txt 2>&1 || fail "dnad serve --help exits $?"
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
[ -n "$exec_start" ] || fail "no ExecStart"
set -- $exec_start
[ "$2" = serve ] || fail "ExecStart does not run 'dnad serve': $exec_start"
n=0
for a in "$@"; do
    case $a in
    --*) opt=${a%%=*}
         grep -q -- "$opt\\b" help.txt || fail "ExecStart uses $opt, which dnad serve --help does not list"
         n=$((n + 1)) ;;
    esac
done
[ $n -ge 3 ] || fail "only $n options on ExecStart"
for want in '^Type=simple$' '^EnvironmentFile=/etc/dna/dnad.env$' '^StateDirectory=dna$' '^ReadWritePaths=/var/lib/dna$' \
            '^ExecReload=/bin/kill -HUP \$MAINPID$' '^KillSignal=SIGTERM$' '^TimeoutStopSec=' '^NoNewPrivileges=yes$' \
            '^ProtectSystem=strict$' '^User=dna$' '^RestartPreventExitStatus=2$'; do
    grep -q "$want" "$unit" || fail "the unit lacks $want"
done
grep -q -- '--db sqlite:/var/lib/dna/' "$unit" || fail "the database is not in the state directory"
grep -v '^#' "$unit" | grep -qi 'token' && fail "a token in the unit (it belongs in /etc/dna/dnad.env)"
if command -v systemd-analyze >/dev/null 2>&1; then
    sed "s|^ExecStart=[^ ]*|ExecStart=$dnad|" "$unit" > "$work/dnad.service"
    systemd-analyze verify "$work/dnad.service" > "$work/verify.txt" 2>&1 || fail "systemd-analyze verify: $(cat "$work/verify.txt")"
    [ -s "$work/verify.txt" ] && fail "systemd-analyze verify warns: $(cat "$work/verify.txt")"
    echo "systemd-analyze verify: clean"
fi
echo "ok (unit_options): $n options on ExecStart, all in dnad serve --help"
