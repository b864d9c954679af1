"""``paperfeed digest``: send the digests that are due now.

A subscription is due once its hour (and, weekly, its weekday) has come in the current
period (the UTC day, or the Monday-to-Sunday week), until its digest for that period is
done. Each digest goes through the user's claim on the period (``claim.lua``):

1. claim the period (skip the user if another run holds or finished it);
2. compose; nothing new in the period: mark it ``empty``, send nothing;
3. mark it ``sending``, hand the message to the SMTP server;
4. accepted: ``sent``. A 5xx for the recipient: ``failed`` (three in a row suppress the
   subscription). A 4xx or a connection error: release the claim and retry after a backoff
   (``DIGEST_RETRY_DELAYS``); still failing, the claim stays released for the next hourly run.

A process killed before step 3 leaves a ``claimed`` lease that expires after 30 minutes, and
a later run sends that digest. Killed between the server's acceptance and ``sent`` (during
step 3 or 4), the period stays ``sending`` and is never sent again: the user gets that digest
once or, if the server had not finished accepting it, misses that one period. Never twice.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from backend.digest import mailer
from backend.digest.compose import DigestComposer
from backend.digest.service import DigestService
from backend.digest.subscriptions import Subscription

log = logging.getLogger(__name__)
FREQUENCIES = ("daily", "weekly")


def period_of(subscription: Subscription, now: datetime) -> str | None:
    """The period whose digest is due for the subscription at ``now`` (UTC), or None before
    its hour (daily) or its weekday and hour (weekly) in the current period."""
    start = now.replace(hour=subscription.hour_utc, minute=0, second=0, microsecond=0)
    if subscription.frequency == "weekly":
        start += timedelta(days=subscription.weekday - now.weekday())
    if now < start:
        return None
    return f"{subscription.frequency}:{start.date().isoformat()}"


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
    """Sends due digests through a few reused SMTP connections in parallel.

    Parameters
    ----------
    service:
        The digest service (settings, subscriptions, tokens, renderer).
    composer:
        Builds each user's digest.
    sleep:
        Waits between retries (``time.sleep``).
    """

    def __init__(self, service: DigestService, composer: DigestComposer,
                 sleep: Callable[[float], Any] = time.sleep):
        self.service = service
        self.subscriptions = service.subscriptions
        self.composer = composer
        self.sleep = sleep
        self.run_id = secrets.token_hex(8)
        self._local = threading.local()
        self._connections: list[mailer.Connection] = []
        self._connections_lock = threading.Lock()

    def due(self, now: datetime, frequency: str | None = None,
            only: str | None = None) -> list[tuple[Subscription, str]]:
        """The active subscriptions with a period due now and not yet claimed."""
        found: list[tuple[Subscription, str]] = []
        batches = ([[s] for s in [self.subscriptions.get(only)] if s and s.status == "active"]
                   if only else self.subscriptions.iter_active())
        for batch in batches:
            candidates = [(s, period_of(s, now)) for s in batch
                          if frequency is None or s.frequency == frequency]
            candidates = [(s, p) for s, p in candidates if p is not None]
            for period in {p for _, p in candidates}:
                group = [s for s, p in candidates if p == period]
                states = self.subscriptions.period_states([s.user_id for s in group], period)
                found += [(s, period) for s, state in zip(group, states, strict=True)
                          if state is None or state.startswith("claimed|")]
        return found

    def run(self, now: datetime, frequency: str | None = None, only: str | None = None,
            dry_run: bool = False) -> RunReport:
        """Send what is due at ``now`` (``dry_run``: compose only, claim and send nothing)."""
        due = self.due(now, frequency, only)
        report = RunReport(due=len(due))
        if dry_run:
            for subscription, _ in due:
                digest = self.composer.compose(subscription, now)
                report.outcomes["would send" if digest else "empty"] += 1
                if digest:
                    report.would_send.append((subscription.user_id, digest.subject))
            return report
        pending = due
        delays = list(self.service.settings.retry_delays)
        try:
            with ThreadPoolExecutor(self.service.settings.connections) as pool:
                while pending:
                    results = list(pool.map(lambda job: (job, self._deliver(*job, now)), pending))
                    pending = [job for job, outcome in results if outcome == "deferred"]
                    for _, outcome in results:
                        if outcome != "deferred" or not delays:
                            report.outcomes[outcome] += 1
                    if pending and not delays:
                        break
                    if pending:
                        self.sleep(delays.pop(0))
        finally:
            for connection in self._connections:
                connection.close()
        return report

    def _connection(self) -> mailer.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = mailer.connect(self.service.settings.smtp_url)
            with self._connections_lock:
                self._connections.append(connection)
        return connection

    def _deliver(self, subscription: Subscription, period: str, now: datetime) -> str:
        """Claim, compose and send one digest; return the outcome."""
        subscriptions, user_id = self.subscriptions, subscription.user_id
        if not subscriptions.claim(subscription, period, self.run_id, now):
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
            log.warning("digest of %s deferred: %s", user_id, error)
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


def digest_run(store, config: Any, sleep: Callable[[float], Any] = time.sleep) -> DigestRun:
    """A run on ``store`` with the service, ranker and recommender of ``config``."""
    from backend.feeds import TrendingRanker
    from recommender.serving import PersonalRecommender

    service = DigestService.create(store.client, config)
    ranker = TrendingRanker(store, config)
    recommender = PersonalRecommender(store, ranker, config)
    composer = DigestComposer(store, recommender, ranker, service.subscriptions.reader)
    return DigestRun(service, composer, sleep=sleep)
