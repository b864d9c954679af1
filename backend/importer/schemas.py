"""Marshmallow schemas that validate one imported paper and turn it into a record.

Two inputs are described: an entry of the Daily Papers API (``{"paper": {...}, "numComments",
...}``) and one line of JSON lines, in the record form (``paper_id``, ``abstract``, ...) or the
shared catalogue form (``id``, ``summary``, ``submitted_on_daily_at``, ...). Each schema loads to
a record (see :mod:`backend.importer`) without its ``daily_date`` when the day is decided by the
caller. Unknown fields are ignored: the API's schema grows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from backend.ids import normalize_paper_id

# Sizes beyond these are not papers but broken or hostile input: the entry is skipped.
MAX_TITLE_CHARS = 1_000
MAX_ABSTRACT_CHARS = 20_000
MAX_AUTHORS = 10_000
MAX_AUTHOR_CHARS = 500
MAX_KEYWORDS = 200
MAX_KEYWORD_CHARS = 200
MAX_URL_CHARS = 500
MAX_TIMESTAMP_CHARS = 40

# arXiv marks a new abstract paragraph with a line that starts with whitespace ("\n  ").
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]+|\n\s*\n")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _collapse(text: str) -> str:
    """Every whitespace run (newlines included) to one space, stripped."""
    return " ".join(text.split())


def clean_title(value: str) -> str | None:
    """Collapse every whitespace run (arXiv wraps titles with ``"\\n  "``) to one space."""
    return _collapse(value) or None


def clean_abstract(value: str) -> str | None:
    """Join arXiv's hard-wrapped lines; keep paragraphs, separated by one blank line.

    arXiv abstracts wrap lines at ~80 characters with a bare ``"\\n"`` and start a new paragraph
    with an indented line (``"\\n  "``); a blank line is also taken as a paragraph break.

    >>> clean_abstract("We study\\nthings.\\n  Then we   show\\nmore.")
    'We study things.\\n\\nThen we show more.'
    """
    paragraphs = (_collapse(part) for part in _PARAGRAPH_BREAK.split(value))
    return "\n\n".join(part for part in paragraphs if part) or None


def utc_day(timestamp: str) -> str:
    """The UTC calendar day (``YYYY-MM-DD``) of an ISO-8601 timestamp already validated."""
    moment = dt.datetime.fromisoformat(timestamp)
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.date().isoformat()


def valid_day(value: Any) -> str | None:
    """``value`` when it is a real ``YYYY-MM-DD`` date, else None."""
    if isinstance(value, str) and _DAY.fullmatch(value):
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            return None
    return None


# --- fields ---------------------------------------------------------------------------------------


class PaperId(fields.String):
    """An arXiv id (surrounding spaces and a version suffix are dropped)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return normalize_paper_id(text.strip())
        except ValueError as error:
            raise ma.ValidationError(str(error)) from None


class CleanText(fields.String):
    """Text normalised by ``clean`` and at most ``max_chars`` long once cleaned; null allowed."""

    def __init__(self, clean: Callable[[str], str | None], max_chars: int, **kwargs: Any) -> None:
        super().__init__(allow_none=True, load_default=None, **kwargs)
        self.clean, self.max_chars = clean, max_chars

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str | None:
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > 4 * self.max_chars:  # cheap exit before any regex work on huge input
            raise ma.ValidationError(f"{len(text):,} characters, more than {self.max_chars:,}")
        cleaned = self.clean(text)
        if cleaned is not None and len(cleaned) > self.max_chars:
            raise ma.ValidationError(f"{len(cleaned):,} characters, more than {self.max_chars:,}")
        return cleaned


class Names(fields.Field):
    """A list of names or keywords, whitespace collapsed, empty ones left out; null is empty.

    One field for the whole list rather than ``List(String)``: a catalogue has ~17 authors a
    paper, and one field per name is most of the time of a whole import.
    """

    default_error_messages = {
        "type": "Not a valid list.",
        "too_many": "{count:,} items, more than {max:,}",
        "item": "Not a valid string.",
        "too_long": "{length:,} characters, more than {max:,}",
    }

    def __init__(self, max_items: int, max_chars: int, *, objects: bool = False, **kwargs: Any) -> None:
        super().__init__(allow_none=True, load_default=None, **kwargs)
        self.max_items, self.max_chars, self.objects = max_items, max_chars, objects

    def _name(self, value: Any) -> str:
        if not isinstance(value, str):
            raise self.make_error("item")
        text = _collapse(value)
        if len(text) > self.max_chars:
            raise self.make_error("too_long", length=len(text), max=self.max_chars)
        return text

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        if not isinstance(value, list):
            raise self.make_error("type")
        if len(value) > self.max_items:
            raise self.make_error("too_many", count=len(value), max=self.max_items)
        names, errors = [], {}
        for index, item in enumerate(value):
            try:
                if self.objects and isinstance(item, dict):  # an API author: {"name": ...}
                    try:
                        name = self._name(item.get("name"))
                    except ma.ValidationError as error:
                        raise ma.ValidationError({"name": error.messages}) from None
                else:
                    name = self._name(item)
            except ma.ValidationError as error:
                errors[index] = error.messages
                continue
            if name:
                names.append(name)
        if errors:
            raise ma.ValidationError(errors)
        return names


class Timestamp(fields.String):
    """An ISO-8601 date-time, kept as the string given once it is known to parse."""

    default_error_messages = {"timestamp": "not an ISO-8601 date-time: {shown}"}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_none=True, load_default=None, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            if len(text) <= MAX_TIMESTAMP_CHARS:
                dt.datetime.fromisoformat(text)
                return text
        except ValueError:
            pass
        raise self.make_error("timestamp", shown=repr(text[:MAX_TIMESTAMP_CHARS]))


class Day(fields.String):
    """A ``YYYY-MM-DD`` calendar date, or null."""

    default_error_messages = {"day": "expected a YYYY-MM-DD date, got {shown}"}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_none=True, load_default=None, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        day = valid_day(super()._deserialize(value, attr, data, **kwargs))
        if day is None:
            raise self.make_error("day", shown=repr(value[:40]))
        return day


class WebUrl(fields.String):
    """An http(s) URL; null or an empty string load as None."""

    default_error_messages = {"scheme": "expected an http(s) URL, got {shown}"}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_none=True, load_default=None, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str | None:
        url = super()._deserialize(value, attr, data, **kwargs).strip()
        if not url:
            return None
        if len(url) > MAX_URL_CHARS:
            raise ma.ValidationError(f"{len(url):,} characters, more than {MAX_URL_CHARS:,}")
        if not url.startswith(("https://", "http://")):
            raise self.make_error("scheme", shown=repr(url[:60]))
        return url


def _count(**kwargs: Any) -> fields.Integer:
    """A non-negative integer (booleans, floats and numeric strings are refused)."""
    return fields.Integer(strict=True, validate=validate.Range(min=0, error="must be >= 0, got {input}"),
                          **kwargs)


def _title() -> CleanText:
    return CleanText(clean_title, MAX_TITLE_CHARS)


def _abstract(**kwargs: Any) -> CleanText:
    return CleanText(clean_abstract, MAX_ABSTRACT_CHARS, **kwargs)


def _authors() -> Names:
    """Author names, as strings or as the API's author objects."""
    return Names(MAX_AUTHORS, MAX_AUTHOR_CHARS, objects=True)


def _keywords() -> Names:
    return Names(MAX_KEYWORDS, MAX_KEYWORD_CHARS)


def record(*, paper_id: str, title: str | None, abstract: str | None, authors: list[str] | None,
           published_at: str | None, daily_date: str | None, upvotes: int, num_comments: int | None,
           github_repo: str | None, ai_keywords: list[str] | None) -> dict[str, Any]:
    """A record, its keys in the documented order (see :mod:`backend.importer`)."""
    return {
        "paper_id": paper_id,
        "title": title,
        "abstract": abstract,
        "authors": authors or [],
        "published_at": published_at,
        "daily_date": daily_date,
        "upvotes": upvotes,
        "num_comments": num_comments,
        "github_repo": github_repo,
        "ai_keywords": ai_keywords or [],
    }


class ImportSchema(ma.Schema):
    """Imported data carries more fields than a record; the others are ignored."""

    class Meta:
        unknown = ma.EXCLUDE


# --- the Daily Papers API -------------------------------------------------------------------------


class ApiPaperSchema(ImportSchema):
    """``entry.paper``: the paper's own fields, present in every era of the API."""

    id = PaperId(required=True, error_messages={"required": "missing"})
    title = _title()
    summary = _abstract()
    authors = _authors()
    publishedAt = Timestamp()
    upvotes = _count(required=True, error_messages={"required": "missing"})
    githubRepo = WebUrl()
    ai_keywords = _keywords()


class ApiEntrySchema(ImportSchema):
    """One element of the ``/api/daily_papers`` list; loads to a record without ``daily_date``.

    The entry repeats title and summary (already collapsed in later eras); the paper's own
    fields are preferred. Upvotes are read from ``entry.paper.upvotes`` only.
    """

    paper = fields.Nested(ApiPaperSchema, required=True,
                          error_messages={"required": "missing", "type": "expected an object"})
    title = _title()
    summary = _abstract()
    numComments = _count(allow_none=True, load_default=None)

    @ma.post_load
    def to_record(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        paper = data["paper"]
        return record(
            paper_id=paper["id"],
            title=paper["title"] if paper["title"] is not None else data["title"],
            abstract=paper["summary"] if paper["summary"] is not None else data["summary"],
            authors=paper["authors"],
            published_at=paper["publishedAt"],
            daily_date=None,  # decided by the caller: the response's day
            upvotes=paper["upvotes"],
            num_comments=data["numComments"],
            github_repo=paper["githubRepo"],
            ai_keywords=paper["ai_keywords"],
        )


# --- JSON lines ------------------------------------------------------------------------------------


class _LineSchema(ImportSchema):
    """Fields both JSON-lines forms share. ``upvotes`` is optional there (hand-made lists)."""

    title = _title()
    authors = _authors()
    published_at = Timestamp()
    daily_date = Day()
    submitted_on_daily_at = Timestamp()
    upvotes = _count(allow_none=True, load_default=None)
    num_comments = _count(allow_none=True, load_default=None)
    github_repo = WebUrl()
    ai_keywords = _keywords()

    @ma.post_load
    def to_record(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        stamp = data["submitted_on_daily_at"]
        day = data["daily_date"] or (utc_day(stamp) if stamp else None)
        return record(
            paper_id=data["paper_id"],
            title=data["title"],
            abstract=data["abstract"],
            authors=data["authors"],
            published_at=data["published_at"],
            daily_date=day,
            upvotes=data["upvotes"] or 0,
            num_comments=data["num_comments"],
            github_repo=data["github_repo"],
            ai_keywords=data["ai_keywords"],
        )


class RecordLineSchema(_LineSchema):
    """A line in the record form (what this importer writes): ``paper_id``, ``abstract``."""

    paper_id = PaperId(required=True)
    abstract = _abstract()


class CatalogueLineSchema(_LineSchema):
    """A line in the shared catalogue form: ``id`` and ``summary`` (or ``abstract``)."""

    paper_id = PaperId(required=True, data_key="id")
    abstract = _abstract(data_key="summary")

    @ma.pre_load
    def summary_or_abstract(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict) and "summary" not in data and "abstract" in data:
            data = {**data, "summary": data["abstract"]}
        return data


API_ENTRY = ApiEntrySchema()
RECORD_LINE = RecordLineSchema()
CATALOGUE_LINE = CatalogueLineSchema()


def describe_errors(messages: Any, where: str = "") -> list[str]:
    """Flatten marshmallow's nested error messages to ``"paper.authors[0].name: ..."`` lines."""
    if isinstance(messages, dict):
        lines = []
        for key, value in messages.items():
            path = f"{where}[{key}]" if isinstance(key, int) else f"{where}.{key}" if where else str(key)
            lines += describe_errors(value, path)
        return lines
    if isinstance(messages, list) and all(isinstance(message, str) for message in messages):
        text = "; ".join(message.rstrip(".") for message in messages)
        return [f"{where}: {text}" if where else text]
    return [line for message in messages for line in describe_errors(message, where)]
