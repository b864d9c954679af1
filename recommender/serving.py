"""Personal recommendations in the web workers.

Each worker loads the model version the Redis pointer names (factors memory-mapped, so
workers share one copy), checks the pointer again at most every ``MODEL_POLL_SECONDS``,
and swaps to a new version without a restart; a version that fails to load is logged and
the old model keeps serving. The user's vector is recomputed from their current
interactions on every request, so a save changes the next list at once. Papers that
arrived after training are featurised on first sight and mapped into the model.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

import recommender
from backend.feeds import Candidate, TrendingRanker, fallback_recommendations
from backend.store import Store, UserState
from recommender.contentindex import ContentIndex
from recommender.readers import CoReaders, ReaderCounts
from recommender.reasons import Reasons, SimilarReaders
from recommender.served import UNTRAINED_BLEND, served_scores
from recommender.textfeatures import TextFeaturizer, paper_texts
from recommender.training import (
    ADDITIONS_FEATURES,
    ADDITIONS_IDS,
    METADATA_FILE,
    MODEL_SUBDIR,
    PAPER_IDS_FILE,
    VOCABULARY_FILE,
    models_dir,
)

log = logging.getLogger(__name__)

# Trending's weight beside a model published without its own blend.
LEGACY_TRENDING = 0.35
# Weight of the similarity to the user's dismissed papers (subtracted): a dismissal pushes
# down the papers like it, not only itself.
DISMISSED_WEIGHT = 0.5
# The top this many hold one of the last day's papers in the user's topics, if there is one.
TODAYS_PICK_WITHIN = 10


def serving_blend(loaded: LoadedModel) -> dict[str, float]:
    """The blend a model was published with (``metadata["blend"]``); for a model without
    one, its own component weights beside trending."""
    blend = loaded.metadata.get("blend")
    if isinstance(blend, dict) and blend:
        return {str(name): float(weight) for name, weight in blend.items()}
    return {**loaded.model.weights, "trending": LEGACY_TRENDING}


@dataclass
class LoadedModel:
    """A model version with its paper index and featuriser."""

    version: str
    model: Any
    paper_ids: list[str]
    featurizer: TextFeaturizer
    metadata: dict[str, Any]
    index: dict[str, int] = field(default_factory=dict)
    ids_by_item: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    additions_mtime: float = 0.0
    readers: CoReaders | None = None

    def __post_init__(self) -> None:
        self.index = {paper_id: i for i, paper_id in enumerate(self.paper_ids)}
        self.ids_by_item = list(self.paper_ids)

    def paper_of(self, item: int) -> str:
        """Paper id of a model item (trained or added since)."""
        return self.ids_by_item[item]

    def add_papers(self, paper_ids: list[str], features: sp.csr_matrix) -> None:
        """Map papers that arrived after training into the model (hold ``lock``)."""
        for paper_id, item in zip(paper_ids, self.model.add_items(features), strict=True):
            self.index[paper_id] = int(item)
            self.ids_by_item.append(paper_id)


def load_version(config: dict[str, Any], version: str) -> LoadedModel:
    """Load a published model version; raises ``recommender.ArtifactError`` if unusable."""
    directory = models_dir(config) / version
    if not directory.is_dir():
        raise recommender.ArtifactError(f"model version {version} not found in {directory.parent}")
    try:
        metadata = json.loads((directory / METADATA_FILE).read_text(encoding="utf-8"))
        paper_ids = json.loads((directory / PAPER_IDS_FILE).read_text(encoding="utf-8"))
        featurizer = TextFeaturizer.load(directory / VOCABULARY_FILE)
    except (OSError, ValueError) as error:
        raise recommender.ArtifactError(f"model version {version}: {error}") from error
    model = recommender.load(str(directory / MODEL_SUBDIR))
    if metadata.get("version") != version or len(paper_ids) != model.n_items:
        raise recommender.ArtifactError(f"model version {version}: inconsistent artifact")
    return LoadedModel(version, model, paper_ids, featurizer, metadata,
                       readers=CoReaders.load(directory, paper_ids))


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
        self._failed_versions: set[str] = set()
        self._checked_at = -1e9
        self._swap_lock = threading.Lock()
        self.content_index = ContentIndex(store)
        self._lists = ListCache(float(config.get("RECOMMENDATIONS_CACHE_SECONDS", 30)))
        self._window_cache: tuple[LoadedModel, list[Candidate], np.ndarray] | None = None
        # One BLAS thread per process: requests already run in parallel (workers x threads),
        # and OpenBLAS threads spinning on busy cores make the small per-request solves ~10x
        # slower (docs/performance.md).
        threadpool_limits(1, "blas")

    # -- model versions ----------------------------------------------------------------

    def model_version(self) -> str | None:
        """The version this worker serves (after checking the pointer if it is time)."""
        current = self.current_model()
        return current.version if current else None

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
        try:
            wanted = self.store.current_model_version()
        except Exception as error:  # Redis hiccup: keep serving what we have
            log.warning("could not read the model pointer: %s", error)
            return
        if self._current and self._current.version == wanted:
            self._load_additions(self._current)
            return
        if not wanted or wanted in self._failed_versions:
            return
        try:
            loaded = load_version(self.config, wanted)
        except Exception as error:
            self._failed_versions.add(wanted)
            log.error("cannot load model version %s, keeping %s: %s", wanted,
                      self._current.version if self._current else "no model", error)
            return
        self._load_additions(loaded)
        self._current = loaded
        log.info("serving model version %s", wanted)

    def _load_additions(self, loaded: LoadedModel) -> None:
        """Map the papers ``paperfeed scheduler`` featurised since training, in one batch."""
        directory = models_dir(self.config) / loaded.version
        try:
            mtime = (directory / ADDITIONS_FEATURES).stat().st_mtime
        except OSError:
            return
        if mtime <= loaded.additions_mtime:
            return
        try:
            features = sp.load_npz(directory / ADDITIONS_FEATURES).tocsr()
            ids = json.loads((directory / ADDITIONS_IDS).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            log.warning("cannot read additions of %s: %s", loaded.version, error)
            return
        ids = ids[: features.shape[0]]
        with loaded.lock:
            rows = [i for i, p in enumerate(ids) if p not in loaded.index]
            if rows:
                loaded.add_papers([ids[row] for row in rows], features[rows])
            loaded.additions_mtime = mtime

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
        window = self.ranker.ranked(days, now, until)
        keep = np.fromiter((c.paper_id not in hidden for c in window), dtype=bool,
                           count=len(window))
        candidates = [c for c, kept in zip(window, keep, strict=True) if kept]
        weights = {p: w for p, w in state.weights.items() if w > 0}
        if not candidates or not weights:
            return fallback_recommendations(
                self.store, self.ranker, hidden, days=days, limit=limit, now=now, until=until)
        components, evidence = self.content_index.components(
            [c.paper_id for c in window], keep, weights, state.dismissed)
        if loaded is None:
            blend = blend or dict(UNTRAINED_BLEND)
        else:
            blend = blend or serving_blend(loaded)
            model_components, readers = self._model_components(
                loaded, user_id, state.saved | state.opened, window, keep, weights, blend)
            components.update(model_components)
            evidence = replace(evidence, readers=readers)
        # trending scores are decayed vote counts, heavy-tailed: blended on a log scale
        components["trending"] = np.log1p(np.array([[c.score for c in candidates]],
                                                   dtype=np.float64))
        blend = {**blend, "dismissed": -DISMISSED_WEIGHT} if state.dismissed else blend
        final = served_scores(components, blend)[0]
        order = np.argsort(-final, kind="stable")
        reasons = Reasons(self.store, components, blend, evidence, user_id, state,
                          [c.paper_id for c in candidates])
        order = self._with_todays_pick(order, candidates, reasons, limit,
                                       self.ranker.window(days, now, until)[1])
        chosen = [candidates[i] for i in order]
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

    @staticmethod
    def _with_todays_pick(order: np.ndarray, candidates: list[Candidate], reasons: Reasons,
                          limit: int, last_day: date) -> np.ndarray:
        """The first ``limit`` of ``order``, making sure the top ``TODAYS_PICK_WITHIN`` hold
        one paper of the window's last day (the page the user is on) when one of that day's
        papers is in the user's topics: the best-scored such paper takes the last of those
        places."""
        top = order[:limit]
        within = min(limit, TODAYS_PICK_WITHIN)
        pick = next((int(i) for i in order
                     if candidates[i].day == last_day and reasons.in_topics(int(i))), None)
        if pick is None or pick in top[:within]:
            return top
        rest = [int(i) for i in order if i != pick]
        return np.array(rest[:within - 1] + [pick] + rest[within - 1:limit - 1], dtype=np.int64)

    def _model_components(self, loaded: LoadedModel, user_id: str, read: set[str],
                          window: list[Candidate], keep: np.ndarray, weights: dict[str, float],
                          blend: dict[str, float]
                          ) -> tuple[dict[str, np.ndarray], SimilarReaders | None]:
        """The model's raw scores of the window's papers where ``keep`` (``"als"``, and the
        ``"nearest"`` and ``"readers"`` components when the blend weighs them), and how many
        readers resembling the user read each (for the reasons).

        The whole window is scored (its item ids are then the same for every user until the
        trending ranking is refreshed) and the kept columns taken: the raw scores do not
        depend on the other candidates.
        """
        window_items = self._window_items(loaded, window)
        self._ensure_indexed(loaded, list(weights))
        model = loaded.model
        known = [p for p in weights if p in loaded.index]
        user_row = sp.csr_matrix(
            (np.array([weights[p] for p in known], dtype=np.float32),
             (np.zeros(len(known), dtype=np.int32),
              np.array([loaded.index[p] for p in known], dtype=np.int32))),
            shape=(1, model.n_items))
        scores = model.component_scores(user_row, window_items,
                                         nearest=bool(blend.get("nearest")))
        components = {name: scores[name][:, keep] for name in ("als", "nearest")
                      if name in scores}
        readers: SimilarReaders | None = loaded.readers
        if blend.get("readers") and loaded.readers is not None:
            paper_ids = [loaded.paper_of(int(i)) for i in window_items[keep]]
            weight, counts = loaded.readers.scores(user_id, sorted(read), paper_ids)
            components["readers"] = weight[None, :]
            readers = ReaderCounts(dict(zip(paper_ids, counts.tolist(), strict=True)))
        return components, readers

    def _window_items(self, loaded: LoadedModel, window: list[Candidate]) -> np.ndarray:
        """Model item ids of the window's papers (featurising new ones), kept while the
        ranker hands out the same window list."""
        cached = self._window_cache
        if cached is not None and cached[0] is loaded and cached[1] is window:
            return cached[2]
        ids = [c.paper_id for c in window]
        self._ensure_indexed(loaded, ids)
        items = np.array([loaded.index[p] for p in ids], dtype=np.int64)
        self._window_cache = (loaded, window, items)
        return items

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
    """Finished lists per (user, days, limit), valid while the user's event state and the
    model version are unchanged, for at most ``ttl`` seconds (trending drifts slowly).

    A save, unsave, dismiss or open changes the state, so it shows in the next list.
    """

    MAX_ENTRIES = 20_000

    def __init__(self, ttl: float):
        self.ttl = ttl
        self._entries: OrderedDict[tuple, tuple[tuple, float, list]] = OrderedDict()
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
            if entry is None or entry[0] != stamp or time.monotonic() - entry[1] > self.ttl:
                return None
            self._entries.move_to_end(key)
            return entry[2]

    def put(self, key: tuple, stamp: tuple, items: list, age: float = 0.0) -> None:
        """Remember a list made ``age`` seconds ago."""
        if self.ttl <= 0:
            return
        with self._lock:
            self._entries[key] = (stamp, time.monotonic() - age, items)
            self._entries.move_to_end(key)
            while len(self._entries) > self.MAX_ENTRIES:
                self._entries.popitem(last=False)
