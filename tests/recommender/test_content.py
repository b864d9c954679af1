"""The text -> factor maps of recommender.content against direct computations."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from recommender.content import ridge_map


def _texts(n: int, d: int, seed: int) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    x = sp.random(n, d, density=0.05, random_state=rng, format="csr", dtype=np.float32)
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
