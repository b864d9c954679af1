"""The one module that talks to Redis: connection, reads and writes.

Key names come from :mod:`backend.keys`. Views and commands call :class:`Store`; nothing
else uses a Redis client directly. Events never write the catalogue: only imports do
(:meth:`Store.upsert_papers`).

Scripts. The Lua scripts next to this module (``backend/*.lua``) are each one file, sent
to Redis as :func:`load_script` reads it; settings travel in ``ARGV`` and every key a script
touches arrives in ``KEYS``. Code shared between scripts lives in a library file that a
script names in a first line ``-- #include <file>.lua``, which :func:`load_script` replaces
with that file (the only way scripts share code; ``rate_windows.lua`` is the one library).
A call on Redis Cluster passes keys of one hash slot only (a user's keys share the hash tag
``{<user id>}``); where a single Redis lets one call do more (the rate windows and
trending's reader counts of an event batch, which live in other slots), :class:`Store` says
so at the call, and the Cluster path does that part in commands of its own. The store keeps
each user's interaction state (opens, saves, dismissals); the weights the recommender trains
from are derived from that state when it is read (:func:`weights_from_state`), with the
settings of the process reading it.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import itertools
import json
import re
import secrets
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from typing import Any, NamedTuple

import redis
from cachetools import LRUCache
from redis.backoff import NoBackoff
from redis.retry import Retry

from backend import keys

DAY = timedelta(days=1)
EPOCH_DAY = date(1970, 1, 1)
# Event ids are remembered this long: older events are refused by validation anyway.
EVENT_ID_MEMORY = timedelta(days=31)

PAPER_JSON_FIELDS = ("authors", "ai_keywords")
PAPER_INT_FIELDS = ("upvotes", "num_comments")


NO_EVENTS = "0-0"  # the state stamp of a user without events
LAYOUT = "2"  # the key layout this code writes (see Store.upgrade_data)
TOKEN_USERS_CACHED = 4096  # tokens whose user an event-posting process remembers


def _token_owner(record: str | None, token_hash: str) -> str | None:
    """The user id of a token record ``"<user id>:<token hash>"`` if it matches ``token_hash``.

    The lookup was by hash, so a guessed token never reaches a byte-wise comparison of the
    secret; the stored hash is still compared in constant time.
    """
    if record is None:
        return None
    user_id, _, stored = record.partition(":")
    return user_id if hmac.compare_digest(stored, token_hash) else None


class UserGone(Exception):
    """The user was deleted while a request for them was in flight."""


class RateWindow(NamedTuple):
    """A fixed rate-limit window counted by the store: at most ``amount`` hits per
    ``seconds``, counted in ``key`` (see :func:`keys.rate_window`)."""

    key: str
    amount: int
    seconds: int
    label: str = ""  # how the limit reads, e.g. "600 per 1 minute"


class RateLimited(Exception):
    """A rate-limit window was exceeded; nothing else was done."""

    def __init__(self, window: RateWindow, retry_after_ms: int):
        super().__init__(f"{window.key}: more than {window.amount} per {window.seconds} s")
        self.window = window
        self.retry_after_ms = retry_after_ms


def _rate_limited(error: redis.ResponseError, windows: Sequence[RateWindow]) -> RateLimited | None:
    """The :class:`RateLimited` of a script's ``RATELIMIT <window> <ms>`` error, else None."""
    words = str(error).split()
    if len(words) != 3 or words[0] != "RATELIMIT":
        return None
    return RateLimited(windows[int(words[1]) - 1], max(0, int(words[2])))


CLUSTER_SCHEME = "redis+cluster://"


def connect(url: str, timeout: float | None = None) -> redis.Redis:
    """Open a client for ``url`` that returns ``str`` values.

    ``redis+cluster://host:port`` (any one node of a Redis Cluster) returns a
    ``redis.RedisCluster``; ``redis://``, ``rediss://`` and ``unix://`` a ``redis.Redis``.

    With ``timeout`` (seconds; the web service's ``REDIS_TIMEOUT_SECONDS``) a command that
    gets no answer in that time raises at once, never retried, so a stalled Redis becomes a
    quick 503: on a single Redis ``redis.TimeoutError`` after one socket timeout (a broken
    connection, as after a restart, is retried once on a fresh one); on a cluster the
    timeout is shared out as :func:`cluster_socket_timeout` says. Without it (batch
    commands: import, train) commands may wait 10 s and are retried, as redis-py does by
    default.
    """
    if url.startswith(CLUSTER_SCHEME):
        node_url = "redis://" + url[len(CLUSTER_SCHEME):]
        if timeout is None:
            return redis.RedisCluster.from_url(node_url, decode_responses=True,
                                               socket_timeout=10, socket_connect_timeout=5)
        wait = cluster_socket_timeout(url, timeout)
        return redis.RedisCluster.from_url(
            node_url, decode_responses=True, socket_timeout=wait, socket_connect_timeout=wait,
            retry=Retry(NoBackoff(), 0))
    if timeout is None:
        return redis.Redis.from_url(
            url, decode_responses=True, health_check_interval=30, socket_timeout=10,
            socket_connect_timeout=5, retry_on_timeout=True,
        )
    return redis.Redis.from_url(
        url, decode_responses=True, health_check_interval=30, socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
    )


def cluster_socket_timeout(url: str, timeout: float) -> float:
    """The socket timeout with which a client of the cluster at ``url`` (``redis+cluster://``)
    answers a command within ``timeout`` seconds when nodes stall.

    When a command fails for want of an answer, redis-py's cluster client refreshes its map
    of the cluster before it raises, asking the nodes it knows one after another, each with
    the same socket timeout: a command waits at most (1 + nodes) socket timeouts. So each
    gets ``timeout / (1 + nodes)``, the nodes counted now (a cluster grown later waits
    longer). Cluster clients made with it are given no retries: a retry would start the
    wait again (after a node restarts, the first command on each dropped connection fails
    and the next one reconnects).
    """
    probe = redis.RedisCluster.from_url("redis://" + url[len(CLUSTER_SCHEME):],
                                        socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        nodes = len(probe.get_nodes())
    finally:
        probe.close()
    return timeout / (1 + nodes)


def scan_batches(client: redis.Redis, key: str, batch: int) -> Iterator[list[str]]:
    """The members of the set ``key``, in lists of up to ``batch`` (one SSCAN walk)."""
    members = client.sscan_iter(key, count=batch)
    while chunk := list(itertools.islice(members, batch)):
        yield chunk


def day_number(value: date) -> int:
    """Days since 1970-01-01 of ``value``."""
    return (value - EPOCH_DAY).days


def day_from_number(number: int) -> date:
    """Inverse of :func:`day_number`."""
    return EPOCH_DAY + timedelta(days=int(number))


def hash_token(token: str) -> str:
    """SHA-256 of a token; tokens carry 256 random bits, so a fast hash is enough."""
    return hashlib.sha256(token.encode()).hexdigest()


def to_ms(moment: datetime) -> int:
    """Milliseconds since the Unix epoch."""
    return int(moment.timestamp() * 1000)


def from_ms(ms: float) -> datetime:
    """UTC datetime of milliseconds since the Unix epoch."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ is 2.5x slower
class Event:
    """One validated event of a user (treated as immutable)."""

    id: str
    type: str
    paper_id: str
    ts: datetime
    source: str = ""
    title: str | None = None


@dataclass(frozen=True)
class EventResult:
    """What applying a batch did."""

    accepted: int
    duplicates: int


def _event_result(effects: Sequence[str]) -> EventResult:
    duplicates = sum(1 for effect in effects if effect == "dup")
    return EventResult(accepted=len(effects) - duplicates, duplicates=duplicates)


@dataclass(frozen=True)
class UserState:
    """A user's recommendation inputs: ``stamp`` changes with every applied event (the id of
    the newest event-log entry); the papers they saved, dismissed and opened; and their
    interaction weights (what the recommender trains from)."""

    stamp: str
    saved: set[str]
    dismissed: set[str]
    opened: set[str]
    weights: dict[str, float]


@dataclass(frozen=True)
class UpsertResult:
    """What an import did to the catalogue."""

    created: int
    updated: int


INCLUDE = re.compile(r"^-- #include (\w+\.lua)$", re.MULTILINE)


def script_text(name: str) -> str:
    """The text of ``backend/<name>.lua`` as Redis runs it: each ``-- #include <file>.lua``
    line replaced by that library file."""
    package = resources.files("backend")
    return INCLUDE.sub(lambda line: package.joinpath(line[1]).read_text(),
                       package.joinpath(f"{name}.lua").read_text())


def load_script(client: redis.Redis, name: str) -> Any:
    """The script ``backend/<name>.lua`` (see :func:`script_text`), registered with
    ``client``."""
    return client.register_script(script_text(name))


def weights_from_state(opens: dict[str, str], saved: Iterable[str], dismissed: Iterable[str],
                       settings: dict[str, Any]) -> dict[str, float]:
    """A user's paper weights, derived from their state with ``settings``: for each paper not
    dismissed, ``min(opens, WEIGHT_OPEN_CAP) * WEIGHT_OPEN``, plus ``WEIGHT_SAVE`` while it
    is saved; papers of weight 0 or less (or not a number) are left out. A change of these
    settings applies to every user's weights the next time they are read (training,
    serving)."""
    per_open, cap = float(settings["WEIGHT_OPEN"]), int(settings["WEIGHT_OPEN_CAP"])
    per_save = float(settings["WEIGHT_SAVE"])
    by_count = _open_weights(per_open, cap)  # training reads millions: no float() per count
    weights = {paper_id: by_count[count] if count in by_count
               else min(float(count), cap) * per_open for paper_id, count in opens.items()}
    for paper_id in saved:
        weights[paper_id] = weights.get(paper_id, 0.0) + per_save
    for paper_id in dismissed:
        weights.pop(paper_id, None)
    return {paper_id: weight for paper_id, weight in weights.items() if weight > 0}


@functools.lru_cache(maxsize=8)
def _open_weights(per_open: float, cap: int) -> dict[str, float]:
    """The weight of each open count up to the cap, by the count as Redis returns it."""
    return {str(count): min(count, cap) * per_open for count in range(1, cap + 1)}


class Store:
    """All of paperfeed's data in Redis.

    Parameters
    ----------
    client:
        A ``redis.Redis`` (or ``RedisCluster``) client created with ``decode_responses=True``.
    settings:
        The configuration mapping (see :mod:`backend.config`).
    """

    def __init__(self, client: redis.Redis, settings: dict[str, Any]):
        self.client = client
        self.settings = settings
        # On a single Redis the event script also counts trending's readers and the
        # rate windows are counted in the round trip that authenticates (their keys are in
        # other hash slots than the user's); on Redis Cluster both are commands of their own.
        self._single = not isinstance(client, redis.RedisCluster)
        self._apply_events = load_script(client, "apply_events")
        self._rate_limit = load_script(client, "rate_limit")
        self._share_list = load_script(client, "share_list")
        self._delete_user_keys = load_script(client, "delete_user")
        self._event_header = [
            round(float(settings["EVENT_RETENTION_DAYS"]) * 86_400_000),
            round(EVENT_ID_MEMORY.total_seconds() * 1000)]
        # token hash -> user id of tokens seen by this process: a hint only, the event
        # script checks it against the user's meta (a deleted user's token fails there)
        self._token_users: LRUCache[str, str] = LRUCache(maxsize=TOKEN_USERS_CACHED)
        self._token_users_lock = threading.Lock()  # a web worker's threads share the store

    # -- users -------------------------------------------------------------------------

    def create_user(self, now: datetime) -> tuple[str, str]:
        """Register a new anonymous user; return ``(user_id, token)``.

        Only the token's hash is stored.
        """
        user_id = secrets.token_hex(16)
        token = secrets.token_urlsafe(32)
        token_hash = hash_token(token)
        pipe = self.client.pipeline(transaction=False)
        pipe.hset(keys.user(user_id, "meta"),
                  mapping={"created_at": now.isoformat(), "token_hash": token_hash})
        # "<user id>:<token hash>": one GET authenticates (user ids never contain ":")
        pipe.set(keys.token(token_hash), f"{user_id}:{token_hash}")
        pipe.sadd(keys.USERS, user_id)
        pipe.execute()
        return user_id, token

    def user_for_token(self, token: str) -> str | None:
        """The user id a bearer token belongs to, or None."""
        token_hash = hash_token(token)
        return _token_owner(self.client.get(keys.token(token_hash)), token_hash)

    def user_and_stamp(self, token: str) -> tuple[str, str] | None:
        """The user of a bearer token and their state stamp (see :meth:`user_stamp`), or None."""
        user_id = self.user_for_token(token)
        return None if user_id is None else (user_id, self.user_stamp(user_id))

    def user_stamp(self, user_id: str) -> str:
        """A value that changes with every event applied for the user (their newest log id)."""
        newest = self.client.xrevrange(keys.user(user_id, "events"), count=1)
        return newest[0][0] if newest else NO_EVENTS

    def delete_user(self, user_id: str) -> None:
        """Delete everything held about a user; their token stops working at once, and what
        they counted for in trending is taken back."""
        token_hash = self.client.hget(keys.user(user_id, "meta"), "token_hash")
        if token_hash:
            self.client.delete(keys.token(token_hash))
        opened, saved = self._delete_user_keys(
            keys=keys.user_keys(user_id),
            args=[keys.ALL_USER_PARTS.index("opens") + 1, keys.ALL_USER_PARTS.index("saved") + 1])
        self.client.srem(keys.USERS, user_id)
        # the user's readings leave trending with them
        pipe = self.client.pipeline(transaction=False)
        for paper_id in opened:
            pipe.zincrby(keys.TRENDING_OPENERS, -1, paper_id)
        for paper_id in saved:
            pipe.zincrby(keys.TRENDING_SAVERS, -1, paper_id)
        if len(pipe):  # no count of 0 stays: nothing names a paper only this user read
            pipe.zremrangebyscore(keys.TRENDING_OPENERS, "-inf", 0)
            pipe.zremrangebyscore(keys.TRENDING_SAVERS, "-inf", 0)
            pipe.execute()

    def iter_user_ids(self, batch: int = 1000) -> Iterator[str]:
        """Every registered user id."""
        yield from self.client.sscan_iter(keys.USERS, count=batch)

    # -- events ------------------------------------------------------------------------

    def apply_events(self, user_id: str, events: Sequence[Event], now: datetime) -> EventResult:
        """Apply a validated batch of a user's events, idempotently by event id.

        The user's part (event log, opens, saved and dismissed state, own titles, seen event
        ids) is one atomic script (apply_events.lua). Trending's reader counts are updated
        in that same script on a single Redis, and by a pipeline right after it on Redis
        Cluster, where they live in another hash slot.

        Raises
        ------
        UserGone
            The user does not exist (deleted meanwhile): nothing was applied.
        """
        return self._apply(user_id, events, now, "", ())

    def _apply(self, user_id: str, events: Sequence[Event], now: datetime, token_hash: str,
               windows: Sequence[RateWindow]) -> EventResult:
        """Run apply_events.lua (``token_hash``: "" or the hash the user's meta must hold;
        ``windows``: counted first, single Redis only) and, on a cluster, the reader counts.

        Raises :class:`UserGone` for NOUSER and NOTOKEN, :class:`RateLimited`."""
        script_keys = keys.user_state_keys(user_id)
        args: list[Any] = [to_ms(now), *self._event_header, token_hash, len(windows)]
        for window in windows:
            script_keys.append(window.key)
            args += [window.amount, window.seconds]
        if self._single:
            script_keys += [keys.TRENDING_OPENERS, keys.TRENDING_SAVERS]
        for event in events:
            args += [event.id, event.type, event.paper_id, to_ms(event.ts),
                     event.ts.isoformat(), event.source or "", event.title or ""]
        try:
            effects = self._run_script(self._apply_events, script_keys, args)
        except redis.ResponseError as error:
            if "NOUSER" in str(error) or "NOTOKEN" in str(error):
                raise UserGone(user_id) from None
            limited = _rate_limited(error, windows)
            if limited is not None:
                raise limited from None
            raise
        if not self._single:
            self._update_aggregates(events, effects)
        return _event_result(effects)

    @property
    def counts_rate_windows(self) -> bool:
        """Whether :meth:`apply_events_of_token` counts rate-limit windows itself (a single
        Redis; on Redis Cluster the windows live in other slots than one another)."""
        return self._single

    def apply_events_of_token(self, token: str, events: Sequence[Event], now: datetime,
                              windows: Sequence[RateWindow] = ()) -> EventResult | None:
        """Count ``windows``, authenticate ``token`` and apply the events for its user; None
        if the token is unknown (nothing is applied).

        The windows count one hit per event, whether the token is known or not. For a token
        this process has seen (the user it belongs to is remembered), one call of the event
        script counts them, checks the token against the user's meta and applies the batch.
        Otherwise rate_limit.lua counts them and reads the token's record first. On Redis
        Cluster ``windows`` must be empty (see :attr:`counts_rate_windows`).

        Raises
        ------
        RateLimited
            A window was exceeded: nothing was applied.
        """
        if windows and not self._single:
            raise ValueError("rate windows are counted by the store on a single Redis only")
        token_hash = hash_token(token)
        with self._token_users_lock:
            user_id = self._token_users.get(token_hash)
        if user_id is None:
            if windows:
                record = self._count_windows(windows, len(events), keys.token(token_hash))
                windows = ()  # counted
            else:
                record = self.client.get(keys.token(token_hash))
            user_id = _token_owner(record, token_hash)
            if user_id is None:
                return None
            with self._token_users_lock:
                self._token_users[token_hash] = user_id
        try:
            return self._apply(user_id, events, now, token_hash, windows)
        except UserGone:
            with self._token_users_lock:
                self._token_users.pop(token_hash, None)
            return None

    def hit_rate_windows(self, windows: Sequence[RateWindow]) -> None:
        """Count one hit in each window (up to the first exceeded), as
        :meth:`apply_events_of_token` does, for a request that does not get that far.

        Raises
        ------
        RateLimited
            A window was exceeded.
        """
        if not windows:
            return
        if not self._single:
            raise ValueError("rate windows are counted by the store on a single Redis only")
        self._count_windows(windows, 1)

    def _count_windows(self, windows: Sequence[RateWindow], cost: int,
                       token_key: str | None = None) -> str | None:
        """Count ``cost`` hits in ``windows`` and read the record at ``token_key`` in the same
        call (rate_limit.lua); raise :class:`RateLimited` if a window is exceeded."""
        script_keys = [window.key for window in windows]
        if token_key is not None:
            script_keys.append(token_key)
        args = [cost, *(v for window in windows for v in (window.amount, window.seconds))]
        try:
            return self._run_script(self._rate_limit, script_keys, args)
        except redis.ResponseError as error:
            limited = _rate_limited(error, windows)
            if limited is not None:
                raise limited from None
            raise

    def _run_script(self, script: Any, script_keys: list[str], args: list[Any]) -> Any:
        """``script(keys=script_keys, args=args)``, with EVALSHA sent directly: redis-py's
        ``Script.__call__`` adds per-call checks (one an ``isinstance`` through ``typing``'s
        protocol machinery), 1.5 % of the CPU of a one-event POST."""
        try:
            return self.client.evalsha(script.sha, len(script_keys), *script_keys, *args)
        except redis.exceptions.NoScriptError:  # flushed meanwhile: load it again
            return script(keys=script_keys, args=args)

    def _update_aggregates(self, events: Sequence[Event], effects: Sequence[str]) -> None:
        """The global part of applying events, on Redis Cluster (see apply_events.lua)."""
        pipe = self.client.pipeline(transaction=False)
        for event, effect in zip(events, effects, strict=True):
            if effect == "opened":
                pipe.zincrby(keys.TRENDING_OPENERS, 1, event.paper_id)
            elif effect == "saved":
                pipe.zincrby(keys.TRENDING_SAVERS, 1, event.paper_id)
            elif effect == "unsaved":
                pipe.zincrby(keys.TRENDING_SAVERS, -1, event.paper_id)
                pipe.zremrangebyscore(keys.TRENDING_SAVERS, "-inf", 0)
        if len(pipe):
            pipe.execute()

    # -- a user's lists ----------------------------------------------------------------

    def saved(self, user_id: str) -> list[dict[str, Any]]:
        """The user's saved papers, newest ``saved_at`` first, with the catalogue's titles
        (or, for papers no import has confirmed, the title the user's events supplied)."""
        rows = self.client.zrevrange(keys.user(user_id, "saved"), 0, -1, withscores=True)
        titles = self.titles_for_user(user_id, [paper_id for paper_id, _ in rows])
        return [{"paper_id": paper_id, "title": titles.get(paper_id),
                 "saved_at": from_ms(score).isoformat()} for paper_id, score in rows]

    def excluded_papers(self, user_id: str) -> set[str]:
        """Papers the user saved or dismissed: never recommended to them again."""
        pipe = self.client.pipeline(transaction=False)
        pipe.zrange(keys.user(user_id, "saved"), 0, -1)
        pipe.zrange(keys.user(user_id, "dismissed"), 0, -1)
        saved, dismissed = pipe.execute()
        return set(saved) | set(dismissed)

    def user_state(self, user_id: str) -> UserState:
        """What a recommendation list is made from, in one round trip (see ``UserState``);
        the weights are derived with the store's settings (:func:`weights_from_state`)."""
        return self.user_states([user_id])[0]

    def user_states(self, user_ids: Sequence[str]) -> list[UserState]:
        """:meth:`user_state` of several users, in one round trip."""
        pipe = self.client.pipeline(transaction=False)
        for user_id in user_ids:
            pipe.xrevrange(keys.user(user_id, "events"), count=1)
            pipe.zrange(keys.user(user_id, "saved"), 0, -1)
            pipe.zrange(keys.user(user_id, "dismissed"), 0, -1)
            pipe.hgetall(keys.user(user_id, "opens"))
        replies = pipe.execute()
        states = []
        for i in range(0, len(replies), 4):
            newest, saved, dismissed, opens = replies[i:i + 4]
            states.append(UserState(
                newest[0][0] if newest else NO_EVENTS, set(saved), set(dismissed), set(opens),
                weights_from_state(opens, saved, dismissed, self.settings)))
        return states

    def shared_list(self, user_id: str, name: str) -> str | None:
        """A finished list another worker stored with :meth:`share_list`, if not expired."""
        return self.client.hget(keys.user(user_id, "lists"), name)

    def share_list(self, user_id: str, name: str, value: str, ttl_seconds: float) -> None:
        """Store a finished list for the user's other requests, whichever worker serves them;
        the user's lists expire together ``ttl_seconds`` after the latest one was stored.
        Nothing is stored once the user is deleted (a request in flight during
        :meth:`delete_user`)."""
        self._share_list(keys=[keys.user(user_id, "meta"), keys.user(user_id, "lists")],
                         args=[name, value, max(1, int(ttl_seconds))])

    def dismissed(self, user_id: str) -> set[str]:
        """Papers the user dismissed."""
        return set(self.client.zrange(keys.user(user_id, "dismissed"), 0, -1))

    def interaction_weights(self, user_id: str) -> dict[str, float]:
        """The user's paper weights (what the recommender trains from), derived from their
        state with the store's settings (:func:`weights_from_state`)."""
        return self._weights_batch([user_id])[0][1]

    def iter_interaction_weights(
        self, batch: int = 500
    ) -> Iterator[list[tuple[str, dict[str, float]]]]:
        """Every user's weights, in batches of ``(user_id, {paper_id: weight})``, derived from
        their state with the store's settings as they are read."""
        for user_ids in scan_batches(self.client, keys.USERS, batch):
            yield self._weights_batch(user_ids)

    def registration_times(self, user_ids: Sequence[str]) -> list[str]:
        """When each user registered (ISO time; "" if unknown), in order."""
        pipe = self.client.pipeline(transaction=False)
        for user_id in user_ids:
            pipe.hget(keys.user(user_id, "meta"), "created_at")
        return [value or "" for value in pipe.execute()]

    def _weights_batch(self, user_ids: list[str]) -> list[tuple[str, dict[str, float]]]:
        pipe = self.client.pipeline(transaction=False)
        for user_id in user_ids:
            pipe.hgetall(keys.user(user_id, "opens"))
            pipe.zrange(keys.user(user_id, "saved"), 0, -1)
            pipe.zrange(keys.user(user_id, "dismissed"), 0, -1)
        replies = pipe.execute()
        return [(user_id, weights_from_state(*replies[3 * i:3 * i + 3], self.settings))
                for i, user_id in enumerate(user_ids)]

    def export(self, user_id: str) -> dict[str, Any]:
        """Everything stored about a user."""
        pipe = self.client.pipeline(transaction=False)
        pipe.hgetall(keys.user(user_id, "meta"))
        pipe.xrange(keys.user(user_id, "events"))
        pipe.zrange(keys.user(user_id, "dismissed"), 0, -1, withscores=True)
        pipe.hgetall(keys.user(user_id, "opens"))
        pipe.zrange(keys.user(user_id, "saved"), 0, -1)
        pipe.hgetall(keys.user(user_id, "titles"))
        meta, events, dismissed, opens, saved, titles = pipe.execute()
        return {
            "user_id": user_id,
            "created_at": meta.get("created_at"),
            "events": [
                {"id": fields.get("id"), "type": fields.get("type"),
                 "paper_id": fields.get("paper_id"), "ts": fields.get("ts"),
                 "source": fields.get("source") or None,
                 "received_at": from_ms(int(entry_id.split("-")[0])).isoformat()}
                for entry_id, fields in events
            ],
            "saved": self.saved(user_id),
            "dismissed": [{"paper_id": paper_id, "dismissed_at": from_ms(score).isoformat()}
                          for paper_id, score in dismissed],
            "opens": {paper_id: int(count) for paper_id, count in opens.items()},
            "interaction_weights": weights_from_state(
                opens, saved, [paper_id for paper_id, _ in dismissed], self.settings),
            "titles": titles,
        }

    # -- catalogue ---------------------------------------------------------------------

    def upsert_papers(self, papers: Iterable[dict[str, Any]]) -> UpsertResult:
        """Insert or update catalogue entries (normalised records from the importer).

        Fields that are None in a record leave the stored value alone, so a re-import
        updates upvotes without erasing anything and never duplicates a paper.
        """
        papers = list(papers)
        if not papers:
            return UpsertResult(0, 0)
        pipe = self.client.pipeline(transaction=False)
        for paper in papers:
            pipe.exists(keys.paper(paper["paper_id"]))
        existed = pipe.execute()
        newest: str | None = None
        for paper in papers:
            paper_id = paper["paper_id"]
            fields = _paper_fields(paper)
            if fields:
                pipe.hset(keys.paper(paper_id), mapping=fields)
            day = paper.get("daily_date") or (paper.get("published_at") or "")[:10] or None
            if day:
                pipe.zadd(keys.PAPERS_BY_DAY, {paper_id: day_number(date.fromisoformat(day))})
            if paper.get("upvotes") is not None:
                pipe.zadd(keys.PAPERS_UPVOTES, {paper_id: int(paper["upvotes"])})
            if paper.get("daily_date") and (newest is None or paper["daily_date"] > newest):
                newest = paper["daily_date"]
        pipe.execute()
        if newest:
            current = self.client.hget(keys.META, "newest_daily_date")
            if current is None or newest > current:
                self.client.hset(keys.META, "newest_daily_date", newest)
        created = sum(1 for flag in existed if not flag)
        return UpsertResult(created=created, updated=len(papers) - created)

    def paper(self, paper_id: str) -> dict[str, Any] | None:
        """A catalogue entry, or None."""
        raw = self.client.hgetall(keys.paper(paper_id))
        if not raw:
            return None
        return _paper_from_fields(paper_id, raw)

    def papers(self, paper_ids: Sequence[str], fields: Sequence[str] | None = None
               ) -> list[dict[str, Any] | None]:
        """Several catalogue entries (or chosen fields of them), in order."""
        pipe = self.client.pipeline(transaction=False)
        for paper_id in paper_ids:
            if fields:
                pipe.hmget(keys.paper(paper_id), list(fields))
            else:
                pipe.hgetall(keys.paper(paper_id))
        out: list[dict[str, Any] | None] = []
        for paper_id, raw in zip(paper_ids, pipe.execute(), strict=True):
            if fields:
                raw = {f: v for f, v in zip(fields, raw, strict=True) if v is not None}
            out.append(_paper_from_fields(paper_id, raw) if raw else None)
        return out

    def titles(self, paper_ids: Sequence[str]) -> dict[str, str | None]:
        """Titles of papers (None where unknown)."""
        pipe = self.client.pipeline(transaction=False)
        for paper_id in paper_ids:
            pipe.hget(keys.paper(paper_id), "title")
        return dict(zip(paper_ids, pipe.execute(), strict=True))

    def titles_for_user(self, user_id: str, paper_ids: Sequence[str]) -> dict[str, str | None]:
        """Titles of papers as the user sees them: the catalogue's, else the one the user's
        own events supplied (never another user's), else None."""
        titles = self.titles(paper_ids)
        missing = [paper_id for paper_id, title in titles.items() if title is None]
        if missing:
            own = self.client.hmget(keys.user(user_id, "titles"), missing)
            titles.update(zip(missing, own, strict=True))
        return titles

    def catalogue_size(self) -> int:
        """Number of papers in the catalogue."""
        return int(self.client.zcard(keys.PAPERS_BY_DAY))

    def catalogue_status(self) -> tuple[int, date | None]:
        """In one round trip: the catalogue's size and its newest Daily Papers day."""
        pipe = self.client.pipeline(transaction=False)
        pipe.zcard(keys.PAPERS_BY_DAY)
        pipe.hget(keys.META, "newest_daily_date")
        size, newest = pipe.execute()
        return int(size), date.fromisoformat(newest) if newest else None

    def newest_daily_date(self) -> date | None:
        """The newest Daily Papers day imported, if any."""
        value = self.client.hget(keys.META, "newest_daily_date")
        return date.fromisoformat(value) if value else None

    def papers_since(self, first_day: date, last_day: date | None = None
                     ) -> list[tuple[str, date]]:
        """Papers whose day is ``first_day`` or later (and ``last_day`` or earlier), with
        their day."""
        last = day_number(last_day) if last_day else "+inf"
        rows = self.client.zrangebyscore(
            keys.PAPERS_BY_DAY, day_number(first_day), last, withscores=True)
        return [(paper_id, day_from_number(int(score))) for paper_id, score in rows]

    def iter_paper_ids(self, batch: int = 5000) -> Iterator[list[str]]:
        """Every paper id in the catalogue, in batches."""
        start = 0
        while True:
            chunk = self.client.zrange(keys.PAPERS_BY_DAY, start, start + batch - 1)
            if not chunk:
                return
            yield chunk
            start += batch

    # -- trending ----------------------------------------------------------------------

    def reader_counts(self, paper_ids: Sequence[str]
                      ) -> tuple[list[int], list[int], list[float | None]]:
        """Of papers in order: how many users opened each (ever), how many save it now,
        and its Hugging Face upvotes (None if not imported)."""
        if not paper_ids:
            return [], [], []
        pipe = self.client.pipeline(transaction=False)
        pipe.zmscore(keys.TRENDING_OPENERS, list(paper_ids))
        pipe.zmscore(keys.TRENDING_SAVERS, list(paper_ids))
        pipe.zmscore(keys.PAPERS_UPVOTES, list(paper_ids))
        openers, savers, upvotes = pipe.execute()
        return ([max(0, int(n or 0)) for n in openers], [max(0, int(n or 0)) for n in savers],
                upvotes)

    # -- upgrades ----------------------------------------------------------------------

    def upgrade_data(self) -> dict[str, int] | None:
        """Bring a store written by an older paperfeed up to the layout this code writes
        (``LAYOUT``, kept in ``keys.META``); None when it is there already (one HGET) or
        nothing needed changing.

        - Event-weighted trending scores and papers added to the catalogue by events: papers
          no import confirmed leave the catalogue (they stay in their readers' own lists)
          and the reader counts are rebuilt from every user's state; events applied while
          the counts are rebuilt may be off by one each.
        - Stored interaction weights: each user's weights hash is removed; weights are
          derived from the opens, saved and dismissed state, which every user has already.

        Returns how many papers left the catalogue and how many users were counted (first
        step, when it ran) and how many users' stored weights were removed.
        """
        if self.client.hget(keys.META, keys.LAYOUT_FIELD) == LAYOUT:
            return None
        done: dict[str, int] = {}
        if self.client.exists(keys.OLDER_TRENDING_KEYS[0]):
            done["papers_forgotten"] = self._forget_unimported_papers()
            done["users_counted"] = self._rebuild_reader_counts()
            self.client.delete(*keys.OLDER_TRENDING_KEYS)
        removed = self._remove_stored_weights()
        if removed:
            done["weights_removed"] = removed
        self.client.hset(keys.META, keys.LAYOUT_FIELD, LAYOUT)
        return done or None

    def _remove_stored_weights(self) -> int:
        removed = 0
        pending = list(self.iter_user_ids())
        for start in range(0, len(pending), 1000):
            pipe = self.client.pipeline(transaction=False)
            for user_id in pending[start:start + 1000]:
                for part in keys.OLDER_USER_PARTS:
                    pipe.delete(keys.user(user_id, part))
            removed += sum(1 for deleted in pipe.execute() if deleted)
        return removed

    def _forget_unimported_papers(self) -> int:
        unimported: list[str] = []
        for chunk in self.iter_paper_ids():
            pipe = self.client.pipeline(transaction=False)
            for paper_id in chunk:
                pipe.hmget(keys.paper(paper_id), ["daily_date", "published_at"])
            for paper_id, dates in zip(chunk, pipe.execute(), strict=True):
                if not any(dates):
                    unimported.append(paper_id)
        for start in range(0, len(unimported), 1000):
            chunk = unimported[start:start + 1000]
            pipe = self.client.pipeline(transaction=False)
            pipe.zrem(keys.PAPERS_BY_DAY, *chunk)
            pipe.zrem(keys.PAPERS_UPVOTES, *chunk)
            for paper_id in chunk:
                pipe.delete(keys.paper(paper_id))
            pipe.execute()
        for chunk in self.iter_paper_ids():  # the day an event first named a paper
            pipe = self.client.pipeline(transaction=False)
            for paper_id in chunk:
                pipe.hdel(keys.paper(paper_id), "first_seen")
            pipe.execute()
        return len(unimported)

    def _rebuild_reader_counts(self) -> int:
        openers: Counter[str] = Counter()
        savers: Counter[str] = Counter()
        users = 0
        pending = list(self.iter_user_ids())
        for start in range(0, len(pending), 500):
            pipe = self.client.pipeline(transaction=False)
            for user_id in pending[start:start + 500]:
                pipe.hkeys(keys.user(user_id, "opens"))
                pipe.zrange(keys.user(user_id, "saved"), 0, -1)
            replies = pipe.execute()
            for opened, saved in zip(replies[::2], replies[1::2], strict=True):
                openers.update(opened)
                savers.update(saved)
                users += 1
        for key, counts in ((keys.TRENDING_OPENERS, openers), (keys.TRENDING_SAVERS, savers)):
            rebuilt = key + ":rebuilt"  # same hash slot: RENAME works on a cluster too
            self.client.delete(rebuilt)
            items = list(counts.items())
            for start in range(0, len(items), 5000):
                self.client.zadd(rebuilt, dict(items[start:start + 5000]))
            if items:
                self.client.rename(rebuilt, key)
            else:
                self.client.delete(key)
        return users

    # -- models ------------------------------------------------------------------------

    def current_model_version(self) -> str | None:
        """The version of the model serving should use, if any."""
        return self.client.get(keys.MODEL_POINTER)

    def set_current_model_version(self, version: str) -> None:
        """Point serving at a new model version."""
        self.client.set(keys.MODEL_POINTER, version)

    def replace_model_version(self, expected: str, version: str) -> bool:
        """Point serving at ``version`` if the pointer still names ``expected``
        (replace_model_version.lua); False, and no change, otherwise."""
        script = load_script(self.client, "replace_model_version")
        return bool(script(keys=[keys.MODEL_POINTER], args=[expected, version]))

    # -- health ------------------------------------------------------------------------

    def ping(self) -> bool:
        """True when Redis answers."""
        return bool(self.client.ping())

    def persistence(self) -> str:
        """How the server keeps its data across a restart: ``"aof"`` (append-only file, with
        or without snapshots), ``"rdb"`` (snapshots only), ``"none"`` (everything is lost on
        restart), or ``"unknown"`` where the server does not say (CONFIG not allowed, as on
        some managed services, or a cluster)."""
        if isinstance(self.client, redis.RedisCluster):
            return "unknown"
        pipe = self.client.pipeline(transaction=False)
        pipe.config_get("appendonly")
        pipe.config_get("save")
        try:
            appendonly, save = pipe.execute()
        except redis.ResponseError:
            return "unknown"
        if appendonly.get("appendonly") == "yes":
            return "aof"
        return "rdb" if (save.get("save") or "").strip() else "none"

    def settings_differing_from(self, wanted: dict[str, str]) -> dict[str, str]:
        """The Redis settings among ``wanted`` that the server has another value for (name
        -> the server's value); empty where the server does not say (CONFIG not allowed,
        as on some managed services, or a cluster)."""
        if isinstance(self.client, redis.RedisCluster):
            return {}
        found: dict[str, str] = {}
        try:
            for name in wanted:
                found.update(self.client.config_get(name))
        except redis.ResponseError:
            return {}
        return {name: found[name] for name, value in wanted.items()
                if name in found and found[name] != value}


def _paper_fields(paper: dict[str, Any]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for name, value in paper.items():
        if name == "paper_id" or value is None:
            continue
        if name in PAPER_JSON_FIELDS:
            fields[name] = json.dumps(value, ensure_ascii=False)
        else:
            fields[name] = str(value)
    return fields


def _paper_from_fields(paper_id: str, raw: dict[str, str]) -> dict[str, Any]:
    paper: dict[str, Any] = {"paper_id": paper_id, "title": None}
    for name, value in raw.items():
        if name in PAPER_JSON_FIELDS:
            paper[name] = json.loads(value)
        elif name in PAPER_INT_FIELDS:
            paper[name] = int(value)
        else:
            paper[name] = value
    return paper
