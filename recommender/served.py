"""How a served list is scored, and the evaluation protocol that mirrors it.

Serving, ``paperfeed eval --protocol served`` and the publishing gate of ``paperfeed train``
score a list the same way: raw component scores over one window of candidates, each
z-scored over those candidates, summed with the blend weights (:func:`served_scores`).

Components (raw k x n scores):

- ``"als"``: the model's collaborative score (user vector . item factors);
- ``"content"``: cosine of the user's TF-IDF profile and the paper's;
- ``"nearest"``: the paper's highest cosine to one of the user's papers in factor space;
- ``"trending"``: the community's interest in the paper (in the product: the trending score
  of the window; offline: ``log(1 + readers in the training data)``, 0 for a paper nobody
  read yet, see :func:`trending_scores`).
"""

from __future__ import annotations

import numpy as np

from .model import zscore

__all__ = ["COMPONENTS", "UNTRAINED_BLEND", "served_scores", "trending_scores"]

#: The components a served list blends, in the order reports list them.
COMPONENTS = ("als", "content", "nearest", "trending")

#: The blend without a published model (content profile + trending); chosen on validation
#: splits, see docs/evaluation.md.
UNTRAINED_BLEND: dict[str, float] = {"content": 1.0, "trending": 0.3}


def served_scores(components: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """Scores of a served list: each component z-scored over the candidates, then weighted.

    Parameters
    ----------
    components : dict of str to numpy.ndarray
        Raw k x n scores per component name (see the module docstring); a 1-D array is one
        user's row. Components without a weight, or with weight 0, are ignored.
    weights : dict of str to float
        Blend weights, e.g. a published model's ``metadata["blend"]`` or
        :data:`UNTRAINED_BLEND`.

    Returns
    -------
    numpy.ndarray
        k x n scores, higher is better (zeros when no weighted component is given).

    Example usage::

        scores = served_scores({"content": content, "trending": trending[None, :]},
                               UNTRAINED_BLEND)
    """
    out = None
    shape = None
    for name, raw in components.items():
        raw = np.atleast_2d(np.asarray(raw, dtype=np.float64))
        shape = raw.shape if shape is None else np.broadcast_shapes(shape, raw.shape)
        weight = float(weights.get(name, 0.0))
        if weight == 0.0:
            continue
        part = weight * zscore(raw)
        out = part if out is None else out + part
    if out is None:
        return np.zeros(shape if shape is not None else (1, 0))
    return np.broadcast_to(out, shape).copy() if out.shape != shape else out


def trending_scores(user_items) -> np.ndarray:
    """Offline stand-in for the product's trending score: ``log(1 + readers)`` of each item
    in ``user_items`` (users x items); 0 for items nobody has read."""
    readers = np.bincount(user_items.indices, minlength=user_items.shape[1])
    return np.log1p(readers.astype(np.float64))
