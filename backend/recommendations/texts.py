"""The texts the models read, from the catalogue."""

from __future__ import annotations

from collections.abc import Sequence

from backend.store import Store
from recommender.textfeatures import paper_text


def paper_texts(store: Store, paper_ids: Sequence[str]) -> list[str]:
    """The texts of papers of the catalogue, in order (empty for unknown papers)."""
    papers = store.papers(list(paper_ids), fields=("title", "abstract"))
    return [paper_text((p or {}).get("title"), (p or {}).get("abstract")) for p in papers]
