// extension.js - the dna extension: starts `dnac lsp` for .dna files and
// connects VS Code to it (diagnostics, definition, hover, completion,
// formatting).  Highlighting comes from syntaxes/dna.tmLanguage.json alone.
'use strict';

const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

let client;

function serverOptions() {
    const cfg = vscode.workspace.getConfiguration('dna');
    const command = cfg.get('server.path') || 'dnac';
    const args = ['lsp'];
    const stdlib = cfg.get('server.stdlib');
    if (stdlib) args.push('--stdlib', stdlib);
    return { command, args };
}

async function activate(context) {
    client = new LanguageClient('dna', 'dna (dnac lsp)', serverOptions(), {
        documentSelector: [{ scheme: 'file', language: 'dna' }, { scheme: 'untitled', language: 'dna' }],
        // a .dna file changed on disk (checkout, another editor): the server checks the open files again
        synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher('**/*.dna') },
    });
    context.subscriptions.push(vscode.workspace.onDidChangeConfiguration(async (e) => {
        if (!e.affectsConfiguration('dna.server')) return;
        await client.stop();
        client = new LanguageClient('dna', 'dna (dnac lsp)', serverOptions(), client.clientOptions);
        await client.start();
    }));
    await client.start();
}

async function deactivate() {
    if (client) await client.stop();
}

module.exports = { activate, deactivate };
