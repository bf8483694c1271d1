"""Starts shrike-server on a free loopback port for the integration tests."""
import os
import socket
import subprocess
import tempfile
import time

import pytest
import redis


def pytest_addoption(parser):
    parser.addoption("--shrike", required=True, help="path to the shrike-server binary")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, *args):
        self.port = free_port()
        self.dir = tempfile.TemporaryDirectory(prefix="shrike-it-")
        self.log = open(os.path.join(self.dir.name, "server.log"), "w")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--dir", self.dir.name, *args],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while True:
            try:
                if redis.Redis(port=self.port, socket_timeout=1).ping():
                    break
            except (redis.exceptions.AuthenticationError, redis.exceptions.ResponseError):
                break  # up, but wants a password
            except redis.exceptions.ConnectionError:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("shrike-server did not start")
                time.sleep(0.05)

    def client(self, **kw):
        return redis.Redis(port=self.port, **kw)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        self.dir.cleanup()


@pytest.fixture(scope="session")
def shrike_binary(request):
    return request.config.getoption("--shrike")


@pytest.fixture(scope="module")
def server(shrike_binary):
    s = Server(shrike_binary, "--threads", "2", "--shards", "4")
    yield s
    s.stop()


@pytest.fixture
def r(server):
    c = server.client()
    c.flushall()
    yield c
    c.close()
