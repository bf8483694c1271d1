"""maxmemory: the limit holds under writes, eviction follows the policy."""
import time

import pytest
import redis

VALUE = b"x" * 1000


def settles(check, timeout=20):
    """True once check() holds. A pass of eviction stops after 500 us and the
    rest goes on in the background (as Redis's eviction time proc), which a
    sanitizer build makes many times slower."""
    deadline = time.time() + timeout
    while not check():
        if time.time() > deadline:
            return False
        time.sleep(0.02)
    return True


def fill(r, prefix, count, touch=()):
    """Writes `count` 1 KB keys, reading the `touch` keys between batches."""
    for start in range(0, count, 500):
        p = r.pipeline(transaction=False)
        for i in range(start, min(count, start + 500)):
            p.set(f"{prefix}:{i}", VALUE)
        for k in touch:
            p.get(k)
        p.execute()


@pytest.mark.parametrize("policy", ["allkeys-lru", "allkeys-lfu", "allkeys-random"])
def test_limit_holds_while_writing(r, policy):
    r.flushall()
    used = int(r.info("memory")["used_memory"])
    limit = used + 8 * 1024 * 1024
    evicted_before = r.info()["evicted_keys"]
    r.config_set("maxmemory-policy", policy)
    r.config_set("maxmemory", limit)
    try:
        fill(r, "k", 30000)  # about 30 MB of values into 8 MB
        # Checked before every batch of commands: about one batch over at most.
        assert settles(lambda: r.info("memory")["used_memory"] < limit + 2 * 1024 * 1024)
        assert r.info()["evicted_keys"] - evicted_before > 0
        assert 0 < r.dbsize() < 30000
    finally:
        r.config_set("maxmemory", 0)
        r.config_set("maxmemory-policy", "noeviction")


def test_lru_evicts_the_keys_idle_longest(r):
    # The LRU clock counts seconds (as Redis's): old keys go idle 2 s first.
    r.flushall()
    fill(r, "old", 2000)
    time.sleep(2.1)
    hot = [f"hot:{i}" for i in range(200)]
    for k in hot:
        r.set(k, VALUE)
    used = int(r.info("memory")["used_memory"])
    evicted_before = r.info()["evicted_keys"]
    r.config_set("maxmemory-policy", "allkeys-lru")
    r.config_set("maxmemory", used - 1024 * 1024)
    try:
        assert settles(lambda: r.info("memory")["used_memory"] <= used - 1024 * 1024)
        assert r.info()["evicted_keys"] - evicted_before > 500
        # Sampling makes LRU approximate (as in Redis): nearly all recent keys stay.
        assert sum(r.exists(k) for k in hot) >= 190
    finally:
        r.config_set("maxmemory", 0)
        r.config_set("maxmemory-policy", "noeviction")


def test_volatile_policy_evicts_only_keys_with_a_ttl(r):
    r.flushall()
    for i in range(100):
        r.set(f"persistent:{i}", VALUE)
        r.set(f"volatile:{i}", VALUE, ex=1000)
    evicted_before = r.info()["evicted_keys"]
    r.config_set("maxmemory-policy", "volatile-ttl")
    r.config_set("maxmemory", 1)
    try:
        assert settles(lambda: r.dbsize() == 100)
        with pytest.raises(redis.exceptions.ResponseError, match="^OOM"):
            r.set("new", 1)
        assert r.dbsize() == 100
        assert r.exists(*[f"persistent:{i}" for i in range(100)]) == 100
        assert r.info()["evicted_keys"] - evicted_before == 100
    finally:
        r.config_set("maxmemory", 0)
        r.config_set("maxmemory-policy", "noeviction")


def test_evictions_reach_keyspace_subscribers_and_replicas_stream(r, server):
    r.flushall()
    r.config_set("notify-keyspace-events", "Ee")
    sub = server.client().pubsub()
    sub.psubscribe("__keyevent@0__:evicted")
    assert sub.get_message(timeout=1)["type"] == "psubscribe"
    r.set("gone", 1)
    r.config_set("maxmemory-policy", "allkeys-random")
    r.config_set("maxmemory", 1)
    try:
        assert r.dbsize() == 0  # this command's check evicted it
        msg = sub.get_message(timeout=2)
        assert msg and msg["data"] == b"gone"
    finally:
        r.config_set("maxmemory", 0)
        r.config_set("maxmemory-policy", "noeviction")
        r.config_set("notify-keyspace-events", "")
        sub.close()
