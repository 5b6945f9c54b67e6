// graph.js - the dependency graph, drawn in layers from left to right,
// each job coloured by its last outcome; a click (or Enter) opens the job.
// For hundreds of jobs: a search that focuses on one job's ancestors and
// descendants, zoom, and the jobs without any dependency left out unless
// asked for.  The focus and the options live in the URL.
import { h, s, clear } from '../dom.js';
import { get, enc } from '../api.js';
import { layered, reach } from '../layout.js';

const ROW = 34, NODE_H = 24, GAP = 60, CHAR = 7.2;

function parseCsv(text) {
  const nodes = [], edges = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    // Names are [A-Za-z0-9_.-]: no quoting to undo in the name fields.
    const f = line.split(',');
    if (f[0] === 'node') nodes.push({ name: f[1], status: f[2], state: f.slice(3).join(',') });
    else if (f[0] === 'link') edges.push([f[1], f[2]]);
  }
  return { nodes, edges };
}

function cls(n) {
  if (/running/.test(n.state)) return 'running';
  if (n.state === 'queued') return 'waiting';
  return n.status === 'failure' ? 'failing' : n.status;
}

export function graphPage(main, { query }) {
  document.title = 'Graph - chronos';
  const state = { focus: query.get('focus') || '', all: query.get('all') === '1', zoom: parseFloat(query.get('zoom') || '1') || 1 };
  let data = null, stopped = false;
  const wrap = h('div', { class: 'graph-wrap', tabindex: '0', 'aria-label': 'The dependency graph (scrolls)' });
  const info = h('p', { class: 'muted', 'aria-live': 'polite' });
  const list = h('datalist', { id: 'graph-names' });
  const search = h('input', { id: 'graph-focus', type: 'search', list: 'graph-names', value: state.focus, autocomplete: 'off', placeholder: 'a job name' });
  const all = h('input', { id: 'graph-all', type: 'checkbox', checked: state.all, onchange: () => set({ all: all.checked }) });
  const zoomBy = (f) => set({ zoom: Math.min(3, Math.max(0.2, state.zoom * f)) });
  main.append(h('h1', {}, 'Graph'),
    h('form', { class: 'filters', role: 'search', onsubmit: (e) => { e.preventDefault(); set({ focus: search.value.trim() }); } },
      h('label', { for: 'graph-focus' }, 'Focus on a job (its ancestors and descendants)', search), list,
      h('button', { type: 'submit' }, 'Focus'),
      h('button', { type: 'button', onclick: () => { search.value = ''; set({ focus: '' }); } }, 'Show all'),
      h('div', { class: 'field check' }, all, h('label', { for: 'graph-all' }, 'Include jobs without dependencies')),
      h('div', { role: 'group', 'aria-label': 'Zoom', class: 'zoom' },
        h('button', { type: 'button', 'aria-label': 'Zoom out', onclick: () => zoomBy(1 / 1.25) }, '−'),
        h('button', { type: 'button', 'aria-label': 'Zoom in', onclick: () => zoomBy(1.25) }, '+'),
        h('button', { type: 'button', onclick: () => set({ zoom: 1 }) }, '100%'))),
    h('p', { class: 'legend' }, ['success', 'failing', 'running', 'waiting', 'fresh'].map((k) => h('span', { class: `badge b-${k}` }, k))),
    info, wrap);

  function set(change) {
    Object.assign(state, change);
    const p = new URLSearchParams();
    if (state.focus) p.set('focus', state.focus);
    if (state.all) p.set('all', '1');
    if (state.zoom !== 1) p.set('zoom', state.zoom.toFixed(2));
    history.replaceState(null, '', `/graph${p.toString() ? `?${p}` : ''}`);
    draw();
  }

  function draw() {
    if (!data) return;
    let { nodes, edges } = data;
    const linked = new Set(edges.flat());
    let note = '';
    if (state.focus) {
      const names = nodes.map((n) => n.name);
      const L = layered(names, edges, 0);
      const i = names.indexOf(state.focus);
      if (i < 0) note = `No job named ${state.focus}. `;
      else {
        const keep = new Set([...reach(i, L.parents), ...reach(i, L.kids)].map((k) => names[k]));
        nodes = nodes.filter((n) => keep.has(n.name));
      }
    } else if (!state.all) nodes = nodes.filter((n) => linked.has(n.name));
    const shownNames = new Set(nodes.map((n) => n.name));
    edges = edges.filter(([a, b]) => shownNames.has(a) && shownNames.has(b));
    const names = nodes.map((n) => n.name);
    const ix = new Map(names.map((n, i) => [n, i]));
    const L = layered(names, edges);
    const widths = L.layers.map((ly) => Math.min(260, Math.max(80, ...ly.map((v) => names[v].length * CHAR + 20))));
    const xs = []; let x = 10;
    for (const w of widths) { xs.push(x); x += w + GAP; }
    const tall = Math.max(1, ...L.layers.map((ly) => ly.length));
    const W = Math.max(x, 200), H = tall * ROW + 20;
    const at = (v) => ({ x: xs[L.layer[v]], y: 10 + L.pos[v] * ROW, w: widths[L.layer[v]] });
    const svg = s('svg', { class: 'graph', width: W * state.zoom, height: H * state.zoom, viewBox: `0 0 ${W} ${H}`, role: 'group', 'aria-label': `${nodes.length} jobs and ${edges.length} dependencies` },
      s('defs', {}, s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: '10', refY: '5', markerWidth: '6', markerHeight: '6', orient: 'auto-start-reverse' }, s('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrowhead' }))),
      s('g', { class: 'edges' }, edges.map(([a, b]) => {
        const p = at(ix.get(a)), c = at(ix.get(b));
        const x1 = p.x + p.w, y1 = p.y + NODE_H / 2, x2 = c.x, y2 = c.y + NODE_H / 2, mx = (x1 + x2) / 2;
        return s('path', { d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`, class: 'edge', 'data-edge': `${a}->${b}`, 'marker-end': 'url(#arrow)' });
      })),
      s('g', { class: 'nodes' }, nodes.map((n, v) => {
        const p = at(v);
        const maxChars = Math.floor((p.w - 16) / CHAR);
        const label = n.name.length > maxChars ? `${n.name.slice(0, maxChars - 1)}…` : n.name;
        return s('a', { href: `/jobs/${enc(n.name)}`, class: `node n-${cls(n)}${n.name === state.focus ? ' focus' : ''}`, 'data-node': n.name, 'aria-label': `${n.name}: ${cls(n)}` },
          s('title', {}, `${n.name} (${n.status}, ${n.state})`),
          s('rect', { x: p.x, y: p.y, width: p.w, height: NODE_H, rx: 5 }),
          s('text', { x: p.x + 8, y: p.y + NODE_H / 2 + 4 }, label));
      })));
    clear(wrap).append(svg);
    info.textContent = `${note}${nodes.length} of ${data.nodes.length} jobs, ${edges.length} dependencies${!state.focus && !state.all ? ' (jobs without dependencies left out)' : ''}.`;
    const f = wrap.querySelector('.node.focus');
    if (f) { const r = f.querySelector('rect'); wrap.scrollLeft = r.x.baseVal.value * state.zoom - 40; wrap.scrollTop = r.y.baseVal.value * state.zoom - 80; }
  }

  get('/v1/scheduler/graph/csv', { text: true }).then((t) => {
    if (stopped) return;
    data = parseCsv(t);
    clear(list).append(...data.nodes.slice(0, 5000).map((n) => h('option', { value: n.name })));
    draw();
  }).catch((e) => { if (!stopped) info.textContent = `Cannot read the graph: ${e.message}`; });
  return { stop() { stopped = true; } };
}
