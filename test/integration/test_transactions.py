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


def test_redis_transaction_helper_retries_on_watch_conflicts(server, r):
    """redis-py's Redis.transaction(func, *watches) re-runs func after a
    WatchError: concurrent check-and-set increments through it lose nothing."""
    r.set("counter", 0)
    workers, per_worker = 8, 50
    retries = []

    def work():
        c = server.client()
        attempts = [0]

        def incr(pipe):
            attempts[0] += 1
            value = int(pipe.get("counter"))
            pipe.multi()
            pipe.set("counter", value + 1)

        for _ in range(per_worker):
            c.transaction(incr, "counter")
        retries.append(attempts[0] - per_worker)
        c.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert int(r.get("counter")) == workers * per_worker
    assert len(retries) == workers

    # A forced conflict: another client writes between WATCH and EXEC on the
    # first attempt only; the helper retries and the second attempt commits.
    other = server.client()
    attempts = []

    def once(pipe):
        attempts.append(1)
        value = int(pipe.get("counter"))
        if len(attempts) == 1:
            other.incr("counter")
        pipe.multi()
        pipe.set("counter", value * 10)

    r.transaction(once, "counter")
    assert len(attempts) == 2
    assert int(r.get("counter")) == (workers * per_worker + 1) * 10
    other.close()


def test_pipeline_with_transaction_is_one_multi_exec(server, r):
    with r.pipeline(transaction=True) as p:
        p.set("a", 1).incr("a").lpush("l", "x").get("a")
        assert p.execute() == [True, 2, 1, b"2"]
    with r.pipeline(transaction=True) as p:
        p.set("b", 1).lpush("b", "x").incr("b")  # a runtime error in place, the rest still runs
        res = p.execute(raise_on_error=False)
    assert res[0] is True and isinstance(res[1], redis.ResponseError) and res[2] == 2
