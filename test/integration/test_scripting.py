"""Lua scripts and functions against the real binary: atomicity across shards,
busy scripts (-BUSY, SCRIPT KILL, FUNCTION KILL, UNKILLABLE, SHUTDOWN NOSAVE),
the script cache across SCRIPT FLUSH, blocked clients woken by a script."""
import os
import shutil
import subprocess
import threading
import time

import pytest
import redis

from conftest import Server, free_port

SANITIZED = bool(os.environ.get("SHRIKE_SANITIZED"))

TRANSFER = """
local from, to = KEYS[1], KEYS[2]
local amount = tonumber(ARGV[1])
local balance = tonumber(redis.call('get', from))
if balance < amount then return 0 end
redis.call('decrby', from, amount)
redis.call('incrby', to, amount)
return 1
"""

# Reads keys it was not given in KEYS: allowed outside cluster mode.
SUM_ALL = """
local total = 0
for i = 0, tonumber(ARGV[1]) - 1 do
  total = total + tonumber(redis.call('get', 'acct:' .. i))
end
return total
"""


def test_transfer_script_is_atomic_across_shards(server, r):
    """50 clients move amounts between 20 accounts (spread over every shard)
    with a Lua script while a reader sums every account with another script:
    the total never changes."""
    n = 20
    keys = ["acct:%d" % i for i in range(n)]
    r.mset({k: 1000 for k in keys})
    total = 1000 * n
    transfer_sha = r.script_load(TRANSFER)
    stop = threading.Event()
    bad, moved, errors = [], [0], []
    lock = threading.Lock()

    def mover(seed):
        c = server.client()
        i, done = seed, 0
        try:
            while not stop.is_set():
                a, b = keys[i % n], keys[(i * 7 + 3) % n]
                if a != b:
                    done += c.evalsha(transfer_sha, 2, a, b, 1 + i % 5)
                i += 1
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
        with lock:
            moved[0] += done
        c.close()

    def reader():
        c = server.client()
        while not stop.is_set():
            s = c.eval(SUM_ALL, 0, n)
            if s != total:
                bad.append(s)
            # MGET across shards sees the same: no script is half-applied.
            if sum(int(v) for v in c.mget(keys)) != total:
                bad.append("mget")
        c.close()

    threads = [threading.Thread(target=mover, args=(s,)) for s in range(50)] + [threading.Thread(target=reader)]
    for t in threads:
        t.start()
    time.sleep(2 if SANITIZED else 4)
    stop.set()
    for t in threads:
        t.join(30)
    assert errors == []
    assert bad == []
    assert moved[0] > 0
    assert sum(int(v) for v in r.mget(keys)) == total


def wait_busy(c, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            c.ping()
        except redis.exceptions.BusyLoadingError as e:  # redis-py maps -BUSY... to ResponseError subclasses
            return str(e)
        except redis.exceptions.ResponseError as e:
            if str(e).startswith("BUSY"):
                return str(e)
            raise
        time.sleep(0.02)
    raise AssertionError("the server never became busy")


def as_dict(flat):
    return dict(zip(flat[::2], flat[1::2]))


class Background:
    """Runs one command on its own connection; keeps its reply or error."""

    def __init__(self, server, fn):
        self.result = None
        self.conn = server.client()
        self.thread = threading.Thread(target=self._run, args=(fn,))
        self.thread.start()

    def _run(self, fn):
        try:
            self.result = fn(self.conn)
        except Exception as e:  # noqa: BLE001 - inspected by the test
            self.result = e

    def join(self, timeout=10):
        self.thread.join(timeout)
        assert not self.thread.is_alive()
        self.conn.close()
        return self.result


@pytest.fixture
def quick_busy(r):
    r.config_set("busy-reply-threshold", 100)
    yield
    r.config_set("busy-reply-threshold", 5000)


def test_busy_script_and_script_kill(server, r, quick_busy):
    other = server.client()
    other.set("untouched", "v")
    bg = Background(server, lambda c: c.eval("local i = 0 while true do i = i + 1 end", 0))
    msg = wait_busy(other)
    assert msg == "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
    # Refused before reaching the shards, keyed or not; allow-busy commands run.
    with pytest.raises(redis.exceptions.ResponseError, match="^BUSY"):
        other.get("untouched")
    with pytest.raises(redis.exceptions.ResponseError, match="^BUSY"):
        other.function_kill()
    assert other.execute_command("MULTI") == b"OK"
    assert other.execute_command("DISCARD") == b"OK"
    assert other.script_kill()
    err = bg.join()
    assert isinstance(err, redis.exceptions.ResponseError)
    assert str(err).startswith("Script killed by user with SCRIPT KILL... script: ")
    assert str(err).endswith(", on @user_script:1.")
    assert other.get("untouched") == b"v"
    with pytest.raises(redis.exceptions.ResponseError, match="^NOTBUSY No scripts in execution right now."):
        other.script_kill()
    other.close()


def test_pcall_cannot_swallow_script_kill(server, r, quick_busy):
    other = server.client()
    script = "while true do pcall(function() local i = 0 while true do i = i + 1 end end) end"
    bg = Background(server, lambda c: c.eval(script, 0))
    wait_busy(other)
    assert other.script_kill()
    err = bg.join()
    assert "Script killed by user with SCRIPT KILL" in str(err)
    assert other.ping()
    other.close()


def test_script_that_wrote_is_unkillable(server, r, quick_busy):
    other = server.client()
    # Writes, then loops until the key it watches changes: SCRIPT KILL must
    # refuse, and the script ends on its own when time runs out.
    script = """
    redis.call('set', KEYS[1], 'written')
    local t0 = tonumber(redis.call('time')[1])
    local i = 0
    while true do
      i = i + 1
      if i % 100000 == 0 and tonumber(redis.call('time')[1]) - t0 >= 2 then break end
    end
    return i
    """
    bg = Background(server, lambda c: c.eval(script, 1, "unkillable"))
    wait_busy(other)
    with pytest.raises(redis.exceptions.ResponseError) as e:
        other.script_kill()
    assert str(e.value) == (
        "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait "
        "the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.")
    result = bg.join(20)
    assert isinstance(result, int) and result > 0
    assert other.get("unkillable") == b"written"
    other.close()


def test_function_kill_and_stats(server, r, quick_busy):
    r.function_flush()
    r.function_load("#!lua name=spin\n"
                    "redis.register_function{function_name='spin', callback=function() "
                    "local i = 0 while true do i = i + 1 end end, flags={'no-writes'}}")
    other = server.client()
    bg = Background(server, lambda c: c.fcall("spin", 0))
    msg = wait_busy(other)
    assert msg == "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
    try:
        stats = as_dict(other.function_stats())
        running = as_dict(stats[b"running_script"])
        assert running[b"name"] == b"spin"
        assert running[b"command"] == [b"FCALL", b"spin", b"0"]
        assert running[b"duration_ms"] >= 100
        with pytest.raises(redis.exceptions.ResponseError, match="You can only call FUNCTION KILL"):
            other.script_kill()
    finally:
        assert other.function_kill()
    err = bg.join()
    assert "Script killed by user with SCRIPT KILL... script: spin, on @user_function:2." in str(err)
    assert as_dict(other.function_stats())[b"running_script"] is None
    r.function_flush()
    other.close()


def test_shutdown_nosave_ends_a_busy_script(shrike_binary):
    s = Server(shrike_binary, "--threads", "2", "--shards", "2", "--busy-reply-threshold", "100")
    try:
        c = s.client()
        bg = Background(s, lambda conn: conn.eval("redis.call('set', 'k', 1) while true do end", 0))
        wait_busy(c)
        with pytest.raises(redis.exceptions.ResponseError, match="^UNKILLABLE"):
            c.script_kill()
        with pytest.raises(redis.exceptions.ResponseError, match="^BUSY"):
            c.execute_command("SHUTDOWN")  # only SHUTDOWN NOSAVE while a script is busy
        try:
            c.shutdown(nosave=True)
        except redis.exceptions.ConnectionError:
            pass
        assert s.proc.wait(10) == 0
        bg.join()
    finally:
        s.stop()


def test_busy_script_answers_the_clients_of_its_own_thread(shrike_binary):
    # One thread: every client lives on the script's thread, so their -BUSY
    # and the SCRIPT KILL come from the script's hook serving that thread.
    s = Server(shrike_binary, "--threads", "1", "--busy-reply-threshold", "100")
    try:
        c = s.client(socket_timeout=10)  # without the hook's serving, no reply comes
        c.set("k", "v")
        bg = Background(s, lambda conn: conn.eval("local i = 0 while true do i = i + 1 end", 0))
        assert wait_busy(c).startswith("BUSY Redis is busy running a script.")
        late = s.client(socket_timeout=10)  # a connection accepted while the script runs
        with pytest.raises(redis.exceptions.ResponseError, match="^BUSY"):
            late.get("k")
        assert late.script_kill()
        err = bg.join()
        assert str(err).startswith("Script killed by user with SCRIPT KILL...")
        assert c.get("k") == b"v"
        late.close()
        c.close()
    finally:
        s.stop()


def test_script_cache_across_flush(server, r):
    r.script_flush()
    sha = r.script_load("return 'cached'")
    assert r.script_exists(sha, "0" * 40) == [True, False]
    assert r.evalsha(sha, 0) == b"cached"
    assert r.evalsha(sha.upper(), 0) == b"cached"
    assert int(r.info("memory")["number_of_cached_scripts"]) == 1
    r.script_flush()
    assert r.script_exists(sha) == [False]
    with pytest.raises(redis.exceptions.NoScriptError):
        r.evalsha(sha, 0)
    assert int(r.info("memory")["number_of_cached_scripts"]) == 0
    # redis-py's Script object loads the script again after NOSCRIPT.
    script = r.register_script("return ARGV[1] .. '!'")
    assert script(args=["hi"]) == b"hi!"
    r.script_flush()
    assert script(args=["again"]) == b"again!"
    # Globals do not survive a flush or leak between scripts.
    with pytest.raises(redis.exceptions.ResponseError, match="Attempt to modify a readonly table"):
        r.eval("leak = 1", 0)


def test_script_push_wakes_blocked_client(server, r):
    bg = Background(server, lambda c: c.blpop("jobs", timeout=5))
    time.sleep(0.2)
    assert r.eval("redis.call('rpush', KEYS[1], 'a', 'b') return redis.call('llen', KEYS[1])", 1, "jobs") == 2
    assert bg.join() == (b"jobs", b"a")
    assert r.lrange("jobs", 0, -1) == [b"b"]


def test_scripts_see_one_time_and_one_snapshot(server, r):
    # Every command of a script sees the time the script started: a key with
    # 1 ms to live does not expire half-way through it.
    r.set("short", "v", px=50)
    got = r.eval("""
    local first = redis.call('get', KEYS[1])
    local t0 = redis.call('time')
    local t = tonumber(t0[1]) * 1000000 + tonumber(t0[2])
    local now = t
    while now - t < 100000 do
      local tt = redis.call('time') now = tonumber(tt[1]) * 1000000 + tonumber(tt[2])
    end
    return {first, redis.call('get', KEYS[1])}
    """, 1, "short")
    assert got == [b"v", b"v"]
    time.sleep(0.1)
    assert r.get("short") is None


def test_info_and_commandstats(server, r):
    r.config_resetstat()
    r.eval("redis.call('set', 'cs', 1) return redis.call('get', 'cs')", 0)
    stats = r.info("commandstats")
    assert stats["cmdstat_eval"]["calls"] == 1
    assert stats["cmdstat_set"]["calls"] == 1
    assert stats["cmdstat_get"]["calls"] == 1
    mem = r.info("memory")
    for field in ("used_memory_lua", "used_memory_vm_eval", "used_memory_scripts_eval", "number_of_functions",
                  "number_of_libraries", "used_memory_vm_functions", "used_memory_vm_total", "used_memory_functions",
                  "used_memory_scripts"):
        assert field in mem
    assert mem["used_memory_lua"] > 10000


REDIS_SERVER = shutil.which("redis-server")


class Proc:
    """A server on a free port in a given dir (dump.rdb there is loaded at start)."""

    def __init__(self, argv, directory):
        self.port = free_port()
        self.log = open(os.path.join(directory, "server-%d.log" % self.port), "w")
        self.proc = subprocess.Popen(argv + ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                             "--appendonly", "no", "--dir", directory],
                                     stdout=self.log, stderr=subprocess.STDOUT, cwd=directory)
        deadline = time.time() + 20
        while True:
            try:
                if redis.Redis(port=self.port, socket_timeout=2).ping():
                    return
            except redis.exceptions.ConnectionError:
                if self.proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("server did not start")
                time.sleep(0.05)

    def client(self):
        return redis.Redis(port=self.port)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.log.close()


@pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server (Debian's redis-server 7.0) not installed")
def test_functions_in_rdb_files_both_ways(shrike_binary, tmp_path):
    """Libraries go into RDB files (FUNCTION2 records) and come back: ours
    after a restart, redis-server 7.0 on our file, ours on redis-server's."""
    shrike_binary = os.path.abspath(shrike_binary)
    ours_dir, redis_dir = str(tmp_path / "ours"), str(tmp_path / "redis")
    os.mkdir(ours_dir)
    os.mkdir(redis_dir)
    lib = "#!lua name=persisted\nredis.register_function('persisted', function(keys, args) return 'from ' .. args[1] end)"
    s = Proc([shrike_binary, "--threads", "2", "--shards", "2"], ours_dir)
    try:
        c = s.client()
        assert c.function_load(lib) == b"persisted"
        c.set("k", "v")
        assert c.save()
    finally:
        s.stop()
    s = Proc([shrike_binary, "--threads", "2", "--shards", "2"], ours_dir)
    try:
        assert s.client().fcall("persisted", 0, "ours after restart") == b"from ours after restart"
        assert s.client().get("k") == b"v"
    finally:
        s.stop()
    shutil.copy(os.path.join(ours_dir, "dump.rdb"), os.path.join(redis_dir, "dump.rdb"))
    r = Proc([REDIS_SERVER], redis_dir)
    try:
        c = r.client()
        assert c.fcall("persisted", 0, "redis") == b"from redis"
        c.function_load("#!lua name=second\nredis.register_function('second', function() return 2 end)")
        assert c.save()
    finally:
        r.stop()
    shutil.copy(os.path.join(redis_dir, "dump.rdb"), os.path.join(ours_dir, "dump.rdb"))
    s = Proc([shrike_binary], ours_dir)
    try:
        c = s.client()
        assert c.fcall("second", 0) == 2
        assert c.fcall("persisted", 0, "ours again") == b"from ours again"
        assert sorted(lib[b"library_name"] for lib in
                      (dict(zip(x[::2], x[1::2])) for x in c.function_list())) == [b"persisted", b"second"]
    finally:
        s.stop()


def wait_for(fn, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if fn():
            return True
        time.sleep(0.05)
    return False


def test_replica_gets_the_effects_of_scripts(shrike_binary):
    """A script replicates its writes (not itself): the replica has what the
    script wrote, except after redis.set_repl(REPL_NONE); libraries reach it
    through the full sync's RDB and through FUNCTION LOAD."""
    master = Server(shrike_binary, "--threads", "2", "--shards", "2", "--repl-diskless-sync-delay", "0")
    replica = None
    try:
        m = master.client()
        m.function_load("#!lua name=before\nredis.register_function{function_name='before', "
                        "callback=function() return 'b' end, flags={'no-writes'}}")
        replica = Server(shrike_binary, "--threads", "2", "--shards", "2", "--replicaof", "127.0.0.1",
                         str(master.port))
        r = replica.client()
        assert wait_for(lambda: r.info("replication")["master_link_status"] == "up")
        assert r.fcall("before", 0) == b"b"
        m.eval("redis.call('set', 'a', 1) redis.call('incr', 'a') redis.call('rpush', 'l', 'x', 'y') "
               "redis.call('set', 'ttl', 'v', 'ex', 100)", 0)
        m.eval("redis.set_repl(redis.REPL_NONE) redis.call('set', 'local-only', 1)", 0)
        m.function_load("#!lua name=after\nredis.register_function('after', function(keys) "
                        "return redis.call('set', keys[1], 'from function') end)")
        m.fcall("after", 1, "f")
        m.set("marker", 1)
        assert wait_for(lambda: r.get("marker") == b"1")
        assert r.mget("a", "local-only", "f") == [b"2", None, b"from function"]
        assert r.lrange("l", 0, -1) == [b"x", b"y"]
        assert 90 <= r.ttl("ttl") <= 100
        assert m.get("local-only") == b"1"
        # A replica runs no writes of its own (Redis's errors), reads fine.
        # (processCommand's error: declared flags make FCALL a write command)
        with pytest.raises(redis.exceptions.ReadOnlyError, match="You can't write against a read only replica"):
            r.fcall("after", 1, "g")
        with pytest.raises(redis.exceptions.ReadOnlyError, match="You can't write against a read only replica"):
            r.eval("return redis.call('set', 'g', 1)", 0)
        assert r.eval("return redis.call('get', 'a')", 0) == b"2"
        assert r.get("g") is None
    finally:
        if replica:
            replica.stop()
        master.stop()
