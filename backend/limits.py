"""Rate limits on registration and event posting, stored in paperfeed's Redis.

Limits are counted per client IP for ``POST /v1/users`` (requests) and per token and per IP
for ``POST /v1/events`` (events: a batch of 100 counts 100; a request rejected before its
events are read counts 1), in fixed windows, with the ``limits`` library (the counting engine of
Flask-Limiter, used directly: Flask-Limiter's request hooks ran on every request of every
route and cost more than half of a cached ``GET /v1/trending``; docs/performance.md). On a
single Redis that also holds the counters (the default) the store counts the event-posting
windows itself, with the same strategy, in the script call that authenticates the request
(``Store.apply_events_of_token``); requests that fail before that (an invalid body) are
counted in the same windows by ``Store.hit_rate_windows``.

A limit key never carries a raw token or a user id: tokens are reduced to a domain-separated
hash (different from the stored token hash), so nothing in the limiter's keys links to a
user once the user is deleted, and the keys expire with their window anyway. Settings
(``PAPERFEED_`` + name in the environment):

``RATELIMIT_ENABLED``          false disables every limit.
``RATELIMIT_REGISTER``         per IP on POST /v1/users (default ``20/hour``).
``RATELIMIT_EVENTS``           events per token on POST /v1/events (default ``600/minute``).
``RATELIMIT_EVENTS_PER_IP``    events per IP on POST /v1/events (default ``6000/minute``).
``RATELIMIT_STORAGE_URI``      default: the Redis of ``REDIS_URL``; any ``limits`` storage.
``RATELIMIT_SWALLOW_ERRORS``   true (default): when a separate ``RATELIMIT_STORAGE_URI`` is
                               down, let requests through (on the store's own Redis the
                               request is a 503 at once, as the store would answer).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, request
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from redis.backoff import NoBackoff
from redis.retry import Retry

from backend import keys
from backend.auth import request_bearer_token
from backend.errors import problem
from backend.store import CLUSTER_SCHEME, RateLimited, RateWindow, cluster_socket_timeout

RATE_LIMITS = "paperfeed.rate_limits"
KEY_PREFIX = keys.RATE_LIMIT_PREFIX
log = logging.getLogger(__name__)


def storage_uri_for(redis_url: str) -> str:
    """The ``limits`` storage URI of a paperfeed Redis URL."""
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url[len("unix://"):]
    return redis_url  # redis://, rediss:// and redis+cluster:// are understood as they are


def client_ip() -> str:
    """The client address (the direct peer; put a proxy's ProxyFix in front if needed)."""
    # _get_current_object() (the proxied object, as Flask's notes on proxies say): an attribute
    # read through werkzeug's proxy first fails on the proxy (building an AttributeError and
    # its message) before the proxy forwards it; on the hottest routes these misses add up
    # (compare with bench/ingest_icount.py)
    return "ip:" + (request._get_current_object().remote_addr or "unknown")


def token_key() -> str:
    """A per-token key that is not the token and not its stored hash."""
    token = request_bearer_token()
    return client_ip() if token is None else _token_digest(token)


def _token_digest(token: str) -> str:
    return "t:" + hashlib.sha256(b"paperfeed-ratelimit\0" + token.encode()).hexdigest()[:32]


class RateLimits:
    """Where and how an app's limits are counted (``app.extensions[RATE_LIMITS]``).

    Parameters
    ----------
    config:
        The app's configuration (the ``RATELIMIT_*`` settings and ``REDIS_URL``).
    store_counts_windows:
        Whether the store can count the event-posting windows in its event script
        (``Store.counts_rate_windows``); it does so when the limits share its Redis.
    """

    def __init__(self, config: Any, store_counts_windows: bool):
        configured_uri = config.get("RATELIMIT_STORAGE_URI")
        uri = configured_uri or storage_uri_for(config["REDIS_URL"])
        # as the store's client (backend.store.connect): a stalled storage fails fast
        timeout = float(config.get("REDIS_TIMEOUT_SECONDS") or 1.0)
        if uri.startswith(CLUSTER_SCHEME):
            timeout = cluster_socket_timeout(uri, timeout)
        options = {"key_prefix": KEY_PREFIX, "socket_connect_timeout": timeout,
                   "socket_timeout": timeout, "wrap_exceptions": True,
                   **(config.get("RATELIMIT_STORAGE_OPTIONS") or {})}
        if uri.startswith(("redis", "unix")):
            options.setdefault("retry", Retry(NoBackoff(), 0))
        self.limiter = FixedWindowRateLimiter(storage_from_string(uri, **options))
        self.events_in_store = not configured_uri and store_counts_windows
        # On the store's own Redis an unreachable storage means the store cannot answer
        # either: fail at once (503) instead of waiting for the store to time out too.
        self.swallow_errors = bool(configured_uri) and bool(
            config.get("RATELIMIT_SWALLOW_ERRORS", True))

    def hit(self, scope: str, spec: str, who: str, cost: int = 1) -> None:
        """Count ``cost`` hits of ``who`` in each window of ``spec`` (up to the first exceeded).

        Raises
        ------
        RateLimited
            A window was exceeded.
        """
        for item in _items(spec):
            try:
                if self.limiter.hit(item, scope, who, cost=cost):
                    continue
                reset_at = self.limiter.get_window_stats(item, scope, who).reset_time
            except StorageError as error:
                if not self.swallow_errors:
                    raise
                log.warning("rate limits not counted: %s", error.storage_error)
                return
            window = RateWindow(item.key_for(scope, who), item.amount, item.get_expiry(),
                                str(item))
            raise RateLimited(window, max(0, math.ceil((reset_at - time.time()) * 1000)))


def init_app(app: Flask) -> RateLimits:
    """Create the app's rate limits (the storage connects lazily)."""
    from backend.extensions import STORE

    rate_limits = RateLimits(app.config, app.extensions[STORE].counts_rate_windows)
    app.extensions[RATE_LIMITS] = rate_limits
    return rate_limits


def limited(*limits: tuple[str, str, Callable[[], str]],
            unless_events_in_store: bool = False) -> Callable[[Callable], Callable]:
    """Count each request of the decorated view, before anything else, against each
    ``(scope, setting, key_func)``: the limits of ``config[setting]`` per ``key_func()``, in
    order, up to the first exceeded (429).

    With ``unless_events_in_store`` nothing is counted here when the event script counts
    the windows itself (see :func:`event_windows`).
    """

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            app = current_app._get_current_object()  # see client_ip
            config = app.config
            rate_limits: RateLimits = app.extensions[RATE_LIMITS]
            if config["RATELIMIT_ENABLED"] and not (
                    unless_events_in_store and rate_limits.events_in_store):
                for scope, setting, key_func in limits:
                    rate_limits.hit(scope, config[setting], key_func())
            return view(*args, **kwargs)

        return wrapper

    return decorate


@functools.lru_cache(maxsize=64)
def _items(spec: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(spec))


@functools.lru_cache(maxsize=64)
def _parsed(spec: str) -> tuple[tuple[str, int, int, str], ...]:
    """``(key suffix, amount, seconds, label)`` of each limit in ``spec``."""
    return tuple((f"{item.amount}/{item.multiples}{item.GRANULARITY.name}", item.amount,
                  item.get_expiry(), str(item)) for item in _items(spec))


@functools.lru_cache(maxsize=4096)  # the same clients post again and again
def _windows(scope: str, spec: str, who: str) -> tuple[RateWindow, ...]:
    return tuple(RateWindow(keys.rate_window(scope, who, suffix), amount, seconds, label)
                 for suffix, amount, seconds, label in _parsed(spec))


def event_windows(token: str) -> list[RateWindow]:
    """The windows the store counts for this event-posting request with bearer ``token``:
    per token, then per IP (empty when limits are off or :func:`limited` counts them)."""
    app = current_app._get_current_object()
    config = app.config
    if not config["RATELIMIT_ENABLED"] or not app.extensions[RATE_LIMITS].events_in_store:
        return []
    return [*_windows("events-token", config["RATELIMIT_EVENTS"], _token_digest(token)),
            *_windows("events-ip", config["RATELIMIT_EVENTS_PER_IP"], client_ip())]


def count_batch_events(token: str, events: int) -> None:
    """Where :func:`limited` counts the event-posting windows (not the store), count a valid
    batch's ``events`` beyond the one hit its request already counted: the windows count
    events, not requests.

    Raises
    ------
    RateLimited
        A window was exceeded: the batch must not be applied.
    """
    app = current_app._get_current_object()
    config = app.config
    rate_limits: RateLimits = app.extensions[RATE_LIMITS]
    if not config["RATELIMIT_ENABLED"] or rate_limits.events_in_store or events <= 1:
        return
    rate_limits.hit("events-token", config["RATELIMIT_EVENTS"], _token_digest(token), events - 1)
    rate_limits.hit("events-ip", config["RATELIMIT_EVENTS_PER_IP"], client_ip(), events - 1)


def rate_limited_response(error: RateLimited) -> Response:
    """The 429 problem of an exceeded window (counted by the store or by :class:`RateLimits`)."""
    retry_after = max(1, math.ceil(error.retry_after_ms / 1000))
    return problem(429, "Too Many Requests",
                   f"Rate limit of {error.window.label} exceeded; retry in {retry_after} s.",
                   headers={"Retry-After": str(retry_after)})
