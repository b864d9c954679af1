"""``paperfeed digest``: send the digests that are due now.

A subscription is due once its hour (and, weekly, its weekday) has come in the current
period (the UTC day, or the Monday-to-Sunday week), until its digest for that period is
done. Each digest goes through the user's claim on the period (``claim.lua``):

1. claim the period (skip the user if another run holds or finished it, or its retry is
   not due yet);
2. compose; nothing new in the period: mark it ``empty``, send nothing;
3. mark it ``sending``, hand the message to the SMTP server;
4. accepted: ``sent``. A 5xx for the recipient: ``failed`` (three in a row suppress the
   subscription). A 4xx or a connection error: ``deferred`` until a retry time
   (``DIGEST_RETRY_DELAYS`` after each attempt), listed among the retries that
   :meth:`DigestRun.retry` sends when due (the scheduler runs it every minute); after the
   last delay the claim is released for the next hourly run. Nothing waits for a retry.

A process killed before step 3 leaves a ``claimed`` lease that expires after 30 minutes, and
a later run sends that digest. Killed between the server's acceptance and ``sent`` (during
step 3 or 4), the period stays ``sending`` and is never sent again: the user gets that digest
once or, if the server had not finished accepting it, misses that one period. Never twice.

A large run spreads the due digests over worker processes (``DIGEST_WORKERS``), each with
a disjoint share and its part of the ``DIGEST_CONNECTIONS`` SMTP connections; the claims keep
concurrent runs apart as they keep the shares apart.
"""

from __future__ import annotations

import logging
import multiprocessing
import secrets
import threading
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from backend.digest import mailer
from backend.digest.compose import DigestComposer
from backend.digest.service import DigestService
from backend.digest.subscriptions import Subscription
from backend.store import to_ms

log = logging.getLogger(__name__)
FREQUENCIES = ("daily", "weekly")
CHUNK = 16  # digests whose readers' states are read in one round trip
MIN_SHARE = 250  # fewer due digests per worker than this: fewer workers (each takes ~2 s to start)
# A digest run's own view of the caches: one trending ranking a minute is fresh enough for
# mail, and a recommendation list made for a digest is never asked for again.
RUN_CACHES = {"TRENDING_CACHE_SECONDS": 60.0, "RECOMMENDATIONS_CACHE_SECONDS": 0}


def period_of(subscription: Subscription, now: datetime) -> str | None:
    """The period whose digest is due for the subscription at ``now`` (UTC), or None before
    its hour (daily) or its weekday and hour (weekly) in the current period."""
    start = now.replace(hour=subscription.hour_utc, minute=0, second=0, microsecond=0)
    if subscription.frequency == "weekly":
        start += timedelta(days=subscription.weekday - now.weekday())
    if now < start:
        return None
    return f"{subscription.frequency}:{start.date().isoformat()}"


def claimable(state: str | None, now_ms: int) -> bool:
    """Whether a run may try to claim a period in ``state`` (claim.lua decides): unclaimed,
    claimed (the lease may have run out), or deferred to a retry time that has come."""
    if state is None or state.startswith("claimed|"):
        return True
    ms = state.rpartition("|")[2]
    return state.startswith("deferred|") and ms.isdigit() and int(ms) <= now_ms


@dataclass
class RunReport:
    """What a run did: counts per outcome (sent, empty, failed, suppressed, deferred,
    skipped, error) and, for a dry run, the subjects it would send."""

    due: int = 0
    outcomes: Counter = field(default_factory=Counter)
    would_send: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the command's output."""
        parts = [f"{count} {name}" for name, count in sorted(self.outcomes.items())]
        return f"{self.due} due" + (": " + ", ".join(parts) if parts else "")


class DigestRun:
    """Sends due digests through a few reused SMTP connections in parallel, in one or
    several processes.

    Parameters
    ----------
    service:
        The digest service (settings, subscriptions, tokens, renderer).
    composer:
        Builds each user's digest (on a ``RunStore``).
    config:
        The configuration the run was made from (what worker processes start from).
    """

    def __init__(self, service: DigestService, composer: DigestComposer,
                 config: dict[str, Any] | None = None):
        self.service = service
        self.subscriptions = service.subscriptions
        self.composer = composer
        self.config = config
        self.run_id = secrets.token_hex(8)
        self._local = threading.local()
        self._connections: list[mailer.Connection] = []
        self._connections_lock = threading.Lock()

    def due(self, now: datetime, frequency: str | None = None,
            only: str | None = None) -> list[tuple[Subscription, str]]:
        """The active subscriptions with a period due now and not yet claimed (or whose
        claim may be taken over, or whose retry is due)."""
        found: list[tuple[Subscription, str]] = []
        batches = ([[s] for s in [self.subscriptions.get(only)] if s and s.status == "active"]
                   if only else self.subscriptions.iter_active())
        now_ms = to_ms(now)
        for batch in batches:
            candidates = [(s, period_of(s, now)) for s in batch
                          if frequency is None or s.frequency == frequency]
            candidates = [(s, p) for s, p in candidates if p is not None]
            for period in {p for _, p in candidates}:
                group = [s for s, p in candidates if p == period]
                states = self.subscriptions.period_states([s.user_id for s in group], period)
                found += [(s, period) for s, state in zip(group, states, strict=True)
                          if claimable(state, now_ms)]
        return found

    def run(self, now: datetime, frequency: str | None = None, only: str | None = None,
            dry_run: bool = False, workers: int | None = None,
            min_share: int = MIN_SHARE) -> RunReport:
        """Send what is due at ``now`` (``dry_run``: compose only, claim and send nothing),
        over up to ``workers`` processes (default ``DIGEST_WORKERS``), each with at least
        ``min_share`` digests."""
        due = self.due(now, frequency, only)
        report = RunReport(due=len(due))
        if dry_run:
            for subscription, _ in due:
                digest = self.composer.compose(subscription, now)
                report.outcomes["would send" if digest else "empty"] += 1
                if digest:
                    report.would_send.append((subscription.user_id, digest.subject))
            return report
        workers = min(workers or self.service.settings.workers, len(due) // max(1, min_share))
        if workers > 1 and self.config is not None:
            report.outcomes.update(self._in_processes(due, now, workers))
        else:
            report.outcomes.update(self.deliver(due, now))
        return report

    def retry(self, now: datetime) -> RunReport:
        """Send the deferred digests whose retry is due at ``now`` (in this process)."""
        taken = self.subscriptions.take_due_retries(now)
        subscriptions = self.subscriptions.of_users([user_id for user_id, _ in taken])
        jobs = [(subscription, period) for subscription, (_, period)
                in zip(subscriptions, taken, strict=True)
                if subscription and subscription.status == "active"]
        report = RunReport(due=len(jobs))
        report.outcomes.update(self.deliver(jobs, now))
        return report

    def deliver(self, jobs: list[tuple[Subscription, str]], now: datetime) -> Counter:
        """Claim, compose and send each ``(subscription, period)`` in this process, over
        ``DIGEST_CONNECTIONS`` connections; the outcomes counted."""
        outcomes: Counter = Counter()
        chunks = [jobs[i:i + CHUNK] for i in range(0, len(jobs), CHUNK)]
        try:
            with ThreadPoolExecutor(self.service.settings.connections) as pool:
                for results in pool.map(lambda chunk: self._deliver_chunk(chunk, now), chunks):
                    outcomes.update(results)
        finally:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
        return outcomes

    def _in_processes(self, due: list[tuple[Subscription, str]], now: datetime,
                      workers: int) -> Counter:
        """:meth:`deliver` over ``workers`` processes, each a disjoint share."""
        assert self.config is not None
        config = {**self.config, "DIGEST_CONNECTIONS":
                  max(1, self.service.settings.connections // workers)}
        shares = [due[i::workers] for i in range(workers)]
        outcomes: Counter = Counter()
        # spawn: a fresh interpreter per worker, not a fork of this one's threads and sockets
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [pool.submit(deliver_share, config, share, now) for share in shares]
            for future, share in zip(futures, shares, strict=True):
                try:
                    outcomes.update(future.result())
                except Exception:
                    log.exception("a digest worker failed; the claims it left are taken again "
                                  "after their lease")
                    outcomes["error"] += len(share)
        return outcomes

    def _connection(self) -> mailer.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = mailer.connect(self.service.settings.smtp_url)
            with self._connections_lock:
                self._connections.append(connection)
        return connection

    def _deliver_chunk(self, chunk: list[tuple[Subscription, str]], now: datetime) -> list[str]:
        """Read a few readers' states in one round trip, then claim, compose and send each
        digest (claimed one by one: a process killed mid-chunk holds no more than one)."""
        store = self.composer.store
        store.read_states([subscription.user_id for subscription, _ in chunk])
        outcomes = []
        for subscription, period in chunk:
            try:
                outcomes.append(self._deliver(subscription, period, now))
            finally:
                store.forget_state(subscription.user_id)
        return outcomes

    def _deliver(self, subscription: Subscription, period: str, now: datetime) -> str:
        """Claim, compose and send one digest; return the outcome."""
        subscriptions, user_id = self.subscriptions, subscription.user_id
        attempt = subscriptions.claim(subscription, period, self.run_id, now)
        if not attempt:
            return "skipped"
        try:
            digest = self.composer.compose(subscription, now)
            if digest is None:
                subscriptions.advance(subscription, period, self.run_id, "empty", now)
                return "empty"
            token = self.service.tokens.unsubscribe_token(user_id, subscription.sid)
            message = self.service.renderer.digest_message(digest, subscription.email, token, now)
        except Exception:
            log.exception("digest of %s for %s not composed; the next run tries again",
                          user_id, period)
            subscriptions.release(subscription, period, self.run_id, now)
            return "error"
        if not subscriptions.advance(subscription, period, self.run_id, "sending", now):
            return "skipped"  # unsubscribed meanwhile, or our lease ran out and another run took it
        try:
            self._connection().send(message)
        except mailer.TransientFailure as error:
            delays = self.service.settings.retry_delays
            if attempt <= len(delays):
                at = now + timedelta(seconds=delays[attempt - 1])
                log.warning("digest of %s deferred to %s: %s", user_id, at.isoformat(), error)
                subscriptions.defer(subscription, period, self.run_id, now, attempt, at)
            else:
                log.warning("digest of %s deferred to the next run: %s", user_id, error)
                subscriptions.release(subscription, period, self.run_id, now)
            return "deferred"
        except mailer.PermanentFailure as error:
            log.warning("digest of %s refused: %s", user_id, error)
            subscriptions.advance(subscription, period, self.run_id, "failed", now)
            status = subscriptions.record_permanent_failure(subscription)
            return "suppressed" if status == "suppressed" else "failed"
        subscriptions.record_sent(subscription, period, self.run_id, now,
                                  digest.last_day.isoformat())
        return "sent"


def deliver_share(config: dict[str, Any], share: list[tuple[Subscription, str]],
                  now: datetime) -> Counter:
    """A worker process's part of a run: :meth:`DigestRun.deliver` of its share."""
    from backend.store import Store, connect

    store = Store(connect(config["REDIS_URL"]), config)
    try:
        return digest_run(store, config).deliver(share, now)
    finally:
        store.client.close()


def digest_run(store, config: Any) -> DigestRun:
    """A run on ``store`` with the service, ranker and recommender of ``config``."""
    from backend.digest.runstore import RunStore
    from backend.feeds import TrendingRanker
    from backend.recommendations.serving import PersonalRecommender

    config = {**config, **RUN_CACHES}
    service = DigestService.create(store.client, config)
    reader = RunStore(store)
    ranker = TrendingRanker(reader, config)
    recommender = PersonalRecommender(reader, ranker, config)
    composer = DigestComposer(reader, recommender, ranker)
    return DigestRun(service, composer, config)
