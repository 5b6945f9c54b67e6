// peer.js - BullMQ, the peer of chronos in bench/peers: one workload per
// call, on the private redis-server that bench/peers/run.sh started.
//
//   node peer.js '<json>'
//
// The JSON names: port (redis, on 127.0.0.1), queue (a fresh name per
// workload), stamp and out (the task: `stamp OUT TAG-<i>`, as for chronos
// and cron), tag, concurrency (20), n, mode and its times (ms):
//   herd    n job schedulers, pattern '* * * * *' (a cron pattern, as the
//           docs' Job Schedulers guide shows): all due at each minute
//           boundary; stop at `until` (ms since the epoch)
//   burst   n job schedulers, every 3600000 with startDate `at`: all due at
//           one instant (chronos's R/<at>/PT1H); at = lead_ms after the
//           Worker is up; stop at at + wait_ms
//   steady  n job schedulers, every `period` ms with startDate
//           start + floor(i*period/n): spread over the period (chronos's
//           R/<start + phase>/PT1M); start = lead_ms after the Worker is up;
//           stop at start + wait_ms
// or as soon as `expect` jobs have completed (0: never).
//
// A Worker with `concurrency` (the same limit as chronos's and the
// comparison's: 20 at once) runs each job as the task with
// child_process.spawn (no shell, as chronos runs it) and completes the job
// when the process exits 0.  Workers and Queues get the connection as options
// (BullMQ makes the ioredis clients and sets maxRetriesPerRequest null on the
// Worker's, as its docs require); finished jobs are removed as its
// going-to-production/auto-removal guides suggest (keep the last 1000
// completed, 5000 failed).  Redis runs with maxmemory-policy noeviction (its
// default), which the docs require.
//
// Prints one line "ready <json>" once the schedulers exist (with the due
// instants of their first jobs), then one line of JSON at the end (also on
// SIGTERM, which ends the wait): counts, failures, how long the upserts
// took.  Exits 1 on an error.
'use strict';
const { spawn } = require('node:child_process');
const { Queue, Worker } = require('bullmq');

const cfg = JSON.parse(process.argv[2]);
const connection = { host: '127.0.0.1', port: cfg.port };
let at = 0; // burst: the instant; steady: the start (set once the Worker is up)

function runTask(tag) {
  return new Promise((resolve, reject) => {
    const child = spawn(cfg.stamp, [cfg.out, tag], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`task exit ${code === null ? signal : code}`));
    });
  });
}

function repeatOf(i) {
  switch (cfg.mode) {
    case 'herd':
      return { pattern: '* * * * *' };
    case 'burst':
      return { every: 3600000, startDate: at };
    case 'steady':
      return { every: cfg.period, startDate: at + Math.floor((i * cfg.period) / cfg.n) };
    default:
      throw new Error(`unknown mode ${cfg.mode}`);
  }
}

async function main() {
  const queue = new Queue(cfg.queue, { connection });
  let completed = 0;
  let failed = 0;
  const reasons = new Set();
  let done;
  const allDone = new Promise((resolve) => { done = resolve; });
  // bench.py's SIGTERM: the runs are over or given up; stop as at the end.
  process.on('SIGTERM', () => done());
  const worker = new Worker(cfg.queue, (job) => runTask(job.data.tag), {
    connection,
    concurrency: cfg.concurrency,
    removeOnComplete: { count: 1000 },
    removeOnFail: { count: 5000 },
  });
  worker.on('completed', () => {
    completed += 1;
    if (cfg.expect && completed >= cfg.expect) done();
  });
  worker.on('failed', (job, err) => {
    failed += 1;
    reasons.add(String(err && err.message));
  });
  worker.on('error', (err) => reasons.add(`worker: ${err && err.message}`));
  await queue.waitUntilReady();
  await worker.waitUntilReady();

  const t0 = Date.now();
  at = t0 + (cfg.lead_ms || 0);
  const until = cfg.mode === 'herd' ? cfg.until : at + cfg.wait_ms;
  const firsts = await Promise.all(
    Array.from({ length: cfg.n }, (_, i) =>
      queue.upsertJobScheduler(`s${i}`, repeatOf(i), { name: 'task', data: { tag: `${cfg.tag}-${i}` } })));
  const upsertS = (Date.now() - t0) / 1000;
  // A scheduler's job id is repeat:<scheduler id>:<due ms>.
  const dues = firsts.map((j) => (j && j.id ? Number(String(j.id).split(':').pop()) : NaN));
  const finite = dues.filter(Number.isFinite);
  console.log('ready ' + JSON.stringify({
    at: cfg.mode === 'burst' ? at : undefined,
    start: cfg.mode === 'steady' ? at : undefined,
    late_ms: cfg.mode === 'herd' ? 0 : Date.now() - at,
    upsert_s: upsertS,
    first_due_min: finite.length ? Math.min(...finite) : null,
    first_due_max: finite.length ? Math.max(...finite) : null,
    first_due_bad: dues.length - finite.length,
  }));

  const wait = Math.max(0, until - Date.now());
  let timer;
  await Promise.race([allDone, new Promise((r) => { timer = setTimeout(r, wait); })]);
  clearTimeout(timer);
  await worker.close();
  const leftDelayed = await queue.getDelayedCount();
  await queue.obliterate({ force: true });
  await queue.close();
  console.log(JSON.stringify({
    completed, failed, reasons: [...reasons].slice(0, 5), upsert_s: upsertS,
    delayed_left: leftDelayed,
  }));
}

main().then(() => process.exit(0), (err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
