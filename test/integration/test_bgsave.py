"""BGSAVE without fork: the file is the dataset exactly as it was when BGSAVE
was called, while 8 clients overwrite, delete and create keys during the
save; the server keeps answering; redis-check-rdb and redis-server 7.0
accept the file."""
import os
import subprocess
import tempfile
import threading
import time

import redis

from conftest import Server, free_port

KEYS = 200_000
BLOCKS = [os.urandom(1000) for _ in range(997)]  # incompressible: the save takes a while


def value(i):
    return str(i).encode() + BLOCKS[i % len(BLOCKS)]


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fill(r):
    pipe = r.pipeline(transaction=False)
    for i in range(KEYS):
        pipe.set("k:%d" % i, value(i))
        if i % 1000 == 999:
            pipe.execute()
    for i in range(100):
        pipe.rpush("list:%d" % i, *range(50))
        pipe.hset("hash:%d" % i, mapping={"f%d" % j: j for j in range(20)})
        pipe.zadd("zset:%d" % i, {"m%d" % j: j for j in range(200)})
        pipe.set("ttl:%d" % i, i, ex=10000)
    pipe.execute()


def start_redis_on(path):
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir",
                             os.path.dirname(path), "--dbfilename", os.path.basename(path), "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    ref = redis.Redis(port=port)
    deadline = time.time() + 60
    while True:
        try:
            if ref.ping():
                return proc, ref
        except (redis.exceptions.BusyLoadingError, redis.exceptions.ConnectionError):
            if time.time() > deadline or proc.poll() is not None:
                raise
        time.sleep(0.05)


def test_bgsave_is_the_dataset_at_the_moment_of_the_call(shrike_binary):
    s = Server(shrike_binary, "--threads", "2", "--shards", "4")
    try:
        r = s.client()
        fill(r)
        rss_before = rss_kb(s.proc.pid)
        stop = threading.Event()
        during = [0]  # writes acknowledged while the save was still running

        def writer(n):
            c = s.client()
            i = n
            while not stop.is_set():
                p = c.pipeline(transaction=False)
                for _ in range(50):
                    k = (i * 7919) % KEYS
                    p.set("k:%d" % k, "changed")
                    p.delete("k:%d" % ((k + 1) % KEYS))
                    p.set("new:%d:%d" % (n, i), "x")
                    p.rpush("list:%d" % (i % 100), "more")
                    p.hset("hash:%d" % (i % 100), "f0", "changed")
                    p.zadd("zset:%d" % (i % 100), {"m0": -1, "extra%d" % i: 5})
                    p.persist("ttl:%d" % (i % 100))
                    i += 8
                p.execute()
                if c.info("persistence")["rdb_bgsave_in_progress"]:
                    during[0] += 350
            c.close()

        assert r.bgsave() is True
        threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        peak = rss_before
        deadline = time.time() + 300
        while r.info("persistence")["rdb_bgsave_in_progress"]:
            assert time.time() < deadline, "BGSAVE did not finish"
            peak = max(peak, rss_kb(s.proc.pid))
            time.sleep(0.02)
        stop.set()
        for t in threads:
            t.join(60)
        info = r.info("persistence")
        assert info["rdb_last_bgsave_status"] == "ok"
        assert during[0] > 0, "no write landed while the snapshot ran"
        print("BGSAVE: %d writes during the save; RSS %d kB before, peak %d kB" % (during[0], rss_before, peak))
        data = open(os.path.join(s.dir.name, "dump.rdb"), "rb").read()
    finally:
        s.stop()

    with tempfile.TemporaryDirectory(prefix="shrike-bgsave-") as d:
        path = os.path.join(d, "dump.rdb")
        with open(path, "wb") as f:
            f.write(data)
        check = subprocess.run(["redis-check-rdb", path], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        proc, ref = start_redis_on(path)
        try:
            assert ref.dbsize() == KEYS + 400
            assert ref.keys("new:*") == []
            pipe = ref.pipeline(transaction=False)
            for i in range(KEYS):
                pipe.get("k:%d" % i)
            got = pipe.execute()
            bad = [i for i in range(KEYS) if got[i] != value(i)]
            assert bad == [], "%d keys differ from the moment of BGSAVE, e.g. k:%d" % (len(bad), bad[0])
            for i in range(100):
                assert ref.lrange("list:%d" % i, 0, -1) == [str(j).encode() for j in range(50)]
                assert ref.hget("hash:%d" % i, "f0") == b"0"
                assert ref.zscore("zset:%d" % i, "m0") == 0 and ref.zcard("zset:%d" % i) == 200
                assert 0 < ref.ttl("ttl:%d" % i) <= 10000
        finally:
            proc.terminate()
            proc.wait(10)
