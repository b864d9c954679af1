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

Nothing here writes to the store. A file is either parsed completely into a :class:`ParsedFile`
(records plus one human-readable message per skipped entry) or rejected with
:class:`ImportFormatError` before the caller writes anything. Bad *entries* are skipped with a
message naming the entry and the field; a file that is not of a known shape, cannot be read, or in
which no entry at all is usable is rejected as a whole.
"""

from __future__ import annotations

import datetime as dt
import gzip
import http.client
import io
import json
import os
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend.ids import normalize_paper_id

__all__ = [
    "API_URL",
    "ImportFetchError",
    "ImportFormatError",
    "ImporterError",
    "ParsedFile",
    "clean_abstract",
    "clean_title",
    "count_entries",
    "fetch_daily_papers",
    "iter_dates",
    "iter_paper_chunks",
    "parse_daily_papers",
    "read_papers",
    "write_demo_catalogue",
]

API_URL = "https://huggingface.co/api/daily_papers"

# Sizes beyond these are not papers but broken or hostile input: the entry is skipped.
MAX_TITLE_CHARS = 1_000
MAX_ABSTRACT_CHARS = 20_000
MAX_AUTHORS = 10_000
MAX_AUTHOR_CHARS = 500
MAX_KEYWORDS = 200
MAX_KEYWORD_CHARS = 200
MAX_URL_CHARS = 500
MAX_LINE_CHARS = 1_000_000  # one JSON line of the catalogue form
MAX_FILE_BYTES = 64 * 1024 * 1024  # a whole API response (they are ~100 KB)

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_FILE_DATE_RE = re.compile(r"(\d{4}-\d{2}-\d{2})\.json(?:\.gz)?")
_JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
_JSON_SUFFIXES = (".json", ".json.gz")
# arXiv marks a new abstract paragraph with a line that starts with whitespace ("\n  ").
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]+|\n\s*\n")
_USER_AGENT = "paperfeed-importer/0.1 (+https://github.com/)"


class ImporterError(Exception):
    """Base class of the importer's errors; ``str(error)`` is a message for the user."""


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


@dataclass
class ParsedFile:
    """The outcome of parsing one file or response.

    Attributes
    ----------
    papers : list of dict
        Valid normalised records, in input order, one per paper id.
    skipped : list of str
        One message per skipped entry, e.g. ``"entry 12: paper.upvotes: must be >= 0, got -3"``
        (entries and lines are numbered from 1).
    source : str
        The file path or URL the data came from.
    """

    papers: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    source: str = ""


class _EntryError(ValueError):
    """One entry is invalid; the message names the field."""


# ---------------------------------------------------------------------------------------------
# Field validation
# ---------------------------------------------------------------------------------------------


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _paper_id(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise _EntryError(f"{name}: expected an arXiv id string, got {_describe(value)}")
    try:
        return normalize_paper_id(value.strip())
    except ValueError as exc:
        raise _EntryError(f"{name}: {exc}") from None


def _text(value: Any, name: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _EntryError(f"{name}: expected a string, got {_describe(value)}")
    if len(value) > 4 * limit:  # cheap early exit before any regex work
        raise _EntryError(f"{name}: {len(value):,} characters, more than {limit:,}")
    return value


def _check_length(text: str | None, name: str, limit: int) -> str | None:
    if text is not None and len(text) > limit:
        raise _EntryError(f"{name}: {len(text):,} characters, more than {limit:,}")
    return text


def _collapse(text: str) -> str:
    """Every whitespace run (newlines included) to one space, stripped."""
    return " ".join(text.split())


def clean_title(value: str) -> str | None:
    """Collapse every whitespace run (arXiv wraps titles with ``"\\n  "``) to one space."""
    text = _collapse(value)
    return text or None


def clean_abstract(value: str) -> str | None:
    """Join arXiv's hard-wrapped lines; keep paragraphs, separated by one blank line.

    arXiv abstracts wrap lines at ~80 characters with a bare ``"\\n"`` and start a new paragraph
    with an indented line (``"\\n  "``); a blank line is also taken as a paragraph break.

    >>> clean_abstract("We study\\nthings.\\n  Then we   show\\nmore.")
    'We study things.\\n\\nThen we show more.'
    """
    paragraphs = (_collapse(part) for part in _PARAGRAPH_BREAK.split(value))
    text = "\n\n".join(part for part in paragraphs if part)
    return text or None


def _title(value: Any, name: str) -> str | None:
    raw = _text(value, name, MAX_TITLE_CHARS)
    return _check_length(clean_title(raw), name, MAX_TITLE_CHARS) if raw is not None else None


def _abstract(value: Any, name: str) -> str | None:
    raw = _text(value, name, MAX_ABSTRACT_CHARS)
    if raw is None:
        return None
    return _check_length(clean_abstract(raw), name, MAX_ABSTRACT_CHARS)


def _authors(value: Any, name: str) -> list[str]:
    """Author names from a list of strings or of API author objects (``{"name": ...}``)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise _EntryError(f"{name}: expected a list, got {_describe(value)}")
    if len(value) > MAX_AUTHORS:
        raise _EntryError(f"{name}: {len(value):,} authors, more than {MAX_AUTHORS:,}")
    names = []
    for index, author in enumerate(value):
        where = f"{name}[{index}]"
        if isinstance(author, dict):
            author, where = author.get("name"), f"{where}.name"
        if not isinstance(author, str):
            raise _EntryError(f"{where}: expected a name string, got {_describe(author)}")
        cleaned = _collapse(author)
        if not cleaned:
            continue  # an empty name carries nothing; not worth losing the paper over
        _check_length(cleaned, where, MAX_AUTHOR_CHARS)
        names.append(cleaned)
    return names


def _non_negative_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _EntryError(f"{name}: expected a non-negative integer, got {_describe(value)}")
    if value < 0:
        raise _EntryError(f"{name}: must be >= 0, got {value}")
    return value


def _optional_count(value: Any, name: str) -> int | None:
    return None if value is None else _non_negative_int(value, name)


def _timestamp(value: Any, name: str) -> str | None:
    """An ISO-8601 date-time string, returned unchanged once it is known to parse."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _EntryError(f"{name}: expected an ISO-8601 string, got {_describe(value)}")
    if len(value) > 40:
        raise _EntryError(f"{name}: not an ISO-8601 date-time: {value[:40]!r}...")
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        raise _EntryError(f"{name}: not an ISO-8601 date-time: {value!r}") from None
    return value


def _utc_day(timestamp: str) -> str:
    """The UTC calendar day of a validated ISO-8601 timestamp."""
    moment = dt.datetime.fromisoformat(timestamp)
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.date().isoformat()


def _valid_date(value: Any) -> str | None:
    if isinstance(value, str) and _DATE_RE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            return None
    return None


def _day(value: Any, name: str) -> str | None:
    if value is None:
        return None
    day = _valid_date(value)
    if day is None:
        shown = repr(value[:40]) if isinstance(value, str) else _describe(value)
        raise _EntryError(f"{name}: expected a YYYY-MM-DD date, got {shown}")
    return day


def _url(value: Any, name: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _EntryError(f"{name}: expected a URL string, got {_describe(value)}")
    value = value.strip()
    _check_length(value, name, MAX_URL_CHARS)
    if not value.startswith(("https://", "http://")):
        raise _EntryError(f"{name}: expected an http(s) URL, got {value[:60]!r}")
    return value


def _keywords(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _EntryError(f"{name}: expected a list, got {_describe(value)}")
    if len(value) > MAX_KEYWORDS:
        raise _EntryError(f"{name}: {len(value):,} keywords, more than {MAX_KEYWORDS:,}")
    words = []
    for index, word in enumerate(value):
        if not isinstance(word, str):
            raise _EntryError(f"{name}[{index}]: expected a string, got {_describe(word)}")
        cleaned = _collapse(word)
        if cleaned:
            _check_length(cleaned, f"{name}[{index}]", MAX_KEYWORD_CHARS)
            words.append(cleaned)
    return words


def _record(
    *,
    paper_id: str,
    title: str | None,
    abstract: str | None,
    authors: list[str],
    published_at: str | None,
    daily_date: str | None,
    upvotes: int,
    num_comments: int | None,
    github_repo: str | None,
    ai_keywords: list[str],
) -> dict[str, Any]:
    return {
        "paper_id": paper_id,
        "title": title,
        "abstract": abstract,
        "authors": authors,
        "published_at": published_at,
        "daily_date": daily_date,
        "upvotes": upvotes,
        "num_comments": num_comments,
        "github_repo": github_repo,
        "ai_keywords": ai_keywords,
    }


# ---------------------------------------------------------------------------------------------
# The Daily Papers API form
# ---------------------------------------------------------------------------------------------


def _entry_kind_error(entry: Any) -> str:
    if isinstance(entry, str):
        hint = " (looks like a Python repr, not JSON)" if entry.lstrip().startswith("{'") else ""
        return f"expected a JSON object, got a string{hint}"
    return f"expected a JSON object, got {_describe(entry)}"


def _api_entry(entry: Any, daily_date: str | None) -> dict[str, Any]:
    """One element of the API's list -> a record (raises ``_EntryError``)."""
    if not isinstance(entry, dict):
        raise _EntryError(_entry_kind_error(entry))
    paper = entry.get("paper")
    if not isinstance(paper, dict):
        got = "missing" if paper is None else _describe(paper)
        raise _EntryError(f"paper: expected an object, got {got}")
    if "upvotes" not in paper:
        raise _EntryError("paper.upvotes: missing")
    title = paper.get("title")
    abstract = paper.get("summary")
    return _record(
        paper_id=_paper_id(paper.get("id"), "paper.id"),
        # The entry repeats title/summary (already collapsed in later eras); the paper's own
        # fields are present in every era and preferred.
        title=_title(title if title is not None else entry.get("title"), "paper.title"),
        abstract=_abstract(
            abstract if abstract is not None else entry.get("summary"), "paper.summary"
        ),
        authors=_authors(paper.get("authors"), "paper.authors"),
        published_at=_timestamp(paper.get("publishedAt"), "paper.publishedAt"),
        daily_date=daily_date,
        upvotes=_non_negative_int(paper["upvotes"], "paper.upvotes"),
        num_comments=_optional_count(entry.get("numComments"), "numComments"),
        github_repo=_url(paper.get("githubRepo"), "paper.githubRepo"),
        ai_keywords=_keywords(paper.get("ai_keywords"), "paper.ai_keywords"),
    )


def _entry_day(entry: Any, name: str, timestamp: Any) -> str | None:
    """UTC day of a timestamp field of an entry, or None when absent or unusable."""
    try:
        value = _timestamp(timestamp, name)
    except _EntryError:
        return None
    return _utc_day(value) if value else None


def _infer_payload_date(entries: list[Any]) -> str | None:
    """The Daily Papers day of a whole response whose query date is unknown.

    Used only for entries without ``paper.submittedOnDailyAt`` (before 2025-03). Their
    ``entry.publishedAt`` is when the paper was put on Daily Papers; submissions for day D start
    the evening before in UTC (2024-12-03 has five entries stamped 2024-12-02T21:47Z..23:35Z), so
    the day of one entry is unreliable, but one response is one day: take the latest UTC day.
    """
    days = [
        day
        for entry in entries
        if isinstance(entry, dict)
        and (day := _entry_day(entry, "publishedAt", entry.get("publishedAt")))
    ]
    return max(days) if days else None


def parse_daily_papers(payload: Any, *, date: str | None, source: str = "") -> ParsedFile:
    """Parse a decoded ``/api/daily_papers`` response into records.

    The response is a JSON list of entries ``{"paper": {...}, "publishedAt", "numComments",
    ...}``. Upvotes are read from ``entry.paper.upvotes`` only. Unknown fields are ignored (the
    schema grows: ``submittedBy`` 2024-06, ``discussionId`` 2024-08, ``githubRepo`` and
    ``submittedOnDailyAt`` 2025-03, ``ai_keywords`` 2025-05, ``organization`` 2025-10).

    **The daily date** of each record is, in order of preference:

    1. ``date``, the day the response was requested for (``?date=`` of the query, or the
       ``YYYY-MM-DD.json`` name of an archived response): the endpoint answers with exactly
       that day's list, so it is authoritative for every entry;
    2. else the UTC day of ``entry.paper.submittedOnDailyAt`` (from 2025-03; it matches the
       archive's day for all 7,073 catalogue papers that carry it);
    3. else the latest UTC day among the response's ``entry.publishedAt`` values (the time of
       submission to Daily Papers, which for day D starts the evening before in UTC, so a
       per-entry day would be one day early for some entries);
    4. else None.

    ``entry.paper.publishedAt`` is the arXiv publication time (days earlier) and is kept as
    ``published_at``, never used as the daily date. From 2025-03, ``entry.publishedAt`` is
    not a submission time either (it is ``paper.publishedAt`` minus four hours).

    Parameters
    ----------
    payload : object
        The decoded JSON body.
    date : str or None
        ``YYYY-MM-DD`` the response was requested for, or None when unknown.
    source : str, optional
        Name of the file or URL, used in messages and kept in the result.

    Returns
    -------
    ParsedFile
        Records and one message per skipped entry (``"entry 3: paper.id: ..."``, numbered
        from 1). An entry whose paper id already appeared is skipped as a duplicate.

    Raises
    ------
    ImportFormatError
        When ``payload`` is not a list of entries (e.g. a ``{status, date, count, data}``
        wrapper or an error object), when ``date`` is not a valid date, or when the list is not
        empty but no entry in it is usable.
    """
    label = source or "response"
    if date is not None and _valid_date(date) is None:
        raise ImportFormatError(f"{label}: date must be YYYY-MM-DD, got {date!r}")
    if isinstance(payload, dict):
        keys = ", ".join(sorted(map(str, payload))[:8])
        if "error" in payload:
            detail = str(payload.get("error"))[:200]
            raise ImportFormatError(f"{label}: the API answered with an error: {detail}")
        raise ImportFormatError(
            f"{label}: expected a JSON list of Daily Papers entries, got an object with keys "
            f"[{keys}]; a {{status, date, count, data}} wrapper is not the API's format"
        )
    if not isinstance(payload, list):
        raise ImportFormatError(
            f"{label}: expected a JSON list of Daily Papers entries, got {_describe(payload)}"
        )

    fallback_day = date or _infer_payload_date(payload)
    result = ParsedFile(source=source)
    seen: dict[str, int] = {}
    for number, entry in enumerate(payload, start=1):
        try:
            day = date
            if day is None and isinstance(entry, dict) and isinstance(entry.get("paper"), dict):
                stamp = entry["paper"].get("submittedOnDailyAt")
                day = _entry_day(entry, "paper.submittedOnDailyAt", stamp)
            record = _api_entry(entry, day or fallback_day)
        except _EntryError as exc:
            result.skipped.append(f"entry {number}: {exc}")
            continue
        first = seen.setdefault(record["paper_id"], number)
        if first != number:
            result.skipped.append(
                f"entry {number}: paper.id: duplicate of entry {first} ({record['paper_id']})"
            )
            continue
        result.papers.append(record)
    _reject_if_nothing_usable(result, label, len(payload), "entries")
    return result


def _reject_if_nothing_usable(result: ParsedFile, label: str, total: int, unit: str) -> None:
    if total and not result.papers:
        first = result.skipped[0] if result.skipped else ""
        raise ImportFormatError(
            f"{label}: rejected, none of its {total} {unit} is usable "
            f"({len(result.skipped)} skipped; first: {first})",
            skipped=result.skipped,
        )


# ---------------------------------------------------------------------------------------------
# The JSON-lines (catalogue / record) form
# ---------------------------------------------------------------------------------------------


def _line_record(obj: Any, default_date: str | None) -> dict[str, Any]:
    """One JSON-lines object (record or catalogue form) -> a record."""
    if not isinstance(obj, dict):
        raise _EntryError(_entry_kind_error(obj))
    if "paper_id" in obj:
        paper_id = _paper_id(obj["paper_id"], "paper_id")
        abstract_key = "abstract"
    elif "id" in obj:
        paper_id = _paper_id(obj["id"], "id")
        abstract_key = "summary" if "summary" in obj else "abstract"
    else:
        raise _EntryError("paper_id: missing (neither 'paper_id' nor 'id')")
    daily_date = _day(obj.get("daily_date"), "daily_date")
    if daily_date is None and obj.get("submitted_on_daily_at") is not None:
        stamp = _timestamp(obj["submitted_on_daily_at"], "submitted_on_daily_at")
        daily_date = _utc_day(stamp) if stamp else None
    upvotes = obj.get("upvotes")
    return _record(
        paper_id=paper_id,
        title=_title(obj.get("title"), "title"),
        abstract=_abstract(obj.get(abstract_key), abstract_key),
        authors=_authors(obj.get("authors"), "authors"),
        published_at=_timestamp(obj.get("published_at"), "published_at"),
        daily_date=daily_date or default_date,
        # Optional in this form (hand-made lists); when present it must be valid.
        upvotes=0 if upvotes is None else _non_negative_int(upvotes, "upvotes"),
        num_comments=_optional_count(obj.get("num_comments"), "num_comments"),
        github_repo=_url(obj.get("github_repo"), "github_repo"),
        ai_keywords=_keywords(obj.get("ai_keywords"), "ai_keywords"),
    )


def _open_text(path: Path) -> io.TextIOBase:
    """Open ``path`` as UTF-8 text, gunzipping when it starts with the gzip magic number."""
    with open(path, "rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    # utf-8-sig: a byte-order mark, which some editors add, is dropped rather than fatal.
    if gzipped:
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _iter_jsonl(
    path: Path, default_date: str | None
) -> Iterator[tuple[dict[str, Any] | None, str | None]]:
    """Yield ``(record, None)`` or ``(None, message)`` per non-blank line.

    Raises ``OSError``, ``EOFError``, ``zlib.error`` or ``UnicodeDecodeError`` when the file
    itself is unreadable; the callers turn them into ``ImportFormatError``.
    """
    seen: dict[str, int] = {}
    with _open_text(path) as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            if len(line) > MAX_LINE_CHARS:
                yield None, f"line {number}: {len(line):,} characters, more than the limit"
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield None, f"line {number}: invalid JSON ({exc.msg} at column {exc.colno})"
                continue
            try:
                record = _line_record(obj, default_date)
            except _EntryError as exc:
                yield None, f"line {number}: {exc}"
                continue
            first = seen.setdefault(record["paper_id"], number)
            if first != number:
                yield None, f"line {number}: duplicate of line {first} ({record['paper_id']})"
                continue
            yield record, None


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------


def _is_jsonl(path: Path) -> bool:
    name = path.name.lower()
    if name.endswith(_JSONL_SUFFIXES):
        return True
    if name.endswith(_JSON_SUFFIXES):
        return False
    # Unknown suffix: a JSON array is the API form, anything else is taken as JSON lines.
    with _open_text(path) as stream:
        head = stream.read(4096).lstrip()
    return not head.startswith("[")


def _file_date(path: Path) -> str | None:
    match = _FILE_DATE_RE.fullmatch(path.name)
    return _valid_date(match.group(1)) if match else None


_READ_ERRORS = (OSError, EOFError, zlib.error, UnicodeDecodeError)


def _read_api_file(path: Path, default_date: str | None) -> ParsedFile:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ImportFormatError(f"{path}: larger than {MAX_FILE_BYTES:,} bytes")
        with _open_text(path) as stream:
            text = stream.read(MAX_FILE_BYTES + 1)
    except _READ_ERRORS as exc:
        raise ImportFormatError(f"{path}: cannot read: {exc}") from None
    if len(text) > MAX_FILE_BYTES:
        raise ImportFormatError(f"{path}: larger than {MAX_FILE_BYTES:,} characters")
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFormatError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    return parse_daily_papers(payload, date=_file_date(path) or default_date, source=str(path))


def _check_default_date(default_date: str | None) -> None:
    if default_date is not None and _valid_date(default_date) is None:
        raise ImportFormatError(f"default_date must be YYYY-MM-DD, got {default_date!r}")


def read_papers(path: str | os.PathLike[str], *, default_date: str | None = None) -> ParsedFile:
    """Parse a whole file of papers, validating every entry before returning.

    Parameters
    ----------
    path : str or os.PathLike
        Either an API response saved as JSON (``*.json``, optionally gzipped), or JSON lines
        (``*.jsonl``, ``*.jsonl.gz``, ``*.ndjson``) in the record or catalogue form. Other names
        are sniffed: a file starting with ``[`` is an API response. Gzip is detected from the
        content, not the name.
    default_date : str, optional
        ``YYYY-MM-DD``. For an API response whose file name is not ``YYYY-MM-DD.json``, the day
        it was requested for (a date in the file name wins). For JSON lines, the daily date of
        lines that carry neither ``daily_date`` nor ``submitted_on_daily_at``. See
        :func:`parse_daily_papers` for how the day is otherwise inferred.

    Returns
    -------
    ParsedFile
        All valid records and one message per skipped entry or line.

    Raises
    ------
    ImportFormatError
        When the file cannot be read or decompressed, is not of a known shape, or none of its
        entries is usable. Nothing from the file should then be imported.

    Examples
    --------
    >>> parsed = read_papers("tests/fixtures/hf/raw/2024-05-27.json")
    >>> len(parsed.papers), parsed.papers[0]["daily_date"]
    (13, '2024-05-27')
    """
    file = Path(path)
    _check_default_date(default_date)
    try:
        jsonl = _is_jsonl(file)
    except _READ_ERRORS as exc:
        raise ImportFormatError(f"{file}: cannot read: {exc}") from None
    if not jsonl:
        return _read_api_file(file, default_date)
    result = ParsedFile(source=str(file))
    total = 0
    try:
        for record, message in _iter_jsonl(file, default_date):
            total += 1
            if record is not None:
                result.papers.append(record)
            else:
                result.skipped.append(str(message))
    except _READ_ERRORS as exc:
        raise ImportFormatError(f"{file}: cannot read: {exc}") from None
    _reject_if_nothing_usable(result, str(file), total, "lines")
    return result


def count_entries(path: str | os.PathLike[str]) -> int:
    """Number of entries (API list items or non-blank lines) in a file, for a progress total.

    Raises
    ------
    ImportFormatError
        When the file cannot be read (see :func:`read_papers`).
    """
    file = Path(path)
    try:
        if not _is_jsonl(file):
            parsed = read_papers(file)
            return len(parsed.papers) + len(parsed.skipped)
        with _open_text(file) as stream:
            return sum(1 for line in stream if line.strip())
    except _READ_ERRORS as exc:
        raise ImportFormatError(f"{file}: cannot read: {exc}") from None


def iter_paper_chunks(
    path: str | os.PathLike[str], size: int = 1000, *, default_date: str | None = None
) -> Iterator[ParsedFile]:
    """Stream a (large) file as chunks of at most ``size`` records.

    Before the first chunk is yielded the whole file is checked once (decompression, JSON,
    every field), so a file that :func:`read_papers` would reject raises ``ImportFormatError``
    before the caller has written anything; a bad line is skipped, not fatal. Memory stays
    bounded by ``size`` for JSON lines; an API response (small) is parsed whole and sliced.

    Parameters
    ----------
    path : str or os.PathLike
        As for :func:`read_papers`.
    size : int, default 1000
        Maximum number of records per chunk.
    default_date : str, optional
        As for :func:`read_papers`.

    Yields
    ------
    ParsedFile
        ``papers`` of this chunk and ``skipped`` messages for the lines read with it. Every
        chunk has the same ``source``. Chunks are yielded even if only ``skipped`` is filled.

    Raises
    ------
    ImportFormatError
        Before the first chunk, as :func:`read_papers`; and (only if the file changes while
        it is being read) later.
    """
    if size < 1:
        raise ValueError("size must be >= 1")
    file = Path(path)
    _check_default_date(default_date)
    try:
        jsonl = _is_jsonl(file)
    except _READ_ERRORS as exc:
        raise ImportFormatError(f"{file}: cannot read: {exc}") from None
    if not jsonl:
        parsed = _read_api_file(file, default_date)
        for start in range(0, max(len(parsed.papers), 1), size):
            skipped = parsed.skipped if start == 0 else []
            yield ParsedFile(parsed.papers[start : start + size], skipped, parsed.source)
        return

    # First pass: validate everything, keep nothing but counts and messages.
    valid, total = 0, 0
    messages: list[str] = []
    try:
        for record, message in _iter_jsonl(file, default_date):
            total += 1
            if record is not None:
                valid += 1
            elif len(messages) < 1:
                messages.append(str(message))
    except _READ_ERRORS as exc:
        raise ImportFormatError(f"{file}: cannot read: {exc}") from None
    if total and not valid:
        _reject_if_nothing_usable(ParsedFile([], messages, str(file)), str(file), total, "lines")

    chunk = ParsedFile(source=str(file))
    try:
        for record, message in _iter_jsonl(file, default_date):
            if record is not None:
                chunk.papers.append(record)
            else:
                chunk.skipped.append(str(message))
            if len(chunk.papers) >= size:
                yield chunk
                chunk = ParsedFile(source=str(file))
    except _READ_ERRORS as exc:
        raise ImportFormatError(f"{file}: cannot read: {exc}") from None
    if chunk.papers or chunk.skipped:
        yield chunk


# ---------------------------------------------------------------------------------------------
# The live endpoint and date ranges
# ---------------------------------------------------------------------------------------------


def fetch_daily_papers(date: str, *, timeout: float = 20, api_url: str = API_URL) -> ParsedFile:
    """Fetch and parse one day from ``https://huggingface.co/api/daily_papers?date=DATE``.

    Only useful when the machine is online. Parsing is :func:`parse_daily_papers` with
    ``date`` as the daily date of every record.

    Parameters
    ----------
    date : str
        ``YYYY-MM-DD``.
    timeout : float, default 20
        Seconds for the connection and each read.
    api_url : str, optional
        The endpoint (``PAPERFEED_HF_API_URL``; default Hugging Face's).

    Returns
    -------
    ParsedFile
        With ``source`` set to the URL.

    Raises
    ------
    ValueError
        When ``date`` is not ``YYYY-MM-DD``.
    ImportFetchError
        On a network error, a timeout or an HTTP error status.
    ImportFormatError
        When the body is not JSON or not a list of entries.
    """
    if _valid_date(date) is None:
        raise ValueError(f"date must be YYYY-MM-DD, got {date!r}")
    url = f"{api_url}?{urllib.parse.urlencode({'date': date})}"
    request = urllib.request.Request(
        url, headers={"Accept": "application/json", "User-Agent": _USER_AGENT}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(MAX_FILE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise ImportFetchError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, TimeoutError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise ImportFetchError(f"{url}: cannot reach the Daily Papers API: {reason}") from None
    if len(body) > MAX_FILE_BYTES:
        raise ImportFormatError(f"{url}: response larger than {MAX_FILE_BYTES:,} bytes")
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ImportFormatError(f"{url}: response is not valid JSON ({exc})") from None
    return parse_daily_papers(payload, date=date, source=url)


def iter_dates(start: str, until: str | None) -> list[str]:
    """Every day from ``start`` to ``until`` inclusive, as ``YYYY-MM-DD`` strings.

    ``until=None`` means ``start`` only (``--date D`` without ``--until``).

    Raises
    ------
    ValueError
        When a date is malformed or ``until`` is before ``start``.

    >>> iter_dates("2024-12-30", "2025-01-02")
    ['2024-12-30', '2024-12-31', '2025-01-01', '2025-01-02']
    """
    first = _valid_date(start)
    if first is None:
        raise ValueError(f"start date must be YYYY-MM-DD, got {start!r}")
    if until is None:
        return [first]
    last = _valid_date(until)
    if last is None:
        raise ValueError(f"until date must be YYYY-MM-DD, got {until!r}")
    begin, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    if end < begin:
        raise ValueError(f"until ({last}) is before start ({first})")
    return [(begin + dt.timedelta(days=n)).isoformat() for n in range((end - begin).days + 1)]


# ---------------------------------------------------------------------------------------------
# The demo catalogue
# ---------------------------------------------------------------------------------------------


def _write_jsonl_gz(records: Iterable[dict[str, Any]], dest: Path) -> None:
    """Write records as gzipped JSON lines, atomically and byte-for-byte reproducibly."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    try:
        with (
            os.fdopen(fd, "wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as stream,
        ):
            for record in records:
                line = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
                stream.write(line.encode("utf-8") + b"\n")
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; this is a package data file
        os.replace(tmp, dest)
    except BaseException:
        os.unlink(tmp)
        raise


def write_demo_catalogue(
    source: str | os.PathLike[str], dest: str | os.PathLike[str], n: int = 400
) -> int:
    """Write the most recent Daily Papers days of ``source`` as a small record-form catalogue.

    Whole days are taken, newest first, while the total stays <= ``n`` (at least one day).
    Records keep the source order (ascending daily date). The output is gzipped JSON lines in
    the record form, readable by :func:`read_papers`, and identical for identical input.

    ``backend/demo/papers.jsonl.gz`` was produced with::

        python -c "from backend.importer import write_demo_catalogue as w; \\
            w('/work/shared/datasets/hf-daily-papers/catalogue.jsonl.gz', \\
              'backend/demo/papers.jsonl.gz')"

    Returns
    -------
    int
        The number of papers written.

    Raises
    ------
    ImportFormatError
        When ``source`` is rejected by :func:`read_papers`, or has no paper with a daily date.
    """
    parsed = read_papers(source)
    dated = [paper for paper in parsed.papers if paper["daily_date"]]
    if not dated:
        raise ImportFormatError(f"{source}: no paper with a daily date")
    per_day = Counter(paper["daily_date"] for paper in dated)
    chosen: set[str] = set()
    total = 0
    for day in sorted(per_day, reverse=True):
        if chosen and total + per_day[day] > n:
            break
        chosen.add(day)
        total += per_day[day]
    records = sorted(
        (paper for paper in dated if paper["daily_date"] in chosen),
        key=lambda paper: paper["daily_date"],
    )
    if len(records) > n:  # a single day larger than n
        records = records[:n]
    _write_jsonl_gz(records, Path(dest))
    return len(records)
