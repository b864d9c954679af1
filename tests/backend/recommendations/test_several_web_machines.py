"""A trainer and two web machines: one Redis, one shared models directory, a data dir each.

The deployment README.md describes ("Several web machines"): the trainer publishes into the
shared directory and moves the Redis pointer; every web worker loads that version from there.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from click.testing import CliRunner

from backend import create_app
from backend.cli import main
from backend.config import load_config
from backend.store import Event, Store, connect

from .test_train_gate import PARAMS, populate


def test_two_web_machines_serve_the_version_the_trainer_published(redis_url, redis_client,
                                                                  tmp_path, monkeypatch):
    shared = tmp_path / "shared" / "models"
    monkeypatch.setenv("PAPERFEED_REDIS_URL", redis_url)
    monkeypatch.setenv("PAPERFEED_MODELS_DIR", str(shared))
    monkeypatch.setenv("PAPERFEED_DATA_DIR", str(tmp_path / "trainer"))
    monkeypatch.setenv("PAPERFEED_RECOMMENDER_PARAMS", json.dumps(PARAMS))
    store = Store(connect(redis_url), load_config())
    populate(store, structured=True)
    trained = CliRunner().invoke(main, ["train", "--quiet"])
    assert trained.exit_code == 0, trained.output
    version = store.current_model_version()
    assert version and (shared / version / "metadata.json").is_file()
    now = datetime.now(UTC)
    reader, token = store.create_user(now)
    store.apply_events(reader, [Event(str(uuid.uuid4()), "save", f"2608.{10000 + n:05d}", now)
                                for n in (0, 4, 8)], now)

    lists = []
    for machine in ("web1", "web2"):
        app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path / machine),
                          "RATELIMIT_ENABLED": False})
        client = app.test_client()
        assert client.get("/readyz").get_json()["model_version"] in (None, version)
        response = client.get("/v1/recommendations?days=20&limit=10",
                              headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert body["model_version"] == version
        assert client.get("/readyz").get_json()["model_version"] == version
        assert not (tmp_path / machine / "models").exists()
        lists.append([item["paper_id"] for item in body["items"]])
    assert lists[0] == lists[1] and len(lists[0]) == 10
