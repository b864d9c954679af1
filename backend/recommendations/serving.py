"""Personal recommendations in the web workers.

Each worker serves the model version the Redis pointer names (loaded and verified by
:mod:`backend.recommendations.models`). It looks at the pointer and the version's files at
most every ``MODEL_POLL_SECONDS`` and swaps without a restart. Which version a worker serves
depends only on the pointer and the files, so all workers serve the same one: the pointer's if it
verifies, otherwise the newest version before it that does (or none), reported as degraded
with the reason by ``/readyz`` and logged. The user's vector is recomputed from their current
interactions on every request, so a save changes the next list at once. Papers that arrived
after training are featurised on first sight and mapped into the model.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from cachetools import LRUCache, TLRUCache
from threadpoolctl import threadpool_limits

import recommender
from backend.feeds import Candidate, TrendingRanker, fallback_recommendations
from backend.recommendations.contentindex import ContentIndex, WindowIndex
from backend.recommendations.models import (
    LoadedModel,
    ModelStatus,
    load_version,
    serving_blend,
    version_before,
)
from backend.recommendations.reasons import Reasons, SimilarReaders
from backend.recommendations.texts import paper_texts
from backend.recommendations.training import models_dir
from backend.store import Store, UserState
from recommender.artifacts import fingerprint, is_version
from recommender.readers import ReaderCounts
from recommender.served import UNTRAINED_BLEND, served_scores

log = logging.getLogger(__name__)

# Weight of the similarity to the user's dismissed papers (subtracted): a dismissal pushes
# down the papers like it, not only itself.
DISMISSED_WEIGHT = 0.5
# Windows (days, until) whose shared per-ranking work a worker keeps.
SERVED_WINDOWS = 16
# The top this many hold one of the last day's papers in the user's topics, if there is one.
TODAYS_PICK_WITHIN = 10


@dataclass
class ServedWindow:
    """What every list of one window ranking shares, worked out once per ranking: the
    papers' ids and positions, trending on the log scale the blend uses, which are of the
    window's last day, their content rows, and (with a model) their model items and
    training-readers columns."""

    candidates: list[Candidate]
    ids: np.ndarray
    position: dict[str, int]
    trending: np.ndarray
    last_day: np.ndarray
    content: WindowIndex
    content_rows: np.ndarray
    loaded: LoadedModel | None = None
    items: np.ndarray | None = None
    readers_known: np.ndarray | None = None
    readers_columns: np.ndarray | None = None

    def kept(self, hidden: set[str]) -> np.ndarray:
        """Positions of the window's papers not in ``hidden``, in ranking order."""
        keep = np.ones(len(self.candidates), dtype=bool)
        for paper_id in hidden:
            position = self.position.get(paper_id)
            if position is not None:
                keep[position] = False
        return np.flatnonzero(keep)


class PersonalRecommender:
    """The recommendations service: the hybrid model re-ranking the window's papers.

    With no model published yet it ranks trending papers with the user's content profile
    (TF-IDF over the window's papers), and with no interactions it serves trending.
    """

    def __init__(self, store: Store, ranker: TrendingRanker, config: dict[str, Any]):
        self.store = store
        self.ranker = ranker
        self.config = config
        self.poll_seconds = float(config.get("MODEL_POLL_SECONDS", 30))
        self._current: LoadedModel | None = None
        self._status = ModelStatus()
        # the pointer, the version before it and their directories' fingerprints when the
        # version served was last chosen
        self._chosen_for: tuple | None = None
        self._checked_at = -1e9
        self._swap_lock = threading.Lock()
        self.content_index = ContentIndex(store)
        self._lists = ListCache(float(config.get("RECOMMENDATIONS_CACHE_SECONDS", 30)))
        # per window asked for (days, until): the ServedWindow of its current ranking
        self._served_windows: LRUCache = LRUCache(SERVED_WINDOWS)
        self._served_windows_lock = threading.Lock()
        # One BLAS thread per process: requests already run in parallel (workers x threads),
        # and OpenBLAS threads spinning on busy cores make the small per-request solves ~10x
        # slower (docs/performance.md).
        threadpool_limits(1, "blas")

    # -- model versions ----------------------------------------------------------------

    def model_version(self) -> str | None:
        """The version this worker serves (after checking the pointer if it is time)."""
        current = self.current_model()
        return current.version if current else None

    def model_status(self) -> ModelStatus:
        """The pointer, the version served and what keeps them apart (after checking the
        pointer if it is time)."""
        self.current_model()
        return self._status

    def current_model(self) -> LoadedModel | None:
        """The loaded model, swapping to a newly published version when one appears."""
        now = time.monotonic()
        if now - self._checked_at >= self.poll_seconds and self._swap_lock.acquire(blocking=False):
            try:
                self._checked_at = now
                self._maybe_swap()
            finally:
                self._swap_lock.release()
        return self._current

    def _maybe_swap(self) -> None:
        """Choose the version to serve again when the pointer, the files of the version it
        names or the files of the version served have changed."""
        try:
            wanted = self.store.current_model_version()
        except Exception as error:  # Redis hiccup: keep serving what we have
            log.warning("could not read the model pointer: %s", error)
            return
        models = models_dir(self.config)
        before = version_before(models, wanted)
        chosen_for = (wanted, fingerprint(models / wanted) if is_version(wanted) else None,
                      before, fingerprint(models / before) if before else None)
        current = self._current
        unchanged = current is None or current.fingerprint == fingerprint(models / current.version)
        if chosen_for == self._chosen_for and unchanged:
            return
        self._choose(models, wanted)
        self._chosen_for = chosen_for

    def _choose(self, models: Path, wanted: str | None) -> None:
        """Serve the pointer's version if it loads, else the newest version before it that
        loads, else none; the same choice every worker makes from the same pointer and files."""
        problem = None
        loaded = None
        if wanted is not None:
            try:
                loaded = self._load(wanted)
            except Exception as error:  # whatever is on disk, the worker keeps serving
                problem = str(error) if isinstance(error, recommender.ArtifactError) else (
                    f"model version {wanted}: {type(error).__name__}: {error}")
                before = version_before(models, wanted)
                if before:
                    try:
                        loaded = self._load(before)
                    except Exception as fallback_error:
                        problem += f"; {before} before it: {fallback_error}"
                log.error("cannot load model version %s (%s), serving %s", wanted, problem,
                          loaded.version if loaded else "no model")
        if loaded is not None and loaded is not self._current:
            log.info("serving model version %s", loaded.version)
        self._current = loaded
        self._status = ModelStatus(wanted, loaded.version if loaded else None, problem)

    def _load(self, version: str) -> LoadedModel:
        """The served model if it is ``version`` with its files unchanged, else a fresh load."""
        current = self._current
        if (current is not None and current.version == version and is_version(version)
                and current.fingerprint == fingerprint(models_dir(self.config) / version)):
            return current
        return load_version(self.config, version, reuse=current)

    # -- recommendations ---------------------------------------------------------------

    def recommend(self, user_id: str, *, days: int, limit: int, now: datetime,
                  stamp: str | None = None, until: date | None = None,
                  exclude: frozenset[str] = frozenset(), include_opened: bool = False,
                  blend: dict[str, float] | None = None
                  ) -> tuple[str | None, list[dict[str, Any]]]:
        """Return ``(model_version, items)`` for the user: the window's papers (``days`` days
        ending at ``until``) best first, without the papers they saved or dismissed, the
        ones they opened (unless ``include_opened``) and those in ``exclude``.

        ``stamp`` is the user's state stamp (``Store.user_stamp``) if the caller already
        read it; a list made for the same stamp, model version and query is reused (the same
        list object is returned). ``blend`` replaces the serving weights (for measuring the
        components on their own); such lists are not cached.
        """
        loaded = self.current_model()
        version = loaded.version if loaded else None
        key = (user_id, days, limit, until, exclude, include_opened)
        cached_lists = self._lists.enabled and blend is None
        if cached_lists:
            if stamp is None:
                stamp = self.store.user_stamp(user_id)
            cached = self._lists.get(key, (version, stamp))
            if cached is None:
                cached = self._shared_list(key, version, stamp)
            if cached is not None:
                return version, cached
        state = self.store.user_state(user_id)
        hidden = state.saved | state.dismissed | exclude
        if not include_opened:
            hidden = hidden | state.opened
        items = self._recommend(loaded, user_id, state, hidden, blend, days=days, limit=limit,
                                now=now, until=until)
        if cached_lists:
            # Stamped with the state the list was made from (never newer than its data).
            self._lists.put(key, (version, state.stamp), items)
            self._share_list(key, version, state.stamp, items)
        return version, items

    @staticmethod
    def _shared_name(key: tuple) -> str:
        """Field of a list in the user's ``lists`` hash:
        ``"<days>:<limit>:<until>:<include_opened>:<excluded ids>"``."""
        _, days, limit, until, exclude, include_opened = key
        return (f"{days}:{limit}:{until.isoformat() if until else ''}:{int(include_opened)}:"
                + ",".join(sorted(exclude)))

    def _share_list(self, key: tuple, version: str | None, stamp: str, items: list) -> None:
        """Store a finished list for the other workers (read back by :meth:`_shared_list`)."""
        entry = {"version": version, "stamp": stamp, "made_at": time.time(), "items": items}
        self.store.share_list(key[0], self._shared_name(key), json.dumps(entry), self._lists.ttl)

    def _shared_list(self, key: tuple, version: str | None, stamp: str) -> list | None:
        """The list another worker made for the same user state and model version, if any
        (computing it again would cost each worker a miss per user)."""
        raw = self.store.shared_list(key[0], self._shared_name(key))
        if raw is None:
            return None
        try:
            entry = json.loads(raw)
            age = time.time() - float(entry["made_at"])
            if entry["version"] != version or entry["stamp"] != stamp or age > self._lists.ttl:
                return None
            items = entry["items"]
        except (ValueError, KeyError, TypeError):
            return None
        self._lists.put(key, (version, stamp), items, age=max(age, 0.0))
        return items

    def _recommend(self, loaded: LoadedModel | None, user_id: str, state: UserState,
                   hidden: set[str],
                   blend: dict[str, float] | None, *, days: int, limit: int, now: datetime,
                   until: date | None) -> list[dict[str, Any]]:
        ranking = self.ranker.ranked(days, now, until)
        window = (self._window(loaded, ranking, (days, until),
                               self.ranker.window(days, now, until)[1]) if ranking else None)
        kept = window.kept(hidden) if window else np.zeros(0, dtype=np.int64)
        weights = {p: w for p, w in state.weights.items() if w > 0}
        if not len(kept) or not weights:
            return fallback_recommendations(
                self.store, self.ranker, hidden, days=days, limit=limit, now=now, until=until)
        components, evidence = self.content_index.components(
            window.content, window.content_rows[kept], weights, state.dismissed)
        if loaded is None:
            blend = blend or dict(UNTRAINED_BLEND)
        else:
            blend = blend or serving_blend(loaded)
            model_components, readers = self._model_components(
                window, kept, user_id, state.saved | state.opened, weights, blend)
            components.update(model_components)
            evidence = replace(evidence, readers=readers)
        components["trending"] = window.trending[kept][None, :]
        blend = {**blend, "dismissed": -DISMISSED_WEIGHT} if state.dismissed else blend
        final = served_scores(components, blend)[0]
        order = np.argsort(-final, kind="stable")
        reasons = Reasons(self.store, components, blend, evidence, user_id, state,
                          window.ids[kept])
        order = self._with_todays_pick(order, window.last_day[kept], reasons, limit)
        chosen = [window.candidates[kept[i]] for i in order]
        reasons.prepare(order)
        # One lookup for the list's titles and the titles its reasons quote.
        titles = self.store.titles([c.paper_id for c in chosen] + reasons.title_ids())
        reasons.use_titles(titles)
        return [{"paper_id": candidate.paper_id,
                 "title": titles.get(candidate.paper_id),
                 "score": round(float(final[i]), 6),
                 "day": candidate.day.isoformat(),
                 "upvotes": candidate.upvotes,
                 "reason": reasons(int(i))}
                for i, candidate in zip(order, chosen, strict=True)]

    def _window(self, loaded: LoadedModel | None, ranking: list[Candidate], asked: tuple,
                last: date) -> ServedWindow:
        """The :class:`ServedWindow` of a ranking whose window ends on ``last``, kept per
        window asked for while the ranker hands out the same ranking and the same model
        serves."""
        with self._served_windows_lock:
            cached = self._served_windows.get(asked)
        if cached is not None and cached.candidates is ranking and cached.loaded is loaded:
            return cached
        ids = [c.paper_id for c in ranking]
        content = self.content_index.window(ids)
        window = ServedWindow(
            candidates=ranking, ids=np.array(ids, dtype=object),
            position={p: i for i, p in enumerate(ids)},
            # trending scores are decayed vote counts, heavy-tailed: blended on a log scale
            trending=np.log1p(np.array([c.score for c in ranking], dtype=np.float64)),
            last_day=np.array([c.day == last for c in ranking], dtype=bool),
            content=content, content_rows=content.rows(ids), loaded=loaded)
        if loaded is not None:
            self._ensure_indexed(loaded, ids)
            window.items = np.array([loaded.index[p] for p in ids], dtype=np.int64)
            if loaded.readers is not None:
                window.readers_known, window.readers_columns = loaded.readers.columns(ids)
        with self._served_windows_lock:
            self._served_windows[asked] = window
        return window

    @staticmethod
    def _with_todays_pick(order: np.ndarray, last_day: np.ndarray, reasons: Reasons,
                          limit: int) -> np.ndarray:
        """The first ``limit`` of ``order``, making sure the top ``TODAYS_PICK_WITHIN`` hold
        one paper of the window's last day (the page the user is on; ``last_day`` marks
        them) when one of that day's papers is in the user's topics: the best-scored such
        paper takes the last of those places."""
        top = order[:limit]
        within = min(limit, TODAYS_PICK_WITHIN)
        picks = order[last_day[order] & reasons.in_topics_mask()[order]]
        if not len(picks) or picks[0] in top[:within]:
            return top
        pick = int(picks[0])
        rest = [int(i) for i in order[:limit + 1] if i != pick]
        return np.array(rest[:within - 1] + [pick] + rest[within - 1:limit - 1], dtype=np.int64)

    def _model_components(self, window: ServedWindow, kept: np.ndarray, user_id: str,
                          read: set[str], weights: dict[str, float], blend: dict[str, float]
                          ) -> tuple[dict[str, np.ndarray], SimilarReaders | None]:
        """The model's raw scores of the window's papers at ``kept`` (``"als"``, and the
        ``"nearest"`` and ``"readers"`` components when the blend weighs them), and how many
        readers resembling the user read each (for the reasons).

        The whole window is scored (its item ids are the same for every user of the ranking)
        and the kept columns taken: the raw scores do not depend on the other candidates.
        """
        loaded = window.loaded
        self._ensure_indexed(loaded, list(weights))
        model = loaded.model
        known = [p for p in weights if p in loaded.index]
        user_row = sp.csr_matrix(
            (np.array([weights[p] for p in known], dtype=np.float32),
             (np.zeros(len(known), dtype=np.int32),
              np.array([loaded.index[p] for p in known], dtype=np.int32))),
            shape=(1, model.n_items))
        scores = model.component_scores(user_row, window.items,
                                        nearest=bool(blend.get("nearest")), content=False)
        components = {name: scores[name][:, kept] for name in ("als", "nearest")
                      if name in scores}
        readers: SimilarReaders | None = loaded.readers
        if blend.get("readers") and loaded.readers is not None:
            weight, counts = loaded.readers.scores_at(
                user_id, sorted(read), window.readers_known, window.readers_columns)
            components["readers"] = weight[kept][None, :]
            counted = np.flatnonzero(counts)
            readers = ReaderCounts(dict(zip(window.ids[counted].tolist(),
                                            counts[counted].tolist(), strict=True)))
        return components, readers

    def _ensure_indexed(self, loaded: LoadedModel, paper_ids: list[str]) -> None:
        """Featurise and add papers the model has not seen (arrived after training)."""
        missing = [p for p in dict.fromkeys(paper_ids) if p not in loaded.index]
        if not missing:
            return
        with loaded.lock:
            missing = [p for p in missing if p not in loaded.index]
            if not missing:
                return
            loaded.add_papers(missing, loaded.featurizer.transform(paper_texts(self.store, missing)))


class ListCache:
    """Finished lists per (user, days, limit, ...), valid while the user's event state and the
    model version are unchanged, for at most ``ttl`` seconds (trending drifts slowly).

    A save, unsave, dismiss or open changes the state, so it shows in the next list.
    """

    MAX_ENTRIES = 20_000

    def __init__(self, ttl: float):
        self.ttl = ttl
        # each value is (stamp, expiry on the monotonic clock, items)
        self._entries: TLRUCache = TLRUCache(self.MAX_ENTRIES, ttu=lambda _k, value, _now: value[1],
                                             timer=time.monotonic)
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    def get(self, key: tuple, stamp: tuple) -> list | None:
        """The cached list, if still valid."""
        if self.ttl <= 0:
            return None
        with self._lock:
            entry = self._entries.get(key)
        return entry[2] if entry is not None and entry[0] == stamp else None

    def put(self, key: tuple, stamp: tuple, items: list, age: float = 0.0) -> None:
        """Remember a list made ``age`` seconds ago."""
        if self.ttl <= 0:
            return
        with self._lock:
            self._entries[key] = (stamp, time.monotonic() - age + self.ttl, items)
