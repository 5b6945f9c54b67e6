// dashboard.mjs BASE SHOTS - the dashboard's checks in one headless
// chromium (Debian's, through playwright-core), one page reused: every page
// loads with no console error and no failed request; a job created through
// the form runs and shows its output; the graph draws an edge and a click
// opens the job; an invalid schedule shows the server's own message at its
// field; editing round-trips a job with a container, constraints and
// environment byte for byte; kill, disable and delete (blocked by a
// dependent) work; the list updates live; 10,000 jobs list and filter;
// axe-core finds no serious violation, light and dark, and 360 px wide has
// no horizontal scroll.  Prints "ok NAME" / "FAIL NAME: why" per check.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(join(root, 'api/dashboard/package.json'));
const { chromium } = require('playwright-core');
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const [BASE, SHOTS] = process.argv.slice(2);
let passed = 0, failed = 0;
const T0 = Date.now();

const ONLY = process.env.ONLY || '';
async function test(name, fn) {
  if (ONLY && !name.includes(ONLY)) return;
  const t0 = Date.now();
  try { await fn(); passed++; console.log(`ok ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`); } catch (e) { failed++; console.log(`FAIL ${name}: ${String(e && e.stack || e).split('\n').slice(0, 3).join(' | ')}`); }
}
function assert(cond, msg) { if (!cond) throw new Error(msg); }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(what, fn, ms = 15000) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await sleep(100);
  }
}
async function api(method, path, body) {
  const res = await fetch(BASE + path, { method, headers: body ? { 'Content-Type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
  return { status: res.status, text: await res.text() };
}
async function post(job) {
  const r = await api('POST', job.parents ? '/v1/scheduler/dependency' : '/v1/scheduler/iso8601', job);
  assert(r.status === 204, `POST ${job.name}: ${r.status} ${r.text}`);
}

// Fixtures, through the API.
await post({ name: 'hello', command: 'echo hello; echo oops >&2', schedule: 'R/2030-01-01T00:00:00Z/PT10S', owner: 'ops@example.com' });
await post({ name: 'after', command: 'echo after', parents: ['hello'] });
// Daily at 02:30 in Paris from a few days before the spring change of 2027
// (28 March): the next instants cross it whatever today's date.
await post({ name: 'paris', command: 'true', schedule: 'R/2027-03-24T02:30:00/P1D', scheduleTimeZone: 'Europe/Paris' });
await post({ name: 'sleeper', command: 'sleep 60', schedule: 'R/2030-01-01T00:00:00Z/PT1H' });
const RT = {
  name: 'roundtrip', command: '/srv/job.sh', shell: false, arguments: ['-v', 'two words'], retries: 3, owner: 'a@example.com',
  description: 'with everything', cpus: 0.25, mem: 64, disk: 10, environmentVariables: [{ name: 'A', value: '1' }, { name: 'JVMOPTS', value: '-Xmx1g "q"' }],
  constraints: [['rack', 'EQUALS', 'rack-1'], ['hostname', 'LIKE', 'web-\\d+']],
  fetch: [{ uri: 'https://example.com/f.tgz', executable: false, cache: true, extract: true }],
  container: { type: 'DOCKER', image: 'busybox:1.36', network: 'BRIDGE', forcePullImage: true, volumes: [{ containerPath: '/data', hostPath: '/srv/data', mode: 'RO' }], parameters: [{ key: 'label', value: 'x=y' }] },
  schedule: 'R/2031-06-01T00:00:00Z/P1D', scheduleTimeZone: 'America/New_York', retryDelaySeconds: 30, maxCompletionTime: 600, startingDeadlineSeconds: 120,
};
await post(RT);
await api('PUT', '/v1/scheduler/job/hello');
const helloRun = await until('hello to run', async () => {
  const runs = JSON.parse((await api('GET', '/v1/runs?job=hello')).text);
  return runs.length && runs[0].state === 'finished' ? runs[0] : null;
});

// 10,000 more jobs for the last check, posted while the others run (it takes
// the server some seconds).
const N = 10000;
const seeded = (async () => {
  const jobs = [];
  for (let i = 0; i < N; i++) jobs.push({ name: `bulk-${String(i).padStart(5, '0')}`, command: `echo ${i}`, schedule: 'R/2035-01-01T00:00:00Z/P1D', disabled: i % 10 === 0, owner: i % 2 ? 'odd@example.com' : 'even@example.com' });
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => { while (next < N) await post(jobs[next++]); }));
})();
seeded.catch(() => {});
console.log(`fixtures ready at ${((Date.now() - T0) / 1000).toFixed(1)} s`);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
const page = await context.newPage();
let problems = [];
page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
// A request cut by leaving the page (the next goto) is aborted, not failed.
page.on('requestfailed', (r) => {
  const why = r.failure() && r.failure().errorText;
  if (!/follow=1/.test(r.url()) && why !== 'net::ERR_ABORTED') problems.push(`failed: ${r.url()} ${why}`);
});
page.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()}: ${r.url()}`); });

async function open(path, ready) {
  await timed('page loads', page.goto(BASE + path, { waitUntil: 'load' }));
  if (ready) await timed('page ready', page.waitForSelector(ready, { timeout: 10000, state: 'attached' }));
}
const TIMES = {};
async function timed(what, p) { const t = Date.now(); try { return await p; } finally { TIMES[what] = (TIMES[what] || 0) + Date.now() - t; } }
async function shot(name, fullPage = true) { await timed('screenshots', page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage })); }
async function axe(label) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await timed('axe load', page.evaluate(axeSource));
  const r = await timed('axe run', page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'], runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })));
  const bad = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert(bad.length === 0, `${label}: ${bad.map((v) => `${v.id} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join('; ')})`).join(', ')}`);
}

const PAGES = [
  ['jobs', '/', 'tr[data-job]'],
  ['job', '/jobs/hello', 'table.next tbody tr'],
  ['job-dst', '/jobs/paris', 'table.next tbody tr'],
  ['edit', '/jobs/roundtrip/edit', '#f-name'],
  ['new', '/new', '#f-name'],
  ['run', `/runs/${encodeURIComponent(helloRun.id)}`, '#log-stdout'],
  ['graph', '/graph', '[data-edge]'],
  ['cluster', '/cluster', 'dl.facts'],
];

await test('the cluster page names the leader and says a single server has no standby', async () => {
  await open('/cluster', 'dl.facts');
  const facts = await page.$$eval('dl.facts dt', (dts) => Object.fromEntries(dts.map((dt) => [dt.textContent, dt.nextElementSibling.textContent])));
  assert(facts['Standbys'] === 'none (a single server)', `standbys: ${facts['Standbys']}`);
  assert((facts['This server'] || '').includes('(leader)'), `this server: ${facts['This server']}`);
});

await test('every page loads with no console error and no failed request; axe-core finds no serious violation, light or dark', async () => {
  for (const [name, path, ready] of PAGES) {
    problems = [];
    await page.emulateMedia({ colorScheme: 'light' });
    await open(path, ready);
    await page.waitForTimeout(300); // what the page asks right after it shows
    assert(problems.length === 0, `${path}: ${problems.join('; ')}`);
    await shot(name);
    await axe(`light ${path}`);
    await page.emulateMedia({ colorScheme: 'dark' });
    await axe(`dark ${path}`);
    await shot(`${name}-dark`, false);
    assert(problems.length === 0, `${path}: ${problems.join('; ')}`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
});

await test('the job page flags the daylight-saving change of a zoned cron job and shows its zone', async () => {
  // 02:30 in Paris: the spring and autumn changes fall between two of the next instants
  // only around March and October, so check what the page says against the offsets.
  await open('/jobs/paris', 'table.next tbody tr');
  const head = await page.textContent('table.next thead');
  assert(head.includes('Europe/Paris'), `zone column: ${head}`);
  const rows = await page.$$eval('table.next tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert(rows.length === 10, `${rows.length} instants`);
  const offs = rows.map((r) => r[1].slice(-6));
  let changes = 0;
  for (let i = 1; i < rows.length; i++) {
    const flagged = rows[i][3].includes('DST');
    changes += offs[i] !== offs[i - 1];
    assert(flagged === (offs[i] !== offs[i - 1]), `row ${i + 1}: offset ${offs[i - 1]} -> ${offs[i]}, flagged ${flagged}`);
  }
  assert(changes === 1 && offs[0] === '+01:00' && offs[9] === '+02:00', `one change, +01:00 to +02:00: ${offs.join(' ')}`);
});

await test('a job created through the form runs, and its run page shows its stdout and stderr', async () => {
  await open('/new', '#f-name');
  await page.fill('#f-name', 'formjob');
  await page.fill('#f-command', 'echo from-the-form; echo to-stderr >&2');
  await page.click('button[type=submit].primary');
  await page.waitForURL(`${BASE}/jobs/formjob`);
  const link = await until('a run of formjob', async () => {
    await page.waitForTimeout(300);
    return page.$('a[href^="/runs/ct%3A"]');
  });
  await link.click();
  await page.waitForURL(/\/runs\//);
  await until('the stdout', async () => (await page.textContent('#log-stdout')).includes('from-the-form'));
  await until('the stderr', async () => (await page.textContent('#log-stderr')).includes('to-stderr'));
  await shot('run-formjob');
});

await test("an invalid schedule shows the server's message at the schedule field", async () => {
  const body = { name: 'badsched', command: 'true', schedule: 'R/2030-01-01T00:00:00Z/P' };
  const server = JSON.parse((await api('POST', '/v1/scheduler/iso8601', body)).text).message;
  assert(server.startsWith('schedule: '), `the server's message: ${server}`);
  await open('/new', '#f-name');
  await page.fill('#f-name', body.name);
  await page.fill('#f-command', body.command);
  await page.fill('#f-schedule', body.schedule);
  await page.click('button[type=submit].primary');
  await page.waitForSelector('#err-schedule:not([hidden])');
  assert((await page.textContent('#err-schedule')) === server, `at the field: ${await page.textContent('#err-schedule')}`);
  assert((await page.getAttribute('#f-schedule', 'aria-invalid')) === 'true', 'the field is marked invalid');
  assert(page.url() === `${BASE}/new`, 'stays on the form');
  await shot('new-invalid-schedule');
});

await test('the schedule preview shows the next instants while typing', async () => {
  await open('/new', '#f-name');
  await page.fill('#f-schedule', '0 9 * * MON-FRI');
  await page.fill('#f-scheduleTimeZone', 'Europe/Paris');
  // The preview of the schedule typed first (in UTC) may still show when the
  // zone is filled: wait for the one in Paris, then check it.
  await until('five instants at 09:00 in Paris', async () => {
    if ((await page.$$('.preview table tbody tr')).length !== 5) return false;
    const first = await page.textContent('.preview table tbody tr td:nth-child(2)');
    if (!/ 09:00:00 \+0[12]:00$/.test(first)) throw new Error(`the first instant shown: ${first}`);
    return true;
  });
});

await test('editing a job with a container, constraints and env vars round-trips it byte for byte', async () => {
  const before = (await api('GET', '/v1/scheduler/job/roundtrip')).text;
  await open('/jobs/roundtrip/edit', '#f-name');
  await page.click('button[type=submit].primary');
  await page.waitForURL(`${BASE}/jobs/roundtrip`);
  const after = (await api('GET', '/v1/scheduler/job/roundtrip')).text;
  assert(before === after, `before ${before}\nafter  ${after}`);
  // Changing one field changes that field only.
  await open('/jobs/roundtrip/edit', '#f-name');
  await page.fill('#f-description', 'changed here');
  await page.click('button[type=submit].primary');
  await page.waitForURL(`${BASE}/jobs/roundtrip`);
  const b = JSON.parse(before), a = JSON.parse((await api('GET', '/v1/scheduler/job/roundtrip')).text);
  assert(a.description === 'changed here', `description ${a.description}`);
  b.description = 'changed here';
  assert(JSON.stringify(a) === JSON.stringify(b), 'only the description changed');
});

await test('the raw JSON editor saves the text as written', async () => {
  await open('/jobs/paris/edit', '#f-name');
  await page.click('#tab-raw');
  const job = JSON.parse(await page.inputValue('#raw-json'));
  job.owner = 'raw@example.com';
  await page.fill('#raw-json', JSON.stringify(job));
  await page.click('text=Save JSON');
  await page.waitForURL(`${BASE}/jobs/paris`);
  assert(JSON.parse((await api('GET', '/v1/scheduler/job/paris')).text).owner === 'raw@example.com', 'owner saved');
});

await test('the graph shows the edge hello -> after, and a click on a node opens the job', async () => {
  await open('/graph', '[data-edge]');
  assert(await page.$('[data-edge="hello->after"]'), 'edge hello->after');
  await page.click('[data-node="after"]');
  await page.waitForURL(`${BASE}/jobs/after`);
  await page.waitForSelector('h1');
  assert((await page.textContent('h1')).startsWith('after'), 'the job page of after');
  await page.goBack();
  await page.waitForURL(`${BASE}/graph`);
  assert(await page.waitForSelector('[data-edge="hello->after"]', { state: 'attached' }), 'back to the graph');
});

await test('the list updates live (a run started elsewhere shows as running), and kill works from the job page', async () => {
  await open('/?q=sleeper', 'tr[data-job="sleeper"]');
  await api('PUT', '/v1/scheduler/job/sleeper');
  await until('the row to show running', async () => /running/.test(await page.textContent('tr[data-job="sleeper"]')));
  await until('the running count', async () => Number(await page.textContent('[data-count="running"]')) >= 1);
  await open('/jobs/sleeper', '.actions');
  await page.click('.actions >> text=Kill');
  await page.click('dialog button[value=kill]');
  await until('the run to be killed', async () => {
    const runs = JSON.parse((await api('GET', '/v1/runs?job=sleeper')).text);
    return runs.length > 0 && runs[0].state === 'killed';
  });
});

await test('the run page kills that run only: two runs of one job, one killed, the other goes on', async () => {
  await api('PUT', '/v1/scheduler/job/sleeper');
  await api('PUT', '/v1/scheduler/job/sleeper');
  let ids = []; // one runs, the other waits its turn (a job's runs do not overlap)
  await until('two active runs', async () => {
    const runs = JSON.parse((await api('GET', '/v1/runs?job=sleeper&state=active')).text);
    ids = runs.map((r) => r.id);
    return ids.length === 2;
  });
  await open(`/runs/${encodeURIComponent(ids[0])}`, '.actions');
  await page.click('.actions >> text=Kill');
  await page.click('dialog button[value=kill]');
  await until('that run to be killed', async () => JSON.parse((await api('GET', `/v1/runs/${encodeURIComponent(ids[0])}`)).text).state === 'killed');
  const other = JSON.parse((await api('GET', `/v1/runs/${encodeURIComponent(ids[1])}`)).text);
  assert(['queued', 'launching', 'running'].includes(other.state), `the other run: ${other.state}`);
  await api('DELETE', '/v1/scheduler/task/kill/sleeper');
});

await test("a graph of 500 jobs draws every node and edge, and focus keeps one job's ancestors and descendants", async () => {
  // A binary tree: t-1 the root, t-i's parent t-(i/2); a level at a time
  // (t-2^k .. t-2^(k+1)-1), so every parent exists before its children.
  await post({ name: 't-1', command: 'true', schedule: 'R/2035-01-01T00:00:00Z/P1D' });
  for (let lo = 2; lo <= 500; lo *= 2) {
    await Promise.all(Array.from({ length: Math.min(lo, 501 - lo) }, (_, k) => lo + k)
      .map((n) => post({ name: `t-${n}`, command: 'true', parents: [`t-${Math.floor(n / 2)}`] })));
  }
  await open('/graph', '[data-edge="t-1->t-2"]');
  const nodes = await page.$$eval('[data-node^="t-"]', (ns) => ns.length);
  const edges = await page.$$eval('[data-edge^="t-"]', (es) => es.length);
  assert(nodes === 500 && edges === 499, `${nodes} nodes, ${edges} edges`);
  await shot('graph-500');
  // t-5: ancestors t-2, t-1; descendants t-10, t-11, t-20..t-23, ... (5 * 2^k + j).
  await open('/graph?focus=t-5', '[data-node="t-5"]');
  const shown = new Set(await page.$$eval('[data-node^="t-"]', (ns) => ns.map((n) => n.dataset.node)));
  const want = new Set(['t-1', 't-2']);
  for (let lo = 5, w = 1; lo <= 500; lo *= 2, w *= 2) for (let n = lo; n < lo + w && n <= 500; n++) want.add(`t-${n}`);
  const missing = [...want].filter((n) => !shown.has(n)), extra = [...shown].filter((n) => !want.has(n));
  assert(!missing.length && !extra.length, `focus t-5: missing ${missing.slice(0, 5)}, extra ${extra.slice(0, 5)}`);
});

await test('disable and enable from the job page', async () => {
  await open('/jobs/paris', '.actions');
  await page.click('.actions >> text=Disable');
  await until('disabled', async () => JSON.parse((await api('GET', '/v1/scheduler/job/paris')).text).disabled === true);
  await page.click('.actions >> text=Enable');
  await until('enabled', async () => JSON.parse((await api('GET', '/v1/scheduler/job/paris')).text).disabled === false);
});

await test('delete names the dependents that block it, then deletes a job without any', async () => {
  await open('/jobs/hello', '.actions');
  await page.click('.actions >> text=Delete');
  await page.waitForSelector('dialog ul.dependents');
  assert((await page.textContent('dialog ul.dependents')).includes('after'), 'names after');
  await shot('delete-blocked');
  await page.click('dialog button');
  await open('/jobs/after', '.actions');
  await page.click('.actions >> text=Delete');
  await page.click('dialog button[value=delete]');
  await page.waitForURL(`${BASE}/`);
  assert((await api('GET', '/v1/scheduler/job/after')).status === 400, 'after is gone');
});

await test('at 360 px wide nothing scrolls sideways and axe finds nothing serious', async () => {
  await page.setViewportSize({ width: 360, height: 740 });
  for (const [name, path, ready] of [['jobs-360', '/', 'tr[data-job]'], ['job-360', '/jobs/roundtrip', 'table.next'], ['edit-360', '/jobs/roundtrip/edit', '#f-name']]) {
    await open(path, ready);
    const [w, wide] = await page.evaluate(() => [document.documentElement.scrollWidth,
      [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > 361 || e.scrollWidth > 361).slice(0, 6).map((e) => `${e.tagName}.${e.className}#${e.id}:${Math.round(e.getBoundingClientRect().right)}/${e.scrollWidth}`).join(' ')]);
    assert(w <= 360, `${path}: ${w} px wide (${wide})`);
    await axe(`360 ${path}`);
    await shot(name);
  }
  await page.setViewportSize({ width: 1280, height: 860 });
});

await test('keyboard: the skip link and the navigation are reachable with Tab', async () => {
  await open('/', 'tr[data-job]');
  await page.keyboard.press('Tab');
  assert((await page.evaluate(() => document.activeElement.textContent)) === 'Skip to content', 'skip link first');
  await page.keyboard.press('Tab'); await page.keyboard.press('Tab'); await page.keyboard.press('Tab');
  assert((await page.evaluate(() => document.activeElement.textContent)) === 'Graph', 'then the navigation');
  await page.keyboard.press('Enter');
  await page.waitForURL(`${BASE}/graph`);
});

await test('with 10,000 jobs the list renders a page, counts them and filters on the server', async () => {
  await seeded;
  await open('/', 'tr[data-job]');
  const total = Number(await page.textContent('[data-count="total"]'));
  assert(total >= N, `total ${total}`);
  assert((await page.$$('tbody tr[data-job]')).length === 50, 'a page of 50 rows');
  await page.fill('#job-search', 'bulk-0999');
  await until('the search', async () => (await page.$$eval('tbody tr[data-job]', (t) => t.map((r) => r.dataset.job))).join() === Array.from({ length: 10 }, (_, i) => `bulk-0999${i}`).join());
  assert(/[?&]q=bulk-0999/.test(page.url()), `the query is in the URL: ${page.url()}`);
  await page.fill('#job-search', '');
  await page.click('button.c-disabled');
  await until('the disabled filter', async () => /of 1,000 matching/.test(await page.textContent('.pager')));
  await page.selectOption('#job-sort', 'name');
  await page.selectOption('#job-order', 'desc');
  await until('descending order', async () => (await page.getAttribute('tbody tr[data-job]', 'data-job')) === 'bulk-09990');
  await shot('jobs-10k');
  await page.goBack();
  await until('back restores the previous query', async () => !/order=desc/.test(page.url()));
});

await browser.close();
console.log(`times (ms): ${JSON.stringify(TIMES)}; all ${Date.now() - T0}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
