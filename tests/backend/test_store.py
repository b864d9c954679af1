"""backend.store.Store against a real Redis: users, events, lists, catalogue, trending signals."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from backend import keys
from backend.config import load_config
from backend.store import (
    Event,
    RateLimited,
    RateWindow,
    Store,
    UserGone,
    day_from_number,
    day_number,
    hash_token,
    weights_from_state,
)

NOW = datetime.now(UTC)


@pytest.fixture
def store(redis_client, redis_url):
    return Store(redis_client, load_config({"REDIS_URL": redis_url}))


@pytest.fixture
def uid(store):
    return store.create_user(NOW)[0]


def ev(kind: str = "save", paper_id: str = "2412.01824", minutes_ago: float = 0,
       title: str | None = None, source: str = "") -> Event:
    return Event(id=str(uuid.uuid4()), type=kind, paper_id=paper_id,
                 ts=NOW - timedelta(minutes=minutes_ago), source=source, title=title)


# --- helpers ----------------------------------------------------------------------------


def test_day_numbers_round_trip():
    assert day_number(date(1970, 1, 2)) == 1
    assert day_from_number(day_number(date(2024, 12, 3))) == date(2024, 12, 3)


def test_key_templates_share_a_hash_tag_per_user():
    assert keys.user("abc", "saved") == "pf:u:{abc}:saved"
    assert all(k.startswith("pf:u:{abc}:") for k in keys.user_keys("abc"))
    with pytest.raises(ValueError):
        keys.user("abc", "nope")


# --- users ------------------------------------------------------------------------------


def test_create_user_stores_only_the_token_hash(store, redis_client):
    user_id, token = store.create_user(NOW)
    assert redis_client.get(keys.token(hash_token(token))) == f"{user_id}:{hash_token(token)}"
    assert redis_client.hget(keys.user(user_id, "meta"), "token_hash") == hash_token(token)
    assert redis_client.sismember(keys.USERS, user_id)
    assert not any(token in k for k in redis_client.scan_iter())
    assert store.user_for_token(token) == user_id
    assert store.user_for_token(token + "x") is None


def test_a_token_key_pointing_at_another_user_is_refused(store, redis_client):
    a, token_a = store.create_user(NOW)
    b, _ = store.create_user(NOW)
    redis_client.set(keys.token(hash_token(token_a)), b)  # forged mapping
    assert store.user_for_token(token_a) is None


def test_user_and_stamp_authenticates_and_follows_the_users_events(store, redis_client):
    user_id, token = store.create_user(NOW)
    assert store.user_and_stamp(token) == (user_id, "0-0")
    assert store.user_and_stamp(token + "x") is None
    store.apply_events(user_id, [ev("open")], NOW)
    _, first = store.user_and_stamp(token)
    assert first != "0-0" and first == store.user_stamp(user_id)
    store.apply_events(user_id, [ev("save")], NOW)
    assert store.user_and_stamp(token)[1] not in ("0-0", first)
    other, _ = store.create_user(NOW)
    redis_client.set(keys.token(hash_token(token)), f"{other}:{'0' * 64}")  # forged record
    assert store.user_and_stamp(token) is None
    redis_client.set(keys.token(hash_token(token)), "no-separator")
    assert store.user_and_stamp(token) is None


def test_delete_user_removes_all_user_keys(store, redis_client, uid):
    store.apply_events(uid, [ev("open"), ev("save"), ev("dismiss", "2412.00002")], NOW)
    token_hash = redis_client.hget(keys.user(uid, "meta"), "token_hash")
    store.delete_user(uid)
    assert not any(redis_client.exists(k) for k in keys.user_keys(uid))
    assert not redis_client.exists(keys.token(token_hash))
    assert list(store.iter_user_ids()) == []


def test_events_for_a_deleted_user_raise_user_gone(store, uid):
    store.delete_user(uid)
    with pytest.raises(UserGone):
        store.apply_events(uid, [ev()], NOW)


def test_iter_user_ids(store):
    created = {store.create_user(NOW)[0] for _ in range(5)}
    assert set(store.iter_user_ids(batch=2)) == created


# --- events -----------------------------------------------------------------------------


def test_apply_events_counts_duplicates(store, uid):
    events = [ev("open"), ev("save")]
    assert store.apply_events(uid, events, NOW).accepted == 2
    again = store.apply_events(uid, events, NOW)
    assert (again.accepted, again.duplicates) == (0, 2)


def test_token_scripts_still_run_after_a_script_flush(store, redis_client):
    user_id, token = store.create_user(NOW)
    assert store.apply_events_of_token(token, [ev("open")], NOW).accepted == 1
    redis_client.script_flush()  # e.g. a restarted Redis without persistence of scripts
    result = store.apply_events_of_token(token, [ev("save")], NOW)
    assert (result.accepted, result.duplicates) == (1, 0)
    assert [row["paper_id"] for row in store.saved(user_id)] == ["2412.01824"]
    assert store.apply_events_of_token("not-a-token", [ev("open")], NOW) is None
    redis_client.script_flush()
    assert store.user_and_stamp(token) == (user_id, store.user_stamp(user_id))


def test_a_remembered_token_of_a_deleted_user_applies_nothing(store, redis_client):
    user_id, token = store.create_user(NOW)
    assert store.apply_events_of_token(token, [ev("open")], NOW).accepted == 1  # remembered
    store.delete_user(user_id)
    assert store.apply_events_of_token(token, [ev("open")], NOW) is None
    assert not any(redis_client.exists(key) for key in keys.user_keys(user_id))


def test_windows_count_each_event_once_whether_the_token_is_remembered_or_not(store,
                                                                              redis_client):
    if not store.counts_rate_windows:
        pytest.skip("on Redis Cluster the limits library counts the windows")
    user_id, token = store.create_user(NOW)
    window = RateWindow(keys.rate_window("events-token", "t:test", "10/1minute"), 10, 60)
    assert store.apply_events_of_token(token, [ev("open"), ev("open")], NOW, [window])
    assert redis_client.get(window.key) == "2"  # not remembered yet: rate_limit.lua counted
    assert store.apply_events_of_token(token, [ev("open") for _ in range(3)], NOW, [window])
    assert redis_client.get(window.key) == "5"  # remembered: the event script counted
    assert store.apply_events_of_token("unknown", [ev("open")], NOW, [window]) is None
    assert redis_client.get(window.key) == "6"
    with pytest.raises(RateLimited):
        store.apply_events_of_token(token, [ev("open") for _ in range(5)], NOW, [window])
    assert redis_client.hget(keys.user(user_id, "opens"), "2412.01824") == "5"


def test_interaction_weights(store, uid):
    store.apply_events(uid, [ev("open", "2412.00001") for _ in range(5)], NOW)
    store.apply_events(uid, [ev("open", "2412.00002"), ev("save", "2412.00002"),
                             ev("save", "2412.00003"), ev("open", "2412.00004"),
                             ev("dismiss", "2412.00004")], NOW)
    # opens are capped at 3 (x1.0); a save adds 5; a dismissal zeroes the weight
    assert store.interaction_weights(uid) == {"2412.00001": 3.0, "2412.00002": 6.0,
                                              "2412.00003": 5.0}
    store.apply_events(uid, [ev("unsave", "2412.00003")], NOW)
    assert "2412.00003" not in store.interaction_weights(uid)
    batches = list(store.iter_interaction_weights(batch=1))
    assert batches == [[(uid, {"2412.00001": 3.0, "2412.00002": 6.0})]]
    assert store.user_state(uid).weights == {"2412.00001": 3.0, "2412.00002": 6.0}
    assert store.export(uid)["interaction_weights"] == {"2412.00001": 3.0, "2412.00002": 6.0}


def test_weights_follow_the_settings_of_the_reader_not_those_of_the_writer(store, uid):
    """Only the state is stored: a store with other weight settings reads other weights
    from the same data (what `paperfeed train` and serving see after a settings change)."""
    store.apply_events(uid, [ev("open", "2412.00001") for _ in range(4)]
                       + [ev("open", "2412.00002"), ev("save", "2412.00002")], NOW)
    changed = Store(store.client, {**store.settings, "WEIGHT_OPEN": 0.5, "WEIGHT_OPEN_CAP": 2,
                                   "WEIGHT_SAVE": 2.0})
    expected = {"2412.00001": 1.0, "2412.00002": 2.5}
    assert changed.interaction_weights(uid) == expected
    assert changed.user_state(uid).weights == expected
    assert list(changed.iter_interaction_weights()) == [[(uid, expected)]]
    assert store.interaction_weights(uid) == {"2412.00001": 3.0, "2412.00002": 6.0}
    assert not store.client.exists(keys.user(uid, "weights"))


def test_saved_and_excluded(store, uid):
    store.apply_events(uid, [ev("save", "2412.00001", minutes_ago=5),
                             ev("save", "2412.00002", minutes_ago=1),
                             ev("dismiss", "2412.00003")], NOW)
    assert [s["paper_id"] for s in store.saved(uid)] == ["2412.00002", "2412.00001"]
    assert store.excluded_papers(uid) == {"2412.00001", "2412.00002", "2412.00003"}
    assert store.dismissed(uid) == {"2412.00003"}


def test_a_later_save_takes_back_a_dismissal_but_an_earlier_one_does_not(store, uid):
    store.apply_events(uid, [ev("dismiss", "2412.00001", minutes_ago=5),
                             ev("save", "2412.00001", minutes_ago=1),
                             ev("dismiss", "2412.00002", minutes_ago=1),
                             ev("save", "2412.00002", minutes_ago=5)], NOW)
    assert store.dismissed(uid) == {"2412.00002"}


def test_weights_follow_opens_up_to_the_cap_and_a_save_after_a_dismissal(store, uid):
    cap = int(store.settings["WEIGHT_OPEN_CAP"])
    store.apply_events(uid, [ev("open", "2412.00001") for _ in range(cap + 2)], NOW)
    open_weight = float(store.settings["WEIGHT_OPEN"])
    assert store.interaction_weights(uid) == {"2412.00001": pytest.approx(cap * open_weight)}
    store.apply_events(uid, [ev("save", "2412.00002", minutes_ago=3),
                             ev("dismiss", "2412.00002", minutes_ago=2)], NOW)
    assert "2412.00002" not in store.interaction_weights(uid)
    # a repeated save ("kept": already saved) still takes the dismissal back
    store.apply_events(uid, [ev("save", "2412.00002", minutes_ago=1)], NOW)
    assert store.interaction_weights(uid)["2412.00002"] == pytest.approx(
        float(store.settings["WEIGHT_SAVE"]))


def test_weights_from_state():
    settings = {"WEIGHT_OPEN": 1.0, "WEIGHT_OPEN_CAP": 3, "WEIGHT_SAVE": 5.0}
    opens = {"a": "1", "b": "7", "c": "2", "d": "1"}
    # b: capped opens; c: dismissed (whatever else); e: saved, never opened; d+e: both
    assert weights_from_state(opens, ["d", "e", "c"], ["c"], settings) == {
        "a": 1.0, "b": 3.0, "d": 6.0, "e": 5.0}
    assert weights_from_state({"a": "2"}, [], [], {**settings, "WEIGHT_OPEN": 0}) == {}


def test_old_events_leave_the_log_and_the_id_memory(store, uid, redis_client):
    store.apply_events(uid, [ev("open")], NOW)
    later = NOW + timedelta(days=100)
    store.apply_events(uid, [Event(id=str(uuid.uuid4()), type="open", paper_id="2412.00002",
                                   ts=later)], later)
    # the id memory drops ids older than 31 days; the event log is trimmed by age (approx.)
    assert redis_client.zcard(keys.user(uid, "eids")) == 1


def test_reader_counts_follow_effects(store, uid):
    store.apply_events(uid, [ev("open", "2412.00001"), ev("save", "2412.00002"),
                             ev("dismiss", "2412.00003")], NOW)
    openers, savers, upvotes = store.reader_counts(["2412.00001", "2412.00002", "2412.00003",
                                                    "2412.99999"])
    assert openers == [1, 0, 0, 0] and savers == [0, 1, 0, 0]
    assert upvotes == [None, None, None, None]
    assert store.reader_counts([]) == ([], [], [])


# --- catalogue --------------------------------------------------------------------------


def record(paper_id: str, day: str | None, upvotes: int | None = 1, **extra):
    return {"paper_id": paper_id, "title": f"T {paper_id}", "daily_date": day,
            "upvotes": upvotes, "authors": ["A", "B"], "ai_keywords": None, **extra}


def test_upsert_counts_and_never_duplicates(store):
    first = store.upsert_papers([record("2412.00001", "2024-12-03"),
                                 record("2412.00002", "2024-12-04")])
    assert (first.created, first.updated) == (2, 0)
    again = store.upsert_papers([record("2412.00001", "2024-12-03", upvotes=50),
                                 record("2412.00003", "2024-12-02")])
    assert (again.created, again.updated) == (1, 1)
    assert store.catalogue_size() == 3
    assert store.paper("2412.00001")["upvotes"] == 50
    assert store.upsert_papers([]).created == 0


def test_none_fields_keep_stored_values(store):
    store.upsert_papers([record("2412.00001", "2024-12-03", abstract="Abs.",
                                ai_keywords=["k"], num_comments=3)])
    store.upsert_papers([{"paper_id": "2412.00001", "title": None, "abstract": None,
                          "upvotes": 9, "daily_date": None}])
    paper = store.paper("2412.00001")
    assert paper["title"] == "T 2412.00001" and paper["abstract"] == "Abs."
    assert paper["authors"] == ["A", "B"] and paper["ai_keywords"] == ["k"]
    assert paper["upvotes"] == 9 and paper["num_comments"] == 3
    assert paper["daily_date"] == "2024-12-03"


def test_newest_daily_date_only_moves_forward(store):
    assert store.newest_daily_date() is None
    store.upsert_papers([record("2412.00001", "2024-12-03")])
    store.upsert_papers([record("2411.00001", "2024-11-03")])
    assert store.newest_daily_date() == date(2024, 12, 3)
    store.upsert_papers([record("2412.00009", "2024-12-09")])
    assert store.newest_daily_date() == date(2024, 12, 9)


def test_papers_without_daily_date_use_published_day(store):
    store.upsert_papers([record("2412.00001", None, published_at="2024-12-01T10:00:00Z")])
    assert store.papers_since(date(2024, 12, 1)) == [("2412.00001", date(2024, 12, 1))]
    assert store.newest_daily_date() is None


def test_papers_titles_and_iteration(store):
    store.upsert_papers([record(f"2412.{n:05d}", "2024-12-03") for n in range(7)])
    assert store.titles(["2412.00001", "2412.99999"]) == {"2412.00001": "T 2412.00001",
                                                          "2412.99999": None}
    entries = store.papers(["2412.00002", "2412.99999"], fields=("title", "daily_date"))
    assert entries == [{"paper_id": "2412.00002", "title": "T 2412.00002",
                        "daily_date": "2024-12-03"}, None]
    assert store.paper("2412.99999") is None
    chunks = list(store.iter_paper_ids(batch=3))
    assert [len(c) for c in chunks] == [3, 3, 1]


def test_model_pointer_and_ping(store):
    assert store.current_model_version() is None
    store.set_current_model_version("20241203-1")
    assert store.current_model_version() == "20241203-1"
    assert store.ping()


def test_settings_differing_from_names_what_the_server_has_otherwise(store, redis_client):
    name = "hash-max-ziplist-entries"
    original = redis_client.config_get(name)[name]
    try:
        redis_client.config_set(name, "512")
        assert store.settings_differing_from({name: "128"}) == {name: "512"}
        redis_client.config_set(name, "128")
        assert store.settings_differing_from({name: "128"}) == {}
    finally:
        redis_client.config_set(name, original)
