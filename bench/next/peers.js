'use strict';
/*
 * peers.js - times the JavaScript peers of chronos's time engine, croner and
 * cron-parser, over the cron rows of bench/next's mix, for bench_next to
 * compare with chronos (run.sh wires the two; see bench_next.c).
 *
 *   node peers.js MIX.json > PEERS.json
 *
 * MIX.json is what `bench_next --mix` prints: the rows (expression, zone,
 * start instant) and the plan (runs, batches, ops per batch, the window).
 * Each row is timed the way bench_next times chronos: iterate "next after
 * the previous" from the start, and go back to the start after `window`
 * instants, so that both sides compute the very same instants.  A peer that
 * throws on an expression gets an error for that row, not a failed bench.
 *
 * Besides the figures, each row carries the first `window` instants each
 * peer computes from the start, so that bench_next can check that chronos
 * and the peers agree on what they timed.  Neither peer parses ISO 8601
 * repeating intervals, so the mix given to this script is cron only.
 */
const fs = require('fs');
const path = require('path');
const { Cron } = require('croner');
const { CronExpressionParser } = require('cron-parser');

// A walker for one (peer, row): step(n) computes n instants, each the next
// after the previous, restarting at the start every `window` instants.
const PEERS = {
  croner(row, window) {
    const job = new Cron(row.expr, { timezone: row.zone, paused: true });
    const start = new Date(row.start_ms);
    let cur = start;
    let k = 0;
    return {
      step(n) {
        for (let i = 0; i < n; i++) {
          const next = job.nextRun(cur);
          if (next === null || ++k === window) {
            cur = start;
            k = 0;
          } else {
            cur = next;
          }
        }
        return cur;
      },
      first(n) {
        const out = [];
        let d = start;
        while (out.length < n) {
          d = job.nextRun(d);
          if (d === null) break;
          out.push(d.getTime());
        }
        return out;
      },
    };
  },
  'cron-parser'(row, window) {
    const start = new Date(row.start_ms);
    const it = CronExpressionParser.parse(row.expr, { currentDate: start, tz: row.zone });
    let k = 0;
    let last = null;
    return {
      step(n) {
        for (let i = 0; i < n; i++) {
          let next = null;
          try {
            next = it.next();
          } catch (e) {
            next = null; // no further instant: as chronos's CHR_ENONE
          }
          if (next === null || ++k === window) {
            it.reset(start);
            k = 0;
          } else {
            last = next;
          }
        }
        return last;
      },
      first(n) {
        const fresh = CronExpressionParser.parse(row.expr, { currentDate: start, tz: row.zone });
        const out = [];
        try {
          while (out.length < n) out.push(fresh.next().getTime());
        } catch (e) {
          // fewer than n instants: the list ends here
        }
        return out;
      },
    };
  },
};

function nsNow() {
  return process.hrtime.bigint();
}

// The nearest-rank percentile of an ascending array.
function percentile(sorted, p) {
  const idx = Math.max(0, Math.ceil(p * sorted.length) - 1);
  return sorted[Math.min(idx, sorted.length - 1)];
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// Per run: warm-up batches (JIT), then timed batches; each batch gives one
// ns/op.  The figure is the median over runs of each run's median and p99,
// as bench_next.c reports chronos.
function measure(walker, plan) {
  const medians = [];
  const p99s = [];
  let sink = 0;
  for (let r = 0; r < plan.runs; r++) {
    for (let b = 0; b < plan.warmup_batches; b++) sink ^= Number(walker.step(plan.ops) !== null);
    const perOp = [];
    for (let b = 0; b < plan.batches; b++) {
      const t0 = nsNow();
      const last = walker.step(plan.ops);
      perOp.push(Number(nsNow() - t0) / plan.ops);
      sink ^= Number(last !== null);
    }
    perOp.sort((a, b) => a - b);
    medians.push(percentile(perOp, 0.5));
    p99s.push(percentile(perOp, 0.99));
  }
  return { median_ns: median(medians), p99_ns: median(p99s), sink };
}

function runPeer(name, row, plan) {
  let walker;
  try {
    walker = PEERS[name](row, plan.window);
  } catch (e) {
    return { error: String(e && e.message ? e.message : e) };
  }
  const instants = walker.first(plan.check);
  const fig = measure(walker, plan);
  return { median_ns: fig.median_ns, p99_ns: fig.p99_ns, instants };
}

function version(name) {
  const file = path.join(__dirname, 'node_modules', name, 'package.json');
  return JSON.parse(fs.readFileSync(file, 'utf8')).version;
}

function main() {
  if (process.argv.length !== 3) {
    process.stderr.write('usage: node peers.js MIX.json > PEERS.json\n');
    process.exit(2);
  }
  const mix = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const plan = mix.plan;
  const out = {
    node: process.version,
    versions: { croner: version('croner'), 'cron-parser': version('cron-parser') },
    plan,
    rows: [],
  };
  const t0 = nsNow();
  for (const row of mix.rows) {
    const peers = {};
    for (const name of Object.keys(PEERS)) peers[name] = runPeer(name, row, plan);
    out.rows.push({ expr: row.expr, zone: row.zone, start_ms: row.start_ms, peers });
    process.stderr.write(`  peers: ${row.zone} ${JSON.stringify(row.expr)} done\n`);
  }
  out.elapsed_s = Number(nsNow() - t0) / 1e9;
  process.stdout.write(JSON.stringify(out) + '\n');
}

main();
