/*
 * raw_http.c - a client that misbehaves on purpose, for the daemon's attack
 * tests (tests/serve/attack.sh): raw sockets, no HTTP library.
 *
 *   raw_http slow PORT N INTERVAL_MS DURATION_MS [SRC]
 *       N connections that send a request line, then one header line every
 *       INTERVAL_MS and never the end of the headers; a connection closed
 *       by the daemon is opened again.  Prints "open MAX closed C 408 K".
 *   raw_http send PORT FILE [SRC]
 *       FILE's bytes as they are; prints the answer (until closed, 3 s).
 *   raw_http flood PORT PATH SECONDS
 *       POST PATH with a chunked body of 64 KiB chunks, as fast as it goes,
 *       for SECONDS or until closed.  Prints "sent BYTES closed 0|1" and the
 *       answer's status line if one came.
 *   raw_http inflight PORT TOKEN FILE...
 *       one POST /v1/events per FILE, each on its own connection: the
 *       headers and half of the body, then "partial" on stdout, then a
 *       second later the rest.  Prints "answered A of N, 202: K".
 *
 * SRC: the local address to connect from (127.0.0.2 ... are loopback too),
 * so tests can be several clients.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int dial(int port, const char *src)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    if (src) {
        inet_pton(AF_INET, src, &a.sin_addr);
        if (bind(fd, (struct sockaddr *)&a, sizeof a)) { close(fd); return -1; }
    }
    a.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a)) { close(fd); return -1; }
    return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k <= 0) return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Read until closed or ms pass; returns the bytes (malloc'd, NUL-ended). */
static char *read_answer(int fd, int ms, size_t *len)
{
    size_t n = 0, cap = 4096;
    char *b = malloc(cap);
    long long end = now_ms() + ms;
    while (b && now_ms() < end) {
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, (int)(end - now_ms())) <= 0) break;
        if (n + 1024 > cap) { cap *= 2; char *nb = realloc(b, cap); if (!nb) break; b = nb; }
        ssize_t k = recv(fd, b + n, cap - n - 1, 0);
        if (k <= 0) break;
        n += (size_t)k;
    }
    if (b) b[n] = 0;
    *len = n;
    return b;
}

static int slow(int port, int n, int interval, int duration, const char *src)
{
    int *fd = calloc((size_t)n, sizeof *fd);
    long long *next = calloc((size_t)n, sizeof *next);       /* the next line, or (closed) the next dial */
    if (!fd || !next) return 2;
    int open_now = 0, max_open = 0, closed = 0, got408 = 0;
    long long end = now_ms() + duration;
    for (int i = 0; i < n; i++) fd[i] = -1;
    while (now_ms() < end) {
        for (int i = 0; i < n; i++) {
            if (fd[i] < 0) {
                if (now_ms() < next[i]) continue;
                fd[i] = dial(port, src);
                next[i] = now_ms() + 250;
                if (fd[i] < 0) continue;
                open_now++;
                static const char line[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
                if (send_all(fd[i], line, sizeof line - 1)) { close(fd[i]); fd[i] = -1; open_now--; continue; }
                next[i] = now_ms() + interval;
            } else if (now_ms() >= next[i]) {
                static const char more[] = "X-Slow: 1\r\n";
                if (send_all(fd[i], more, sizeof more - 1)) { close(fd[i]); fd[i] = -1; open_now--; closed++; continue; }
                next[i] = now_ms() + interval;
            }
        }
        if (open_now > max_open) max_open = open_now;
        for (int i = 0; i < n; i++) {              /* closed by the daemon? */
            if (fd[i] < 0) continue;
            struct pollfd p = { fd[i], POLLIN, 0 };
            if (poll(&p, 1, 0) <= 0) continue;
            char buf[512];
            ssize_t k = recv(fd[i], buf, sizeof buf - 1, MSG_DONTWAIT);
            if (k > 0) { buf[k] = 0; if (strstr(buf, " 408 ")) got408++; }
            if (k > 0 || k == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                close(fd[i]);
                fd[i] = -1;
                next[i] = now_ms() + 250;                    /* dial again, soon */
                open_now--;
                closed++;
            }
        }
        struct timespec ts = { 0, 20 * 1000000L };
        nanosleep(&ts, NULL);
    }
    for (int i = 0; i < n; i++) if (fd[i] >= 0) close(fd[i]);
    free(fd);
    free(next);
    printf("open %d closed %d 408 %d\n", max_open, closed, got408);
    fflush(stdout);
    return 0;
}

static int send_file(int port, const char *path, const char *src)
{
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return 2; }
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    int fd = dial(port, src);
    if (fd < 0) { perror("connect"); return 2; }
    send_all(fd, buf, n);
    size_t len;
    char *a = read_answer(fd, 3000, &len);
    fwrite(a, 1, len, stdout);
    free(a);
    close(fd);
    return 0;
}

static int flood(int port, const char *path, int seconds)
{
    int fd = dial(port, NULL);
    if (fd < 0) { perror("connect"); return 2; }
    char head[512];
    int hl = snprintf(head, sizeof head, "POST %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", path);
    send_all(fd, head, (size_t)hl);
    static char chunk[7 + 65536 + 2];           /* "10000\r\n", 64 KiB, "\r\n" */
    memcpy(chunk, "10000\r\n", 7);
    memset(chunk + 7, ' ', 65536);
    memcpy(chunk + 7 + 65536, "\r\n", 2);
    long long sent = 0, end = now_ms() + seconds * 1000LL;
    int closed = 0;
    size_t off = 0;                              /* within the chunk: the framing stays whole */
    while (now_ms() < end) {
        struct pollfd p = { fd, POLLOUT, 0 };
        if (poll(&p, 1, 200) <= 0) continue;
        if (p.revents & (POLLERR | POLLHUP)) { closed = 1; break; }
        ssize_t k = send(fd, chunk + off, sizeof chunk - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK) { closed = 1; break; }
        if (k > 0) { sent += k; off = (off + (size_t)k) % sizeof chunk; }
    }
    size_t len;
    char *a = read_answer(fd, 500, &len);
    char *eol = a ? strstr(a, "\r\n") : NULL;
    if (eol) *eol = 0;
    printf("sent %lld closed %d %s\n", sent, closed, a && *a ? a : "no answer");
    fflush(stdout);
    free(a);
    close(fd);
    return 0;
}

static int inflight(int port, const char *token, int n, char **files)
{
    int *fd = calloc((size_t)n, sizeof *fd);
    char **body = calloc((size_t)n, sizeof *body);
    size_t *bl = calloc((size_t)n, sizeof *bl);
    if (!fd || !body || !bl) return 2;
    for (int i = 0; i < n; i++) {
        FILE *f = fopen(files[i], "rb");
        if (!f) { perror(files[i]); return 2; }
        body[i] = malloc(1 << 16);
        bl[i] = fread(body[i], 1, 1 << 16, f);
        fclose(f);
        fd[i] = dial(port, NULL);
        if (fd[i] < 0) { perror("connect"); return 2; }
        char head[512];
        int hl = snprintf(head, sizeof head, "POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                                             "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n", token, bl[i]);
        send_all(fd[i], head, (size_t)hl);
        send_all(fd[i], body[i], bl[i] / 2);
    }
    printf("partial\n");
    fflush(stdout);
    struct timespec ts = { 1, 0 };
    nanosleep(&ts, NULL);
    for (int i = 0; i < n; i++) send_all(fd[i], body[i] + bl[i] / 2, bl[i] - bl[i] / 2);
    int answered = 0, accepted = 0;
    for (int i = 0; i < n; i++) {
        size_t len;
        char *a = read_answer(fd[i], 15000, &len);
        if (a && !strncmp(a, "HTTP/1.1 ", 9)) {
            answered++;
            if (!strncmp(a + 9, "202", 3)) accepted++;
        }
        free(a);
        close(fd[i]);
        free(body[i]);
    }
    free(fd);
    free(body);
    free(bl);
    printf("answered %d of %d, 202: %d\n", answered, n, accepted);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc >= 6 && !strcmp(argv[1], "slow"))
        return slow(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), argc > 6 ? argv[6] : NULL);
    if (argc >= 4 && !strcmp(argv[1], "send")) return send_file(atoi(argv[2]), argv[3], argc > 4 ? argv[4] : NULL);
    if (argc == 5 && !strcmp(argv[1], "flood")) return flood(atoi(argv[2]), argv[3], atoi(argv[4]));
    if (argc >= 5 && !strcmp(argv[1], "inflight")) return inflight(atoi(argv[2]), argv[3], argc - 4, argv + 4);
    fprintf(stderr, "usage: raw_http slow|send|flood|inflight ... (see raw_http.c)\n");
    return 2;
}
