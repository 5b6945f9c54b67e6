"""protojson.py - strict validation of Mesos v1 JSON against the Debian protos.

The ground truth is golang-github-mesos-mesos-go-dev's mesos.proto and
scheduler/scheduler.proto (Mesos ~1.5, proto packages `mesos` and
`mesos.scheduler`).  compile_descriptors() runs protoc on them into a
descriptor set (never committed: built at startup into a directory the caller
owns); Schema loads it with python3-protobuf (Debian's, so run under
/usr/bin/python3).

Schema.check(type_name, value) walks raw JSON against the descriptor the way
stout (Mesos's JSON reader) does, and more strictly:
  - `soft`: what real Mesos silently accepts but chronos must not send
    (unknown or camelCase keys, which Mesos drops; null; numbers as strings;
    an unknown enum name in an optional field, which Mesos drops);
  - `hard`: what real Mesos answers with 400 (integer enums, bad base64,
    a scalar where an array or object belongs, missing required fields).
It also returns `mesos_view`, the JSON as the real master would read it
(soft problems dropped), and the parsed protobuf message.

It must never accept what the protos reject, and never need the network.
"""
import base64
import binascii
import math
import os
import re
import subprocess

from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
from google.protobuf.descriptor import FieldDescriptor as FD

GOCODE = os.environ.get("MESOS_GOCODE", "/usr/share/gocode/src")
SCHED_PROTO = "github.com/mesos/mesos-go/api/v1/lib/scheduler/scheduler.proto"

INT_TYPES = {FD.TYPE_INT32, FD.TYPE_INT64, FD.TYPE_UINT32, FD.TYPE_UINT64, FD.TYPE_SINT32,
             FD.TYPE_SINT64, FD.TYPE_FIXED32, FD.TYPE_FIXED64, FD.TYPE_SFIXED32, FD.TYPE_SFIXED64}
FLOAT_TYPES = {FD.TYPE_DOUBLE, FD.TYPE_FLOAT}
UNSIGNED = {FD.TYPE_UINT32, FD.TYPE_UINT64, FD.TYPE_FIXED32, FD.TYPE_FIXED64}
B64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")
MAX_DEPTH = 32


def compile_descriptors(out_dir):
    """Runs protoc on the installed protos; returns the descriptor set's path."""
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, "mesos-scheduler.desc")
    src = os.path.join(GOCODE, SCHED_PROTO)
    if not os.path.exists(src):
        raise RuntimeError("%s is missing: install golang-github-mesos-mesos-go-dev "
                           "(scripts/deps.sh)" % src)
    subprocess.run(["protoc", "-I" + GOCODE, "--include_imports", "--descriptor_set_out=" + out, src],
                   check=True)
    return out


class Problem(Exception):
    pass


class Schema:
    def __init__(self, desc_path):
        fds = descriptor_pb2.FileDescriptorSet()
        with open(desc_path, "rb") as f:
            fds.ParseFromString(f.read())
        self.pool = descriptor_pool.DescriptorPool()
        for fd in fds.file:
            self.pool.Add(fd)
        self.factory = message_factory.MessageFactory(self.pool)

    def descriptor(self, name):
        return self.pool.FindMessageTypeByName(name)

    def new(self, name):
        return self.factory.GetPrototype(self.descriptor(name))()

    def enum_names(self, full_name):
        return [v.name for v in self.pool.FindEnumTypeByName(full_name).values]

    def check(self, type_name, value):
        """Returns (soft, hard, mesos_view, msg): lists of sentences naming the
        field path, the JSON as Mesos would read it, and the message (None when
        hard is not empty)."""
        soft, hard = [], []
        view = self._walk(self.descriptor(type_name), value, type_name.split(".")[-1], soft, hard, 0)
        msg = None
        if not hard:
            msg = self.new(type_name)
            try:
                json_format.ParseDict(view, msg, ignore_unknown_fields=False)
            except json_format.ParseError as e:
                hard.append(str(e))
                msg = None
        if msg is not None:
            missing = msg.FindInitializationErrors()
            if missing:
                hard.append("Missing required fields: " + ", ".join(missing))
                msg = None
        return soft, hard, view, msg

    def _walk(self, desc, value, path, soft, hard, depth):
        if depth > MAX_DEPTH:
            hard.append("%s: nested too deep" % path)
            return {}
        if not isinstance(value, dict):
            hard.append("%s: expected a JSON object for %s, got %s" % (path, desc.full_name, jtype(value)))
            return {}
        out = {}
        for key, v in value.items():
            field = desc.fields_by_name.get(key)
            p = "%s.%s" % (path, key)
            if field is None:
                camel = [f.name for f in desc.fields if f.json_name == key]
                if camel:
                    soft.append("%s: camelCase key; the proto field is '%s' (Mesos ignores '%s')"
                                % (p, camel[0], key))
                else:
                    soft.append("%s: unknown key for %s (Mesos ignores it)" % (p, desc.full_name))
                continue
            if v is None:
                soft.append("%s: null (leave the key out instead)" % p)
                continue
            if field.label == FD.LABEL_REPEATED:
                if not isinstance(v, list):
                    hard.append("%s: repeated field must be a JSON array, got %s" % (p, jtype(v)))
                    continue
                items = []
                for i, item in enumerate(v):
                    r = self._value(field, item, "%s[%d]" % (p, i), soft, hard, depth)
                    if r is not _DROP:
                        items.append(r)
                out[key] = items
            else:
                r = self._value(field, v, p, soft, hard, depth)
                if r is not _DROP:
                    out[key] = r
        return out

    def _value(self, field, v, p, soft, hard, depth):
        t = field.type
        if t in (FD.TYPE_MESSAGE, FD.TYPE_GROUP):
            return self._walk(field.message_type, v, p, soft, hard, depth + 1)
        if v is None:
            soft.append("%s: null (leave it out instead)" % p)
            return _DROP
        if t == FD.TYPE_ENUM:
            names = [x.name for x in field.enum_type.values]
            if isinstance(v, bool) or not isinstance(v, str):
                hard.append("%s: enum %s must be a name string, got %s" % (p, field.enum_type.full_name,
                                                                             json_repr(v)))
                return _DROP
            if v not in names:
                if field.label == FD.LABEL_REQUIRED:
                    hard.append("%s: unknown %s name '%s'" % (p, field.enum_type.full_name, v))
                else:
                    soft.append("%s: unknown %s name '%s' (Mesos drops it)" % (p, field.enum_type.full_name, v))
                return _DROP
            return v
        if t == FD.TYPE_STRING:
            if not isinstance(v, str):
                hard.append("%s: expected a string, got %s" % (p, jtype(v)))
                return _DROP
            return v
        if t == FD.TYPE_BYTES:
            if not isinstance(v, str) or not B64.match(v) or len(v) % 4 != 0:
                hard.append("%s: bytes must be standard base64, got %s" % (p, json_repr(v)))
                return _DROP
            try:
                base64.b64decode(v, validate=True)
            except (binascii.Error, ValueError):
                hard.append("%s: bytes must be standard base64, got %s" % (p, json_repr(v)))
                return _DROP
            return v
        if t == FD.TYPE_BOOL:
            if not isinstance(v, bool):
                hard.append("%s: expected true or false, got %s" % (p, json_repr(v)))
                return _DROP
            return v
        return self._number(t, v, p, soft, hard)

    def _number(self, t, v, p, soft, hard):
        if isinstance(v, bool):
            hard.append("%s: expected a number, got %s" % (p, json_repr(v)))
            return _DROP
        if isinstance(v, str):
            try:
                num = int(v) if t in INT_TYPES else float(v)
            except ValueError:
                hard.append("%s: expected a number, got %s" % (p, json_repr(v)))
                return _DROP
            soft.append("%s: number sent as a string %s (send a JSON number)" % (p, json_repr(v)))
            v = num
        if not isinstance(v, (int, float)):
            hard.append("%s: expected a number, got %s" % (p, jtype(v)))
            return _DROP
        if t in INT_TYPES:
            if isinstance(v, float):
                if not math.isfinite(v) or v != int(v):
                    hard.append("%s: expected an integer, got %s" % (p, v))
                    return _DROP
                soft.append("%s: integer written as %s" % (p, v))
                v = int(v)
            if t in UNSIGNED and v < 0:
                hard.append("%s: negative value %d for an unsigned field" % (p, v))
                return _DROP
            return v
        if not math.isfinite(v):
            soft.append("%s: non-finite number" % p)
        return v


_DROP = object()


def jtype(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "an array"
    return "an object"


def json_repr(v):
    s = repr(v)
    return s if len(s) <= 60 else s[:57] + "..."
