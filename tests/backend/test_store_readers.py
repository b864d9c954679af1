"""What one user's events can do to shared data, on a single Redis and on Redis Cluster
(where the per-user script and the global counts are two steps): each user counts once per
paper in trending, events never write the catalogue, a duplicate changes nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis

from backend import keys
from backend.config import load_config
from backend.store import Event, Store, connect

from .conftest import flush

NOW = datetime.now(UTC)


@pytest.fixture(params=["single", "cluster"])
def store(request, redis_url):
    url = redis_url if request.param == "single" else request.getfixturevalue("redis_cluster_url")
    client = connect(url)
    flush(client)
    yield Store(client, load_config({"REDIS_URL": url}))
    flush(client)
    client.close()


def dump(client: redis.Redis) -> dict[str, object]:
    """Every key and its value (streams and counters included)."""
    out: dict[str, object] = {}
    for key in client.scan_iter(match="*"):
        kind = client.type(key)
        if kind == "hash":
            out[key] = client.hgetall(key)
        elif kind == "zset":
            out[key] = client.zrange(key, 0, -1, withscores=True)
        elif kind == "stream":
            out[key] = client.xrange(key)
        elif kind == "set":
            out[key] = sorted(client.smembers(key))
        else:
            out[key] = client.get(key)
    return out


def ev(kind: str, paper_id: str, minutes_ago: float = 0, title: str | None = None) -> Event:
    return Event(id=str(uuid.uuid4()), type=kind, paper_id=paper_id,
                 ts=NOW - timedelta(minutes=minutes_ago), title=title)


def test_one_user_counts_once_per_paper_whatever_they_send(store):
    user_id, _ = store.create_user(NOW)
    opens = [ev("open", "2412.00001", minutes_ago=100 - i) for i in range(100)]
    toggles = [ev("save" if i % 2 == 0 else "unsave", "2412.00001", minutes_ago=50 - i / 10)
               for i in range(99)]  # ends on a save
    for start in range(0, 100, 50):
        store.apply_events(user_id, opens[start:start + 50], NOW)
    store.apply_events(user_id, toggles, NOW)
    store.apply_events(user_id, [ev("save", "2412.00001") for _ in range(20)], NOW)
    assert store.reader_counts(["2412.00001"])[:2] == ([1], [1])

    store.apply_events(user_id, [ev("unsave", "2412.00001")], NOW)
    assert store.reader_counts(["2412.00001"])[:2] == ([1], [0])


def test_n_users_count_n_times(store):
    for _ in range(3):
        user_id, _ = store.create_user(NOW)
        store.apply_events(user_id, [ev("open", "2412.00001"), ev("open", "2412.00001"),
                                     ev("save", "2412.00001"), ev("save", "2412.00002")], NOW)
    assert store.reader_counts(["2412.00001", "2412.00002"])[:2] == ([3, 0], [3, 3])


def test_deleting_a_user_takes_their_readings_back(store):
    stays, _ = store.create_user(NOW)
    leaves, _ = store.create_user(NOW)
    for user_id in (stays, leaves):
        store.apply_events(user_id, [ev("open", "2412.00001"), ev("save", "2412.00001")], NOW)
    store.apply_events(leaves, [ev("save", "2412.00002")], NOW)
    store.delete_user(leaves)
    store.delete_user(leaves)  # twice: taken back once
    assert store.reader_counts(["2412.00001", "2412.00002"])[:2] == ([1, 0], [1, 0])


def test_events_never_write_the_catalogue(store):
    user_id, _ = store.create_user(NOW)
    store.apply_events(user_id, [ev("open", "2412.99999", title="Made up"),
                                 ev("save", "2412.99998", title="Made up too")], NOW)
    assert store.paper("2412.99999") is None and store.paper("2412.99998") is None
    assert store.catalogue_size() == 0
    assert store.papers_since(NOW.date() - timedelta(days=400)) == []
    assert not any(key.startswith(keys.paper_prefix()) for key in store.client.scan_iter("*"))


def test_a_duplicate_event_changes_nothing(store):
    store.upsert_papers([{"paper_id": "2412.00001", "title": "Imported",
                          "daily_date": NOW.date().isoformat(), "upvotes": 3}])
    user_id, _ = store.create_user(NOW)
    batch = [ev("open", "2412.00001"), ev("save", "2412.00001", title="A title"),
             ev("open", "2412.99999"), ev("dismiss", "2412.00002")]
    assert store.apply_events(user_id, batch, NOW).accepted == 4
    before = dump(store.client)
    retried = [Event(id=e.id, type=e.type, paper_id=e.paper_id, ts=e.ts, title="Other title")
               for e in batch]
    result = store.apply_events(user_id, retried, NOW + timedelta(seconds=1))
    assert (result.accepted, result.duplicates) == (0, 4)
    assert dump(store.client) == before


def test_a_store_of_the_older_layout_is_upgraded_once(store):
    client = store.client
    store.upsert_papers([{"paper_id": "2412.00001", "title": "Imported",
                          "daily_date": NOW.date().isoformat(), "upvotes": 3}])
    client.hset(keys.paper("2412.00001"), "first_seen", "2024-12-01")
    # what events wrote into the catalogue and trending in the older layout
    client.zadd(keys.PAPERS_BY_DAY, {"2412.99999": 20000})
    client.hset(keys.paper("2412.99999"), mapping={"title": "Made up", "first_seen": "2024-12-01"})
    client.zadd(keys.OLDER_TRENDING_KEYS[0], {"2412.99999": 101.0})
    client.set(keys.OLDER_TRENDING_KEYS[1], "1704067200")
    for kinds in (["open", "save"], ["open"], ["save"]):
        user_id, _ = store.create_user(NOW)
        store.apply_events(user_id, [ev(kind, paper_id) for kind in kinds
                                     for paper_id in ("2412.00001", "2412.99999")], NOW)
    counted = store.reader_counts(["2412.00001", "2412.99999"])
    client.delete(keys.TRENDING_OPENERS, keys.TRENDING_SAVERS)  # no counts in that layout

    assert store.upgrade_data() == {"papers_forgotten": 1, "users_counted": 3}
    assert store.reader_counts(["2412.00001", "2412.99999"]) == counted
    assert store.paper("2412.99999") is None and store.catalogue_size() == 1
    assert "first_seen" not in store.paper("2412.00001")
    assert not any(client.exists(key) for key in keys.OLDER_TRENDING_KEYS)
    assert store.upgrade_data() is None


def test_stored_weights_of_the_older_layout_are_removed_once(store):
    """Each user's state was always stored next to the weights: the upgrade removes the
    weights, and the weights read afterwards are the state's with the current settings."""
    client = store.client
    first, _ = store.create_user(NOW)
    second, _ = store.create_user(NOW)
    store.apply_events(first, [ev("open", "2412.00001"), ev("save", "2412.00002")], NOW)
    client.hset(keys.user(first, "weights"), mapping={"2412.00001": "1", "2412.00002": "5"})
    client.hset(keys.user(second, "weights"), "2412.00003", "1")  # a stale weight, no state
    client.hdel(keys.META, keys.LAYOUT_FIELD)  # as written by the older layout

    assert store.upgrade_data() == {"weights_removed": 2}
    assert not client.exists(keys.user(first, "weights"), keys.user(second, "weights"))
    assert store.interaction_weights(first) == {"2412.00001": 1.0, "2412.00002": 5.0}
    assert store.interaction_weights(second) == {}
    assert store.upgrade_data() is None
