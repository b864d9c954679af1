"""Collaborative side: BM25 weighting, implicit ALS fit, batched user-vector solve."""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

__all__ = ["Bm25", "fit_als", "solve_users"]


class Bm25:
    """BM25 weights of a users x items matrix (rows = users, idf per item).

    Matches ``implicit.nearest_neighbours.bm25_weight(user_items, K1, B)`` on the training
    matrix and applies the same training statistics to rows of users never seen.
    """

    def __init__(self, idf: np.ndarray, average_length: float, k1: float, b: float) -> None:
        self.idf = np.asarray(idf, dtype=np.float64)
        self.average_length = float(average_length)
        self.k1 = float(k1)
        self.b = float(b)

    @classmethod
    def fit(cls, user_items: sp.csr_matrix, k1: float, b: float) -> Bm25:
        n = float(user_items.shape[0])
        df = np.bincount(user_items.indices, minlength=user_items.shape[1])
        idf = np.log(n) - np.log1p(df)
        avg = float(np.asarray(user_items.sum(axis=1)).mean()) if user_items.shape[0] else 1.0
        return cls(idf, avg if avg > 0 else 1.0, k1, b)

    def idf_for(self, items: np.ndarray) -> np.ndarray:
        """IDF of item ids; items added after training (df = 0) get ``log(n_users)``."""
        out = np.full(len(items), self.idf.max(initial=0.0) if len(self.idf) else 0.0)
        known = items < len(self.idf)
        out[known] = self.idf[items[known]]
        return out

    def transform(self, user_rows: sp.csr_matrix) -> sp.csr_matrix:
        x = sp.csr_matrix(user_rows, dtype=np.float64, copy=True)
        x.sum_duplicates()
        lengths = np.asarray(x.sum(axis=1)).ravel()
        norm = (1.0 - self.b) + self.b * lengths / self.average_length
        rows = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))
        x.data = x.data * (self.k1 + 1.0) / (self.k1 * norm[rows] + x.data) * self.idf_for(x.indices)
        return x.astype(np.float32)


def fit_als(weighted: sp.csr_matrix, factors: int, regularization: float, alpha: float,
            iterations: int, random_state: int, num_threads: int = 0):
    """Fit ``implicit.cpu.als.AlternatingLeastSquares`` with BLAS limited to one thread.

    Returns
    -------
    (user_factors, item_factors) : tuple of numpy.ndarray (float32)
    """
    with threadpool_limits(1, "blas"):
        from implicit.cpu.als import AlternatingLeastSquares

        model = AlternatingLeastSquares(
            factors=factors, regularization=regularization, alpha=alpha,
            iterations=iterations, random_state=random_state, num_threads=num_threads,
        )
        model.fit(sp.csr_matrix(weighted, dtype=np.float32), show_progress=False)
    return np.asarray(model.user_factors), np.asarray(model.item_factors)


def solve_users(confidence: sp.csr_matrix, item_factors_of, yty: np.ndarray,
                regularization: float, chunk: int = 256) -> np.ndarray:
    """Exact ALS user vectors: ``(YtY + Yu'(Cu - I)Yu + reg I) x = Yu' Cu 1``.

    Parameters
    ----------
    confidence : scipy.sparse.csr_matrix
        k x items confidences (alpha * bm25 weights).
    item_factors_of : callable
        ``ids -> factors`` for an array of item ids (handles items added after training).
    yty : numpy.ndarray
        f x f Gram matrix of the training item factors.
    regularization : float

    Returns
    -------
    numpy.ndarray
        k x f user factors.
    """
    k = confidence.shape[0]
    f = yty.shape[0]
    out = np.zeros((k, f), dtype=np.float32)
    base = yty.astype(np.float64) + regularization * np.eye(f)
    lengths = np.diff(confidence.indptr)
    for s in range(0, k, chunk):
        e = min(k, s + chunk)
        rows = [u for u in range(s, e) if lengths[u] > 0]
        if not rows:
            continue
        a = np.repeat(base[None], len(rows), axis=0)
        b = np.zeros((len(rows), f))
        for j, u in enumerate(rows):
            lo, hi = confidence.indptr[u], confidence.indptr[u + 1]
            y = item_factors_of(confidence.indices[lo:hi]).astype(np.float64)
            c = confidence.data[lo:hi].astype(np.float64)
            a[j] += (y.T * (c - 1.0)) @ y
            b[j] = y.T @ c
        if len(rows) <= 8:  # serving path: Cholesky per user is several times faster
            for j, u in enumerate(rows):
                out[u] = scipy.linalg.cho_solve(
                    scipy.linalg.cho_factor(a[j], check_finite=False), b[j], check_finite=False)
        else:
            out[rows] = np.linalg.solve(a, b[..., None])[..., 0]
    return out
