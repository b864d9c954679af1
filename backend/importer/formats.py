"""Reading files and responses of Daily Papers data into records.

A file is either parsed completely into a :class:`ParsedFile` (records plus one message per
skipped entry) or rejected with :class:`ImportFormatError` before the caller writes anything.
Entries are validated by the schemas of :mod:`backend.importer.schemas`.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import marshmallow as ma

from backend.importer.errors import ImportFormatError
from backend.importer.schemas import (
    API_ENTRY,
    CATALOGUE_LINE,
    MAX_TIMESTAMP_CHARS,
    RECORD_LINE,
    describe_errors,
    utc_day,
    valid_day,
)

MAX_LINE_CHARS = 1_000_000  # one JSON line of the catalogue form
MAX_FILE_BYTES = 64 * 1024 * 1024  # a whole API response (they are ~100 KB)

_FILE_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})\.json(?:\.gz)?")
_JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
_JSON_SUFFIXES = (".json", ".json.gz")
_READ_ERRORS = (OSError, EOFError, zlib.error, UnicodeDecodeError)


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


def _describe(value: Any) -> str:
    """What kind of JSON value ``value`` is, for messages."""
    if value is None:
        return "null"
    kinds = [(bool, "a boolean"), (str, "a string"), (int | float, "a number"), (list, "a list"),
             (dict, "an object")]
    return next((name for kind, name in kinds if isinstance(value, kind)), type(value).__name__)


def _load(schema: ma.Schema, obj: Any) -> dict[str, Any]:
    """Validate one JSON object with ``schema``; raise ``_EntryError`` naming the fields."""
    if not isinstance(obj, dict):
        hint = " (looks like a Python repr, not JSON)" if isinstance(obj, str) and obj.lstrip().startswith("{'") else ""
        raise _EntryError(f"expected a JSON object, got {_describe(obj)}{hint}")
    try:
        return schema.load(obj)
    except ma.ValidationError as error:
        raise _EntryError("; ".join(describe_errors(error.messages))) from None


def _day_of(stamp: Any) -> str | None:
    """The UTC day of an ISO-8601 timestamp, or None when it is absent or not one."""
    if not isinstance(stamp, str) or len(stamp) > MAX_TIMESTAMP_CHARS:
        return None
    try:
        return utc_day(stamp)
    except ValueError:
        return None


def _reject_if_nothing_usable(result: ParsedFile, label: str, total: int, unit: str) -> None:
    if total and not result.papers:
        first = result.skipped[0] if result.skipped else ""
        raise ImportFormatError(
            f"{label}: rejected, none of its {total} {unit} is usable "
            f"({len(result.skipped)} skipped; first: {first})",
            skipped=result.skipped,
        )


# --- the Daily Papers API form ---------------------------------------------------------------------


def _infer_payload_date(entries: list[Any]) -> str | None:
    """The Daily Papers day of a whole response whose query date is unknown.

    Used only for entries without ``paper.submittedOnDailyAt`` (before 2025-03). Their
    ``entry.publishedAt`` is when the paper was put on Daily Papers; submissions for day D start
    the evening before in UTC (2024-12-03 has five entries stamped 2024-12-02T21:47Z..23:35Z), so
    the day of one entry is unreliable, but one response is one day: take the latest UTC day.
    """
    days = [day for entry in entries if isinstance(entry, dict) and (day := _day_of(entry.get("publishedAt")))]
    return max(days) if days else None


def _check_payload(payload: Any, label: str) -> None:
    """Reject what is not a list of entries, saying what it is instead."""
    if isinstance(payload, dict):
        if "error" in payload:
            detail = str(payload.get("error"))[:200]
            raise ImportFormatError(f"{label}: the API answered with an error: {detail}")
        keys = ", ".join(sorted(map(str, payload))[:8])
        raise ImportFormatError(
            f"{label}: expected a JSON list of Daily Papers entries, got an object with keys "
            f"[{keys}]; a {{status, date, count, data}} wrapper is not the API's format"
        )
    if not isinstance(payload, list):
        raise ImportFormatError(f"{label}: expected a JSON list of Daily Papers entries, got {_describe(payload)}")


def parse_daily_papers(payload: Any, *, date: str | None, source: str = "") -> ParsedFile:
    """Parse a decoded ``/api/daily_papers`` response into records.

    The response is a JSON list of entries ``{"paper": {...}, "publishedAt", "numComments",
    ...}``, each validated by :class:`~backend.importer.schemas.ApiEntrySchema`. Unknown fields
    are ignored (the schema grows: ``submittedBy`` 2024-06, ``discussionId`` 2024-08,
    ``githubRepo`` and ``submittedOnDailyAt`` 2025-03, ``ai_keywords`` 2025-05, ``organization``
    2025-10).

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
    if date is not None and valid_day(date) is None:
        raise ImportFormatError(f"{label}: date must be YYYY-MM-DD, got {date!r}")
    _check_payload(payload, label)
    fallback_day = date or _infer_payload_date(payload)
    result = ParsedFile(source=source)
    seen: dict[str, int] = {}
    for number, entry in enumerate(payload, start=1):
        try:
            record = _load(API_ENTRY, entry)
        except _EntryError as error:
            result.skipped.append(f"entry {number}: {error}")
            continue
        record["daily_date"] = date or _day_of(entry["paper"].get("submittedOnDailyAt")) or fallback_day
        first = seen.setdefault(record["paper_id"], number)
        if first != number:
            result.skipped.append(f"entry {number}: paper.id: duplicate of entry {first} ({record['paper_id']})")
            continue
        result.papers.append(record)
    _reject_if_nothing_usable(result, label, len(payload), "entries")
    return result


def _file_date(path: Path) -> str | None:
    match = _FILE_DATE.fullmatch(path.name)
    return valid_day(match.group(1)) if match else None


def _read_api_file(path: Path, default_date: str | None) -> ParsedFile:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ImportFormatError(f"{path}: larger than {MAX_FILE_BYTES:,} bytes")
        with _open_text(path) as stream:
            text = stream.read(MAX_FILE_BYTES + 1)
    except _READ_ERRORS as error:
        raise ImportFormatError(f"{path}: cannot read: {error}") from None
    if len(text) > MAX_FILE_BYTES:
        raise ImportFormatError(f"{path}: larger than {MAX_FILE_BYTES:,} characters")
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as error:
        raise ImportFormatError(
            f"{path}: not valid JSON ({error.msg} at line {error.lineno} column {error.colno})"
        ) from None
    return parse_daily_papers(payload, date=_file_date(path) or default_date, source=str(path))


# --- the JSON-lines (record / catalogue) form -------------------------------------------------------


def _line_record(obj: Any, default_date: str | None) -> dict[str, Any]:
    """One JSON-lines object, in the record form (``paper_id``) or the catalogue form (``id``)."""
    if isinstance(obj, dict) and "paper_id" not in obj and "id" not in obj:
        raise _EntryError("paper_id: missing (neither 'paper_id' nor 'id')")
    record = _load(RECORD_LINE if isinstance(obj, dict) and "paper_id" in obj else CATALOGUE_LINE, obj)
    record["daily_date"] = record["daily_date"] or default_date
    return record


def _open_text(path: Path) -> io.TextIOBase:
    """Open ``path`` as UTF-8 text, gunzipping when it starts with the gzip magic number."""
    with open(path, "rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    # utf-8-sig: a byte-order mark, which some editors add, is dropped rather than fatal.
    if gzipped:
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _read_jsonl(path: Path, default_date: str | None) -> ParsedFile:
    """Every non-blank line of ``path`` as a record or a skipped-line message."""
    result = ParsedFile(source=str(path))
    seen: dict[str, int] = {}
    total = 0
    with _open_text(path) as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            total += 1
            try:
                if len(line) > MAX_LINE_CHARS:
                    raise _EntryError(f"{len(line):,} characters, more than the limit")
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as error:
                    raise _EntryError(f"invalid JSON ({error.msg} at column {error.colno})") from None
                record = _line_record(obj, default_date)
                first = seen.setdefault(record["paper_id"], number)
                if first != number:
                    raise _EntryError(f"duplicate of line {first} ({record['paper_id']})")
            except _EntryError as error:
                result.skipped.append(f"line {number}: {error}")
                continue
            result.papers.append(record)
    _reject_if_nothing_usable(result, str(path), total, "lines")
    return result


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
    if default_date is not None and valid_day(default_date) is None:
        raise ImportFormatError(f"default_date must be YYYY-MM-DD, got {default_date!r}")
    try:
        if not _is_jsonl(file):
            return _read_api_file(file, default_date)
        return _read_jsonl(file, default_date)
    except _READ_ERRORS as error:
        raise ImportFormatError(f"{file}: cannot read: {error}") from None
