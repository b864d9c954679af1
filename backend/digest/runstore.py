"""The store as one digest run reads it.

A run composes thousands of digests from the same few hundred papers, so catalogue entries
and titles are read once per run (imports change upvotes, not what a digest quotes, and a
run lasts minutes); the readers' states are read in batches, one round trip for the next
few digests, and the same state serves the digest and the recommendation list in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from backend.store import Store, UserState


class RunStore:
    """``Store`` for one digest run: :meth:`papers` and :meth:`titles` cached, and
    :meth:`user_state` answered from :meth:`read_states` until :meth:`forget_state`;
    everything else is the store's. The cached entries are shared: read them, never change
    them.

    Parameters
    ----------
    store:
        ``backend.store.Store``.
    """

    def __init__(self, store: Store):
        self._store = store
        self._papers: dict[tuple[str, tuple[str, ...] | None], dict[str, Any] | None] = {}
        self._titles: dict[str, str | None] = {}
        self._states: dict[str, UserState] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def papers(self, paper_ids: Sequence[str], fields: Sequence[str] | None = None
               ) -> list[dict[str, Any] | None]:
        """``Store.papers``, reading each paper (and set of fields) once per run."""
        shape = tuple(fields) if fields else None
        missing = [p for p in dict.fromkeys(paper_ids) if (p, shape) not in self._papers]
        if missing:
            for paper_id, paper in zip(missing, self._store.papers(missing, fields), strict=True):
                self._papers[(paper_id, shape)] = paper
        return [self._papers[(p, shape)] for p in paper_ids]

    def titles(self, paper_ids: Sequence[str]) -> dict[str, str | None]:
        """``Store.titles``, reading each paper's title once per run."""
        missing = [p for p in dict.fromkeys(paper_ids) if p not in self._titles]
        if missing:
            self._titles.update(self._store.titles(missing))
        return {p: self._titles[p] for p in paper_ids}

    def read_states(self, user_ids: Sequence[str]) -> None:
        """Read the users' states in one round trip, for their next :meth:`user_state`."""
        self._states.update(zip(user_ids, self._store.user_states(user_ids), strict=True))

    def user_state(self, user_id: str) -> UserState:
        """The state :meth:`read_states` read, else the store's."""
        state = self._states.get(user_id)
        return state if state is not None else self._store.user_state(user_id)

    def forget_state(self, user_id: str) -> None:
        """Drop the state read for the user (their digest is done)."""
        self._states.pop(user_id, None)
