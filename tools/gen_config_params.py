#!/usr/bin/env python3
"""Generate lib/server/config_params.json from Redis 7.0's src/config.c.

Reads the `static_configs[]` table (and the configEnum tables it refers to) of
a Redis source tree and writes one JSON object per parameter, one per line:

  name, alias     the parameter's names (alias is null when there is none)
  type            bool | int | uint | long | ulong | long long | ull | size_t |
                  ssize_t | time_t | off_t | string | sds | enum | special
  format          numeric params only: integer | memory | memory-percent | octal
  modifiable      false for IMMUTABLE_CONFIG (settable only at startup)
  flags           the other config flags, lower case: debug, hidden, sensitive,
                  protected, deny_loading, multi_arg, volatile
  min, max        numeric bounds (as Redis checks them)
  enum            [[name, value], ...] for enums; equal values are synonyms
  empty_is_null   string/sds params: "" is stored as "no value" (shown as "")
  validator       the name of Redis's extra check (isValidXxx), if any
  tls             true for the parameters of a TLS build (USE_OPENSSL)
  default         the value as CONFIG GET shows it on a server started without
                  arguments ("dir" is the working directory: shown as "")

Usage: gen_config_params.py --redis-src DIR [--output FILE] [--check-live HOST:PORT]
--check-live compares the defaults with `CONFIG GET *` of a running Redis 7.0
(started with no arguments but --port/--save/--bind/--dir) and reports the
differences; it never changes the output.
"""
import argparse
import ast
import json
import os
import re
import socket
import sys

NUMERIC_TYPES = {
    "createIntConfig": "int",
    "createUIntConfig": "uint",
    "createLongConfig": "long",
    "createULongConfig": "ulong",
    "createLongLongConfig": "long long",
    "createULongLongConfig": "ull",
    "createSizeTConfig": "size_t",
    "createSSizeTConfig": "ssize_t",
    "createTimeTConfig": "time_t",
    "createOffTConfig": "off_t",
}

LIMITS = {
    "INT_MAX": 2**31 - 1,
    "INT_MIN": -(2**31),
    "UINT_MAX": 2**32 - 1,
    "LONG_MAX": 2**63 - 1,
    "LONG_MIN": -(2**63),
    "LLONG_MAX": 2**63 - 1,
    "LLONG_MIN": -(2**63),
    "ULONG_MAX": 2**64 - 1,
    "ULLONG_MAX": 2**64 - 1,
    "SSIZE_MAX": 2**63 - 1,
}

FLAG_NAMES = {
    "DEBUG_CONFIG": "debug",
    "HIDDEN_CONFIG": "hidden",
    "SENSITIVE_CONFIG": "sensitive",
    "PROTECTED_CONFIG": "protected",
    "DENY_LOADING_CONFIG": "deny_loading",
    "MULTI_ARG_CONFIG": "multi_arg",
    "VOLATILE_CONFIG": "volatile",
}

NUMERIC_FORMATS = {
    frozenset(): "integer",
    frozenset({"MEMORY_CONFIG"}): "memory",
    frozenset({"MEMORY_CONFIG", "PERCENT_CONFIG"}): "memory-percent",
    frozenset({"OCTAL_CONFIG"}): "octal",
}

# Defaults of the SPECIAL_CONFIG parameters, which have no default in the
# table: they come from initServerConfig() (server.c) and server.h.
SPECIAL_DEFAULTS = {
    "dir": "",  # the working directory at startup
    "save": "3600 1 300 100 60 10000",  # appendServerSaveParams() x3
    "client-output-buffer-limit":
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",  # clientBufferLimitsDefaults
    "oom-score-adj-values": "0 200 800",  # configOOMScoreAdjValuesDefaults
    "notify-keyspace-events": "",
    "bind": "* -::*",  # CONFIG_DEFAULT_BINDADDR
    "replicaof": "",
    "latency-tracking-info-percentiles": "50 99 99.9",
}


def fail(msg):
    sys.exit(f"gen_config_params: {msg}")


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def split_top_level(args):
    """Splits a C argument list at the commas outside parentheses and strings."""
    out, depth, cur, in_str, i = [], 0, [], False, 0
    while i < len(args):
        c = args[i]
        if in_str:
            cur.append(c)
            if c == "\\":
                cur.append(args[i + 1])
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
            cur.append(c)
        elif c in "([{":
            depth += 1
            cur.append(c)
        elif c in ")]}":
            depth -= 1
            cur.append(c)
        elif c == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    if "".join(cur).strip():
        out.append("".join(cur).strip())
    return out


def read_defines(path):
    defines = {}
    for m in re.finditer(r"^#define\s+([A-Z_][A-Z0-9_]*)\s+(.+?)\s*$", strip_comments(open(path).read()), re.M):
        defines[m.group(1)] = m.group(2)
    return defines


def c_eval(expr, defines, depth=0):
    """Evaluates a constant C integer expression (literals, limits, #defines)."""
    if depth > 10:
        raise ValueError(expr)

    def symbol(m):
        name = m.group(0)
        if name in LIMITS:
            return str(LIMITS[name])
        if name in defines:
            return "(" + str(c_eval(defines[name], defines, depth + 1)) + ")"
        raise ValueError(f"unknown symbol {name}")

    e = re.sub(r"\b[A-Za-z_][A-Za-z0-9_]*\b", symbol, expr)
    e = re.sub(r"\b0([0-7]+)\b", r"0o\1", e)  # C octal literal
    e = re.sub(r"\b(0o[0-7]+|\d+)[uUlL]+\b", r"\1", e)  # integer suffixes

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            a, b = ev(node.left), ev(node.right)
            ops = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
                   ast.LShift: lambda: a << b, ast.BitOr: lambda: a | b}
            for t, f in ops.items():
                if isinstance(node.op, t):
                    return f()
        raise ValueError(f"unsupported expression {expr!r}")

    return ev(ast.parse(e, mode="eval"))


def c_string(token, defines):
    token = token.strip()
    if token == "NULL":
        return None
    if token in defines:
        token = defines[token].strip()
    if not (token.startswith('"') and token.endswith('"')):
        fail(f"not a string literal: {token}")
    return ast.literal_eval(token)


def parse_enums(text, defines):
    enums = {}
    for m in re.finditer(r"configEnum\s+(\w+)\[\]\s*=\s*\{(.*?)\n\};", text, re.S):
        entries = re.findall(r'\{\s*"([^"]+)"\s*,\s*([^}]+?)\s*\}', m.group(2))
        try:  # the real values when server.h defines them all (needed for bit flags)
            values = [c_eval(sym, defines) for _, sym in entries]
        except ValueError:  # otherwise one number per distinct symbol
            order = []
            for _, sym in entries:
                if sym not in order:
                    order.append(sym)
            values = [order.index(sym) for _, sym in entries]
        enums[m.group(1)] = [(name, val, sym) for (name, sym), val in zip(entries, values)]
    return enums


def flags_of(expr):
    return {f.strip() for f in expr.split("|")}


def parse_configs(src_dir):
    config_c = strip_comments(open(os.path.join(src_dir, "config.c")).read())
    # Keep the USE_OPENSSL markers: strip_comments leaves preprocessor lines.
    defines = read_defines(os.path.join(src_dir, "server.h"))
    enums = parse_enums(config_c, defines)

    start = config_c.index("standardConfig static_configs[] = {")
    end = config_c.index("{NULL}", start)
    body = config_c[start:end]

    params = []
    tls = False
    pos = 0
    call_re = re.compile(r"#ifdef\s+USE_OPENSSL|#endif|(create\w+Config)\s*\(")
    while True:
        m = call_re.search(body, pos)
        if not m:
            break
        if m.group(0).startswith("#ifdef"):
            tls, pos = True, m.end()
            continue
        if m.group(0).startswith("#endif"):
            tls, pos = False, m.end()
            continue
        macro = m.group(1)
        depth, i = 1, m.end()
        while depth:
            depth += {"(": 1, ")": -1}.get(body[i], 0)
            i += 1
        args = split_top_level(body[m.end():i - 1])
        pos = i
        params.append(make_param(macro, args, enums, defines, tls))
    return params


def make_param(macro, args, enums, defines, tls):
    name = c_string(args[0], defines)
    alias = c_string(args[1], defines)
    flags = flags_of(args[2])
    p = {"name": name, "alias": alias}
    extra = sorted(FLAG_NAMES[f] for f in flags if f in FLAG_NAMES)
    unknown = flags - set(FLAG_NAMES) - {"IMMUTABLE_CONFIG", "MODIFIABLE_CONFIG"}
    if unknown:
        fail(f"{name}: unknown flags {unknown}")

    def validator(tok):
        return None if tok.strip() == "NULL" else tok.strip()

    if macro == "createBoolConfig":
        # name, alias, flags, addr, default, is_valid, apply
        p["type"] = "bool"
        p["default"] = "yes" if c_eval(args[4], defines) else "no"
        v = validator(args[5])
    elif macro in ("createStringConfig", "createSDSConfig"):
        # name, alias, flags, empty_to_null, addr, default, is_valid, apply
        p["type"] = "string" if macro == "createStringConfig" else "sds"
        p["empty_is_null"] = args[3].strip() == "EMPTY_STRING_IS_NULL"
        d = c_string(args[5], defines)
        p["default"] = d if d is not None else ""
        v = validator(args[6])
    elif macro == "createEnumConfig":
        # name, alias, flags, enum, addr, default, is_valid, apply
        table = enums[args[3].strip()]
        p["type"] = "enum"
        p["enum"] = [[n, val] for n, val, _ in table]
        dsym = args[5].strip()
        match = [n for n, _, sym in table if sym == dsym]
        if not match:
            fail(f"{name}: default {dsym} is not in {args[3]}")
        p["default"] = match[0]
        v = validator(args[6])
    elif macro in NUMERIC_TYPES:
        # name, alias, flags, lower, upper, addr, default, num_flags, is_valid, apply
        p["type"] = NUMERIC_TYPES[macro]
        nflags = frozenset(f for f in flags_of(args[7]) if f != "INTEGER_CONFIG")
        if nflags not in NUMERIC_FORMATS:
            fail(f"{name}: unknown numeric flags {set(nflags)}")
        p["format"] = NUMERIC_FORMATS[nflags]
        p["min"] = c_eval(args[3], defines)
        p["max"] = c_eval(args[4], defines)
        d = c_eval(args[6], defines)
        if p["format"] == "octal":
            p["default"] = format(d, "o")
        elif p["format"] == "memory-percent" and d < 0:
            p["default"] = f"{-d}%"
        else:
            p["default"] = str(d)
        v = validator(args[8])
    elif macro == "createSpecialConfig":
        p["type"] = "special"
        if name not in SPECIAL_DEFAULTS:
            fail(f"{name}: special parameter without a known default")
        p["default"] = SPECIAL_DEFAULTS[name]
        v = None
    else:
        fail(f"unknown macro {macro}")

    p["modifiable"] = "IMMUTABLE_CONFIG" not in flags
    if extra:
        p["flags"] = extra
    if v:
        p["validator"] = v
    if tls:
        p["tls"] = True
    # Fixed key order for stable diffs.
    order = ["name", "alias", "type", "format", "modifiable", "flags", "min", "max", "enum",
             "empty_is_null", "validator", "tls", "default"]
    return {k: p[k] for k in order if k in p}


def resp_command(sock, *args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    sock.sendall(out)
    f = sock.makefile("rb")

    def read():
        line = f.readline()[:-2]
        t, rest = line[:1], line[1:]
        if t == b"*":
            return [read() for _ in range(int(rest))]
        if t == b"$":
            n = int(rest)
            return None if n < 0 else f.read(n + 2)[:-2].decode()
        if t == b"-":
            raise RuntimeError(rest.decode())
        return rest.decode()

    return read()


def check_live(params, address):
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port))) as s:
        flat = resp_command(s, "CONFIG", "GET", "*")
        live = dict(zip(flat[0::2], flat[1::2]))
        hidden = [p["name"] for p in params if "hidden" in p.get("flags", [])]
        for name in hidden:
            flat = resp_command(s, "CONFIG", "GET", name)
            live.update(zip(flat[0::2], flat[1::2]))
    ours = {}
    for p in params:
        ours[p["name"]] = p["default"]
        if p["alias"]:
            ours[p["alias"]] = p["default"]
    startup = {"port", "dir", "save", "bind"}  # depend on the arguments redis-server got
    diffs = 0
    for name in sorted(set(live) | set(ours)):
        if name in startup:
            continue
        if live.get(name) != ours.get(name):
            diffs += 1
            print(f"  {name}: live={live.get(name)!r} generated={ours.get(name)!r}")
    print(f"check-live: {len(live)} live names, {len(ours)} generated names, {diffs} differences"
          f" (ignoring {', '.join(sorted(startup))})")
    return diffs == 0


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--redis-src", default=os.environ.get("REDIS_SRC"),
                    help="Redis 7.0.15 src/ directory (default: $REDIS_SRC)")
    ap.add_argument("--output", default=os.path.normpath(os.path.join(here, "..", "lib", "server", "config_params.json")))
    ap.add_argument("--check-live", metavar="HOST:PORT")
    opts = ap.parse_args()
    if not opts.redis_src:
        ap.error("give --redis-src DIR (or set REDIS_SRC) with Redis 7.0's src/ directory")

    params = parse_configs(opts.redis_src)
    names = [p["name"] for p in params] + [p["alias"] for p in params if p["alias"]]
    if len(names) != len(set(names)):
        fail("duplicate parameter names")
    with open(opts.output, "w") as out:
        out.write("[\n")
        out.write(",\n".join(json.dumps(p, separators=(",", ":")) for p in params))
        out.write("\n]\n")
    print(f"wrote {len(params)} parameters ({len(names) - len(params)} aliases) to {opts.output}")
    if opts.check_live and not check_live(params, opts.check_live):
        sys.exit(1)


if __name__ == "__main__":
    main()
