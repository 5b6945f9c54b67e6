#!/usr/bin/python3
"""Checks TaskInfo JSON lines against the Debian mesos.proto (Mesos ~1.5).

Usage:
  rm -f /tmp/tasks.jsonl
  CHR_TASKINFO_DUMP=/tmp/tasks.jsonl build/test/unit/offers/mesos/test_task
  /usr/bin/python3 tests/unit/offers/mesos/validate_taskinfo.py /tmp/tasks.jsonl

Needs protobuf-compiler, python3-protobuf, libprotobuf-dev and
golang-github-mesos-mesos-go-dev (apt-get).  Each line must parse with
json_format (unknown keys, bad enum names and types are errors), use only
exact proto field names and string enum names (json_format alone accepts
camelCase and numbers), and have every required field.
"""
import json
import os
import subprocess
import sys
import tempfile

from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
from google.protobuf.descriptor import FieldDescriptor as F

G = "/usr/share/gocode/src"
PROTO = "github.com/mesos/mesos-go/api/v1/lib/mesos.proto"


def load_type(name):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "mesos.desc")
        subprocess.run(["protoc", "-I" + G, "--include_imports",
                        "--descriptor_set_out=" + out, os.path.join(G, PROTO)], check=True)
        fds = descriptor_pb2.FileDescriptorSet()
        with open(out, "rb") as f:
            fds.ParseFromString(f.read())
    pool = descriptor_pool.DescriptorPool()
    for fd in fds.file:
        pool.Add(fd)
    return message_factory.MessageFactory(pool).GetPrototype(pool.FindMessageTypeByName(name))


def walk(value, desc, path, errors):
    if not isinstance(value, dict):
        errors.append("%s: not an object" % path)
        return
    for key, v in value.items():
        field = desc.fields_by_name.get(key)
        if field is None:
            errors.append("%s.%s: no such field in %s" % (path, key, desc.full_name))
            continue
        items = v if field.label == F.LABEL_REPEATED else [v]
        if field.label == F.LABEL_REPEATED and not isinstance(v, list):
            errors.append("%s.%s: repeated field is not an array" % (path, key))
            continue
        for i, item in enumerate(items):
            p = "%s.%s[%d]" % (path, key, i) if field.label == F.LABEL_REPEATED else path + "." + key
            if field.type == F.TYPE_ENUM and not isinstance(item, str):
                errors.append("%s: enum is not a name string" % p)
            if field.type == F.TYPE_MESSAGE:
                walk(item, field.message_type, p, errors)


def main():
    cls = load_type("mesos.TaskInfo")
    bad = 0
    with open(sys.argv[1]) as f:
        lines = [l for l in f if l.strip()]
    for n, line in enumerate(lines, 1):
        errors = []
        walk(json.loads(line), cls.DESCRIPTOR, "task", errors)
        msg = cls()
        try:
            json_format.Parse(line, msg, ignore_unknown_fields=False)
        except json_format.ParseError as e:
            errors.append(str(e))
        errors += ["missing required " + e for e in msg.FindInitializationErrors()]
        if not msg.HasField("command"):
            errors.append("no command")
        for e in errors:
            print("task %d: %s" % (n, e))
        bad += bool(errors)
    print("%d tasks, %d invalid" % (len(lines), bad))
    sys.exit(1 if bad or not lines else 0)


if __name__ == "__main__":
    main()
