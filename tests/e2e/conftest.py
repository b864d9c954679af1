"""E2E fixtures: the real backend (`paperfeed serve`) on the test Redis, a local
https://huggingface.co serving the fixture pages, and helpers to call the API."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.chromium import ExtensionBrowser, chromium_available
from tests.e2e.site import FixtureSite

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
# The real Daily Papers API responses the fixture pages were built from: their days are in the
# catalogue, so a day's, a week's or a month's page has recommendations of its own period.
FIXTURE_DAYS = sorted((REPO / "tests" / "fixtures" / "hf" / "raw").glob("*.json"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stable_port() -> int:
    """A free port below the kernel's ephemeral range, for a server that is stopped and restarted.

    Ports from free_port() come from the ephemeral range, so while our backend is down another
    process (e.g. a concurrent test session) could be handed the same port and answer in its place.
    """
    low = 32768
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20000, max(20001, min(low, 32768)))
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    return free_port()


def wait_until(predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.2,
               message: str = "condition") -> object:
    """Poll until predicate() is truthy; return its value or fail."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as error:  # noqa: BLE001 - keep polling, report the last one
            last_error = error
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}"
                         + (f" (last error: {last_error!r})" if last_error else ""))


class BackendProcess:
    """`paperfeed serve` as a subprocess; stop() and start() again on the same port."""

    def __init__(self, redis_url: str, data_dir: Path, log_path: Path) -> None:
        self.redis_url = redis_url
        self.data_dir = data_dir
        self.log_path = log_path
        self.port = stable_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    @staticmethod
    def cli() -> list[str]:
        exe = shutil.which("paperfeed")
        return [exe] if exe else [sys.executable, "-c", "from backend.cli import main; main()"]

    def command(self) -> list[str]:
        return [*self.cli(), "serve", "--host", "127.0.0.1", "--port", str(self.port), "--demo"]

    def env(self) -> dict[str, str]:
        return {**os.environ, "PAPERFEED_REDIS_URL": self.redis_url,
                "PAPERFEED_DATA_DIR": str(self.data_dir), "PAPERFEED_WORKERS": "1"}

    def import_files(self, files: list[Path]) -> None:
        """`paperfeed import FILE...` into this backend's Redis."""
        subprocess.run([*self.cli(), "import", "--quiet", *map(str, files)], env=self.env(), cwd=REPO,
                       check=True, capture_output=True, timeout=120)

    def start(self, timeout: float = 40.0) -> None:
        env = self.env()
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(self.command(), env=env, stdout=log, stderr=log,
                                        start_new_session=True, cwd=REPO)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"paperfeed serve exited: see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                    if response.status == 200 and self.process.poll() is None:
                        return
            except (OSError, urllib.error.URLError):
                time.sleep(0.2)
        raise RuntimeError(f"paperfeed serve did not answer /healthz: see {self.log_path}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # gunicorn master and its workers
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self.process = None

    # -- API helpers for assertions --------------------------------------------------
    def api(self, method: str, path: str, token: str | None = None, body: object = None) -> object:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=5) as response:
            text = response.read().decode()
        return json.loads(text) if text else None

    def saved_ids(self, token: str) -> list[str]:
        return [i["paper_id"] for i in self.api("GET", "/v1/saved", token)["items"]]

    def events(self, token: str) -> list[dict]:
        return self.api("GET", "/v1/me/export", token)["events"]


@pytest.fixture
def backend(redis_client, redis_url, tmp_path) -> Iterator[BackendProcess]:
    """The real backend on a freshly flushed test Redis, with the demo catalogue."""
    ARTIFACTS.mkdir(exist_ok=True)
    process = BackendProcess(redis_url, tmp_path / "backend-data", tmp_path / "backend.log")
    process.import_files(FIXTURE_DAYS)
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="session")
def hf_site(tmp_path_factory) -> Iterator[FixtureSite]:
    """https://huggingface.co fixture pages on a free loopback port (Chromium maps to it)."""
    with FixtureSite(tmp_path_factory.mktemp("hf-cert")) as site:
        yield site


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def playwright():
    """Python Playwright driving Debian's Chromium (skips when either is missing)."""
    reason = chromium_available()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture
def browser(playwright, hf_site, backend, tmp_path) -> Iterator[ExtensionBrowser]:
    """Chromium at 1920 x 1080 with the extension pointed at the test backend."""
    ext = ExtensionBrowser(playwright, tmp_path / "profile", hf_site.port)
    ext.set_backend(backend.url)
    try:
        yield ext
    finally:
        ext.close()
