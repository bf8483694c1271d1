"""MIGRATE between two servers: Shrike to Shrike (with AUTH2, a replica
watching the source), Shrike to Debian's redis-server 7.0 and back, REPLACE,
COPY, BUSYKEY, and a target that never answers. The argument errors are in
the differential script migrate.txt."""
import shutil
import subprocess
import tempfile
import time

import pytest
import redis

from conftest import Server, free_port

REDIS_SERVER = shutil.which("redis-server")


@pytest.fixture
def pair(shrike_binary):
    source = Server(shrike_binary, "--threads", "2", "--shards", "4")
    target = Server(shrike_binary, "--requirepass", "pw")
    yield source, target
    source.stop()
    target.stop()


def test_keys_move_with_their_ttl_and_leave_the_source(pair):
    source, target = pair
    s = source.client()
    t = target.client(password="pw")
    for i in range(20):
        s.set(f"k{i}", f"v{i}")
    s.rpush("list", "a", "b")
    s.hset("hash", mapping={"f": "v"})
    s.set("ttl", "x", px=100_000)
    keys = [f"k{i}" for i in range(20)] + ["list", "hash", "ttl", "missing"]
    assert s.execute_command("MIGRATE", "127.0.0.1", target.port, "", 2, 5000,
                             "AUTH2", "default", "pw", "KEYS", *keys) == b"OK"
    assert s.dbsize() == 0
    t2 = target.client(password="pw", db=2)
    assert t2.dbsize() == 23
    assert [t2.get(f"k{i}") for i in range(20)] == [f"v{i}".encode() for i in range(20)]
    assert t2.lrange("list", 0, -1) == [b"a", b"b"]
    assert t2.hgetall("hash") == {b"f": b"v"}
    assert 90_000 < t2.pttl("ttl") <= 100_000
    assert t.dbsize() == 0


def test_copy_replace_and_busykey(pair):
    source, target = pair
    s = source.client()
    t = target.client(password="pw")
    s.set("k", "new")
    t.set("k", "old")
    with pytest.raises(redis.ResponseError, match="Target instance replied with error: BUSYKEY"):
        s.execute_command("MIGRATE", "127.0.0.1", target.port, "k", 0, 5000, "AUTH", "pw")
    assert s.get("k") == b"new"  # refused: it stays here
    assert s.execute_command("MIGRATE", "127.0.0.1", target.port, "k", 0, 5000, "COPY", "REPLACE",
                             "AUTH", "pw") == b"OK"
    assert s.get("k") == b"new" and t.get("k") == b"new"
    with pytest.raises(redis.ResponseError, match="Target instance replied with error: WRONGPASS"):
        s.execute_command("MIGRATE", "127.0.0.1", target.port, "k", 0, 5000, "AUTH", "nope")
    assert s.execute_command("MIGRATE", "127.0.0.1", target.port, "nosuch", 0, 5000) == b"NOKEY"


def test_a_silent_target_times_out_and_the_key_stays(shrike_binary):
    source = Server(shrike_binary)
    # A listener that accepts and never reads or answers.
    import socket
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    try:
        s = source.client()
        s.set("k", "v")
        started = time.monotonic()
        with pytest.raises(redis.ResponseError, match="IOERR error or timeout reading to target instance"):
            s.execute_command("MIGRATE", "127.0.0.1", silent.getsockname()[1], "k", 0, 200)
        assert time.monotonic() - started < 5
        assert s.get("k") == b"v"
        # The shard was not left gated: other commands on the key run.
        assert s.set("k", "w") and s.get("k") == b"w"
    finally:
        silent.close()
        source.stop()


def test_the_replica_sees_the_moved_keys_deleted(pair, shrike_binary):
    source, target = pair
    source.client().config_set("repl-diskless-sync-delay", 0)
    replica = Server(shrike_binary, "--replicaof", "127.0.0.1", str(source.port))
    try:
        s = source.client()
        r = replica.client()
        s.set("a", 1)
        s.set("b", 2)
        deadline = time.time() + 10
        while r.dbsize() < 2 and time.time() < deadline:
            time.sleep(0.05)
        assert r.dbsize() == 2
        assert s.execute_command("MIGRATE", "127.0.0.1", target.port, "", 0, 5000, "AUTH", "pw",
                                 "KEYS", "a", "b") == b"OK"
        deadline = time.time() + 10
        while r.dbsize() > 0 and time.time() < deadline:
            time.sleep(0.05)
        assert r.dbsize() == 0
    finally:
        replica.stop()


@pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server (Debian's redis-server 7.0) not installed")
def test_to_and_from_redis_server(shrike_binary):
    source = Server(shrike_binary)
    port = free_port()
    directory = tempfile.TemporaryDirectory(prefix="shrike-migrate-")
    proc = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--save", "", "--dir", directory.name],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ref = redis.Redis(port=port)
        deadline = time.time() + 10
        while True:
            try:
                ref.ping()
                break
            except redis.ConnectionError:
                assert time.time() < deadline
                time.sleep(0.05)
        s = source.client()
        s.zadd("z", {"m1": 1, "m2": 2.5})
        s.set("str", "x" * 1000)
        assert s.execute_command("MIGRATE", "127.0.0.1", port, "", 0, 5000, "KEYS", "z", "str") == b"OK"
        assert ref.zrange("z", 0, -1, withscores=True) == [(b"m1", 1.0), (b"m2", 2.5)]
        assert ref.get("str") == b"x" * 1000
        assert s.exists("z", "str") == 0
        assert ref.execute_command("MIGRATE", "127.0.0.1", source.port, "z", 0, 5000) == b"OK"
        assert s.zscore("z", "m2") == 2.5
    finally:
        proc.terminate()
        proc.wait(10)
        directory.cleanup()
        source.stop()
