"""Promise 7: deletion leaves nothing, the export holds everything, logs hold no tokens."""

from __future__ import annotations

import logging

import redis as redis_lib

from backend import keys
from backend.store import hash_token
from tests.reliability.helpers import dump_everything, event, occurrences


def full_history(client, headers):
    events = [event("open", "2412.00001", title="A paper"), event("open", "2412.00001"),
              event("save", "2412.00002", title="Another"), event("dismiss", "2412.00003"),
              event("save", "2412.00004"), event("unsave", "2412.00004"),
              event("open", "hep-th/9901001", title="Old style")]
    assert client.post("/v1/events", headers=headers, json={"events": events}).status_code == 202
    return events


def test_delete_leaves_no_key_or_value_carrying_the_user(limited_app, redis_client):
    limited_app.config.update(RATELIMIT_EVENTS="1000/minute", RATELIMIT_EVENTS_PER_IP="1000/minute",
                              RATELIMIT_REGISTER="1000/hour")
    client = limited_app.test_client()
    body = client.post("/v1/users").get_json()
    user_id, token = body["user_id"], body["token"]
    headers = {"Authorization": f"Bearer {token}"}
    other = client.post("/v1/users").get_json()
    other_headers = {"Authorization": f"Bearer {other['token']}"}
    events = full_history(client, headers)
    full_history(client, other_headers)
    client.get("/v1/recommendations", headers=headers)
    before = dump_everything(redis_client)
    assert occurrences(before, user_id), "sanity: the user is in Redis before deletion"

    assert client.delete("/v1/me", headers=headers).status_code == 204

    after = dump_everything(redis_client)
    needles = [user_id, token, hash_token(token)] + [e["id"] for e in events]
    for needle in needles:
        assert occurrences(after, needle) == [], needle
    assert redis_client.sismember(keys.USERS, other["user_id"])
    assert client.get("/v1/saved", headers=other_headers).get_json()["items"]


def test_export_contains_everything_held_about_the_user(client, make_user, redis_client):
    user_id, headers = make_user()
    events = full_history(client, headers)
    export = client.get("/v1/me/export", headers=headers).get_json()
    raw = {part: key for part, key in zip(keys.ALL_USER_PARTS, keys.user_keys(user_id), strict=True)}

    assert export["user_id"] == user_id
    assert export["created_at"] == redis_client.hget(raw["meta"], "created_at")
    assert {e["id"] for e in export["events"]} == {e["id"] for e in events}
    assert len(export["events"]) == redis_client.xlen(raw["events"])
    assert set(redis_client.zrange(raw["eids"], 0, -1)) == {e["id"] for e in events}
    for sent, exported in zip(events, export["events"], strict=True):
        for field in ("id", "type", "paper_id", "source"):
            assert exported[field] == sent[field]
    assert {s["paper_id"] for s in export["saved"]} == set(redis_client.zrange(raw["saved"], 0, -1))
    assert {d["paper_id"] for d in export["dismissed"]} == set(
        redis_client.zrange(raw["dismissed"], 0, -1))
    assert export["opens"] == {k: int(v) for k, v in redis_client.hgetall(raw["opens"]).items()}
    # the weights are derived from opens, saved and dismissed (nothing stores them)
    assert export["interaction_weights"] and not redis_client.exists(raw["weights"])
    # savestate is derived from the exported events; meta holds only created_at and the
    # token's hash (a secret's digest, deliberately not exported).
    assert set(redis_client.hgetall(raw["meta"])) == {"created_at", "token_hash"}
    assert set(redis_client.hkeys(raw["savestate"])) <= {e["paper_id"] for e in events}
    # Nothing else in Redis carries the user's id (but the token index and the user set).
    dump = dump_everything(redis_client)
    token_hash = redis_client.hget(raw["meta"], "token_hash")
    assert set(occurrences(dump, user_id)) <= {*keys.user_keys(user_id), keys.token(token_hash),
                                               keys.USERS}


def test_logs_never_contain_tokens(limited_app, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    limited_app.config.update(RATELIMIT_EVENTS="2/minute")
    client = limited_app.test_client()
    body = client.post("/v1/users").get_json()
    token = body["token"]
    headers = {"Authorization": f"Bearer {token}"}
    client.post("/v1/events", headers=headers, json={"events": [event()]})
    client.post("/v1/events", headers=headers, json={"events": [{"bad": token}]})
    client.post("/v1/events", headers=headers, json={"events": [event()]})
    client.post("/v1/events", headers=headers, json={"events": [event()]})  # 429
    client.get("/v1/saved", headers={"Authorization": f"Bearer {token}x"})  # 401
    client.get("/v1/saved", headers={"Authorization": f"Basic {token}"})
    client.post("/v1/events", headers=headers, data=token, content_type="text/plain")

    # Redis failing mid-request (503) and an unexpected error (500) are logged too.
    from backend.extensions import get_store

    with limited_app.app_context():
        store = get_store()

    def down(*_a, **_k):
        raise redis_lib.ConnectionError(f"Connection refused for {token[:4]}...")

    monkeypatch.setattr(store, "saved", down)
    client.get("/v1/saved", headers=headers)

    def boom(*_a, **_k):
        raise RuntimeError("boom")

    monkeypatch.setattr(store, "export", boom)
    assert client.get("/v1/me/export", headers=headers).status_code == 500
    client.delete("/v1/me", headers=headers)

    assert caplog.records, "the flow above logs something"
    text = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert token not in text
    assert hash_token(token) not in text
