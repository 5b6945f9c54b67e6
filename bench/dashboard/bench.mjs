// bench.mjs BASE PID JOBS BIG_JOBS - the figures of bench/dashboard/run.sh.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(join(root, 'api/dashboard/package.json'));
const { chromium } = require('playwright-core');
const [BASE, PID, JOBS, BIG] = process.argv.slice(2);
const TICK = 100; // USER_HZ: /proc/PID/stat counts in 1/100 s on Linux

function cpuMs() {
  const f = readFileSync(`/proc/${PID}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * (1000 / TICK); // utime + stime
}
const median = (a) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];

let posted = 0;
async function seed(n) {
  let next = posted;
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (next < n) {
      const i = next++;
      const r = await fetch(`${BASE}/v1/scheduler/iso8601`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: `job-${String(i).padStart(6, '0')}`, command: `echo ${i}`, schedule: 'R/2099-01-01T00:00:00Z/P1D', owner: `team${i % 20}@example.com` }) });
      if (r.status !== 204) throw new Error(`POST: ${r.status} ${await r.text()}`);
    }
  }));
  posted = n;
}

// Bytes of an answer as sent: the status line and headers, and the body.
async function sized(path) {
  const t = performance.now();
  const r = await fetch(BASE + path, { headers: { 'Accept-Encoding': 'identity' } });
  const body = await r.text();
  let head = `HTTP/1.1 ${r.status} ${r.statusText}\r\n`.length + 2;
  for (const [k, v] of r.headers) head += k.length + 2 + v.length + 2;
  return { bytes: head + Buffer.byteLength(body), ms: performance.now() - t, json: r.headers.get('content-type')?.includes('json') ? JSON.parse(body) : null };
}

async function pageTimes(browser) {
  const first = [], inter = [];
  for (let i = 0; i < 5; i++) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(BASE + '/');
    await page.waitForFunction(() => performance.getEntriesByName('chr:interactive').length > 0, null, { timeout: 60000 });
    const [f, n] = await page.evaluate(() => ['chr:first-render', 'chr:interactive'].map((m) => performance.getEntriesByName(m)[0].startTime));
    first.push(f); inter.push(n);
    await ctx.close();
  }
  return { first: median(first), inter: median(inter) };
}

async function polls(n, changeEach) {
  let { json } = await sized('/v1/dashboard/jobs?limit=1');
  let cursor = json.cursor, bytes = 0, changed = 0;
  const c0 = cpuMs();
  let own = 0;
  for (let i = 0; i < n; i++) {
    if (changeEach) {
      const o0 = cpuMs();
      const r = await fetch(`${BASE}/v1/scheduler/iso8601`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'job-000001', command: 'echo 1', schedule: 'R/2099-01-01T00:00:00Z/P1D', owner: `changed${i}@example.com` }) });
      await r.text();
      own += cpuMs() - o0; // the change's own cost is not the poll's
    }
    const a = await sized(`/v1/dashboard/changes?since=${encodeURIComponent(cursor)}`);
    bytes += a.bytes;
    changed += a.json.changed.length;
    cursor = a.json.cursor;
  }
  return { bytes: bytes / n, cpuUs: ((cpuMs() - c0 - own) * 1000) / n, changed: changed / n };
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
for (const n of [Number(JOBS), Number(BIG)]) {
  const t0 = Date.now();
  await seed(n);
  console.log(`\n== ${n.toLocaleString('en')} jobs (posted in ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  const p = await pageTimes(browser);
  console.log(`a. page: first render ${p.first.toFixed(0)} ms, interactive ${p.inter.toFixed(0)} ms (median of 5, from navigation start)`);
  const list = [], full = [];
  for (let i = 0; i < 5; i++) { list.push(await sized('/v1/dashboard/jobs?limit=50')); full.push(await sized('/v1/scheduler/jobs')); }
  console.log(`b. /v1/dashboard/jobs (50 rows): ${list[0].bytes} bytes, ${median(list.map((x) => x.ms)).toFixed(1)} ms; /v1/scheduler/jobs (all): ${full[0].bytes.toLocaleString('en')} bytes, ${median(full.map((x) => x.ms)).toFixed(0)} ms`);
  const idle = await polls(2000, false);
  const one = await polls(200, true);
  console.log(`c. per poll: ${idle.bytes.toFixed(0)} bytes when nothing changed; ${one.bytes.toFixed(0)} bytes when one job changed (${one.changed.toFixed(1)} rows)`);
  console.log(`d. server CPU per poll: ${idle.cpuUs.toFixed(0)} µs when nothing changed; ${one.cpuUs.toFixed(0)} µs when one job changed (/proc ticks of 10 ms: ±${(10000 / 2000).toFixed(0)} and ±${(10000 / 200).toFixed(0)} µs)`);
}
await browser.close();
