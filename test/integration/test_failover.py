"""FAILOVER: a master hands its role to a replica without losing a write.

Shrike to Shrike while a client keeps writing (every acknowledged write is on
the new master), Shrike to redis-server and redis-server to Shrike (the PSYNC
... FAILOVER handshake both ways), a replica that never catches up (TIMEOUT
aborts, ABORT aborts, FORCE fails over anyway), and the refusals.
"""
import contextlib
import os
import signal
import threading
import time

import pytest
import redis

from test_rdb_interop import REDIS_SERVER, Proc, workdir  # noqa: F401
from test_replication import info, ours, redis_argv, replicate, snapshot, wait_synced

pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server (Debian's redis-server 7.0) not installed")


def until(what, check, timeout=20):
    deadline = time.time() + timeout
    while not check():
        if time.time() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)


def role(c):
    return c.execute_command("ROLE")[0]


def failover_state(c):
    return info(c)["master_failover_state"]


@contextlib.contextmanager
def pair(workdir, master_argv, replica_argv):
    """A master and its synced replica, stopped afterwards."""
    md = os.path.join(workdir, "master")
    os.makedirs(md)
    master = Proc(master_argv, md)
    replica = None
    try:
        replica = replicate(master, replica_argv, workdir, "replica")
        wait_synced(master.client(), replica.client())
        yield master, replica
    finally:
        master.stop()
        if replica:
            replica.stop()


def load(c):
    p = c.pipeline(transaction=False)
    for i in range(500):
        p.set("s:%d" % i, "v%d" % i)
        p.rpush("l:%d" % (i % 20), i)
        p.hset("h:%d" % (i % 30), "f%d" % i, i)
        p.zadd("z", {"m%d" % i: i})
    p.execute()


def swapped(old, new):
    """The old master follows the new one with its link up."""
    o = info(old)
    return role(new) == b"master" and o["role"] == "slave" and o.get("master_link_status") == "up" \
        and o["master_failover_state"] == "no-failover"


def check_roles_swapped(old, new, new_port):
    oc, nc = old.client(), new.client()
    until("the roles to swap", lambda: swapped(oc, nc))
    assert info(oc)["master_port"] == new_port
    wait_synced(nc, oc)
    assert snapshot(oc) == snapshot(nc)
    nc.set("after-failover", "1")
    wait_synced(nc, oc)
    assert oc.get("after-failover") == b"1"
    with pytest.raises(redis.exceptions.ReadOnlyError):
        oc.set("refused", "1")


def test_shrike_to_shrike_loses_no_acknowledged_write(shrike_binary, workdir):
    with pair(workdir, ours(shrike_binary), ours(shrike_binary)) as (master, replica):
        mc, rc = master.client(), replica.client()
        load(mc)
        wait_synced(mc, rc)
        acknowledged = {"last": 0, "refused": False}

        def writer():
            c = master.client()
            while True:
                try:
                    acknowledged["last"] = c.incr("counter")
                except redis.exceptions.ReadOnlyError:
                    acknowledged["refused"] = True
                    return

        blocked = {}

        def blocked_pop():
            try:
                blocked["reply"] = master.client().blpop("never-pushed", 0)
            except redis.exceptions.ResponseError as e:
                blocked["error"] = str(e)

        t = threading.Thread(target=writer)
        t.start()
        b = threading.Thread(target=blocked_pop)
        b.start()
        until("some writes", lambda: acknowledged["last"] > 200)
        until("the blocked client", lambda: info(mc, "clients")["blocked_clients"] == 1)
        waited = {}

        def wait_for_two_replicas():
            try:
                waited["reply"] = master.client().wait(2, 0)
            except redis.exceptions.ResponseError as e:
                waited["error"] = str(e)

        w = threading.Thread(target=wait_for_two_replicas)
        w.start()
        until("the WAIT", lambda: any(c["cmd"] == "wait" for c in mc.client_list()))
        assert mc.execute_command("FAILOVER") == b"OK"
        t.join(30)
        assert not t.is_alive()
        # The writer's last increments waited out the pause, then met a replica.
        assert acknowledged["refused"]
        # Clients blocked on the old master (BLPOP, WAIT) are told and
        # disconnected, as Redis does.
        b.join(30)
        w.join(30)
        unblocked = "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)"
        assert blocked == {"error": unblocked}
        assert waited == {"error": unblocked}
        check_roles_swapped(master, replica, replica.port)
        assert int(rc.get("counter")) == acknowledged["last"]
        # The new master's replid continues the old history (a partial resync).
        assert info(rc)["master_replid2"] == info(mc)["master_replid2"]
        assert info(rc, "stats")["sync_partial_ok"] == 1


def test_shrike_master_to_redis_replica(shrike_binary, workdir):
    with pair(workdir, ours(shrike_binary), redis_argv()) as (master, replica):
        load(master.client())
        wait_synced(master.client(), replica.client())
        assert master.client().execute_command("FAILOVER", "TO", "127.0.0.1", replica.port) == b"OK"
        check_roles_swapped(master, replica, replica.port)


def test_redis_master_to_shrike_replica(shrike_binary, workdir):
    with pair(workdir, redis_argv(), ours(shrike_binary)) as (master, replica):
        load(master.client())
        wait_synced(master.client(), replica.client())
        assert master.client().execute_command("FAILOVER", "TIMEOUT", 10000) == b"OK"
        check_roles_swapped(master, replica, replica.port)


def test_a_replica_that_never_catches_up(shrike_binary, workdir):
    with pair(workdir, ours(shrike_binary), ours(shrike_binary)) as (master, replica):
        mc = master.client()
        mc.set("before", "1")
        wait_synced(mc, replica.client())
        replica.proc.send_signal(signal.SIGSTOP)
        try:
            mc.set("while-stopped", "1")  # the replica's ACK stays behind this
            # TIMEOUT without FORCE: writes wait, then the failover gives up.
            assert mc.execute_command("FAILOVER", "TIMEOUT", 400) == b"OK"
            assert failover_state(mc) == "waiting-for-sync"
            with pytest.raises(redis.exceptions.ResponseError, match="^FAILOVER already in progress.$"):
                mc.execute_command("FAILOVER")
            with pytest.raises(redis.exceptions.ResponseError, match="^REPLICAOF not allowed while failing over.$"):
                mc.execute_command("REPLICAOF", "NO", "ONE")
            assert mc.get("before") == b"1"  # reads go on
            started = time.time()
            assert mc.set("paused-write", "1")
            assert time.time() - started > 0.2  # it waited for the abort
            assert failover_state(mc) == "no-failover"
            assert role(mc) == b"master"
            # ABORT ends a failover that waits forever.
            assert mc.execute_command("FAILOVER") == b"OK"
            result = {}
            t = threading.Thread(target=lambda: result.setdefault("v", master.client().incr("n")))
            t.start()
            time.sleep(0.3)
            assert "v" not in result  # the write waits
            assert mc.execute_command("FAILOVER", "ABORT") == b"OK"
            t.join(10)
            assert result["v"] == 1
            # CLIENT UNPAUSE does not end a failover's pause.
            assert mc.execute_command("FAILOVER") == b"OK"
            assert mc.execute_command("CLIENT", "UNPAUSE") == b"OK"
            assert failover_state(mc) == "waiting-for-sync"
            assert mc.execute_command("FAILOVER", "ABORT") == b"OK"
            # FORCE: after the timeout the failover goes ahead anyway.
            assert mc.execute_command("FAILOVER", "TO", "127.0.0.1", replica.port, "TIMEOUT", 300, "FORCE") == b"OK"
            until("the forced failover", lambda: failover_state(mc) == "failover-in-progress")
        finally:
            replica.proc.send_signal(signal.SIGCONT)
        rc = replica.client()
        until("the roles to swap", lambda: swapped(mc, rc))
        # (The stopped replica still had the stream in its socket buffer, so
        # it may well have everything: the old master follows whatever the new
        # one has, by partial or full sync.)
        wait_synced(rc, mc)
        assert mc.get("before") == b"1"
        assert snapshot(mc) == snapshot(rc)


def test_refusals(shrike_binary, workdir):
    with pair(workdir, ours(shrike_binary), ours(shrike_binary)) as (master, replica):
        mc, rc = master.client(), replica.client()

        def refused(c, message, *args):
            with pytest.raises(redis.exceptions.ResponseError, match="^" + message + "$"):
                c.execute_command(*args)

        refused(rc, "FAILOVER is not valid when server is a replica.", "FAILOVER")
        refused(mc, r"FAILOVER target HOST and PORT is not a replica.", "FAILOVER", "TO", "127.0.0.1", replica.port + 1)
        refused(mc, r"FAILOVER with force option requires both a timeout and target HOST and IP.",
                "FAILOVER", "TO", "127.0.0.1", replica.port, "FORCE")
        refused(mc, "No failover in progress.", "FAILOVER", "ABORT")
        # PSYNC ... FAILOVER: only a replica, only from its master's history.
        refused(mc, "PSYNC FAILOVER can't be sent to a master.", "PSYNC", info(mc)["master_replid"], 1, "FAILOVER")
        refused(rc, "PSYNC FAILOVER replid must match my replid.", "PSYNC", "0" * 40, 1, "FAILOVER")
        assert role(rc) == b"slave"
        assert failover_state(mc) == "no-failover"
