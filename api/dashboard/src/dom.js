// dom.js - the dashboard's few DOM helpers: h() builds elements (no HTML
// strings, so no text from the server is ever parsed as markup), and the
// formatting of instants and durations.

const SVG = 'http://www.w3.org/2000/svg';

function append(el, child) {
  if (child == null || child === false) return;
  if (Array.isArray(child)) { for (const c of child) append(el, c); return; }
  el.append(child instanceof Node ? child : document.createTextNode(String(child)));
}

function build(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.setAttribute('class', v);
    else if (k === 'text') el.textContent = v;
    else if (k in el && !(el instanceof SVGElement) && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

// h('a', {href: '/x', class: 'y'}, 'text', child...)
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG, tag), attrs, children);
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function fmtInstant(iso) {
  if (!iso) return '-';
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function fmtAgo(iso, now = Date.now()) {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (isNaN(t)) return iso;
  const d = Math.round((now - t) / 1000);
  const a = Math.abs(d);
  const txt = a < 60 ? `${a}s` : a < 3600 ? `${Math.floor(a / 60)}m` : a < 86400 ? `${Math.floor(a / 3600)}h` : `${Math.floor(a / 86400)}d`;
  return d >= 0 ? `${txt} ago` : `in ${txt}`;
}

export function fmtDuration(ms) {
  if (ms == null) return '-';
  if (ms < 1000) return `${ms} ms`;
  const sec = ms / 1000;
  if (sec < 60) return `${sec.toFixed(1)} s`;
  const m = Math.floor(sec / 60);
  return m < 60 ? `${m}m ${Math.round(sec % 60)}s` : `${Math.floor(m / 60)}h ${m % 60}m`;
}

// A status badge: text and a class the CSS colours (never colour alone).
export function badge(kind, text) {
  return h('span', { class: `badge b-${kind}` }, text || kind);
}

export function statusOf(job) {
  if (job.running > 0) return 'running';
  if (job.waiting > 0) return 'waiting';
  if (job.disabled) return 'disabled';
  return job.status === 'failure' ? 'failing' : job.status;
}

export function debounce(fn, ms) {
  let t = 0;
  return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
}
