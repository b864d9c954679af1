"""`paperfeed digest` as processes: two at once, and one killed mid-run, never send a digest
twice (a real Redis, a real SMTP server on loopback)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.digest.conftest import PUBLIC_URL

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
USERS = 12


def digest_command(redis_url: str, smtp_url: str, data_dir: Path, *args: str,
                   connections: int = 2) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PAPERFEED_REDIS_URL": redis_url,
           "PAPERFEED_SMTP_URL": smtp_url, "PAPERFEED_DATA_DIR": str(data_dir),
           "PAPERFEED_PUBLIC_URL": PUBLIC_URL, "PAPERFEED_DIGEST_CONNECTIONS": str(connections),
           "PAPERFEED_DIGEST_RETRY_DELAYS": "[]"}
    return subprocess.Popen([sys.executable, "-m", "backend.cli", "digest", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def subscribers(make_user, subscribe, catalogue):
    return [subscribe(make_user()[1], f"reader{n}@example.com") for n in range(USERS)]


def digests(handler) -> list[str]:
    return sorted(m["To"] for m in handler.messages
                  if m["Subject"] != "Confirm your paperfeed digest")


def test_two_concurrent_runs_send_each_digest_once(redis_url, smtp, tmp_path, subscribers):
    handler, url = smtp
    runs = [digest_command(redis_url, url, tmp_path) for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert digests(handler) == sorted(subscribers)
    assert "12 due" in outputs[0][0] + outputs[1][0]

    again = digest_command(redis_url, url, tmp_path)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert out.strip() == "0 due"
    assert digests(handler) == sorted(subscribers)


def test_a_run_killed_mid_send_never_sends_twice(redis_url, smtp, tmp_path, subscribers):
    handler, url = smtp
    handler.hold = True  # the first digest's DATA waits until the process is dead
    victim = digest_command(redis_url, url, tmp_path, connections=1)
    assert handler.held.wait(60), victim.stderr.read() if victim.poll() is not None else ""
    victim.kill()
    victim.wait(timeout=30)
    handler.release.set()  # the server accepts the message whose sender died

    rerun = digest_command(redis_url, url, tmp_path)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert digests(handler) == sorted(subscribers)  # every reader once, the held one too


def test_dry_run_sends_nothing(redis_url, smtp, tmp_path, subscribers):
    handler, url = smtp
    run = digest_command(redis_url, url, tmp_path, "--dry-run", "--frequency", "daily")
    out, err = run.communicate(timeout=120)
    assert run.returncode == 0, err
    assert "dry run, nothing sent: 12 due: 12 would send" in out
    assert out.count("would send to ") == 12
    assert digests(handler) == []
