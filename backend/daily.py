"""A fresh catalogue: the newest Daily Papers days, imported from the Hugging Face API.

``paperfeed scheduler`` runs :func:`import_newest_days` every hour (and once at start). Each
run imports today and the days before it whose upvotes still grow, plus any day missed since
the newest imported one; a day that fails (API unreachable, an error status, a body that is
not the API's format) is logged and simply tried again next run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta

from backend import importer
from backend.store import Store

log = logging.getLogger(__name__)

RECENT_DAYS = 3  # today and the two days before: their upvotes keep changing
CATCH_UP_DAYS = 7  # at most this many days back after an outage


@dataclass
class DailyImport:
    """What one run imported."""

    created: int = 0
    updated: int = 0
    days: list[str] = field(default_factory=list)  # days whose papers were imported
    failures: list[str] = field(default_factory=list)  # one message per day that failed

    def summary(self) -> str:
        """One line for the scheduler's log."""
        text = (f"imported {self.created + self.updated} Daily Papers ({self.created} new) "
                f"of {', '.join(self.days) or 'no day'}")
        if self.failures:
            text += f"; {len(self.failures)} day(s) failed, retried next run"
        return text


def days_to_import(newest: date | None, today: date) -> list[str]:
    """The days a run fetches, oldest first: the last :data:`RECENT_DAYS` up to ``today``,
    from the day after ``newest`` (the newest imported) when that is older, but never more
    than :data:`CATCH_UP_DAYS` back."""
    start = today - timedelta(days=RECENT_DAYS - 1)
    if newest is not None and newest < start:
        start = max(newest + timedelta(days=1), today - timedelta(days=CATCH_UP_DAYS - 1))
    return importer.iter_dates(start.isoformat(), today.isoformat())


def import_newest_days(store: Store, api_url: str, today: date,
                       timeout: float = 20) -> DailyImport:
    """Fetch and import the days of :func:`days_to_import`; never raises for a day that
    fails (see :attr:`DailyImport.failures`)."""
    outcome = DailyImport()
    for day in days_to_import(store.newest_daily_date(), today):
        try:
            parsed = importer.fetch_daily_papers(day, timeout=timeout, api_url=api_url)
        except importer.ImporterError as error:
            log.warning("Daily Papers of %s not imported: %s", day, error)
            outcome.failures.append(f"{day}: {error}")
            continue
        if not parsed.papers:  # no list (yet) for that day
            continue
        result = store.upsert_papers(parsed.papers)
        outcome.created += result.created
        outcome.updated += result.updated
        outcome.days.append(day)
    return outcome
