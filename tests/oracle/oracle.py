#!/usr/bin/python3
"""An independent oracle for docs/time.md (what instants a schedule fires at).

Role: say, for a schedule expression, a zone, an instant T and a count N, which
instants the schedule fires at after T -- or that the request is an error.  It
is derived from time.md and Python's zoneinfo only, never from the C sources,
so that a bug in iso8601/ cannot leak into the expectations.  It favours
obviously-correct over fast: cron is evaluated by walking local days and
enumerating wall times.  Standard library only; run with /usr/bin/python3.

Everything is integer milliseconds: an *instant* is ms since the Unix epoch; a
*wall time* is the same count for the wall-clock fields read as if in UTC
("local ms").  wall = instant + offset(instant).

Usage as a program (one JSON request a line on stdin, one answer a line out,
the `chronos next --json-lines` protocol):
    /usr/bin/python3 tests/oracle/oracle.py eval < requests.jsonl
Answers are {"next": [...]} or {"error": "..."}; the oracle may add
"truncated": true when it stopped at the end of year 9999 (what follows is not
specified), and "now": true when the request had no "from" (it then used the
current time, so only the shape of the answer can be checked).
"""

import json
import re
import sys
import time
from datetime import datetime

try:
    import zoneinfo
except ImportError:  # pragma: no cover - Python < 3.9
    sys.exit("oracle.py needs Python >= 3.9 (zoneinfo); use /usr/bin/python3")

SEC = 1000
MIN = 60 * SEC
HOUR = 60 * MIN
DAY = 24 * HOUR
INT64_MAX = 2 ** 63 - 1
DEFAULT_COUNT = 5

# No zone's offset is anywhere near 26 h (they lie within -12 h .. +15 h), so
# every instant whose wall time is w lies in [w - WIN, w + WIN].
WIN = 26 * HOUR
# Offsets are sampled this far apart inside a window.  Correct as long as two
# offset changes of a zone are further apart than this; in the zones tested
# (1850-2110) the closest pair is 27 days apart (Europe/London, 1947), and
# test_oracle_self.py re-checks that for 1960-2070.
SAMPLE = 6 * HOUR


class SpecError(Exception):
    """The request is invalid per time.md; the message names the part."""


# ---------------------------------------------------------------- calendar

def is_leap(y):
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def month_len(y, m):
    if m == 2:
        return 29 if is_leap(y) else 28
    return 30 if m in (4, 6, 9, 11) else 31


def days_from_civil(y, m, d):
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(z):
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return (y + (m <= 2), m, d)


def weekday(days):
    """0 = Sunday .. 6 = Saturday, for days since the epoch (a Thursday)."""
    return (days + 4) % 7


MS_MIN = days_from_civil(1, 1, 1) * DAY            # 0001-01-01T00:00:00.000
MS_MAX = days_from_civil(10000, 1, 1) * DAY - 1    # 9999-12-31T23:59:59.999


def fmt_instant(t):
    """UTC `YYYY-MM-DDTHH:MM:SS.mmmZ` (years 1..9999)."""
    if not MS_MIN <= t <= MS_MAX:
        raise OverflowError("instant out of printable range")
    days, ms = divmod(t, DAY)
    y, m, d = civil_from_days(days)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (
        y, m, d, ms // HOUR, ms // MIN % 60, ms // SEC % 60, ms % SEC)


_INSTANT_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]+))?Z")


def parse_instant(s):
    """An instant as `chronos next --from` takes it: YYYY-MM-DDTHH:MM:SS[.f]Z."""
    mt = _INSTANT_RE.fullmatch(s) if isinstance(s, str) else None
    if not mt:
        raise SpecError("from: %r is not an instant like 2030-03-09T00:00:00Z" % (s,))
    y, mo, d, h, mi, se = (int(g) for g in mt.groups()[:6])
    if not (y >= 1 and 1 <= mo <= 12 and 1 <= d <= month_len(y, mo)
            and h <= 23 and mi <= 59 and se <= 59):
        raise SpecError("from: %r is out of range" % (s,))
    ms = int((mt.group(7) or "0")[:3].ljust(3, "0"))
    return days_from_civil(y, mo, d) * DAY + h * HOUR + mi * MIN + se * SEC + ms


# ---------------------------------------------------------------- zones

_SAFE_LO = MS_MIN + 2 * DAY
_SAFE_HI = MS_MAX - 2 * DAY


class Zone:
    """An IANA zone (via zoneinfo) or a fixed offset."""

    def __init__(self, name=None, fixed_ms=None):
        self.name = name
        self.fixed = fixed_ms
        self.zi = None
        if name is not None:
            if (not isinstance(name, str) or name == "" or name.startswith("/")
                    or ".." in name.split("/") or "\0" in name):
                raise SpecError("zone: unknown time zone %r" % (name,))
            try:
                self.zi = zoneinfo.ZoneInfo(name)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError,
                    UnicodeError):
                raise SpecError("zone: unknown time zone %r" % (name,))
            self._cache = {}

    def __repr__(self):
        return self.name or "fixed%+d" % (self.fixed or 0)

    def offset(self, t):
        """The offset (ms, wall - instant) in force at instant t."""
        if self.zi is None:
            return self.fixed
        # tz database transitions fall on whole seconds
        sec = min(max(t, _SAFE_LO), _SAFE_HI) // SEC
        o = self._cache.get(sec)
        if o is None:
            td = datetime.fromtimestamp(sec, self.zi).utcoffset()
            o = td.days * DAY + td.seconds * SEC + td.microseconds // 1000
            if len(self._cache) > 200000:
                self._cache.clear()
            self._cache[sec] = o
        return o

    def offsets_in(self, lo, hi):
        """Every offset in force somewhere in [lo, hi] (see SAMPLE)."""
        if self.zi is None:
            return {self.fixed}
        offs = set()
        t = lo
        while t < hi:
            offs.add(self.offset(t))
            t += SAMPLE
        offs.add(self.offset(hi))
        return offs

    def instants_of_wall(self, w, offs=None):
        """All instants whose wall time in this zone is w, sorted: one
        normally, two in an overlap, none in a gap."""
        if offs is None:
            offs = self.offsets_in(w - WIN, w + WIN)
        return sorted({w - o for o in offs if self.offset(w - o) == o})

    def resolve(self, w, offs=None):
        """time.md's one rule: wall time -> instant."""
        cands = self.instants_of_wall(w, offs)
        if cands:
            return cands[0]                       # once, or the earlier of two
        # A gap.  f(t) = t + offset(t) jumps over w at the transition; find
        # the last instant before it: f(lo) < w < f(hi), hi = lo + 1 ms.
        lo, hi = w - WIN, w + WIN
        assert lo + self.offset(lo) < w < hi + self.offset(hi), (self, w)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            fm = mid + self.offset(mid)
            assert fm != w, "offset sampling missed an offset near %d" % w
            if fm < w:
                lo = mid
            else:
                hi = mid
        before = self.offset(lo)                  # the offset before the gap
        t = w - before
        assert t >= hi and self.offset(t) != before
        return t

    def wall(self, t):
        return t + self.offset(t)


def load_zone(name):
    return Zone(name=name)


UTC = Zone(fixed_ms=0)


# ---------------------------------------------------------------- ISO 8601

_START_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]+))?)?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})?")
_PERIOD_RE = re.compile(
    r"P(?:([0-9]+)Y)?(?:([0-9]+)M)?(?:([0-9]+)W)?(?:([0-9]+)D)?"
    r"(T(?:([0-9]+)H)?(?:([0-9]+)M)?(?:([0-9]+)(?:\.([0-9]{1,3}))?S)?)?")
PERIOD_MAX = 10 ** 9


class Iso:
    """`R[n]/start/period`."""

    def __init__(self, expr):
        parts = expr.split("/")
        if len(parts) != 3:
            raise SpecError("schedule: expected R[n]/<start>/<period>, got %d part(s)"
                            % len(parts))
        rep, start, period = parts
        if not re.fullmatch(r"R[0-9]*", rep):
            raise SpecError("repeat: %r is not R or R<n>" % rep)
        if rep == "R":
            self.count = None
        else:
            self.count = int(rep[1:])
            if self.count > INT64_MAX:
                raise SpecError("repeat: %r is larger than int64" % rep)
        self._parse_start(start)
        self._parse_period(period)

    def _parse_start(self, s):
        if s == "":
            raise SpecError("start: empty")
        mt = _START_RE.fullmatch(s)
        if not mt:
            raise SpecError("start: %r is not YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|+HH:MM]" % s)
        g = mt.groups()
        y, mo, d = int(g[0]), int(g[1]), int(g[2])
        h = int(g[3] or 0)
        mi = int(g[4] or 0)
        se = int(g[5] or 0)
        ms = int((g[6] or "0")[:3].ljust(3, "0"))
        if y < 1:
            raise SpecError("start: year 0")
        if not 1 <= mo <= 12:
            raise SpecError("start: month %d" % mo)
        if not 1 <= d <= month_len(y, mo):
            raise SpecError("start: day %d of %04d-%02d" % (d, y, mo))
        if h > 23 or mi > 59 or se > 59:
            raise SpecError("start: time out of range")
        self.offset = None
        off = g[7]
        if off == "Z":
            self.offset = 0
        elif off:
            oh, om = int(off[1:3]), int(off[4:6])
            if oh > 18 or om > 59:
                raise SpecError("start: offset %s out of range" % off)
            self.offset = (oh * HOUR + om * MIN) * (-1 if off[0] == "-" else 1)
        self.start_wall = (days_from_civil(y, mo, d) * DAY + h * HOUR + mi * MIN
                           + se * SEC + ms)

    def _parse_period(self, s):
        mt = _PERIOD_RE.fullmatch(s)
        if not mt:
            raise SpecError("period: %r is not P[nY][nM][nW][nD][T[nH][nM][n[.fff]S]]" % s)
        y, mo, w, d, tpart, h, mi, se, frac = mt.groups()
        nums = [y, mo, w, d, h, mi, se]
        if all(v is None for v in nums):
            raise SpecError("period: %r has no components" % s)
        if tpart is not None and h is None and mi is None and se is None:
            raise SpecError("period: %r ends in T" % s)
        for v in nums:
            if v is not None and int(v) > PERIOD_MAX:
                raise SpecError("period: component %s larger than 10^9" % v)
        iv = lambda v: int(v) if v is not None else 0
        self.months = iv(y) * 12 + iv(mo)
        self.days = iv(w) * 7 + iv(d)
        self.elapsed = (iv(h) * HOUR + iv(mi) * MIN + iv(se) * SEC
                        + (int(frac.ljust(3, "0")) if frac else 0))
        if self.months == 0 and self.days == 0 and self.elapsed == 0:
            raise SpecError("period: %r is zero" % s)

    # -- evaluation

    def zone_for(self, tz):
        if tz is not None:
            return load_zone(tz)        # the zone wins over a written offset
        if self.offset is not None:
            return Zone(fixed_ms=self.offset)
        return UTC

    def occurrences_after(self, zone, after, n):
        """(list of instants, truncated) -- first n distinct > after."""
        s0 = zone.resolve(self.start_wall)
        if not MS_MIN <= s0 <= MS_MAX:
            return [], True
        w0 = zone.wall(s0)
        limit = self.count if self.count is not None else float("inf")

        def occ(k):  # None: beyond year 9999
            if self.months == 0 and self.days == 0:
                t = s0 + k * self.elapsed
                return t if t <= MS_MAX else None
            days0, tod = divmod(w0, DAY)
            y, m, d = civil_from_days(days0)
            tm = y * 12 + (m - 1) + k * self.months
            y2, m2 = tm // 12, tm % 12 + 1
            if y2 > 9999:
                return None
            dd = days_from_civil(y2, m2, min(d, month_len(y2, m2))) + k * self.days
            if dd >= days_from_civil(10000, 1, 1):
                return None
            t = zone.resolve(dd * DAY + tod) + k * self.elapsed
            return t if t <= MS_MAX else None

        def later(k):
            t = occ(k)
            return t is None or t > after

        # the first k with occ(k) > after (occ is non-decreasing in k)
        if self.months == 0 and self.days == 0:
            k = 0 if after < s0 else (after - s0) // self.elapsed + 1
        else:
            lo, hi = -1, 1          # later(lo) false (or lo = -1), search hi
            while hi < limit and not later(hi):
                lo, hi = hi, hi * 2
            hi = min(hi, limit)
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if later(mid):
                    hi = mid
                else:
                    lo = mid
            k = hi
        out = []
        truncated = False
        while len(out) < n and k < limit:
            t = occ(k)
            if t is None:
                truncated = True
                break
            assert t > after and (not out or t >= out[-1]), "not monotonic"
            if not out or t != out[-1]:
                out.append(t)
            k += 1
        return out, truncated


# ---------------------------------------------------------------- cron

MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT",
          "NOV", "DEC"]
DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
MACROS = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_NUM = re.compile(r"[0-9]+")


class Field:
    def __init__(self, name, lo, hi, names=None, name_base=0):
        self.name, self.lo, self.hi = name, lo, hi
        self.names = names
        self.name_base = name_base

    def value(self, s):
        if _NUM.fullmatch(s):
            v = int(s)
        elif self.names and s.upper() in self.names:
            v = self.names.index(s.upper()) + self.name_base
        else:
            raise SpecError("%s: %r is not a number or name" % (self.name, s))
        if not self.lo <= v <= self.hi:
            raise SpecError("%s: %d out of range %d-%d" % (self.name, v, self.lo, self.hi))
        return v

    def step(self, s):
        if not _NUM.fullmatch(s):
            raise SpecError("%s: step %r is not a number" % (self.name, s))
        v = int(s)
        if v < 1:
            raise SpecError("%s: step 0" % self.name)
        return v

    def base_item(self, item):
        """`*`, `a`, `a-b`, `*/s`, `a-b/s`, `a/s` -> a set of values."""
        if "/" in item:
            base, st = item.split("/", 1)
            s = self.step(st)
        else:
            base, s = item, None
        if base == "*":
            a, b = self.lo, self.hi
        elif "-" in base:
            x, y = base.split("-", 1)
            a, b = self.value(x), self.value(y)
            if a > b:
                raise SpecError("%s: reversed range %r" % (self.name, base))
        else:
            a = self.value(base)
            b = self.hi if s is not None else a
        return set(range(a, b + 1, s or 1))


F_MIN = Field("minute", 0, 59)
F_HOUR = Field("hour", 0, 23)
F_DOM = Field("day of month", 1, 31)
F_MON = Field("month", 1, 12, MONTHS, 1)
F_DOW = Field("day of week", 0, 7, DAYS, 0)


def _items(field, text):
    if text == "":
        raise SpecError("%s: empty" % field.name)
    items = text.split(",")
    if any(i == "" for i in items):
        raise SpecError("%s: empty item in %r" % (field.name, text))
    return items


def _simple_field(field, text):
    vals = set()
    for it in _items(field, text):
        vals |= field.base_item(it)
    return vals


class Cron:
    def __init__(self, expr):
        self.expr = expr
        if expr.startswith("@"):
            if expr not in MACROS:
                raise SpecError("schedule: unknown macro %r" % expr)
            expr = MACROS[expr]
        fields = expr.split()
        if len(fields) != 5 or expr != expr.strip():
            raise SpecError("schedule: expected 5 fields, got %d" % len(fields))
        fmin, fhour, fdom, fmon, fdow = fields
        self.minutes = sorted(_simple_field(F_MIN, fmin))
        self.hours = sorted(_simple_field(F_HOUR, fhour))
        self.hour_star = fhour == "*"
        self.months = _simple_field(F_MON, fmon)
        self._parse_dom(fdom)
        self._parse_dow(fdow)
        self.dom_restricted = fdom not in ("*", "?")
        self.dow_restricted = fdow not in ("*", "?")
        self.key = (fdom, tuple(sorted(self.months)), fdow)
        if not _can_fire(self):
            raise SpecError("schedule: %r can never fire" % self.expr)

    def _parse_dom(self, text):
        self.dom_vals, self.dom_last, self.dom_w, self.dom_lw = set(), set(), set(), False
        if text == "?":
            self.dom_vals = set(range(1, 32))
            return
        for it in _items(F_DOM, text):
            mt = re.fullmatch(r"L(?:-([0-9]+))?", it)
            if mt:
                n = int(mt.group(1)) if mt.group(1) is not None else 0
                if n > 30:
                    raise SpecError("day of month: %r out of range" % it)
                self.dom_last.add(n)
            elif it == "LW":
                self.dom_lw = True
            elif re.fullmatch(r"[0-9]+W", it):
                self.dom_w.add(F_DOM.value(it[:-1]))
            else:
                self.dom_vals |= F_DOM.base_item(it)

    def _parse_dow(self, text):
        self.dow_vals, self.dow_last, self.dow_nth = set(), set(), set()
        if text == "?":
            self.dow_vals = set(range(7))
            return
        for it in _items(F_DOW, text):
            if it.endswith("L") and len(it) > 1 and it.upper() != "L":
                self.dow_last.add(F_DOW.value(it[:-1]) % 7)
            elif "#" in it:
                d, k = it.split("#", 1)
                if not re.fullmatch(r"[1-5]", k):
                    raise SpecError("day of week: %r: k must be 1-5" % it)
                self.dow_nth.add((F_DOW.value(d) % 7, int(k)))
            else:
                self.dow_vals |= {v % 7 for v in F_DOW.base_item(it)}

    # -- day matching

    def dom_match(self, y, m, d):
        if d in self.dom_vals:
            return True
        last = month_len(y, m)
        if (last - d) in self.dom_last:
            return True
        first_wd = weekday(days_from_civil(y, m, 1))
        wd = lambda day: (first_wd + day - 1) % 7
        for n in self.dom_w:
            if n > last:
                continue          # day n does not exist this month: no match
            t = n
            if wd(n) == 6:        # Saturday -> Friday, or Monday the 3rd
                t = n - 1 if n > 1 else n + 2
            elif wd(n) == 0:      # Sunday -> Monday, or Friday before the last
                t = n + 1 if n < last else n - 2
            if t == d:
                return True
        if self.dom_lw:
            t = last
            if wd(last) == 6:
                t = last - 1
            elif wd(last) == 0:
                t = last - 2
            if t == d:
                return True
        return False

    def dow_match(self, y, m, d):
        wd = weekday(days_from_civil(y, m, d))
        if wd in self.dow_vals:
            return True
        if wd in self.dow_last and d + 7 > month_len(y, m):
            return True
        if (wd, (d - 1) // 7 + 1) in self.dow_nth:
            return True
        return False

    def day_match(self, y, m, d):
        if m not in self.months:
            return False
        if self.dom_restricted and self.dow_restricted:
            return self.dom_match(y, m, d) or self.dow_match(y, m, d)
        if self.dom_restricted:
            return self.dom_match(y, m, d)
        if self.dow_restricted:
            return self.dow_match(y, m, d)
        return True

    # -- evaluation

    def instants_on(self, zone, day):
        """Every instant the schedule fires at for local date `day`."""
        base = day * DAY
        offs = zone.offsets_in(base - WIN, base + DAY + WIN)
        if len(offs) == 1:             # no offset change near: one-to-one
            o = next(iter(offs))
            return [base + h * HOUR + mi * MIN - o
                    for h in self.hours for mi in self.minutes]
        out = []
        for h in self.hours:
            for mi in self.minutes:
                w = base + h * HOUR + mi * MIN
                if self.hour_star:     # follow the clock: 0, 1 or 2 instants
                    out.extend(zone.instants_of_wall(w, offs))
                else:                  # a fixed wall time: the one rule
                    out.append(zone.resolve(w, offs))
        return out

    def occurrences_after(self, zone, after, n):
        found = set()
        kth = None                     # the n-th smallest found so far
        start_day = zone.wall(after) // DAY - 2
        y, m, d = civil_from_days(start_day)
        last_day = days_from_civil(10000, 1, 1)
        while True:
            if y > 9999:
                res = sorted(found)[:n]
                return res, len(res) < n or any(t > MS_MAX for t in res)
            if m not in self.months:
                m += 1
                if m > 12:
                    y, m = y + 1, 1
                d = 1
                continue
            day = days_from_civil(y, m, d)
            # instants of this day and later ones are >= day*DAY - WIN
            if kth is not None and kth < day * DAY - WIN:
                break
            if day < last_day and self.day_match(y, m, d):
                new = [t for t in self.instants_on(zone, day) if t > after]
                if new:
                    found.update(new)
                    if len(found) >= n:
                        kth = sorted(found)[n - 1]
            d += 1
            if d > month_len(y, m):
                d, m = 1, m + 1
                if m > 12:
                    y, m = y + 1, 1
        res = sorted(found)[:n]
        return res, any(t > MS_MAX for t in res)


_FIRE_CACHE = {}


def _can_fire(c):
    """Does any date match?  The Gregorian calendar (weekdays included)
    repeats every 400 years, so one cycle decides."""
    if c.key in _FIRE_CACHE:
        return _FIRE_CACHE[c.key]
    ok = False
    for y in range(2000, 2400):
        for m in sorted(c.months):
            if any(c.day_match(y, m, d) for d in range(1, month_len(y, m) + 1)):
                ok = True
                break
        if ok:
            break
    _FIRE_CACHE[c.key] = ok
    return ok


# ---------------------------------------------------------------- requests

def parse_expr(expr):
    if not isinstance(expr, str):
        raise SpecError("expr: not a string")
    if expr.startswith("R"):
        return Iso(expr)
    if expr == "":
        raise SpecError("schedule: empty")
    return Cron(expr)


def next_after(expr, tz=None, after=None, count=DEFAULT_COUNT):
    """(instants, truncated) or raises SpecError."""
    sched = parse_expr(expr)
    if isinstance(sched, Iso):
        zone = sched.zone_for(tz)
    else:
        zone = load_zone(tz) if tz is not None else UTC
    if after is None:
        after = int(time.time() * 1000)
    return sched.occurrences_after(zone, after, count)


def answer(req):
    """One --json-lines request (a dict) -> the oracle's answer (a dict)."""
    try:
        if not isinstance(req, dict):
            raise SpecError("request: not a JSON object")
        if "expr" not in req:
            raise SpecError("request: no expr")
        tz = req.get("tz")
        if "tz" in req and not isinstance(tz, str):
            raise SpecError("tz: not a string")
        count = req.get("count", DEFAULT_COUNT)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise SpecError("count: must be a positive integer")
        after = None
        if "from" in req:
            after = parse_instant(req["from"])
        res, truncated = next_after(req["expr"], tz, after, count)
        out = {"next": [fmt_instant(t) for t in res if t <= MS_MAX]}
        if truncated:
            out["truncated"] = True
        if after is None:
            out["now"] = True
        return out
    except SpecError as e:
        return {"error": str(e)}


def answer_line(line):
    try:
        req = json.loads(line)
    except ValueError:
        return {"error": "request: malformed JSON"}
    return answer(req)


def main(argv):
    if len(argv) >= 2 and argv[1] == "eval":
        for line in sys.stdin:
            sys.stdout.write(json.dumps(answer_line(line.rstrip("\n"))) + "\n")
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
