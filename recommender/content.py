"""Content side: TF-IDF item vectors, user profiles and the text -> factor maps."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize

__all__ = ["TfidfModel", "ridge_map", "knn_map", "user_profiles"]


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


def user_profiles(user_rows: sp.csr_matrix, item_vectors: sp.csr_matrix) -> sp.csr_matrix:
    """Weighted mean of the users' item vectors, L2-normalised (k x features)."""
    return normalize(sp.csr_matrix(user_rows, dtype=np.float32) @ item_vectors)


def ridge_map(x: sp.csr_matrix, y: np.ndarray, alpha: float, max_iter: int = 300,
              tol: float = 1e-5) -> np.ndarray:
    """Ridge regression ``argmin_W |XW - Y|^2 + alpha |W|^2`` by column-wise conjugate gradient.

    All targets are solved at once (vectorised CG), which is much faster than scikit-learn's
    per-target solvers on a large sparse ``X`` and fully deterministic.

    Parameters
    ----------
    x : scipy.sparse.csr_matrix
        n x d features.
    y : numpy.ndarray
        n x t targets.
    alpha : float
        L2 penalty (> 0).

    Returns
    -------
    numpy.ndarray
        d x t coefficients (float32).
    """
    x = sp.csr_matrix(x, dtype=np.float64)
    xt = x.T.tocsr()
    b = xt @ np.asarray(y, dtype=np.float64)
    w = np.zeros_like(b)
    r = b.copy()
    p = r.copy()
    rs = np.einsum("ij,ij->j", r, r)
    stop = (tol ** 2) * np.maximum(rs, 1e-30)
    for _ in range(max_iter):
        ap = xt @ (x @ p) + alpha * p
        denom = np.einsum("ij,ij->j", p, ap)
        step = np.divide(rs, denom, out=np.zeros_like(rs), where=denom > 0)
        w += p * step
        r -= ap * step
        rs_new = np.einsum("ij,ij->j", r, r)
        if np.all(rs_new <= stop):
            break
        p = r + p * np.divide(rs_new, rs, out=np.zeros_like(rs), where=rs > 0)
        rs = rs_new
    return w.astype(np.float32)


def knn_map(query: sp.csr_matrix, base: sp.csr_matrix, base_factors: np.ndarray, k: int,
            chunk: int = 512) -> np.ndarray:
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

    Returns
    -------
    numpy.ndarray
        q x f (zero rows for queries without any similar item).
    """
    out = np.zeros((query.shape[0], base_factors.shape[1]), dtype=np.float32)
    if query.shape[0] == 0 or base.shape[0] == 0:
        return out
    k = min(k, base.shape[0])
    bt = base.T.tocsc()
    for s in range(0, query.shape[0], chunk):
        sim = (query[s:s + chunk] @ bt).toarray()
        idx = np.argpartition(-sim, k - 1, axis=1)[:, :k]
        idx.sort(axis=1)
        w = np.maximum(np.take_along_axis(sim, idx, axis=1), 0.0)
        tot = w.sum(axis=1, keepdims=True)
        w = np.divide(w, tot, out=np.zeros_like(w), where=tot > 0)
        out[s:s + chunk] = np.einsum("qk,qkf->qf", w, base_factors[idx])
    return out
