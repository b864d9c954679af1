"""Promise 3: paperfeed does not silently serve from a Redis that would forget everything."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.redis_server import free_port, running_redis


def serve_command(url: str, *flags: str) -> tuple[list[str], dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if k != "PAPERFEED_ALLOW_VOLATILE_REDIS"}
    env["PAPERFEED_REDIS_URL"] = url
    return ([sys.executable, "-c", "from backend.cli import main; main()", "serve",
             "--port", str(free_port()), *flags], env)


def test_serve_refuses_a_redis_that_persists_nothing(redis_url, tmp_path):
    if redis_url.startswith("redis+cluster://"):
        pytest.skip("a cluster does not say how it persists")
    command, env = serve_command(redis_url)
    env["PAPERFEED_DATA_DIR"] = str(tmp_path)
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.terminate()
        process.communicate(timeout=30)
        pytest.fail("paperfeed serve started on a Redis that persists nothing")
    assert process.returncode != 0
    assert "persists nothing" in err and "--allow-volatile-redis" in err
    assert "serving" not in out


@pytest.mark.parametrize(("args", "settings", "expected"), [
    ((), {}, "none"),
    ((), {"save": "60 1"}, "rdb"),
    (("--appendonly", "yes"), {}, "aof"),
])
def test_readyz_reports_how_redis_persists(tmp_path, args, settings, expected):
    import redis

    from backend import create_app

    with running_redis(args) as url:
        client = redis.Redis.from_url(url)
        for name, value in settings.items():
            client.config_set(name, value)
        client.close()
        app = create_app({"TESTING": True, "REDIS_URL": url, "DATA_DIR": str(tmp_path)})
        response = app.test_client().get("/readyz")
        assert response.status_code == 200
        assert response.get_json()["persistence"] == expected
