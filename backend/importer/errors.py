"""The importer's errors; ``str(error)`` is a message for the user."""

from __future__ import annotations


class ImporterError(Exception):
    """Base class of the importer's errors."""


class ImportFormatError(ImporterError):
    """A file or response is not importable; nothing from it should be written.

    Parameters
    ----------
    message : str
        What is wrong, naming the source.
    skipped : list of str, optional
        The per-entry messages gathered before the input was rejected, if any.
    """

    def __init__(self, message: str, skipped: list[str] | None = None) -> None:
        super().__init__(message)
        self.skipped = list(skipped or [])


class ImportFetchError(ImporterError):
    """The Daily Papers endpoint could not be reached or answered with an HTTP error."""
