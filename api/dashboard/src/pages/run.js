// run.js - one run: its state, times, exit code and reason, its stdout and
// stderr (followed live while it runs: the server streams ?follow=1 until
// the run ends), and a kill button for this run (DELETE /v1/runs/{id}).
import { h, clear, badge, fmtInstant, fmtDuration } from '../dom.js';
import { call, get, enc } from '../api.js';
import { killRun } from './actions.js';

const POLL_MS = 1500;
const SHOW_MAX = 1 << 20; // characters of a stream kept on the page
const ACTIVE = ['recording', 'queued', 'launching', 'running'];

function stateBadge(st) {
  return badge(st === 'finished' ? 'success' : st === 'failed' ? 'failing' : st === 'running' ? 'running' : ACTIVE.includes(st) ? 'waiting' : 'disabled', st);
}

export function runPage(main, { params, announce }) {
  const id = params[0];
  document.title = `Run ${id} - chronos`;
  let stopped = false, timer = 0, run = null;
  const ctrl = new AbortController();
  const facts = h('dl', { class: 'facts' });
  const msg = h('p', { class: 'error', role: 'alert', hidden: true });
  const head = h('div', { class: 'page-head' });
  const follow = h('input', { type: 'checkbox', id: 'follow', checked: true });
  const panes = {};
  for (const st of ['stdout', 'stderr']) {
    panes[st] = h('pre', { class: 'log', id: `log-${st}`, tabindex: '0', 'aria-label': st, 'aria-live': 'off' });
  }
  main.append(head, msg, facts,
    h('div', { class: 'log-head' }, h('h2', {}, 'Output'), h('label', { for: 'follow', class: 'check' }, follow, ' Follow (scroll to the end)')),
    h('h3', {}, 'stdout'), panes.stdout, h('h3', {}, 'stderr'), panes.stderr);

  function renderRun(r) {
    clear(head).append(h('h1', {}, 'Run ', h('code', {}, r.id), ' ', stateBadge(r.state)),
      h('div', { class: 'actions' },
        h('a', { class: 'button', href: `/jobs/${enc(r.job)}` }, `Job ${r.job}`),
        ACTIVE.includes(r.state) ? h('button', { type: 'button', class: 'danger', onclick: async () => {
          try { if (await killRun(r.id)) { announce('Kill sent'); refresh(); } } catch (e) { msg.textContent = e.message; msg.hidden = false; }
        } }, 'Kill') : null));
    clear(facts);
    const add = (k, v) => facts.append(h('dt', {}, k), h('dd', {}, v));
    add('Job', h('a', { href: `/jobs/${enc(r.job)}` }, r.job));
    add('State', r.state); add('Cause', r.cause); add('Attempt', String(r.attempt));
    add('Scheduled', fmtInstant(r.scheduledAt)); add('Started', fmtInstant(r.startedAt));
    add('Ended', fmtInstant(r.endedAt)); add('Duration', fmtDuration(r.durationMs));
    add('Exit code', r.exitCode == null ? '-' : String(r.exitCode)); add('Reason', r.reason || '-');
  }

  async function stream(which, live) {
    const pre = panes[which];
    try {
      const res = await fetch(`/v1/runs/${enc(id)}/${which}${live ? '?follow=1' : ''}`, { signal: ctrl.signal, credentials: 'same-origin', cache: 'no-store' });
      if (res.status === 404) { pre.textContent = '(not kept: the run never started here, or its output was pruned)'; return; }
      if (!res.ok) { pre.textContent = `(${res.status})`; return; }
      const reader = res.body.getReader();
      const dec = new TextDecoder();
      pre.textContent = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done || stopped) break;
        let t = pre.textContent + dec.decode(value, { stream: true });
        if (t.length > SHOW_MAX) t = `…\n${t.slice(t.length - SHOW_MAX)}`;
        pre.textContent = t;
        if (follow.checked) pre.scrollTop = pre.scrollHeight;
      }
      if (!pre.textContent) pre.textContent = '(empty)';
    } catch (e) {
      if (!stopped && e.name !== 'AbortError') pre.textContent = `(${e.message})`;
    }
  }

  async function refresh() {
    clearTimeout(timer);
    try {
      const r = await get(`/v1/runs/${enc(id)}`);
      if (stopped) return;
      const first = run === null;
      const ended = run && ACTIVE.includes(run.state) && !ACTIVE.includes(r.state);
      run = r;
      renderRun(r);
      const live = ACTIVE.includes(r.state);
      // A followed stream ends with the run; an ended run is read once more, whole.
      if (first || ended) { stream('stdout', live && !ended); stream('stderr', live && !ended); }
      if (live) timer = setTimeout(refresh, POLL_MS);
    } catch (e) {
      if (!stopped) { msg.textContent = e.message; msg.hidden = false; if (!head.firstChild) head.append(h('h1', {}, `Run ${id}`)); }
    }
  }
  refresh();
  return { stop() { stopped = true; clearTimeout(timer); ctrl.abort(); } };
}
