"""Small synthetic data: two communities of readers with distinct topics and vocabularies."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

FAST = {"factors": 8, "iterations": 8, "random_state": 3, "num_threads": 1, "knn_k": 5}


def make_communities(n_users: int = 80, n_items: int = 60, n_words: int = 40, seed: int = 0):
    """Users 0..n/2 read topic A (items 0..n_items/2, words 0..n_words/2), the rest topic B.

    A few popular items (the last 4) are saved by a third of the users of both communities,
    so popularity alone is a weak but non-trivial baseline.
    """
    rng = np.random.default_rng(seed)
    half_i, half_w = n_items // 2, n_words // 2
    rows, cols = [], []
    for u in range(n_users):
        topic = 0 if u < n_users // 2 else 1
        items = rng.choice(np.arange(topic * half_i, (topic + 1) * half_i - 2), size=8,
                           replace=False)
        popular = rng.choice(np.arange(n_items - 4, n_items), size=int(rng.random() < 0.3))
        for i in (*items, *popular):
            rows.append(u)
            cols.append(int(i))
    ui = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n_users, n_items))
    ui.sum_duplicates()
    ui.data[:] = 1.0
    f_rows, f_cols, f_vals = [], [], []
    for i in range(n_items):
        topic = 0 if i < half_i else 1
        words = rng.choice(np.arange(topic * half_w, (topic + 1) * half_w), size=6, replace=False)
        for w in words:
            f_rows.append(i)
            f_cols.append(int(w))
            f_vals.append(float(rng.integers(1, 4)))
    feats = sp.csr_matrix((f_vals, (f_rows, f_cols)), shape=(n_items, n_words), dtype=np.float32)
    return ui, feats


@pytest.fixture
def communities():
    return make_communities()


@pytest.fixture
def fast_params():
    return dict(FAST)
