"""Adapting the model to a deployment's own data, and the publishing gate.

``paperfeed train`` holds out the latest interactions as a validation slice (a time split:
what the evaluated readers did with the papers of the newest days), chooses the ALS settings
and the served blend on half of those readers' windows, and checks the result on the other
half against content only, trending only and the model being served.

Time of an interaction: the store keeps no time per interaction weight, so the day of the
paper (its Daily Papers date) stands for it; readers of a daily feed read the newest papers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

import recommender

from . import served
from .readers import ReadersIndex

__all__ = ["ValidationSlice", "time_split", "Adapted", "adapt", "served_figures", "gate",
           "ALS_CANDIDATES", "GATE_TOLERANCE"]

#: Newest days of papers whose interactions the validation slice holds out.
VALIDATION_DAYS = 7
#: Readers evaluated at most (half choose, half check).
VALIDATION_USERS = 2000
#: Candidates per validation window (the product's 7-day window holds ~2,000; a sample of
#: them keeps the check cheap).
WINDOW = 300
#: ALS settings tried (overrides of the model's params); the first is the model's defaults.
ALS_CANDIDATES: tuple[dict[str, Any], ...] = (
    {},
    {"factors": 48, "regularization": 5.0},
    {"alpha": 15.0},
)
#: Candidates are compared with one ALS fit of fewer iterations (the published model is then
#: fitted once with the chosen settings and the model's own sizes).
CANDIDATE_FIT: dict[str, Any] = {"ensemble": 1, "iterations": 5}
#: Multipliers of the factors of papers without readers tried on the validation windows.
COLD_SCALES = (0.25, 0.5, 1.0, 1.5)
#: A new model may score at most this fraction below the serving model (objective of
#: :func:`recommender.served.objective`, nDCG@10 + R@50) and still be published: two fits
#: of the same data differ by about that much.
GATE_TOLERANCE = 0.02
#: Fewest evaluated readers for a validation slice.
MIN_USERS = 2


@dataclass
class ValidationSlice:
    """The store's interactions with the latest ones held out.

    Attributes
    ----------
    train : scipy.sparse.csr_matrix
        Users x items without the held-out interactions.
    held_out : scipy.sparse.csr_matrix
        The held-out interactions (the evaluated readers' with the newest papers).
    choose, check : recommender.served.Windows
        Windows of two disjoint halves of the evaluated readers: settings and blend are
        chosen on ``choose``, the gate's figures come from ``check``.
    first_day, last_day : int
        Day numbers of the newest papers held out.
    """

    train: sp.csr_matrix
    held_out: sp.csr_matrix
    choose: served.Windows
    check: served.Windows
    first_day: int
    last_day: int


def time_split(user_items: sp.csr_matrix, item_day: np.ndarray, days: int = VALIDATION_DAYS,
               max_users: int = VALIDATION_USERS, window: int = WINDOW,
               seed: int = 0) -> ValidationSlice | None:
    """Hold out the latest interactions: those of sampled readers with the newest papers.

    The newest papers are those of the ``days`` newest days on which anybody read a paper.
    Their readers (at most ``max_users``, with at least 2 interactions) lose their
    interactions with them; a reader whose every paper is that new keeps the older half. Other
    readers keep theirs, so the newest papers still have readers, as at serving time. Each
    evaluated reader's window is a sample of the newest days' papers (read or not) that
    holds their held-out ones.

    Parameters
    ----------
    user_items : scipy.sparse.csr_matrix
    item_day : numpy.ndarray
        Day number of each item (any increasing day count; negative: unknown, never held out).
    days, max_users, window, seed

    Returns
    -------
    ValidationSlice or None
        None when fewer than ``MIN_USERS`` readers can be evaluated.
    """
    m = sp.csr_matrix(user_items)
    item_day = np.asarray(item_day)
    read_days = item_day[m.indices]
    read_days = read_days[read_days >= 0]
    if not len(read_days):
        return None
    last = int(read_days.max())
    first = last - days + 1
    recent = (item_day >= first) & (item_day <= last)
    rng = np.random.default_rng(seed)
    counts = np.diff(m.indptr)
    rows = np.repeat(np.arange(m.shape[0]), counts)
    recent_reads = np.bincount(rows[recent[m.indices]], minlength=m.shape[0])
    candidates = np.flatnonzero((counts >= 2) & (recent_reads > 0))
    if len(candidates) > max_users:
        candidates = np.sort(rng.choice(candidates, size=max_users, replace=False))
    if len(candidates) < MIN_USERS:
        return None
    held = np.zeros(m.nnz, dtype=bool)
    for user in candidates:
        lo, hi = m.indptr[user], m.indptr[user + 1]
        new = recent[m.indices[lo:hi]]
        if new.all():  # keep the older half as the reader's history
            order = np.lexsort((m.indices[lo:hi], item_day[m.indices[lo:hi]]))
            new = np.zeros(hi - lo, dtype=bool)
            new[order[(hi - lo) // 2:]] = True
        held[lo:hi] = new
    train_part = sp.csr_matrix((m.data[~held], (rows[~held], m.indices[~held])), shape=m.shape)
    held_out = sp.csr_matrix((m.data[held], (rows[held], m.indices[held])), shape=m.shape)
    pool = np.flatnonzero(recent)
    windows = served.sample_windows(train_part, held_out, seed, min(window, len(pool)),
                                    pool=pool, balanced=False)
    order = rng.permutation(len(windows.users))
    half = len(order) // 2
    return ValidationSlice(train_part, held_out, windows.subset(np.sort(order[:half])),
                           windows.subset(np.sort(order[half:])), first, last)


def served_figures(standardised: dict[str, np.ndarray], relevant: np.ndarray,
                   blends: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """Mean nDCG@10, R@50 and their sum (``objective``) of named blends over windows."""
    out = {}
    for name, weights in blends.items():
        metrics = served.blend_metrics(standardised, relevant, weights)
        out[name] = {metric: float(np.mean(v)) for metric, v in metrics.items()}
        out[name]["objective"] = served.objective(metrics)
    return out


@dataclass
class Adapted:
    """A model fitted with the settings chosen on a validation slice, with its blend."""

    model: Any
    blend: dict[str, float]
    params: dict[str, Any]
    candidates: list[dict[str, Any]]
    check: dict[str, dict[str, float]]


def adapt(split: ValidationSlice, item_features: sp.csr_matrix | None,
          params: dict[str, Any] | None = None,
          candidates: tuple[dict[str, Any], ...] = ALS_CANDIDATES,
          progress: Callable[[str], None] = lambda message: None) -> Adapted:
    """Choose the ALS settings and the blend on ``split.choose``; fit the model to publish.

    Each candidate of ``candidates`` is fitted cheaply (:data:`CANDIDATE_FIT`) on
    ``split.train`` and judged by its best blend's objective; the best settings are then fitted
    with the model's own sizes, and its blend chosen again on ``split.choose``. ``check``
    holds the figures on ``split.check`` of the blend, each component alone and the
    untrained blend.
    """
    params = dict(params or {})
    trending = served.trending_scores(split.train)
    history = split.train
    index = ReadersIndex(history)
    # the readers component does not depend on the model: one computation per set of windows
    choose_readers, check_readers = (served.readers_scores(index, history[w.users], w)
                                     for w in (split.choose, split.check))

    def components(model, windows: served.Windows, readers: np.ndarray
                   ) -> dict[str, np.ndarray]:
        return served.standardise(served.window_components(
            model, history[windows.users], windows, trending, readers))

    tried = []
    for overrides in candidates:
        model = recommender.train(split.train, item_features,
                                  {**params, **CANDIDATE_FIT, **overrides})
        blend, value = served.choose_blend(components(model, split.choose, choose_readers),
                                           split.choose.relevant)
        tried.append({"params": overrides, "blend": blend, "objective": value})
        progress(f"candidate {overrides or 'defaults'}: objective {value:.4f}")
    best = max(range(len(tried)), key=lambda j: (tried[j]["objective"], -j))
    chosen = {**params, **candidates[best]}
    model = recommender.train(split.train, item_features, chosen)
    scale, blend = choose_cold_scale(model, history, split.choose, trending, choose_readers)
    model.scale_cold_items(scale)
    progress(f"papers without readers: factors x {scale}; blend {blend}")
    check_components = components(model, split.check, check_readers)
    blends = {"hybrid": blend, "untrained": served.UNTRAINED_BLEND,
              **{name: {name: 1.0} for name in check_components}}
    check = served_figures(check_components, split.check.relevant, blends)
    return Adapted(model, blend, dict(model.params), tried, check)


def choose_cold_scale(model, history: sp.csr_matrix, windows: served.Windows,
                      trending: np.ndarray, readers: np.ndarray | None = None
                      ) -> tuple[float, dict[str, float]]:
    """The multiplier of :data:`COLD_SCALES` for the ALS scores of papers nobody has read
    (and the blend that goes with it) that serves ``windows`` best.

    Text-mapped factors and factors learned from readers live on different scales, and
    z-scoring one window of both does not reconcile them: left alone, papers nobody has
    read can out-score those that readers like this one saved.
    """
    raw = served.window_components(model, history[windows.users], windows, trending, readers)
    unread = model.readers(windows.items) == 0
    best = (-np.inf, 1.0, {})
    for scale in COLD_SCALES:
        components = dict(raw)
        components["als"] = raw["als"] * np.where(unread, np.float32(scale), np.float32(1.0))
        blend, value = served.choose_blend(served.standardise(components), windows.relevant)
        if value > best[0] + 1e-9:
            best = (value, scale, blend)
    return best[1], best[2]


def gate(check: dict[str, dict[str, float]], current: dict[str, float] | None = None,
         tolerance: float = GATE_TOLERANCE) -> list[str]:
    """Why a model must not be published (empty: it may be).

    It must beat content only and trending only on the validation check, and score at least
    ``(1 - tolerance)`` x the serving model's objective (``current``) when there is one.
    """
    reasons = []
    hybrid = check["hybrid"]["objective"]
    for name in ("content", "trending"):
        if name in check and hybrid <= check[name]["objective"]:
            reasons.append(f"it does not beat {name} only (nDCG@10 + R@50 {hybrid:.4f} vs "
                           f"{check[name]['objective']:.4f})")
    if current is not None and hybrid < (1 - tolerance) * current["objective"]:
        reasons.append(f"it is worse than the serving model beyond the tolerance of "
                       f"{tolerance:.0%} ({hybrid:.4f} vs {current['objective']:.4f})")
    return reasons
