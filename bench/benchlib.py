"""benchlib.py - what the Python benchmark drivers (bench/scheduler, bench/zk)
share: time, percentiles, ports, a process's CPU, disk usage.  Pure helpers:
no globals, no output."""
import datetime
import os
import socket
import time


def now_ms():
    return time.time_ns() // 1_000_000


def iso(ms):
    d = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (ms % 1000)


def pct(sorted_v, p):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_v:
        return float("nan")
    k = max(1, int(-(-p * len(sorted_v) // 100)))  # ceil(p/100 * n)
    return sorted_v[min(k, len(sorted_v)) - 1]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def proc_cpu_s(pid):
    """User + system CPU seconds of a process (None when it is gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def proc_rss_kb(pid):
    """Resident set size of a process in KiB (None when it is gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def du_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total
