"""Ranking metrics with binary relevance.

All functions take a ranked list of item ids (best first) and the set of relevant items.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

__all__ = ["precision_at_k", "recall_at_k", "ndcg_at_k", "hit_metrics", "top_k", "window_metrics"]


def precision_at_k(ranked: Sequence[int], relevant: Collection[int], k: int) -> float:
    """Hits in the first ``k`` divided by ``k``.

    Examples
    --------
    >>> precision_at_k([3, 1, 2], {1, 9}, 2)
    0.5
    """
    rel = set(relevant)
    return sum(1 for i in list(ranked)[:k] if i in rel) / k


def recall_at_k(ranked: Sequence[int], relevant: Collection[int], k: int) -> float:
    """Hits in the first ``k`` divided by the number of relevant items (0 if there are none)."""
    rel = set(relevant)
    if not rel:
        return 0.0
    return sum(1 for i in list(ranked)[:k] if i in rel) / len(rel)


def ndcg_at_k(ranked: Sequence[int], relevant: Collection[int], k: int) -> float:
    """Binary nDCG@k: DCG with gain 1/log2(rank + 1), over the ideal DCG of min(|relevant|, k).

    Examples
    --------
    >>> round(ndcg_at_k([5, 1], {1}, 10), 4)
    0.6309
    """
    rel = set(relevant)
    if not rel:
        return 0.0
    dcg = sum(1.0 / np.log2(r + 2) for r, i in enumerate(list(ranked)[:k]) if i in rel)
    idcg = sum(1.0 / np.log2(r + 2) for r in range(min(len(rel), k)))
    return float(dcg / idcg)


def hit_metrics(hits: np.ndarray, n_relevant: np.ndarray,
                ks: Sequence[int]) -> dict[str, np.ndarray]:
    """nDCG@10, P@10 and R@k of many ranked lists at once, each given by its hits.

    The same definitions as :func:`ndcg_at_k`, :func:`precision_at_k` and :func:`recall_at_k`.

    Parameters
    ----------
    hits : numpy.ndarray of bool
        Shape (n_lists, at least max(10, max(ks))): whether each rank holds a relevant item.
    n_relevant : numpy.ndarray of int
        Relevant items of each list (at least 1).
    ks : sequence of int
        Recall cut-offs.

    Returns
    -------
    dict
        ``"nDCG@10"``, ``"P@10"`` and ``"R@<k>"`` -> one value per list.
    """
    discount = 1.0 / np.log2(np.arange(2, 12))
    ideal = np.array([discount[:m].sum() for m in range(1, 11)])
    top10 = hits[:, :10]
    out = {"nDCG@10": (top10 * discount).sum(axis=1) / ideal[np.minimum(n_relevant, 10) - 1],
           "P@10": top10.sum(axis=1) / 10}
    for k in ks:
        out[f"R@{k}"] = hits[:, :k].sum(axis=1) / n_relevant
    return out


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest entries of each row of ``scores``, best first.

    Ties are broken by the lower index, so results are deterministic.

    Parameters
    ----------
    scores : numpy.ndarray
        Shape (n_rows, n_cols).
    k : int

    Returns
    -------
    numpy.ndarray
        Shape (n_rows, min(k, n_cols)).
    """
    scores = np.atleast_2d(scores)
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    part.sort(axis=1)  # stable tie-break by index before the value sort
    vals = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def window_metrics(scores: np.ndarray, relevant: np.ndarray, ndcg_at: int = 10,
                   recall_at: int = 50) -> dict[str, np.ndarray]:
    """Per-user nDCG@``ndcg_at`` and R@``recall_at`` of scores over candidate windows (k x W
    scores, k x W booleans ``relevant``; ties: the earlier candidate first, as :func:`top_k`).

    Only the ranks of the relevant candidates are computed (a window holds few of them), which
    is what makes trying many blends cheap.
    """
    scores = np.asarray(scores)
    rows, cols = np.nonzero(relevant)
    k, size = relevant.shape
    own = scores[rows, cols][:, None]
    row_scores = scores[rows]
    rank = (row_scores > own).sum(axis=1) + (
        (row_scores == own) & (np.arange(size) < cols[:, None])).sum(axis=1)
    n_relevant = np.bincount(rows, minlength=k)
    gain = np.where(rank < ndcg_at, 1.0 / np.log2(rank + 2.0), 0.0)
    discount = 1.0 / np.log2(np.arange(2, ndcg_at + 2))
    ideal = np.cumsum(discount)[np.minimum(np.maximum(n_relevant, 1), ndcg_at) - 1]
    ndcg = np.bincount(rows, weights=gain, minlength=k) / ideal
    recall = np.bincount(rows, weights=(rank < recall_at).astype(np.float64), minlength=k) / (
        np.maximum(n_relevant, 1))
    return {f"nDCG@{ndcg_at}": ndcg, f"R@{recall_at}": recall}
