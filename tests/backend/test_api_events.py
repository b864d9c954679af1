"""POST /v1/events and GET /v1/saved against a real Redis: validation, idempotency, ordering."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from backend import keys

from .conftest import ago, now

PROBLEM = "application/problem+json"


def event(**fields: Any) -> dict[str, Any]:
    """A valid event (a save of 2412.01824 now) with ``fields`` replaced or added."""
    body: dict[str, Any] = {"id": str(uuid.uuid4()), "type": "save", "paper_id": "2412.01824",
                            "ts": now().isoformat()}
    body.update(fields)
    return body


def without(name: str) -> dict[str, Any]:
    body = event()
    del body[name]
    return body


@pytest.fixture
def post(client, user):
    """POST a list of events as ``user``; return the response."""

    def send(*events: dict[str, Any], headers: dict[str, str] | None = None):
        return client.post("/v1/events", json={"events": list(events)},
                           headers=headers if headers is not None else user[1])

    return send


def saved_ids(client, headers) -> list[str]:
    response = client.get("/v1/saved", headers=headers)
    assert response.status_code == 200
    return [item["paper_id"] for item in response.get_json()["items"]]


def assert_problem(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status
    assert {"type", "title", "status", "detail"} <= set(body)
    return body


# --- accepted batches ------------------------------------------------------------------


def test_a_batch_is_accepted_with_counts(post):
    response = post(event(type="open", source="list"), event(type="save", source="paper_page"),
                    event(type="dismiss", paper_id="2412.01825", source="sidebar"),
                    event(type="unsave", paper_id="2412.01826", source="popup"))
    assert response.status_code == 202
    assert response.get_json() == {"accepted": 4, "duplicates": 0}


def test_a_hundred_events_are_accepted(post):
    events = [event(type="open", paper_id=f"2412.{i:05d}") for i in range(100)]
    assert post(*events).get_json() == {"accepted": 100, "duplicates": 0}


def test_version_suffix_is_dropped(client, post, user):
    assert post(event(paper_id="2412.01824v2")).status_code == 202
    assert saved_ids(client, user[1]) == ["2412.01824"]


@pytest.mark.parametrize("paper_id", ["hep-th/9901001", "math.AG/0601001", "hep-th/9901001v3",
                                      "0704.0001", "2412.01824"])
def test_old_and_new_style_ids_are_valid(client, post, user, paper_id):
    assert post(event(paper_id=paper_id)).status_code == 202
    canonical = paper_id.split("v")[0] if paper_id[-2] == "v" else paper_id
    assert saved_ids(client, user[1]) == [canonical]


def test_events_within_the_allowed_time_range_are_accepted(post):
    india = timezone(timedelta(hours=5, minutes=30))
    response = post(event(ts=(now() + timedelta(minutes=4)).isoformat()),
                    event(paper_id="2412.00002", ts=ago(days=29, hours=23)),
                    event(paper_id="2412.00003", ts=(now() - timedelta(hours=1)).astimezone(
                        india).isoformat()),
                    event(paper_id="2412.00004", ts=now().strftime("%Y-%m-%dT%H:%M:%SZ")))
    assert response.get_json() == {"accepted": 4, "duplicates": 0}


# --- idempotency ------------------------------------------------------------------------


def test_a_retried_batch_changes_nothing(client, post, user, redis_client):
    batch = [event(type="open", ts=ago(hours=2)), event(type="open", ts=ago(hours=1)),
             event(type="save", ts=ago(minutes=30)),
             event(type="open", paper_id="2412.00001", ts=ago(minutes=20)),
             event(type="dismiss", paper_id="2412.00002", ts=ago(minutes=10))]
    assert post(*batch).get_json() == {"accepted": 5, "duplicates": 0}
    export = client.get("/v1/me/export", headers=user[1]).get_json()
    trending = client.get("/v1/trending").get_json()
    stored_trending = trending_counts(redis_client)
    saved = client.get("/v1/saved", headers=user[1]).get_json()

    assert post(*batch).get_json() == {"accepted": 0, "duplicates": 5}

    assert client.get("/v1/me/export", headers=user[1]).get_json() == export
    assert client.get("/v1/saved", headers=user[1]).get_json() == saved
    assert export["interaction_weights"] == {"2412.01824": 7.0, "2412.00001": 1.0}
    assert export["opens"] == {"2412.01824": 2, "2412.00001": 1}
    assert len(export["events"]) == 5
    # trending's reader counts are aggregates: they must not move either
    assert trending_counts(redis_client) == stored_trending
    client.application.extensions["paperfeed.ranker"].invalidate()
    again = client.get("/v1/trending").get_json()
    assert [i["paper_id"] for i in again["items"]] == [i["paper_id"] for i in trending["items"]]


def trending_counts(client) -> list[list[tuple[str, float]]]:
    return [client.zrange(key, 0, -1, withscores=True)
            for key in (keys.TRENDING_OPENERS, keys.TRENDING_SAVERS)]


def test_a_partial_retry_counts_duplicates(post):
    first = event(type="open")
    assert post(first).get_json() == {"accepted": 1, "duplicates": 0}
    assert post(first, event(type="open")).get_json() == {"accepted": 1, "duplicates": 1}


def test_the_same_id_twice_in_one_batch_is_a_duplicate(post):
    first = event(type="open")
    assert post(first, dict(first)).get_json() == {"accepted": 1, "duplicates": 1}


def test_event_ids_are_per_user(make_user, post):
    shared = event()
    _, other = make_user()
    assert post(shared).get_json() == {"accepted": 1, "duplicates": 0}
    assert post(shared, headers=other).get_json() == {"accepted": 1, "duplicates": 0}


# --- all or nothing ---------------------------------------------------------------------


def test_one_invalid_event_stores_nothing(post, redis_client):
    post(event(paper_id="2412.00009"))  # some prior state
    before = {key: redis_client.dump(key) for key in redis_client.scan_iter()}
    response = post(event(type="open"), event(type="save", paper_id="2412.01825"),
                    event(ts="2024-12-03T10:00:00"))
    body = assert_problem(response, 422)
    assert [e["index"] for e in body["errors"]] == [2]
    after = {key: redis_client.dump(key) for key in redis_client.scan_iter()}
    assert after == before


def test_errors_name_field_pointer_and_index(post):
    body = assert_problem(post(event(), event(ts=ago(days=31))), 422)
    assert body["errors"] == [{"field": "events[1].ts", "pointer": "/events/1/ts",
                               "location": "body", "index": 1, "message": "Older than 30 days."}]


def test_every_bad_event_of_a_batch_is_reported(post):
    body = assert_problem(post(event(type="like"), event(), event(paper_id="abc")), 422)
    assert sorted((e["index"], e["field"]) for e in body["errors"]) == [
        (0, "events[0].type"), (2, "events[2].paper_id")]


# --- bad inputs: each is a 4xx problem naming the field ---------------------------------

LONG_TITLE = "t" * 301
BAD_BODIES = {
    "missing id": ({"events": [without("id")]}, "events[0].id"),
    "non-UUID id": ({"events": [event(id="not-a-uuid")]}, "events[0].id"),
    "null id": ({"events": [event(id=None)]}, "events[0].id"),
    "missing type": ({"events": [without("type")]}, "events[0].type"),
    "bad type": ({"events": [event(type="like")]}, "events[0].type"),
    "missing paper_id": ({"events": [without("paper_id")]}, "events[0].paper_id"),
    "paper_id abc": ({"events": [event(paper_id="abc")]}, "events[0].paper_id"),
    "paper_id too short": ({"events": [event(paper_id="2412.1")]}, "events[0].paper_id"),
    "paper_id with colon": ({"events": [event(paper_id="2412.01824:x")]}, "events[0].paper_id"),
    "paper_id with braces": ({"events": [event(paper_id="{x}")]}, "events[0].paper_id"),
    "paper_id with newline": ({"events": [event(paper_id="2412.01824\n")]},
                              "events[0].paper_id"),
    "paper_id newline inside": ({"events": [event(paper_id="2412.\n01824")]},
                                "events[0].paper_id"),
    "paper_id not a string": ({"events": [event(paper_id=2412.01824)]}, "events[0].paper_id"),
    "missing ts": ({"events": [without("ts")]}, "events[0].ts"),
    "naive ts": ({"events": [event(ts=now().replace(tzinfo=None).isoformat())]},
                 "events[0].ts"),
    "date-only ts": ({"events": [event(ts=now().date().isoformat())]}, "events[0].ts"),
    "garbage ts": ({"events": [event(ts="yesterday")]}, "events[0].ts"),
    # computed at collection: an hour ahead is still beyond the 5 minutes allowed when the
    # test runs, however long the suite took to get there
    "ts in the future": ({"events": [event(ts=(now() + timedelta(hours=1)).isoformat())]},
                         "events[0].ts"),
    "ts too old": ({"events": [event(ts=ago(days=30, minutes=1))]}, "events[0].ts"),
    "source not in enum": ({"events": [event(source="email")]}, "events[0].source"),
    "title too long": ({"events": [event(paper={"title": LONG_TITLE})]},
                       "events[0].paper.title"),
    "title empty": ({"events": [event(paper={"title": ""})]}, "events[0].paper.title"),
    "paper not an object": ({"events": [event(paper="Title")]}, "events[0].paper"),
    "unknown top-level field": ({"events": [event()], "user_id": "x"}, "user_id"),
    "unknown event field": ({"events": [event(user_id="x")]}, "events[0].user_id"),
    "unknown paper field": ({"events": [event(paper={"title": "T", "abstract": "A"})]},
                            "events[0].paper.abstract"),
    "no events": ({"events": []}, "events"),
    "101 events": ({"events": [event(paper_id=f"2412.{i:05d}") for i in range(101)]}, "events"),
    "events missing": ({}, "events"),
    "events not a list": ({"events": event()}, "events"),
    "events a string": ({"events": "open"}, "events"),
    "event not an object": ({"events": ["open"]}, "events[0]"),
    "body a list": ([event()], "(body)"),
    "body a string": ("events", "(body)"),
}


@pytest.mark.parametrize("body,field", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_bad_event_bodies_are_rejected(client, user, redis_client, body, field):
    keys_before = redis_client.dbsize()
    response = client.post("/v1/events", json=body, headers=user[1])
    problem = assert_problem(response, 422)
    assert field in [error["field"] for error in problem["errors"]], problem
    for error in problem["errors"]:
        assert error["location"] == "body" and error["message"]
        if error["field"].startswith("events["):
            assert error["index"] == 0
            assert error["pointer"].startswith("/events/0")
    assert redis_client.dbsize() == keys_before


def test_bad_body_without_token_is_401(client):
    for body in ([event()], {"events": []}, {"events": [event(type="x")]}):
        response = client.post("/v1/events", json=body)
        assert_problem(response, 401)
    response = client.post("/v1/events", data="{not json", content_type="application/json")
    assert_problem(response, 401)
    response = client.post("/v1/events", data=b"x" * (300 * 1024),
                           content_type="application/json")
    assert_problem(response, 401)


def test_bad_body_with_unknown_token_is_401(client):
    response = client.post("/v1/events", json=[1], headers={"Authorization": "Bearer nope"})
    assert_problem(response, 401)


def test_wrong_content_type_without_token_is_401(client):
    response = client.post("/v1/events", data="events=1", content_type="text/plain")
    assert_problem(response, 401)


def test_wrong_content_type_is_415(client, user):
    for content_type in ("text/plain", "application/x-www-form-urlencoded",
                         "multipart/form-data; boundary=x"):
        response = client.post("/v1/events", data="events=1", content_type=content_type,
                               headers=user[1])
        assert_problem(response, 415)


@pytest.mark.parametrize("raw", ["{not json", '{"events": [', "\xff\xfe", "{'events': []}"])
def test_invalid_json_is_400(client, user, raw):
    response = client.post("/v1/events", data=raw, content_type="application/json",
                           headers=user[1])
    assert_problem(response, 400)


def test_body_over_256_kib_is_413(client, user, redis_client):
    big = {"events": [event(paper={"title": "x" * 300}) for _ in range(100)]}
    big["padding"] = "p" * (260 * 1024)
    response = client.post("/v1/events", json=big, headers=user[1])
    assert_problem(response, 413)
    assert redis_client.exists(keys.TRENDING_OPENERS) == 0


# --- the saved list ---------------------------------------------------------------------


def test_saved_is_newest_first_by_event_time(client, post, user):
    post(event(paper_id="2412.00001", ts=ago(hours=3)),
         event(paper_id="2412.00003", ts=ago(hours=1)),
         event(paper_id="2412.00002", ts=ago(hours=2)))
    items = client.get("/v1/saved", headers=user[1]).get_json()["items"]
    assert [i["paper_id"] for i in items] == ["2412.00003", "2412.00002", "2412.00001"]
    assert set(items[0]) == {"paper_id", "title", "saved_at"}
    saved_at = [datetime.fromisoformat(i["saved_at"]) for i in items]
    assert all(moment.tzinfo is not None for moment in saved_at)
    assert abs(saved_at[0] - (now() - timedelta(hours=1))) < timedelta(seconds=30)


def test_saved_at_is_the_save_events_time(client, post, user):
    moment = now() - timedelta(days=3)
    ts = moment.isoformat()
    post(event(ts=ts))
    [item] = client.get("/v1/saved", headers=user[1]).get_json()["items"]
    assert abs(datetime.fromisoformat(item["saved_at"]) - moment) < timedelta(milliseconds=2)


def test_save_then_unsave_removes(client, post, user):
    post(event(ts=ago(minutes=2)))
    assert saved_ids(client, user[1]) == ["2412.01824"]
    post(event(type="unsave", ts=ago(minutes=1)))
    assert saved_ids(client, user[1]) == []


def test_later_event_time_wins_whatever_the_arrival_order(client, post, user):
    # unsave(t2) arrives first, then save(t1 < t2): not saved
    post(event(type="unsave", ts=ago(minutes=1)))
    post(event(type="save", ts=ago(minutes=5)))
    assert saved_ids(client, user[1]) == []
    # save(t2) arrives first, then unsave(t1 < t2): saved
    post(event(paper_id="2412.00001", type="save", ts=ago(minutes=1)))
    post(event(paper_id="2412.00001", type="unsave", ts=ago(minutes=5)))
    assert saved_ids(client, user[1]) == ["2412.00001"]
    # both in one batch, in the "wrong" order
    post(event(paper_id="2412.00002", type="unsave", ts=ago(minutes=1)),
         event(paper_id="2412.00002", type="save", ts=ago(minutes=2)))
    assert saved_ids(client, user[1]) == ["2412.00001"]


def test_save_after_unsave_saves_again(client, post, user):
    post(event(ts=ago(minutes=3)), event(type="unsave", ts=ago(minutes=2)),
         event(ts=ago(minutes=1)))
    assert saved_ids(client, user[1]) == ["2412.01824"]


def test_saved_titles_are_the_users_own_until_imported(client, post, user):
    post(event(paper_id="2412.00001", paper={"title": "Seeded title"}),
         event(paper_id="2412.00002"))
    titles = {i["paper_id"]: i["title"]
              for i in client.get("/v1/saved", headers=user[1]).get_json()["items"]}
    assert titles == {"2412.00001": "Seeded title", "2412.00002": None}


def test_saved_requires_auth(client):
    assert_problem(client.get("/v1/saved"), 401)
