"""Readers who resemble a user, and what they read: the "readers" component and the
evidence behind "Read by readers like you".

A reader resembles a user when they read the user's papers: each shared paper counts
``1 / (its readers)`` (a paper everybody reads says little about taste), and the sum is
divided by ``sqrt(the reader's papers)`` (a reader of everything resembles nobody in
particular). The ``NEIGHBOURS`` readers with the highest such weight, never the user, are
the user's neighbours. A paper's ``readers`` score is the summed weight of the neighbours
who read it.

Training stores the interactions it trained on (``readers.npz``, users x papers, and
``reader_ids.json``, the user id of each row) in the model's artifact, so serving finds the
neighbours of a user's current papers among the readers the model was trained on.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

__all__ = ["NEIGHBOURS", "ReadersIndex", "ReaderCounts", "CoReaders", "save_readers"]

READERS_FILE = "readers.npz"
READER_IDS_FILE = "reader_ids.json"
#: Neighbours a user's scores are summed over.
NEIGHBOURS = 100


class ReadersIndex:
    """Who read what (users x items, any nonnegative weights; only presence counts), with
    the degrees the neighbour weights need.

    Parameters
    ----------
    user_items : scipy.sparse.spmatrix
        Users x items.
    """

    def __init__(self, user_items: sp.spmatrix):
        rows = sp.csr_matrix(user_items, dtype=np.float32, copy=True)
        rows.eliminate_zeros()
        rows.data[:] = 1.0
        self.rows = rows
        self.columns = rows.tocsc()
        self.inverse_item_readers = 1.0 / np.maximum(np.diff(self.columns.indptr), 1)
        self.inverse_sqrt_length = 1.0 / np.sqrt(np.maximum(np.diff(rows.indptr), 1))

    @property
    def n_items(self) -> int:
        return self.rows.shape[1]

    def neighbours(self, items: np.ndarray, own: int | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
        """The readers resembling a user whose items are ``items`` (item ids), and their
        weights, strongest first; ``own`` (the user's own row, if any) is never one."""
        items = np.asarray(items, dtype=np.int64)
        if not len(items):
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        shared = self.columns[:, items] @ self.inverse_item_readers[items]
        weight = np.asarray(shared).ravel() * self.inverse_sqrt_length
        if own is not None:
            weight[own] = 0.0
        rows = np.flatnonzero(weight > 0)
        if len(rows) > NEIGHBOURS:
            rows = rows[np.argpartition(-weight[rows], NEIGHBOURS - 1)[:NEIGHBOURS]]
        rows = rows[np.argsort(-weight[rows], kind="stable")]
        return rows, weight[rows]

    def scores(self, items: np.ndarray, candidates: np.ndarray, own: int | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """For each of ``candidates`` (item ids): the summed weight of the user's neighbours
        who read it, and how many of them did."""
        rows, weight = self.neighbours(items, own)
        candidates = np.asarray(candidates, dtype=np.int64)
        if not len(rows):
            return np.zeros(len(candidates)), np.zeros(len(candidates), dtype=np.int64)
        read = self.rows[rows]  # the neighbours' papers, all of them: cheaper than slicing
        summed = np.asarray(read.T @ weight).ravel()
        counts = np.bincount(read.indices, minlength=self.n_items)
        return summed[candidates], counts[candidates]

    def batch_scores(self, user_rows: sp.spmatrix, candidates: np.ndarray,
                     own: np.ndarray | None = None) -> np.ndarray:
        """:meth:`scores` of many users (row j: the user whose items are ``user_rows[j]``,
        whose own row is ``own[j]``) over their candidate rows (k x W item ids)."""
        user_rows = sp.csr_matrix(user_rows)
        out = np.zeros(candidates.shape, dtype=np.float64)
        for j in range(user_rows.shape[0]):
            items = user_rows.indices[user_rows.indptr[j]:user_rows.indptr[j + 1]]
            out[j] = self.scores(items, candidates[j], None if own is None else int(own[j]))[0]
        return out


def save_readers(directory: Path, user_ids: Sequence[str], user_items: sp.csr_matrix) -> None:
    """Write the training interactions (one row per user in ``user_ids``) into an artifact."""
    binary = sp.csr_matrix(user_items, dtype=np.float32, copy=True)
    binary.data[:] = 1.0
    sp.save_npz(directory / READERS_FILE, binary)
    (directory / READER_IDS_FILE).write_text(json.dumps(list(user_ids)), encoding="utf-8")


@dataclass(frozen=True)
class ReaderCounts:
    """How many readers resembling one user read each paper, already counted."""

    by_paper: dict[str, int]

    def counts(self, user_id: str, papers: Sequence[str], paper_ids: Sequence[str]) -> list[int]:
        """For each of ``paper_ids``, the count (0 for a paper not counted)."""
        return [self.by_paper.get(p, 0) for p in paper_ids]


class CoReaders:
    """A :class:`ReadersIndex` of a model artifact, addressed by user and paper ids."""

    def __init__(self, user_items: sp.csr_matrix, user_ids: Sequence[str],
                 paper_ids: Sequence[str]):
        self.index = ReadersIndex(user_items)
        self.row_of = {user_id: row for row, user_id in enumerate(user_ids)}
        self.column_of = {paper_id: column for column, paper_id in enumerate(paper_ids)}

    @classmethod
    def load(cls, directory: Path, paper_ids: Sequence[str]) -> CoReaders | None:
        """The readers stored in a model artifact, or None if it has none."""
        try:
            return cls.from_files({name: (directory / name).read_bytes()
                                   for name in (READERS_FILE, READER_IDS_FILE)}, paper_ids)
        except OSError:
            return None

    @classmethod
    def from_files(cls, files: Mapping[str, bytes], paper_ids: Sequence[str]) -> CoReaders | None:
        """The readers from an artifact's files already read (by file name), or None if it
        has none."""
        try:
            matrix = sp.load_npz(io.BytesIO(files[READERS_FILE])).tocsr()
            user_ids = json.loads(files[READER_IDS_FILE])
        except (KeyError, OSError, ValueError):
            return None
        if matrix.shape != (len(user_ids), len(paper_ids)):
            return None
        return cls(matrix, user_ids, paper_ids)

    def columns(self, paper_ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Which of ``paper_ids`` the model was trained on (a mask), and their columns."""
        known = np.fromiter((p in self.column_of for p in paper_ids), dtype=bool,
                            count=len(paper_ids))
        columns = np.array([self.column_of[p] for p in paper_ids if p in self.column_of],
                           dtype=np.int64)
        return known, columns

    def scores(self, user_id: str, papers: Sequence[str], paper_ids: Sequence[str]
               ) -> tuple[np.ndarray, np.ndarray]:
        """For each of ``paper_ids``: the summed weight of the readers resembling the user
        (whose papers are ``papers``) who read it, and how many of them did (0 for papers
        the model was not trained on)."""
        return self.scores_at(user_id, papers, *self.columns(paper_ids))

    def scores_at(self, user_id: str, papers: Sequence[str], known: np.ndarray,
                  columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`scores` of papers given by :meth:`columns` (computed once for many users)."""
        items = np.array([self.column_of[p] for p in papers if p in self.column_of],
                         dtype=np.int64)
        weights = np.zeros(len(known))
        counts = np.zeros(len(known), dtype=np.int64)
        weights[known], counts[known] = self.index.scores(items, columns,
                                                          self.row_of.get(user_id))
        return weights, counts

    def counts(self, user_id: str, papers: Sequence[str], paper_ids: Sequence[str]) -> list[int]:
        """For each of ``paper_ids``, how many readers resembling the user read it."""
        return [int(c) for c in self.scores(user_id, papers, paper_ids)[1]]
