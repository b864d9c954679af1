"""The Lua scripts of backend/ one by one, each on a single Redis and on a Redis Cluster.

Every key a script touches arrives in KEYS: a script run here changes no other key, and on
the cluster (where a script may only use keys of the node's slots) it runs at all. The
paths of :class:`backend.store.Store` that differ between the two (trending's reader counts
in the event script or after it) are compared at the end.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib import resources

import pytest
import redis

from backend import keys
from backend.config import load_config
from backend.store import (
    EVENT_ID_MEMORY,
    Event,
    Store,
    connect,
    hash_token,
    load_script,
    script_text,
    to_ms,
)

from .conftest import flush

NOW = datetime.now(UTC)
SCRIPTS = ("apply_events", "rate_limit", "delete_user", "share_list", "replace_model_version")
LIBRARIES = ("rate_windows",)  # included by scripts: tested through them


@pytest.fixture(params=["single", "cluster"])
def any_redis(request, redis_url) -> Iterator[redis.Redis]:
    """A flushed client of a single Redis, then of a Redis Cluster."""
    if request.param == "cluster":
        url = request.getfixturevalue("redis_cluster_url")
    elif redis_url.startswith("redis+cluster://"):
        pytest.skip("the session's Redis is a cluster")
    else:
        url = redis_url
    client = connect(url)
    flush(client)
    yield client
    flush(client)
    client.close()


def snapshot(client: redis.Redis) -> dict[str, bytes]:
    """Every key with its serialised value."""
    found = {}
    for key in client.scan_iter("*"):
        found[key] = client.dump(key)
    return found


def changed_keys(before: dict[str, bytes], after: dict[str, bytes]) -> set[str]:
    return {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}


def make_user(client: redis.Redis) -> str:
    user_id = uuid.uuid4().hex
    client.hset(keys.user(user_id, "meta"), mapping={"created_at": NOW.isoformat()})
    return user_id


def event_args(*events: tuple[str, str, float], token_hash: str = "",
               windows: tuple[tuple[int, int], ...] = ()) -> list:
    """ARGV of apply_events.lua for ``(type, paper id, minutes ago)`` events (and windows of
    ``(amount, seconds)``)."""
    args: list = [to_ms(NOW), 30 * 86_400_000, round(EVENT_ID_MEMORY.total_seconds() * 1000),
                  token_hash, len(windows), *(v for window in windows for v in window)]
    for kind, paper_id, minutes_ago in events:
        ts = NOW - timedelta(minutes=minutes_ago)
        args += [uuid.uuid4().hex, kind, paper_id, to_ms(ts), ts.isoformat(), "list",
                 "A title" if kind == "open" else ""]
    return args


def test_every_script_is_tested_here():
    files = {path.name for path in resources.files("backend").iterdir()
             if path.name.endswith(".lua")}
    assert files == {f"{name}.lua" for name in SCRIPTS + LIBRARIES}


def test_an_include_line_is_replaced_by_the_library():
    library = resources.files("backend").joinpath("rate_windows.lua").read_text()
    for name in ("apply_events", "rate_limit"):
        text = script_text(name)
        assert text.startswith(library) and "#include" not in text
    assert script_text("share_list") == resources.files("backend").joinpath(
        "share_list.lua").read_text()


def test_apply_events_touches_only_its_keys_and_reports_effects(any_redis):
    client = any_redis
    user_id = make_user(client)
    other = make_user(client)
    script = load_script(client, "apply_events")
    script_keys = keys.user_state_keys(user_id)
    counts_readers = not isinstance(client, redis.RedisCluster)
    if counts_readers:  # trending's keys are in another slot: a single Redis only
        script_keys += [keys.TRENDING_OPENERS, keys.TRENDING_SAVERS]
    before = snapshot(client)
    batch = event_args(("open", "2412.00001", 9), ("open", "2412.00001", 8),
                       ("save", "2412.00002", 7), ("save", "2412.00002", 6),
                       ("dismiss", "2412.00002", 5), ("save", "2412.00002", 4),
                       ("unsave", "2412.00002", 3), ("save", "2412.00003", 10),
                       ("unsave", "2412.00003", 12), ("dismiss", "2412.00004", 2))
    effects = script(keys=script_keys, args=batch)
    assert effects == ["opened", "open", "saved", "kept", "dismissed", "kept", "unsaved",
                       "saved", "stale", "dismissed"]
    assert changed_keys(before, snapshot(client)) <= set(script_keys)
    assert client.hgetall(keys.user(user_id, "opens")) == {"2412.00001": "2"}
    assert client.zrange(keys.user(user_id, "saved"), 0, -1) == ["2412.00003"]
    # the save after the dismissal took it back
    assert client.zrange(keys.user(user_id, "dismissed"), 0, -1) == ["2412.00004"]
    assert client.hgetall(keys.user(user_id, "titles")) == {"2412.00001": "A title"}
    assert client.xlen(keys.user(user_id, "events")) == 10
    if counts_readers:
        assert client.zrange(keys.TRENDING_OPENERS, 0, -1, withscores=True) == [
            ("2412.00001", 1.0)]
        assert client.zrange(keys.TRENDING_SAVERS, 0, -1, withscores=True) == [
            ("2412.00003", 1.0)]
    assert script(keys=script_keys, args=batch) == ["dup"] * 10
    assert not client.exists(*keys.user_state_keys(other)[1:])


def test_apply_events_refuses_a_user_that_does_not_exist(any_redis):
    client = any_redis
    script = load_script(client, "apply_events")
    with pytest.raises(redis.ResponseError, match="NOUSER"):
        script(keys=keys.user_state_keys("0" * 32), args=event_args(("open", "2412.00001", 1)))
    assert snapshot(client) == {}


def test_apply_events_counts_windows_and_checks_the_token_first(any_redis):
    client = any_redis
    user_id = make_user(client)
    client.hset(keys.user(user_id, "meta"), "token_hash", hash_token("secret"))
    script = load_script(client, "apply_events")
    window = keys.rate_window("events-token", f"{{{user_id}}}", "3/1minute")  # the user's slot
    script_keys = [*keys.user_state_keys(user_id), window]
    one_open = ("open", "2412.00001", 1)
    with pytest.raises(redis.ResponseError, match="NOTOKEN"):
        script(keys=script_keys, args=event_args(one_open, token_hash=hash_token("guess"),
                                                 windows=((3, 60),)))
    assert client.get(window) == "1"  # counted whether the token is right or not
    assert script(keys=script_keys, args=event_args(
        one_open, one_open, token_hash=hash_token("secret"), windows=((3, 60),))) == [
            "opened", "open"]
    with pytest.raises(redis.ResponseError, match=r"^RATELIMIT 1 \d+$"):
        script(keys=script_keys, args=event_args(one_open, token_hash=hash_token("secret"),
                                                 windows=((3, 60),)))
    assert client.hget(keys.user(user_id, "opens"), "2412.00001") == "2"
    client.delete(keys.user(user_id, "meta"))
    with pytest.raises(redis.ResponseError, match="NOTOKEN"):
        script(keys=keys.user_state_keys(user_id), args=event_args(
            one_open, token_hash=hash_token("secret")))


def test_rate_limit_counts_windows_up_to_the_first_exceeded(any_redis):
    client = any_redis
    script = load_script(client, "rate_limit")
    # on a cluster one call counts windows of one slot: here they share a hash tag
    window_keys = [keys.rate_window("events-token", "{t:abc}", "3/1minute"),
                   keys.rate_window("events-token", "{t:abc}", "5/1hour")]
    args = [2, 3, 60, 5, 3600]
    assert script(keys=window_keys, args=args) is None
    with pytest.raises(redis.ResponseError, match=r"^RATELIMIT 1 \d+$"):
        script(keys=window_keys, args=args)
    assert [int(client.get(key)) for key in window_keys] == [4, 2]  # the second not counted
    assert 0 < client.ttl(window_keys[0]) <= 60 and 3540 < client.ttl(window_keys[1]) <= 3600
    day_key = keys.rate_window("events-token", "{t:abc}", "100/1day")
    with pytest.raises(redis.ResponseError, match=r"^RATELIMIT 2 \d+$"):
        script(keys=[day_key, window_keys[1]], args=[4, 100, 86400, 5, 3600])
    assert [int(client.get(key)) for key in (day_key, window_keys[1])] == [4, 6]
    assert set(snapshot(client)) == {*window_keys, day_key}


def test_rate_limit_reads_the_token_record_after_the_windows(any_redis):
    client = any_redis
    script = load_script(client, "rate_limit")
    window = keys.rate_window("events-token", "{t:abc}", "3/1minute")
    token_key = "pf:token:{t:abc}"  # the window's slot, for the cluster
    assert script(keys=[window, token_key], args=[1, 3, 60]) is None
    client.set(token_key, "user:hash")
    assert script(keys=[window, token_key], args=[1, 3, 60]) == "user:hash"
    with pytest.raises(redis.ResponseError, match=r"^RATELIMIT 1 \d+$"):
        script(keys=[window, token_key], args=[2, 3, 60])
    assert script(keys=[token_key], args=[1]) == "user:hash"  # no window
    assert set(snapshot(client)) == {window, token_key}


def test_delete_user_deletes_every_key_once_and_returns_what_trending_counted(any_redis):
    client = any_redis
    user_id = make_user(client)
    client.hset(keys.user(user_id, "opens"), mapping={"2412.00001": 2, "2412.00002": 1})
    client.zadd(keys.user(user_id, "saved"), {"2412.00002": 1})
    client.hset(keys.user(user_id, "weights"), "2412.00001", "2")  # an older layout's part
    other = make_user(client)
    script = load_script(client, "delete_user")
    where = [keys.ALL_USER_PARTS.index("opens") + 1, keys.ALL_USER_PARTS.index("saved") + 1]
    opened, saved = script(keys=keys.user_keys(user_id), args=where)
    assert (sorted(opened), saved) == (["2412.00001", "2412.00002"], ["2412.00002"])
    assert set(snapshot(client)) == {keys.user(other, "meta")}
    assert script(keys=keys.user_keys(user_id), args=where) == [[], []]


def test_share_list_stores_only_while_the_user_exists(any_redis):
    client = any_redis
    user_id = make_user(client)
    script = load_script(client, "share_list")
    lists = keys.user(user_id, "lists")
    assert script(keys=[keys.user(user_id, "meta"), lists], args=["7:20", "[]", 30]) == 1
    assert client.hgetall(lists) == {"7:20": "[]"} and 0 < client.ttl(lists) <= 30
    client.delete(keys.user(user_id, "meta"), lists)
    assert script(keys=[keys.user(user_id, "meta"), lists], args=["7:20", "[]", 30]) == 0
    assert snapshot(client) == {}


def test_replace_model_version_moves_the_pointer_only_from_the_expected_version(any_redis):
    client = any_redis
    script = load_script(client, "replace_model_version")
    client.set(keys.MODEL_POINTER, "v1")
    assert script(keys=[keys.MODEL_POINTER], args=["v0", "v2"]) == 0
    assert client.get(keys.MODEL_POINTER) == "v1"
    assert script(keys=[keys.MODEL_POINTER], args=["v1", "v2"]) == 1
    assert snapshot(client).keys() == {keys.MODEL_POINTER} and client.get(keys.MODEL_POINTER) == "v2"


def test_the_store_counts_readers_alike_on_a_single_redis_and_a_cluster(any_redis):
    """Trending's counts are updated inside the event script on a single Redis and by a
    pipeline after it on a cluster; the outcome, and a user's deletion, are the same."""
    store = Store(any_redis, load_config({"RATELIMIT_ENABLED": False}))
    users = [store.create_user(NOW) for _ in range(3)]
    for n, (_, token) in enumerate(users):
        batch = [Event(uuid.uuid4().hex, kind, paper_id, NOW - timedelta(minutes=4 - m))
                 for m, (kind, paper_id) in enumerate(
                     [("open", "2412.00001"), ("open", "2412.00001"), ("save", "2412.00002"),
                      ("unsave", "2412.00002") if n == 0 else ("open", "2412.00003")])]
        assert store.apply_events_of_token(token, batch, NOW).accepted == 4
    assert store.apply_events_of_token("not-a-token", [], NOW) is None
    assert store.reader_counts(["2412.00001", "2412.00002", "2412.00003"])[:2] == (
        [3, 0, 2], [0, 2, 0])
    store.delete_user(users[1][0])
    assert store.apply_events_of_token(users[1][1], batch, NOW) is None
    assert store.reader_counts(["2412.00001", "2412.00002", "2412.00003"])[:2] == (
        [2, 0, 1], [0, 1, 0])
