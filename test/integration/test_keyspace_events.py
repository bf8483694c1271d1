"""Keyspace notifications heard through redis-py's PubSub, against the real binary (several shards)."""
import threading
import time

import pytest


def events(p, n, timeout=3.0):
    """The next n messages of p as (channel, data), then checks that no other follows."""
    got = []
    deadline = time.time() + timeout
    while len(got) < n and time.time() < deadline:
        m = p.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if m:
            got.append((m["channel"], m["data"]))
    assert len(got) == n, got
    assert p.get_message(ignore_subscribe_messages=True, timeout=0.2) is None
    return got


@pytest.fixture
def sub(r):
    """A subscriber to every keyspace and keyevent channel; restores the config after the test."""
    p = r.pubsub()
    p.psubscribe("__key*__:*")
    assert p.get_message(timeout=2)["type"] == "psubscribe"
    yield p
    p.close()
    r.config_set("notify-keyspace-events", "")


def test_keyevent_and_keyspace_channels(r, sub):
    r.config_set("notify-keyspace-events", "KEA")
    assert r.config_get("notify-keyspace-events") == {"notify-keyspace-events": "AKE"}
    r.set("foo", "bar", ex=100)
    assert events(sub, 4) == [
        (b"__keyspace@0__:foo", b"set"), (b"__keyevent@0__:set", b"foo"),
        (b"__keyspace@0__:foo", b"expire"), (b"__keyevent@0__:expire", b"foo"),
    ]
    r.delete("foo", "nosuch")
    assert events(sub, 2) == [(b"__keyspace@0__:foo", b"del"), (b"__keyevent@0__:del", b"foo")]


def test_command_order_across_shards(r, sub):
    """Keys of several shards: the events follow the command's own order."""
    r.config_set("notify-keyspace-events", "Egl$n")
    keys = ["k%d" % i for i in range(8)]
    r.mset({k: "v" for k in keys})
    expected = []
    for k in keys:
        expected += [(b"__keyevent@0__:new", k.encode()), (b"__keyevent@0__:set", k.encode())]
    assert events(sub, 16) == expected
    r.rename("k0", "k7")
    assert events(sub, 3) == [(b"__keyevent@0__:new", b"k7"), (b"__keyevent@0__:rename_from", b"k0"),
                              (b"__keyevent@0__:rename_to", b"k7")]
    r.rpush("src", "a")
    events(sub, 2)
    r.lmove("src", "dst", "LEFT", "RIGHT")
    assert events(sub, 4) == [(b"__keyevent@0__:new", b"dst"), (b"__keyevent@0__:rpush", b"dst"),
                              (b"__keyevent@0__:lpop", b"src"), (b"__keyevent@0__:del", b"src")]


def test_classes_filter_events(r, sub):
    r.config_set("notify-keyspace-events", "Kh")
    r.set("s", "v")
    r.hset("h", "f", "v")
    r.delete("s", "h")
    assert events(sub, 1) == [(b"__keyspace@0__:h", b"hset")]
    r.config_set("notify-keyspace-events", "Em")
    r.get("missing")
    r.set("missing", "now")
    r.get("missing")
    assert events(sub, 1) == [(b"__keyevent@0__:keymiss", b"missing")]


def test_expired_keys_are_reported(r, sub):
    r.config_set("notify-keyspace-events", "Ex")
    r.set("short", "v", px=20)
    r.set("other", "v", px=30)
    got = events(sub, 2)
    assert sorted(got) == [(b"__keyevent@0__:expired", b"other"), (b"__keyevent@0__:expired", b"short")]
    assert r.exists("short", "other") == 0


def test_served_blocked_client_events(r, sub, server):
    r.config_set("notify-keyspace-events", "El")
    blocked = server.client()
    try:
        reply = []
        t = threading.Thread(target=lambda: reply.append(blocked.blpop("q", 5)))
        t.start()
        deadline = time.time() + 3
        while r.info("clients")["blocked_clients"] == 0 and time.time() < deadline:
            time.sleep(0.01)
        r.rpush("q", "x")
        t.join()
        assert reply == [(b"q", b"x")]
        assert events(sub, 2) == [(b"__keyevent@0__:rpush", b"q"), (b"__keyevent@0__:lpop", b"q")]
    finally:
        blocked.close()
