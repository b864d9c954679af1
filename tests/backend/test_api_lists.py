"""GET /v1/trending, /v1/recommendations and /v1/papers/<id> against a real Redis."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from .conftest import ago, event, ids, make_app, paper, trending

PROBLEM = "application/problem+json"


@pytest.fixture
def app(redis_url, redis_client, tmp_path):
    return make_app(redis_url, tmp_path)


@pytest.fixture
def post(client, user):
    def send(*events: dict[str, Any], headers: dict[str, str] | None = None):
        response = client.post("/v1/events", json={"events": list(events)},
                               headers=headers or user[1])
        assert response.status_code == 202, response.get_json()
        return response.get_json()

    return send


# --- trending (tests/backend/test_api_trending.py) ---------------------------------------

D = date(2026, 8, 21)


@pytest.mark.parametrize("query,field", [
    ("limit=0", "limit"), ("limit=101", "limit"), ("limit=-1", "limit"), ("limit=x", "limit"),
    ("limit=", "limit"), ("limit=1.5", "limit"),
    ("days=0", "days"), ("days=91", "days"), ("days=x", "days"),
])
@pytest.mark.parametrize("path", ["/v1/trending", "/v1/recommendations"])
def test_bad_list_queries_are_422(client, user, path, query, field):
    response = client.get(f"{path}?{query}", headers=user[1])
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert [(e["field"], e["location"]) for e in body["errors"]] == [(field, "query")]


def test_unknown_query_params_are_ignored(client, user):
    assert client.get("/v1/trending?_=123&foo=bar").status_code == 200
    assert client.get("/v1/recommendations?cachebuster=1", headers=user[1]).status_code == 200
    assert client.get("/v1/saved?x=1", headers=user[1]).status_code == 200


# --- recommendations --------------------------------------------------------------------


def test_recommendations_need_auth(client):
    response = client.get("/v1/recommendations")
    assert response.status_code == 401 and response.mimetype == PROBLEM


def test_recommendations_are_the_window_minus_saved_dismissed_and_opened(client, post, catalogue,
                                                                         user):
    catalogue(*(paper(f"2608.{n:05d}", D, upvotes=10 * n) for n in range(1, 6)))
    post(event(paper_id="2608.00005", type="save"), event(paper_id="2608.00003", type="dismiss"),
         event(paper_id="2608.00004", type="open"))
    response = client.get("/v1/recommendations", headers=user[1])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["model_version"] is None
    # the order may be personalised; the set is the window minus saved, dismissed and opened
    assert sorted(ids(body["items"])) == ["2608.00001", "2608.00002"]
    for item in body["items"]:
        assert {"paper_id", "title", "score", "reason"} <= set(item)
        assert item["reason"]["kind"] and item["reason"]["text"]
    assert body["window"] == {"from": (D - timedelta(days=6)).isoformat(), "until": D.isoformat()}
    again = client.get("/v1/recommendations?include_opened=true", headers=user[1]).get_json()
    assert sorted(ids(again["items"])) == ["2608.00001", "2608.00002", "2608.00004"]
    assert len(trending(client)) == 5  # trending itself still lists them all


def test_recommendations_respect_limit_after_exclusion(client, post, catalogue, user):
    catalogue(*(paper(f"2608.{n:05d}", D, upvotes=n) for n in range(1, 11)))
    post(event(paper_id="2608.00010", type="save"), event(paper_id="2608.00009", type="save"))
    response = client.get("/v1/recommendations?limit=3", headers=user[1])
    assert response.status_code == 200, response.get_json()
    items = ids(response.get_json()["items"])
    assert len(items) == 3 and not {"2608.00010", "2608.00009"} & set(items)


def test_a_save_after_a_dismissal_is_still_excluded(client, post, catalogue, user):
    catalogue(paper("2608.00001", D, upvotes=5), paper("2608.00002", D, upvotes=1))
    post(event(paper_id="2608.00001", type="dismiss", ts=ago(minutes=2)),
         event(paper_id="2608.00001", type="save", ts=ago(minutes=1)))
    response = client.get("/v1/recommendations", headers=user[1])
    assert response.status_code == 200, response.get_json()
    assert ids(response.get_json()["items"]) == ["2608.00002"]


def test_without_interactions_recommendations_are_trending(client, catalogue, user):
    catalogue(*(paper(f"2608.{n:05d}", D, upvotes=10 * n) for n in range(1, 6)))
    body = client.get("/v1/recommendations?limit=3", headers=user[1]).get_json()
    assert body["model_version"] is None
    assert ids(body["items"]) == ids(trending(client, "?limit=3"))


def test_recommendations_are_per_user(client, post, catalogue, make_user, user):
    catalogue(paper("2608.00001", D, upvotes=5), paper("2608.00002", D, upvotes=1))
    post(event(paper_id="2608.00001", type="dismiss"))
    _, other = make_user()
    mine = client.get("/v1/recommendations", headers=user[1]).get_json()["items"]
    theirs = client.get("/v1/recommendations", headers=other).get_json()["items"]
    assert ids(mine) == ["2608.00002"]
    assert sorted(ids(theirs)) == ["2608.00001", "2608.00002"]


# --- papers and the catalogue -----------------------------------------------------------


def test_paper_entry(client, catalogue):
    record = paper("2608.00001", D, upvotes=7, title="A Title")
    record.update(abstract="Abstract.", ai_keywords=["llm"], num_comments=2)
    catalogue(record)
    body = client.get("/v1/papers/2608.00001").get_json()
    assert body["paper_id"] == "2608.00001" and body["title"] == "A Title"
    assert body["upvotes"] == 7 and body["daily_date"] == str(D)
    assert body["authors"] == ["A. Author"] and body["ai_keywords"] == ["llm"]
    assert client.get("/v1/papers/2608.00001v4").get_json() == body


@pytest.mark.parametrize("paper_id", ["2608.99999", "hep-th/9901001", "abc", "2412.1"])
def test_unknown_paper_is_404_problem(client, paper_id):
    response = client.get(f"/v1/papers/{paper_id}")
    assert response.status_code == 404
    assert response.mimetype == PROBLEM
    assert {"type", "title", "status", "detail"} <= set(response.get_json())


# --- the window: until --------------------------------------------------------------------


def test_until_ends_the_trending_window_on_that_day(client, catalogue):
    catalogue(*(paper(f"2608.{n:05d}", D - timedelta(days=n), upvotes=10) for n in range(12)))
    assert sorted(ids(trending(client, "?days=7"))) == [f"2608.{n:05d}" for n in range(7)]
    body = client.get(f"/v1/trending?days=3&until={D - timedelta(days=4)}").get_json()
    assert sorted(ids(body["items"])) == ["2608.00004", "2608.00005", "2608.00006"]
    assert body["window"] == {"from": (D - timedelta(days=6)).isoformat(),
                              "until": (D - timedelta(days=4)).isoformat()}
    default = client.get("/v1/trending?days=2").get_json()
    assert default["window"] == {"from": (D - timedelta(days=1)).isoformat(),
                                 "until": D.isoformat()}


def test_without_papers_the_window_ends_today(client):
    today = datetime.now(UTC).date()
    assert client.get("/v1/trending").get_json() == {"items": [], "window": {
        "from": (today - timedelta(days=6)).isoformat(), "until": today.isoformat()}}


@pytest.mark.parametrize("path", ["/v1/trending", "/v1/recommendations"])
@pytest.mark.parametrize("query", ["until=2026-13-01", "until=yesterday", "until=20260821"])
def test_a_bad_until_is_422_naming_it(client, user, path, query):
    response = client.get(f"{path}?{query}", headers=user[1])
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    assert [e["field"] for e in response.get_json()["errors"]] == ["until"]


# --- recommendations: exclude, include_opened ---------------------------------------------


def test_excluded_papers_are_left_out(client, post, catalogue, user):
    catalogue(*(paper(f"2608.{n:05d}", D, upvotes=n) for n in range(1, 7)))
    post(event(paper_id="2608.00006", type="save"))
    response = client.get("/v1/recommendations?exclude=2608.00005v2,%202608.00004",
                          headers=user[1])
    assert response.status_code == 200, response.get_json()
    assert sorted(ids(response.get_json()["items"])) == [
        "2608.00001", "2608.00002", "2608.00003"]
    # the same user without exclusions: a list of its own, not the cached one
    everything = client.get("/v1/recommendations", headers=user[1]).get_json()
    assert sorted(ids(everything["items"])) == [f"2608.{n:05d}" for n in range(1, 6)]


@pytest.mark.parametrize("exclude", [
    "2608.00001,nonsense", "../etc", ",".join(f"2608.{n:05d}" for n in range(51))])
def test_a_bad_exclude_is_422_naming_it(client, post, catalogue, user, exclude):
    catalogue(paper("2608.00001", D))
    post(event(paper_id="2608.00001", type="save"))
    before = client.get("/v1/me/export", headers=user[1]).get_json()
    response = client.get(f"/v1/recommendations?exclude={exclude}", headers=user[1])
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    assert [e["field"] for e in response.get_json()["errors"]] == ["exclude"]
    assert client.get("/v1/me/export", headers=user[1]).get_json() == before


def test_fifty_excluded_ids_are_accepted(client, user):
    exclude = ",".join(f"2608.{n:05d}" for n in range(50))
    assert client.get(f"/v1/recommendations?exclude={exclude}", headers=user[1]).status_code == 200


def test_opened_papers_come_back_only_with_include_opened(client, post, catalogue, user):
    catalogue(*(paper(f"2608.{n:05d}", D, upvotes=n) for n in range(1, 5)))
    post(event(paper_id="2608.00004", type="save"), event(paper_id="2608.00003"),
         event(paper_id="2608.00002"))
    plain = client.get("/v1/recommendations", headers=user[1]).get_json()
    assert ids(plain["items"]) == ["2608.00001"]
    opened = client.get("/v1/recommendations?include_opened=1", headers=user[1]).get_json()
    assert sorted(ids(opened["items"])) == ["2608.00001", "2608.00002", "2608.00003"]
    response = client.get("/v1/recommendations?include_opened=maybe", headers=user[1])
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["include_opened"]


def test_recommendations_follow_until(client, post, catalogue, user):
    catalogue(*(paper(f"2608.{n:05d}", D - timedelta(days=n), upvotes=10) for n in range(6)))
    post(event(paper_id="2608.00005", type="save"))
    body = client.get(f"/v1/recommendations?days=2&until={D - timedelta(days=3)}",
                      headers=user[1]).get_json()
    assert sorted(ids(body["items"])) == ["2608.00003", "2608.00004"]
    assert body["window"] == {"from": (D - timedelta(days=4)).isoformat(),
                              "until": (D - timedelta(days=3)).isoformat()}
