"""The text -> factor maps of recommender.content against direct computations."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from recommender import content
from recommender.content import knn_map, ridge_map


def _texts(n: int, d: int, seed: int, density: float = 0.05) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    x = sp.random(n, d, density=density, random_state=rng, format="csr", dtype=np.float32)
    x.data = np.abs(x.data) + 0.1
    return normalize(x).astype(np.float32)


@pytest.mark.parametrize("num_threads", [1, 2, 3])
def test_ridge_map_matches_the_normal_equations(num_threads):
    x = _texts(3000, 200, seed=1)
    y = np.random.default_rng(2).normal(size=(3000, 16)).astype(np.float32)
    dense = x.toarray().astype(np.float64)
    expected = np.linalg.solve(dense.T @ dense + 0.5 * np.eye(200), dense.T @ y)
    coef = ridge_map(x, y, 0.5, num_threads=num_threads)
    assert coef.dtype == np.float32 and coef.shape == (200, 16)
    assert np.abs(coef - expected).max() <= 1e-3 * np.abs(expected).max()


def _knn_expected(query, base, factors, k):
    sim = query.toarray() @ base.toarray().T
    out = np.zeros((query.shape[0], factors.shape[1]))
    for row, sims in enumerate(sim):
        nearest = np.argsort(-sims, kind="stable")[:k]
        w = np.maximum(sims[nearest], 0)
        if w.sum() > 0:
            out[row] = (w / w.sum()) @ factors[nearest]
    return out


@pytest.mark.parametrize("dense_words", [0, 10, 1000])
@pytest.mark.parametrize("num_threads", [1, 2])
def test_knn_map_matches_brute_force(monkeypatch, dense_words, num_threads):
    monkeypatch.setattr(content, "KNN_DENSE_WORDS", dense_words)
    base = _texts(400, 60, seed=3, density=0.2)  # dense enough for no ties among the neighbours
    query = sp.vstack([_texts(50, 60, seed=4, density=0.2), sp.csr_matrix((1, 60), dtype=np.float32)],
                      format="csr")
    factors = np.random.default_rng(5).normal(size=(400, 8)).astype(np.float32)
    mapped = knn_map(query, base, factors, 7, chunk=16, num_threads=num_threads)
    assert mapped.shape == (51, 8) and not mapped[-1].any()
    np.testing.assert_allclose(mapped, _knn_expected(query, base, factors, 7), atol=1e-5)
