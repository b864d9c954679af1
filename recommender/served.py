"""How a served list is scored, and the evaluation protocol that mirrors it.

Serving, ``paperfeed eval --protocol served`` and the publishing gate of ``paperfeed train``
score a list the same way: raw component scores over one window of candidates, each
z-scored over those candidates, summed with the blend weights (:func:`served_scores`).

Components (raw k x n scores):

- ``"als"``: the model's collaborative score (user vector . item factors);
- ``"content"``: cosine of the user's TF-IDF profile
  (:func:`recommender.content.shared_terms_profiles`) and the paper's;
- ``"nearest"``: the paper's highest cosine to one of the user's papers in factor space;
- ``"readers"``: the summed weight of the readers resembling the user who read the paper
  (:mod:`recommender.readers`);
- ``"trending"``: the community's interest in the paper (in the product: the trending score
  of the window; offline: ``log(1 + readers in the training data)``, 0 for a paper nobody
  read yet, see :func:`trending_scores`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .content import shared_terms_profiles
from .metrics import window_metrics
from .model import blend, zscore
from .readers import ReadersIndex

__all__ = ["COMPONENTS", "UNTRAINED_BLEND", "served_scores", "trending_scores", "Windows",
           "sample_windows", "window_components", "readers_scores", "window_metrics", "standardise",
           "blend_metrics", "choose_blend"]

#: The components a served list blends, in the order reports list them.
COMPONENTS = ("als", "content", "nearest", "readers", "trending")

#: The blend without a published model (content profile + trending); chosen on validation
#: splits, see docs/evaluation.md.
UNTRAINED_BLEND: dict[str, float] = {"content": 1.0, "trending": 0.3}


def served_scores(components: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """Scores of a served list: each component z-scored over the candidates, then weighted.

    Parameters
    ----------
    components : dict of str to numpy.ndarray
        Raw k x n scores per component name (see the module docstring); a 1-D array is one
        user's row. Components without a weight, or with weight 0, are ignored.
    weights : dict of str to float
        Blend weights, e.g. a published model's ``metadata["blend"]`` or
        :data:`UNTRAINED_BLEND`.

    Returns
    -------
    numpy.ndarray
        k x n scores, higher is better (zeros when no weighted component is given).

    Example usage::

        scores = served_scores({"content": content, "trending": trending[None, :]},
                               UNTRAINED_BLEND)
    """
    return blend(components, weights)


def trending_scores(user_items) -> np.ndarray:
    """Offline stand-in for the product's trending score: ``log(1 + readers)`` of each item
    in ``user_items`` (users x items); 0 for items nobody has read."""
    readers = np.bincount(user_items.indices, minlength=user_items.shape[1])
    return np.log1p(readers.astype(np.float64))


# ---------------------------------------------------------------------- the served protocol
#: Cut-offs the served protocol reports: what the sidebar shows, and a page of the feed.
NDCG_AT = 10
RECALL_AT = 50


@dataclass
class Windows:
    """Evaluated users with their candidate windows, as the product would show them.

    Attributes
    ----------
    users : numpy.ndarray
        Row ids of the evaluated users.
    items : numpy.ndarray
        len(users) x W candidate item ids per user (the user's own training items are never
        among them, as the product never shows saved or opened papers).
    relevant : numpy.ndarray
        len(users) x W booleans: the candidate is one of the user's held-out items.
    """

    users: np.ndarray
    items: np.ndarray
    relevant: np.ndarray

    def subset(self, rows: np.ndarray) -> Windows:
        """The windows of ``users[rows]`` only."""
        return Windows(self.users[rows], self.items[rows], self.relevant[rows])


def sample_windows(train: sp.csr_matrix, test: sp.csr_matrix, seed: int, size: int = 300,
                   max_relevant: int = 30, pool: np.ndarray | None = None,
                   max_users: int | None = None, balanced: bool = True) -> Windows:
    """A window of ``size`` candidates for each user with held-out items in ``test``.

    The window holds up to ``max_relevant`` of the user's held-out items; the rest are drawn
    at random (``balanced``: half from the items without any reader in ``train`` and half
    from the others, so papers with and without readers compete as in a day's Daily Papers;
    otherwise uniformly from ``pool``), never among the user's training items.

    Parameters
    ----------
    train, test : scipy.sparse.csr_matrix
        Users x items; ``test`` holds the items to find.
    seed : int
    size : int
        Candidates per window.
    max_relevant : int
        Held-out items per window at most (a window is mostly papers the user ignores).
    pool : numpy.ndarray, optional
        Item ids windows are drawn from (default: every item).
    max_users : int, optional
        Evaluate a random subset of at most this many users.
    """
    rng = np.random.default_rng(seed)
    n_items = train.shape[1]
    pool = np.arange(n_items) if pool is None else np.asarray(pool)
    read = np.bincount(train.indices, minlength=n_items) > 0
    pools = [pool[~read[pool]], pool[read[pool]]] if balanced else [pool[:0], pool]
    users = np.flatnonzero(np.diff(test.indptr) > 0)
    if max_users is not None and len(users) > max_users:
        users = np.sort(rng.choice(users, size=max_users, replace=False))
    items = np.zeros((len(users), size), dtype=np.int64)
    relevant = np.zeros((len(users), size), dtype=bool)
    for row, user in enumerate(users):
        positives = test.indices[test.indptr[user]:test.indptr[user + 1]]
        if len(positives) > max_relevant:
            positives = rng.choice(positives, size=max_relevant, replace=False)
        own = np.concatenate([train.indices[train.indptr[user]:train.indptr[user + 1]],
                              test.indices[test.indptr[user]:test.indptr[user + 1]]])
        wanted = size - len(positives)
        negatives: list[np.ndarray] = []
        for j, candidates in enumerate(pools):
            share = wanted // 2 if j == 0 else wanted - sum(map(len, negatives))
            negatives.append(_draw(rng, candidates, own, share))
        chosen = np.concatenate([positives, *negatives])
        if len(chosen) < size:  # small data: fill from anything the user has not read
            chosen = np.concatenate([chosen, _draw(rng, pool, np.concatenate([own, chosen]),
                                                   size - len(chosen))])
        chosen = chosen[:size]
        order = rng.permutation(len(chosen))
        items[row, :len(chosen)] = chosen[order]
        relevant[row, :len(chosen)] = (np.arange(len(chosen)) < len(positives))[order]
        if len(chosen) < size:  # fewer items than a window: repeat the last irrelevant one
            items[row, len(chosen):] = chosen[order][-1]
    return Windows(users, items, relevant)


def _draw(rng: np.random.Generator, candidates: np.ndarray, excluded: np.ndarray,
          count: int) -> np.ndarray:
    """Up to ``count`` distinct items of ``candidates`` not in ``excluded``."""
    if count <= 0 or not len(candidates):
        return candidates[:0]
    picked = rng.choice(candidates, size=min(len(candidates), count + len(excluded)),
                        replace=False)
    picked = picked[~np.isin(picked, excluded)]
    return picked[:count]


def window_components(model, rows_of_users: sp.csr_matrix, windows: Windows,
                      trending: np.ndarray, readers: np.ndarray | None = None,
                      batch: int = 256) -> dict[str, np.ndarray]:
    """Raw scores of every window (len(users) x W) of the model's components and trending,
    and ``"readers"`` when ``readers`` (:func:`readers_scores` of the same windows) is given.

    ``rows_of_users`` holds the evaluated users' interactions (row j is ``windows.users[j]``);
    ``trending`` the trending score of every item. Without content the model has no
    ``"content"`` component.
    """
    k, size = windows.items.shape
    out: dict[str, np.ndarray] = {}
    for start in range(0, k, batch):
        stop = min(k, start + batch)
        union, inverse = np.unique(windows.items[start:stop], return_inverse=True)
        inverse = inverse.reshape(stop - start, size)
        comps = model.component_scores(rows_of_users[start:stop], union, nearest=True,
                                       content=False)
        if model.has_content:  # the served profile (the model's own is a plain mean)
            vectors = model.item_vectors()
            profiles = shared_terms_profiles(rows_of_users[start:stop], vectors)
            comps["content"] = np.asarray(vectors[union] @ profiles.T).T
        comps["trending"] = np.tile(trending[union], (stop - start, 1))
        for name in COMPONENTS:
            if name not in comps:
                continue
            values = np.take_along_axis(np.asarray(comps[name], dtype=np.float32), inverse, axis=1)
            out.setdefault(name, np.zeros((k, size), dtype=np.float32))[start:stop] = values
    if readers is not None:
        out["readers"] = readers
    return out


def readers_scores(readers: ReadersIndex, rows_of_users: sp.csr_matrix,
                   windows: Windows) -> np.ndarray:
    """The ``"readers"`` component of every window (len(users) x W): ``readers`` holds who
    read what in training, one row per user of ``windows.users``. It does not depend on the
    model, so one computation serves every model compared on the same windows."""
    return readers.batch_scores(rows_of_users, windows.items, windows.users).astype(np.float32)


def blend_metrics(standardised: dict[str, np.ndarray], relevant: np.ndarray,
                  weights: dict[str, float]) -> dict[str, np.ndarray]:
    """:func:`window_metrics` of a blend of components already z-scored per window."""
    total = None
    for name, weight in weights.items():
        if weight and name in standardised:
            part = weight * standardised[name]
            total = part if total is None else total + part
    if total is None:
        total = np.zeros(relevant.shape, dtype=np.float32)
    return window_metrics(total, relevant, NDCG_AT, RECALL_AT)


def standardise(components: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each component z-scored per window (what :func:`served_scores` does before weighting)."""
    return {name: zscore(values).astype(np.float32) for name, values in components.items()}


#: Weights tried per component when a blend is chosen on validation windows (only their
#: ratios matter).
BLEND_GRID: dict[str, tuple[float, ...]] = {
    "als": (0.0, 0.25, 0.5, 1.0, 2.0),
    "content": (0.0, 0.25, 0.5, 1.0, 2.0),
    "nearest": (0.0, 0.25, 0.5),
    "readers": (0.0, 0.25, 0.5, 1.0, 2.0),
    "trending": (0.0, 0.1, 0.25, 0.5),
}


def objective(metrics: dict[str, np.ndarray]) -> float:
    """What a blend is chosen for: mean nDCG@10 plus mean R@50 over the users."""
    return float(np.mean(metrics[f"nDCG@{NDCG_AT}"]) + np.mean(metrics[f"R@{RECALL_AT}"]))


def choose_blend(standardised: dict[str, np.ndarray], relevant: np.ndarray,
                 grid: dict[str, tuple[float, ...]] | None = None, rounds: int = 3
                 ) -> tuple[dict[str, float], float]:
    """A blend of grid weights with the best :func:`objective` on these windows, and its value.

    Coordinate ascent: start from the best component alone, then move one weight at a time
    to the grid value that helps most, for at most ``rounds`` passes (a few dozen blends
    scored instead of the whole grid). Weights are scaled so the largest is 1.
    """
    grid = {name: values for name, values in (grid or BLEND_GRID).items()
            if name in standardised}
    scored: dict[tuple[float, ...], float] = {}
    names = list(grid)

    def value(weights: tuple[float, ...]) -> float:
        if weights not in scored:
            scored[weights] = (objective(blend_metrics(
                standardised, relevant, dict(zip(names, weights, strict=True))))
                if any(weights) else -np.inf)
        return scored[weights]

    singles = [tuple(1.0 if other == name else 0.0 for other in names) for name in names]
    best = max(singles, key=value)
    for _ in range(rounds):
        improved = False
        for j, name in enumerate(names):
            for weight in grid[name]:
                trial = best[:j] + (weight,) + best[j + 1:]
                if value(trial) > value(best) + 1e-9:
                    best, improved = trial, True
        if not improved:
            break
    top = max(best)
    return {name: round(w / top, 4) for name, w in zip(names, best, strict=True)}, value(best)
