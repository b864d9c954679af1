"""paperfeed's recommender: a hybrid of implicit ALS and TF-IDF content.

Example usage::

    import recommender
    model = recommender.train(user_items, item_features)
    scores = model.score(user_rows, items)
    model.save("artifacts/model"); model = recommender.load("artifacts/model")
"""

from .errors import ArtifactError, ModelFitError, RecommenderError
from .model import DEFAULT_PARAMS, FORMAT_VERSION, HybridModel, blend, load, train, zscore

__all__ = ["ArtifactError", "ModelFitError", "RecommenderError", "DEFAULT_PARAMS",
           "FORMAT_VERSION", "HybridModel", "blend", "load", "train", "zscore"]
