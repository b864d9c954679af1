"""The recommender end to end through the API, on a small synthetic world in real Redis.

Two communities of users read two topics with distinct vocabularies; the expected
recommendations are therefore known.
"""

from __future__ import annotations

import json
import logging
import random
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from backend.config import load_config
from backend.recommendations.reasons import SIMILAR_READERS, TOPIC, TRENDING, short_title
from backend.recommendations.training import TrainingError, models_dir, train_from_store
from backend.store import Store, connect

TOPICS = {
    "vision": ("video diffusion image pixel segmentation camera render texture frame "
               "optical depth stereo photometric").split(),
    "language": ("token grammar translation parsing lexicon syntax dialogue corpus "
                 "morphology semantics pragmatics discourse").split(),
}
PARAMS = {"factors": 16, "iterations": 8, "random_state": 7}
TODAY = date(2026, 8, 21)


def make_paper(rng: random.Random, topic: str, number: int, day: date) -> dict:
    words = TOPICS[topic]
    title = " ".join(rng.sample(words, 4)).capitalize()
    abstract = " ".join(rng.choice(words) for _ in range(60))
    return {"paper_id": f"2608.{number:05d}", "title": f"{title} {number}",
            "abstract": abstract, "authors": ["A. Author"], "daily_date": day.isoformat(),
            "upvotes": rng.randint(0, 30), "published_at": None, "num_comments": None,
            "github_repo": None, "ai_keywords": []}


@pytest.fixture
def world(app, client, make_user):
    """30 papers per topic over the last days, 12 users per topic with saves in it."""
    rng = random.Random(3)
    store: Store = app.extensions["paperfeed.store"]
    papers: dict[str, list[str]] = {topic: [] for topic in TOPICS}
    records = []
    number = 10000
    for topic in TOPICS:
        for i in range(30):
            number += 1
            records.append(make_paper(rng, topic, number, TODAY - timedelta(days=i % 6)))
            papers[topic].append(records[-1]["paper_id"])
    store.upsert_papers(records)
    for topic in TOPICS:
        for _ in range(12):
            _, headers = make_user()
            save(client, headers, rng.sample(papers[topic], 8))
    return {"store": store, "papers": papers, "rng": rng}


def save(client, headers, paper_ids, kind="save"):
    now = datetime.now(UTC).isoformat()
    events = [{"id": str(uuid.uuid4()), "type": kind, "paper_id": p, "ts": now}
              for p in paper_ids]
    response = client.post("/v1/events", json={"events": events}, headers=headers)
    assert response.status_code == 202, response.get_json()


def recommend(client, headers, limit=10, days=14):
    response = client.get(f"/v1/recommendations?limit={limit}&days={days}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def train(app, params=PARAMS):
    config = load_config(dict(app.config))
    store = Store(connect(app.config["REDIS_URL"]), config)
    return train_from_store(store, config, params=params, force=True)  # past the gate: content alone is perfect here


def topic_share(items, ids):
    return sum(1 for item in items if item["paper_id"] in ids) / max(len(items), 1)


@pytest.fixture
def app(redis_url, redis_client, tmp_path):
    from backend import create_app

    return create_app({"TESTING": True, "REDIS_URL": redis_url, "DATA_DIR": str(tmp_path),
                       "MODEL_POLL_SECONDS": 0, "RATELIMIT_ENABLED": False})


def test_without_a_model_saves_in_a_topic_lead_to_that_topic(world, client, make_user):
    _, headers = make_user()
    save(client, headers, world["papers"]["vision"][:3])
    body = recommend(client, headers)
    assert body["model_version"] is None
    assert topic_share(body["items"][:5], world["papers"]["vision"]) == 1.0
    assert all(item["reason"]["text"] for item in body["items"])


def test_with_a_model_saves_in_a_topic_lead_to_that_topic(world, app, client, make_user):
    metadata = train(app)
    _, headers = make_user()
    save(client, headers, world["papers"]["language"][:3])
    body = recommend(client, headers)
    assert body["model_version"] == metadata["version"]
    assert topic_share(body["items"][:5], world["papers"]["language"]) == 1.0
    kinds = {item["reason"]["kind"] for item in body["items"]}
    assert kinds <= {"because_you_saved", "because_you_opened", "similar_readers", "topic",
                     "trending"}
    assert kinds & {"because_you_saved", "similar_readers", "topic"}


def test_new_saves_change_the_list_at_once(world, app, client, make_user):
    train(app)
    _, headers = make_user()
    save(client, headers, world["papers"]["vision"][:2])
    before = recommend(client, headers)["items"]
    assert topic_share(before[:5], world["papers"]["vision"]) == 1.0
    save(client, headers, world["papers"]["language"][:6])
    save(client, headers, world["papers"]["vision"][:2], kind="unsave")
    after = recommend(client, headers)["items"]
    assert topic_share(after[:5], world["papers"]["language"]) == 1.0


def test_a_new_paper_with_no_interactions_reaches_its_topic(world, app, client, make_user):
    train(app)
    fresh = make_paper(random.Random(1), "vision", 19999, TODAY)
    fresh["title"] = "Video diffusion segmentation of optical depth frames"
    fresh["upvotes"] = 0  # published this morning: no upvotes yet either
    world["store"].upsert_papers([fresh])
    _, vision_fan = make_user()
    save(client, vision_fan, world["papers"]["vision"][:4])
    _, language_fan = make_user()
    save(client, language_fan, world["papers"]["language"][:4])
    vision_list = [i["paper_id"] for i in recommend(client, vision_fan, limit=100)["items"]]
    language_list = [i["paper_id"] for i in recommend(client, language_fan, limit=100)["items"]]
    language_papers = set(world["papers"]["language"])
    # the vision fan gets it before any language paper; the language fan after all of them
    first_language = min(vision_list.index(p) for p in language_papers if p in vision_list)
    assert vision_list.index(fresh["paper_id"]) < first_language
    last_language = max(language_list.index(p) for p in language_papers if p in language_list)
    assert language_list.index(fresh["paper_id"]) > last_language


def test_dismissed_and_saved_papers_never_appear(world, app, client, make_user):
    train(app)
    _, headers = make_user()
    saved = world["papers"]["vision"][:3]
    save(client, headers, saved)
    first = [i["paper_id"] for i in recommend(client, headers, limit=5)["items"]]
    save(client, headers, first, kind="dismiss")
    again = [i["paper_id"] for i in recommend(client, headers, limit=100)["items"]]
    assert not set(first) & set(again)
    assert not set(saved) & set(again)


def test_a_retrain_is_picked_up_by_the_running_app(world, app, client, make_user):
    _, headers = make_user()
    save(client, headers, world["papers"]["vision"][:2])
    first = train(app)
    assert recommend(client, headers)["model_version"] == first["version"]
    second = train(app, {**PARAMS, "random_state": 8})
    assert second["version"] != first["version"]
    assert recommend(client, headers)["model_version"] == second["version"]
    assert client.get("/readyz").get_json()["model_version"] == second["version"]


@pytest.mark.parametrize("damage", ["truncate_factors", "nan_factors", "drop_metadata", "missing_dir"])
def test_a_broken_artifact_is_refused_and_the_old_model_keeps_serving(
        world, app, client, make_user, caplog, damage):
    good = train(app)
    _, headers = make_user()
    save(client, headers, world["papers"]["vision"][:2])
    assert recommend(client, headers)["model_version"] == good["version"]
    bad = train(app, {**PARAMS, "random_state": 9})
    # serve the good one again, then break the newer one and point at it
    world["store"].set_current_model_version(good["version"])
    assert recommend(client, headers)["model_version"] == good["version"]
    directory = models_dir(app.config) / bad["version"]
    npys = sorted((directory / "model").glob("*.npy"), key=lambda p: -p.stat().st_size)
    if damage == "truncate_factors":
        data = npys[0].read_bytes()
        npys[0].write_bytes(data[: len(data) // 2])
    elif damage == "nan_factors":
        array = np.load(npys[0])
        if array.dtype.kind == "f":
            array[...] = np.nan
        np.save(npys[0], array)
    elif damage == "drop_metadata":
        (directory / "metadata.json").unlink()
    else:
        import shutil

        shutil.rmtree(directory)
    world["store"].set_current_model_version(bad["version"])
    with caplog.at_level(logging.ERROR, logger="backend.recommendations.serving"):
        body = recommend(client, headers)
    assert body["model_version"] == good["version"]
    assert body["items"]
    assert any("cannot load model version" in r.getMessage() for r in caplog.records)


def test_training_with_no_interactions_fails_cleanly(app):
    with pytest.raises(TrainingError):
        train(app)


def test_workers_share_a_users_finished_list_until_the_users_next_event(
        world, app, client, make_user):
    from backend import create_app
    from backend.extensions import RECOMMENDER

    train(app)
    other = create_app(dict(app.config))  # a second worker on the same Redis and models
    _, headers = make_user()
    save(client, headers, world["papers"]["vision"][:3])
    first = recommend(client, headers)

    service = other.extensions[RECOMMENDER]
    computed = []
    original = service._recommend
    service._recommend = lambda *a, **k: computed.append(1) or original(*a, **k)
    assert recommend(other.test_client(), headers) == first
    assert computed == []  # served from the list the first worker made

    save(client, headers, world["papers"]["language"][:6])  # the user's state moves on
    after = recommend(other.test_client(), headers)
    assert computed == [1] and after != first


KINDS = {"because_you_saved", "because_you_opened", "similar_readers", "topic", "trending"}


def assert_reasons_true(store: Store, user_id: str, items: list[dict]) -> Counter:
    """Each reason's kind and text agree, and what it claims holds in the store."""
    saved = {row["paper_id"]: row["title"] for row in store.saved(user_id)}
    export = store.export(user_id)
    opened = set(export["opens"])
    titles = store.titles(sorted(opened))
    mine = set(saved) | opened
    others = [weights for uid, weights in
              (pair for batch in store.iter_interaction_weights() for pair in batch)
              if uid != user_id]
    kinds: Counter = Counter()
    for item in items:
        kind, text = item["reason"]["kind"], item["reason"]["text"]
        kinds[kind] += 1
        assert kind in KINDS
        if kind == "because_you_saved":
            assert text in {f"Because you saved “{short_title(t)}”" for t in saved.values()}
        elif kind == "because_you_opened":
            named = {f"Because you opened “{short_title(titles[p])}”": p for p in opened - set(saved)}
            assert text in named
        elif kind == "similar_readers":
            assert text == SIMILAR_READERS["text"]
            readers = [w for w in others if item["paper_id"] in w and mine & set(w)]
            assert len(readers) >= 2, item
        elif kind == "topic":
            assert text == TOPIC["text"]
        else:
            assert text == TRENDING["text"]
    return kinds


def publish_blend(app, metadata, blend):
    """Serve a trained model with ``blend`` (as if training had chosen it)."""
    path = models_dir(app.config) / metadata["version"] / "metadata.json"
    path.write_text(json.dumps({**metadata, "blend": blend}), encoding="utf-8")


@pytest.mark.parametrize("trained", [False, True])
def test_reasons_say_which_and_are_true(world, app, client, make_user, trained):
    if trained:
        # a blend where the collaborative part counts, so that readers are a reason
        publish_blend(app, train(app), {"als": 1.0, "content": 0.5, "trending": 0.3})
    user_id, headers = make_user()
    vision = world["papers"]["vision"]
    save(client, headers, vision[:3])
    save(client, headers, vision[3:6], kind="open")
    items = recommend(client, headers, limit=40)["items"]
    kinds = assert_reasons_true(world["store"], user_id, items)
    assert kinds["because_you_saved"] + kinds["because_you_opened"]
    if trained:  # 12 readers of the topic saved 8 of its 30 papers each
        assert kinds["similar_readers"]
    else:
        assert kinds["because_you_saved"] and kinds["because_you_opened"]


def test_readers_like_you_is_never_said_of_a_paper_nobody_else_read(world, app, client,
                                                                     make_user):
    fresh = [make_paper(random.Random(n), "vision", 19000 + n, TODAY) for n in range(5)]
    world["store"].upsert_papers(fresh)
    train(app)
    user_id, headers = make_user()
    save(client, headers, world["papers"]["vision"][:4])
    items = recommend(client, headers, limit=100)["items"]
    unread = {p["paper_id"] for p in fresh}
    assert unread <= {item["paper_id"] for item in items}
    assert all(item["reason"]["kind"] != "similar_readers"
               for item in items if item["paper_id"] in unread)
    assert_reasons_true(world["store"], user_id, items)


@pytest.mark.parametrize("trained", [False, True])
def test_opened_and_excluded_papers_never_appear(world, app, client, make_user, trained):
    if trained:
        train(app)
    _, headers = make_user()
    vision = world["papers"]["vision"]
    save(client, headers, vision[:2])
    save(client, headers, vision[2:8], kind="open")
    excluded = vision[8:11]
    response = client.get(f"/v1/recommendations?limit=100&days=14&exclude={','.join(excluded)}",
                          headers=headers)
    listed = {item["paper_id"] for item in response.get_json()["items"]}
    assert listed and not listed & set(vision[:11])
    back = recommend_query(client, headers, "limit=100&days=14&include_opened=true")
    assert set(vision[2:8]) <= back and not back & set(vision[:2])


def recommend_query(client, headers, query):
    response = client.get(f"/v1/recommendations?{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return {item["paper_id"] for item in response.get_json()["items"]}


@pytest.mark.parametrize("trained", [False, True])
def test_dismissals_push_similar_papers_down(world, app, client, make_user, trained):
    if trained:
        train(app)
    _, headers = make_user()
    save(client, headers, world["papers"]["vision"][:3] + world["papers"]["language"][:3])
    language = set(world["papers"]["language"])

    def language_ranks():
        items = recommend(client, headers, limit=100)["items"]
        return {item["paper_id"]: rank for rank, item in enumerate(items)
                if item["paper_id"] in language}

    before = language_ranks()
    dismissed = sorted(before, key=before.get)[:3]
    save(client, headers, dismissed, kind="dismiss")
    after = language_ranks()
    rest = sorted((before[p], p) for p in before if p not in dismissed)
    assert not set(dismissed) & set(after)
    # the other language papers move down, not only the dismissed ones
    best = [p for _, p in rest[:5]]
    assert np.mean([after[p] for p in best]) > np.mean([before[p] for p in best]) + 3
    assert sum(rank < 20 for rank in after.values()) < sum(rank < 20 for rank, _ in rest)


@pytest.mark.parametrize("trained", [False, True])
def test_todays_untouched_paper_of_the_users_topic_reaches_the_top_3(world, app, client,
                                                                    make_user, trained):
    rng = random.Random(5)
    words = "stereo depth photometric optical".split()

    def depth_paper(number, day):
        record = make_paper(rng, "vision", number, day)
        record["title"] = f"Photometric stereo depth from optical cues {number}"
        record["abstract"] = " ".join(rng.choice(words) for _ in range(60))
        return record

    older = [depth_paper(19990 + n, TODAY - timedelta(days=3 + n)) for n in range(3)]
    world["store"].upsert_papers(older)
    if trained:
        train(app)
    # nobody has opened or saved it and it has no upvotes; it is what the user reads about
    fresh = depth_paper(19998, TODAY)
    fresh["upvotes"] = 0
    world["store"].upsert_papers([fresh])
    _, headers = make_user()
    save(client, headers, [p["paper_id"] for p in older])
    top = [item["paper_id"] for item in recommend(client, headers, limit=10)["items"]]
    assert fresh["paper_id"] in top[:3]
