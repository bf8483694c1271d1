#!/usr/bin/env python3
"""Side-by-side benchmark: our server (Shrike) vs. redis-server, in one run.

Starts both servers itself (each in its own temp dir, pinned to the server CPU),
drives them with redis-benchmark (pinned to the client CPU), interleaving rounds
A B B A ... and SIGSTOPping whichever server is not being measured. Reports
throughput, p50/p99 latency, requests per server CPU-second, resident memory per
key, and (for our server only) --threads 2 vs --threads 1 scaling.

Standard library only. See bench/README.md for usage and methodology.
"""

import argparse
import csv
import ctypes
import hashlib
import os
import platform
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

# ---------------------------------------------------------------------------
# Workloads. One entry per redis-benchmark test, run in this order (order
# matters for tests that consume data, e.g. rpop/spop/lrange need lpush/sadd
# first).  `req_mult` scales the request count for tests that are much slower
# per request (e.g. mset writes 10 keys per request).
# To add a test, add one line, e.g.  ("lpush", 1.0),  ("lrange_100", 0.25),
# ---------------------------------------------------------------------------
WORKLOADS = [
    ("set", 1.0),
    ("get", 1.0),
    ("incr", 1.0),
    ("mset", 0.5),
    ("lpush", 1.0),
    ("rpop", 1.0),
    ("sadd", 1.0),
    ("hset", 1.0),
    ("zadd", 1.0),
    ("spop", 1.0),
    ("lrange_100", 0.25),
    ("evalsha_lock_release", 1.0),
    ("evalsha_rate_limit", 1.0),
    ("evalsha_loop_1000", 0.1),
]
PIPELINES = [1, 16]

# EVALSHA workloads: the script (SCRIPT LOADed into each server first) and the
# arguments after the SHA-1; redis-benchmark replaces __rand_int__ per request.
SCRIPTS = {
    # redis-py's Lock.release(): delete the key only if it still holds our token.
    "evalsha_lock_release": (
        "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end",
        ["1", "key:__rand_int__", "token"]),
    # A fixed-window rate limiter: INCR, and EXPIRE on the first hit.
    "evalsha_rate_limit": (
        "local c = redis.call('incr', KEYS[1]) if c == 1 then redis.call('expire', KEYS[1], ARGV[1]) end return c",
        ["1", "rate:__rand_int__", "60"]),
    # Pure interpreter work: 1000 loop iterations of arithmetic.
    "evalsha_loop_1000": (
        "local s = 0 for i = 1, 1000 do s = s + i * 2 % 7 end return s",
        ["0"]),
}
SCALING_WORKLOADS = [("get", 1.0), ("set", 1.0)]

HASH_FIELDS = 10
CLIENTS = 50
KEYSPACE = 100_000          # redis-benchmark -r
SERVER_START_TIMEOUT = 15.0
SERVER_STOP_TIMEOUT = 10.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    pass


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# Process helpers
# ---------------------------------------------------------------------------
def _child_setup():
    """Runs in the child before exec: die with the parent (PR_SET_PDEATHSIG)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except Exception:
        pass


def pinned(cpus, cmd):
    return (["taskset", "-c", cpus] + cmd) if cpus else cmd


def run(cmd, timeout, stdin=None, check=True):
    try:
        p = subprocess.run(cmd, stdin=stdin, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout,
                           preexec_fn=_child_setup)
    except subprocess.TimeoutExpired as e:
        raise BenchError(f"timeout after {timeout:.0f}s: {shlex.join(cmd)}") from e
    out = p.stdout.decode(errors="replace")
    err = p.stderr.decode(errors="replace")
    if check and p.returncode != 0:
        raise BenchError(f"exit {p.returncode}: {shlex.join(cmd)}\n{out[-2000:]}{err[-2000:]}")
    return out, err


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_cpu_seconds(pid):
    """utime+stime of the whole process (all threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()   # fields[0] is field 3 (state)
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14, 15


def proc_state(pid):
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    return s[s.rindex(")") + 2]


def proc_rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise BenchError(f"no VmRSS for pid {pid}")


# ---------------------------------------------------------------------------
# Minimal RESP client (PING / DBSIZE / INFO)
# ---------------------------------------------------------------------------
def _read_reply(f):
    line = f.readline()
    if not line:
        raise BenchError("connection closed")
    t, rest = line[:1], line[1:-2]
    if t == b"+":
        return rest.decode()
    if t == b"-":
        raise BenchError("server error: " + rest.decode())
    if t == b":":
        return int(rest)
    if t == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)
        return data[:-2].decode(errors="replace")
    if t == b"*":
        n = int(rest)
        return None if n < 0 else [_read_reply(f) for _ in range(n)]
    raise BenchError(f"bad RESP reply: {line!r}")


def resp_cmd(port, *args, timeout=5.0):
    payload = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        payload += b"$%d\r\n%s\r\n" % (len(a), a)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(payload)
        with s.makefile("rb") as f:
            return _read_reply(f)


# ---------------------------------------------------------------------------
# Server lifecycle
# ---------------------------------------------------------------------------
LIVE_SERVERS = []


class Server:
    def __init__(self, label, binary, extra_args, cpus, tmproot):
        self.label = label
        self.binary = binary
        self.extra_args = list(extra_args)
        self.cpus = cpus
        self.workdir = tempfile.mkdtemp(prefix=label.replace(" ", "_") + "-", dir=tmproot)
        self.port = None
        self.proc = None
        self.logf = None
        self.stopped = False

    def argv(self):
        return pinned(self.cpus, [self.binary, "--port", str(self.port),
                                  "--bind", "127.0.0.1", "--save", "",
                                  "--appendonly", "no"] + self.extra_args)

    @property
    def pid(self):
        return self.proc.pid

    def start(self):
        self.port = free_port()
        self.logf = open(os.path.join(self.workdir, "server.log"), "wb")
        cmd = self.argv()
        log(f"  starting {self.label}: {shlex.join(cmd)}")
        self.proc = subprocess.Popen(cmd, cwd=self.workdir, stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=subprocess.STDOUT,
                                     start_new_session=True, preexec_fn=_child_setup)
        LIVE_SERVERS.append(self)
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.label} exited with {self.proc.returncode} during "
                                 f"startup; server log:\n{self.log_tail()}")
            try:
                if resp_cmd(self.port, "PING", timeout=1.0) == "PONG":
                    break
            except (OSError, BenchError):
                pass
            if time.monotonic() > deadline:
                raise BenchError(f"{self.label} not answering PING after "
                                 f"{SERVER_START_TIMEOUT:.0f}s\n{self.log_tail()}")
            time.sleep(0.05)
        return self

    def log_tail(self, n=20):
        try:
            with open(os.path.join(self.workdir, "server.log"), "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
            return "\n".join("    | " + l for l in lines[-n:]) or "    (empty log)"
        except OSError:
            return "    (no log)"

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self):
        if not self.alive():
            raise BenchError(f"{self.label} died (exit {self.proc.returncode})\n{self.log_tail()}")

    def _wait_state(self, want_stopped):
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            st = proc_state(self.pid)
            if (st == "T") == want_stopped:
                return
            time.sleep(0.002)

    def sigstop(self):
        if self.alive() and not self.stopped:
            os.kill(self.pid, signal.SIGSTOP)
            self._wait_state(True)
            self.stopped = True

    def sigcont(self):
        if self.alive() and self.stopped:
            os.kill(self.pid, signal.SIGCONT)
            self._wait_state(False)
            self.stopped = False

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.kill(self.pid, signal.SIGCONT)
                os.kill(self.pid, signal.SIGTERM)
                self.proc.wait(timeout=SERVER_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=SERVER_STOP_TIMEOUT)
            except ProcessLookupError:
                pass
        if self.logf:
            self.logf.close()
            self.logf = None
        if self in LIVE_SERVERS:
            LIVE_SERVERS.remove(self)

    def info_version(self):
        try:
            info = resp_cmd(self.port, "INFO", "server")
            for line in (info or "").splitlines():
                if line.startswith("redis_version:"):
                    return line.split(":", 1)[1].strip()
        except (OSError, BenchError):
            pass
        return "n/a"


def kill_all():
    for s in list(LIVE_SERVERS):
        try:
            s.kill()
        except Exception as e:  # keep going: kill the rest
            log(f"  cleanup of {s.label} failed: {e}")


def focus(active, servers):
    """SIGCONT `active`, SIGSTOP every other server."""
    for s in servers:
        if s is not active:
            s.sigstop()
    active.sigcont()
    active.check_alive()


# ---------------------------------------------------------------------------
# redis-benchmark
# ---------------------------------------------------------------------------
def script_sha(test):
    return hashlib.sha1(SCRIPTS[test][0].encode()).hexdigest()


def load_scripts(servers, workloads):
    """SCRIPT LOAD the EVALSHA workloads' scripts into every server."""
    for s in servers:
        focus(s, servers)
        for test, _ in workloads:
            if test in SCRIPTS and resp_cmd(s.port, "SCRIPT", "LOAD", SCRIPTS[test][0]) != script_sha(test):
                raise BenchError(f"SCRIPT LOAD of {test} on {s.label} did not return its SHA-1")


def run_benchmark(cfg, srv, test, pipeline, n, client_cpus):
    what = (["--csv", "evalsha", script_sha(test)] + SCRIPTS[test][1]) if test in SCRIPTS else ["-t", test, "--csv"]
    cmd = pinned(client_cpus, [cfg.benchmark, "-h", "127.0.0.1", "-p", str(srv.port),
                               "-c", str(CLIENTS), "-n", str(n), "-P", str(pipeline),
                               "-r", str(KEYSPACE)] + what)
    timeout = 60 + n / 5000.0        # assumes >= 5k req/s
    cpu0 = proc_cpu_seconds(srv.pid)
    t0 = time.monotonic()
    out, err = run(cmd, timeout)
    wall = time.monotonic() - t0
    cpu = proc_cpu_seconds(srv.pid) - cpu0
    srv.check_alive()
    rows = [l for l in out.splitlines() if l.startswith('"')]
    recs = list(csv.DictReader(rows))
    if not recs:
        raise BenchError(f"no CSV result from redis-benchmark for {test} on {srv.label}\n"
                         f"{out[-1000:]}{err[-1000:]}")
    r = recs[-1]
    if test in SCRIPTS and not r.get("rps"):
        raise BenchError(f"redis-benchmark returned no rate for {test} on {srv.label}")
    return {"name": test.upper() if test in SCRIPTS else r["test"], "rps": float(r["rps"]), "p50": float(r["p50_latency_ms"]),
            "p99": float(r["p99_latency_ms"]), "n": n, "cpu": cpu, "wall": wall}


def requests_for(cfg, mult, pipeline):
    n = cfg.requests * mult * (cfg.pipelined_mult if pipeline > 1 else 1)
    return max(1000, int(n))


def warmup(cfg, servers, client_cpus):
    """Populate the benchmark keyspace (~86% of keys) so GET hits; not recorded."""
    for s in servers:
        focus(s, servers)
        run_benchmark(cfg, s, "set", 16, 2 * KEYSPACE, client_cpus)


def run_matrix(cfg, servers, workloads, client_cpus, title):
    """Interleaved rounds: round r runs every workload on each server, server order
    A,B in even rounds and B,A in odd rounds (A B | B A | A B ...)."""
    res = {}
    warmup(cfg, servers, client_cpus)
    load_scripts(servers, workloads)
    for rnd in range(cfg.rounds):
        order = servers if rnd % 2 == 0 else list(reversed(servers))
        for test, mult in workloads:
            for p in PIPELINES:
                n = requests_for(cfg, mult, p)
                for s in order:
                    focus(s, servers)
                    r = run_benchmark(cfg, s, test, p, n, client_cpus)
                    res.setdefault((test, p), {}).setdefault(s.label, []).append(r)
                    log(f"  [{title} round {rnd + 1}/{cfg.rounds}] {r['name']:<16} P={p:<2} "
                        f"{s.label:<10} {r['rps']:>11,.0f} rps  p50 {r['p50']:.3f}  "
                        f"p99 {r['p99']:.3f} ms  cpu {r['cpu']:.2f}s  wall {r['wall']:.1f}s")
    for s in servers:
        s.sigcont()
    return res


def agg(runs):
    cpu = sum(r["cpu"] for r in runs)
    n = sum(r["n"] for r in runs)
    rps = [r["rps"] for r in runs]
    return {"name": runs[0]["name"],
            "rps": statistics.median(rps),
            "p50": statistics.median(r["p50"] for r in runs),
            "p99": statistics.median(r["p99"] for r in runs),
            "rpc": (n / cpu) if cpu > 0 else None,
            "spread": (max(rps) / min(rps) - 1.0) if min(rps) > 0 else 0.0}


def spread_note(cfg, worst):
    if cfg.rounds < 2:
        return "Round-to-round spread: n/a (1 round)."
    return f"Worst round-to-round rps spread (max/min-1): {worst[0] * 100:.1f}% ({worst[1]})."


def fmt_rps(x):
    return "n/a" if x is None else f"{x:,.0f}"


def fmt_ratio(a, b):
    return "n/a" if (a is None or b is None or b == 0) else f"{a / b:.2f}"


def fmt_lat(a):
    return f"{a['p50']:.3f} / {a['p99']:.3f}"


def matrix_table(res, workloads, la, lb, heads):
    hdr = ["workload", "pipeline"] + heads
    lines = ["| " + " | ".join(hdr) + " |", "|" + "|".join(["---"] * len(hdr)) + "|"]
    worst = (0.0, "")
    for test, _ in workloads:
        for p in PIPELINES:
            a, b = agg(res[(test, p)][la]), agg(res[(test, p)][lb])
            for lbl, x in ((la, a), (lb, b)):
                if x["spread"] > worst[0]:
                    worst = (x["spread"], f"{x['name']} P={p} {lbl}")
            lines.append("| " + " | ".join([
                a["name"], str(p), fmt_rps(a["rps"]), fmt_rps(b["rps"]),
                fmt_ratio(a["rps"], b["rps"]), fmt_lat(a), fmt_lat(b),
                fmt_rps(a["rpc"]), fmt_rps(b["rpc"]), fmt_ratio(a["rpc"], b["rpc"])]) + " |")
    return lines, worst


# ---------------------------------------------------------------------------
# Memory
# ---------------------------------------------------------------------------
def write_resp_file(path, k):
    head = b"*3\r\n$3\r\nSET\r\n$16\r\n"
    mid = b"\r\n$32\r\n"
    with open(path, "wb") as f:
        chunk = []
        for i in range(1, k + 1):
            # 16-byte key "key:000000000001", 32-byte value "val:0000...0001"
            chunk.append(head + b"key:%012d" % i + mid + b"val:%028d" % i + b"\r\n")
            if len(chunk) >= 65536:
                f.write(b"".join(chunk))
                chunk = []
        f.write(b"".join(chunk))


def write_hash_resp_file(path, k, fields=HASH_FIELDS):
    """k hashes of `fields` small fields: HSET hash:000000000001 field:0 value:00000001 ..."""
    with open(path, "wb") as f:
        chunk = []
        for i in range(1, k + 1):
            parts = [b"*%d\r\n$4\r\nHSET\r\n$17\r\nhash:%012d\r\n" % (2 + 2 * fields, i)]
            for j in range(fields):
                parts.append(b"$7\r\nfield:%d\r\n$14\r\nvalue:%08d\r\n" % (j, i))
            chunk.append(b"".join(parts))
            if len(chunk) >= 16384:
                f.write(b"".join(chunk))
                chunk = []
        f.write(b"".join(chunk))


def measure_memory(cfg, srv, resp_path, keys, elements_per_key):
    before = proc_rss_bytes(srv.pid)
    with open(resp_path, "rb") as fin:
        out, err = run(pinned(cfg.client_cpu, [cfg.cli, "-h", "127.0.0.1", "-p", str(srv.port),
                                               "--pipe"]),
                       timeout=60 + keys / 5000.0, stdin=fin)
    text = out + err
    if "errors: 0," not in text:
        raise BenchError(f"redis-cli --pipe reported errors on {srv.label}:\n{text[-1000:]}")
    dbsize = resp_cmd(srv.port, "DBSIZE", timeout=30)
    if dbsize != keys:
        raise BenchError(f"{srv.label}: DBSIZE {dbsize} != {keys} after loading")
    time.sleep(0.2)
    after = proc_rss_bytes(srv.pid)
    return {"before": before, "after": after, "per_key": (after - before) / keys,
            "per_element": (after - before) / (keys * elements_per_key)}


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------
def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ours", required=True, help="our server binary")
    ap.add_argument("--ref", default=None,
                    help="reference server (default: redis-server found on PATH)")
    ap.add_argument("--requests", type=int, default=None,
                    help="requests per pipeline-1 run (default 200000; quick 10000)")
    ap.add_argument("--pipelined-mult", type=float, default=10.0,
                    help="pipelined runs use requests*this (default 10)")
    ap.add_argument("--rounds", type=int, default=None,
                    help="interleaved rounds per server (default 5; quick 1)")
    ap.add_argument("--keys", type=int, default=None,
                    help="keys loaded for the memory test (default 1000000; quick 10000)")
    ap.add_argument("--hash-keys", type=int, default=None,
                    help="hashes loaded for the hash memory test (default 100000; quick 2000)")
    ap.add_argument("--quick", action="store_true",
                    help="CI smoke mode: tiny counts, 1 round; checks that everything runs")
    ap.add_argument("--out", help="also write the markdown report to this file")
    ap.add_argument("--ours-args", default="",
                    help='extra args for our server, one shell-quoted string; use the '
                         '= form: --ours-args="--threads 1"')
    ap.add_argument("--ref-args", default="", help="extra args for the reference server")
    ap.add_argument("--no-threads-scaling", action="store_true",
                    help="skip the --threads 1 vs --threads 2 section")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory section")
    ap.add_argument("--workloads", default="",
                    help="comma-separated subset of the workloads to run (e.g. "
                         "evalsha_lock_release,evalsha_rate_limit,evalsha_loop_1000)")
    ap.add_argument("--server-cpu", default="1", help="taskset CPU list for servers (default 1)")
    ap.add_argument("--client-cpu", default="0",
                    help="taskset CPU list for redis-benchmark/redis-cli (default 0)")
    ap.add_argument("--scaling-cpus", default="0,1",
                    help="CPU list for ours --threads 2 in the scaling section (default 0,1)")
    ap.add_argument("--scaling-client-cpu", default="",
                    help="CPU list for the client in the scaling section (default: unpinned)")
    ap.add_argument("--benchmark", default="redis-benchmark", help="redis-benchmark binary")
    ap.add_argument("--cli", default="redis-cli", help="redis-cli binary")
    a = ap.parse_args(argv)
    a.requests = a.requests or (10_000 if a.quick else 200_000)
    a.rounds = a.rounds or (1 if a.quick else 5)
    a.keys = a.keys or (10_000 if a.quick else 1_000_000)
    a.hash_keys = a.hash_keys or (2_000 if a.quick else 100_000)
    wanted = [w for w in a.workloads.split(",") if w]
    unknown = [w for w in wanted if w not in {t for t, _ in WORKLOADS}]
    if unknown:
        ap.error(f"unknown workload(s): {', '.join(unknown)}")
    a.workload_list = [w for w in WORKLOADS if not wanted or w[0] in wanted]
    return a


def resolve_bin(name, what):
    p = shutil.which(name) if os.sep not in name else (name if os.access(name, os.X_OK) else None)
    if not p:
        raise BenchError(f"{what} not found / not executable: {name}")
    # abspath (servers run in temp dirs), but NOT realpath: redis-server is often a
    # symlink and dispatches on argv[0].
    return os.path.abspath(p)


def host_info():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{platform.system()} {platform.release()}, {os.cpu_count()} CPUs ({model})"


def cpu_busy_fraction(interval=1.0):
    """Fraction of all CPUs busy (non-idle, non-iowait) over `interval` seconds."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v[:8]), v[3] + v[4]
    t0, i0 = sample()
    time.sleep(interval)
    t1, i1 = sample()
    return 1.0 - (i1 - i0) / max(1, t1 - t0)


def on_signal(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv):
    t_start = time.monotonic()
    cfg = parse_args(argv)
    cmdline = shlex.join(["python3", sys.argv[0]] + argv)
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, on_signal)

    tmproot = tempfile.mkdtemp(prefix="shrike-compare-")
    out = [f"# Shrike vs Redis: `{cmdline}`", ""]
    try:
        cfg.ours = resolve_bin(cfg.ours, "--ours")
        cfg.ref = resolve_bin(cfg.ref or "redis-server", "--ref")
        cfg.benchmark = resolve_bin(cfg.benchmark, "redis-benchmark")
        cfg.cli = resolve_bin(cfg.cli, "redis-cli")
        resolve_bin("taskset", "taskset")
        ours_args = shlex.split(cfg.ours_args)
        ref_args = shlex.split(cfg.ref_args)

        ours_is_redis = (os.path.basename(cfg.ours).startswith("redis-server")
                         or os.path.samefile(cfg.ours, cfg.ref))
        skip_scaling = None
        if cfg.no_threads_scaling:
            skip_scaling = "--no-threads-scaling given"
        elif ours_is_redis:
            skip_scaling = "--ours is redis-server, which does not take --threads"

        bver, _ = run([cfg.benchmark, "--version"], timeout=10, check=False)
        busy = cpu_busy_fraction()
        busy_note = f"{busy * 100:.0f}% busy before start"
        if busy > 0.10:
            busy_note += " -- WARNING: machine not idle, numbers will be noisy"
            log(f"WARNING: CPUs {busy * 100:.0f}% busy before start; results will be noisy")
        out += [f"- host: {host_info()}; {busy_note}",
                f"- ours: `{shlex.join([cfg.ours] + ours_args)}`; ref: "
                f"`{shlex.join([cfg.ref] + ref_args)}`; {bver.strip()}",
                f"- servers pinned to CPU {cfg.server_cpu}, client to CPU {cfg.client_cpu}; "
                f"-c {CLIENTS} -r {KEYSPACE}; {cfg.requests} requests per run at P=1, "
                f"x{cfg.pipelined_mult:g} when pipelined (x per-test multiplier); "
                f"{cfg.rounds} interleaved round(s), idle server SIGSTOPped",
                ""]

        # ---- memory -------------------------------------------------------
        if not cfg.no_memory:
            datasets = [
                (f"{cfg.keys:,} keys (16-byte key, 32-byte value)", write_resp_file, cfg.keys, 1, "key"),
                (f"{cfg.hash_keys:,} hashes of {HASH_FIELDS} small fields (7-byte field, 14-byte value)",
                 write_hash_resp_file, cfg.hash_keys, HASH_FIELDS, "field"),
            ]
            for title, writer, count, per, unit in datasets:
                log(f"== memory: {title} into each server")
                resp_path = os.path.join(tmproot, "load.resp")
                writer(resp_path, count)
                servers = [Server("ours", cfg.ours, ours_args, cfg.server_cpu, tmproot).start(),
                           Server("redis", cfg.ref, ref_args, cfg.server_cpu, tmproot).start()]
                mem = {}
                for s in servers:
                    focus(s, servers)
                    mem[s.label] = measure_memory(cfg, s, resp_path, count, per)
                    log(f"  {s.label}: {mem[s.label]['per_element']:.1f} bytes/{unit}")
                for s in servers:
                    s.kill()
                os.unlink(resp_path)
                a, b = mem["ours"], mem["redis"]
                out += [f"## Memory: {title} via redis-cli --pipe",
                        "",
                        f"| server | VmRSS before | VmRSS after | bytes/{unit} |",
                        "|---|---|---|---|",
                        f"| ours | {a['before']:,} | {a['after']:,} | {a['per_element']:.1f} |",
                        f"| redis | {b['before']:,} | {b['after']:,} | {b['per_element']:.1f} |",
                        "",
                        f"bytes/{unit} ratio (ours/redis): **{fmt_ratio(a['per_element'], b['per_element'])}**",
                        ""]
                if min(a["after"] - a["before"], b["after"] - b["before"]) < 4 << 20:
                    out += ["Note: RSS grew by < 4 MiB on at least one server; pre-touched allocator "
                            "pages can absorb that, so load more for a meaningful figure.", ""]

        # ---- throughput / latency / cpu ------------------------------------
        log("== throughput: ours vs redis")
        servers = [Server("ours", cfg.ours, ours_args, cfg.server_cpu, tmproot).start(),
                   Server("redis", cfg.ref, ref_args, cfg.server_cpu, tmproot).start()]
        versions = {s.label: s.info_version() for s in servers}
        res = run_matrix(cfg, servers, cfg.workload_list, cfg.client_cpu, "main")
        for s in servers:
            s.kill()
        lines, worst = matrix_table(res, cfg.workload_list, "ours", "redis", [
            "ours rps", "redis rps", "throughput ratio (ours/redis)", "ours p50/p99 ms",
            "redis p50/p99 ms", "ours req/cpu-s", "redis req/cpu-s",
            "cpu-efficiency ratio"])
        out += [f"## Throughput (median of {cfg.rounds} round(s)); "
                f"INFO redis_version: ours {versions['ours']}, redis {versions['redis']}", ""]
        out += lines
        out += ["", spread_note(cfg, worst) + " req/cpu-s = total requests / total server CPU "
                f"(utime+stime, {CLK_TCK} ticks/s) over all rounds.", ""]

        # ---- threads scaling -----------------------------------------------
        out += ["## Threads scaling (ours --threads 2 vs --threads 1)", ""]
        if skip_scaling:
            out += [f"skipped: {skip_scaling}", ""]
        else:
            log("== threads scaling: ours --threads 1 vs --threads 2")
            servers = [Server("threads=2", cfg.ours, ours_args + ["--threads", "2"],
                              cfg.scaling_cpus, tmproot).start(),
                       Server("threads=1", cfg.ours, ours_args + ["--threads", "1"],
                              cfg.server_cpu, tmproot).start()]
            res = run_matrix(cfg, servers, SCALING_WORKLOADS, cfg.scaling_client_cpu or None,
                             "scaling")
            for s in servers:
                s.kill()
            lines, worst = matrix_table(res, SCALING_WORKLOADS, "threads=2", "threads=1", [
                "threads=2 rps", "threads=1 rps", "ratio t2/t1", "t2 p50/p99 ms",
                "t1 p50/p99 ms", "t2 req/cpu-s", "t1 req/cpu-s", "cpu-efficiency t2/t1"])
            out += [f"threads=1 pinned to CPU {cfg.server_cpu}; threads=2 on CPUs "
                    f"{cfg.scaling_cpus}; client "
                    + (f"pinned to CPU {cfg.scaling_client_cpu}" if cfg.scaling_client_cpu
                       else "not pinned (shares CPUs with the server)")
                    + f"; median of {cfg.rounds} round(s).", ""]
            out += lines
            out += ["", spread_note(cfg, worst), ""]

        out += [f"Total wall time: {time.monotonic() - t_start:.0f} s", ""]
        report = "\n".join(out)
        print(report)
        if cfg.out:
            with open(cfg.out, "w") as f:
                f.write(report + "\n")
            log(f"report written to {cfg.out}")
        return 0
    except BenchError as e:
        log(f"ERROR: {e}")
        return 1
    except KeyboardInterrupt as e:
        log(f"interrupted ({e}); cleaning up")
        return 130
    finally:
        kill_all()
        shutil.rmtree(tmproot, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
