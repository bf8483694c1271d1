"""Blocking pops and XREADGROUP: FIFO order, wake-ups, timeouts, disconnects, keys across shards."""
import socket
import threading
import time

import redis


def wait_blocked(r, n, timeout=5):
    """Waits until INFO reports n blocked clients."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if r.info("clients")["blocked_clients"] == n:
            return
        time.sleep(0.01)
    raise AssertionError("expected %d blocked clients, have %d" % (n, r.info("clients")["blocked_clients"]))


def test_fifo_among_ten_waiters(server, r):
    results = [None] * 10
    clients = [server.client() for _ in range(10)]

    def waiter(i):
        results[i] = clients[i].blpop("fifo", 10)

    threads = []
    for i in range(10):
        t = threading.Thread(target=waiter, args=(i,))
        t.start()
        threads.append(t)
        wait_blocked(r, i + 1)  # arrival order = thread order
    assert r.rpush("fifo", *[str(i) for i in range(10)]) == 10
    for t in threads:
        t.join(10)
    assert results == [(b"fifo", str(i).encode()) for i in range(10)]
    assert r.exists("fifo") == 0
    assert r.info("clients")["blocked_clients"] == 0
    for c in clients:
        c.close()


def test_wake_up_from_another_connection_and_push_reply(server, r):
    other = server.client()
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("v", other.brpop(["a", "b"], 0)))
    t.start()
    wait_blocked(r, 1)
    # LPUSH counts the element the waiter takes; the list does not keep it.
    assert r.lpush("b", "x") == 1
    t.join(5)
    assert out["v"] == (b"b", b"x")
    assert r.exists("b") == 0
    other.close()


def test_timeouts(server, r):
    start = time.time()
    assert r.blpop("nothing", 0.2) is None
    assert 0.15 <= time.time() - start < 2
    assert r.blmove("nothing", "dst", 0.1, "LEFT", "RIGHT") is None
    assert r.bzpopmin("nothing", 0.1) is None
    try:
        r.blpop("nothing", -1)
        assert False, "negative timeout accepted"
    except redis.ResponseError as e:
        assert "timeout is negative" in str(e)


def test_disconnect_while_blocked_leaves_no_waiter(server, r):
    s = socket.create_connection(("127.0.0.1", server.port))
    s.sendall(b"*3\r\n$5\r\nBLPOP\r\n$4\r\ngone\r\n$1\r\n0\r\n")
    wait_blocked(r, 1)
    s.close()
    wait_blocked(r, 0)
    # The element is not handed to the vanished client.
    assert r.rpush("gone", "v") == 1
    assert r.lrange("gone", 0, -1) == [b"v"]


def test_commands_pipelined_behind_a_blocked_one_run_after_it(server, r):
    s = socket.create_connection(("127.0.0.1", server.port))
    s.sendall(b"*3\r\n$5\r\nBLPOP\r\n$2\r\npq\r\n$1\r\n0\r\n*1\r\n$4\r\nPING\r\n")
    wait_blocked(r, 1)
    time.sleep(0.1)
    r.rpush("pq", "x")
    data = b""
    s.settimeout(5)
    while not data.endswith(b"+PONG\r\n"):
        data += s.recv(100)
    assert data == b"*2\r\n$2\r\npq\r\n$1\r\nx\r\n+PONG\r\n"
    s.close()


def test_client_unblock(server, r):
    c = server.client()
    my_id = c.client_id()
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("v", _swallow(lambda: c.blpop("u", 0))))
    t.start()
    wait_blocked(r, 1)
    deadline = time.time() + 5
    while not any(int(cl["id"]) == my_id and "b" in cl["flags"] for cl in r.client_list()):
        assert time.time() < deadline, "no 'b' flag in CLIENT LIST"
        time.sleep(0.01)
    assert r.client_unblock(my_id) == 1
    t.join(5)
    assert out["v"] is None
    assert r.client_unblock(my_id) == 0
    t = threading.Thread(target=lambda: out.__setitem__("v", _swallow(lambda: c.blpop("u", 0))))
    t.start()
    wait_blocked(r, 1)
    assert r.client_unblock(my_id, error=True) == 1
    t.join(5)
    assert isinstance(out["v"], redis.ResponseError) and "UNBLOCKED" in str(out["v"])
    c.close()


def test_multi_key_waiters_across_shards_served_once(server, r):
    """Each waiter blocks on 8 keys spread over all shards; every pushed
    element is received exactly once."""
    keys = ["mk%d" % i for i in range(8)]
    n = 20
    got = []
    lock = threading.Lock()
    clients = [server.client() for _ in range(n)]

    def waiter(c):
        v = c.blpop(keys, 10)
        with lock:
            got.append(v)

    threads = [threading.Thread(target=waiter, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    wait_blocked(r, n)
    pushers = []
    for i in range(n):
        k = keys[i % len(keys)]
        pushers.append(threading.Thread(target=lambda k=k, i=i: server.client().rpush(k, "v%d" % i)))
    for p in pushers:
        p.start()
    for p in pushers + threads:
        p.join(10)
    assert sorted(v[1] for v in got) == sorted(("v%d" % i).encode() for i in range(n))
    assert [r.lrange(k, 0, -1) for k in keys] == [[]] * len(keys)
    assert r.info("clients")["blocked_clients"] == 0
    for c in clients:
        c.close()


def test_blmove_across_shards_is_served(server, r):
    c = server.client()
    out = {}
    # Source and destination chosen so that they land in different shards
    # with 4 shards is likely; the test holds either way.
    t = threading.Thread(target=lambda: out.setdefault("v", c.blmove("from{x}", "to-other", 5, "LEFT", "RIGHT")))
    t.start()
    wait_blocked(r, 1)
    r.rpush("from{x}", "e1", "e2")
    t.join(5)
    assert out["v"] == b"e1"
    assert r.lrange("to-other", 0, -1) == [b"e1"]
    assert r.lrange("from{x}", 0, -1) == [b"e2"]
    c.close()


def _swallow(fn):
    try:
        return fn()
    except (redis.ConnectionError, redis.ResponseError) as e:
        return e


def test_xreadgroup_waiters_share_a_group_in_arrival_order(server, r):
    """Consumers blocked on one group get one new entry each, first come
    first served; each entry becomes pending for the consumer it went to."""
    r.xgroup_create("gs", "g", "$", mkstream=True)
    n = 8
    results = [None] * n
    clients = [server.client() for _ in range(n)]

    def waiter(i):
        results[i] = clients[i].xreadgroup("g", "c%d" % i, {"gs": ">"}, block=10000)

    threads = []
    for i in range(n):
        t = threading.Thread(target=waiter, args=(i,))
        t.start()
        threads.append(t)
        wait_blocked(r, i + 1)
    for i in range(n):
        r.xadd("gs", {"n": str(i)}, id="%d-0" % (i + 1))
    for t in threads:
        t.join(10)
    assert results == [[[b"gs", [(b"%d-0" % (i + 1), {b"n": str(i).encode()})]]] for i in range(n)]
    pending = r.xpending_range("gs", "g", "-", "+", 100)
    assert [(p["message_id"], p["consumer"], p["times_delivered"]) for p in pending] == [
        (b"%d-0" % (i + 1), b"c%d" % i, 1) for i in range(n)]
    group = r.xinfo_groups("gs")[0]
    assert (group["last-delivered-id"], group["entries-read"], group["lag"]) == (b"%d-0" % n, n, 0)
    assert r.info("clients")["blocked_clients"] == 0
    for c in clients:
        c.close()


def test_xreadgroup_entries_delivered_once_under_concurrency(server, r):
    """Many consumers blocked on streams of several shards, many producers:
    every entry is delivered exactly once, and ends up pending once."""
    keys = ["cs%d" % i for i in range(6)]
    for k in keys:
        r.xgroup_create(k, "g", "$", mkstream=True)
    consumers, producers, per_producer = 12, 6, 20
    total = producers * per_producer
    got = []
    lock = threading.Lock()
    stop = threading.Event()

    def consumer(i):
        c = server.client()
        while not stop.is_set():
            reply = c.xreadgroup("g", "c%d" % i, {k: ">" for k in keys}, count=3, block=100)
            for key, entries in reply or []:
                with lock:
                    got.extend((key, eid) for eid, _ in entries)
        c.close()

    def producer(j):
        c = server.client()
        for m in range(per_producer):
            c.xadd(keys[(j + m) % len(keys)], {"p": str(j), "m": str(m)})
        c.close()

    cthreads = [threading.Thread(target=consumer, args=(i,)) for i in range(consumers)]
    for t in cthreads:
        t.start()
    pthreads = [threading.Thread(target=producer, args=(j,)) for j in range(producers)]
    for t in pthreads:
        t.start()
    for t in pthreads:
        t.join(20)
    deadline = time.time() + 10
    while time.time() < deadline:
        with lock:
            if len(got) >= total:
                break
        time.sleep(0.02)
    stop.set()
    for t in cthreads:
        t.join(10)
    assert len(got) == total
    assert len(set(got)) == total
    assert sum(r.xpending(k, "g")["pending"] for k in keys) == total
    assert sum(r.xlen(k) for k in keys) == total


def test_xreadgroup_block_ends_on_timeout_deletion_and_destroy(server, r):
    r.xgroup_create("gd", "g", "$", mkstream=True)
    c = server.client()
    start = time.time()
    assert not c.xreadgroup("g", "c", {"gd": ">"}, block=150)  # a null reply
    assert 0.1 <= time.time() - start < 2
    # The consumer is created only when something is delivered.
    assert r.xinfo_consumers("gd", "g") == []
    out = {}
    for action, expected in ((lambda: r.delete("gd"), "UNBLOCKED the stream key no longer exists"),
                             (lambda: r.xgroup_destroy("gd", "g"),
                              "NOGROUP the consumer group this client was blocked on no longer exists")):
        r.delete("gd")
        r.xgroup_create("gd", "g", "$", mkstream=True)
        t = threading.Thread(target=lambda: out.__setitem__("v", _swallow(
            lambda: c.xreadgroup("g", "c", {"gd": ">"}, block=0))))
        t.start()
        wait_blocked(r, 1)
        action()
        t.join(5)
        assert isinstance(out["v"], redis.ResponseError) and str(out["v"]) == expected
    c.close()


def test_group_delivery_counts(server, r):
    """Delivery counts and owners through history reads, XCLAIM and XAUTOCLAIM
    (the differential scripts can compare these only approximately, next to
    the clock-dependent idle times)."""
    for i in range(1, 4):
        r.xadd("dc", {"f": str(i)}, id="%d-0" % i)
    r.xgroup_create("dc", "g", "0")
    r.xreadgroup("g", "a", {"dc": ">"})

    def counts():
        return [(p["message_id"], p["consumer"], p["times_delivered"])
                for p in r.xpending_range("dc", "g", "-", "+", 10)]

    assert counts() == [(b"1-0", b"a", 1), (b"2-0", b"a", 1), (b"3-0", b"a", 1)]
    r.xreadgroup("g", "a", {"dc": "0"}, count=2)  # history: delivered again
    assert counts() == [(b"1-0", b"a", 2), (b"2-0", b"a", 2), (b"3-0", b"a", 1)]
    r.xclaim("dc", "g", "b", 0, ["1-0"])  # counts one more delivery
    r.xclaim("dc", "g", "b", 0, ["2-0"], justid=True)  # JUSTID does not
    r.xclaim("dc", "g", "b", 0, ["3-0"], retrycount=9)
    assert counts() == [(b"1-0", b"b", 3), (b"2-0", b"b", 2), (b"3-0", b"b", 9)]
    r.xautoclaim("dc", "g", "c", 0, "0-0", count=2)
    r.xautoclaim("dc", "g", "c", 0, "3-0", justid=True)
    assert counts() == [(b"1-0", b"c", 4), (b"2-0", b"c", 3), (b"3-0", b"c", 9)]
    idle = r.xpending_range("dc", "g", "-", "+", 10, idle=60000)
    assert idle == []
    r.xclaim("dc", "g", "c", 0, ["1-0"], idle=120000, justid=True)
    assert [p["message_id"] for p in r.xpending_range("dc", "g", "-", "+", 10, idle=60000)] == [b"1-0"]
    r.xack("dc", "g", "1-0", "2-0", "3-0")
    assert r.xpending("dc", "g")["pending"] == 0
