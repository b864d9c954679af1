"""Every Redis key paperfeed uses, in one place.

All keys live under the ``pf:`` namespace. Keys that belong to one user share the hash
tag ``{<user id>}`` so that a user's keys sit in one Redis Cluster hash slot and can be
changed together by one script or transaction. User ids are hex and paper ids are
validated arXiv ids, so neither can contain ``:``, ``{`` or ``}``.
"""

from __future__ import annotations

USERS = "pf:users"  # set of user ids (for training and admin scans)
TOKEN = "pf:token:{token_hash}"  # string -> user id
META = "pf:meta"  # hash: newest_daily_date, ...
MODEL_POINTER = "pf:model:current"  # string: current model version
PAPER = "pf:p:{paper_id}"  # hash: catalogue entry
PAPERS_BY_DAY = "pf:papers:day"  # zset paper id -> day number (days since 1970-01-01)
PAPERS_UPVOTES = "pf:papers:upvotes"  # zset paper id -> Hugging Face upvotes
# Trending's readers (backend/feeds.py), counted per user and paper once, whatever they send:
TRENDING_OPENERS = "pf:{trending}:openers"  # zset paper id -> users who ever opened it
TRENDING_SAVERS = "pf:{trending}:savers"  # zset paper id -> users who save it now
# Event-weighted trending scores of an older layout: their presence tells Store.upgrade_data
# that the store predates reader counts and the import-only catalogue.
OLDER_TRENDING_KEYS = ("pf:{trending}:scores", "pf:{trending}:epoch")
LAYOUT_FIELD = "layout"  # field of META: the version of the key layout the data is in
DIGEST_ACTIVE = "pf:digest:active"  # set of user ids with an active subscription
DIGEST_ADDRESS = "pf:digest:address:{digest}"  # string -> the user id an address is active for
DIGEST_RETRIES = "pf:digest:retries"  # zset "<user id>|<period>" -> when its retry is due (ms)
LOCK = "pf:lock:{name}"  # string: a named lock (training, ...)
# Rate limits (backend/limits.py): the `limits` library's counters are under this prefix,
# and so are the event-posting windows that the event script counts itself (single Redis).
RATE_LIMIT_PREFIX = "pf:rl"
RATE_WINDOW = RATE_LIMIT_PREFIX + ":{scope}:{who}:{limit}"  # string: hits in a fixed window

# Per-user keys, in the order of the event script's KEYS (apply_events.lua); every part
# here, in USER_CACHE_PARTS and in USER_DIGEST_PARTS is deleted with the user.
USER_PARTS = (
    "meta",  # hash: created_at, token_hash
    "events",  # stream: the raw event log, trimmed by age
    "eids",  # zset event id -> event time (ms): idempotency of retried events
    "savestate",  # hash paper id -> "<ts ms>|save" or "<ts ms>|unsave" (latest wins)
    "saved",  # zset paper id -> saved_at (ms)
    "dismissed",  # zset paper id -> dismissed at (ms)
    "opens",  # hash paper id -> number of opens
    "titles",  # hash paper id -> title an event of this user supplied (shown to them only)
)
# Per-user caches (expiring; never read by the event script).
USER_CACHE_PARTS = (
    "lists",  # hash "<days>:<limit>" -> JSON of a finished recommendation list, shared by workers
)
# Per-user parts of the email digest (backend/digest/subscriptions.py).
USER_DIGEST_PARTS = (
    "subscription",  # hash: email, frequency, hour_utc, weekday, status, sid, failures, ...
    "mailtokens",  # hash token nonce -> JSON {purpose, email, expires_ms}: single-use tokens
    "digests",  # hash period -> "<claimed|sending|sent|empty|failed>|<run id>|<ms>"
    #             or "deferred|<attempts>|<ms>" (claim.lua)
)
# Per-user parts of an older layout, removed by Store.upgrade_data (and with the user).
OLDER_USER_PARTS = (
    "weights",  # hash paper id -> interaction weight (derived from opens, saved, dismissed)
)
ALL_USER_PARTS = USER_PARTS + USER_CACHE_PARTS + USER_DIGEST_PARTS + OLDER_USER_PARTS


def token(token_hash: str) -> str:
    """Key mapping a token hash to its user id."""
    return TOKEN.format(token_hash=token_hash)


def user(user_id: str, part: str) -> str:
    """Key of one part (see ``ALL_USER_PARTS``) of a user's data."""
    if part not in ALL_USER_PARTS:
        raise ValueError(f"unknown user key part {part!r}")
    return f"pf:u:{{{user_id}}}:{part}"


def user_keys(user_id: str) -> list[str]:
    """All keys that hold a user's data, in ``ALL_USER_PARTS`` order."""
    return [user(user_id, part) for part in ALL_USER_PARTS]


def user_state_keys(user_id: str) -> list[str]:
    """The user's keys the event script works on, in ``USER_PARTS`` order."""
    prefix = user(user_id, "meta")[:-len("meta")]  # built once per event batch, not per key
    return [prefix + part for part in USER_PARTS]


def rate_window(scope: str, who: str, limit: str) -> str:
    """Counter of one fixed rate-limit window (``who``: a client IP or a token digest, never a
    token or a user id)."""
    return RATE_WINDOW.format(scope=scope, who=who, limit=limit)


def paper(paper_id: str) -> str:
    """Key of a paper's catalogue entry."""
    return PAPER.format(paper_id=paper_id)


def paper_prefix() -> str:
    """``prefix`` with ``prefix + paper_id == paper(paper_id)`` (for scripts)."""
    return paper("\0").partition("\0")[0]


def digest_address(digest: str) -> str:
    """Key naming the one user an email address is active for (``digest``: a keyed hash of the
    normalised address, never the address)."""
    return DIGEST_ADDRESS.format(digest=digest)


def lock(name: str) -> str:
    """Key of a named lock."""
    return LOCK.format(name=name)
