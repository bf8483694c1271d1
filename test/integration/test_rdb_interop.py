"""RDB files both ways between Debian's redis-server 7.0 and shrike-server.

(a) redis-server fills every type in its small and large encodings in 16
databases, SAVEs; shrike-server starts on that file and must hold the same
keys, values, TTLs and encodings. (b) The reverse, with redis-check-rdb
checking our file first. (c) kill -9 after SAVE loses nothing. (d) A corrupt
file stops the server with exit code 1 and a message naming file and offset.
"""
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
import redis

from conftest import free_port

REDIS_SERVER = shutil.which("redis-server")
REDIS_CHECK_RDB = shutil.which("redis-check-rdb")

pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server (Debian's redis-server 7.0) not installed")

TTL_TOLERANCE_MS = 5000


class Proc:
    """A server process on a free port with a given dir/dbfilename."""

    def __init__(self, argv, directory, dbfilename="dump.rdb", wait=True):
        self.port = free_port()
        self.dir = directory
        self.log_path = os.path.join(directory, "server-%d.log" % self.port)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            argv + ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                    "--dir", directory, "--dbfilename", dbfilename],
            stdout=self.log, stderr=subprocess.STDOUT, cwd=directory)
        if wait:
            self.wait_ready()

    def wait_ready(self):
        deadline = time.time() + 30
        while True:
            try:
                if redis.Redis(port=self.port, socket_timeout=2).ping():
                    return
            except (redis.exceptions.ConnectionError, redis.exceptions.BusyLoadingError):
                if self.proc.poll() is not None:
                    raise RuntimeError("server exited: " + self.output())
                if time.time() > deadline:
                    raise RuntimeError("server did not start: " + self.output())
                time.sleep(0.05)

    def client(self, db=0):
        return redis.Redis(port=self.port, db=db, socket_timeout=60)

    def output(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def shrike_argv(binary):
    return [binary, "--threads", "2", "--shards", "4"]


@pytest.fixture
def workdir():
    d = tempfile.mkdtemp(prefix="shrike-rdb-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def fill(server):
    """Every type, small and large encodings, TTLs, binary data, streams with
    groups and pending entries, in all 16 databases."""
    rnd = random.Random(42)
    for db in range(16):
        c = server.client(db)
        p = c.pipeline(transaction=False)
        pre = "db%d:" % db
        p.set(pre + "marker", "database %d" % db)
        if db % 4 != 0:
            p.set(pre + "int", str(db * 1000 - 7))
            p.set(pre + "ttl", "expiring", px=3_600_000 + db)
            p.execute()
            continue
        # strings
        p.set(pre + "str", "hello world")
        p.set(pre + "int8", "12")
        p.set(pre + "int32", "-40000")
        p.set(pre + "int64", "9223372036854775807")
        p.set(pre + "embstr44", "e" * 44)
        p.set(pre + "raw45", "r" * 45)
        p.set(pre + "compressible", "abc" * 500)
        p.set(pre + "binary", bytes(rnd.getrandbits(8) for _ in range(3000)))
        p.set(pre + "empty", "")
        p.set(pre + "ttl:str", "v", px=7_200_000)
        p.set(b"\x00bin\xffkey" + pre.encode(), b"\r\n\x00")
        # lists
        p.rpush(pre + "list:small", "a", "1", "-100", "b" * 30)
        p.rpush(pre + "list:big", *["element-%d" % i for i in range(5000)])
        p.rpush(pre + "list:fat", "x" * 10000, "y", "z" * 9000, "w" * 5)
        p.lpush(pre + "list:ints", *range(300))
        p.rpush(pre + "ttl:list", "a", "b")
        p.pexpire(pre + "ttl:list", 5_000_000)
        # hashes
        p.hset(pre + "hash:small", mapping={"f1": "v1", "f2": "2", "f3": "x" * 20})
        p.hset(pre + "hash:big", mapping={"field:%d" % i: "value:%d" % i for i in range(600)})
        p.hset(pre + "hash:longvalue", mapping={"a": "v" * 100, "b": "1"})
        p.hset(pre + "ttl:hash", "f", "v")
        p.expire(pre + "ttl:hash", 86400)
        # sets
        p.sadd(pre + "set:int16", 1, 2, 3, -5, 300)
        p.sadd(pre + "set:int64", 1, 9_000_000_000, -9_000_000_000)
        p.sadd(pre + "set:str", "a", "b", "c", "1")
        p.sadd(pre + "set:bigint", *range(0, 1800, 3))
        p.sadd(pre + "set:bigstr", *["member-%d" % i for i in range(700)])
        # sorted sets
        p.zadd(pre + "zset:small", {"a": 1, "b": 2.5, "c": -3, "d": 0.1})
        p.zadd(pre + "zset:big", {"m%d" % i: i * 1.25 for i in range(300)})
        p.zadd(pre + "zset:longmember", {"m" * 100: 1, "n": 2})
        p.zadd(pre + "zset:special", {"ninf": float("-inf"), "pinf": float("inf"), "huge": 1e300,
                                      "tiny": 1e-300, "big": 4611686018427387904, "neg": -17})
        p.zadd(pre + "ttl:zset", {"x": 1})
        p.pexpire(pre + "ttl:zset", 9_000_000)
        p.execute()
        # streams
        s = pre + "stream"
        for i in range(1, 351):
            if i % 9 == 0:
                c.xadd(s, {"other": "v%d" % i, "extra": i}, id="%d-%d" % (1000 + i // 4, i % 4))
            else:
                c.xadd(s, {"name": "v%d" % i, "n": i}, id="%d-%d" % (1000 + i // 4, i % 4))
        c.xdel(s, "1002-2", "1010-0", "1050-1")
        c.xgroup_create(s, "g1", id="0")
        c.xgroup_create(s, "g2", id="$")
        c.xreadgroup("g1", "alice", {s: ">"}, count=5)
        c.xreadgroup("g1", "bob", {s: ">"}, count=3)
        c.xack(s, "g1", "1000-1")
        c.xclaim(s, "g1", "carol", 0, ["1000-2"])
        c.xgroup_createconsumer(s, "g2", "idle-consumer")
        c.xadd(pre + "stream:small", {"f": "v"}, id="5-5")
        c.xgroup_create(pre + "stream:empty", "grp", id="$", mkstream=True)
        c.xadd(pre + "stream:trimmed", {"a": "1"}, id="1-1")
        c.xadd(pre + "stream:trimmed", {"a": "2"}, id="2-1")
        c.xdel(pre + "stream:trimmed", "2-1")


def all_keys(c):
    return sorted(c.scan_iter(count=1000))


def value_of(c, key, kind):
    if kind == b"string":
        return c.get(key)
    if kind == b"list":
        return c.lrange(key, 0, -1)
    if kind == b"hash":
        return sorted(c.hgetall(key).items())
    if kind == b"set":
        return sorted(c.smembers(key))
    if kind == b"zset":
        return c.zrange(key, 0, -1, withscores=True)
    if kind == b"stream":
        info = c.execute_command("XINFO", "STREAM", key)
        info = dict(zip(info[::2], info[1::2]))
        meta = {k: info[k] for k in (b"length", b"last-generated-id", b"max-deleted-entry-id", b"entries-added",
                                     b"recorded-first-entry-id", b"groups")}
        groups = []
        for g in c.execute_command("XINFO", "GROUPS", key):
            g = dict(zip(g[::2], g[1::2]))
            consumers = [dict(zip(x[::2], x[1::2])) for x in c.execute_command("XINFO", "CONSUMERS", key, g[b"name"])]
            pending = c.xpending_range(key, g[b"name"], min="-", max="+", count=1000)
            groups.append((g[b"name"], g[b"consumers"], g[b"pending"], g[b"last-delivered-id"], g[b"entries-read"],
                           g[b"lag"], [(x[b"name"], x[b"pending"]) for x in consumers],
                           [(p["message_id"], p["consumer"], p["times_delivered"]) for p in pending]))
        return (c.xrange(key), meta, groups)
    raise AssertionError("unknown type %r" % kind)


EXPECTED_ENCODINGS = {b"int", b"embstr", b"raw", b"quicklist", b"listpack", b"hashtable", b"intset", b"skiplist",
                      b"stream"}


def compare(src, dst, check_encoding=True):
    checked = 0
    encodings = set()
    for db in range(16):
        a, b = src.client(db), dst.client(db)
        keys = all_keys(a)
        assert keys == all_keys(b), "db %d key sets differ" % db
        for key in keys:
            kind = a.type(key)
            assert b.type(key) == kind, (db, key)
            assert value_of(a, key, kind) == value_of(b, key, kind), (db, key)
            ta, tb = a.pttl(key), b.pttl(key)
            assert (ta < 0) == (tb < 0) and abs(ta - tb) <= TTL_TOLERANCE_MS, (db, key, ta, tb)
            encoding = a.object("encoding", key)
            encodings.add(encoding)
            if check_encoding:
                assert encoding == b.object("encoding", key), (db, key)
            checked += 1
    assert checked > 16 * 2
    assert encodings >= EXPECTED_ENCODINGS, encodings
    return checked


def test_redis_file_loads_into_shrike(shrike_binary, workdir):
    ref = Proc([REDIS_SERVER], workdir)
    try:
        fill(ref)
        assert ref.client().save()
    except Exception:
        ref.stop()
        raise
    ours = Proc(shrike_argv(shrike_binary), workdir)
    try:
        n = compare(ref, ours)
        assert n > 100
        assert "Done loading RDB, keys loaded:" in ours.output()
    finally:
        ours.stop()
        ref.stop()


def test_shrike_file_loads_into_redis(shrike_binary, workdir):
    ours = Proc(shrike_argv(shrike_binary), workdir)
    try:
        fill(ours)
        before = ours.client().lastsave()
        time.sleep(1.1)
        assert ours.client().save()
        assert ours.client().lastsave() > before
    except Exception:
        ours.stop()
        raise
    path = os.path.join(workdir, "dump.rdb")
    if REDIS_CHECK_RDB:
        check = subprocess.run([REDIS_CHECK_RDB, path], capture_output=True, text=True, timeout=120)
        assert check.returncode == 0, check.stdout + check.stderr
        assert "RDB looks OK!" in check.stdout, check.stdout
    ref = Proc([REDIS_SERVER], workdir)
    try:
        compare(ours, ref)
        assert "Done loading RDB" in ref.output()
    finally:
        ref.stop()
        ours.stop()


def test_data_survives_kill_9_after_save(shrike_binary, workdir):
    ours = Proc(shrike_argv(shrike_binary), workdir)
    c = ours.client()
    c.set("k", "v")
    c.rpush("l", *range(100))
    c.hset("h", "f", "v")
    c.set("t", "x", ex=1000)
    c2 = ours.client(3)
    c2.zadd("z", {"a": 1})
    assert c.save()
    c.set("after-save", "lost")  # not saved: a kill -9 loses it, as in Redis
    ours.proc.send_signal(signal.SIGKILL)
    ours.proc.wait()
    ours.log.close()
    assert not any(name.startswith("temp-") for name in os.listdir(workdir))
    again = Proc(shrike_argv(shrike_binary), workdir)
    try:
        c = again.client()
        assert c.get("k") == b"v"
        assert c.lrange("l", 0, -1) == [str(i).encode() for i in range(100)]
        assert c.hgetall("h") == {b"f": b"v"}
        assert 990 <= c.ttl("t") <= 1000
        assert c.get("after-save") is None
        assert again.client(3).zrange("z", 0, -1, withscores=True) == [(b"a", 1.0)]
        assert c.dbsize() == 4
    finally:
        again.stop()


def test_corrupt_file_stops_the_server(shrike_binary, workdir):
    ours = Proc(shrike_argv(shrike_binary), workdir)
    c = ours.client()
    for i in range(100):
        c.set("key:%d" % i, ("value %d " % i) * 10)
    assert c.save()
    ours.stop()
    path = os.path.join(workdir, "dump.rdb")
    data = bytearray(open(path, "rb").read())
    for name, corrupt in (("truncated", bytes(data[: len(data) // 2])),
                          ("flipped", bytes(data[:200]) + bytes([data[200] ^ 0x40]) + bytes(data[201:]))):
        with open(path, "wb") as f:
            f.write(corrupt)
        bad = Proc(shrike_argv(shrike_binary), workdir, wait=False)
        try:
            assert bad.proc.wait(30) == 1, name
            out = bad.output()
            assert path in out and "byte offset" in out, out
        finally:
            bad.stop()


@pytest.mark.parametrize("first", ["redis", "shrike"])
def test_lfu_counters_cross_the_rdb_file(shrike_binary, workdir, first):
    # Under an LFU policy each key's counter is saved (FREQ) and loaded back.
    lfu = ["--maxmemory-policy", "allkeys-lfu"]
    argv = {"redis": [REDIS_SERVER] + lfu, "shrike": shrike_argv(shrike_binary) + lfu}
    src = Proc(argv[first], workdir)
    try:
        c = src.client()
        for i, freq in enumerate([0, 7, 100, 255]):
            c.set(f"k{i}", "v")
            c.restore(f"r{i}", 0, c.dump(f"k{i}"), frequency=freq)
        counters = {k: c.object("freq", k) for k in [f"r{i}" for i in range(4)]}
        assert list(counters.values()) == [0, 7, 100, 255]
        assert c.save()
    finally:
        src.stop()
    dst = Proc(argv["shrike" if first == "redis" else "redis"], workdir)
    try:
        c = dst.client()
        assert {k: c.object("freq", k) for k in counters} == counters
    finally:
        dst.stop()
