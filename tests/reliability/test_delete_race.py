"""Promise 7: after DELETE /v1/me returns, nothing about the user exists, even when other
requests of that user were in flight."""

from __future__ import annotations

import threading

import pytest

from tests.reliability.helpers import event

pytestmark = pytest.mark.slow

TRIES = 50
IN_FLIGHT = 6


def race_delete(app, headers: dict[str, str]) -> list[int]:
    """DELETE /v1/me while IN_FLIGHT recommendation requests of the user run; their statuses."""
    start = threading.Barrier(IN_FLIGHT + 1)
    statuses: list[int] = []

    def recommend(limit: int) -> None:
        own = app.test_client()
        start.wait()
        # distinct limits: every request computes its own list and shares it
        statuses.append(own.get(f"/v1/recommendations?limit={limit}", headers=headers).status_code)

    threads = [threading.Thread(target=recommend, args=(limit,)) for limit in range(1, IN_FLIGHT + 1)]
    for thread in threads:
        thread.start()
    start.wait()
    assert app.test_client().delete("/v1/me", headers=headers).status_code == 204
    for thread in threads:
        thread.join()
    return statuses


def test_deletion_is_final_with_recommendations_in_flight(app, redis_client):
    leftovers: list[tuple[int, list[str]]] = []
    client = app.test_client()
    for attempt in range(TRIES):
        body = client.post("/v1/users").get_json()
        user_id, headers = body["user_id"], {"Authorization": f"Bearer {body['token']}"}
        events = [event("open", f"2412.{10000 + i}", title=f"Paper {i}") for i in range(5)]
        assert client.post("/v1/events", headers=headers, json={"events": events}).status_code == 202
        statuses = race_delete(app, headers)
        assert set(statuses) <= {200, 401}, statuses
        found = sorted(redis_client.scan_iter(f"*{user_id}*", count=1000))
        if found:
            leftovers.append((attempt, found))
    assert leftovers == [], f"{len(leftovers)} of {TRIES} deletions left keys: {leftovers[:3]}"
