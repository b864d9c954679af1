"""The training lock, the cron loop, and `paperfeed train`/`scheduler` on the embedded Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from backend import keys
from backend.config import load_config
from backend.embedded import redis_url_for
from backend.recommendations.scheduler import Scheduler, TrainingLock, run_locked
from backend.store import Event, Store, connect
from tests.fake_hf_api import running_fake_api

RAW = Path(__file__).resolve().parents[2] / "fixtures" / "hf" / "raw"


def wait_for(predicate, timeout: float = 10.0) -> None:
    """Poll ``predicate`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.02)


def test_two_schedulers_never_train_at_once(redis_client):
    inside, finish = threading.Event(), threading.Event()
    ran, results = [], []

    def first_job():
        ran.append("first")
        inside.set()
        assert finish.wait(10)

    clients = [redis.Redis(connection_pool=redis_client.connection_pool) for _ in range(2)]
    first = threading.Thread(target=lambda: results.append(run_locked(clients[0], first_job)))
    first.start()
    try:
        assert inside.wait(10)  # the first training runs and holds the lock
        assert run_locked(clients[1], lambda: ran.append("second")) is False
    finally:
        finish.set()
        first.join()
    assert results == [True] and ran == ["first"]
    assert run_locked(clients[1], lambda: ran.append("second")) is True  # free again
    assert ran == ["first", "second"]


def test_the_lock_expires_when_its_holder_dies(redis_client):
    holder = TrainingLock(redis_client, timeout=1)
    assert holder.acquire()
    holder._stop.set()  # the holder "dies": no more renewals, never releases
    other = TrainingLock(redis_client, timeout=1)
    assert not other.acquire()
    assert 0 < redis_client.pttl(keys.lock("train")) <= 1000
    wait_for(other.acquire)  # the key expires by itself
    other.release()


def test_the_lock_is_renewed_while_held(redis_client, monkeypatch):
    lock = TrainingLock(redis_client, timeout=1.5)
    key = keys.lock("train")
    renewed = threading.Event()
    expiries = []
    reacquire = lock._lock.reacquire

    def observed_reacquire():
        before = redis_client.pttl(key)
        reacquire()
        expiries.append((before, redis_client.pttl(key)))
        renewed.set()

    monkeypatch.setattr(lock._lock, "reacquire", observed_reacquire)
    assert lock.acquire()
    try:
        assert renewed.wait(10)
        before, after = expiries[0]
        assert after > before  # the renewal pushed the expiry back
        assert not TrainingLock(redis_client, timeout=1.5).acquire()
    finally:
        lock.release()
    assert redis_client.exists(key) == 0
    assert TrainingLock(redis_client, timeout=1.5).acquire()


class VirtualTime(threading.Event):
    """The scheduler's stop event, whose waits move a fake clock instead of sleeping."""

    def __init__(self, clock: dict) -> None:
        super().__init__()
        self.clock = clock

    def wait(self, timeout: float | None = None) -> bool:
        self.clock["now"] += timedelta(seconds=timeout or 0)
        return self.is_set()


def test_scheduler_runs_jobs_when_their_cron_time_comes():
    clock = {"now": datetime(2026, 11, 30, 2, 58, 30, tzinfo=UTC)}
    ran = []
    loop = Scheduler({"train": ("0 3 * * 1", lambda: (ran.append(clock["now"]), loop.stop()))},
                     now=lambda: clock["now"])
    assert loop.next_runs()["train"] == datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    loop._stop = VirtualTime(clock)
    loop.run_forever()
    assert ran == [datetime(2026, 11, 30, 3, 0, tzinfo=UTC)]


def test_invalid_cron_is_refused():
    with pytest.raises(ValueError):
        Scheduler({"train": ("every monday", lambda: None)})


def _cli(env, *args, timeout=240):
    return subprocess.run([sys.executable, "-m", "backend.cli", *args], env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def embedded_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERFEED_")}
    env["PAPERFEED_DATA_DIR"] = str(tmp_path / "data")
    return env


def _seed_interactions(url: str) -> None:
    store = Store(connect(url), load_config())
    papers = [p for chunk in store.iter_paper_ids() for p in chunk]
    now = datetime.now(UTC)
    for u in range(30):
        user_id, _ = store.create_user(now)
        chosen = papers[u % 5::7][:6]
        store.apply_events(user_id, [Event(str(uuid.uuid4()), "save", p, now) for p in chosen], now)
    store.client.close()


@pytest.mark.slow
def test_train_and_scheduler_work_against_the_embedded_redis(embedded_env, tmp_path):
    imported = _cli(embedded_env, "import", "--demo", "--quiet")
    assert imported.returncode == 0, imported.stderr
    failed = _cli(embedded_env, "train", "--quiet")
    assert failed.returncode == 1 and "no interactions" in failed.stderr
    config = load_config({"DATA_DIR": embedded_env["PAPERFEED_DATA_DIR"], "REDIS_URL": None})
    with redis_url_for(config) as (url, embedded):
        assert embedded
        _seed_interactions(url)
        held = TrainingLock(connect(url))
        assert held.acquire()  # as a running scheduler holds it
        try:
            refused = _cli(embedded_env, "train", "--quiet")
        finally:
            held.release()
        assert refused.returncode == 1 and "another training is running" in refused.stderr
        assert Store(connect(url), config).current_model_version() is None
        trained = _cli(embedded_env, "train", "--quiet")
        assert trained.returncode == 0, trained.stderr
        assert "validation:" in trained.stdout and "content only" in trained.stdout
        store = Store(connect(url), config)
        first = store.current_model_version()
        assert first
        today = datetime.now(UTC).date()
        with running_fake_api() as api:  # the Daily Papers API, today's list
            api.days[today.isoformat()] = (200, (RAW / "2026-08-21.json").read_bytes())
            scheduler = subprocess.Popen(
                [sys.executable, "-m", "backend.cli", "scheduler", "--now",
                 "--refresh-cron", "* * * * *"], env={**embedded_env, "PAPERFEED_HF_API_URL": api.url},
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            deadline = time.monotonic() + 120
            while store.current_model_version() == first and time.monotonic() < deadline:
                time.sleep(0.5)
            scheduler.send_signal(signal.SIGTERM)
            out, err = scheduler.communicate(timeout=90)
        assert store.current_model_version() != first, err
        assert "next train" in out
        assert store.newest_daily_date() == today and today.isoformat() in api.requested
        store.client.close()
