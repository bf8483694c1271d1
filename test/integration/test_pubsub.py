"""Pub/sub through redis-py (PubSub.get_message / listen), message order from
one publisher, and the client-output-buffer-limit that cuts a subscriber
which stops reading before it grows the server's memory."""
import os
import socket
import threading
import time

import pytest
import redis


def wait_message(p, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = p.get_message(timeout=0.1)
        if m is not None:
            return m
    raise AssertionError("no message within %.1fs" % timeout)


def test_get_message_subscribe_publish_patterns(server, r):
    p = r.pubsub()
    p.subscribe("news")
    assert wait_message(p) == {"type": "subscribe", "pattern": None, "channel": b"news", "data": 1}
    p.psubscribe("n*")
    assert wait_message(p)["type"] == "psubscribe"
    assert r.publish("news", "hello") == 2
    got = [wait_message(p), wait_message(p)]
    assert {"type": "message", "pattern": None, "channel": b"news", "data": b"hello"} in got
    assert {"type": "pmessage", "pattern": b"n*", "channel": b"news", "data": b"hello"} in got
    assert r.pubsub_numsub("news") == [(b"news", 1)]
    assert r.pubsub_numpat() == 1
    p.unsubscribe("news")
    p.punsubscribe("n*")
    assert wait_message(p)["type"] == "unsubscribe"
    assert wait_message(p)["type"] == "punsubscribe"
    assert r.publish("news", "nobody") == 0
    p.close()


def test_listen_and_handlers_in_a_thread(server, r):
    received = []
    p = r.pubsub(ignore_subscribe_messages=True)
    p.subscribe(**{"jobs": lambda m: received.append(m["data"])})
    worker = p.run_in_thread(sleep_time=0.01)
    try:
        deadline = time.time() + 5
        while r.pubsub_numsub("jobs") != [(b"jobs", 1)] and time.time() < deadline:
            time.sleep(0.01)
        for i in range(100):
            r.publish("jobs", str(i))
        deadline = time.time() + 10
        while len(received) < 100 and time.time() < deadline:
            time.sleep(0.01)
    finally:
        worker.stop()
        worker.join(5)
    assert received == [str(i).encode() for i in range(100)]


def read_exactly(sock, expected, timeout=5.0):
    sock.settimeout(timeout)
    buf = b""
    while len(buf) < len(expected):
        chunk = sock.recv(65536)
        assert chunk, "connection closed after %r" % buf
        buf += chunk
    return buf


def test_resp3_subscriber_gets_pushes_and_runs_commands(server, r):
    # (Debian's redis-py speaks RESP2 only: a raw RESP3 connection.)
    s = socket.create_connection(("127.0.0.1", server.port))
    s.sendall(b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n")
    s.settimeout(5)
    hello = s.recv(65536)
    assert hello.startswith(b"%")
    s.sendall(b"*2\r\n$9\r\nSUBSCRIBE\r\n$2\r\nr3\r\n*2\r\n$3\r\nGET\r\n$7\r\nmissing\r\n")
    assert read_exactly(s, b">3\r\n$9\r\nsubscribe\r\n$2\r\nr3\r\n:1\r\n_\r\n") == \
        b">3\r\n$9\r\nsubscribe\r\n$2\r\nr3\r\n:1\r\n_\r\n"
    assert r.publish("r3", "x") == 1
    expected = b">3\r\n$7\r\nmessage\r\n$2\r\nr3\r\n$1\r\nx\r\n"
    assert read_exactly(s, expected) == expected
    s.close()


def test_messages_from_one_publisher_arrive_in_order(server, r):
    p = r.pubsub(ignore_subscribe_messages=True)
    p.subscribe("seq")
    wait_message_until_subscribed = time.time() + 5
    while r.pubsub_numsub("seq") != [(b"seq", 1)] and time.time() < wait_message_until_subscribed:
        time.sleep(0.01)
    n = 20000
    pipe = r.pipeline(transaction=False)
    for i in range(n):
        pipe.publish("seq", str(i))
    assert all(x == 1 for x in pipe.execute())
    got = []
    deadline = time.time() + 30
    while len(got) < n and time.time() < deadline:
        m = p.get_message(timeout=0.5)
        if m and m["type"] == "message":
            got.append(int(m["data"]))
    assert got == list(range(n))
    p.close()


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_subscriber_that_stops_reading_is_cut_at_the_pubsub_limit(server, r):
    # A raw subscriber with a small receive buffer that never reads.
    sub = socket.create_connection(("127.0.0.1", server.port))
    sub.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sub.sendall(b"*2\r\n$9\r\nSUBSCRIBE\r\n$4\r\nslow\r\n")
    deadline = time.time() + 5
    while r.pubsub_numsub("slow") != [(b"slow", 1)] and time.time() < deadline:
        time.sleep(0.01)
    assert r.pubsub_numsub("slow") == [(b"slow", 1)]
    before = rss_kb(server.proc.pid)
    payload = b"x" * (1 << 20)
    # 256 MB published; the default pubsub hard limit is 32 MB.
    pipe = r.pipeline(transaction=False)
    peak = before
    for _ in range(16):
        for _ in range(16):
            pipe.publish("slow", payload)
        pipe.execute()
        peak = max(peak, rss_kb(server.proc.pid))
    deadline = time.time() + 5
    while r.pubsub_numsub("slow") != [(b"slow", 0)] and time.time() < deadline:
        time.sleep(0.05)
    assert r.pubsub_numsub("slow") == [(b"slow", 0)], "the slow subscriber was not disconnected"
    # Bounded by the 32 MB limit plus working buffers, not by the 256 MB sent.
    print("slow subscriber: RSS before %d kB, peak %d kB" % (before, peak))
    if not os.environ.get("SHRIKE_SANITIZED"):  # (sanitizers' shadow memory would dominate)
        assert peak - before < 120 * 1024, "RSS grew by %d kB" % (peak - before)
    assert r.ping()
    sub.close()


def test_soft_limit_cuts_after_its_period(server, r):
    r.config_set("client-output-buffer-limit", "pubsub 0 1mb 1")
    try:
        sub = socket.create_connection(("127.0.0.1", server.port))
        sub.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sub.sendall(b"*2\r\n$9\r\nSUBSCRIBE\r\n$5\r\nsoft1\r\n")
        deadline = time.time() + 5
        while r.pubsub_numsub("soft1") != [(b"soft1", 1)] and time.time() < deadline:
            time.sleep(0.01)
        payload = b"y" * (256 * 1024)
        for _ in range(64):  # 16 MB queued (more than socket buffers hold): over the soft limit, no hard limit
            r.publish("soft1", payload)
        assert r.pubsub_numsub("soft1") == [(b"soft1", 1)]
        time.sleep(1.5)
        r.publish("soft1", payload)  # Redis checks the limit when output is added
        deadline = time.time() + 5
        while r.pubsub_numsub("soft1") != [(b"soft1", 0)] and time.time() < deadline:
            time.sleep(0.05)
        assert r.pubsub_numsub("soft1") == [(b"soft1", 0)]
        sub.close()
    finally:
        r.config_set("client-output-buffer-limit", "pubsub 32mb 8mb 60")
