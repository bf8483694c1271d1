#!/usr/bin/python3
"""Run redis-py's own test suite against the reference redis-server and
against shrike-server, and list the tests that pass on redis but fail on ours.

Run with Debian's interpreter (/usr/bin/python3), which has pytest,
pytest-asyncio, pytest-timeout, hiredis and async-timeout from Debian packages.
Standard library only. See README.md in this directory.
"""

import argparse
import collections
import glob
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

START_TIMEOUT = 10.0        # seconds for a server to answer PING
FILE_TIMEOUT = 1800         # seconds for one pytest invocation (one test file)
PYTHON = "/usr/bin/python3"

# Flags given to both servers, after --port/--bind. The last two are what
# redis-py's own CI gives its server (docker-compose.yml); without them the
# DEBUG/MODULE tests fail on Redis 7.0 ("DEBUG command not allowed").
BASE_ARGS = ["--save", "", "--appendonly", "no",
             "--enable-debug-command", "yes", "--enable-module-command", "yes"]

# Test files that are not run (relative to the redis-py checkout), and why.
EXCLUDED = {
    "tests/test_cluster.py": "cluster mode",
    "tests/test_asyncio/test_cluster.py": "cluster mode",
    "tests/test_sentinel.py": "sentinel (client-side mocks only)",
    "tests/test_asyncio/test_sentinel.py": "sentinel (client-side mocks only)",
    "tests/test_asyncio/test_sentinel_managed_connection.py":
        "sentinel (client-side mocks only)",
    "tests/test_ssl.py": "TLS (needs stunnel on :6666 and its certificates)",
    "tests/test_bloom.py": "RedisBloom module",
    "tests/test_asyncio/test_bloom.py": "RedisBloom module",
    "tests/test_json.py": "RedisJSON module",
    "tests/test_asyncio/test_json.py": "RedisJSON module",
    "tests/test_search.py": "RediSearch module",
    "tests/test_asyncio/test_search.py": "RediSearch module",
    "tests/test_graph.py": "RedisGraph module",
    "tests/test_asyncio/test_graph.py": "RedisGraph module",
    "tests/test_graph_utils": "RedisGraph module (client-side only)",
    "tests/test_timeseries.py": "RedisTimeSeries module",
    "tests/test_asyncio/test_timeseries.py": "RedisTimeSeries module",
}

# Markers deselected in the remaining files: cluster-only tests, module tests,
# TLS tests, and the two 'replica' tests (need a replica on localhost:6380).
MARKERS = "not onlycluster and not redismod and not ssl and not replica"


def default_files(rpy):
    files = sorted(glob.glob(os.path.join(rpy, "tests", "test_*.py")))
    files += sorted(glob.glob(os.path.join(rpy, "tests", "test_asyncio", "test_*.py")))
    files += sorted(glob.glob(os.path.join(rpy, "tests", "test_parsers", "test_*.py")))
    rel = [os.path.relpath(f, rpy) for f in files]
    return [f for f in rel if f not in EXCLUDED]


# ---------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ping(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class Server:
    def __init__(self, label, binary, extra_args, logdir, port=None):
        self.fixed_port = port
        self.label = label
        self.binary = binary
        self.extra_args = extra_args
        self.logpath = os.path.join(logdir, f"server-{label}.log")
        self.proc = None
        self.port = None
        self.tmpdir = None
        self.starts = 0

    def start(self):
        last = "?"
        for _ in range(3):
            self.tmpdir = tempfile.mkdtemp(prefix=f"rpy-{self.label}-")
            self.port = self.fixed_port or free_port()
            args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"
                    ] + self.extra_args
            log = open(self.logpath, "ab")
            log.write(f"\n===== start: {shlex.join(args)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(args, cwd=self.tmpdir, stdout=log,
                                         stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL,
                                         start_new_session=True)
            log.close()
            deadline = time.time() + START_TIMEOUT
            while time.time() < deadline:
                if self.proc.poll() is not None:
                    last = f"exited with code {self.proc.returncode}"
                    break
                if ping(self.port):
                    self.starts += 1
                    return
                time.sleep(0.1)
            else:
                last = "no PONG within %gs" % START_TIMEOUT
            self.stop()
        sys.exit(f"{self.label}: {self.binary} did not start ({last}); "
                 f"see {self.logpath}")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                try:
                    os.killpg(self.proc.pid, signal.SIGTERM)
                    self.proc.wait(5)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    try:
                        os.killpg(self.proc.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    self.proc.wait()
            self.proc = None
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None

    def log_tail(self, n=15):
        try:
            with open(self.logpath, "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
            return "\n".join("    | " + l for l in lines[-n:])
        except OSError:
            return ""


# ---------------------------------------------------------------------------
# Running pytest
# ---------------------------------------------------------------------------

COMPAT_PLUGIN = """\
# pytest plugin loaded by run_suite.py (-p rpy_compat).
import sys

if sys.version_info < (3, 11, 3):
    # asyncio.timeout() before 3.11.3 can raise CancelledError into the
    # caller (redis-py issue 2633, PR 2659). redis-py 5.0.7 avoids it in
    # redis/asyncio/connection.py but its parsers still use asyncio.timeout
    # on any 3.11; give them async_timeout as well.
    try:
        import async_timeout
        import redis._parsers.base
        import redis._parsers.hiredis
        redis._parsers.base.async_timeout = async_timeout.timeout
        redis._parsers.hiredis.async_timeout = async_timeout.timeout
    except ImportError:
        pass
"""


def support_dir(workdir, no_hiredis):
    """A directory put first on PYTHONPATH with:
    - a dist-info for redis 5.0.7: redis-py reads redis.__version__ from the
      installed metadata, which would otherwise be Debian's python3-redis
      (4.3.4) and break the CLIENT SETINFO lib-ver test;
    - the rpy_compat pytest plugin (see COMPAT_PLUGIN);
    - with no_hiredis, a 'hiredis' module that fails to import, so redis-py
      uses its pure-Python parsers."""
    d = os.path.join(workdir, "support")
    info = os.path.join(d, "redis-5.0.7.dist-info")
    os.makedirs(info, exist_ok=True)
    with open(os.path.join(info, "METADATA"), "w") as f:
        f.write("Metadata-Version: 2.1\nName: redis\nVersion: 5.0.7\n")
    with open(os.path.join(d, "rpy_compat.py"), "w") as f:
        f.write(COMPAT_PLUGIN)
    if no_hiredis:
        with open(os.path.join(d, "hiredis.py"), "w") as f:
            f.write("raise ImportError('hiredis disabled by run_suite.py')\n")
    return d


def run_suite(server, args, files, outdir, supportdir):
    """Run pytest once per selection item; restart the server if it died.
    Returns (list of junit files, list of crash notes)."""
    junits, crashes = [], []
    env = dict(os.environ)
    env["PYTHONPATH"] = supportdir
    env.pop("PYTEST_ADDOPTS", None)
    pylog = os.path.join(outdir, f"pytest-{server.label}.log")
    open(pylog, "w").close()
    for i, item in enumerate(files):
        if not server.alive():
            server.stop()
            server.start()
        junit = os.path.join(outdir, f"{server.label}-{i:02d}-"
                             + re.sub(r"[^A-Za-z0-9_.-]+", "_", item)[:80] + ".xml")
        cmd = [PYTHON, "-m", "pytest", item, f"--redis-url=redis://127.0.0.1:{server.port}",
               "-p", "no:cacheprovider", "-p", "rpy_compat", "-q", "--runxfail", "-m", MARKERS
               + (f" and ({args.m})" if args.m else ""),
               f"--protocol={args.protocol}", f"--junitxml={junit}"]
        if args.k:
            cmd += ["-k", args.k]
        cmd += args.pytest_args
        t0 = time.time()
        rc = run_pytest(cmd, args.redis_py, env, pylog)
        if rc in (3, 4) or rc < 0:
            # INTERNALERROR: Python 3.11.2's ast.parse sometimes fails while
            # pytest renders a long traceback ("AST constructor recursion
            # depth mismatch"), which ends the session; native tracebacks
            # do not parse source.
            print(f"  [{server.label}] {item}: pytest rc={rc}, "
                  "re-running with --tb=native", flush=True)
            if not server.alive():
                server.stop()
                server.start()
                cmd[4] = f"--redis-url=redis://127.0.0.1:{server.port}"
            rc = run_pytest(cmd + ["--tb=native"], args.redis_py, env, pylog)
            if rc in (3, 4) or rc < 0:
                crashes.append(f"{item}: pytest rc={rc} (see {pylog})")
        dt = time.time() - t0
        summary = junit_summary(junit)
        print(f"  [{server.label}] {item}: {summary} ({dt:.0f}s, rc={rc})", flush=True)
        if os.path.exists(junit):
            junits.append(junit)
        elif rc not in (0, 1, 5):
            crashes.append(f"{item}: pytest exited {rc} without a junit file "
                           f"(see {pylog})")
        if not server.alive():
            note = (f"{server.label} server exited with code "
                    f"{server.proc.returncode} during {item}")
            crashes.append(note + "\n" + server.log_tail())
            print("  !! " + note, flush=True)
    return junits, crashes


RUNNING = set()     # pytest processes to kill on Ctrl-C / SIGTERM


def run_pytest(cmd, cwd, env, pylog):
    with open(pylog, "a") as log:
        log.write(f"\n===== {shlex.join(cmd)}\n")
        log.flush()
        p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log,
                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True)
        RUNNING.add(p)
        try:
            return p.wait(FILE_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            log.write(f"\n===== killed after {FILE_TIMEOUT}s\n")
            return -9
        finally:
            RUNNING.discard(p)


# ---------------------------------------------------------------------------
# JUnit XML
# ---------------------------------------------------------------------------

RANK = {"passed": 0, "skipped": 1, "xfailed": 2, "failed": 2, "error": 3}
BAD = ("failed", "error", "xfailed")


def parse_junit(paths):
    """{test id: (outcome, first line of the message, message + E lines)}"""
    res = {}
    for path in paths:
        try:
            root = ET.parse(path).getroot()
        except (ET.ParseError, OSError) as e:
            print(f"warning: cannot read {path}: {e}", file=sys.stderr)
            continue
        for tc in root.iter("testcase"):
            tid = f"{tc.get('classname', '')}::{tc.get('name', '')}"
            outcome, msg, detail = "passed", "", ""
            for child in tc:
                if child.tag in ("failure", "error"):
                    kind = "failed" if child.tag == "failure" else "error"
                    m = (child.get("message") or child.text or "").strip()
                    if RANK[kind] > RANK[outcome]:
                        outcome, msg = kind, first_line(m, child.text)
                        detail = m[:2000] + "\n" + "\n".join(
                            l for l in (child.text or "").splitlines()
                            if l.startswith("E "))[:5000]
                elif (child.tag == "skipped" and child.get("type") == "pytest.xfail"
                      and outcome == "passed"):
                    outcome, msg = "xfailed", "xfail (run without --runxfail?)"
                elif child.tag == "skipped" and outcome == "passed":
                    outcome = "skipped"
                    msg = (child.get("message") or "").strip().splitlines()[:1]
                    msg = msg[0] if msg else ""
            if tid in res and RANK[res[tid][0]] >= RANK[outcome]:
                continue
            res[tid] = (outcome, msg, detail)
    return res


def first_line(message, text):
    """First non-empty line of the message, else the first "E   " line of
    the traceback."""
    lines = [l.strip() for l in message.splitlines() if l.strip()]
    line = lines[0] if lines else ""
    if not line and text:
        elines = [l[1:].strip() for l in text.splitlines() if l.startswith("E ")]
        line = elines[0] if elines else ""
    return line[:300]


def junit_summary(path):
    if not os.path.exists(path):
        return "no junit file"
    c = collections.Counter(r[0] for r in parse_junit([path]).values())
    return ", ".join(f"{c[k]} {k}" for k in ("passed", "failed", "error", "skipped"))


def counts_line(results):
    c = collections.Counter(r[0] for r in results.values())
    return (f"{len(results)} tests: {c['passed']} passed, {c['failed']} failed, "
            f"{c['error']} errors, {c['skipped']} skipped"
            + (f", {c['xfailed']} xfailed" if c['xfailed'] else ""))


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

PARAM_RE = re.compile(r"^(.*)\[(.*)\]$")


FAMILIES = [
    ("pub/sub", r"P?SUBSCRIBE|S?SUBSCRIBE|P?UNSUBSCRIBE|SUNSUBSCRIBE|S?PUBLISH|PUBSUB"),
    ("scripting/functions", r"EVAL(SHA)?(_RO)?|SCRIPT|FUNCTION|FCALL(_RO)?"),
    ("transactions", r"MULTI|EXEC|WATCH|UNWATCH|DISCARD"),
    ("streams", r"X[A-Z]+"),
    ("geo", r"GEO[A-Z]+"),
    ("hyperloglog", r"PF[A-Z]+"),
]


def family(cmd):
    for fam, pat in FAMILIES:
        if re.fullmatch(pat, cmd):
            return fam
    return None


def cause_key(msg, detail=""):
    """A short grouping key for a failure: the unimplemented command or
    subcommand when the message or the traceback names one, else the
    exception line."""
    for text in (msg, detail):
        m = re.search(r"unknown command '([^']*)'", text, re.I)
        if m:
            cmd = m.group(1).upper()
            fam = family(cmd)
            return (f"unknown command {cmd}" + (f" ({fam})" if fam else ""))
        m = re.search(r"unknown subcommand (?:or wrong number of arguments for )?"
                      r"'([^']*)'\. Try (\w+) HELP", text, re.I)
        if m:
            return f"unknown subcommand {m.group(2).upper()} {m.group(1).upper()}"
    if "Timeout" in msg and msg.startswith("Failed"):
        return "test timeout (pytest-timeout)"
    if msg.startswith(("ConnectionError", "redis.exceptions.ConnectionError",
                       "ConnectionRefusedError")):
        return "connection error"
    key = msg.splitlines()[0] if msg else "(no message)"
    key = re.sub(r"0x[0-9a-f]+", "0x…", key)
    return key[:100]


def short_id(tid):
    mod, name = tid.split("::", 1)
    mod = mod.replace("tests.", "", 1)
    return f"{mod}::{name}"


def module_of(tid):
    parts = short_id(tid).split("::")[0].split(".")
    if len(parts) > 1 and parts[-1][:1].isupper():
        parts = parts[:-1]
    return ".".join(parts)


def collapse(tids, results):
    """Merge parametrized variants (e.g. the 4 async parser variants) that
    fail with the same message into one line."""
    groups = collections.OrderedDict()
    for tid in tids:
        m = PARAM_RE.match(tid)
        base, param = (m.group(1), m.group(2)) if m else (tid, None)
        key = (base, results[tid][1])
        groups.setdefault(key, []).append(param)
    out = []
    for (base, msg), params in groups.items():
        params = [p for p in params if p is not None]
        name = short_id(base) + (f"[{','.join(params)}]" if params else "")
        out.append((name, msg))
    return out


def report(ref, ours, crashes, check_missing):
    print()
    print("=" * 78)
    print(f"redis-server: {counts_line(ref)}")
    print(f"ours:         {counts_line(ours)}")
    for c in crashes:
        print("!! " + c)

    common = [t for t in ref if t in ours]
    regress = sorted(t for t in common if ref[t][0] == "passed"
                     and ours[t][0] in BAD)
    skipped = sorted(t for t in common if ref[t][0] == "passed"
                     and ours[t][0] == "skipped")
    missing = sorted(t for t in ref if ref[t][0] == "passed" and t not in ours
                     and check_missing)
    better = sorted(t for t in common if ref[t][0] in BAD
                    and ours[t][0] == "passed")
    both_bad = sorted(t for t in common if ref[t][0] in BAD
                      and ours[t][0] in BAD)

    if skipped:
        print(f"\n--- passed on redis, skipped on ours ({len(skipped)}):")
        for name, msg in collapse(skipped, ours):
            print(f"  {name}\n      {msg}")
    if missing:
        print(f"\n--- passed on redis, not run on ours ({len(missing)}):")
        for t in missing:
            print(f"  {short_id(t)}")
    if better:
        print(f"\n--- failed on redis, passed on ours ({len(better)}):")
        for name, _ in collapse(better, ours):
            print(f"  {name}")

    print(f"\n--- PASSED ON REDIS, FAILED/ERROR ON OURS ({len(regress)}):")
    for name, msg in collapse(regress, ours):
        print(f"  {name}\n      {msg}")

    if regress:
        print("\n--- the same, by cause:")
        by = collections.defaultdict(list)
        for t in regress:
            by[cause_key(ours[t][1], ours[t][2])].append(t)
        for key, tids in sorted(by.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            files = sorted({module_of(t) for t in tids})
            print(f"  {len(tids):5d}  {key}   [{', '.join(files)}]")

    print()
    print(f"summary: {len(common)} tests run on both; "
          f"{len(regress)} pass on redis but fail on ours; "
          f"{len(skipped)} skipped on ours only; {len(missing)} not run on ours; "
          f"{len(both_bad)} fail on both (ignored); {len(better)} fail on redis only")
    return not regress and not missing


# ---------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--redis-py", required=True, metavar="DIR",
                    help="checkout of redis-py v5.0.7")
    ap.add_argument("--ours", metavar="BIN", help="server under test")
    ap.add_argument("--ref", metavar="BIN", default="redis-server",
                    help="reference server (default: redis-server)")
    ap.add_argument("--port", type=int,
                    help="run each server (one after the other) on this port "
                         "instead of a free one; 6379 lets the 5 tests that "
                         "hard-code localhost:6379 run")
    ap.add_argument("--ours-args", default="", help="extra flags for ours (shell-split)")
    ap.add_argument("--ref-args", default="", help="extra flags for redis (shell-split)")
    ap.add_argument("--no-base-args", action="store_true",
                    help="do not give both servers " + shlex.join(BASE_ARGS))
    ap.add_argument("--ref-only", action="store_true",
                    help="run only against the reference (baseline)")
    ap.add_argument("--ref-junit-dir", metavar="DIR",
                    help="reuse the reference results (ref-*.xml) of an earlier "
                         "run in DIR instead of running redis again")
    ap.add_argument("--ours-junit-dir", metavar="DIR",
                    help="likewise for ours (ours-*.xml): only re-print the report")
    ap.add_argument("-k", metavar="EXPR", help="pytest -k expression")
    ap.add_argument("-m", metavar="EXPR", help="extra pytest -m expression (and-ed)")
    ap.add_argument("--protocol", default="2", choices=["2", "3"],
                    help="RESP version the suite's clients use (default 2)")
    ap.add_argument("--no-hiredis", action="store_true",
                    help="make hiredis unimportable: redis-py's pure-Python "
                         "parsers are used (as in redis-py CI's non-hiredis jobs)")
    ap.add_argument("--junit-dir", metavar="DIR",
                    help="where to keep junit XML and logs (default: a temp dir)")
    ap.add_argument("--pytest-arg", dest="pytest_args", action="append", default=[],
                    help="extra pytest argument (repeatable)")
    ap.add_argument("files", nargs="*",
                    help="test files or node ids, relative to the redis-py dir "
                         "(default: every relevant file; see README.md)")
    args = ap.parse_args()

    args.redis_py = os.path.abspath(args.redis_py)
    if not os.path.isfile(os.path.join(args.redis_py, "tests", "conftest.py")):
        sys.exit(f"{args.redis_py} is not a redis-py checkout (no tests/conftest.py)")
    if not args.ref_only and not args.ours and not args.ours_junit_dir:
        sys.exit("--ours BIN is required (or --ref-only)")
    for b in ([] if args.ref_junit_dir else [args.ref]) + \
            ([args.ours] if args.ours and not args.ours_junit_dir else []):
        if not shutil.which(b):
            sys.exit(f"server binary not found: {b}")

    chk = subprocess.run([PYTHON, "-c", "import redis, pytest, pytest_asyncio; "
                          "print(redis.__file__)"],
                         cwd=args.redis_py, capture_output=True, text=True)
    if chk.returncode != 0:
        sys.exit("cannot import redis/pytest/pytest_asyncio with "
                 f"{PYTHON}:\n{chk.stderr}")
    if not chk.stdout.strip().startswith(args.redis_py):
        sys.exit(f"redis imported from {chk.stdout.strip()}, not from {args.redis_py}")

    files = args.files or default_files(args.redis_py)
    outdir = args.junit_dir or tempfile.mkdtemp(prefix="rpy-junit-")
    os.makedirs(outdir, exist_ok=True)
    outdir = os.path.abspath(outdir)
    workdir = tempfile.mkdtemp(prefix="rpy-run-")
    if args.protocol == "3" and not args.no_hiredis:
        print("note: --protocol 3 implies --no-hiredis (hiredis-py 1.x has no RESP3)")
        args.no_hiredis = True
    supportdir = support_dir(workdir, args.no_hiredis)
    print(f"junit XML and logs in {outdir}")
    print(f"{len(files)} test files; deselected markers: {MARKERS}")

    servers = []
    base = [] if args.no_base_args else BASE_ARGS

    def cleanup(*_):
        for p in list(RUNNING):
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for s in servers:
            s.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    def on_signal(signum, _frame):
        cleanup()
        sys.exit(128 + signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    try:
        crashes = []
        selection = {"files": files, "k": args.k, "m": args.m, "port": args.port,
                     "protocol": args.protocol, "no_hiredis": args.no_hiredis, "base_args": base,
                     "ref_args": args.ref_args}
        same_selection = True
        if args.ref_junit_dir:
            ref_junits = sorted(glob.glob(os.path.join(args.ref_junit_dir, "ref-*.xml")))
            if not ref_junits:
                sys.exit(f"no ref-*.xml in {args.ref_junit_dir}")
            try:
                with open(os.path.join(args.ref_junit_dir, "ref-selection.json")) as f:
                    same_selection = json.load(f) == selection
            except (OSError, ValueError):
                same_selection = False
            if not same_selection:
                print("note: the reused reference results were made with another "
                      "selection; only tests run on both are compared")
        else:
            for old in glob.glob(os.path.join(outdir, "ref-*.xml")):
                os.remove(old)
            ref = Server("ref", args.ref, base + shlex.split(args.ref_args), outdir,
                         args.port)
            servers.append(ref)
            ref.start()
            print(f"redis-server on port {ref.port}")
            ref_junits, c = run_suite(ref, args, files, outdir, supportdir)
            crashes += c
            ref.stop()
            with open(os.path.join(outdir, "ref-selection.json"), "w") as f:
                json.dump(selection, f)
        ref_res = parse_junit(ref_junits)
        if args.ref_only:
            print(f"\nredis-server: {counts_line(ref_res)}")
            for c in crashes:
                print("!! " + c)
            bad = sorted(t for t, r in ref_res.items() if r[0] in BAD)
            print(f"\n--- failing on redis-server ({len(bad)}):")
            for name, msg in collapse(bad, ref_res):
                print(f"  {name}\n      {msg}")
            return 0

        if args.ours_junit_dir:
            ours_junits = sorted(glob.glob(os.path.join(args.ours_junit_dir,
                                                        "ours-*.xml")))
        else:
            for old in glob.glob(os.path.join(outdir, "ours-*.xml")):
                os.remove(old)
            ours = Server("ours", args.ours, base + shlex.split(args.ours_args),
                          outdir, args.port)
            servers.append(ours)
            ours.start()
            print(f"ours on port {ours.port}")
            ours_junits, c = run_suite(ours, args, files, outdir, supportdir)
            crashes += c
            ours.stop()
        ours_res = parse_junit(ours_junits)
        ok = report(ref_res, ours_res, crashes,
                    check_missing=same_selection)
        return 0 if ok else 1
    finally:
        cleanup()


if __name__ == "__main__":
    sys.exit(main())
