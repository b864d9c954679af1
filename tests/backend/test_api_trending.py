"""GET /v1/trending against a real Redis: the window, the community's order, what one user
(or N) can move, and the per-token events limit."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import redis

from .conftest import ago, event, ids, make_app, now, paper, trending

D = date(2026, 8, 21)


@pytest.fixture
def app(redis_url, redis_client, tmp_path):
    return make_app(redis_url, tmp_path)


@pytest.fixture
def post(client):
    def send(headers: dict[str, str], *events: dict[str, Any]) -> dict[str, Any]:
        response = client.post("/v1/events", json={"events": list(events)}, headers=headers)
        assert response.status_code == 202, response.get_json()
        return response.get_json()

    return send


def scores(items: list[dict[str, Any]]) -> dict[str, float]:
    return {item["paper_id"]: item["score"] for item in items}


# --- the window -------------------------------------------------------------------------


def test_trending_is_public_and_empty_without_papers(client):
    response = client.get("/v1/trending")
    assert response.status_code == 200
    assert response.get_json()["items"] == []


def test_without_an_import_the_window_ends_today(client, catalogue):
    today = now().date()
    catalogue({"paper_id": "2412.00001", "title": "New", "published_at": f"{today}T08:00:00Z"},
              {"paper_id": "2412.00002", "title": "Old",
               "published_at": f"{today - timedelta(days=10)}T08:00:00Z"})
    assert ids(trending(client, "?days=7")) == ["2412.00001"]
    assert sorted(ids(trending(client, "?days=11"))) == ["2412.00001", "2412.00002"]


def test_the_ranking_cache_keeps_each_window_apart(redis_url, redis_client, tmp_path, catalogue):
    client = make_app(redis_url, tmp_path, TRENDING_CACHE_SECONDS=600).test_client()
    catalogue(paper("2608.00001", D, upvotes=5), paper("2608.00002", D - timedelta(days=1)))
    newest = client.get("/v1/trending?days=1").get_json()
    day_before = client.get(f"/v1/trending?days=1&until={D - timedelta(days=1)}").get_json()
    explicit = client.get(f"/v1/trending?days=1&until={D}").get_json()
    assert ids(newest["items"]) == ids(explicit["items"]) == ["2608.00001"]
    assert ids(day_before["items"]) == ["2608.00002"]
    assert day_before["window"] == {"from": str(D - timedelta(days=1)),
                                    "until": str(D - timedelta(days=1))}
    assert ids(client.get("/v1/trending?days=2").get_json()["items"]) == [
        "2608.00001", "2608.00002"]


def test_papers_age_from_the_windows_last_day(client, catalogue):
    catalogue(paper("2608.00001", D, upvotes=8), paper("2608.00002", D - timedelta(days=3),
                                                        upvotes=8))
    assert scores(trending(client, "?days=7"))["2608.00002"] == pytest.approx(4)
    earlier = trending(client, f"?days=7&until={D - timedelta(days=3)}")
    assert scores(earlier) == {"2608.00002": pytest.approx(8)}


def test_limit_truncates_the_ranking(client, catalogue):
    catalogue(*(paper(f"2608.{n:05d}", D, upvotes=n) for n in range(1, 31)))
    assert len(trending(client)) == 20  # default limit
    assert ids(trending(client, "?limit=5")) == [f"2608.{n:05d}" for n in range(30, 25, -1)]
    assert len(trending(client, "?limit=100")) == 30


# --- the community's order --------------------------------------------------------------


def test_a_user_without_events_sees_a_day_in_upvote_order(client, catalogue):
    upvotes = [163, 3, 45, 0, 12, 88, 7, 7, 1, 30]
    catalogue(*(paper(f"2608.{n:05d}", D, upvotes=v) for n, v in enumerate(upvotes)))
    items = trending(client, "?days=1&limit=100")
    assert [item["upvotes"] for item in items] == sorted(upvotes, reverse=True)
    assert items[0]["paper_id"] == "2608.00000" and items[0]["score"] == pytest.approx(163)
    assert items[0]["title"] == "Paper 2608.00000"


def test_a_few_readers_do_not_put_a_3_upvote_paper_above_a_163_upvote_one(
        client, catalogue, post, make_user):
    catalogue(paper("2608.00001", D, upvotes=163), paper("2608.00002", D, upvotes=3),
              paper("2608.00003", D, upvotes=5))
    for _ in range(4):
        _, headers = make_user()
        post(headers, event(paper_id="2608.00002"), event(paper_id="2608.00002", type="save"))
    items = trending(client)
    assert ids(items) == ["2608.00001", "2608.00002", "2608.00003"]
    assert scores(items)["2608.00002"] == pytest.approx(3 + 4 * (0.25 + 0.75))


def test_older_days_decay_with_the_half_life(client, catalogue):
    catalogue(paper("2608.00001", D, upvotes=100),
              paper("2608.00002", D - timedelta(days=3), upvotes=100))
    got = scores(trending(client))
    assert got["2608.00002"] == pytest.approx(got["2608.00001"] / 2, rel=1e-6)


def test_half_life_is_configurable(redis_url, redis_client, tmp_path, catalogue):
    client = make_app(redis_url, tmp_path, TRENDING_HALF_LIFE_DAYS=6).test_client()
    catalogue(paper("2608.00001", D, upvotes=10),
              paper("2608.00002", D - timedelta(days=3), upvotes=10))
    assert scores(trending(client))["2608.00002"] == pytest.approx(10 * 2 ** -0.5, rel=1e-6)


# --- what readers can move --------------------------------------------------------------


def test_one_user_moves_a_paper_by_one_vote_at_most_whatever_they_send(
        client, catalogue, post, make_user):
    catalogue(paper("2608.00001", D, upvotes=10), paper("2608.00002", D, upvotes=9),
              paper("2608.00003", D, upvotes=8))
    _, headers = make_user()
    target = "2608.00003"
    post(headers, *(event(paper_id=target, ts=ago(minutes=100 - i / 2)) for i in range(100)))
    post(headers, *(event(paper_id=target, type="save", ts=ago(minutes=40 - i / 10))
                    for i in range(100)))
    items = trending(client)
    assert scores(items)[target] == pytest.approx(8 + 1)  # one opener, one saver
    assert ids(items) == ["2608.00001", "2608.00002", target]  # a tie goes to upvotes


@pytest.mark.parametrize("readers", [1, 2, 3])
def test_n_users_move_a_paper_by_n_votes_at_most(client, catalogue, post, make_user, readers):
    catalogue(paper("2608.00001", D, upvotes=10), paper("2608.00002", D, upvotes=8))
    for _ in range(readers):
        _, headers = make_user()
        post(headers, *(event(paper_id="2608.00002") for _ in range(10)),
             event(paper_id="2608.00002", type="save"))
    items = trending(client)
    assert scores(items)["2608.00002"] == pytest.approx(8 + readers)
    assert ids(items)[0] == ("2608.00002" if 8 + readers > 10 else "2608.00001")


def test_an_unsave_takes_the_save_back(client, catalogue, post, make_user):
    catalogue(paper("2608.00001", D, upvotes=2))
    _, headers = make_user()
    post(headers, event(paper_id="2608.00001", type="save", ts=ago(days=2)))
    post(headers, event(paper_id="2608.00001", type="save", ts=ago(days=1)))
    assert scores(trending(client))["2608.00001"] == pytest.approx(2.75)
    post(headers, event(paper_id="2608.00001", type="unsave", ts=ago(hours=1)))
    assert scores(trending(client))["2608.00001"] == pytest.approx(2)


@pytest.mark.parametrize("weights", [(0.5, 0.75), (-0.1, 0.5), (0.25, 1.5)])
def test_reader_weights_worth_more_than_one_upvote_are_refused(redis_url, tmp_path, weights):
    with pytest.raises(ValueError, match="TRENDING_WEIGHT_OPEN"):
        make_app(redis_url, tmp_path, TRENDING_WEIGHT_OPEN=weights[0],
                 TRENDING_WEIGHT_SAVE=weights[1])


# --- papers known from events only ------------------------------------------------------


def test_a_made_up_paper_stays_private_to_the_user_who_named_it(client, catalogue, post,
                                                               make_user):
    catalogue(paper("2608.00001", D, upvotes=6))
    _, author = make_user()
    made_up = "2412.99999"
    title = "<img src=x onerror=alert(1)> FREE GPUs"
    post(author, *(event(paper_id=made_up, paper={"title": title}) for _ in range(99)),
         event(paper_id=made_up, type="save", paper={"title": title}))
    _, other = make_user()
    post(other, event(paper_id=made_up, type="save"))

    assert ids(trending(client, "?days=90&limit=100")) == ["2608.00001"]
    assert client.get(f"/v1/papers/{made_up}").status_code == 404
    assert client.get("/v1/saved", headers=other).get_json()["items"][0]["title"] is None
    mine = client.get("/v1/saved", headers=author).get_json()["items"]
    assert [(item["paper_id"], item["title"]) for item in mine] == [(made_up, title)]
    export = client.get("/v1/me/export", headers=author).get_json()
    assert export["saved"][0]["title"] == title and export["titles"] == {made_up: title}
    recommended = client.get("/v1/recommendations?days=90", headers=other).get_json()
    assert made_up not in ids(recommended["items"])

    # an import confirms the paper: from then on it is public, with the imported title,
    # and its readers count
    catalogue(paper(made_up, D, upvotes=1, title="The real title"))
    items = trending(client, "?days=90")
    assert scores(items)[made_up] == pytest.approx(1 + 0.25 + 2 * 0.75)
    assert items[ids(items).index(made_up)]["title"] == "The real title"
    assert client.get("/v1/saved", headers=author).get_json()["items"][0]["title"] \
        == "The real title"


# --- the events limit counts events -----------------------------------------------------


@pytest.fixture(params=["single", "cluster"])
def limited_client(request, redis_url, tmp_path):
    from backend import create_app
    from backend.store import connect

    url = redis_url if request.param == "single" else request.getfixturevalue("redis_cluster_url")
    client = connect(url)
    nodes = {"target_nodes": redis.RedisCluster.PRIMARIES} if request.param == "cluster" else {}
    client.flushdb(**nodes)
    app = create_app({"TESTING": True, "REDIS_URL": url, "DATA_DIR": str(tmp_path),
                      "RATELIMIT_ENABLED": True})  # the default limits
    yield app.test_client()
    client.flushdb(**nodes)
    client.close()


def test_the_events_limit_counts_events_not_requests(limited_client):
    token = limited_client.post("/v1/users").get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}

    def send(count: int):
        batch = [event(paper_id=f"2412.{i:05d}") for i in range(count)]
        return limited_client.post("/v1/events", json={"events": batch}, headers=headers)

    assert [send(100).status_code for _ in range(6)] == [202] * 6  # 600 events a minute
    refused = send(1)
    assert refused.status_code == 429 and refused.mimetype == "application/problem+json"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    export = limited_client.get("/v1/me/export", headers=headers).get_json()
    assert len(export["events"]) == 600  # the refused event was not applied
