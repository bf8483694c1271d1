"""When the server saves on its own: save points (BGSAVE after N changes in
S seconds), SIGTERM and SHUTDOWN (with save points, SAVE, NOSAVE), and that
the next start loads what was saved."""
import os
import signal
import subprocess
import time

import redis

from conftest import free_port


class Proc:
    """A shrike-server on a fixed dir, restartable."""

    def __init__(self, binary, d, *args):
        self.binary, self.dir, self.args = binary, d, args
        self.port = free_port()
        self.proc = subprocess.Popen([binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", d, *args],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        self.r = redis.Redis(port=self.port)
        deadline = time.time() + 10
        while True:
            try:
                if self.r.ping():
                    return
            except redis.exceptions.ConnectionError:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise
                time.sleep(0.05)

    def wait_exit(self):
        return self.proc.wait(30)


def test_save_point_triggers_bgsave(shrike_binary, tmp_path):
    p = Proc(shrike_binary, str(tmp_path), "--save", "1 1")
    try:
        before = p.r.lastsave()
        p.r.set("sp", "v")
        assert p.r.info("persistence")["rdb_changes_since_last_save"] == 1
        deadline = time.time() + 10
        while p.r.lastsave() == before or p.r.info("persistence")["rdb_bgsave_in_progress"]:
            assert time.time() < deadline, "no save after 1 change in 1 s"
            time.sleep(0.1)
        assert os.path.exists(tmp_path / "dump.rdb")
        assert p.r.info("persistence")["rdb_changes_since_last_save"] == 0
        assert p.r.info("persistence")["rdb_last_bgsave_status"] == "ok"
    finally:
        p.proc.kill()
        p.wait_exit()
    q = Proc(shrike_binary, str(tmp_path), "--save", "")
    try:
        assert q.r.get("sp") == b"v"
    finally:
        q.proc.kill()
        q.wait_exit()


def test_sigterm_saves_when_save_points_are_set(shrike_binary, tmp_path):
    p = Proc(shrike_binary, str(tmp_path), "--save", "3600 1")
    p.r.mset({"a": 1, "b": 2})
    p.r.rpush("l", "x", "y")
    p.proc.send_signal(signal.SIGTERM)
    assert p.wait_exit() == 0
    q = Proc(shrike_binary, str(tmp_path), "--save", "")
    try:
        assert q.r.mget("a", "b") == [b"1", b"2"]
        assert q.r.lrange("l", 0, -1) == [b"x", b"y"]
    finally:
        q.proc.kill()
        q.wait_exit()


def test_shutdown_nosave_and_save(shrike_binary, tmp_path):
    p = Proc(shrike_binary, str(tmp_path), "--save", "3600 1")
    p.r.set("k", "kept?")
    try:
        p.r.shutdown(nosave=True)
    except redis.exceptions.ConnectionError:
        pass
    p.wait_exit()
    assert not os.path.exists(tmp_path / "dump.rdb")

    p = Proc(shrike_binary, str(tmp_path), "--save", "")
    p.r.set("k", "saved")
    try:
        p.r.shutdown(save=True)
    except redis.exceptions.ConnectionError:
        pass
    assert p.wait_exit() == 0
    q = Proc(shrike_binary, str(tmp_path), "--save", "")
    try:
        assert q.r.get("k") == b"saved"
    finally:
        q.proc.kill()
        q.wait_exit()


def test_bgsave_schedule_and_errors(shrike_binary, tmp_path):
    p = Proc(shrike_binary, str(tmp_path), "--save", "")
    try:
        assert p.r.execute_command("BGSAVE", "SCHEDULE") is True  # redis-py maps "Background saving started"
        try:
            p.r.execute_command("BGSAVE", "nope")
            assert False
        except redis.exceptions.ResponseError as e:
            assert str(e) == "syntax error"
        deadline = time.time() + 10
        while p.r.info("persistence")["rdb_bgsave_in_progress"]:
            assert time.time() < deadline
            time.sleep(0.05)
        assert os.path.exists(tmp_path / "dump.rdb")
    finally:
        p.proc.kill()
        p.wait_exit()
