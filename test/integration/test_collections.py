"""Collections against the real binary: complexity checks and cross-shard atomicity."""
import subprocess
import threading
import time

import pytest


def load_zset(server, key, n):
    """ZADD key with n members (score i, member m:i) through redis-cli --pipe."""
    parts = []
    batch = 1000
    for start in range(0, n, batch):
        stop = min(n, start + batch)
        args = [b"ZADD", key.encode()]
        for i in range(start, stop):
            args += [str(i).encode(), b"m:%d" % i]
        parts.append(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
    out = subprocess.run(["redis-cli", "-p", str(server.port), "--pipe"], input=b"".join(parts),
                         capture_output=True, check=True)
    assert b"errors: 0" in out.stdout


def timed_ranks(r, key, n, calls=2000):
    pipe = r.pipeline(transaction=False)
    for i in range(calls):
        m = (i * 7919) % n
        pipe.zrank(key, "m:%d" % m)
        pipe.zrange(key, m, m)
    t0 = time.perf_counter()
    replies = pipe.execute()
    elapsed = time.perf_counter() - t0
    for i in range(calls):
        m = (i * 7919) % n
        assert replies[2 * i] == m
        assert replies[2 * i + 1] == [b"m:%d" % m]
    return elapsed


def test_zrank_and_zrange_by_rank_stay_fast_at_a_million_members(server, r):
    load_zset(server, "small", 1000)
    load_zset(server, "big", 1_000_000)
    assert r.zcard("big") == 1_000_000
    assert r.object("encoding", "big") == b"skiplist"
    small = min(timed_ranks(r, "small", 1000) for _ in range(3))
    big = min(timed_ranks(r, "big", 1_000_000) for _ in range(3))
    # O(log n): a 1000x larger set costs a small factor more per call (cache
    # misses), where a linear scan would cost ~1000x.
    assert big < small * 20 + 0.05, (small, big)
    r.delete("big", "small")


def test_smove_and_lmove_across_shards_are_atomic(server, r):
    """Elements moved back and forth between keys of different shards: a
    reader summing all keys with one gated command never sees a half move."""
    keys = ["atom:%d" % i for i in range(8)]
    for k in keys:
        r.delete(k)
    for i in range(100):
        r.sadd(keys[i % 8], "s%d" % i)
        r.rpush("l" + keys[i % 8], "e%d" % i)
    stop = threading.Event()
    errors = []

    def mover(seed):
        c = server.client()
        i = seed
        while not stop.is_set():
            src, dst = keys[i % 8], keys[(i * 3 + 1) % 8]
            member = c.srandmember(src)
            if member is not None:
                c.smove(src, dst, member)
            c.lmove("l" + src, "l" + dst, "LEFT", "RIGHT")
            i += 1
        c.close()

    def reader():
        c = server.client()
        while not stop.is_set():
            total = c.sunion(keys)
            if len(total) != 100:
                errors.append(("sunion", len(total)))
            # SUNIONSTORE into a scratch key, then count
            c.sunionstore("atom:scratch", keys)
            n = c.scard("atom:scratch")
            if n != 100:
                errors.append(("sunionstore", n))
        c.close()

    threads = [threading.Thread(target=mover, args=(s,)) for s in range(4)] + [threading.Thread(target=reader)]
    for t in threads:
        t.start()
    time.sleep(2)
    stop.set()
    for t in threads:
        t.join(10)
    assert errors == []
    assert sum(r.scard(k) for k in keys) == 100
    assert sum(r.llen("l" + k) for k in keys) == 100
