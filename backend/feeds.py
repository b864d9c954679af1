"""The lists of papers the API serves: global trending, and a user's recommendations."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from cachetools import LRUCache, TTLCache

from backend.store import Store

#: The reason of a paper that is in a list for its trending score alone.
TRENDING = {"kind": "trending", "text": "Trending on Daily Papers"}
#: Windows (days, last day) whose rankings a process keeps at most.
CACHED_WINDOWS = 256


@dataclass(frozen=True)
class Candidate:
    """A paper of the requested window with its trending score."""

    paper_id: str
    day: date
    score: float
    upvotes: int


def reader_weights(settings: dict[str, Any]) -> tuple[float, float]:
    """The trending value of one reader's open and one reader's save, in Hugging Face
    upvotes (``TRENDING_WEIGHT_OPEN``, ``TRENDING_WEIGHT_SAVE``).

    Raises
    ------
    ValueError
        A value is negative, or together they are worth more than one upvote: a reader
        must never move a paper by more than one community vote.
    """
    open_, save = float(settings["TRENDING_WEIGHT_OPEN"]), float(settings["TRENDING_WEIGHT_SAVE"])
    if open_ < 0 or save < 0 or open_ + save > 1:
        raise ValueError("TRENDING_WEIGHT_OPEN and TRENDING_WEIGHT_SAVE must be >= 0 and add "
                         f"up to at most 1 (one upvote); got {open_} and {save}")
    return open_, save


def trending_score(readers: float, upvotes: float | None, age_days: int,
                   settings: dict[str, Any]) -> float:
    """A paper's community votes, halved every ``TRENDING_HALF_LIFE_DAYS`` of its age.

    The votes are its Hugging Face upvotes plus ``readers``: this service's readers in
    upvotes (each user who opened it counts ``TRENDING_WEIGHT_OPEN``, each who saves it
    ``TRENDING_WEIGHT_SAVE``, at most one upvote together). ``age_days`` is the paper's day
    counted back from the window's last day, so a day's papers keep Hugging Face's order
    unless readers of this service disagree by whole votes.
    """
    half_life = float(settings["TRENDING_HALF_LIFE_DAYS"])
    votes = max(upvotes or 0.0, 0.0) + readers
    return votes * 2.0 ** (-max(age_days, 0) / half_life)


def window_days(store: Store, days: int, now: datetime, until: date | None = None
                ) -> tuple[date, date]:
    """First and last day of the window: the ``days`` days ending at ``until`` (default: the
    newest Daily Papers day imported, else today)."""
    last = until or store.newest_daily_date() or now.date()
    return last - timedelta(days=days - 1), last


class TrendingRanker:
    """Ranks the catalogue papers of a window by trending score, caching each ranking
    briefly.

    The cache is per process, keyed by the window as asked (``days`` and ``until``, None
    for the newest Daily Papers day), keeps each ranking ``TRENDING_CACHE_SECONDS`` and at
    most :data:`CACHED_WINDOWS` windows; it is what lets the public trending endpoint answer
    thousands of requests a second without rescoring.
    """

    def __init__(self, store: Store, settings: dict[str, Any]):
        self.store = store
        self.settings = settings
        self.reader_weights = reader_weights(settings)
        ttl = float(settings["TRENDING_CACHE_SECONDS"])
        self._rankings: TTLCache[tuple[int, date | None],
                                 tuple[list[Candidate], tuple[date, date]]] = TTLCache(
            CACHED_WINDOWS, ttl)
        self._items: TTLCache[tuple[int, int, date | None], list[dict[str, Any]]] = TTLCache(
            CACHED_WINDOWS, ttl)
        self._windows: LRUCache[tuple[int, date | None], tuple[date, date]] = LRUCache(
            CACHED_WINDOWS)
        self._lock = threading.Lock()

    def ranked(self, days: int, now: datetime, until: date | None = None) -> list[Candidate]:
        """All papers of the window (see :func:`window_days`), best first."""
        return self._ranking(days, now, until)[0]

    def window(self, days: int, now: datetime, until: date | None = None) -> tuple[date, date]:
        """First and last day of the window :meth:`ranked` ranks (as of its cached ranking)."""
        with self._lock:
            bounds = self._windows.get((days, until))
        return bounds if bounds is not None else self._ranking(days, now, until)[1]

    def _ranking(self, days: int, now: datetime,
                 until: date | None) -> tuple[list[Candidate], tuple[date, date]]:
        with self._lock:
            hit = self._rankings.get((days, until))
        if hit is not None:
            return hit
        bounds = window_days(self.store, days, now, until)
        ranking = self._compute(bounds, now)
        with self._lock:
            self._rankings[(days, until)] = ranking, bounds
            self._windows[(days, until)] = bounds
        return ranking, bounds

    def top_items(self, days: int, limit: int, now: datetime,
                  until: date | None = None) -> list[dict[str, Any]]:
        """The public trending list (with titles), cached like the ranking."""
        with self._lock:
            items = self._items.get((days, limit, until))
        if items is not None:
            return items
        items = _with_metadata(self.store, self.ranked(days, now, until)[:limit])
        with self._lock:
            self._items[(days, limit, until)] = items
        return items

    def invalidate(self) -> None:
        """Forget cached rankings (after writes a caller wants to see at once)."""
        with self._lock:
            self._rankings.clear()
            self._items.clear()
            self._windows.clear()

    def _compute(self, bounds: tuple[date, date], now: datetime) -> list[Candidate]:
        first, reference = bounds
        rows = self.store.papers_since(first, reference)
        if not rows:
            return []
        ids = [paper_id for paper_id, _ in rows]
        openers, savers, upvotes = self.store.reader_counts(ids)
        per_open, per_save = self.reader_weights
        candidates = [
            Candidate(paper_id, day,
                      trending_score(per_open * opened + per_save * saving, votes,
                                     (reference - day).days, self.settings),
                      int(votes or 0))
            for (paper_id, day), opened, saving, votes
            in zip(rows, openers, savers, upvotes, strict=True)
        ]
        candidates.sort(key=lambda c: (-c.score, -c.upvotes, c.paper_id))
        return candidates


def fallback_recommendations(store: Store, ranker: TrendingRanker, hidden: set[str], *,
                             days: int, limit: int, now: datetime,
                             until: date | None = None) -> list[dict[str, Any]]:
    """Trending of the window without the papers in ``hidden`` (for a user with no papers
    of their own yet, or nothing left to rank)."""
    top = [c for c in ranker.ranked(days, now, until) if c.paper_id not in hidden][:limit]
    items = _with_metadata(store, top)
    for item in items:
        item["reason"] = dict(TRENDING)
    return items


def _with_metadata(store: Store, candidates: list[Candidate]) -> list[dict[str, Any]]:
    titles = store.titles([c.paper_id for c in candidates])
    return [{"paper_id": c.paper_id, "title": titles.get(c.paper_id), "score": round(c.score, 6),
             "day": c.day.isoformat(), "upvotes": c.upvotes} for c in candidates]
