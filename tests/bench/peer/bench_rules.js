// bench_rules.js - tests/bench/bench_rules.dna written in plain JavaScript,
// the way a team would script it without dna: a Map of leads, arrays of
// point entries, the score summed on every read.  run_bench_replay.sh times
// it beside `dnad replay` on the same events.
//
//   node tests/bench/peer/bench_rules.js EVENTS.jsonl OUT_DIR
//
// Writes OUT_DIR/state.jsonl (one line per lead) and prints a count line.
// It follows the dna rules (caps per UTC day/week/month/lead, expire, linear
// and half-life decay, intent, signals with alerts, the grade, the crossing
// of 80), not the dna output format.
'use strict';
const fs = require('fs');
const path = require('path');
const readline = require('readline');

const DAY = 86400000;
const LINEAR = 1, HALF = 2, EXPIRE = 3;

// [event, condition, points, cap count, cap unit, fade kind, fade days]
const scoreRules = {
  engagement: [
    ['page_visit', null, 1, 5, 'day', HALF, 14],
    ['email_open', null, 1, 3, 'day', LINEAR, 30],
    ['email_click', null, 3, 3, 'week', LINEAR, 30],
    ['webinar_attended', null, 15, 1, 'week', HALF, 30],
    ['paper_download', null, 5, 3, 'month', EXPIRE, 90],
  ],
  behaviour: [
    ['page_visit', (e) => e.data.url.includes('/pricing'), 10, 1, 'day', EXPIRE, 30],
    ['demo_request', null, 30, 1, 'lead', 0, 0],
    ['meeting_scheduled', null, 20, 2, 'month', EXPIRE, 60],
  ],
};
const intentRules = {
  research: [
    ['paper_download', null, 15, 0, null, HALF, 30],
    ['page_visit', (e) => e.data.url.includes('/publications'), 5, 3, 'day', HALF, 30],
  ],
  b2b: [
    ['page_visit', (e) => e.data.url.includes('/pricing'), 10, 1, 'day', HALF, 30],
    ['demo_request', null, 20, 0, null, EXPIRE, 90],
  ],
  co_creation: [
    ['form_submit', (e) => e.data.form === 'partnership', 25, 0, null, EXPIRE, 180],
    ['meeting_scheduled', (e) => e.data.kind === 'partnership', 20, 0, null, EXPIRE, 90],
  ],
};
const signalRules = [
  { name: 'DEMO_REQUEST', on: 'demo_request', when: null, weight: 30, decay: 14 * DAY, sla: 3600000 },
  { name: 'PRICING_PAGE', on: 'page_visit', when: (e) => e.data.url.includes('/pricing'), weight: 20, decay: 7 * DAY, sla: 4 * 3600000 },
];

function windowOf(unit, t) {
  const days = Math.floor(t / DAY);
  if (unit === 'day') return days;
  if (unit === 'week') return Math.floor((days + 3) / 7);
  const d = new Date(t);
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
}

function live(entry, now) {
  const age = now - entry.at;
  if (entry.fade === EXPIRE) return age < entry.days * DAY ? entry.points : 0;
  if (entry.fade === LINEAR) return entry.points * Math.max(0, 1 - age / (entry.days * DAY));
  if (entry.fade === HALF) return entry.points * Math.pow(0.5, age / (entry.days * DAY));
  return entry.points;
}

// The live points of a list of entries; entries that no longer count
// (expired, decayed to below a thousandth) are dropped on the way.
function sum(entries, now) {
  let s = 0, k = 0;
  for (const x of entries) {
    const v = live(x, now);
    if (Math.abs(v) < 0.0005) continue;
    s += v;
    entries[k++] = x;
  }
  entries.length = k;
  return s;
}

function score(lead, now) {
  let s = 0;
  for (const c in lead.score) s += sum(lead.score[c], now);
  return s;
}

function grade(points) {
  return points >= 80 ? 'A' : points >= 60 ? 'B' : points >= 40 ? 'C' : points >= 20 ? 'D' : 'F';
}

const leads = new Map();            // identity "name:value" -> lead
const all = [];
const seen = new Set();
let notifications = 0, events = 0, duplicates = 0, merges = 0;

function newLead(now) {
  const lead = {
    identities: {}, fields: { created_at: now }, score: { engagement: [], behaviour: [] },
    intent: { research: [], b2b: [], co_creation: [] }, caps: {}, signals: {}, alerts: [],
    lastScore: 0, merged: false,
  };
  all.push(lead);
  return lead;
}

function merge(into, from) {
  for (const k in from.identities) { into.identities[k] = from.identities[k]; leads.set(k + ':' + from.identities[k], into); }
  for (const c in from.score) into.score[c].push(...from.score[c]);
  for (const c in from.intent) into.intent[c].push(...from.intent[c]);
  Object.assign(into.signals, from.signals);
  into.alerts.push(...from.alerts);
  from.merged = true;
  merges++;
}

function resolve(subject, now) {
  let lead = null;
  for (const k of ['email', 'portal_id', 'crm_id']) {
    const v = subject[k];
    if (v === undefined) continue;
    const other = leads.get(k + ':' + v);
    if (other && lead && other !== lead) merge(lead, other);
    else if (other) lead = other;
  }
  if (!lead) lead = newLead(now);
  for (const k of ['email', 'portal_id', 'crm_id']) {
    const v = subject[k];
    if (v === undefined) continue;
    lead.identities[k] = v;
    leads.set(k + ':' + v, lead);
  }
  return lead;
}

function apply(lead, rules, where, e, now, ruleKey) {
  for (const name in rules) {
    rules[name].forEach((r, i) => {
      if (r[0] !== e.type || (r[1] && !r[1](e))) return;
      if (r[3]) {
        const key = ruleKey + name + i;
        const w = r[4] === 'lead' ? 0 : windowOf(r[4], now);
        let cap = lead.caps[key];
        if (!cap || cap.window !== w) cap = lead.caps[key] = { window: w, count: 0 };
        if (cap.count >= r[3]) return;
        cap.count++;
      }
      where[name].push({ at: now, points: r[2], fade: r[5], days: r[6] });
    });
  }
}

function onEvent(e) {
  if (seen.has(e.id)) { duplicates++; return; }
  seen.add(e.id);
  events++;
  const now = Date.parse(e.occurred_at);
  const lead = resolve(e.subject, now);
  lead.fields.updated_at = now;
  const before = score(lead, now);
  if (lead.lastScore < 80 && before >= 80) notifications++;
  if (e.type === 'contact_updated') {
    if (e.data.seniority !== undefined) lead.fields.seniority = e.data.seniority;
    if (e.data.phone !== undefined) lead.fields.phone = e.data.phone;
  }
  apply(lead, scoreRules, lead.score, e, now, 's');
  apply(lead, intentRules, lead.intent, e, now, 'i');
  for (const s of signalRules) {
    if (s.on !== e.type || (s.when && !s.when(e))) continue;
    lead.signals[s.name] = { at: now, weight: s.weight, decay: s.decay };
    if (!lead.alerts.some((a) => a.signal === s.name && a.status === 'open'))
      lead.alerts.push({ signal: s.name, at: now, due: now + s.sla, status: 'open' });
  }
  for (const a of lead.alerts) if (a.status === 'open' && a.due <= now) a.status = 'overdue';
  const after = score(lead, now);
  if (before < 80 && after >= 80) notifications++;
  lead.lastScore = after;
}

function stateLine(lead, now) {
  const components = {};
  let total = 0;
  for (const c in lead.score) { components[c] = Math.round(sum(lead.score[c], now) * 1000) / 1000; total += components[c]; }
  const intent = {};
  let top = null, all2 = 0;
  for (const c in lead.intent) {
    intent[c] = Math.round(sum(lead.intent[c], now) * 1000) / 1000;
    all2 += intent[c];
    if (intent[c] > 0 && (top === null || intent[c] > intent[top])) top = c;
  }
  for (const a of lead.alerts) if (a.status === 'open' && a.due <= now) a.status = 'overdue';
  const signals = [];
  for (const n in lead.signals) {
    const s = lead.signals[n];
    signals.push({ signal: n, weight: s.weight * Math.max(0, 1 - (now - s.at) / s.decay) });
  }
  return JSON.stringify({
    entity: 'lead', identities: lead.identities, fields: lead.fields,
    score: { total: Math.round(total * 1000) / 1000, components }, grade: grade(total),
    intent: { primary: top, confidence: all2 ? intent[top] / all2 : 0, points: intent },
    signals, alerts: lead.alerts,
  });
}

async function main() {
  const [input, outDir] = process.argv.slice(2);
  if (!input || !outDir) { console.error('usage: node bench_rules.js EVENTS.jsonl OUT_DIR'); process.exit(2); }
  const rl = readline.createInterface({ input: fs.createReadStream(input), crlfDelay: Infinity });
  let clock = 0;
  for await (const line of rl) {
    if (!line) continue;
    const e = JSON.parse(line);
    onEvent(e);
    const t = Date.parse(e.occurred_at);
    if (t > clock) clock = t;
  }
  fs.mkdirSync(outDir, { recursive: true });
  const out = fs.createWriteStream(path.join(outDir, 'state.jsonl'));
  let n = 0;
  for (const lead of all) {
    if (lead.merged) continue;
    if (!out.write(stateLine(lead, clock) + '\n')) await new Promise((r) => out.once('drain', r));
    n++;
  }
  await new Promise((r) => out.end(r));
  console.log(`node: ${events} events, ${duplicates} duplicates, ${merges} merges, ${n} leads, ${notifications} notifications`);
}

main();
