"""Promise 4: published model versions are immutable and verified before they are served.

Real Redis, real model files written by ``paperfeed train``'s publishing code, the real app
(in process, two apps standing for two workers) and a real ``paperfeed serve`` (gunicorn, 2
workers) for the fault that would kill workers that map their files: a model file truncated in place.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from backend import create_app
from backend.config import load_config
from backend.recommendations.training import (
    ADDITIONS_IDS,
    models_dir,
    new_version,
    refresh_additions,
)
from backend.store import Store, connect
from recommender import ArtifactError
from recommender.artifacts import METADATA_FILE
from tests.backend.recommendations.test_serving import (  # noqa: F401
    TODAY,
    app,
    make_paper,
    recommend,
    save,
    train,
    world,
)
from tests.redis_server import free_port
from tests.reliability.test_faults import gunicorn_workers

pytestmark = pytest.mark.slow


def snapshot(directory: Path) -> dict[str, tuple[str, int]]:
    """Every file under ``directory``: SHA-256 and mtime."""
    return {path.relative_to(directory).as_posix():
            (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
            for path in sorted(directory.rglob("*")) if path.is_file()}


def readyz(app_) -> dict:  # noqa: F811
    response = app_.test_client().get("/readyz")
    assert response.status_code == 200
    return response.get_json()


def largest_array(directory: Path) -> Path:
    return max((directory / "model").glob("*.npy"), key=lambda p: p.stat().st_size)


def import_new_papers(store: Store, count: int, first: int) -> list[str]:
    rng = random.Random(first)
    records = [make_paper(rng, "vision", first + i, TODAY - timedelta(days=i % 3))
               for i in range(count)]
    store.upsert_papers(records)
    return [record["paper_id"] for record in records]


def test_metadata_lists_every_file_with_its_size_and_sha256(world, app):  # noqa: F811
    metadata = train(app)
    directory = models_dir(app.config) / metadata["version"]
    listed = json.loads((directory / METADATA_FILE).read_text())["files"]
    on_disk = {name: digest for name, (digest, _) in snapshot(directory).items()
               if name != METADATA_FILE}
    assert set(listed) == set(on_disk) and "model/item_factors.npy" in listed
    for name, digest in on_disk.items():
        assert listed[name] == {"bytes": (directory / name).stat().st_size, "sha256": digest}


def test_a_refresh_publishes_a_new_version_and_never_writes_into_a_published_one(
        world, app, client, make_user):  # noqa: F811
    store = world["store"]
    trained = train(app)["version"]
    directory = models_dir(app.config) / trained
    before = snapshot(directory)
    _, headers = make_user()
    save(client, headers, world["papers"]["vision"][:2])
    assert recommend(client, headers)["model_version"] == trained

    arrived = import_new_papers(store, 4, 20001)
    config = load_config(dict(app.config))
    assert refresh_additions(store, config) == 4
    refreshed = store.current_model_version()
    assert refreshed != trained
    assert snapshot(directory) == before, "the published version was written into"
    assert sorted(json.loads((models_dir(app.config) / refreshed / ADDITIONS_IDS).read_text())) == arrived
    served = app.extensions["paperfeed.recommender"]
    assert recommend(client, headers)["model_version"] == refreshed
    assert set(arrived) <= set(served.current_model().index)
    assert readyz(app)["status"] == "ready"

    assert refresh_additions(store, config) == 4  # nothing new: nothing published
    assert store.current_model_version() == refreshed
    import_new_papers(store, 2, 20101)
    assert refresh_additions(store, config) == 6
    again = store.current_model_version()
    assert again not in (trained, refreshed)
    assert snapshot(directory) == before
    # a refresh's own version goes once a newer refresh replaces it; the trained one stays
    assert not (models_dir(app.config) / refreshed).exists()
    assert recommend(client, headers)["model_version"] == again


def test_a_refresh_never_republishes_a_damaged_version(world, app):  # noqa: F811
    version = train(app)["version"]
    target = largest_array(models_dir(app.config) / version)
    target.write_bytes(target.read_bytes()[:-8])
    import_new_papers(world["store"], 3, 20301)
    with pytest.raises(ArtifactError, match="metadata.json says"):
        refresh_additions(world["store"], load_config(dict(app.config)))
    assert world["store"].current_model_version() == version
    assert [p.name for p in models_dir(app.config).iterdir()] == [version]


class PublishingDuringRefresh(Store):
    """The store a refresh reads while a training publishes a version meanwhile (the
    training's pointer move happens as the refresh reads the catalogue)."""

    publish: str | None = None

    def iter_paper_ids(self, *args, **kwargs):
        if self.publish:
            self.set_current_model_version(self.publish)
            self.publish = None
        yield from super().iter_paper_ids(*args, **kwargs)


def test_a_refresh_never_undoes_a_training_published_meanwhile(world, app):  # noqa: F811
    first = train(app)["version"]
    second = train(app, {"factors": 16, "iterations": 8, "random_state": 8})["version"]
    config = load_config(dict(app.config))
    store = PublishingDuringRefresh(connect(app.config["REDIS_URL"]), config)
    store.set_current_model_version(first)
    import_new_papers(store, 3, 20201)
    store.publish = second
    assert refresh_additions(store, config) == 0
    assert store.current_model_version() == second
    assert sorted(p.name for p in models_dir(app.config).iterdir()) == sorted([first, second])
    assert store.replace_model_version("someone-else", first) is False
    assert store.replace_model_version(second, first) is True
    assert store.current_model_version() == first


POINTERS = ["../outside", "../../../../etc", "/etc", "..", "",
            "20260101T000000Z-abcdef/../../outside", "20260101T000000Z-ABCDEF"]


def test_the_pointer_names_a_version_inside_the_models_directory(
        world, app, client, make_user, caplog):  # noqa: F811
    good = train(app)["version"]
    models = models_dir(app.config)
    _, headers = make_user()
    save(client, headers, world["papers"]["vision"][:2])
    for pointer in POINTERS:
        # a complete, valid model outside the models directory, named as the pointer says:
        # never loaded
        bait = models.parent / "outside"
        shutil.rmtree(bait, ignore_errors=True)
        shutil.copytree(models / good, bait)
        metadata = json.loads((bait / METADATA_FILE).read_text())
        (bait / METADATA_FILE).write_text(json.dumps({**metadata, "version": pointer}))
        world["store"].set_current_model_version(pointer)
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="backend.recommendations.serving"):
            body = recommend(client, headers)
        assert body["model_version"] is None and body["items"], pointer
        ready = readyz(app)
        assert ready["status"] == "degraded" and ready["model_version"] is None, pointer
        assert ready["model_pointer"] == pointer
        assert "is not a model version name" in ready["model_problem"]
        assert any("cannot load model version" in r.getMessage() for r in caplog.records)
        world["store"].set_current_model_version(good)
        assert readyz(app)["status"] == "ready"


def test_a_worker_that_cannot_find_the_pointers_version_says_so(world, app, caplog):  # noqa: F811
    missing = new_version()  # e.g. trained with another data dir, or on another machine
    world["store"].set_current_model_version(missing)
    with caplog.at_level(logging.ERROR, logger="backend.recommendations.serving"):
        ready = readyz(app)
    assert ready["status"] == "degraded" and ready["model_version"] is None
    assert f"model version {missing} not found in {models_dir(app.config)}" in ready["model_problem"]
    assert any(missing in r.getMessage() and "not found" in r.getMessage()
               for r in caplog.records)

    trained = train(app)["version"]  # an older version this worker can serve meanwhile
    missing = new_version()
    world["store"].set_current_model_version(missing)
    ready = readyz(app)
    assert ready["status"] == "degraded" and ready["model_version"] == trained
    world["store"].set_current_model_version(trained)
    assert readyz(app) == {**ready, "status": "ready", "model_pointer": trained,
                           "model_problem": None}


def test_a_refused_version_is_served_once_repaired(world, app):  # noqa: F811
    version = train(app)["version"]
    target = largest_array(models_dir(app.config) / version)
    good = target.read_bytes()
    target.write_bytes(good[: len(good) // 2])
    ready = readyz(app)
    assert ready["status"] == "degraded" and ready["model_version"] is None
    assert str(target) in ready["model_problem"]
    assert readyz(app) == ready  # the same files: not read again, the same answer
    target.write_bytes(good)  # repaired in place
    ready = readyz(app)
    assert ready["status"] == "ready" and ready["model_version"] == version


@pytest.mark.parametrize("change", ["nan", "finite"])
def test_bytes_changed_in_place_are_never_served_and_workers_agree(
        world, app, client, make_user, change):  # noqa: F811
    older = train(app)["version"]
    version = train(app, {"factors": 16, "iterations": 8, "random_state": 8})["version"]
    _, headers = make_user()
    save(client, headers, world["papers"]["vision"][:2])
    assert recommend(client, headers)["model_version"] == version
    target = models_dir(app.config) / version / "model" / "item_factors.npy"
    offset = len(target.read_bytes()) - np.load(target).nbytes
    values = np.load(target)
    values = np.full_like(values, np.nan) if change == "nan" else values * 1.5
    with open(target, "r+b") as handle:  # the same file, rewritten in place
        handle.seek(offset)
        handle.write(values.tobytes())
    fresh = create_app(dict(app.config))  # a worker started after the change
    for worker in (app, fresh):
        ready = readyz(worker)
        assert ready["status"] == "degraded", ready
        assert ready["model_version"] == older and ready["model_pointer"] == version
        assert "SHA-256 differs" in ready["model_problem"]
    body = recommend(client, headers)
    assert body["model_version"] == older
    assert all(np.isfinite(item["score"]) for item in body["items"])


def test_a_model_file_truncated_under_gunicorn_workers_kills_none_and_they_agree(
        world, app, client, redis_url, tmp_path, make_user):  # noqa: F811
    version = train(app)["version"]
    directory = models_dir(app.config) / version
    originals = {path: path.read_bytes() for path in (directory / "model").glob("*.npy")}
    _, headers = make_user()
    save(client, headers, world["papers"]["vision"][:3])
    port = free_port()
    env = {**os.environ, "PAPERFEED_REDIS_URL": redis_url, "PAPERFEED_DATA_DIR": str(tmp_path),
           "PAPERFEED_WORKERS": "2", "PAPERFEED_THREADS": "2",
           "PAPERFEED_MODEL_POLL_SECONDS": "0", "PAPERFEED_RECOMMENDATIONS_CACHE_SECONDS": "0",
           "PAPERFEED_RATELIMIT_ENABLED": "false"}
    server = subprocess.Popen([sys.executable, "-m", "backend.cli", "serve", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"

    def get(path):
        request = urllib.request.Request(base + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, None
        except OSError:
            return 0, None  # the connection died with its worker

    def answers(path, n=24):
        return [get(path) for _ in range(n)]

    try:
        deadline = time.monotonic() + 60
        while get("/healthz")[0] != 200:
            assert server.poll() is None, server.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "paperfeed serve did not start"
            time.sleep(0.2)
        while len(gunicorn_workers(server.pid)) < 2:
            time.sleep(0.1)
        workers = gunicorn_workers(server.pid)
        served = answers("/v1/recommendations?limit=10&days=14")
        assert {(status, body["model_version"]) for status, body in served} == {(200, version)}

        for path in originals:  # every array of the live version, truncated in place
            os.truncate(path, 0)
        after = answers("/v1/recommendations?limit=10&days=14") + answers("/readyz")
        assert [status for status, _ in after] == [200] * len(after)
        assert gunicorn_workers(server.pid) == workers, "a worker died"
        ready = {json.dumps(body, sort_keys=True) for _, body in answers("/readyz")}
        assert len(ready) == 1, ready  # every answer (both workers) says the same
        ready = json.loads(ready.pop())
        assert ready["status"] == "degraded" and ready["model_version"] is None
        assert ready["model_pointer"] == version

        for path, data in originals.items():  # repaired: served again, by every worker
            path.write_bytes(data)
        served = answers("/v1/recommendations?limit=10&days=14") + answers("/readyz")
        assert {(status, body["model_version"]) for status, body in served} == {(200, version)}
        assert gunicorn_workers(server.pid) == workers
    finally:
        server.terminate()
        server.wait(timeout=30)
