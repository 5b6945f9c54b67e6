#!/usr/bin/env python3
"""check.py - accounts for every due instant of jobs that fire every period.

    check.py OUTDIR LEDGERDIR FROM_MS TO_MS JOB:START_MS:PERIOD_MS ...

For each job, OUTDIR/JOB holds one line per launch: the instant it was
launched for ($CHRONOS_JOB_RUN_TIME, written by the task itself), and
LEDGERDIR/JOB.json the job's ledger from the API (instants not launched, by
policy: coalesced while no leader ran, ...).  Every instant of the schedule
in [FROM_MS, TO_MS] must be launched exactly once or be in the ledger, never
both.  Prints one line per job and a total line
"instants N launched L ledgered G duplicate D missed M both B";
exits 1 when D, M or B is not 0.
"""
import json
import os
import sys


def read_ranges(path):
    try:
        with open(path) as f:
            return [(e["fromMs"], e["toMs"], e["count"], e["reason"]) for e in json.load(f)]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def ranges(ledger_path):
    """The ledger just read, with every entry an earlier call saw.

    A job's ledger keeps its last 32 entries; a long test on a loaded
    machine (many "coalesced-busy" entries) can push out the oldest before
    the last check.  An entry, once reported, stays a fact, so each call
    keeps what it saw in LEDGERDIR/JOB.seen.json and accounts with the
    union: an instant the server forgot it ledgered is not called missed,
    while one it launched after ledgering still counts as both."""
    seen_path = ledger_path[:-len(".json")] + ".seen.json"
    seen = read_ranges(seen_path)
    union = sorted(set(seen) | set(read_ranges(ledger_path)))
    try:
        with open(seen_path, "w") as f:
            json.dump([dict(fromMs=a, toMs=b, count=c, reason=r) for a, b, c, r in union], f)
    except OSError:
        pass
    return union


def main():
    outdir, ledgerdir, lo, hi = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    tot = dict(instants=0, launched=0, ledgered=0, duplicate=0, missed=0, both=0)
    for spec in sys.argv[5:]:
        name, start, period = spec.split(":")
        start, period = int(start), int(period)
        counts = {}
        try:
            with open(os.path.join(outdir, name)) as f:
                for line in f:
                    line = line.strip()
                    if line:
                        counts[int(line)] = counts.get(int(line), 0) + 1
        except OSError:
            pass
        led = ranges(os.path.join(ledgerdir, name + ".json"))
        first = start if start >= lo else start + ((lo - start + period - 1) // period) * period
        res = dict(instants=0, launched=0, ledgered=0, duplicate=0, missed=0, both=0)
        bad = []
        t = first
        while t <= hi:
            n = counts.get(t, 0)
            in_ledger = any(a <= t <= b for a, b, _, _ in led)
            res["instants"] += 1
            if n > 1:
                res["duplicate"] += 1
                bad.append("%d launched %d times" % (t, n))
            if n >= 1 and in_ledger:
                res["both"] += 1
                bad.append("%d launched and ledgered" % t)
            if n >= 1:
                res["launched"] += 1
            elif in_ledger:
                res["ledgered"] += 1
            else:
                res["missed"] += 1
                bad.append("%d neither launched nor ledgered" % t)
            t += period
        for k in tot:
            tot[k] += res[k]
        print("%s: %s%s" % (name, " ".join("%s %d" % kv for kv in res.items()),
                            ("  [" + "; ".join(bad[:5]) + "]") if bad else ""))
    print("total: " + " ".join("%s %d" % kv for kv in tot.items()))
    sys.exit(1 if tot["duplicate"] or tot["missed"] or tot["both"] else 0)


main()
