"""Word-count features of papers (title + abstract) with a vocabulary fixed at training.

The vocabulary is saved as JSON next to the model, so a serving worker can featurise a
paper that arrived after training exactly as training did, without unpickling anything.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer

TOKEN_PATTERN = r"(?u)\b[a-zA-Z][a-zA-Z0-9\-]+\b"


def paper_text(title: str | None, abstract: str | None) -> str:
    """The text a paper is represented by: its title (twice, it is short and telling) and abstract."""
    title = title or ""
    return f"{title}. {title}. {abstract or ''}"


class TextFeaturizer:
    """Bag of words (unigrams, as in the evaluated configuration) over a fixed vocabulary.

    Parameters
    ----------
    vocabulary:
        The terms, in column order.
    """

    def __init__(self, vocabulary: Sequence[str]):
        self.vocabulary = list(vocabulary)
        self._vectorizer = CountVectorizer(
            vocabulary={term: i for i, term in enumerate(self.vocabulary)},
            lowercase=True, token_pattern=TOKEN_PATTERN, ngram_range=(1, 1),
            stop_words="english", dtype="float32",
        )

    @classmethod
    def fit(cls, texts: Sequence[str], *, max_features: int = 50_000, min_df: int = 2
            ) -> TextFeaturizer:
        """Choose the vocabulary from a corpus (terms in at least ``min_df`` texts)."""
        return cls.fit_transform(texts, max_features=max_features, min_df=min_df)[0]

    @classmethod
    def fit_transform(cls, texts: Sequence[str], *, max_features: int = 50_000, min_df: int = 2
                      ) -> tuple[TextFeaturizer, sp.csr_matrix]:
        """Choose the vocabulary and return the count matrix too (one tokenising pass)."""
        min_df = min_df if len(texts) >= 50 else 1
        vectorizer = CountVectorizer(
            lowercase=True, token_pattern=TOKEN_PATTERN, ngram_range=(1, 1),
            stop_words="english", min_df=min_df, max_df=0.5 if len(texts) >= 50 else 1.0,
            max_features=max_features, dtype="float32",
        )
        try:
            counts = vectorizer.fit_transform(texts).tocsr()
        except ValueError:  # empty vocabulary (no usable text at all)
            return cls([]), sp.csr_matrix((len(texts), 0), dtype="float32")
        return cls(vectorizer.get_feature_names_out().tolist()), counts

    @property
    def n_features(self) -> int:
        """Number of columns."""
        return len(self.vocabulary)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Count matrix, one row per text."""
        if not self.vocabulary:
            return sp.csr_matrix((len(texts), 0), dtype="float32")
        return self._vectorizer.transform(texts).tocsr()

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the vocabulary as JSON."""
        with open(path, "w", encoding="utf-8") as handle:
            json.dump({"format": 1, "vocabulary": self.vocabulary}, handle)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TextFeaturizer:
        """Read a vocabulary written by :meth:`save`."""
        with open(path, "rb") as handle:
            return cls.loads(handle.read(), str(path))

    @classmethod
    def loads(cls, text: str | bytes, name: str = "vocabulary") -> TextFeaturizer:
        """Read the contents of a vocabulary file written by :meth:`save`."""
        data = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("vocabulary"), list):
            raise ValueError(f"{name}: not a paperfeed vocabulary")
        return cls(data["vocabulary"])
