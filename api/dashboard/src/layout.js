// layout.js - a layered drawing of a DAG (Sugiyama's scheme, small): each
// job in the layer after its deepest parent (longest path), the order in
// each layer improved by a few barycenter sweeps down and up, so edges
// cross less.  Linear passes plus a sort per layer per sweep: 500 jobs take
// a few milliseconds, 10,000 well under a second.

export function layered(names, edges, sweeps = 4) {
  const idx = new Map(names.map((n, i) => [n, i]));
  const n = names.length;
  const parents = Array.from({ length: n }, () => []);
  const kids = Array.from({ length: n }, () => []);
  for (const [p, c] of edges) {
    const a = idx.get(p), b = idx.get(c);
    if (a === undefined || b === undefined) continue;
    parents[b].push(a); kids[a].push(b);
  }
  // Longest path from the sources, in topological order (Kahn).
  const layer = new Array(n).fill(0);
  const indeg = parents.map((p) => p.length);
  const queue = [];
  for (let i = 0; i < n; i++) if (indeg[i] === 0) queue.push(i);
  for (let q = 0; q < queue.length; q++) {
    const v = queue[q];
    for (const c of kids[v]) {
      layer[c] = Math.max(layer[c], layer[v] + 1);
      if (--indeg[c] === 0) queue.push(c);
    }
  }
  const layers = [];
  for (let i = 0; i < n; i++) (layers[layer[i]] ||= []).push(i);
  const pos = new Array(n).fill(0);
  const place = (L) => L.forEach((v, i) => { pos[v] = i; });
  layers.forEach(place);
  const bary = (v, nbrs) => (nbrs.length ? nbrs.reduce((s, u) => s + pos[u], 0) / nbrs.length : pos[v]);
  for (let s = 0; s < sweeps; s++) {
    for (let l = 1; l < layers.length; l++) {
      const b = new Map(layers[l].map((v) => [v, bary(v, parents[v])]));
      layers[l].sort((x, y) => b.get(x) - b.get(y)); place(layers[l]);
    }
    for (let l = layers.length - 2; l >= 0; l--) {
      const b = new Map(layers[l].map((v) => [v, bary(v, kids[v])]));
      layers[l].sort((x, y) => b.get(x) - b.get(y)); place(layers[l]);
    }
  }
  return { layer, pos, layers, parents, kids };
}

// The indices reachable from `start` through `next` (ancestors or descendants).
export function reach(start, next) {
  const seen = new Set([start]);
  const stack = [start];
  while (stack.length) for (const u of next[stack.pop()]) if (!seen.has(u)) { seen.add(u); stack.push(u); }
  return seen;
}
