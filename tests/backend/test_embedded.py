"""The embedded Redis (backend.embedded) and `paperfeed serve` with nothing configured."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis

from backend.embedded import TUNED_REDIS_SETTINGS, EmbeddedRedis, redis_url_for
from tests.redis_server import free_port


def client_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, decode_responses=True)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie child still "exists"; check its state
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


def test_starts_on_a_unix_socket_with_aof_in_the_data_dir(data_dir):
    with redis_url_for({"REDIS_URL": None, "DATA_DIR": str(data_dir)}) as (url, embedded):
        assert embedded and url.startswith("unix://")
        client = client_for(url)
        assert client.ping()
        assert client.config_get("port") == {"port": "0"}
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        for name, value in TUNED_REDIS_SETTINGS.items():
            assert client.config_get(name) == {name: value}
        redis_dir = Path(client.config_get("dir")["dir"]).resolve()
        assert redis_dir.is_relative_to(data_dir.resolve())
        socket_path = Path(url[len("unix://"):].split("?")[0])
        assert socket_path.is_socket()
        assert oct(socket_path.stat().st_mode & 0o777) == oct(0o700)
        pid = int(client.info("server")["process_id"])
        client.set("k", "v")
        client.close()
    assert not pid_alive(pid)
    assert not socket_path.exists()


def test_a_second_user_connects_to_the_running_server(data_dir):
    config = {"REDIS_URL": None, "DATA_DIR": str(data_dir)}
    with redis_url_for(config) as (url, _):
        first = client_for(url)
        pid = first.info("server")["process_id"]
        with redis_url_for(config) as (url2, embedded2):
            assert embedded2 and url2 == url
            second = client_for(url2)
            assert second.info("server")["process_id"] == pid
            second.close()
        # the second user did not stop the server it did not start
        assert first.ping()
        first.close()
    assert not pid_alive(int(pid))


def test_data_persists_across_restarts_through_the_aof(data_dir):
    config = {"REDIS_URL": None, "DATA_DIR": str(data_dir)}
    with redis_url_for(config) as (url, _):
        client = client_for(url)
        client.hset("pf:p:2412.01824", mapping={"title": "Persisted"})
        client.close()
    redis_dir = data_dir / "redis"
    aof = list(redis_dir.rglob("appendonly*.aof*"))
    assert aof, list(redis_dir.iterdir())
    for rdb in redis_dir.glob("*.rdb"):  # prove the AOF alone restores the data
        rdb.unlink()
    with redis_url_for(config) as (url, _):
        client = client_for(url)
        assert client.hget("pf:p:2412.01824", "title") == "Persisted"
        client.close()


def test_a_configured_url_is_used_as_is(redis_url, data_dir):
    with redis_url_for({"REDIS_URL": redis_url, "DATA_DIR": str(data_dir)}) as (url, embedded):
        assert (url, embedded) == (redis_url, False)
    assert not data_dir.exists()


def test_long_data_dirs_get_a_short_socket_path(tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    server = EmbeddedRedis(deep)
    assert len(str(server.socket_path)) <= 100
    assert not server.is_running()
    server.start()
    try:
        assert server.is_running()
        assert client_for(server.url).config_get("port") == {"port": "0"}
    finally:
        server.stop()
    assert not server.is_running()


# --- `paperfeed serve` with nothing configured ------------------------------------------


def get_json(url: str, timeout: float = 2.0):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, json.loads(response.read())


@pytest.mark.slow
def test_serve_runs_embedded_redis_with_the_demo_and_cleans_up(tmp_path):
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERFEED_")}
    env.update(PAPERFEED_DATA_DIR=str(data_dir), PAPERFEED_WORKERS="1",
               PAPERFEED_THREADS="2", PAPERFEED_RATELIMIT_ENABLED="false",
               HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "xdg"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-c", "from backend.cli import main; main()", "serve",
         "--port", str(port), "--workers", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parents[2])
    try:
        deadline = time.monotonic() + 45
        while True:
            try:
                status, body = get_json(f"{base}/readyz")
                if status == 200:
                    break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            assert process.poll() is None, process.stdout.read().decode()
            assert time.monotonic() < deadline, "paperfeed serve did not become ready"
            time.sleep(0.2)
        assert body["catalogue_size"] > 0
        _, trending = get_json(f"{base}/v1/trending")
        assert trending["items"], "the demo catalogue should make trending non-empty"
        redis_pid = int((data_dir / "redis" / "redis.pid").read_text())
        assert pid_alive(redis_pid)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=40)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    text = output.decode()
    assert "demo catalogue" in text and "Traceback" not in text, text
    deadline = time.monotonic() + 10
    while pid_alive(redis_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not pid_alive(redis_pid)


def test_stop_is_prompt(data_dir):
    server = EmbeddedRedis(data_dir)
    server.start()
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2.0  # no reconnect/backoff loop after SHUTDOWN
