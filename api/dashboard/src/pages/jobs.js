// jobs.js - the job list: searched, filtered, sorted and paged by the server
// (/v1/dashboard/jobs), so 100,000 jobs cost the page one page of rows; the
// counts by state at the top; live status by polling the changes since the
// list's cursor (/v1/dashboard/changes), which costs the server what
// changed, not the number of jobs.  The query lives in the URL.
import { h, clear, badge, statusOf, fmtAgo, debounce } from '../dom.js';
import { get, enc } from '../api.js';

const PAGE = 50;
const POLL_MS = 2000;
const STATES = [['', 'All', 'total'], ['failing', 'Failing', 'failing'], ['running', 'Running', 'running'],
  ['waiting', 'Waiting', 'waiting'], ['disabled', 'Disabled', 'disabled']];

function select(label, id, value, options, onchange) {
  return h('label', { for: id }, label,
    h('select', { id, onchange },
      options.map(([v, t]) => h('option', { value: v, selected: v === value }, t))));
}

function scheduleText(j) {
  return j.kind === 'dependent' ? `after ${j.parents.join(', ')}` : j.schedule;
}

function row(j) {
  const st = statusOf(j);
  return h('tr', { 'data-job': j.name },
    h('td', { class: 'name' }, h('a', { href: `/jobs/${enc(j.name)}` }, j.name)),
    h('td', {}, badge(st, st === 'running' ? j.state : st)),
    h('td', { class: 'wide' }, h('code', {}, scheduleText(j))),
    h('td', { class: 'wide' }, j.owner || '-'),
    h('td', {}, j.lastRunState ? badge(j.lastRunState === 'success' ? 'success' : 'failing', j.lastRunState) : null,
      j.lastRunState ? ' ' : null, h('span', { class: 'muted' }, fmtAgo(j.lastSuccess > j.lastError || !j.lastError ? j.lastSuccess : j.lastError))),
    h('td', { class: 'wide' }, j.nextRunAt ? fmtAgo(j.nextRunAt) : '-'));
}

export function jobsPage(main, { query, go }) {
  document.title = 'Jobs - chronos';
  const q = {
    q: query.get('q') || '', state: query.get('state') || '', kind: query.get('kind') || '',
    owner: query.get('owner') || '', sort: query.get('sort') || 'name', order: query.get('order') || 'asc',
    page: Math.max(0, parseInt(query.get('page') || '0', 10) || 0),
  };
  let cursor = null, timer = 0, stopped = false, loading = 0;
  const rows = new Map(); // name -> tr shown

  const counts = h('div', { class: 'counts', role: 'group', 'aria-label': 'Jobs by state' });
  const tbody = h('tbody');
  const info = h('p', { class: 'muted', 'aria-live': 'polite' });
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const prev = h('button', { type: 'button', onclick: () => setQ({ page: q.page - 1 }, true) }, 'Previous');
  const next = h('button', { type: 'button', onclick: () => setQ({ page: q.page + 1 }, true) }, 'Next');

  function url() {
    const p = new URLSearchParams();
    for (const k of ['q', 'state', 'kind', 'owner']) if (q[k]) p.set(k, q[k]);
    if (q.sort !== 'name') p.set('sort', q.sort);
    if (q.order !== 'asc') p.set('order', q.order);
    if (q.page) p.set('page', q.page);
    const t = p.toString();
    return t ? `/?${t}` : '/';
  }

  function setQ(change, push) {
    Object.assign(q, change);
    if (!('page' in change)) q.page = 0;
    history[push ? 'pushState' : 'replaceState'](null, '', url());
    load();
  }

  function renderCounts(c) {
    clear(counts);
    for (const [v, label, key] of STATES) {
      counts.append(h('button', {
        type: 'button', class: `count c-${v || 'all'}`, 'aria-pressed': String(q.state === v),
        onclick: () => setQ({ state: v }, true),
      }, h('span', { class: 'n', 'data-count': key }, String(c[key] ?? 0)), ' ', label));
    }
  }

  async function load() {
    const mine = ++loading;
    const p = new URLSearchParams({ limit: PAGE, offset: q.page * PAGE, sort: q.sort, order: q.order });
    for (const k of ['q', 'state', 'kind', 'owner']) if (q[k]) p.set(k, q[k]);
    try {
      const r = await get(`/v1/dashboard/jobs?${p}`);
      if (mine !== loading || stopped) return;
      error.hidden = true;
      cursor = r.cursor;
      renderCounts(r.counts);
      clear(tbody);
      rows.clear();
      for (const j of r.jobs) { const tr = row(j); rows.set(j.name, tr); tbody.append(tr); }
      if (r.jobs.length === 0) tbody.append(h('tr', {}, h('td', { colspan: 6, class: 'muted' }, r.total ? 'No job matches.' : 'No jobs yet. ', r.total ? null : h('a', { href: '/new' }, 'Create one.'))));
      const first = r.matched ? r.offset + 1 : 0;
      info.textContent = `${first.toLocaleString('en')}–${(r.offset + r.jobs.length).toLocaleString('en')} of ${r.matched.toLocaleString('en')} matching (${r.total.toLocaleString('en')} jobs)`;
      prev.disabled = q.page === 0;
      next.disabled = r.offset + r.jobs.length >= r.matched;
      if (!performance.getEntriesByName('chr:first-render').length) performance.mark('chr:first-render');
      schedule();
    } catch (e) {
      if (mine !== loading || stopped) return;
      error.textContent = `Cannot load the jobs: ${e.message}`;
      error.hidden = false;
      schedule();
    }
  }

  function schedule() {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(poll, POLL_MS);
  }

  async function poll() {
    if (stopped || !cursor) return load();
    const mine = loading;
    try {
      const c = await get(`/v1/dashboard/changes?since=${enc(cursor)}`);
      if (stopped || mine !== loading) return;
      if (c.reset) return load();
      cursor = c.cursor;
      renderCounts(c.counts);
      for (const j of c.changed) {
        const old = rows.get(j.name);
        if (old) { const tr = row(j); old.replaceWith(tr); rows.set(j.name, tr); }
      }
      for (const n of c.removed) { const old = rows.get(n); if (old) { old.classList.add('gone'); } }
      schedule();
    } catch { schedule(); }
  }

  const search = h('input', {
    id: 'job-search', type: 'search', value: q.q, placeholder: 'name, command or owner', autocomplete: 'off',
    oninput: debounce((e) => setQ({ q: e.target.value.trim() }, false), 250),
  });
  const owner = h('input', {
    id: 'job-owner', type: 'text', value: q.owner, autocomplete: 'off',
    oninput: debounce((e) => setQ({ owner: e.target.value.trim() }, false), 400),
  });
  main.append(
    h('h1', {}, 'Jobs'), counts,
    h('form', { class: 'filters', role: 'search', onsubmit: (e) => e.preventDefault() },
      h('label', { for: 'job-search' }, 'Search', search),
      select('Schedule', 'job-kind', q.kind, [['', 'Any'], ['iso8601', 'ISO 8601'], ['cron', 'Cron'], ['dependent', 'Dependent']], (e) => setQ({ kind: e.target.value }, true)),
      h('label', { for: 'job-owner' }, 'Owner', owner),
      select('Sort by', 'job-sort', q.sort, [['name', 'Name'], ['status', 'Status'], ['next', 'Next run'], ['last', 'Last run'], ['owner', 'Owner']], (e) => setQ({ sort: e.target.value }, true)),
      select('Order', 'job-order', q.order, [['asc', 'Ascending'], ['desc', 'Descending']], (e) => setQ({ order: e.target.value }, true))),
    error,
    h('div', { class: 'table-wrap' },
      h('table', { class: 'jobs' },
        h('caption', { class: 'sr-only' }, 'Jobs'),
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Status'),
          h('th', { scope: 'col', class: 'wide' }, 'Schedule'), h('th', { scope: 'col', class: 'wide' }, 'Owner'),
          h('th', { scope: 'col' }, 'Last run'), h('th', { scope: 'col', class: 'wide' }, 'Next run'))),
        tbody)),
    h('div', { class: 'pager' }, prev, info, next));
  renderCounts({});
  load().then(() => { if (!stopped) performance.mark('chr:interactive'); });
  void go;
  return { stop() { stopped = true; clearTimeout(timer); } };
}
