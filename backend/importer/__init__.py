"""Import Hugging Face Daily Papers data as normalised paper records.

A *record* is a plain dict with exactly these keys::

    {"paper_id": "2412.01824",          # arXiv id, no version (backend.ids)
     "title": str | None,               # all whitespace runs collapsed to one space
     "abstract": str | None,            # arXiv line breaks joined, paragraphs "\\n\\n"
     "authors": [str],
     "published_at": str | None,        # ISO-8601, as given (arXiv publication time)
     "daily_date": "YYYY-MM-DD" | None, # the Daily Papers day the paper appeared on
     "upvotes": int,                    # >= 0
     "num_comments": int | None,
     "github_repo": str | None,
     "ai_keywords": [str]}

Three inputs are understood:

* the JSON list returned by ``https://huggingface.co/api/daily_papers?date=YYYY-MM-DD``
  (all schema eras seen from 2024-05 to 2026-08; see :func:`parse_daily_papers`);
* JSON lines, plain or gzip-compressed, one paper per line, either in the record form above or
  in the shared catalogue form (``id``, ``title``, ``summary``, ``authors``, ``upvotes``,
  ``published_at``, ``submitted_on_daily_at``, ``daily_date``, ...);
* the live endpoint itself (:func:`fetch_daily_papers`).

Nothing here writes to the store. Bad *entries* are skipped with a message naming the entry and
the field; a file that is not of a known shape, cannot be read, or in which no entry at all is
usable is rejected as a whole (:class:`ImportFormatError`).

Modules: ``schemas`` (marshmallow schemas of one entry or line), ``formats`` (files and
responses), ``fetch`` (the live endpoint), ``demo`` (the shipped demo catalogue).
"""

from backend.importer.demo import write_demo_catalogue
from backend.importer.errors import ImporterError, ImportFetchError, ImportFormatError
from backend.importer.fetch import API_URL, fetch_daily_papers, iter_dates
from backend.importer.formats import ParsedFile, parse_daily_papers, read_papers
from backend.importer.schemas import clean_abstract

__all__ = [
    "API_URL",
    "ImportFetchError",
    "ImportFormatError",
    "ImporterError",
    "ParsedFile",
    "clean_abstract",
    "fetch_daily_papers",
    "iter_dates",
    "parse_daily_papers",
    "read_papers",
    "write_demo_catalogue",
]
