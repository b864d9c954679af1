"""Rate limits on registration and event posting, stored in paperfeed's Redis.

Limits are counted per client IP for ``POST /v1/users`` and per token and per IP for
``POST /v1/events``. Flask-Limiter counts them, except the event-posting windows on a single
Redis that also holds the limiter's counters (the default): there the event script counts
them itself, with the same fixed-window strategy, in the round trip that authenticates and
applies the batch (Flask-Limiter's two windows would add two round trips and more time than
the rest of a one-event request; docs/performance.md). Requests that fail before reaching the
script (an invalid body) are counted in the same windows by a small script.

A limit key never carries a raw token or a user id: tokens are reduced to a domain-separated
hash (different from the stored token hash), so nothing in the limiter's keys links to a
user once the user is deleted, and the keys expire with their window anyway. Settings
(``PAPERFEED_`` + name in the environment):

``RATELIMIT_ENABLED``          false disables every limit.
``RATELIMIT_REGISTER``         per IP on POST /v1/users (default ``20/hour``).
``RATELIMIT_EVENTS``           per token on POST /v1/events (default ``600/minute``).
``RATELIMIT_EVENTS_PER_IP``    per IP on POST /v1/events (default ``6000/minute``).
``RATELIMIT_STORAGE_URI``      default: the Redis of ``REDIS_URL``.
"""

from __future__ import annotations

import functools
import hashlib
import math
import time

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from limits import RateLimitItem, parse_many

from backend import keys
from backend.errors import problem
from backend.store import RateLimited, RateWindow

LIMITER = "paperfeed.limiter"
EVENT_WINDOWS_IN_STORE = "paperfeed.event_windows_in_store"
KEY_PREFIX = keys.RATE_LIMIT_PREFIX


def storage_uri_for(redis_url: str) -> str:
    """The ``limits`` storage URI of a paperfeed Redis URL."""
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url[len("unix://"):]
    return redis_url  # redis://, rediss:// and redis+cluster:// are understood as they are


def client_ip() -> str:
    """The client address (the direct peer; put a proxy's ProxyFix in front if needed)."""
    return "ip:" + (request.remote_addr or "unknown")


def token_key() -> str:
    """A per-token key that is not the token and not its stored hash."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return client_ip()
    digest = hashlib.sha256(b"paperfeed-ratelimit\0" + token.encode()).hexdigest()[:32]
    return "t:" + digest


def init_app(app: Flask) -> Limiter:
    """Create the app's limiter and attach the limits to the registration and events routes
    (the events windows only where the store does not count them itself)."""
    from backend.api import events, users
    from backend.extensions import STORE

    config = app.config
    shared_storage = not config.get("RATELIMIT_STORAGE_URI")
    if shared_storage and config.get("REDIS_URL"):
        config["RATELIMIT_STORAGE_URI"] = storage_uri_for(config["REDIS_URL"])
    options = {"key_prefix": KEY_PREFIX, "socket_connect_timeout": 2, "socket_timeout": 2}
    options.update(config.get("RATELIMIT_STORAGE_OPTIONS") or {})
    config["RATELIMIT_STORAGE_OPTIONS"] = options
    limiter = Limiter(client_ip, app=app)
    limiter.limit(lambda: current_app.config["RATELIMIT_REGISTER"], key_func=client_ip,
                  methods=["POST"], scope="register")(users.blp)
    in_store = shared_storage and app.extensions[STORE].counts_rate_windows
    app.extensions[EVENT_WINDOWS_IN_STORE] = in_store
    if in_store:
        # Nothing for Flask-Limiter to count there: its request filter skips the rest of its
        # per-request work at once.
        limiter.request_filter(lambda: request.blueprint == events.blp.name)
    else:
        limiter.limit(lambda: current_app.config["RATELIMIT_EVENTS"], key_func=token_key,
                      methods=["POST"], scope="events-token")(events.blp)
        limiter.limit(lambda: current_app.config["RATELIMIT_EVENTS_PER_IP"], key_func=client_ip,
                      methods=["POST"], scope="events-ip")(events.blp)
    app.extensions[LIMITER] = limiter
    return limiter


@functools.lru_cache(maxsize=64)
def _parsed(spec: str) -> tuple[tuple[str, int, int, str], ...]:
    """``(key suffix, amount, seconds, label)`` of each limit in ``spec``."""
    items: list[RateLimitItem] = parse_many(spec)
    return tuple((f"{item.amount}/{item.multiples}{item.GRANULARITY.name}", item.amount,
                  item.get_expiry(), str(item)) for item in items)


def _windows(scope: str, spec: str, who: str) -> list[RateWindow]:
    return [RateWindow(keys.rate_window(scope, who, suffix), amount, seconds, label)
            for suffix, amount, seconds, label in _parsed(spec)]


def event_windows() -> list[RateWindow]:
    """The windows the store counts for this event-posting request: per token, then per IP
    (empty when limits are off or Flask-Limiter counts them)."""
    app = current_app
    if not app.extensions.get(EVENT_WINDOWS_IN_STORE) or not app.config["RATELIMIT_ENABLED"]:
        return []
    return [*_windows("events-token", app.config["RATELIMIT_EVENTS"], token_key()),
            *_windows("events-ip", app.config["RATELIMIT_EVENTS_PER_IP"], client_ip())]


def retry_after_seconds() -> int:
    """Seconds until the limit the current request broke resets (at least 1)."""
    limiter: Limiter | None = current_app.extensions.get(LIMITER)
    current = limiter.current_limit if limiter else None
    if current is None:
        return 1
    return max(1, math.ceil(current.reset_at - time.time()))


def too_many_requests(description: str, retry_after: int) -> Response:
    """The 429 problem of an exceeded limit."""
    return problem(429, "Too Many Requests",
                   f"Rate limit of {description} exceeded; retry in {retry_after} s.",
                   headers={"Retry-After": str(retry_after)})


def rate_limited_response(error: RateLimited) -> Response:
    """The 429 of a window the store found exceeded."""
    return too_many_requests(error.window.label, max(1, math.ceil(error.retry_after_ms / 1000)))
