"""Who read what, as of training: the evidence behind "Read by readers like you".

Training stores the interactions it trained on (``readers.npz``, users x papers, and
``reader_ids.json``, the user id of each row) in the model's artifact. A reader resembles a
user when they share papers with them: the ``NEIGHBOURS`` readers with the highest cosine
between their papers and the user's current ones (at least ``MIN_COSINE``), never the user.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp

READERS_FILE = "readers.npz"
READER_IDS_FILE = "reader_ids.json"
NEIGHBOURS = 50
MIN_COSINE = 0.05


def save_readers(directory: Path, user_ids: Sequence[str], user_items: sp.csr_matrix) -> None:
    """Write the training interactions (one row per user in ``user_ids``) into an artifact."""
    binary = sp.csr_matrix(user_items, dtype=np.float32, copy=True)
    binary.data[:] = 1.0
    sp.save_npz(directory / READERS_FILE, binary)
    (directory / READER_IDS_FILE).write_text(json.dumps(list(user_ids)), encoding="utf-8")


class CoReaders:
    """Readers resembling a user, and how many of them read given papers."""

    def __init__(self, user_items: sp.csr_matrix, user_ids: Sequence[str],
                 paper_ids: Sequence[str]):
        self.rows = sp.csr_matrix(user_items)
        self.columns = self.rows.tocsc()
        self.row_of = {user_id: row for row, user_id in enumerate(user_ids)}
        self.column_of = {paper_id: column for column, paper_id in enumerate(paper_ids)}
        self.lengths = np.diff(self.rows.indptr).astype(np.float64)

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

    def neighbours(self, user_id: str, papers: Sequence[str]) -> np.ndarray:
        """Rows of the readers resembling a user whose papers are ``papers``."""
        columns = [self.column_of[p] for p in papers if p in self.column_of]
        if not columns:
            return np.zeros(0, dtype=np.int64)
        shared = np.asarray(self.columns[:, columns].sum(axis=1)).ravel()
        cosine = shared / np.sqrt(np.maximum(self.lengths, 1.0) * len(columns))
        own = self.row_of.get(user_id)
        if own is not None:
            cosine[own] = 0.0
        candidates = np.flatnonzero(cosine >= MIN_COSINE)
        if len(candidates) > NEIGHBOURS:
            candidates = candidates[np.argsort(-cosine[candidates], kind="stable")[:NEIGHBOURS]]
        return candidates

    def counts(self, user_id: str, papers: Sequence[str], paper_ids: Sequence[str]) -> list[int]:
        """For each of ``paper_ids``, how many readers resembling the user read it."""
        rows = self.neighbours(user_id, papers)
        if not len(rows):
            return [0] * len(paper_ids)
        read = np.asarray(self.rows[rows].sum(axis=0)).ravel()
        return [int(read[self.column_of[p]]) if p in self.column_of else 0 for p in paper_ids]
