#!/usr/bin/env python3
"""Generate lib/commands/command_specs.json from Redis 7.0 command JSON files.

Usage: gen_command_specs.py <redis-src/commands directory> [output file]

Redis describes every command (and every subcommand of a container such as
CONFIG) in one JSON file. This script folds them into the compact array the
server embeds: one top-level command per line, sorted by name, subcommands
nested under their container, keeping only what COMMAND INFO / DOCS / LIST /
COUNT / GETKEYS serve. Values are stored ready to be sent: names, flags, ACL
categories, tips and doc flags in lower case, argument names in lower case and
their tokens in upper case, the group with Redis's reply spelling
("sorted-set"). Key-spec flags keep their JSON spelling (RO, ACCESS, ...);
the server maps them to the reply names.

Commands that exist only in Sentinel mode (ONLY_SENTINEL) are dropped: a
plain Redis server does not register them.

Implicit ACL categories (@write, @read, @slow, ...), the legacy key range and
the movablekeys flag are NOT computed here: the server derives them at load
time, the way Redis does at startup.
"""

import json
import os
import sys

# Group names as Redis replies them (COMMAND_GROUP_STR).
GROUP_NAMES = {"sorted_set": "sorted-set"}


def convert_begin_search(bs):
    if "index" in bs:
        return {"type": "index", "index": bs["index"]["pos"]}
    if "keyword" in bs:
        kw = bs["keyword"]
        return {"type": "keyword", "keyword": kw["keyword"], "startfrom": kw["startfrom"]}
    if "unknown" in bs:
        return {"type": "unknown"}
    raise ValueError("unsupported begin_search: %r" % (bs,))


def convert_find_keys(fk):
    if "range" in fk:
        r = fk["range"]
        return {"type": "range", "lastkey": r["lastkey"], "keystep": r["step"], "limit": r["limit"]}
    if "keynum" in fk:
        k = fk["keynum"]
        return {"type": "keynum", "keynumidx": k["keynumidx"], "firstkey": k["firstkey"],
                "keystep": k["step"]}
    if "unknown" in fk:
        return {"type": "unknown"}
    raise ValueError("unsupported find_keys: %r" % (fk,))


def convert_key_spec(spec):
    out = {}
    if "notes" in spec:
        out["notes"] = spec["notes"]
    out["flags"] = list(spec.get("flags", []))
    out["begin_search"] = convert_begin_search(spec["begin_search"])
    out["find_keys"] = convert_find_keys(spec["find_keys"])
    return out


# Argument fields copied as they are, in this order.
ARG_FIELDS = ("name", "type", "key_spec_index", "token", "summary", "since",
              "deprecated_since", "display_text", "value")
ARG_BOOL_FIELDS = ("optional", "multiple", "multiple_token")


def convert_argument(arg):
    out = {}
    for field in ARG_FIELDS:
        if field in arg:
            out[field] = arg[field]
    # Redis's generator lower-cases argument names and upper-cases tokens
    # (COMMAND DOCS shows "bcast" / "KM" where the JSON says "BCAST" / "km").
    out["name"] = out["name"].lower()
    if "token" in out:
        out["token"] = out["token"].upper()
        # MIGRATE's empty-string token is spelled '""' in the JSON; Redis pastes
        # it into C source, where it becomes an empty (but present) token.
        if out["token"] == '""':
            out["token"] = ""
    for field in ARG_BOOL_FIELDS:
        if arg.get(field):
            out[field] = True
    if "arguments" in arg:
        out["arguments"] = [convert_argument(a) for a in arg["arguments"]]
    return out


def convert_command(name, spec):
    out = {"name": name.lower(), "arity": spec["arity"]}
    flags = [f.lower() for f in spec.get("command_flags", [])]
    if flags:
        out["command_flags"] = flags
    acl = [c.lower() for c in spec.get("acl_categories", [])]
    if acl:
        out["acl_categories"] = acl
    if spec.get("key_specs"):
        out["key_specs"] = [convert_key_spec(k) for k in spec["key_specs"]]
    if "get_keys_function" in spec:
        out["get_keys_function"] = True
    if spec.get("command_tips"):
        out["command_tips"] = [t.lower() for t in spec["command_tips"]]
    out["group"] = GROUP_NAMES.get(spec["group"], spec["group"])
    for field in ("since", "complexity", "summary"):
        if field in spec:
            out[field] = spec[field]
    if spec.get("doc_flags"):
        out["doc_flags"] = [f.lower() for f in spec["doc_flags"]]
    for field in ("deprecated_since", "replaced_by"):
        if field in spec:
            out[field] = spec[field]
    # Redis treats an empty list like a missing one (no "history" or
    # "arguments" field in COMMAND DOCS).
    if spec.get("history"):
        out["history"] = [[since, text] for since, text in spec["history"]]
    if spec.get("arguments"):
        out["arguments"] = [convert_argument(a) for a in spec["arguments"]]
    return out


# Commands newer than Redis 7.0 that Shrike implements on purpose (listed in
# the README): redis-py 5 sends CLIENT SETINFO on every connection.
EXTENSIONS = {
    "client": [{"name": "client|setinfo", "arity": 4,
                "command_flags": ["noscript", "loading", "stale", "sentinel"],
                "acl_categories": ["connection"],
                "command_tips": ["request_policy:all_nodes", "response_policy:all_succeeded"],
                "group": "connection", "since": "7.2.0", "complexity": "O(1)",
                "summary": "Sets information specific to the client or connection.",
                "arguments": [{"name": "attr", "type": "oneof", "arguments": [
                    {"name": "libname", "type": "string", "token": "LIB-NAME"},
                    {"name": "libver", "type": "string", "token": "LIB-VER"}]}]}],
}


def load(directory):
    top = {}
    subs = {}
    for file_name in sorted(os.listdir(directory)):
        if not file_name.endswith(".json"):
            continue
        with open(os.path.join(directory, file_name), encoding="utf-8") as f:
            doc = json.load(f)
        for name, spec in doc.items():
            if "ONLY_SENTINEL" in spec.get("command_flags", []):
                continue
            cmd = convert_command(name, spec)
            container = spec.get("container")
            if container:
                cmd["name"] = container.lower() + "|" + cmd["name"]
                subs.setdefault(container.lower(), []).append(cmd)
            else:
                if cmd["name"] in top:
                    raise ValueError("duplicate command " + cmd["name"])
                top[cmd["name"]] = cmd
    for container, extra in EXTENSIONS.items():
        subs.setdefault(container, []).extend(extra)
    for container, children in subs.items():
        if container not in top:
            raise ValueError("subcommands of unknown container " + container)
        top[container]["subcommands"] = sorted(children, key=lambda c: c["name"])
    return [top[name] for name in sorted(top)]


def main():
    if len(sys.argv) not in (2, 3):
        sys.stderr.write(__doc__)
        return 2
    commands = load(sys.argv[1])
    out_path = sys.argv[2] if len(sys.argv) == 3 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "lib", "commands", "command_specs.json")
    lines = [json.dumps(c, separators=(",", ":"), ensure_ascii=False) for c in commands]
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("[\n" + ",\n".join(lines) + "\n]\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
