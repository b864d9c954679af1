"""Promise 4: model faults don't reach users.

Complements tests/backend/recommendations/test_serving.py (broken artifacts: truncated, NaN factors,
missing metadata, missing dir are refused and the old model keeps serving, with an error
logged) and tests/backend/recommendations/test_scheduler.py (lock renewal/expiry in-process).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

import recommender
from backend.recommendations.scheduler import TrainingLock
from backend.recommendations.training import models_dir
from tests.backend.recommendations.test_serving import app, recommend, save, train, world  # noqa: F401

pytestmark = pytest.mark.slow


def published(app_) -> set[str]:  # noqa: F811
    directory = models_dir(app_.config)
    return {p.name for p in directory.iterdir()} if directory.exists() else set()


def test_a_failed_training_never_replaces_the_serving_model(
        world, app, client, make_user, monkeypatch):  # noqa: F811
    good = train(app)
    _, headers = make_user()
    save(client, headers, world["papers"]["vision"][:2])
    assert recommend(client, headers)["model_version"] == good["version"]
    before = published(app)

    def broken(*_a, **_k):
        raise recommender.ModelFitError("ALS produced non-finite item factors")

    monkeypatch.setattr(recommender, "train", broken)
    with pytest.raises(recommender.RecommenderError):
        train(app, {"factors": 16, "iterations": 8, "random_state": 11})
    assert world["store"].current_model_version() == good["version"]
    assert published(app) == before, "no partial or new artifact is left behind"
    assert recommend(client, headers)["model_version"] == good["version"]


def test_a_nan_open_count_in_the_store_is_dropped_and_training_succeeds(
        world, app, client, make_user):  # noqa: F811
    good = train(app)
    _, headers = make_user()
    save(client, headers, world["papers"]["vision"][:2])
    store = world["store"]
    user_id = next(iter(store.iter_user_ids()))
    from backend import keys

    store.client.hset(keys.user(user_id, "opens"), world["papers"]["vision"][0], "nan")
    metadata = train(app, {"factors": 16, "iterations": 8, "random_state": 11})
    assert metadata["version"] != good["version"]
    assert store.current_model_version() == metadata["version"]
    served = recommend(client, headers)
    assert served["model_version"] == metadata["version"] and served["items"]


HOLDER = """
import sys, time
from backend.store import connect
from backend.recommendations.scheduler import TrainingLock
lock = TrainingLock(connect(sys.argv[1]), timeout=1.0)
reacquire = lock._lock.reacquire
def renew():
    reacquire()
    print("renewed", flush=True)
lock._lock.reacquire = renew
assert lock.acquire()
print("held", flush=True)
time.sleep(60)
"""


def test_the_training_lock_expires_when_its_holder_is_killed(redis_url, redis_client):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, redis_url],
                              stdout=subprocess.PIPE, text=True)
    try:
        # "held", then "renewed" once the live holder has pushed its lock's expiry back.
        assert {holder.stdout.readline().strip() for _ in range(2)} == {"held", "renewed"}
        other = TrainingLock(redis_client, timeout=1.0)
        assert not other.acquire()
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        deadline = time.monotonic() + 10
        while not other.acquire():  # no renewals any more: the lock expires by itself
            assert time.monotonic() < deadline, "the dead holder's lock never expired"
            time.sleep(0.05)
        other.release()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
