"""paperfeed's recommender: a hybrid of implicit ALS and TF-IDF content.

Example usage::

    import recommender
    model = recommender.train(user_items, item_features)
    scores = model.score(user_rows, items)
    model.save("artifacts/model"); model = recommender.load("artifacts/model")

The model's names load numpy, scipy and implicit on first use, so that the package's
light modules (``recommender.progress``, ``recommender.files``) cost nothing more.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import ArtifactError, ModelFitError, RecommenderError

if TYPE_CHECKING:
    from .model import DEFAULT_PARAMS, FORMAT_VERSION, HybridModel, blend, load, train, zscore

__all__ = ["ArtifactError", "ModelFitError", "RecommenderError", "DEFAULT_PARAMS",
           "FORMAT_VERSION", "HybridModel", "blend", "load", "train", "zscore"]
_FROM_MODEL = {"DEFAULT_PARAMS", "FORMAT_VERSION", "HybridModel", "blend", "load", "train",
               "zscore"}


def __getattr__(name: str) -> Any:
    if name in _FROM_MODEL:
        return getattr(importlib.import_module(".model", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
