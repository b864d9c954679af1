"""Content side: TF-IDF item vectors, user profiles and the text -> factor maps."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from .threads import available_cpus, thread_map

__all__ = ["TfidfModel", "ridge_map", "knn_map", "shared_terms_profiles"]

#: knn_map: the base's most frequent words whose similarities go through a dense product,
#: and a bound on that dense block's size (words x base rows, float32 values).
KNN_DENSE_WORDS = 128
KNN_DENSE_VALUES = 32 * 2**20


class TfidfModel:
    """Sublinear TF-IDF with L2-normalised rows, fitted on item x word counts.

    Parameters
    ----------
    idf : numpy.ndarray
        Inverse document frequency per feature (smoothed, as scikit-learn's
        ``TfidfTransformer(smooth_idf=True)``).
    sublinear_tf : bool
        Use ``1 + log(tf)`` instead of raw counts.
    """

    def __init__(self, idf: np.ndarray, sublinear_tf: bool = True) -> None:
        self.idf = np.asarray(idf, dtype=np.float32)
        self.sublinear_tf = sublinear_tf

    @classmethod
    def fit(cls, counts: sp.csr_matrix, sublinear_tf: bool = True) -> TfidfModel:
        """Fit the IDF on ``counts`` (items x features), using the items with any text."""
        from sklearn.feature_extraction.text import TfidfTransformer

        has_text = np.diff(counts.indptr) > 0
        tf = TfidfTransformer(sublinear_tf=sublinear_tf, smooth_idf=True)
        tf.fit(counts[has_text] if has_text.any() else counts)
        return cls(tf.idf_, sublinear_tf)

    def transform(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """Items x features TF-IDF with unit L2 rows (empty rows stay empty)."""
        x = sp.csr_matrix(counts, dtype=np.float32, copy=True)
        if x.shape[1] != len(self.idf):
            raise ValueError(f"expected {len(self.idf)} features, got {x.shape[1]}")
        if self.sublinear_tf:
            np.log(x.data, x.data)
            x.data += 1.0
        x = x @ sp.diags(self.idf)
        return normalize(x.tocsr()).astype(np.float32)


def shared_terms_profiles(user_rows: sp.spmatrix, item_vectors: sp.csr_matrix) -> np.ndarray:
    """Users' text profiles (k x features, unit rows): the weighted mean of each user's item
    vectors, each term scaled by the weighted share of the user's items that use it, so what
    the items have in common (their topic) counts more than what one of them says alone.

    Parameters
    ----------
    user_rows : scipy.sparse.spmatrix
        k x items, nonnegative weights.
    item_vectors : scipy.sparse.csr_matrix
        Items x features (e.g. L2-normalised TF-IDF rows).
    """
    rows = sp.csr_matrix(user_rows, dtype=np.float32)
    totals = np.asarray(rows.sum(axis=1), dtype=np.float64)
    totals[totals == 0] = 1.0
    items = np.unique(rows.indices)  # only the users' items take part
    rows = rows[:, items]
    vectors = sp.csr_matrix(item_vectors)[items]
    used = vectors.copy()
    used.data = (used.data > 0).astype(used.dtype)
    mean = (rows @ vectors).toarray() / totals
    share = (rows @ used).toarray() / totals
    return normalize(mean * share).astype(np.float32)


def ridge_map(x: sp.csr_matrix, y: np.ndarray, alpha: float, max_iter: int = 300,
              tol: float = 1e-5, num_threads: int = 0) -> np.ndarray:
    """Ridge regression ``argmin_W |XW - Y|^2 + alpha |W|^2`` by column-wise conjugate gradient.

    All targets are solved at once (vectorised CG), which is much faster than scikit-learn's
    per-target solvers on a large sparse ``X`` and deterministic for a given ``num_threads``.
    The CG is preconditioned with the diagonal of ``X'X + alpha I`` (Jacobi): word columns
    differ widely in weight, and scaling them takes a third to a half of the iterations away.
    The products with ``X`` run in float32 on row blocks in parallel threads; the CG
    recurrences stay in float64 (the result differs from an all-float64 CG by far less
    than ``tol``).

    Parameters
    ----------
    x : scipy.sparse.csr_matrix
        n x d features.
    y : numpy.ndarray
        n x t targets.
    alpha : float
        L2 penalty (> 0).
    max_iter, tol : int, float
        Stop when every column's residual is below ``tol`` x its initial one, or after
        ``max_iter`` iterations.
    num_threads : int
        Threads for the products with ``X`` (0: one per CPU available to the process).

    Returns
    -------
    numpy.ndarray
        d x t coefficients (float32).
    """
    x = sp.csr_matrix(x, dtype=np.float32)
    gram = _Gram(x, alpha, num_threads)
    inverse_diagonal = 1.0 / (np.bincount(x.indices, weights=np.square(x.data, dtype=np.float64),
                                          minlength=x.shape[1]) + float(alpha))
    try:
        b = gram.xt_dot(np.asarray(y, dtype=np.float32))
        w = np.zeros_like(b)
        r = b.copy()
        z = r * inverse_diagonal[:, None]
        p = z.copy()
        rz = np.einsum("ij,ij->j", r, z)
        stop = (tol ** 2) * np.maximum(np.einsum("ij,ij->j", r, r), 1e-30)
        for _ in range(max_iter):
            ap = gram(p)
            denom = np.einsum("ij,ij->j", p, ap)
            step = np.divide(rz, denom, out=np.zeros_like(rz), where=denom > 0)
            w += p * step
            r -= ap * step
            if np.all(np.einsum("ij,ij->j", r, r) <= stop):
                break
            z = r * inverse_diagonal[:, None]
            rz_new = np.einsum("ij,ij->j", r, z)
            p = z + p * np.divide(rz_new, rz, out=np.zeros_like(rz), where=rz > 0)
            rz = rz_new
    finally:
        gram.close()
    return w.astype(np.float32)


class _Gram:
    """``p -> X'X p + alpha p`` for a sparse ``X``, in float32 on row blocks of ``X`` in threads.

    ``X'q`` is computed through the CSC view of each block (``X.T`` without conversion):
    scattering into the d x t result is about twice as fast as gathering rows of ``q``
    through a CSR copy of ``X'``. scipy's sparse products release the GIL.
    """

    def __init__(self, x: sp.csr_matrix, alpha: float, num_threads: int = 0) -> None:
        threads = max(1, min(num_threads or available_cpus(), x.shape[0] // 1000 or 1))
        bounds = np.linspace(0, x.shape[0], threads + 1).astype(np.int64)
        self.blocks = [x[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]
        self.bounds = bounds
        self.alpha = float(alpha)
        self.pool = ThreadPoolExecutor(threads) if threads > 1 else None

    def _sum(self, parts) -> np.ndarray:
        parts = iter(parts)
        out = np.array(next(parts), dtype=np.float64)
        for part in parts:
            out += part
        return out

    def _each(self, func, *args):
        if self.pool is None:
            return map(func, self.blocks, *args)
        return self.pool.map(func, self.blocks, *args)

    def xt_dot(self, q: np.ndarray) -> np.ndarray:
        """``X'q`` (float64) for an n x t float32 ``q``."""
        rows = [q[lo:hi] for lo, hi in zip(self.bounds[:-1], self.bounds[1:], strict=True)]
        return self._sum(self._each(lambda block, part: block.T @ part, rows))

    def __call__(self, p: np.ndarray) -> np.ndarray:
        p32 = p.astype(np.float32)
        out = self._sum(self._each(lambda block: block.T @ (block @ p32)))
        out += self.alpha * p
        return out

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()


def knn_map(query: sp.csr_matrix, base: sp.csr_matrix, base_factors: np.ndarray, k: int,
            chunk: int = 256, num_threads: int = 0) -> np.ndarray:
    """Factors of each query item as the similarity-weighted mean of its ``k`` nearest base items.

    Parameters
    ----------
    query : scipy.sparse.csr_matrix
        q x features, unit rows.
    base : scipy.sparse.csr_matrix
        n x features, unit rows (warm items).
    base_factors : numpy.ndarray
        n x f factors of the base items.
    k : int
    chunk : int
        Query rows per block (each block holds a dense chunk x n similarity matrix).
    num_threads : int
        Blocks computed in parallel (0: one per CPU available to the process).

    Returns
    -------
    numpy.ndarray
        q x f (zero rows for queries without any similar item).
    """
    out = np.zeros((query.shape[0], base_factors.shape[1]), dtype=np.float32)
    if query.shape[0] == 0 or base.shape[0] == 0:
        return out
    k = min(k, base.shape[0])
    similarity = _Similarity(base)
    top, rest = similarity.split(query)

    def fill(start: int) -> None:
        sim = similarity(top[start:start + chunk], rest[start:start + chunk])
        out[start:start + chunk] = _weighted_neighbours(sim, base_factors, k)

    thread_map(fill, range(0, query.shape[0], chunk), num_threads)
    return out


class _Similarity:
    """Dot products of query rows with every base row, as a dense matrix.

    The base's most frequent words are in most rows: through a sparse x sparse product they
    make the result nearly dense and cost ~10 ns per term, so they go through a dense BLAS
    product instead (~100x cheaper per term); the sparse product handles the other words.
    """

    def __init__(self, base: sp.csr_matrix) -> None:
        base = sp.csr_matrix(base)
        df = np.bincount(base.indices, minlength=base.shape[1])
        dense_words = min(KNN_DENSE_WORDS, KNN_DENSE_VALUES // max(base.shape[0], 1), np.count_nonzero(df))
        order = np.argsort(-df, kind="stable")
        self.top, self.rest = order[:dense_words], order[dense_words:]
        self.dense_t = np.ascontiguousarray(base[:, self.top].T.toarray())  # words x base rows
        self.sparse_t = base[:, self.rest].T.tocsr()

    def split(self, query: sp.csr_matrix) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """The query's columns of the dense words and of the others."""
        query = sp.csr_matrix(query)
        return query[:, self.top].tocsr(), query[:, self.rest].tocsr()

    def __call__(self, top: sp.csr_matrix, rest: sp.csr_matrix) -> np.ndarray:
        sim = top.toarray() @ self.dense_t
        sim += (rest @ self.sparse_t).toarray()
        return sim


def _weighted_neighbours(sim: np.ndarray, base_factors: np.ndarray, k: int) -> np.ndarray:
    n = sim.shape[1]
    idx = np.argpartition(sim, n - k, axis=1)[:, n - k:]
    idx.sort(axis=1)
    w = np.maximum(np.take_along_axis(sim, idx, axis=1), 0.0)
    tot = w.sum(axis=1, keepdims=True)
    w = np.divide(w, tot, out=np.zeros_like(w), where=tot > 0)
    return np.einsum("qk,qkf->qf", w, base_factors[idx])
