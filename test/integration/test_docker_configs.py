"""The docker-compose topology without Docker: docker/master.json,
replica1.json and replica2.json started locally as docker-compose starts them,
with the port, dir and master address overridden on the command line (the
file's values for those are then not used). Writes on the master reach both
replicas; the replicas refuse writes.
"""
import json
import os
import time

import redis

from test_rdb_interop import Proc, workdir  # noqa: F401

DOCKER = os.path.join(os.path.dirname(__file__), "..", "..", "docker")


def config(name):
    return os.path.abspath(os.path.join(DOCKER, name))


def test_compose_files_describe_a_master_and_two_replicas():
    with open(os.path.join(DOCKER, "docker-compose.yml")) as f:
        compose = f.read()
    for name in ("master.json", "replica1.json", "replica2.json"):
        assert "/etc/shrike/" + name in compose
        with open(config(name)) as f:
            json.load(f)
    for name in ("replica1.json", "replica2.json"):
        with open(config(name)) as f:
            assert json.load(f)["replicaof"] == "master 6379"


def test_topology_from_the_json_files(shrike_binary, workdir):
    procs = []
    try:
        os.makedirs(os.path.join(workdir, "master"))
        master = Proc([shrike_binary, "--config", config("master.json"), "--repl-diskless-sync-delay", "0"],
                      os.path.join(workdir, "master"))
        procs.append(master)
        for name in ("replica1", "replica2"):
            d = os.path.join(workdir, name)
            os.makedirs(d)
            procs.append(Proc([shrike_binary, "--config", config(name + ".json"), "--replicaof",
                               "127.0.0.1 %d" % master.port, "--replica-announce-ip", "127.0.0.1"], d))
        mc = master.client()
        for i in range(1000):
            mc.set("key:%d" % i, i)
        deadline = time.time() + 30
        while mc.wait(2, 1000) < 2:
            assert time.time() < deadline, mc.info("replication")
        assert mc.info("replication")["connected_slaves"] == 2
        for replica in procs[1:]:
            rc = replica.client()
            assert rc.info("replication")["master_link_status"] == "up"
            assert rc.mget(["key:0", "key:999"]) == [b"0", b"999"]
            try:
                rc.set("x", "1")
                raise AssertionError("a replica accepted a write")
            except redis.exceptions.ReadOnlyError:
                pass
    finally:
        for p in procs:
            p.stop()
