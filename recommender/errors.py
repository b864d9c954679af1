"""Exceptions raised by the recommender package."""


class RecommenderError(Exception):
    """Base class of the recommender's errors."""


class ModelFitError(RecommenderError):
    """Training failed or produced non-finite values (NaN/inf)."""


class ArtifactError(RecommenderError):
    """A saved model directory is missing, half-written, corrupted or not finite."""
