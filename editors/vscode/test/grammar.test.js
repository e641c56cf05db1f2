// grammar.test.js - the TextMate grammar (syntaxes/dna.tmLanguage.json)
// tokenized by vscode-textmate + vscode-oniguruma, as VS Code does, on the
// ```dna code blocks of the Markdown files named on the command line, and on
// the .dna files named (each one block).
//
//   node test/grammar.test.js ../../README.md ../../docs/language.md ../../rules/*.dna
//
// A small scanner that follows grammar/lexer.l finds the tokens of each
// block; every keyword token (the keywords are read from lexer.l, so a new
// keyword without a scope fails here) must get the scope the grammar gives
// that keyword, comments a comment scope, strings a string scope, the holes
// of templates the template scope and durations the duration scope.  A
// keyword after '.' is a member name (`lead.score`) and gets the property
// scope instead.  Ends with "N passed, N failed".
'use strict';

const fs = require('fs');
const path = require('path');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const root = path.join(__dirname, '..');
const repo = path.join(root, '..', '..');
let passed = 0;
let failed = 0;

function check(ok, what) {
    if (ok) passed++;
    else { failed++; console.log('FAIL: ' + what); }
}

function lexerKeywords() {
    const text = fs.readFileSync(path.join(repo, 'grammar', 'lexer.l'), 'utf8');
    const out = [];
    for (const m of text.matchAll(/^"([a-z][a-z_]*)"\s+(?:return|\{)/gm)) out.push(m[1]);
    return out;
}

function codeBlocks(file) {
    const text = fs.readFileSync(file, 'utf8');
    if (file.endsWith('.dna')) return [{ file: path.relative(repo, file), line: 1, text }];
    const out = [];
    const re = /^```dna\n([\s\S]*?)^```/gm;
    let m;
    while ((m = re.exec(text)) !== null) {
        const line = text.slice(0, m.index).split('\n').length + 1;
        out.push({ file: path.relative(repo, file), line, text: m[1] });
    }
    return out;
}

// Tokens the checks look at, from a scanner that follows lexer.l: each has
// a kind (keyword, member, duration, comment, string, hole), its offset and
// its text.
function scan(src, keywords) {
    const toks = [];
    let i = 0;
    let prevDot = false;
    function code(end, inHole) {
        while (i < end) {
            const c = src[i];
            if (src.startsWith('//', i)) {
                const e = src.indexOf('\n', i);
                toks.push({ kind: 'comment', at: i, text: src.slice(i, e < 0 ? src.length : e) });
                i = e < 0 ? src.length : e;
            } else if (src.startsWith('/*', i)) {
                const e = src.indexOf('*/', i + 2);
                toks.push({ kind: 'comment', at: i, text: '/*' });
                i = e < 0 ? src.length : e + 2;
            } else if (c === '"') {
                string();
            } else if (inHole && c === '}') {
                return;
            } else if (/[A-Za-z_]/.test(c)) {
                const w = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))[0];
                if (prevDot) toks.push({ kind: 'member', at: i, text: w });
                else if (keywords.has(w)) toks.push({ kind: 'keyword', at: i, text: w });
                i += w.length;
                prevDot = false;
                if (w === 'module' || w === 'import') {       // a dotted module name follows
                    const d = /^\s+[A-Za-z_][A-Za-z0-9_.]*/.exec(src.slice(i));
                    if (d) i += d[0].length;
                }
                continue;
            } else if (src.startsWith('..', i)) {
                i += 2;
                prevDot = false;
                continue;
            } else if (/[0-9]/.test(c)) {
                const rest = src.slice(i);
                const d = /^(?:[0-9]+[smhdw])+(?![A-Za-z0-9_])/.exec(rest);
                const n = d || /^[0-9]{1,2}:[0-9]{2}|^[0-9]+(?:\.[0-9]+)?/.exec(rest);
                if (d) toks.push({ kind: 'duration', at: i, text: d[0] });
                i += n[0].length;
            } else {
                i++;
            }
            if (c === '.') prevDot = true;
            else if (!/\s/.test(c)) prevDot = false;
        }
    }
    function string() {
        toks.push({ kind: 'string', at: i, text: '"' });
        i++;
        while (i < src.length && src[i] !== '"' && src[i] !== '\n') {
            if (src[i] === '\\') { i += 2; continue; }
            if (src[i] === '{') {
                toks.push({ kind: 'hole', at: i, text: '{' });
                i++;
                prevDot = false;
                code(src.length, true);
                i++;
                continue;
            }
            i++;
        }
        i++;
    }
    code(src.length, false);
    return toks;
}

async function main() {
    if (!fs.existsSync(path.join(root, 'node_modules', 'vscode-textmate'))) {
        console.log("FAIL: node_modules is missing: run 'npm ci' in editors/vscode (.ci/setup does)");
        process.exit(1);
    }
    const wasm = fs.readFileSync(path.join(root, 'node_modules', 'vscode-oniguruma', 'release', 'onig.wasm'));
    await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
    const registry = new vsctm.Registry({
        onigLib: Promise.resolve({
            createOnigScanner: (p) => new oniguruma.OnigScanner(p),
            createOnigString: (s) => new oniguruma.OnigString(s),
        }),
        loadGrammar: async (scope) => {
            if (scope !== 'source.dna') return null;
            const file = path.join(root, 'syntaxes', 'dna.tmLanguage.json');
            return vsctm.parseRawGrammar(fs.readFileSync(file, 'utf8'), file);
        },
    });
    const grammar = await registry.loadGrammar('source.dna');

    // the scopes at each offset of a text
    function scopesOf(text) {
        const at = new Array(text.length + 1).fill(null);
        let stack = vsctm.INITIAL;
        let off = 0;
        for (const line of text.split('\n')) {
            const r = grammar.tokenizeLine(line, stack);
            for (const t of r.tokens)
                for (let k = t.startIndex; k < Math.min(t.endIndex, line.length); k++) at[off + k] = t.scopes;
            stack = r.ruleStack;
            off += line.length + 1;
        }
        return at;
    }

    // every keyword of the lexer has a keyword (or language constant) scope
    const keywords = lexerKeywords();
    check(keywords.length > 80, `lexer.l gives the keywords (${keywords.length})`);
    const kwScope = {};
    for (const k of keywords) {
        const s = scopesOf(k)[0] || [];
        const scope = s.find((x) => x.startsWith('keyword.') || x.startsWith('constant.language.'));
        kwScope[k] = scope;
        check(scope, `keyword '${k}' has a keyword scope (got ${s.join(' ')})`);
    }
    const kwset = new Set(keywords);

    const files = process.argv.slice(2);
    check(files.length > 0, 'Markdown files are named');
    let blocks = 0;
    const seen = { keyword: 0, member: 0, duration: 0, comment: 0, string: 0, hole: 0 };
    for (const f of files) {
        for (const b of codeBlocks(path.resolve(f))) {
            blocks++;
            const at = scopesOf(b.text);
            for (const t of scan(b.text, kwset)) {
                seen[t.kind]++;
                const s = at[t.at] || [];
                const line = b.line + b.text.slice(0, t.at).split('\n').length - 1;
                const where = `${b.file}:${line}: ${t.kind} '${t.text}'`;
                const has = (p) => s.some((x) => x === p || x.startsWith(p + '.'));
                if (t.kind === 'keyword') check(s.includes(kwScope[t.text]), `${where} wants ${kwScope[t.text]}, has ${s.join(' ')}`);
                else if (t.kind === 'member') check(has('variable.other.property'), `${where} wants the property scope, has ${s.join(' ')}`);
                else if (t.kind === 'duration') check(has('constant.numeric.duration'), `${where} wants the duration scope, has ${s.join(' ')}`);
                else if (t.kind === 'comment') check(has('comment'), `${where} wants a comment scope, has ${s.join(' ')}`);
                else if (t.kind === 'string') check(has('string.quoted.double'), `${where} wants the string scope, has ${s.join(' ')}`);
                else if (t.kind === 'hole') check(has('meta.template.expression'), `${where} wants the template scope, has ${s.join(' ')}`);
            }
        }
    }
    check(blocks >= 10, `the files hold dna code blocks (${blocks})`);
    for (const k of Object.keys(seen)) check(seen[k] > 0, `the blocks have ${k} tokens (${seen[k]})`);
    console.log(`grammar: ${blocks} blocks; tokens checked: ${JSON.stringify(seen)}`);
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(2); });
