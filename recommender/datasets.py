"""Readers for the citeulike-style ``.dat`` files and the evaluation splits.

``users.dat`` holds one line per user, ``n item item ...`` (0-based item ids);
``mult.dat`` one line per item, ``n word:count ...``; ``vocabulary.dat`` one word a line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["Dataset", "load_dataset", "read_users", "read_mult", "split_known", "split_new"]


@dataclass
class Dataset:
    """A user x item matrix with optional item x word counts.

    Attributes
    ----------
    user_items : scipy.sparse.csr_matrix
        Users x items, binary (1.0 per save).
    item_features : scipy.sparse.csr_matrix or None
        Items x words counts; rows of items without text are empty.
    vocabulary : list of str or None
        Word for each feature column, when ``vocabulary.dat`` exists.
    """

    user_items: sp.csr_matrix
    item_features: sp.csr_matrix | None
    vocabulary: list[str] | None = None

    @property
    def n_users(self) -> int:
        return self.user_items.shape[0]

    @property
    def n_items(self) -> int:
        return self.user_items.shape[1]


def read_users(path: str, n_items: int | None = None) -> sp.csr_matrix:
    """Read ``users.dat`` into a binary users x items CSR matrix.

    Parameters
    ----------
    path : str
        File with one line per user: ``n item item ...``.
    n_items : int, optional
        Number of columns; defaults to the largest id + 1.

    Returns
    -------
    scipy.sparse.csr_matrix
    """
    indptr = [0]
    indices: list[int] = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            parts = line.split()
            if not parts:
                indptr.append(len(indices))
                continue
            n = int(parts[0])
            items = sorted(set(int(x) for x in parts[1:]))
            if len(parts) - 1 != n:
                raise ValueError(f"{path}:{lineno}: expected {n} items, found {len(parts) - 1}")
            indices.extend(items)
            indptr.append(len(indices))
    max_id = max(indices) + 1 if indices else 0
    n_cols = max(max_id, n_items or 0)
    data = np.ones(len(indices), dtype=np.float32)
    return sp.csr_matrix(
        (data, np.asarray(indices, dtype=np.int32), np.asarray(indptr, dtype=np.int64)),
        shape=(len(indptr) - 1, n_cols),
    )


def read_mult(path: str, n_words: int | None = None) -> sp.csr_matrix:
    """Read ``mult.dat`` into an items x words count CSR matrix.

    Parameters
    ----------
    path : str
        File with one line per item: ``n word:count ...``.
    n_words : int, optional
        Number of columns; defaults to the largest word id + 1.

    Returns
    -------
    scipy.sparse.csr_matrix
    """
    indptr = [0]
    indices: list[int] = []
    data: list[float] = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            for tok in parts[1:]:
                w, c = tok.split(":")
                indices.append(int(w))
                data.append(float(c))
            indptr.append(len(indices))
    n_cols = max((max(indices) + 1) if indices else 0, n_words or 0)
    m = sp.csr_matrix(
        (np.asarray(data, dtype=np.float32), np.asarray(indices, dtype=np.int32),
         np.asarray(indptr, dtype=np.int64)),
        shape=(len(indptr) - 1, n_cols),
    )
    m.sum_duplicates()
    return m


def load_dataset(directory: str) -> Dataset:
    """Load ``users.dat`` and, when present, ``mult.dat`` and ``vocabulary.dat``.

    Items beyond the end of ``mult.dat`` get empty feature rows (no content).

    Parameters
    ----------
    directory : str

    Returns
    -------
    Dataset
    """
    vocab = None
    vpath = os.path.join(directory, "vocabulary.dat")
    if os.path.exists(vpath):
        with open(vpath, encoding="utf-8") as fh:
            vocab = [w.strip() for w in fh]
    mpath = os.path.join(directory, "mult.dat")
    feats = None
    if os.path.exists(mpath):
        feats = read_mult(mpath, n_words=len(vocab) if vocab else None)
    user_items = read_users(os.path.join(directory, "users.dat"),
                            n_items=feats.shape[0] if feats is not None else None)
    n_items = user_items.shape[1]
    if feats is not None and feats.shape[0] < n_items:
        pad = sp.csr_matrix((n_items - feats.shape[0], feats.shape[1]), dtype=feats.dtype)
        feats = sp.vstack([feats, pad], format="csr")
    return Dataset(user_items=user_items, item_features=feats, vocabulary=vocab)


def split_known(user_items: sp.csr_matrix, test_fraction: float = 0.2,
                seed: int = 0) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Per-user random split of the saves ("known papers" protocol).

    Users with at least 2 saves put ``round(test_fraction * n)`` of them (at least 1, at most
    n - 1) in test; users with fewer saves keep everything in train.

    Parameters
    ----------
    user_items : scipy.sparse.csr_matrix
    test_fraction : float
    seed : int

    Returns
    -------
    train, test : scipy.sparse.csr_matrix
        Disjoint matrices of the same shape whose sum is ``user_items``.
    """
    rng = np.random.default_rng(seed)
    m = user_items.tocsr()
    test_mask = np.zeros(m.nnz, dtype=bool)
    for u in range(m.shape[0]):
        lo, hi = m.indptr[u], m.indptr[u + 1]
        n = hi - lo
        if n < 2:
            continue
        k = min(max(1, int(round(test_fraction * n))), n - 1)
        test_mask[lo + rng.choice(n, size=k, replace=False)] = True
    return _mask_split(m, test_mask)


def split_new(user_items: sp.csr_matrix, test_fraction: float = 0.2,
              seed: int = 0) -> tuple[sp.csr_matrix, sp.csr_matrix, np.ndarray]:
    """Hold out a fraction of the items with all their saves ("new papers" protocol).

    Parameters
    ----------
    user_items : scipy.sparse.csr_matrix
    test_fraction : float
    seed : int

    Returns
    -------
    train, test : scipy.sparse.csr_matrix
        ``train`` has empty columns for the held-out items, ``test`` only their saves.
    held_out : numpy.ndarray
        Sorted ids of the held-out items.
    """
    rng = np.random.default_rng(seed)
    m = user_items.tocsr()
    n_items = m.shape[1]
    held = np.sort(rng.choice(n_items, size=int(round(test_fraction * n_items)), replace=False))
    is_held = np.zeros(n_items, dtype=bool)
    is_held[held] = True
    train, test = _mask_split(m, is_held[m.indices])
    return train, test, held


def _mask_split(m: sp.csr_matrix, test_mask: np.ndarray) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    cols = m.indices
    parts = []
    for mask in (~test_mask, test_mask):
        parts.append(sp.csr_matrix((m.data[mask], (rows[mask], cols[mask])), shape=m.shape))
    return parts[0], parts[1]
