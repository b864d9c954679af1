"""Digest subscriptions in Redis: the subscription, its single-use tokens, per-period claims.

Per-user data lives in the user's hash tag (``keys.USER_DIGEST_PARTS``), so it goes with the
user (``Store.delete_user``). Three entries are global: the set of active subscribers
(``keys.DIGEST_ACTIVE``, user ids), per active address the one user it is active for
(``keys.digest_address``, keyed by a keyed hash of the address, never the address itself),
and the digests whose delivery is to be retried (``keys.DIGEST_RETRIES``, user id and period);
:meth:`Subscriptions.forget_user` removes a user's entries there.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

import redis

from backend import keys
from backend.store import RateLimited, RateWindow, scan_batches, to_ms

CONFIRMATIONS_PER_DAY = 3
CONFIRM_TTL = timedelta(hours=48)
CLAIM_LEASE = timedelta(minutes=30)
CLAIM_MEMORY = timedelta(days=30)
SUPPRESS_AFTER = 3  # permanent failures in a row
PUBLIC_FIELDS = ("email", "frequency", "hour_utc", "weekday", "status", "last_sent_at")
_RELEASE_ADDRESS = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@dataclass(frozen=True)
class Subscription:
    """A stored subscription (``status``: pending, active or suppressed)."""

    user_id: str
    email: str
    frequency: str
    hour_utc: int
    weekday: int
    status: str
    sid: str
    last_sent_at: str | None = None
    last_until: str | None = None  # the last day a digest covered (ISO date)

    @classmethod
    def from_hash(cls, user_id: str, raw: dict[str, str]) -> Subscription | None:
        """The subscription of a stored hash, or None for an empty or partial one."""
        try:
            return cls(user_id=user_id, email=raw["email"], frequency=raw["frequency"],
                       hour_utc=int(raw["hour_utc"]), weekday=int(raw.get("weekday") or 0),
                       status=raw["status"], sid=raw["sid"],
                       last_sent_at=raw.get("last_sent_at") or None,
                       last_until=raw.get("last_until") or None)
        except (KeyError, ValueError):
            return None

    def public(self) -> dict[str, Any]:
        """What ``GET /v1/me/subscription`` shows."""
        return {"email": self.email, "frequency": self.frequency, "hour_utc": self.hour_utc,
                "weekday": self.weekday if self.frequency == "weekly" else None,
                "status": self.status, "last_sent_at": self.last_sent_at}


NO_SUBSCRIPTION = {"email": None, "frequency": None, "hour_utc": None, "weekday": None,
                   "status": "none", "last_sent_at": None}


@dataclass(frozen=True)
class Requested:
    """What a subscription request did: the status, and the nonce of a confirmation to mail."""

    status: str
    nonce: str | None


class Subscriptions:
    """Reads and writes digest subscriptions.

    Parameters
    ----------
    client:
        The store's Redis client (``decode_responses=True``).
    secret_key:
        The key that also signs the tokens; here it keys the hash of addresses.
    """

    def __init__(self, client: redis.Redis, secret_key: str):
        self.client = client
        self._address_key = hashlib.sha256(b"paperfeed-address\0" + secret_key.encode()).digest()
        self._claim = client.register_script(
            resources.files("backend.digest").joinpath("claim.lua").read_text())
        self._release_address = client.register_script(_RELEASE_ADDRESS)

    def address_digest(self, email: str) -> str:
        """A keyed hash of a (normalised) address: the same for any case of it."""
        return hmac.new(self._address_key, email.lower().encode(), hashlib.sha256).hexdigest()[:40]

    # -- the user's view -----------------------------------------------------------------

    def get(self, user_id: str) -> Subscription | None:
        """The user's subscription, or None."""
        return Subscription.from_hash(user_id, self.client.hgetall(keys.user(user_id, "subscription")))

    def public(self, user_id: str) -> dict[str, Any]:
        """The subscription as the API shows it (status ``none`` without one)."""
        subscription = self.get(user_id)
        return subscription.public() if subscription else dict(NO_SUBSCRIPTION)

    def count_confirmation(self, windows: list[RateWindow]) -> None:
        """Count one confirmation email in each window, or raise :class:`RateLimited` (and count
        nothing) if one of them is full."""
        pipe = self.client.pipeline(transaction=False)
        for window in windows:
            pipe.get(window.key)
            pipe.pttl(window.key)
        replies = pipe.execute()
        for window, count, ttl in zip(windows, replies[0::2], replies[1::2], strict=True):
            if count is not None and int(count) >= window.amount:
                raise RateLimited(window, ttl if ttl > 0 else window.seconds * 1000)
        pipe = self.client.pipeline(transaction=False)
        for window in windows:
            pipe.set(window.key, 0, ex=window.seconds, nx=True)
            pipe.incr(window.key)
        pipe.execute()

    def confirmation_windows(self, email: str, requester: str) -> list[RateWindow]:
        """The windows of confirmation emails: per address and per requesting token."""
        label = f"{CONFIRMATIONS_PER_DAY} per 1 day"
        return [RateWindow(keys.rate_window("digest-confirm", who, "3d"),
                           CONFIRMATIONS_PER_DAY, 86400, label)
                for who in ("a:" + self.address_digest(email), requester)]

    def needs_confirmation(self, user_id: str, email: str) -> bool:
        """Whether subscribing ``email`` needs a confirmation (it is not the active address)."""
        current = self.get(user_id)
        return not (current and current.status == "active" and current.email == email)

    def request(self, user_id: str, email: str, frequency: str, hour_utc: int, weekday: int,
                now: datetime) -> Requested:
        """Subscribe ``email``: the active address only changes its schedule; any other
        address (or a suppressed one) becomes pending with a new confirmation nonce."""
        key = keys.user(user_id, "subscription")
        schedule = {"frequency": frequency, "hour_utc": hour_utc, "weekday": weekday}
        current = self.get(user_id)
        if current and current.status == "active" and current.email == email:
            self.client.hset(key, mapping=schedule)
            return Requested("active", None)
        if current:
            self._release(current)
        nonce = secrets.token_hex(16)
        tokens = keys.user(user_id, "mailtokens")
        expired = [field for field, raw in self.client.hgetall(tokens).items()
                   if _token_record(raw).get("expires_ms", 0) < to_ms(now)]
        pipe = self.client.pipeline(transaction=True)
        if expired:
            pipe.hdel(tokens, *expired)
        pipe.hset(key, mapping={**schedule, "email": email, "status": "pending",
                                "sid": secrets.token_hex(8), "failures": 0,
                                "requested_at": now.isoformat()})
        pipe.hset(tokens, nonce, json.dumps({"purpose": "confirm", "email": email,
                                             "expires_ms": to_ms(now + CONFIRM_TTL)}))
        pipe.execute()
        return Requested("pending", nonce)

    def confirm(self, user_id: str, nonce: str, now: datetime) -> Subscription | None:
        """Use a confirmation nonce: the pending subscription becomes active, and the address
        stops being active for any other user. None if the nonce was used, replaced or
        expired, or the subscription changed since."""
        record = _token_record(self.client.hget(keys.user(user_id, "mailtokens"), nonce))
        current = self.get(user_id)
        if (not record or record.get("expires_ms", 0) < to_ms(now) or current is None
                or current.status != "pending" or current.email != record.get("email")):
            return None
        if not self.client.hdel(keys.user(user_id, "mailtokens"), nonce):
            return None  # used by a concurrent request
        digest = self.address_digest(current.email)
        previous = self.client.getset(keys.digest_address(digest), user_id)
        if previous and previous != user_id:
            other = self.get(previous)
            if other and self.address_digest(other.email) == digest:
                self.cancel(previous)
        pipe = self.client.pipeline(transaction=False)
        pipe.hset(keys.user(user_id, "subscription"),
                  mapping={"status": "active", "confirmed_at": now.isoformat(), "failures": 0})
        pipe.sadd(keys.DIGEST_ACTIVE, user_id)
        pipe.execute()
        return self.get(user_id)

    def cancel(self, user_id: str, sid: str | None = None) -> bool:
        """End the user's subscription (only the one of ``sid`` if given) and its tokens.
        The record of sent periods stays, so a new subscription never repeats one."""
        current = self.get(user_id)
        if current is None or (sid is not None and current.sid != sid):
            return False
        self._release(current)
        self.client.delete(keys.user(user_id, "subscription"), keys.user(user_id, "mailtokens"))
        return True

    def forget_user(self, user_id: str) -> None:
        """Remove the user's global digest entries (before ``Store.delete_user`` removes the
        user's own keys)."""
        current = self.get(user_id)
        if current:
            self._release(current)
        self.client.srem(keys.DIGEST_ACTIVE, user_id)
        retries = list(self.client.zscan_iter(keys.DIGEST_RETRIES, match=f"{user_id}|*"))
        if retries:
            self.client.zrem(keys.DIGEST_RETRIES, *(member for member, _ in retries))

    def _release(self, subscription: Subscription) -> None:
        self._release_address(keys=[keys.digest_address(self.address_digest(subscription.email))],
                              args=[subscription.user_id])
        self.client.srem(keys.DIGEST_ACTIVE, subscription.user_id)

    # -- the run -------------------------------------------------------------------------

    def iter_active(self, batch: int = 1000) -> Iterator[list[Subscription]]:
        """Active subscriptions, in batches (entries of deleted users are dropped)."""
        for user_ids in scan_batches(self.client, keys.DIGEST_ACTIVE, batch):
            yield [s for s in self.of_users(user_ids) if s and s.status == "active"]

    def of_users(self, user_ids: list[str]) -> list[Subscription | None]:
        """The users' subscriptions (None for a user without one), in one round trip."""
        pipe = self.client.pipeline(transaction=False)
        for user_id in user_ids:
            pipe.hgetall(keys.user(user_id, "subscription"))
        return [Subscription.from_hash(user_id, raw)
                for user_id, raw in zip(user_ids, pipe.execute(), strict=True)]

    def period_states(self, user_ids: list[str], period: str) -> list[str | None]:
        """Each user's state of ``period`` (None: unclaimed)."""
        pipe = self.client.pipeline(transaction=False)
        for user_id in user_ids:
            pipe.hget(keys.user(user_id, "digests"), period)
        return pipe.execute()

    def claim(self, subscription: Subscription, period: str, run_id: str,
              now: datetime) -> int:
        """Claim the user's period for this run: the attempt this is (1 for the first, more
        after deferrals), or 0 if it is taken, done or deferred to later, or the
        subscription ended or changed since it was read."""
        oldest = (now - CLAIM_MEMORY).date().isoformat()
        return int(self._run_claim(subscription, "claim", period, run_id, now,
                                   int(CLAIM_LEASE.total_seconds() * 1000), oldest))

    def advance(self, subscription: Subscription, period: str, run_id: str, kind: str,
                now: datetime) -> bool:
        """Move this run's claim to ``kind`` (sending, empty, failed). For ``sending`` the
        subscription must still be active (otherwise the claim is dropped: False)."""
        return bool(self._run_claim(subscription, "advance", period, run_id, now, kind))

    def release(self, subscription: Subscription, period: str, run_id: str,
                now: datetime) -> bool:
        """Give this run's claim back (the message was surely not taken)."""
        return bool(self._run_claim(subscription, "release", period, run_id, now, ""))

    def defer(self, subscription: Subscription, period: str, run_id: str, now: datetime,
              attempts: int, at: datetime) -> bool:
        """Give this run's claim back until ``at``, after ``attempts`` attempts, and list the
        period among the retries due then (:meth:`take_due_retries`)."""
        if not self._run_claim(subscription, "defer", period, run_id, now, to_ms(at), attempts):
            return False
        self.client.zadd(keys.DIGEST_RETRIES, {f"{subscription.user_id}|{period}": to_ms(at)})
        return True

    def take_due_retries(self, now: datetime, limit: int = 1000) -> list[tuple[str, str]]:
        """Up to ``limit`` retries due at ``now`` as ``(user id, period)``, taken off the list
        (a concurrent run gets the others). A retry taken by a run that dies on the way stays
        deferred in the user's claims, where the next hourly run finds it."""
        members = self.client.zrangebyscore(keys.DIGEST_RETRIES, "-inf", to_ms(now),
                                            start=0, num=limit)
        if not members:
            return []
        pipe = self.client.pipeline(transaction=False)
        for member in members:
            pipe.zrem(keys.DIGEST_RETRIES, member)
        taken = [member for member, removed in zip(members, pipe.execute(), strict=True)
                 if removed]
        return [tuple(member.split("|", 1)) for member in taken]

    def record_sent(self, subscription: Subscription, period: str, run_id: str, now: datetime,
                    until: str) -> bool:
        """Mark this run's period ``sent`` and, if the subscription is still the same,
        remember when and up to which day the digest covered (one round trip)."""
        return bool(self._run_claim(subscription, "advance", period, run_id, now, "sent",
                                    until, now.isoformat()))

    def _run_claim(self, subscription: Subscription, operation: str, period: str, run_id: str,
                   now: datetime, *args: object) -> Any:
        user_id = subscription.user_id
        return self._claim(
            keys=[keys.user(user_id, "digests"), keys.user(user_id, "subscription")],
            args=[operation, period, run_id, to_ms(now), args[0], subscription.sid, *args[1:]])

    def record_permanent_failure(self, subscription: Subscription) -> str:
        """The recipient was refused (5xx); after 3 in a row the subscription is suppressed.
        Returns the status."""
        key = keys.user(subscription.user_id, "subscription")
        if self.client.hget(key, "sid") != subscription.sid:
            return "none"
        if self.client.hincrby(key, "failures", 1) < SUPPRESS_AFTER:
            return subscription.status
        self.client.hset(key, "status", "suppressed")
        self.client.srem(keys.DIGEST_ACTIVE, subscription.user_id)
        return "suppressed"


def _token_record(raw: str | None) -> dict[str, Any]:
    try:
        record = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}
