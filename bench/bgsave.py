#!/usr/bin/env python3
"""BGSAVE under load, side by side: our forkless snapshot against Redis's fork.

For each server: load N keys (16-byte keys, 32-byte values, redis-cli --pipe),
measure the write rate of 50 redis-benchmark clients (INCR on their own
counters) for a few seconds, call BGSAVE and at once add 50 clients that
overwrite the loaded keys with SET, sample memory every 10 ms until the save
ends, and measure the write rate during it. Then the file is loaded into a
fresh redis-server and every loaded key must hold its value from before the
BGSAVE (the file is the dataset as of the call). Memory:
ours = peak RSS minus RSS before; Redis = the fork child's private resident
pages (copy-on-write copies plus what the child allocates; Private_Clean +
Private_Dirty of /proc/<child>/smaps_rollup) at their peak, plus the parent's
growth. Prints a markdown table. Not part of CI's pass/fail.

    /usr/bin/python3 bench/bgsave.py --ours build/app/shrike-server [--keys 1000000]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import free_port, proc_rss_bytes, resp_cmd, write_resp_file  # noqa: E402


def info_field(port, section, name):
    text = resp_cmd(port, "INFO", section, timeout=30)
    for line in text.splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].strip()
    return None


def commands_processed(port):
    return int(info_field(port, "stats", "total_commands_processed"))


def children_of(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def private_kb(pid):
    total = 0
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith(("Private_Clean:", "Private_Dirty:")):
                    total += int(line.split()[1])
    except OSError:
        pass
    return total


def wait_ping(port, seconds):
    """Until the server on `port` answers PING (it may be loading a file)."""
    deadline = time.time() + seconds
    while True:
        try:
            if resp_cmd(port, "PING") == "PONG":
                return
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(0.05)


def file_is_as_loaded(path, keys):
    """Loads `path` into a fresh redis-server; True when every key holds the
    value write_resp_file gave it."""
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", os.path.dirname(path), "--dbfilename",
                             os.path.basename(path)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_ping(port, 60)
        r = subprocess.run(["redis-cli", "-p", str(port), "--scan", "--pattern", "key:*"], capture_output=True,
                           text=True, check=True)
        if len(r.stdout.split()) != keys:
            return False
        for start in range(1, keys + 1, 10000):
            ids = range(start, min(start + 10000, keys + 1))
            got = resp_cmd(port, "MGET", *["key:%012d" % i for i in ids], timeout=30)
            if got != ["val:%028d" % i for i in ids]:
                return False
        return True
    finally:
        proc.kill()
        proc.wait()


def measure(label, argv, resp_path, keys, clients, seconds):
    d = tempfile.mkdtemp(prefix="bgsave-bench-")
    port = free_port()
    proc = subprocess.Popen(argv + ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                    "--dir", d], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    bench = None
    try:
        wait_ping(port, 10)
        with open(resp_path, "rb") as fin:
            subprocess.run(["redis-cli", "-p", str(port), "--pipe"], stdin=fin, capture_output=True, check=True)
        assert resp_cmd(port, "DBSIZE", timeout=30) == keys
        bench = subprocess.Popen(["redis-benchmark", "-p", str(port), "-c", str(clients), "-n", "1000000000",
                                  "-r", str(keys), "-t", "incr", "-q"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        c0, t0 = commands_processed(port), time.time()
        time.sleep(seconds)
        c1, t1 = commands_processed(port), time.time()
        before_rate = (c1 - c0) / (t1 - t0)
        rss_before = proc_rss_bytes(proc.pid)
        peak_extra = 0
        c2, t2 = commands_processed(port), time.time()
        resp_cmd(port, "BGSAVE")
        overwriters = subprocess.Popen(["redis-benchmark", "-p", str(port), "-c", str(clients), "-n",
                                        "1000000000", "-r", str(keys), "-t", "set", "-d", "32", "-q"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while info_field(port, "persistence", "rdb_bgsave_in_progress") == "1":
            extra = proc_rss_bytes(proc.pid) - rss_before
            extra += sum(private_kb(c) for c in children_of(proc.pid)) * 1024
            peak_extra = max(peak_extra, extra)
            time.sleep(0.01)
        c3, t3 = commands_processed(port), time.time()
        overwriters.kill()
        overwriters.wait()
        during_rate = (c3 - c2) / (t3 - t2)
        status = info_field(port, "persistence", "rdb_last_bgsave_status")
        # (the live dataset did change: some of the first 10,000 keys differ now)
        sample = resp_cmd(port, "MGET", *["key:%012d" % i for i in range(1, 10001)], timeout=30)
        changed = sum(1 for i, v in enumerate(sample, 1) if v != "val:%028d" % i)
        bench.kill()
        bench.wait()
        bench = None
        proc.kill()
        proc.wait()
        consistent = file_is_as_loaded(os.path.join(d, "dump.rdb"), keys)
        return {"consistent": consistent, "overwritten_now": changed > 0,"label": label, "before": before_rate, "during": during_rate, "save_s": t3 - t2,
                "extra": peak_extra, "rss": rss_before, "status": status,
                "file": os.path.getsize(os.path.join(d, "dump.rdb"))}
    finally:
        if bench:
            bench.kill()
            bench.wait()
        proc.kill()
        proc.wait()
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ours", required=True)
    ap.add_argument("--ref", default="redis-server")
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--ours-args", default="")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="bgsave-resp-")
    try:
        resp_path = os.path.join(tmp, "load.resp")
        write_resp_file(resp_path, args.keys)
        rows = [measure("ours", [args.ours] + args.ours_args.split(), resp_path, args.keys, args.clients, args.seconds),
                measure("redis", [args.ref], resp_path, args.keys, args.clients, args.seconds)]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    mb = 1024 * 1024
    print("### BGSAVE of %d keys while %d clients write (SET, random keys)\n" % (args.keys, args.clients))
    print("| server | RSS before | extra memory during save | save time | writes/s before | writes/s during "
          "| status | file = dataset at BGSAVE |")
    print("|---|---:|---:|---:|---:|---:|---|---|")
    for r in rows:
        print("| %s | %.1f MB | %.1f MB | %.2f s | %.0f | %.0f | %s | %s |" % (
            r["label"], r["rss"] / mb, r["extra"] / mb, r["save_s"], r["before"], r["during"], r["status"],
            "yes" if r["consistent"] and r["overwritten_now"] else "NO"))
    o, x = rows
    print("\nextra memory ours/redis: %.2f; writes during save ours/redis: %.2f" % (
        o["extra"] / max(x["extra"], 1), o["during"] / max(x["during"], 1)))


if __name__ == "__main__":
    main()
