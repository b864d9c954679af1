"""Configuration: defaults, then ``PAPERFEED_*`` environment variables, then overrides.

Every setting can be given in the environment with the ``PAPERFEED_`` prefix, for example
``PAPERFEED_REDIS_URL=redis://127.0.0.1:6379/0``. Values are parsed as JSON when they can
be (``PAPERFEED_WORKERS=4`` is the integer 4), as with ``flask.Config.from_prefixed_env``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Config


def default_data_dir() -> str:
    """Where paperfeed keeps its embedded Redis data and models when nothing is configured."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return os.path.join(base, "paperfeed")


DEFAULTS: dict[str, Any] = {
    # Redis URL; None means "use the embedded Redis of DATA_DIR".
    "REDIS_URL": None,
    # Web requests: a Redis command unanswered this long is a 503 (a stalled Redis).
    "REDIS_TIMEOUT_SECONDS": 1.0,
    "DATA_DIR": None,
    # Trending (backend/feeds.py): a paper's HF upvotes plus this service's readers, in
    # upvotes: each user who opened it adds WEIGHT_OPEN, each who saves it WEIGHT_SAVE (at
    # most 1 together); halved every HALF_LIFE_DAYS of the paper's age in the window.
    "TRENDING_HALF_LIFE_DAYS": 3.0,
    "TRENDING_WEIGHT_OPEN": 0.25,
    "TRENDING_WEIGHT_SAVE": 0.75,
    # Per-user interaction weights the recommender trains from.
    "WEIGHT_OPEN": 1.0,
    "WEIGHT_OPEN_CAP": 3,
    "WEIGHT_SAVE": 5.0,
    # Raw per-user event log retention.
    "EVENT_RETENTION_DAYS": 90,
    # CORS: extension origins (chrome-extension://<32 letters a-p>, moz-extension://<uuid>)
    # whose id is listed here, any such id when empty (production: list yours); plus these
    # exact origins.
    "CORS_EXTENSION_IDS": [],
    "CORS_ORIGINS": [],
    # Reverse proxies in front (deploy/nginx: 1) whose X-Forwarded-For/-Proto are trusted.
    "TRUSTED_PROXIES": 0,
    # gunicorn
    "WORKERS": 2,
    "THREADS": 8,
    # Seconds a computed trending ranking is reused within one worker.
    "TRENDING_CACHE_SECONDS": 2.0,
    "MAX_CONTENT_LENGTH": 256 * 1024,
    # Recommender: where model versions live (default <DATA_DIR>/models), how often
    # workers look for a new version (the final list's blend is the published model's own).
    "MODELS_DIR": None,
    "MODEL_POLL_SECONDS": 30,
    # A user's finished list is reused until their next event, the next model, or this.
    "RECOMMENDATIONS_CACHE_SECONDS": 30,
    # Model hyper-parameters passed to recommender.train (empty: its tuned defaults).
    "RECOMMENDER_PARAMS": {},
    # paperfeed scheduler (cron expressions, UTC); the refresh imports the newest Daily
    # Papers days from HF_API_URL, then maps new papers into the current model.
    "TRAIN_CRON": "0 3 * * 1",
    "REFRESH_CRON": "0 * * * *",
    "HF_API_URL": "https://huggingface.co/api/daily_papers",
    # Rate limits (backend/limits.py).
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_REGISTER": "20/hour",  # per IP on POST /v1/users
    "RATELIMIT_EVENTS": "600/minute",  # per token on POST /v1/events
    "RATELIMIT_EVENTS_PER_IP": "6000/minute",  # per IP on POST /v1/events
    "RATELIMIT_STORAGE_URI": None,  # None: the Redis of REDIS_URL
    "RATELIMIT_SWALLOW_ERRORS": True,  # Redis down: don't limit, the store answers 503
}


def load_config(overrides: dict[str, Any] | None = None) -> Config:
    """Return the effective configuration: defaults < environment < ``overrides``."""
    config = Config(os.getcwd())
    config.from_mapping(DEFAULTS)
    config.from_prefixed_env("PAPERFEED")
    if overrides:
        config.update(overrides)
    if not config.get("DATA_DIR"):
        config["DATA_DIR"] = default_data_dir()
    return config
