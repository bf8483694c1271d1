"""ACL: the aclfile (startup, ACL LOAD, ACL SAVE), `user` lines on the command
line and in the JSON config, rule changes reaching connected clients, DELUSER
and ACL LOAD closing connections, revoked channels closing subscribers, the
ACL LOG compared with redis-server 7.0's, pipelined AUTH."""
import json
import os
import shutil
import socket
import subprocess
import time

import pytest
import redis

from conftest import Server, free_port

REDIS_SERVER = shutil.which("redis-server")


def wait_closed(client, timeout=5.0):
    """True once the server has closed the client's connection (redis-py
    then reconnects, and logging in again fails when the user is gone)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            client.ping()
        except redis.ConnectionError:
            return True
        except redis.ResponseError as e:
            if "WRONGPASS" in str(e):
                return True
            raise
        time.sleep(0.02)
    return False


def launch_fails(binary, *args):
    """Runs the server with arguments it must refuse; returns its output."""
    port = free_port()
    proc = subprocess.run([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", *args],
                          capture_output=True, text=True, timeout=10)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def acl_lines(path):
    with open(path) as f:
        return [line for line in f.read().split("\n") if line]


def test_aclfile_startup_save_load(shrike_binary, tmp_path):
    aclfile = tmp_path / "users.acl"
    aclfile.write_text("user alice on >alicepw ~a* &news -@all +get +set\n"
                       "\n"
                       "user default on nopass ~* &* +@all\n")
    s = Server(shrike_binary, "--aclfile", str(aclfile))
    try:
        admin = s.client(decode_responses=True)
        assert admin.execute_command("ACL", "USERS") == ["alice", "default"]
        alice = s.client(username="alice", password="alicepw", decode_responses=True)
        assert alice.set("a1", "v")
        assert alice.get("a1") == "v"
        with pytest.raises(redis.exceptions.NoPermissionError):
            alice.get("b1")
        # SAVE writes every user in the file's format, in name order.
        admin.execute_command("ACL", "SETUSER", "bob", "on", ">bobpw", "%R~b*", "-@all", "+get")
        assert admin.execute_command("ACL", "SAVE") == "OK"
        saved = acl_lines(aclfile)
        assert [line.split()[1] for line in saved] == ["alice", "bob", "default"]
        assert saved[1].startswith("user bob on #") and saved[1].endswith(" %R~b* resetchannels -@all +get")
        assert saved == admin.execute_command("ACL", "LIST")
        # LOAD: the file replaces the users; clients of replaced users are closed, the default user's stay.
        aclfile.write_text(saved[1] + "\nuser carol on nopass ~* -@all +ping\n")
        assert admin.execute_command("ACL", "LOAD") == "OK"
        assert admin.execute_command("ACL", "USERS") == ["bob", "carol", "default"]
        assert wait_closed(alice)
        assert admin.ping()
        assert admin.execute_command("ACL", "GETUSER", "default")[1] == ["on", "nopass"]
        assert s.client(username="bob", password="bobpw").get("b1") is None
        # A bad file changes nothing and says why, line by line.
        aclfile.write_text("user dave on +nosuchcommand\n# comment\nuser dave on\nuser eve on ~a ~b resetkeys badrule\n")
        with pytest.raises(redis.ResponseError) as e:
            admin.execute_command("ACL", "LOAD")
        path = str(aclfile)
        assert str(e.value) == (
            f"{path}:1: Error in applying operation '+nosuchcommand': Unknown command or category name in ACL. "
            f"{path}:2 should start with user keyword followed by the username. "
            "WARNING: Duplicate user 'dave' found on line 3. "
            f"{path}:4: Syntax error. "
            "WARNING: ACL errors detected, no change to the previously active ACL rules was performed")
        assert admin.execute_command("ACL", "USERS") == ["bob", "carol", "default"]
        os.remove(aclfile)
        with pytest.raises(redis.ResponseError, match="Error loading ACLs, opening file .*No such file"):
            admin.execute_command("ACL", "LOAD")
    finally:
        s.stop()


def test_bad_aclfile_stops_startup(shrike_binary, tmp_path):
    aclfile = tmp_path / "bad.acl"
    aclfile.write_text("user alice on +nosuchcommand\n")
    s = subprocess.run([shrike_binary, "--port", str(free_port()), "--bind", "127.0.0.1", "--save", "",
                        "--aclfile", str(aclfile)], capture_output=True, text=True, timeout=10)
    assert s.returncode == 1
    assert "Aborting Redis startup because of ACL errors" in s.stdout + s.stderr


def test_user_lines_on_the_command_line_and_in_json(shrike_binary, tmp_path):
    config = tmp_path / "shrike.json"
    config.write_text(json.dumps({"user": ["alice on >pw1 ~a* +@all", "default on >defpw ~* &* +@all"]}))
    s = Server(shrike_binary, "--config", str(config), "--user", "bob on >pw2 %R~b* -@all +get",
               "--user", "carol", "on", "nopass", "-@all", "+ping")
    try:
        with pytest.raises(redis.AuthenticationError):
            s.client().ping()
        admin = s.client(password="defpw", decode_responses=True)
        assert admin.execute_command("ACL", "USERS") == ["alice", "bob", "carol", "default"]
        assert admin.execute_command("ACL", "LIST")[1].endswith(" %R~b* resetchannels -@all +get")
        assert s.client(username="alice", password="pw1").set("a", 1)
        bob = s.client(username="bob", password="pw2")
        assert bob.get("b") is None
        with pytest.raises(redis.exceptions.NoPermissionError):
            bob.set("b", 1)
        assert s.client(username="carol", password="anything").ping()
        with pytest.raises(redis.ResponseError, match="This Redis instance is not configured to use an ACL file"):
            admin.execute_command("ACL", "SAVE")
    finally:
        s.stop()
    out = launch_fails(shrike_binary, "--user", "alice on +nosuchcommand")
    assert "'--user'" in out and "Unknown command or category name in ACL" in out
    out = launch_fails(shrike_binary, "--user", "alice on", "--user", "alice off")
    assert "Duplicate user found" in out
    out = launch_fails(shrike_binary, "--user", "alice on", "--aclfile", str(tmp_path / "x.acl"))
    assert "aclfile" in out
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "user": ["alice on (~a +get"]\n}\n')
    out = launch_fails(shrike_binary, "--config", str(bad))
    assert "line 2, column 3" in out and "Unmatched parenthesis" in out


def test_setuser_applies_to_connected_clients(server):
    admin = server.client(decode_responses=True)
    admin.execute_command("ACL", "SETUSER", "live", "on", ">pw", "~*", "-@all", "+get", "+set")
    try:
        c = server.client(username="live", password="pw", decode_responses=True)
        assert c.set("k", "v") and c.get("k") == "v"
        admin.execute_command("ACL", "SETUSER", "live", "-get")
        with pytest.raises(redis.exceptions.NoPermissionError, match="no permissions to run the 'get' command"):
            c.get("k")
        admin.execute_command("ACL", "SETUSER", "live", "resetkeys", "~other", "+get")
        with pytest.raises(redis.exceptions.NoPermissionError, match="one of the keys"):
            c.get("k")
        # Switched off: the connection keeps working, new logins fail.
        admin.execute_command("ACL", "SETUSER", "live", "~*", "off")
        assert c.get("k") == "v"
        with pytest.raises(redis.ResponseError, match="WRONGPASS"):
            server.client(username="live", password="pw").ping()
        clients = admin.execute_command("CLIENT", "LIST")
        assert "user=live" in clients and "user=default" in clients
        assert admin.execute_command("CLIENT", "KILL", "USER", "live") == 1
        assert wait_closed(c)
    finally:
        admin.execute_command("ACL", "DELUSER", "live")


def test_deluser_closes_the_users_connections(server):
    admin = server.client()
    admin.execute_command("ACL", "SETUSER", "gone", "on", ">pw", "~*", "+@all")
    c1 = server.client(username="gone", password="pw")
    c2 = server.client(username="gone", password="pw")
    other = server.client()
    assert c1.ping() and c2.ping()
    assert admin.execute_command("ACL", "DELUSER", "gone") == 1
    assert wait_closed(c1) and wait_closed(c2)
    assert other.ping()
    # Deleting yourself: the reply comes, then the connection closes.
    admin.execute_command("ACL", "SETUSER", "self", "on", ">pw", "+@all")
    me = server.client(username="self", password="pw")
    assert me.execute_command("ACL", "DELUSER", "self") == 1
    assert wait_closed(me)


def test_revoked_channels_close_subscribers(server):
    admin = server.client()
    admin.execute_command("ACL", "SETUSER", "sub", "on", ">pw", "resetchannels", "&news.*", "&alerts",
                          "-@all", "+@pubsub", "+ping")
    try:
        c = server.client(username="sub", password="pw")
        ps = c.pubsub()
        ps.subscribe("news.1")
        assert ps.get_message(timeout=2)["type"] == "subscribe"
        with pytest.raises(redis.exceptions.NoPermissionError):
            c.publish("other", "x")
        plain = server.client(username="sub", password="pw")  # same user, no subscription
        assert plain.ping()
        # Still allowed (a superset): nothing happens.
        admin.execute_command("ACL", "SETUSER", "sub", "&more")
        assert admin.publish("news.1", "hello") == 1
        assert ps.get_message(timeout=2)["data"] == b"hello"
        # news.* revoked: the subscriber is closed, the other connection stays.
        admin.execute_command("ACL", "SETUSER", "sub", "resetchannels", "&alerts")
        deadline = time.time() + 5
        closed = False
        while time.time() < deadline and not closed:
            try:
                ps.get_message(timeout=0.1)
                closed = admin.execute_command("PUBSUB", "NUMSUB", "news.1")[1] == 0
            except redis.ConnectionError:
                closed = True
        assert closed
        assert plain.ping()
    finally:
        admin.execute_command("ACL", "DELUSER", "sub")


def test_pipelined_auth(shrike_binary):
    s = Server(shrike_binary, "--requirepass", "pw")
    try:
        with socket.create_connection(("127.0.0.1", s.port), timeout=5) as sock:
            sock.sendall(b"AUTH pw\r\nSET k v\r\nGET k\r\n")
            data = b""
            while data.count(b"\r\n") < 4:
                data += sock.recv(4096)
            assert data == b"+OK\r\n+OK\r\n$1\r\nv\r\n"
    finally:
        s.stop()


def acl_log_of(port):
    """Runs the same denied commands and AUTH failures, returns ACL LOG."""
    admin = redis.Redis(port=port, decode_responses=True)
    admin.execute_command("ACL", "LOG", "RESET")
    admin.execute_command("ACL", "SETUSER", "logger", "on", ">pw", "~k*", "&ch", "-@all", "+get", "+publish",
                          "+multi", "+exec")
    c = redis.Redis(port=port, username="logger", password="pw", decode_responses=True)
    for call in (("GET", "x"), ("GET", "x"), ("SET", "k", "v"), ("PUBLISH", "other", "m"), ("GET", "k1")):
        try:
            c.execute_command(*call)
        except redis.ResponseError:
            pass
    for user, password in (("logger", "bad"), ("nobody", "x")):
        try:
            redis.Redis(port=port, username=user, password=password).ping()
        except redis.ResponseError:  # WRONGPASS
            pass
    pipe = c.pipeline(transaction=True)
    pipe.get("y")
    try:
        pipe.execute()
    except redis.ResponseError:
        pass
    log = admin.execute_command("ACL", "LOG")
    short = admin.execute_command("ACL", "LOG", "2")
    admin.execute_command("ACL", "DELUSER", "logger")
    admin.execute_command("ACL", "LOG", "RESET")
    return log, short


@pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server (Debian's redis-server 7.0) not installed")
def test_acl_log_entries_as_redis(server, tmp_path):
    port = free_port()
    ref = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                            "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 10
        while True:
            try:
                redis.Redis(port=port).ping()
                break
            except redis.ConnectionError:
                assert time.time() < deadline
                time.sleep(0.05)
        theirs, theirs_short = acl_log_of(port)
        ours, ours_short = acl_log_of(server.port)

        def fields(entries):
            out = []
            for e in entries:
                d = dict(zip(e[::2], e[1::2])) if isinstance(e, list) else e
                assert float(d["age-seconds"]) >= 0 and "user=" in d["client-info"]
                out.append([(k, v) for k, v in d.items() if k not in ("age-seconds", "client-info")])
            return out

        assert fields(ours) == fields(theirs)
        assert len(theirs) == 6  # the two GET x are one entry (count 2)
        assert fields(ours_short) == fields(theirs_short) and len(ours_short) == 2
    finally:
        ref.terminate()
        ref.wait(10)


def test_passwords_are_redacted_in_slowlog_and_monitor(server):
    admin = server.client()
    admin.config_set("slowlog-log-slower-than", 0)
    admin.slowlog_reset()
    mon = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    try:
        mon.sendall(b"MONITOR\r\n")
        assert mon.recv(100) == b"+OK\r\n"
        c = server.client()
        for args in (("AUTH", "secret1"), ("AUTH", "default", "secret2"), ("HELLO", "2", "AUTH", "default", "secret3"),
                     ("ACL", "SETUSER", "redact", ">secret4"), ("CONFIG", "SET", "requirepass", "")):
            try:
                c.execute_command(*args)
            except redis.ResponseError:
                pass
        entries = [[a.decode() for a in e["command"].split()] if isinstance(e["command"], bytes) else e["command"]
                   for e in admin.slowlog_get(10)]
        text = " ".join(str(e) for e in entries)
        assert "(redacted)" in text and not any("secret" in str(e) for e in entries)
        feed = b""
        deadline = time.time() + 5
        while feed.count(b"\r\n") < 3 and time.time() < deadline:  # AUTH, AUTH, HELLO (admin commands are not fed)
            feed += mon.recv(4096)
        assert b'"AUTH" "(redacted)"' in feed and b"secret" not in feed
    finally:
        mon.close()
        admin.config_set("slowlog-log-slower-than", 10000)
        admin.execute_command("ACL", "DELUSER", "redact")
