"""Replication between shrike-server and Debian's redis-server 7.0, both ways.

Each topology gets a rich dataset (every type and encoding in 16 databases,
from test_rdb_interop) plus a bulk of keys of every type before the replica
attaches, then more writes while it is attached: relative TTLs, float
increments, random pops, XADD with generated ids, blocking pops served by a
push, transactions, keys that expire. The replica must end up equal to the
master key by key (values, types, TTLs within tolerance). Also: a dropped
link heals by partial resync, WAIT counts the replicas that acknowledged,
replicas refuse writes, ROLE and INFO replication say what they are.
"""
import os
import shutil
import threading
import time

import pytest
import redis

from test_rdb_interop import REDIS_SERVER, Proc, fill, shrike_argv, value_of, workdir  # noqa: F401

pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server (Debian's redis-server 7.0) not installed")

# Keys of the bulk part, of each of five types (plus a stream every 50);
# smaller under a sanitizer; SHRIKE_REPL_BULK=100000 for the full-size run.
BULK = int(os.environ.get("SHRIKE_REPL_BULK", 2_000 if os.environ.get("SHRIKE_SANITIZED") else 20_000))


def redis_argv():
    return [REDIS_SERVER, "--repl-diskless-sync-delay", "0"]


def ours(binary):
    return shrike_argv(binary) + ["--repl-diskless-sync-delay", "0"]


def info(c, section="replication"):
    return c.info(section)


def bulk(c, n, tag):
    """n keys of each type, some with TTLs, in db 0."""
    p = c.pipeline(transaction=False)
    for i in range(n):
        k = "%s:%d" % (tag, i)
        p.set("s:" + k, "v%d" % i)
        p.rpush("l:" + k, "a", i, "c")
        p.hset("h:" + k, mapping={"f": i, "g": "x"})
        p.sadd("S:" + k, i, "m")
        p.zadd("z:" + k, {"a": i, "b": -i})
        if i % 50 == 0:
            p.xadd("x:" + k, {"f": i}, id="%d-1" % (i + 1))
        if i % 10 == 0:
            p.pexpire("s:" + k, 3_600_000 + i)
        if len(p) >= 2000:
            p.execute()
    p.execute()


def mutate_attached(c):
    """Writes whose arguments alone would not reproduce them on a replica."""
    c.set("rel:ex", "v", ex=1000)
    c.set("rel:px", "v", px=500_000)
    c.setex("rel:setex", 900, "v")
    c.expire("s:pre:1", 700)
    c.getex("s:pre:2", ex=600)
    c.set("f", "1.1")
    for _ in range(5):
        c.incrbyfloat("f", "0.1")
    c.hincrbyfloat("hf", "x", "2.5")
    c.sadd("pop", *range(100))
    c.spop("pop")
    c.spop("pop", 10)
    for _ in range(20):
        c.xadd("gen-stream", {"k": "v"})
    c.xadd("gen-stream", {"k": "last"}, maxlen=5, approximate=True)
    c.xgroup_create("gen-stream", "grp", id="0")
    c.xreadgroup("grp", "alice", {"gen-stream": ">"}, count=3)
    c.xreadgroup("grp", "bob", {"gen-stream": ">"}, count=1, noack=True)
    c.set("short", "gone soon", px=300)
    with c.pipeline(transaction=True) as p:
        p.incr("tx:a")
        p.lpush("tx:l", "x")
        p.delete("s:pre:3")
        p.execute()
    c.rpush("bl:src", "p", "q")
    assert c.blpop(["bl:none", "bl:src"], 1) == (b"bl:src", b"p")
    # A pop served by a later push.
    result = {}

    def waiter():
        w = redis.Redis(port=c.connection_pool.connection_kwargs["port"])
        result["v"] = w.brpop("bl:wait", 5)
        w.close()

    t = threading.Thread(target=waiter)
    t.start()
    time.sleep(0.3)
    c.lpush("bl:wait", "served")
    t.join()
    assert result["v"] == (b"bl:wait", b"served")
    c.select(3)
    c.set("db3:late", "x")
    c.select(0)


def wait_synced(master, replica, timeout=60):
    deadline = time.time() + timeout
    while True:
        m = info(master)["master_repl_offset"]
        r = info(replica)
        if r.get("master_link_status") == "up" and r["slave_repl_offset"] == m:
            return
        if time.time() > deadline:
            raise AssertionError("replica did not catch up: master %s, replica %s" % (m, r))
        time.sleep(0.05)


PIPELINED_READS = {
    b"string": lambda p, k: p.get(k),
    b"list": lambda p, k: p.lrange(k, 0, -1),
    b"hash": lambda p, k: p.hgetall(k),
    b"set": lambda p, k: p.smembers(k),
    b"zset": lambda p, k: p.zrange(k, 0, -1, withscores=True),
}


def snapshot(c):
    """{(db, key): (type, expire time, value)} of every db, pipelined. The
    expire time is absolute (PEXPIRETIME): the two snapshots are taken
    seconds apart."""
    out = {}
    port = c.connection_pool.connection_kwargs["port"]
    for db in range(16):
        cl = redis.Redis(port=port, db=db, socket_timeout=60)
        keys = list(cl.scan_iter(count=5000))
        for i in range(0, len(keys), 2000):
            chunk = keys[i:i + 2000]
            p = cl.pipeline(transaction=False)
            for k in chunk:
                p.type(k)
                p.execute_command("PEXPIRETIME", k)
            meta = p.execute()
            p = cl.pipeline(transaction=False)
            for j, k in enumerate(chunk):
                read = PIPELINED_READS.get(meta[2 * j])
                if read:
                    read(p, k)
            values = iter(p.execute())
            for j, k in enumerate(chunk):
                kind = meta[2 * j]
                value = next(values) if kind in PIPELINED_READS else value_of(cl, k, kind)
                if isinstance(value, dict):
                    value = sorted(value.items())
                elif isinstance(value, set):
                    value = sorted(value)
                out[(db, k)] = (kind, meta[2 * j + 1], value)
        cl.close()
    return out


def assert_same(master, replica):
    a, b = snapshot(master), snapshot(replica)
    assert set(a) == set(b), ("key sets differ", sorted(set(a) ^ set(b))[:10])
    for key, (kind, expires, value) in a.items():
        kind_b, expires_b, value_b = b[key]
        assert kind == kind_b, key
        assert value == value_b, key
        assert expires == expires_b, (key, expires, expires_b)
    assert len(a) > 5 * BULK
    return len(a)


def replicate(master, replica_argv, workdir, name):
    d = os.path.join(workdir, name)
    os.makedirs(d)
    return Proc(replica_argv + ["--replicaof", "127.0.0.1 %d" % master.port] if "shrike" in replica_argv[0]
                else replica_argv + ["--replicaof", "127.0.0.1", str(master.port)], d)


def run_topology(master_argv, replica_argv, workdir):
    md = os.path.join(workdir, "master")
    os.makedirs(md)
    master = Proc(master_argv, md)
    replica = None
    try:
        mc = master.client()
        fill(master)
        bulk(mc, BULK, "pre")
        replica = replicate(master, replica_argv, workdir, "replica")
        wait_synced(mc, replica.client())
        bulk(mc, BULK // 4, "post")
        mutate_attached(mc)
        time.sleep(0.6)  # "short" expires on the master; its DEL must reach the replica
        assert mc.exists("short") == 0
        wait_synced(mc, replica.client())
        assert replica.client().exists("short") == 0
        assert_same(mc, replica.client())
        return master, replica
    except BaseException:
        master.stop()
        if replica:
            replica.stop()
        raise


def heals_by_partial_resync(master, replica):
    """The master drops the replica's link; it comes back with +CONTINUE."""
    mc, rc = master.client(), replica.client()
    stats = info(mc, "stats")
    assert mc.client_kill_filter(_type="slave") == 1
    mc.set("written-while-down", "x")
    deadline = time.time() + 30
    while info(mc, "stats")["sync_partial_ok"] == stats["sync_partial_ok"]:
        assert time.time() < deadline, "no partial resync"
        time.sleep(0.05)
    wait_synced(mc, rc)
    assert info(mc, "stats")["sync_full"] == stats["sync_full"]
    assert rc.get("written-while-down") == b"x"


def test_shrike_master_redis_replica(shrike_binary, workdir):
    master, replica = run_topology(ours(shrike_binary), redis_argv(), workdir)
    try:
        assert info(replica.client())["role"] == "slave"
        assert info(master.client())["connected_slaves"] == 1
        heals_by_partial_resync(master, replica)
    finally:
        replica.stop()
        master.stop()


def test_redis_master_shrike_replica(shrike_binary, workdir):
    master, replica = run_topology(redis_argv(), ours(shrike_binary), workdir)
    try:
        rc = replica.client()
        with pytest.raises(redis.exceptions.ReadOnlyError):
            rc.set("x", "1")
        role = rc.execute_command("ROLE")
        assert role[0] == b"slave" and role[2] == master.port and role[3] == b"connected"
        i = info(rc)
        for field in ("master_host", "master_port", "master_link_status", "slave_repl_offset", "slave_priority",
                      "replica_announced", "master_replid"):
            assert field in i, field
        assert len(i["master_replid"]) == 40
        heals_by_partial_resync(master, replica)
    finally:
        replica.stop()
        master.stop()


def test_shrike_chain_partial_resync_and_wait(shrike_binary, workdir):
    master, replica = run_topology(ours(shrike_binary), ours(shrike_binary), workdir)
    chained = None
    try:
        mc, rc = master.client(), replica.client()
        chained = replicate(replica, ours(shrike_binary), workdir, "chained")
        cc = chained.client()
        mc.set("through", "both")
        wait_synced(mc, rc)
        wait_synced(rc, cc)
        assert cc.get("through") == b"both"
        assert_same(mc, cc)
        # WAIT counts replicas that acknowledged this client's writes.
        mc.set("acked", "1")
        assert mc.wait(1, 5000) == 1
        assert mc.wait(2, 200) == 1  # only one direct replica
        # A dropped link heals by partial resync, not a full one.
        full_before = info(mc, "stats")["sync_full"]
        partial_before = info(mc, "stats")["sync_partial_ok"]
        assert mc.client_kill_filter(_type="slave") == 1
        mc.set("while-down", "x")
        bulk(mc, 100, "gap")
        wait_synced(mc, rc)
        wait_synced(rc, cc)
        stats = info(mc, "stats")
        assert stats["sync_full"] == full_before
        assert stats["sync_partial_ok"] == partial_before + 1
        assert cc.get("while-down") == b"x"
        # min-replicas-to-write: one good replica here, not two.
        mc.config_set("min-replicas-to-write", 1)
        assert mc.set("enough", "1")
        mc.config_set("min-replicas-to-write", 2)
        with pytest.raises(redis.exceptions.ResponseError, match="NOREPLICAS Not enough good replicas to write."):
            mc.set("not-enough", "1")
        mc.config_set("min-replicas-to-write", 0)
        # PUBLISH reaches the replicas' subscribers, as in Redis.
        ps = cc.pubsub()
        ps.subscribe("news")
        assert ps.get_message(timeout=5)["type"] == "subscribe"
        mc.publish("news", "through the stream")
        msg = ps.get_message(timeout=5)
        assert msg and msg["data"] == b"through the stream"
        ps.close()
        # Promotion keeps the data and the old history under replid2.
        old_id = info(mc)["master_replid"]
        assert rc.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
        ri = info(rc)
        assert ri["role"] == "master" and ri["master_replid2"] == old_id
        rc.set("after-promotion", "y")
        wait_synced(rc, cc)
        assert cc.get("after-promotion") == b"y"
        assert info(rc, "stats")["sync_full"] == 1, chained.output()  # the chained replica continued partially
    finally:
        if chained:
            chained.stop()
        replica.stop()
        master.stop()
