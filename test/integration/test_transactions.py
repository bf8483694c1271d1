"""MULTI/EXEC against the real binary: atomic across shards, WATCH."""
import threading
import time

import redis


def test_exec_is_atomic_across_shards(server, r):
    """50 clients move amounts between 20 keys (spread over every shard) in
    MULTI/EXEC for 10 s while a reader sums all keys inside MULTI/EXEC: the
    sum never changes."""
    keys = ["acct:%d" % i for i in range(20)]
    r.mset({k: 1000 for k in keys})
    total = 1000 * len(keys)
    stop = threading.Event()
    bad = []
    transfers = [0]
    lock = threading.Lock()

    def mover(seed):
        c = server.client()
        i = seed
        n = 0
        while not stop.is_set():
            a, b = keys[i % 20], keys[(i * 7 + 3) % 20]
            if a != b:
                p = c.pipeline(transaction=True)
                p.decrby(a, 3)
                p.incrby(b, 3)
                p.execute()
                n += 1
            i += 1
        with lock:
            transfers[0] += n
        c.close()

    def reader():
        c = server.client()
        while not stop.is_set():
            p = c.pipeline(transaction=True)
            p.mget(keys)
            for k in keys[:5]:
                p.get(k)
            values = p.execute()[0]
            s = sum(int(v) for v in values)
            if s != total:
                bad.append(s)
        c.close()

    threads = [threading.Thread(target=mover, args=(s,)) for s in range(50)] + [threading.Thread(target=reader)]
    for t in threads:
        t.start()
    time.sleep(10)
    stop.set()
    for t in threads:
        t.join(30)
    assert bad == []
    assert transfers[0] > 0
    assert sum(int(v) for v in r.mget(keys)) == total


def test_watch_aborts_when_another_client_writes(server, r):
    other = server.client()
    r.set("wk", 1)
    with r.pipeline() as p:
        p.watch("wk")
        other.set("wk", 2)
        p.multi()
        p.set("wk", 3)
        try:
            p.execute()
            assert False, "EXEC should have failed"
        except redis.WatchError:
            pass
    assert r.get("wk") == b"2"
    # Unchanged key: the transaction goes through.
    with r.pipeline() as p:
        p.watch("wk")
        p.multi()
        p.incr("wk")
        assert p.execute() == [3]
    other.close()
