"""Rate limits (Flask-Limiter) on registration and event posting, stored in paperfeed's Redis.

Limits are counted per client IP for ``POST /v1/users`` and per token and per IP for
``POST /v1/events``. A limit key never carries a raw token or a user id: tokens are
reduced to a domain-separated hash (different from the stored token hash), so nothing
in the limiter's keys links to a user once the user is deleted, and the keys expire
with their window anyway. Settings (``PAPERFEED_`` + name in the environment):

``RATELIMIT_ENABLED``          false disables every limit.
``RATELIMIT_REGISTER``         per IP on POST /v1/users (default ``20/hour``).
``RATELIMIT_EVENTS``           per token on POST /v1/events (default ``600/minute``).
``RATELIMIT_EVENTS_PER_IP``    per IP on POST /v1/events (default ``6000/minute``).
``RATELIMIT_STORAGE_URI``      default: the Redis of ``REDIS_URL``.
"""

from __future__ import annotations

import hashlib
import math
import time

from flask import Flask, current_app, request
from flask_limiter import Limiter

from backend.api import events, users

LIMITER = "paperfeed.limiter"
KEY_PREFIX = "pf:rl"


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
    """Create the app's limiter and attach the limits to the registration and events routes."""
    config = app.config
    if not config.get("RATELIMIT_STORAGE_URI") and config.get("REDIS_URL"):
        config["RATELIMIT_STORAGE_URI"] = storage_uri_for(config["REDIS_URL"])
    options = {"key_prefix": KEY_PREFIX, "socket_connect_timeout": 2, "socket_timeout": 2}
    options.update(config.get("RATELIMIT_STORAGE_OPTIONS") or {})
    config["RATELIMIT_STORAGE_OPTIONS"] = options
    limiter = Limiter(client_ip, app=app)
    limiter.limit(lambda: current_app.config["RATELIMIT_REGISTER"], key_func=client_ip,
                  methods=["POST"], scope="register")(users.blp)
    limiter.limit(lambda: current_app.config["RATELIMIT_EVENTS"], key_func=token_key,
                  methods=["POST"], scope="events-token")(events.blp)
    limiter.limit(lambda: current_app.config["RATELIMIT_EVENTS_PER_IP"], key_func=client_ip,
                  methods=["POST"], scope="events-ip")(events.blp)
    app.extensions[LIMITER] = limiter
    return limiter


def retry_after_seconds() -> int:
    """Seconds until the limit the current request broke resets (at least 1)."""
    limiter: Limiter | None = current_app.extensions.get(LIMITER)
    current = limiter.current_limit if limiter else None
    if current is None:
        return 1
    return max(1, math.ceil(current.reset_at - time.time()))
