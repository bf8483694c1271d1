"""redis-py and redis-cli against the real binary."""
import os
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest
import redis

from conftest import Server


def test_strings_and_keys(r):
    assert r.set("a", "1") is True
    assert r.get("a") == b"1"
    assert r.incrby("a", 41) == 42
    assert r.mset({"k1": "v1", "k2": "v2", "k3": "v3"}) is True
    assert r.mget("k1", "k2", "nope", "k3") == [b"v1", b"v2", None, b"v3"]
    assert r.delete("k1", "k2", "nope") == 2
    assert r.exists("k3", "k3") == 2
    assert r.rename("k3", "k4") is True
    assert r.get("k4") == b"v3"
    assert r.type("k4") == b"string"
    binary = b"\x00\r\n\xff"
    r.set(binary, binary)
    assert r.get(binary) == binary


def test_expiry(r):
    r.set("t", "v", px=100)
    assert 0 < r.pttl("t") <= 100
    time.sleep(0.2)
    assert r.get("t") is None
    assert r.ttl("t") == -2


def test_active_expiry_reclaims_untouched_keys(r):
    pipe = r.pipeline(transaction=False)
    for i in range(100_000):
        pipe.set(f"exp:{i}", "x", px=100)
        if i % 10_000 == 9_999:
            pipe.execute()
    pipe.execute()
    deadline = time.time() + 2.0
    while time.time() < deadline and r.dbsize() > 0:
        time.sleep(0.1)
    assert r.dbsize() == 0


def test_scan_returns_all_keys_while_growing(r):
    for i in range(1000):
        r.set(f"stable:{i}", i)
    seen = set()
    cursor = 0
    step = 0
    while True:
        cursor, keys = r.scan(cursor, count=20)
        seen.update(keys)
        if step == 5:
            for i in range(5000):
                r.set(f"grow:{i}", i)
        if step == 40:
            for i in range(5000):
                r.delete(f"grow:{i}")
        step += 1
        if cursor == 0:
            break
    assert all(f"stable:{i}".encode() in seen for i in range(1000))


def test_pipeline_of_100k_with_redis_cli_pipe(server):
    data = b"".join(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nv\r\n" % (len(k), k)
                    for k in (b"pipe:%d" % i for i in range(100_000)))
    out = subprocess.run(["redis-cli", "-p", str(server.port), "--pipe"], input=data,
                         capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert b"errors: 0, replies: 100000" in out.stdout
    assert server.client().dbsize() >= 100_000
    server.client().flushall()


def test_redis_cli_roundtrip(server):
    cli = ["redis-cli", "-p", str(server.port)]
    assert subprocess.run(cli + ["set", "cli", "hello world"], capture_output=True).stdout == b"OK\n"
    assert subprocess.run(cli + ["get", "cli"], capture_output=True).stdout == b"hello world\n"


def test_concurrent_incr_exact_totals(server):
    keys = [f"ctr:{i}" for i in range(16)]

    def worker():
        c = server.client()
        for n in range(2000):
            c.incr(keys[n % len(keys)])

    threads = [threading.Thread(target=worker) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    c = server.client()
    assert sum(int(c.get(k)) for k in keys) == 50 * 2000


def test_mget_never_sees_half_applied_mset(server):
    check_mset_atomic(server)


def test_mget_never_sees_half_applied_mset_single_thread(shrike_binary):
    # One pool thread, four shards: single-shard work takes the inline fast
    # path while multi-shard commands hold gates across suspensions.
    s = Server(shrike_binary, "--threads", "1", "--shards", "4")
    try:
        check_mset_atomic(s)
    finally:
        s.stop()


def check_mset_atomic(server):
    keys = [f"atom:{i}" for i in range(8)]  # spread over the 4 shards
    stop = threading.Event()
    torn = []

    def writer():
        c = server.client()
        n = 0
        while not stop.is_set():
            n += 1
            c.mset({k: n for k in keys})

    def reader():
        c = server.client()
        while not stop.is_set():
            vals = c.mget(keys)
            if vals[0] is not None and len(set(vals)) != 1:
                torn.append(vals)

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(3)
    stop.set()
    for t in threads:
        t.join()
    assert torn == []


def test_resp3_shapes_after_hello_3(server):
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        s.sendall(b"HELLO 3\r\n")
        hello = s.recv(4096)
        assert hello.startswith(b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n")
        s.sendall(b"GET nosuchkey\r\nCONFIG GET maxmemory\r\n")
        data = b""
        while not data.endswith(b"$1\r\n0\r\n"):
            data += s.recv(4096)
        assert data == b"_\r\n%1\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n"


def test_unknown_command_and_arity(r):
    with pytest.raises(redis.ResponseError, match="unknown command 'nosuch'"):
        r.execute_command("nosuch", "a")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'get' command"):
        r.execute_command("get")


def test_pipeline_repeating_a_command_name(server):
    # One write of requests whose names repeat (the session remembers the last
    # command looked up): exact replies for the same name in another case, the
    # same name with a wrong arity, and subcommands behind one container name.
    raw = (b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
           b"*3\r\n$3\r\nSET\r\n$1\r\nj\r\n$1\r\nw\r\n"
           b"*2\r\n$3\r\nSET\r\n$1\r\nk\r\n"
           b"*2\r\n$3\r\nset\r\n$1\r\nk\r\n"
           b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
           b"*1\r\n$3\r\nGET\r\n"
           b"*3\r\n$6\r\nOBJECT\r\n$8\r\nENCODING\r\n$1\r\nk\r\n"
           b"*3\r\n$6\r\nOBJECT\r\n$7\r\nNOSUCHX\r\n$1\r\nk\r\n"
           b"*2\r\n$6\r\nOBJECT\r\n$4\r\nHELP\r\n")
    expected_head = (b"+OK\r\n+OK\r\n"
                     b"-ERR wrong number of arguments for 'set' command\r\n"
                     b"-ERR wrong number of arguments for 'set' command\r\n"
                     b"$1\r\nv\r\n"
                     b"-ERR wrong number of arguments for 'get' command\r\n"
                     b"$6\r\nembstr\r\n"
                     b"-ERR unknown subcommand 'NOSUCHX'. Try OBJECT HELP.\r\n*")
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        s.sendall(raw)
        data = b""
        s.settimeout(5)
        while len(data) < len(expected_head) or not data.endswith(b"\r\n") or b"OBJECT <subcommand>" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        assert data.startswith(expected_head), data


def test_pipeline_container_command_then_its_subcommand(r):
    # COMMAND alone runs the container's own handler; COMMAND COUNT right
    # after it in the same batch must still reach the subcommand.
    pipe = r.pipeline(transaction=False)
    pipe.command()
    pipe.command_count()
    everything, count = pipe.execute()
    assert isinstance(count, int)
    assert count == len(everything)


def test_requirepass(shrike_binary):
    s = Server(shrike_binary, "--requirepass", "secret")
    try:
        with pytest.raises(redis.AuthenticationError):
            s.client().get("x")
        assert s.client(password="secret").set("x", 1)
    finally:
        s.stop()


def test_query_buffer_limit_is_read_live(r, server):
    # A request whose unread part outgrows client-query-buffer-limit closes
    # the client (Redis logs "Closing client that reached max query buffer
    # length"); the same request fits once the limit is raised again.
    two_mb = 2 * 1024 * 1024
    request = b"*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$%d\r\n" % two_mb + b"v" * two_mb + b"\r\n"

    def send(payload):
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(payload[:two_mb])  # a partial request: the server has to buffer it
            try:
                sock.sendall(payload[two_mb:])
                return sock.recv(64)
            except (ConnectionResetError, BrokenPipeError):
                return b""

    r.config_set("client-query-buffer-limit", "1mb")
    try:
        assert send(request) == b""
        assert not r.exists("big")
    finally:
        r.config_set("client-query-buffer-limit", "1gb")
    assert send(request) == b"+OK\r\n"
    assert r.strlen("big") == two_mb


def server_side_tcp_timer(server_port, client_port):
    """The timer kind ("tr") of the server's end of a loopback connection in
    /proc/net/tcp once its reply is acknowledged: 2 while a keepalive timer is
    armed, 0 with none (1, a retransmit timer, lasts until the client's ACK)."""
    deadline = time.time() + 2
    while True:
        with open("/proc/net/tcp") as f:
            rows = [line.split() for line in list(f)[1:]]
        found = [int(r[5].split(":")[0], 16) for r in rows
                 if r[1].endswith(":%04X" % server_port) and r[2].endswith(":%04X" % client_port)]
        assert found, "connection not found"
        if found[0] != 1 or time.time() > deadline:
            return found[0]
        time.sleep(0.05)


def test_tcp_keepalive_applies_to_new_connections(r, server):
    r.config_set("tcp-keepalive", "0")
    try:
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(b"PING\r\n")
            assert sock.recv(16) == b"+PONG\r\n"
            assert server_side_tcp_timer(server.port, sock.getsockname()[1]) == 0
    finally:
        r.config_set("tcp-keepalive", "300")
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"PING\r\n")
        assert sock.recv(16) == b"+PONG\r\n"
        assert server_side_tcp_timer(server.port, sock.getsockname()[1]) == 2


def test_sigterm_exits_cleanly(shrike_binary):
    s = Server(shrike_binary)
    s.client().set("x", 1)
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(10) == 0
    s.stop()


def test_idle_clients_are_closed_after_timeout(shrike_binary):
    s = Server(shrike_binary, "--timeout", "1")
    try:
        c = s.client()
        c.set("x", 1)
        conn = c.connection_pool.get_connection("get")
        time.sleep(2.5)
        with pytest.raises(redis.ConnectionError):
            conn.send_command("get", "x")
            conn.read_response()
    finally:
        s.stop()


def test_monitor_sees_executed_commands(server):
    with socket.create_connection(("127.0.0.1", server.port)) as mon:
        mon.sendall(b"MONITOR\r\n")
        assert mon.recv(100) == b"+OK\r\n"
        c = server.client()
        c.set("mon key", b"v\x00\"")
        c.execute_command("config", "get", "port")  # admin: never shown
        c.get("k")
        data = b""
        mon.settimeout(5)
        while data.count(b"\r\n") < 2:
            data += mon.recv(4096)
        lines = data.split(b"\r\n")
        assert lines[0].startswith(b"+") and lines[0].endswith(b'"SET" "mon key" "v\\x00\\""'), lines[0]
        assert lines[1].endswith(b'"GET" "k"'), lines[1]


def test_pipelined_reads_over_several_shards_keep_request_order(r):
    # One write of reads on keys of all 4 shards (several hops per batch):
    # the replies come back in request order, and a write in the middle is
    # seen by the reads after it and not by those before.
    for i in range(200):
        r.set(f"s:{i}", f"v{i}")
        r.hset(f"h:{i}", "f", i)
        r.rpush(f"l:{i}", i, i + 1)
    pipe = r.pipeline(transaction=False)
    expected = []
    for i in range(200):
        pipe.get(f"s:{i}")
        expected.append(b"changed" if i == 150 else f"v{i}".encode())
        pipe.hget(f"h:{i}", "f")
        expected.append(str(i).encode())
        pipe.lrange(f"l:{i}", 0, -1)
        expected.append([str(i).encode(), str(i + 1).encode()])
        pipe.exists(f"nosuch:{i}")
        expected.append(0)
        if i == 100:
            pipe.get("s:150")
            expected.append(b"v150")
            pipe.set("s:150", "changed")
            expected.append(True)
    pipe.get("s:150")
    expected.append(b"changed")
    pipe.get("h:3")  # a wrong type error in the middle of the reads
    pipe.get("s:3")
    results = pipe.execute(raise_on_error=False)
    assert isinstance(results[-2], redis.ResponseError)
    expected_tail = [b"v3"]
    assert results[:-2] + results[-1:] == expected + expected_tail
    # The read before the SET saw the old value, the one after it the new one.
    assert results[4 * 100 + 4] == b"v150"
    assert results[4 * 150 + 2] == b"changed"
