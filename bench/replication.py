#!/usr/bin/env python3
"""Replication, side by side: ours master -> ours replica against Redis
master -> Redis replica, in one run.

1. Full sync: the master holds N keys (16-byte keys, 32-byte values, loaded
   with redis-cli --pipe); a replica is started with --replicaof and the
   time from its start until its link is up with every key loaded is
   measured (diskless sync, delay 0, as both servers' defaults except the
   delay).
2. Propagation: redis-benchmark SET at full speed (50 clients, pipeline 16)
   against the master with the replica attached; when the load stops, the
   time until the replica's offset equals the master's (the lag).
Prints a markdown table with the ratios (Redis time / ours: above 1 means
ours is faster). Not part of CI's pass/fail.

    /usr/bin/python3 bench/replication.py --ours build/app/shrike-server [--keys 1000000]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import free_port, resp_cmd, write_resp_file  # noqa: E402


def info(port, section="replication"):
    text = resp_cmd(port, "INFO", section, timeout=30)
    out = {}
    for line in text.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k] = v.strip()
    return out


def start(argv, directory, extra):
    port = free_port()
    log = open(os.path.join(directory, "server-%d.log" % port), "w")
    proc = subprocess.Popen(argv + ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                    "--dir", directory, "--repl-diskless-sync-delay", "0"] + extra,
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 30
    while True:
        try:
            if resp_cmd(port, "PING") == "PONG":
                return port, proc
        except OSError:
            pass
        if time.time() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.02)


def measure(label, argv, is_ours, resp_path, keys):
    d = tempfile.mkdtemp(prefix="shrike-bench-repl-")
    procs = []
    try:
        mport, m = start(argv, d, [])
        procs.append(m)
        with open(resp_path, "rb") as fin:
            subprocess.run(["redis-cli", "-p", str(mport), "--pipe"], stdin=fin, capture_output=True, check=True)
        rd = os.path.join(d, "replica")
        os.makedirs(rd)
        t0 = time.time()
        replicaof = ["--replicaof", "127.0.0.1 %d" % mport] if is_ours else ["--replicaof", "127.0.0.1", str(mport)]
        rport, r = start(argv, rd, replicaof)
        procs.append(r)
        while True:
            i = info(rport)
            if i.get("master_link_status") == "up" and int(info(rport, "keyspace").get("db0", "keys=0").split(",")[0].split("=")[1]) == keys:
                break
            time.sleep(0.01)
        full_sync = time.time() - t0
        bench = subprocess.run(["redis-benchmark", "-p", str(mport), "-c", "50", "-P", "16", "-n", "2000000", "-t",
                                "set", "-r", "1000000", "-q"], capture_output=True, text=True)
        t1 = time.time()
        while int(info(rport)["slave_repl_offset"]) < int(info(mport)["master_repl_offset"]):
            time.sleep(0.005)
        lag = time.time() - t1
        rate = bench.stdout.strip().splitlines()[-1] if bench.stdout.strip() else "?"
        return {"label": label, "full_sync_s": full_sync, "lag_s": lag, "set_rate": rate}
    finally:
        for p in procs:
            p.terminate()
            p.wait(30)
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ours", required=True)
    ap.add_argument("--redis", default=shutil.which("redis-server"))
    ap.add_argument("--keys", type=int, default=1_000_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        resp_path = os.path.join(tmp, "load.resp")
        write_resp_file(resp_path, args.keys)
        ours = measure("shrike", [os.path.abspath(args.ours)], True, resp_path, args.keys)
        redis = measure("redis", [args.redis], False, resp_path, args.keys)
    print("| %d keys | full sync (s) | lag after SET load (s) | SET rate during the load |" % args.keys)
    print("|---|---|---|---|")
    for r in (ours, redis):
        print("| %s | %.2f | %.3f | %s |" % (r["label"], r["full_sync_s"], r["lag_s"], r["set_rate"]))
    print("| ratio redis/ours | %.2f | | |" % (redis["full_sync_s"] / ours["full_sync_s"]))


if __name__ == "__main__":
    main()
