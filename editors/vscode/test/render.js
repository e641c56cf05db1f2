// render.js - media/sample.dna as an HTML page, tokenized by the grammar
// (vscode-textmate + vscode-oniguruma, as VS Code does) and coloured like
// VS Code's Dark+ theme, with the diagnostics `dnac check --format json`
// gave underlined and listed below.  test/screenshot.sh captures the page
// with headless Chromium into media/screenshot.png.
//
//   node test/render.js SAMPLE.dna DIAGNOSTICS.jsonl OUT.html
'use strict';

const fs = require('fs');
const path = require('path');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const root = path.join(__dirname, '..');

// the first rule whose scope prefix matches wins (most specific first)
const theme = [
    ['comment', '#6a9955'],
    ['punctuation.definition.template-expression', '#569cd6'],
    ['meta.template.expression variable.other.property', '#9cdcfe'],
    ['meta.template.expression', '#d4d4d4'],
    ['constant.character.escape', '#d7ba7d'],
    ['string', '#ce9178'],
    ['keyword.declaration', '#569cd6'],
    ['keyword.control', '#c586c0'],
    ['keyword.other.action', '#c586c0'],
    ['keyword.operator.word', '#569cd6'],
    ['keyword.operator', '#d4d4d4'],
    ['constant.numeric.duration', '#b5cea8'],
    ['constant.numeric', '#b5cea8'],
    ['constant.language', '#569cd6'],
    ['entity.name.type', '#4ec9b0'],
    ['entity.name.namespace', '#4ec9b0'],
    ['entity.name.function', '#dcdcaa'],
    ['support.type', '#4ec9b0'],
    ['variable.other.property', '#9cdcfe'],
    ['variable.language', '#569cd6'],
    ['variable', '#9cdcfe'],
];

function colour(scopes) {
    for (const [sel, col] of theme) {
        const parts = sel.split(' ');
        let k = 0;
        for (const s of scopes) if (k < parts.length && (s === parts[k] || s.startsWith(parts[k] + '.'))) k++;
        if (k === parts.length) return col;
    }
    return '#d4d4d4';
}

const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

async function main() {
    const [sample, diagFile, out] = process.argv.slice(2);
    const wasm = fs.readFileSync(path.join(root, 'node_modules', 'vscode-oniguruma', 'release', 'onig.wasm'));
    await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
    const registry = new vsctm.Registry({
        onigLib: Promise.resolve({
            createOnigScanner: (p) => new oniguruma.OnigScanner(p),
            createOnigString: (s) => new oniguruma.OnigString(s),
        }),
        loadGrammar: async () => {
            const file = path.join(root, 'syntaxes', 'dna.tmLanguage.json');
            return vsctm.parseRawGrammar(fs.readFileSync(file, 'utf8'), file);
        },
    });
    const grammar = await registry.loadGrammar('source.dna');
    const diags = fs.readFileSync(diagFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const lines = fs.readFileSync(sample, 'utf8').replace(/\n$/, '').split('\n');
    let stack = vsctm.INITIAL;
    const rows = [];
    lines.forEach((line, i) => {
        const r = grammar.tokenizeLine(line, stack);
        stack = r.ruleStack;
        const bad = diags.filter((d) => d.line === i + 1);
        let html = '';
        for (const t of r.tokens) {
            const text = line.slice(t.startIndex, t.endIndex);
            // columns are 1-based code points; the sample is ASCII
            const under = bad.some((d) => t.startIndex < d.end_col - 1 && t.endIndex > d.col - 1);
            html += `<span style="color:${colour(t.scopes)}"${under ? ' class="err"' : ''}>${esc(text)}</span>`;
        }
        rows.push(`<div class="row"><span class="ln">${i + 1}</span>${html || ' '}</div>`);
    });
    const problems = diags.map((d) => `<div class="p"><span class="x">&#x2297;</span> ${esc(d.message)}
      <span class="code">dnac(${d.code}) [Ln ${d.line}, Col ${d.col}]</span>${d.help ? `<div class="help">help: ${esc(d.help)}</div>` : ''}</div>`);
    fs.writeFileSync(out, `<!doctype html><meta charset="utf-8"><style>
body{margin:0;background:#1e1e1e;font:14px/20px "DejaVu Sans Mono",monospace;color:#d4d4d4}
.tab{background:#252526;color:#fff;padding:6px 16px;border-bottom:1px solid #333;font-family:"DejaVu Sans",sans-serif;font-size:13px}
.code-area{padding:8px 0}.row{white-space:pre}.ln{display:inline-block;width:40px;text-align:right;margin-right:18px;color:#858585}
.err{text-decoration:underline wavy #f14c4c;text-underline-offset:3px}
.panel{border-top:1px solid #444;background:#1e1e1e;padding:6px 16px;font-family:"DejaVu Sans",sans-serif;font-size:13px}
.ph{color:#e7e7e7;text-transform:uppercase;font-size:11px;letter-spacing:1px;margin-bottom:4px}
.x{color:#f14c4c}.code{color:#8b8b8b}.help{color:#9cdcfe;margin-left:18px}
</style><div class="tab">scoring.dna</div><div class="code-area">${rows.join('\n')}</div>
<div class="panel"><div class="ph">Problems</div>${problems.join('\n')}</div>`);
}

main().catch((e) => { console.error(e); process.exit(1); });
