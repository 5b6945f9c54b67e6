// main.js - the dashboard's shell: the header and navigation, the router
// (History API: every page has its own URL, the back button works, a deep
// link loads the same page), and the page of the moment, which is stopped
// (its polls and streams ended) before the next one starts.
import './style.css';
import { h, clear } from './dom.js';
import { jobsPage } from './pages/jobs.js';
import { jobPage } from './pages/job.js';
import { editPage } from './pages/edit.js';
import { runPage } from './pages/run.js';
import { graphPage } from './pages/graph.js';
import { clusterPage } from './pages/cluster.js';

const routes = [
  [/^\/(?:jobs\/?)?$/, () => jobsPage],
  [/^\/new$/, () => editPage],
  [/^\/jobs\/([^/]+)\/edit$/, () => editPage],
  [/^\/jobs\/([^/]+)$/, () => jobPage],
  [/^\/runs\/([^/]+)$/, () => runPage],
  [/^\/graph$/, () => graphPage],
  [/^\/cluster$/, () => clusterPage],
];

const main = h('main', { id: 'main', tabindex: '-1' });
const status = h('p', { class: 'sr-only', role: 'status', 'aria-live': 'polite' });
let current = null; // { stop() } of the page shown
let firstLoad = true;

function navLink(href, text) {
  return h('a', { href, 'data-nav': href }, text);
}

function shell() {
  document.body.append(
    h('a', { class: 'skip', href: '#main' }, 'Skip to content'),
    h('header', { class: 'top' },
      h('a', { class: 'brand', href: '/' }, 'chronos'),
      h('nav', { 'aria-label': 'Main' },
        navLink('/', 'Jobs'), navLink('/graph', 'Graph'), navLink('/cluster', 'Cluster'),
        h('a', { href: '/new', class: 'button primary', 'data-nav': '/new' }, 'New job'))),
    main, status);
  // Links inside the app change the page without a reload.
  document.addEventListener('click', (e) => {
    const a = e.target.closest && e.target.closest('a[href]');
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const url = new URL(a.getAttribute('href'), location.href); // an SVG <a> too
    if (url.origin !== location.origin || a.target || a.hasAttribute('download')) return;
    if (url.pathname.startsWith('/v1/')) return; // raw API answers open as they are
    e.preventDefault();
    go(url.pathname + url.search);
  });
  window.addEventListener('popstate', () => render());
}

export function go(url, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  render();
}

export function announce(text) {
  status.textContent = text;
}

function render() {
  if (current && current.stop) current.stop();
  current = null;
  const path = decodeURIComponent(location.pathname);
  for (const a of document.querySelectorAll('[data-nav]')) {
    const nav = a.getAttribute('data-nav');
    const on = nav === '/' ? path === '/' || path.startsWith('/jobs') : path.startsWith(nav);
    if (on) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  clear(main);
  for (const [re, page] of routes) {
    const m = re.exec(path);
    if (m) {
      current = page()(main, { params: m.slice(1), query: new URLSearchParams(location.search), go, announce });
      if (!firstLoad) main.focus({ preventScroll: true });
      firstLoad = false;
      return;
    }
  }
  document.title = 'Not found - chronos';
  main.append(h('h1', {}, 'Not found'), h('p', {}, 'No page here. ', h('a', { href: '/' }, 'See the jobs.')));
}

shell();
render();
