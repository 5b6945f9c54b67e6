"""resources.py - Mesos resource arithmetic for the master double.

A Res maps a key (name, type, role, reservations, allocation role) to a
value: a float for SCALAR, a sorted list of [begin, end] for RANGES, a
frozenset for SET.  Enough to offer an agent's free resources, to check that
a task's resources are contained in its offers, and to give back the rest.
Scalars compare with Mesos's fixed-point precision (3 decimals).

It must never guess: a resource it cannot read is an error with a sentence.
"""
import json

EPS = 0.0005


def _key(r, alloc_role):
    res = r.get("reservations") or ([r["reservation"]] if "reservation" in r else [])
    return (r["name"], r["type"], r.get("role", "*"), json.dumps(res, sort_keys=True), alloc_role)


def _merge(ranges):
    out = []
    for b, e in sorted(ranges):
        if out and b <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([b, e])
    return out


def _ranges_sub(have, take):
    out = [list(x) for x in have]
    for b, e in take:
        nxt = []
        for hb, he in out:
            if e < hb or b > he:
                nxt.append([hb, he])
                continue
            if hb < b:
                nxt.append([hb, b - 1])
            if he > e:
                nxt.append([e + 1, he])
        out = nxt
    return _merge(out)


def _ranges_contain(have, take):
    for b, e in take:
        if not any(hb <= b and e <= he for hb, he in have):
            return False
    return True


class Res:
    def __init__(self, items=None):
        self.items = dict(items or {})

    @staticmethod
    def parse(lst, alloc_role=None, use_alloc_info=False):
        """Resources from a list of Resource JSON objects; raises ValueError
        with a sentence on a resource the double cannot read."""
        out = Res()
        for r in lst:
            role = alloc_role
            if use_alloc_info:
                role = (r.get("allocation_info") or {}).get("role")
            k = _key(r, role)
            t = r["type"]
            if t == "SCALAR":
                if "scalar" not in r or r["scalar"]["value"] < 0:
                    raise ValueError("invalid scalar resource '%s'" % r["name"])
                out._add(k, float(r["scalar"]["value"]))
            elif t == "RANGES":
                rs = [[x["begin"], x["end"]] for x in (r.get("ranges") or {}).get("range", [])]
                if any(b > e for b, e in rs):
                    raise ValueError("invalid range in resource '%s'" % r["name"])
                out._add(k, _merge(rs))
            elif t == "SET":
                out._add(k, frozenset((r.get("set") or {}).get("item", [])))
            else:
                raise ValueError("resource '%s' has type %s, which is not a resource type" % (r["name"], t))
        return out

    def _add(self, k, v):
        if k not in self.items:
            self.items[k] = v
        elif k[1] == "SCALAR":
            self.items[k] += v
        elif k[1] == "RANGES":
            self.items[k] = _merge(self.items[k] + v)
        else:
            self.items[k] = self.items[k] | v

    def copy(self):
        return Res({k: (list(map(list, v)) if k[1] == "RANGES" else v) for k, v in self.items.items()})

    def add(self, other):
        out = self.copy()
        for k, v in other.items.items():
            out._add(k, v)
        return out

    def sub(self, other):
        out = self.copy()
        for k, v in other.items.items():
            if k not in out.items:
                continue
            if k[1] == "SCALAR":
                out.items[k] = out.items[k] - v
                if out.items[k] <= EPS:
                    del out.items[k]
            elif k[1] == "RANGES":
                out.items[k] = _ranges_sub(out.items[k], v)
                if not out.items[k]:
                    del out.items[k]
            else:
                out.items[k] = out.items[k] - v
                if not out.items[k]:
                    del out.items[k]
        return out

    def contains(self, other):
        for k, v in other.items.items():
            have = self.items.get(k)
            if have is None:
                if k[1] == "SCALAR" and v <= EPS:
                    continue
                return False
            if k[1] == "SCALAR":
                if v > have + EPS:
                    return False
            elif k[1] == "RANGES":
                if not _ranges_contain(have, v):
                    return False
            elif not v <= have:
                return False
        return True

    def filter_roles(self, roles):
        return Res({k: v for k, v in self.items.items() if k[2] in roles})

    def with_alloc(self, alloc_role):
        return Res({k[:4] + (alloc_role,): v for k, v in self.items.items()})

    def scalar(self, name):
        return sum(v for k, v in self.items.items() if k[0] == name and k[1] == "SCALAR")

    def empty(self):
        return not self.items

    def to_list(self, with_alloc=False):
        out = []
        for k in sorted(self.items, key=lambda k: (k[0], k[2], k[3], k[4] or "")):
            name, typ, role, res, alloc = k
            v = self.items[k]
            d = {"name": name, "type": typ, "role": role}
            if typ == "SCALAR":
                d["scalar"] = {"value": round(v, 3)}
            elif typ == "RANGES":
                d["ranges"] = {"range": [{"begin": b, "end": e} for b, e in v]}
            else:
                d["set"] = {"item": sorted(v)}
            rl = json.loads(res)
            if rl:
                d["reservations"] = rl
            if with_alloc and alloc is not None:
                d["allocation_info"] = {"role": alloc}
            out.append(d)
        return out

    def __str__(self):
        parts = []
        for k in sorted(self.items, key=str):
            v = self.items[k]
            if k[1] == "SCALAR":
                s = "%g" % v
            elif k[1] == "RANGES":
                s = "[" + ",".join("%d-%d" % (b, e) for b, e in v) + "]"
            else:
                s = "{" + ",".join(sorted(v)) + "}"
            parts.append("%s(%s%s):%s" % (k[0], k[2], "" if k[4] is None else "," + k[4], s))
        return "; ".join(parts) or "nothing"
