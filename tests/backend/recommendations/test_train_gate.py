"""`paperfeed train` against a real Redis: validation on the latest interactions, the
publishing gate and its exit code."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from click.testing import CliRunner

from backend.cli import EXIT_REFUSED, main
from backend.config import load_config
from backend.store import Event, Store, connect

TOPICS = 4
PAPERS_PER_TOPIC = 40
DAYS = 20
NEWEST = date(2026, 8, 21)
PARAMS = {"factors": 8, "iterations": 6, "random_state": 1}


def populate(store: Store, structured: bool, seed: int = 0) -> None:
    """Papers of four topics over twenty days, whose texts say little about their topic, and
    60 readers who each save 10 papers: of their own topic (``structured``) or at random."""
    rng = np.random.default_rng(seed)
    common = [f"common{i}" for i in range(80)]
    vocab = [[f"topic{t}word{i}" for i in range(15)] for t in range(TOPICS)]
    papers, topic_of = [], []
    for number in range(TOPICS * PAPERS_PER_TOPIC):
        topic = number % TOPICS
        words = [rng.choice(vocab[topic]) if rng.random() < 0.15 else rng.choice(common)
                 for _ in range(40)]
        day = NEWEST - timedelta(days=int(number // TOPICS) % DAYS)
        papers.append({"paper_id": f"2608.{10000 + number:05d}", "title": " ".join(words[:6]),
                       "abstract": " ".join(words[6:]), "authors": ["A. Author"],
                       "daily_date": day.isoformat(), "upvotes": int(rng.integers(0, 20)),
                       "ai_keywords": []})
        topic_of.append(topic)
    store.upsert_papers(papers)
    topic_of = np.array(topic_of)
    now = datetime.now(UTC)
    for reader in range(60):
        # distinct registration times: the training matrix's rows, hence the run, are the same
        # on every run (users registered in the same instant are ordered by their random ids)
        user_id, _ = store.create_user(now + timedelta(milliseconds=reader))
        pool = (np.flatnonzero(topic_of == reader % TOPICS) if structured
                else np.arange(len(papers)))
        chosen = rng.choice(pool, size=10, replace=False)
        store.apply_events(user_id, [Event(str(uuid.uuid4()), "save", papers[i]["paper_id"], now)
                                     for i in chosen], now)


@pytest.fixture
def store(redis_url, redis_client, tmp_path, monkeypatch):
    monkeypatch.setenv("PAPERFEED_REDIS_URL", redis_url)
    monkeypatch.setenv("PAPERFEED_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PAPERFEED_RECOMMENDER_PARAMS", json.dumps(PARAMS))
    config = load_config()
    return Store(connect(redis_url), config)


def train(*options: str):
    return CliRunner().invoke(main, ["train", "--quiet", *options])


def published_metadata(store: Store, tmp_path) -> dict | None:
    version = store.current_model_version()
    if version is None:
        return None
    return json.loads((tmp_path / "models" / version / "metadata.json").read_text())


def test_a_model_of_readers_with_shared_tastes_is_published_with_its_choices(store, tmp_path):
    populate(store, structured=True)
    result = train()
    assert result.exit_code == 0, result.output
    metadata = published_metadata(store, tmp_path)
    validation = metadata["validation"]
    check = validation["check"]
    assert check["hybrid"]["objective"] > check["content"]["objective"]
    assert check["hybrid"]["objective"] > check["trending"]["objective"]
    assert validation["gate"] == {"passed": True, "reasons": [], "forced": False}
    assert validation["days"] == [(NEWEST - timedelta(days=6)).isoformat(), NEWEST.isoformat()]
    blend = metadata["blend"]
    assert set(blend) <= {"als", "content", "nearest", "readers", "trending"}
    assert blend.get("als", 0) + blend.get("nearest", 0) > 0  # the readers' signal is used
    assert {"factors", "regularization", "alpha"} <= set(metadata["params"])
    assert len(validation["candidates"]) >= 2
    assert "new model" in result.output and "nDCG@10" in result.output


def test_train_reports_progress_with_an_eta_off_a_terminal(store, monkeypatch):
    populate(store, structured=True)
    monkeypatch.setattr("recommender.progress.INTERVAL", 0.0)  # a line at every step
    result = CliRunner().invoke(main, ["train"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("train:")]
    assert lines[0].startswith("train:   0% 0/8 [") and lines[0].endswith(", read]")
    assert any(line.startswith("train:  12% 1/8 [") and "<" in line and line.endswith(", fit]")
               for line in lines)
    assert lines[-1].startswith("train: 100% 8/8 [") and lines[-1].endswith(", published]")
    assert any(line.startswith("candidate ") for line in result.stderr.splitlines())
    assert "%" not in result.stdout


def test_a_model_of_random_saves_is_refused_and_force_publishes_it(store, tmp_path):
    populate(store, structured=False)
    result = train()
    assert result.exit_code == EXIT_REFUSED == 3, result.output
    assert "not published" in result.output and "does not beat" in result.output
    assert store.current_model_version() is None
    forced = train("--force")
    assert forced.exit_code == 0, forced.output
    metadata = published_metadata(store, tmp_path)
    assert metadata["validation"]["gate"]["forced"] is True
    assert metadata["validation"]["gate"]["reasons"]
