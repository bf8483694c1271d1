"""Redis Sentinel (Debian's redis-sentinel 7.0) failing over Shrike servers.

Three sentinels monitor a Shrike master with two Shrike replicas. The master
is killed: a replica is promoted (SLAVEOF NO ONE inside MULTI with CONFIG
REWRITE and CLIENT KILL), the other follows it, writes succeed on the new
master, and no write acknowledged by WAIT 2 before the kill is lost.
"""
import os
import shutil
import signal
import subprocess
import time

import pytest
import redis

from conftest import free_port
from test_rdb_interop import Proc, shrike_argv, workdir  # noqa: F401

SENTINEL = shutil.which("redis-sentinel")
pytestmark = pytest.mark.skipif(SENTINEL is None, reason="redis-sentinel not installed")


def start_sentinel(directory, master_port):
    port = free_port()
    conf = os.path.join(directory, "sentinel-%d.conf" % port)
    with open(conf, "w") as f:
        f.write("port %d\nbind 127.0.0.1\ndir %s\n" % (port, directory))
        f.write("sentinel monitor mymaster 127.0.0.1 %d 2\n" % master_port)
        f.write("sentinel down-after-milliseconds mymaster 1000\n")
        f.write("sentinel failover-timeout mymaster 20000\n")
        f.write("sentinel parallel-syncs mymaster 2\n")
    log = open(os.path.join(directory, "sentinel-%d.log" % port), "w")
    proc = subprocess.Popen([SENTINEL, conf], stdout=log, stderr=subprocess.STDOUT, cwd=directory)
    return port, proc, log


def until(what, check, timeout=60):
    deadline = time.time() + timeout
    while True:
        try:
            value = check()
            if value:
                return value
        except (redis.exceptions.ConnectionError, redis.exceptions.ResponseError):
            pass
        if time.time() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.2)


def test_sentinel_failover(shrike_binary, workdir):
    argv = shrike_argv(shrike_binary) + ["--repl-diskless-sync-delay", "0"]
    servers = []
    sentinels = []
    try:
        os.makedirs(os.path.join(workdir, "m"))
        master = Proc(argv, os.path.join(workdir, "m"))
        servers.append(master)
        for name in ("r1", "r2"):
            os.makedirs(os.path.join(workdir, name))
            servers.append(Proc(argv + ["--replicaof", "127.0.0.1 %d" % master.port], os.path.join(workdir, name)))
        mc = master.client()
        until("both replicas online", lambda: mc.info("replication")["connected_slaves"] == 2 and
              all(mc.info("replication")["slave%d" % i]["state"] == "online" for i in range(2)))
        for _ in range(3):
            sentinels.append(start_sentinel(workdir, master.port))
        s0 = redis.Redis(port=sentinels[0][0], decode_responses=True)
        until("sentinels to know the replicas and each other",
              lambda: len(s0.sentinel_slaves("mymaster")) == 2 and len(s0.sentinel_sentinels("mymaster")) == 2)

        acknowledged = []
        for i in range(200):
            mc.set("k%d" % i, i)
            acknowledged.append("k%d" % i)
        assert mc.wait(2, 5000) == 2

        master.proc.send_signal(signal.SIGKILL)
        master.proc.wait()
        new_addr = until("a new master", lambda: (lambda a: a if a and int(a[1]) != master.port else None)(
            s0.sentinel_get_master_addr_by_name("mymaster")), timeout=90)
        new_port = int(new_addr[1])
        promoted = next(s for s in servers if s.port == new_port)
        other = next(s for s in servers[1:] if s.port != new_port)
        pc = promoted.client()
        assert pc.info("replication")["role"] == "master"
        until("the other replica to follow the new master",
              lambda: other.client().info("replication").get("master_port") == new_port and
              other.client().info("replication").get("master_link_status") == "up", timeout=90)
        assert pc.set("after-failover", "yes")
        assert pc.wait(1, 5000) == 1
        assert other.client().get("after-failover") == b"yes"
        values = pc.mget(acknowledged)
        assert values == [str(i).encode() for i in range(200)]
    finally:
        for port, proc, log in sentinels:
            proc.terminate()
            proc.wait(10)
            log.close()
        for s in servers:
            s.stop()
