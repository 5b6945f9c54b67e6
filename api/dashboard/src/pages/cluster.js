// cluster.js - the servers and the resources: the leader, this server
// (leader or standby), the store's health, the resource manager's figures
// (local or Mesos: offered, used, held and free, per agent and in all), the
// version.  From /v1/status, refreshed every few seconds.
import { h, clear, badge, fmtInstant } from '../dom.js';
import { get } from '../api.js';

const POLL_MS = 5000;
const RES = [['cpus', ''], ['mem', ' MB'], ['disk', ' MB']];

function fig(o, k, unit) {
  if (!o || o[k] == null) return '-';
  const v = o[k];
  return `${Number.isInteger(v) ? v : v.toFixed(2)}${unit}`;
}

function resourcesTable(res) {
  const free = {};
  for (const [k] of RES) {
    // This host: its total less what runs use; Mesos: what the agents offer is what is free.
    free[k] = res.total ? res.total[k] - (res.used ? res.used[k] : 0) : res.offered ? res.offered[k] : null;
  }
  const rows = [['Offered', res.offered], ['Used', res.used], ['Held', res.held], ['Total', res.total], ['Free', free]];
  return h('table', {},
    h('caption', {}, 'In all'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, ''), RES.map(([k]) => h('th', { scope: 'col' }, k)))),
    h('tbody', {}, rows.map(([label, o]) => h('tr', {}, h('th', { scope: 'row' }, label), RES.map(([k, u]) => h('td', {}, fig(o, k, u)))))));
}

function agentsTable(agents, unlisted) {
  if (!agents || agents.length === 0) return h('p', { class: 'muted' }, 'No agent has offered anything yet.');
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('caption', {}, `Agents${unlisted ? ` (${unlisted} more not listed)` : ''}`),
    h('thead', {}, h('tr', {}, ['Agent', 'Host', 'Offered', 'Used'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, agents.map((a) => h('tr', {}, h('td', {}, a.id), h('td', {}, a.hostname || '-'),
      h('td', {}, RES.map(([k, u]) => `${k} ${fig(a.offered, k, u)}`).join(', ')),
      h('td', {}, RES.map(([k, u]) => `${k} ${fig(a.used, k, u)}`).join(', ')))))));
}

export function clusterPage(main) {
  document.title = 'Cluster - chronos';
  let stopped = false, timer = 0;
  const body = h('div');
  main.append(h('h1', {}, 'Cluster'), body);

  async function load() {
    try {
      const st = await get('/v1/status');
      if (stopped) return;
      const dl = h('dl', { class: 'facts' });
      const add = (k, v) => dl.append(h('dt', {}, k), h('dd', {}, v));
      add('Leader', st.leader || 'none (electing)');
      add('This server', `${st.self || '-'} (${st.isLeader ? 'leader' : 'standby'})`);
      add('Health', st.healthy ? badge('success', 'healthy') : h('span', {}, badge('failing', 'unhealthy'), ' ', st.unhealthyReason || ''));
      add('Store', st.store);
      add('Resource manager', st.mesosMaster ? `Mesos, master ${st.mesosMaster}` : 'this host (local)');
      if (st.leadingSince) add('Leading since', fmtInstant(st.leadingSince));
      if (st.jobs != null) add('Jobs', String(st.jobs));
      if (st.runsActive != null) add('Runs active / waiting for resources', `${st.runsActive} / ${st.runsWaiting}`);
      if (st.queueDepth != null) add('Scheduler queue', String(st.queueDepth));
      if (st.taskTimeSeconds != null) add('Task time (all jobs)', `${st.taskTimeSeconds.toFixed(1)} s`);
      add('Version', st.version);
      const standbys = st.standbys || [];
      add('Standbys', standbys.length ? h('ul', { class: 'plain' }, ...standbys.map((id) => h('li', {}, id)))
        : (st.members && st.members.length > 1 ? 'none' : 'none (a single server)'));
      clear(body).append(h('section', { 'aria-labelledby': 'h-servers' }, h('h2', { id: 'h-servers' }, 'Servers'), dl));
      if (st.resources) {
        body.append(h('section', { 'aria-labelledby': 'h-res' }, h('h2', { id: 'h-res' }, 'Resources'),
          resourcesTable(st.resources), agentsTable(st.resources.agents, st.resources.agentsUnlisted)));
      }
    } catch (e) {
      if (!stopped) clear(body).append(h('p', { class: 'error', role: 'alert' }, `Cannot read the status: ${e.message}`));
    }
    if (!stopped) timer = setTimeout(load, POLL_MS);
  }
  load();
  return { stop() { stopped = true; clearTimeout(timer); } };
}
