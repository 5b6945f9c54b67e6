// job.js - one job: what it is, its actions, its next 10 instants in its
// zone and in UTC (daylight-saving changes flagged), its runs (a chart of
// the last durations and outcomes, and the list), its ledger (instants not
// run, and why), its parents and children, and its JSON as stored.
import { h, s, clear, badge, statusOf, fmtInstant, fmtDuration, fmtAgo } from '../dom.js';
import { get, enc, jobPath } from '../api.js';
import { runNow, kill, markSuccess, setDisabled, remove, children } from './actions.js';

const POLL_MS = 3000;

// The offset of `zone` at instant t, in minutes east of UTC.
function offsetMin(t, zone) {
  const f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  const p = Object.fromEntries(f.formatToParts(new Date(t)).map((x) => [x.type, x.value]));
  const local = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
  return Math.round((local - Math.floor(t / 1000) * 1000) / 60000);
}

function fmtOffset(m) {
  const sign = m < 0 ? '-' : '+';
  const a = Math.abs(m);
  return `${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

function fmtInZone(t, zone) {
  const f = new Intl.DateTimeFormat('sv-SE', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  return `${f.format(new Date(t))} ${fmtOffset(offsetMin(t, zone))}`;
}

export function nextTable(instants, zone) {
  let tz = zone || 'UTC';
  try { new Intl.DateTimeFormat('en', { timeZone: tz }); } catch { tz = 'UTC'; }
  let prev = null;
  const body = instants.map((iso, i) => {
    const t = Date.parse(iso);
    const off = offsetMin(t, tz);
    // A change of offset since the instant before: a DST (or zone rule) change between them.
    const dst = prev !== null && off !== prev ? `offset ${fmtOffset(prev)} → ${fmtOffset(off)}` : '';
    prev = off;
    return h('tr', { class: dst ? 'dst' : '' },
      h('td', {}, String(i + 1)), h('td', {}, fmtInZone(t, tz)), h('td', {}, fmtInstant(iso)),
      h('td', {}, dst ? badge('waiting', `DST: ${dst}`) : ''));
  });
  return h('table', { class: 'next' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, '#'), h('th', { scope: 'col' }, `In ${tz}`),
      h('th', { scope: 'col' }, 'UTC'), h('th', { scope: 'col' }, 'Note'))),
    h('tbody', {}, body));
}

function runsChart(runs) {
  const ended = runs.filter((r) => r.durationMs != null).slice(0, 40).reverse();
  if (ended.length === 0) return h('p', { class: 'muted' }, 'No finished run with a duration yet.');
  const W = 600, H = 120, bw = W / Math.max(ended.length, 10);
  const max = Math.max(...ended.map((r) => r.durationMs), 1);
  return h('figure', { class: 'chart' },
    s('svg', { viewBox: `0 0 ${W} ${H + 4}`, role: 'img', 'aria-label': `Durations of the last ${ended.length} runs; longest ${fmtDuration(max)}` },
      ended.map((r, i) => {
        const bh = Math.max(2, (r.durationMs / max) * H);
        return s('rect', { x: i * bw + 1, y: H - bh, width: Math.max(1, bw - 2), height: bh, class: `bar o-${r.state}` },
          s('title', {}, `${r.id}: ${r.state}, ${fmtDuration(r.durationMs)}`));
      })),
    h('figcaption', { class: 'muted' }, `Last ${ended.length} durations (longest ${fmtDuration(max)}); `,
      badge('success', 'finished'), ' ', badge('failing', 'failed'), ' ', badge('disabled', 'killed / lost')));
}

function runsTable(runs) {
  if (runs.length === 0) return h('p', { class: 'muted' }, 'No runs yet.');
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('thead', {}, h('tr', {}, ['Run', 'State', 'Cause', 'Scheduled', 'Duration', 'Exit', 'Reason'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, runs.map((r) => h('tr', {},
      h('td', {}, h('a', { href: `/runs/${enc(r.id)}` }, r.id)),
      h('td', {}, badge(r.state === 'finished' ? 'success' : r.state === 'failed' ? 'failing' : r.state === 'running' ? 'running' : 'waiting', r.state)),
      h('td', {}, r.cause), h('td', {}, fmtInstant(r.scheduledAt)), h('td', {}, fmtDuration(r.durationMs)),
      h('td', {}, r.exitCode == null ? '-' : String(r.exitCode)), h('td', { class: 'reason' }, r.reason || ''))))));
}

function ledgerTable(ledger) {
  if (ledger.length === 0) return h('p', { class: 'muted' }, 'Every instant so far ran.');
  return h('table', {},
    h('thead', {}, h('tr', {}, ['From', 'To', 'Instants', 'Why'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, ledger.slice().reverse().map((l) => h('tr', {},
      h('td', {}, fmtInstant(l.from)), h('td', {}, fmtInstant(l.to)), h('td', {}, String(l.count)), h('td', {}, l.reason)))));
}

function links(names) {
  if (names.length === 0) return h('span', { class: 'muted' }, 'none');
  return h('ul', { class: 'inline' }, names.map((n) => h('li', {}, h('a', { href: `/jobs/${enc(n)}` }, n))));
}

// job: its JSON (Chronos's shape); st: its status (job/{name}/status: the
// progress the JSON leaves out, such as the next instant).
function facts(job, st) {
  const dl = h('dl', { class: 'facts' });
  const add = (k, v) => dl.append(h('dt', {}, k), h('dd', {}, v));
  add('Command', h('code', { class: 'cmd' }, job.command || '(the image default)'));
  if (job.parents) add('Runs after', links(job.parents));
  else add('Schedule', h('code', {}, `${job.schedule}${job.scheduleTimeZone ? ` (${job.scheduleTimeZone})` : ''}`));
  add('Owner', job.owner || '-');
  add('Successes / errors', `${job.successCount} / ${job.errorCount}`);
  add('Last success', `${fmtInstant(job.lastSuccess)} (${fmtAgo(job.lastSuccess)})`);
  add('Last error', `${fmtInstant(job.lastError)} (${fmtAgo(job.lastError)})`);
  add('Next run', st.nextRunAt ? `${fmtInstant(st.nextRunAt)} (${fmtAgo(st.nextRunAt)})` : '-');
  if (st.remainingRepeats != null) add('Repeats left', String(st.remainingRepeats));
  add('Resources', `cpus ${job.cpus}, mem ${job.mem} MB, disk ${job.disk} MB`);
  if (job.description) add('Description', job.description);
  return dl;
}

export function jobPage(main, { params, go, announce }) {
  const name = params[0];
  document.title = `${name} - chronos`;
  let stopped = false, timer = 0, kids = null, lastKey = '';
  const head = h('div', { class: 'page-head' });
  const msg = h('p', { role: 'alert', class: 'error', hidden: true });
  const sec = (id, title) => h('section', { 'aria-labelledby': id }, h('h2', { id }, title));
  const factsSec = sec('h-facts', 'Definition');
  const nextSec = sec('h-next', 'Next 10 instants');
  const runsSec = sec('h-runs', 'Runs');
  const ledgerSec = sec('h-ledger', 'Ledger');
  const famSec = sec('h-family', 'Parents and children');
  const jsonSec = sec('h-json', 'JSON');
  main.append(head, msg, h('div', { class: 'cols' }, factsSec, nextSec), runsSec, h('div', { class: 'cols' }, famSec, ledgerSec), jsonSec);

  function fail(e) { msg.textContent = e.message; msg.hidden = false; }
  async function act(fn, done) {
    msg.hidden = true;
    try { if (await fn() !== false) { announce(done); lastKey = ''; await load(); } } catch (e) { fail(e); }
  }

  function header(job, runs) {
    const active = runs.filter((r) => ['recording', 'queued', 'launching', 'running'].includes(r.state));
    const st = statusOf({
      running: active.filter((r) => r.state === 'running').length, waiting: active.filter((r) => r.state !== 'running').length,
      disabled: job.disabled, status: !job.lastSuccess && !job.lastError ? 'fresh' : (job.lastSuccess || '') > (job.lastError || '') ? 'success' : 'failure',
    });
    clear(head).append(
      h('h1', {}, name, ' ', badge(st)),
      h('div', { class: 'actions', role: 'group', 'aria-label': 'Actions' },
        h('button', { type: 'button', class: 'primary', onclick: () => act(() => runNow(name), 'Run started') }, 'Run now'),
        h('button', { type: 'button', onclick: () => act(() => kill(name), 'Runs killed') }, 'Kill'),
        h('button', { type: 'button', onclick: () => act(() => markSuccess(name), 'Marked successful') }, 'Mark success'),
        h('button', { type: 'button', onclick: () => act(() => setDisabled(name, !job.disabled), job.disabled ? 'Enabled' : 'Disabled') }, job.disabled ? 'Enable' : 'Disable'),
        h('a', { class: 'button', href: `/jobs/${enc(name)}/edit` }, 'Edit'),
        h('button', { type: 'button', class: 'danger', onclick: async () => { msg.hidden = true; try { if (await remove(name)) { announce(`Deleted ${name}`); go('/'); } } catch (e) { fail(e); } } }, 'Delete')));
  }

  async function load() {
    clearTimeout(timer);
    try {
      const [job, st, runs, ledger] = await Promise.all([
        get(jobPath(name)), get(`${jobPath(name)}/status`), get(`/v1/runs?job=${enc(name)}&limit=100`),
        get(`${jobPath(name)}/ledger`)]);
      if (kids === null) kids = await children(name); // once: it reads every job
      if (stopped) return;
      msg.hidden = true;
      const key = JSON.stringify([job, st, runs, ledger]);
      timer = setTimeout(load, POLL_MS);
      if (key === lastKey) return; // nothing new: keep the page (and the focus) as it is
      lastKey = key;
      const focused = main.contains(document.activeElement) ? document.activeElement.textContent : null;
      header(job, runs);
      clear(factsSec).append(h('h2', { id: 'h-facts' }, 'Definition'), facts(job, st));
      clear(runsSec).append(h('h2', { id: 'h-runs' }, 'Runs'), runsChart(runs), runsTable(runs));
      clear(ledgerSec).append(h('h2', { id: 'h-ledger' }, 'Ledger'), ledgerTable(ledger));
      clear(famSec).append(h('h2', { id: 'h-family' }, 'Parents and children'),
        h('h3', {}, 'Parents'), links(job.parents || []), h('h3', {}, 'Children'), links(kids));
      clear(jsonSec).append(h('h2', { id: 'h-json' }, 'JSON'), h('pre', { class: 'json', tabindex: '0', 'aria-label': 'The job as JSON' }, JSON.stringify(job, null, 2)));
      if (nextSec.childNodes.length === 1) loadNext(job);
      if (focused) for (const b of head.querySelectorAll('button, a')) if (b.textContent === focused) { b.focus(); break; }
    } catch (e) {
      if (stopped) return;
      if (!head.firstChild) head.append(h('h1', {}, name));
      fail(e);
      // Again in a while: a job just saved may not be readable yet, the server may be back.
      timer = setTimeout(load, POLL_MS);
    }
  }

  async function loadNext(job) {
    clear(nextSec).append(h('h2', { id: 'h-next' }, 'Next 10 instants'));
    if (job.parents) { nextSec.append(h('p', { class: 'muted' }, 'A dependent job runs after its parents, not at instants.')); return; }
    try {
      const n = await get(`${jobPath(name)}/next?count=10`);
      if (!stopped) nextSec.append(nextTable(n.next, job.scheduleTimeZone));
    } catch (e) { nextSec.append(h('p', { class: 'error' }, e.message)); }
  }

  load();
  return { stop() { stopped = true; clearTimeout(timer); } };
}
