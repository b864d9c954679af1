"""Registration, bearer tokens, isolation between users, export and deletion (real Redis)."""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis

from backend import keys

PROBLEM = "application/problem+json"
AUTH_ROUTES = [("GET", "/v1/saved"), ("GET", "/v1/recommendations"), ("GET", "/v1/me/export"),
               ("DELETE", "/v1/me"), ("POST", "/v1/events")]


def event(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"id": str(uuid.uuid4()), "type": "save", "paper_id": "2412.01824",
                            "ts": datetime.now(UTC).isoformat()}
    body.update(fields)
    return body


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def everything(client: redis.Redis) -> str:
    """Every key and every value in the database, as one text to search."""
    parts: list[str] = []
    for key in client.scan_iter(count=1000):
        parts.append(key)
        kind = client.type(key)
        if kind == "string":
            parts.append(client.get(key) or "")
        elif kind == "hash":
            parts.extend(f"{k}={v}" for k, v in client.hgetall(key).items())
        elif kind == "set":
            parts.extend(client.smembers(key))
        elif kind == "zset":
            parts.extend(m for m, _ in client.zrange(key, 0, -1, withscores=True))
        elif kind == "list":
            parts.extend(client.lrange(key, 0, -1))
        elif kind == "stream":
            for entry_id, fields in client.xrange(key):
                parts.append(entry_id)
                parts.extend(f"{k}={v}" for k, v in fields.items())
        else:  # pragma: no cover - a type paperfeed does not use
            raise AssertionError(f"unexpected key type {kind} of {key}")
    return "\n".join(parts)


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].split(" ", 1)[1]


def assert_problem(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status and {"type", "title", "detail"} <= set(body)
    return body


# --- registration -----------------------------------------------------------------------


def test_registration_returns_an_opaque_id_and_token(client):
    response = client.post("/v1/users")
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"user_id", "token"}
    assert len(body["user_id"]) >= 16 and ":" not in body["user_id"]
    assert not set(body["user_id"]) & set("{}: \n")
    # >= 128 random bits: token_urlsafe-style base64url of >= 16 bytes
    assert re.fullmatch(r"[A-Za-z0-9_\-]+", body["token"])
    raw = base64.urlsafe_b64decode(body["token"] + "=" * (-len(body["token"]) % 4))
    assert len(raw) >= 16
    assert body["token"] != body["user_id"]


def test_registration_ids_and_tokens_are_random(client):
    bodies = [client.post("/v1/users").get_json() for _ in range(30)]
    assert len({b["user_id"] for b in bodies}) == 30
    assert len({b["token"] for b in bodies}) == 30
    assert len({b["token"][:8] for b in bodies}) == 30  # no shared prefix/counter


def test_registration_ignores_a_body_free_post_and_query(client):
    assert client.post("/v1/users?x=1").status_code == 201


def test_only_a_hash_of_the_token_is_stored(client, make_user, redis_client, redis_url):
    user_id, headers = make_user()
    client.post("/v1/events", json={"events": [event()]}, headers=headers)
    token = token_of(headers)
    dump = everything(redis_client)
    assert user_id in dump
    assert token not in dump
    assert hashlib.sha256(token.encode()).hexdigest() in dump  # what is stored instead
    # nor in the serialized bytes of any key (listpacks, stream entries...)
    raw = redis.Redis.from_url(redis_url)
    for key in raw.scan_iter():
        assert token.encode() not in key and token.encode() not in (raw.dump(key) or b"")
    raw.close()


# --- authentication ---------------------------------------------------------------------

BAD_HEADERS = {
    "missing": {},
    "empty bearer": {"Authorization": "Bearer "},
    "other scheme": {"Authorization": "Basic dXNlcjpwYXNz"},
    "unknown token": {"Authorization": "Bearer " + "A" * 43},
    "token without scheme": {"Authorization": "A" * 43},
}


@pytest.mark.parametrize("method,path", AUTH_ROUTES)
@pytest.mark.parametrize("headers", BAD_HEADERS.values(), ids=BAD_HEADERS.keys())
def test_auth_routes_reject_missing_or_unknown_tokens(client, method, path, headers):
    kwargs: dict[str, Any] = {"headers": headers}
    if method == "POST":
        kwargs["json"] = {"events": [event()]}
    response = client.open(path, method=method, **kwargs)
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_user_id_is_not_a_token(client, make_user):
    user_id, _ = make_user()
    assert_problem(client.get("/v1/saved", headers={"Authorization": f"Bearer {user_id}"}), 401)


def test_the_stored_token_hash_is_not_a_token(client, make_user):
    _, headers = make_user()
    digest = hashlib.sha256(token_of(headers).encode()).hexdigest()
    assert_problem(client.get("/v1/saved", headers={"Authorization": f"Bearer {digest}"}), 401)


def test_bearer_scheme_is_case_insensitive(client, make_user):
    _, headers = make_user()
    lower = {"Authorization": "bearer " + token_of(headers)}
    assert client.get("/v1/saved", headers=lower).status_code == 200


def test_the_user_comes_from_the_token_not_the_body(client, make_user):
    a_id, a = make_user()
    b_id, _ = make_user()
    response = client.post("/v1/events", json={"events": [event()], "user_id": b_id}, headers=a)
    assert response.status_code == 422  # unknown field, never a way to act as someone else
    response = client.post("/v1/events", json={"events": [event(user_id=b_id)]}, headers=a)
    assert response.status_code == 422


# --- isolation --------------------------------------------------------------------------


@pytest.fixture
def two_users(client, make_user):
    """A saved 2412.00001 and opened 2412.00011; B saved 2412.00002 and dismissed 2412.00022."""
    a_id, a = make_user()
    b_id, b = make_user()
    client.post("/v1/events", headers=a, json={"events": [
        event(paper_id="2412.00001"), event(type="open", paper_id="2412.00011")]})
    client.post("/v1/events", headers=b, json={"events": [
        event(paper_id="2412.00002"), event(type="dismiss", paper_id="2412.00022")]})
    return (a_id, a), (b_id, b)


def test_users_see_only_their_own_saved_and_export(client, two_users):
    (a_id, a), (b_id, b) = two_users
    saved_a = client.get("/v1/saved", headers=a).get_json()["items"]
    assert [i["paper_id"] for i in saved_a] == ["2412.00001"]
    export_a = client.get("/v1/me/export", headers=a).get_json()
    export_b = client.get("/v1/me/export", headers=b).get_json()
    assert export_a["user_id"] == a_id and export_b["user_id"] == b_id
    text_a = str(export_a)
    for foreign in ("2412.00002", "2412.00022", b_id):
        assert foreign not in text_a
    assert {e["paper_id"] for e in export_a["events"]} == {"2412.00001", "2412.00011"}
    assert {e["paper_id"] for e in export_b["events"]} == {"2412.00002", "2412.00022"}


def test_a_users_events_never_change_another_user(client, two_users):
    (_, a), (_, b) = two_users
    before = client.get("/v1/me/export", headers=b).get_json()
    client.post("/v1/events", headers=a, json={"events": [
        event(type="unsave", paper_id="2412.00002"), event(type="save", paper_id="2412.00022")]})
    assert client.get("/v1/me/export", headers=b).get_json() == before


def test_deleting_a_deletes_only_a(client, two_users, redis_client):
    (a_id, a), (b_id, b) = two_users
    assert client.delete("/v1/me", headers=a).status_code == 204
    assert client.get("/v1/saved", headers=b).status_code == 200
    assert [i["paper_id"] for i in client.get("/v1/saved", headers=b).get_json()["items"]] == [
        "2412.00002"]
    dump = everything(redis_client)
    assert b_id in dump and a_id not in dump


# --- export -----------------------------------------------------------------------------


def test_export_holds_everything_about_the_user(client, make_user):
    user_id, headers = make_user()
    events = [event(type="open", paper_id="2412.00001", ts=ago(hours=3), source="list"),
              event(type="open", paper_id="2412.00001", ts=ago(hours=2), source="paper_page"),
              event(type="save", paper_id="2412.00001", ts=ago(hours=1), source="popup",
                    paper={"title": "T"}),
              event(type="dismiss", paper_id="2412.00002", ts=ago(minutes=30)),
              event(type="save", paper_id="2412.00003", ts=ago(minutes=20)),
              event(type="unsave", paper_id="2412.00003", ts=ago(minutes=10))]
    client.post("/v1/events", json={"events": events}, headers=headers)
    body = client.get("/v1/me/export", headers=headers).get_json()
    assert body["user_id"] == user_id and body["created_at"]
    assert [(e["id"], e["type"], e["paper_id"]) for e in body["events"]] == [
        (e["id"], e["type"], e["paper_id"]) for e in events]
    assert [e["source"] for e in body["events"]] == [
        "list", "paper_page", "popup", None, None, None]
    assert all(e["ts"] and e["received_at"] for e in body["events"])
    assert [s["paper_id"] for s in body["saved"]] == ["2412.00001"]
    assert body["saved"][0]["title"] == "T"
    assert [d["paper_id"] for d in body["dismissed"]] == ["2412.00002"]
    assert body["opens"] == {"2412.00001": 2}
    assert body["interaction_weights"] == {"2412.00001": 7.0}
    assert body["titles"] == {"2412.00001": "T"}


def test_export_of_a_new_user_is_empty(client, make_user):
    user_id, headers = make_user()
    body = client.get("/v1/me/export", headers=headers).get_json()
    assert body["user_id"] == user_id
    assert body["events"] == [] and body["saved"] == [] and body["dismissed"] == []


# --- deletion ---------------------------------------------------------------------------


def test_delete_me_removes_every_trace(client, make_user, redis_client):
    user_id, headers = make_user()
    token = token_of(headers)
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    client.post("/v1/events", headers=headers, json={"events": [
        event(type="open", paper_id="2412.00001", paper={"title": "Kept in the catalogue"}),
        event(type="save", paper_id="2412.00001"),
        event(type="dismiss", paper_id="2412.00002"),
        event(type="save", paper_id="hep-th/9901001")]})
    assert user_id in everything(redis_client)

    response = client.delete("/v1/me", headers=headers)
    assert response.status_code == 204 and response.data == b""

    dump = everything(redis_client)
    for secret in (user_id, token, token_hash):
        assert secret not in dump
    assert not list(redis_client.scan_iter(match=f"*{user_id}*"))
    # the papers were never imported: the catalogue does not know them, and the user's
    # readings left trending with the user
    assert not redis_client.exists("pf:p:2412.00001")
    assert not redis_client.exists(keys.TRENDING_OPENERS)
    assert not redis_client.exists(keys.TRENDING_SAVERS)


@pytest.mark.parametrize("method,path", AUTH_ROUTES)
def test_after_delete_the_token_is_rejected(client, make_user, method, path):
    _, headers = make_user()
    assert client.delete("/v1/me", headers=headers).status_code == 204
    kwargs: dict[str, Any] = {"headers": headers}
    if method == "POST":
        kwargs["json"] = {"events": [event()]}
    assert_problem(client.open(path, method=method, **kwargs), 401)


def test_events_after_delete_store_nothing(client, make_user, redis_client):
    user_id, headers = make_user()
    client.delete("/v1/me", headers=headers)
    client.post("/v1/events", headers=headers, json={"events": [event()]})
    assert user_id not in everything(redis_client)
