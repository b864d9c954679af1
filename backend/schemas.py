"""Request and response schemas: they validate input and generate the OpenAPI document."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from backend import ids

EVENT_TYPES = ("open", "save", "unsave", "dismiss")
EVENT_SOURCES = ("list", "paper_page", "sidebar", "popup")
MAX_EVENTS = 100
MAX_EXCLUDED = 50
MAX_FUTURE = timedelta(minutes=5)
MAX_AGE = timedelta(days=30)


class PaperId(fields.String):
    """An arXiv id (new or old style, ASCII, see :mod:`backend.ids`); a version suffix is
    dropped."""

    default_error_messages = {"invalid_id": "Not an arXiv id (e.g. 2412.01824 or hep-th/9901001)."}

    def __init__(self, **kwargs: Any):
        metadata = {"pattern": ids.PATTERN, "maxLength": ids.MAX_LENGTH,
                    "description": "An arXiv id: YYMM.NNNNN, or archive[.Class]/YYMMNNN with an "
                                   "arXiv archive name; a version suffix (v2) is dropped.",
                    **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return ids.normalize_paper_id(text)
        except ValueError:
            raise self.make_error("invalid_id") from None


# Bidirectional embeddings, overrides and isolates (U+202A-202E, U+2066-2069) can make a
# title read differently from what it is; they are removed. Control characters (C0, DEL,
# C1) and lone surrogates (which are not Unicode text and cannot be stored) are refused.
_BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
TEXT_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"


class Text(fields.String):
    """Text shown to people: no control characters or lone surrogates (422); bidirectional
    overrides and isolates are stripped before the length is checked."""

    default_error_messages = {"control": "Contains a control character.",
                              "surrogate": "Contains a lone surrogate (not valid Unicode)."}

    def __init__(self, **kwargs: Any):
        super().__init__(metadata={"pattern": TEXT_PATTERN, **kwargs.pop("metadata", {})},
                         **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if _SURROGATE.search(text):
            raise self.make_error("surrogate")
        if _CONTROL.search(text):
            raise self.make_error("control")
        return text.translate(_BIDI_CONTROLS)


_RFC3339 = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?"
                      r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class CanonicalUUID(fields.UUID):
    """A UUID in its canonical 8-4-4-4-12 text form only (JSON Schema format ``uuid``), not
    the other spellings Python's ``uuid.UUID`` takes (no dashes, braces, ``urn:uuid:``)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str) or _UUID.fullmatch(value) is None:
            raise self.make_error("invalid_uuid")
        return super()._deserialize(value, attr, data, **kwargs)


class RecentTime(fields.AwareDateTime):
    """An ISO-8601 time with zone, at most 5 minutes ahead and at most 30 days old.

    Parsed with ``datetime.fromisoformat`` (C, a tenth of marshmallow's parser's time, which
    remains the fallback for what it does not take and gives the errors) and checked here
    rather than by a schema validator: events are validated by the hundred per request.
    """

    default_error_messages = {"future": "More than 5 minutes in the future.",
                              "too_old": "Older than 30 days.",
                              "not_rfc3339": "Not an RFC 3339 date-time with zone "
                                             "(e.g. 2026-11-26T08:15:00Z)."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        moment = None
        if isinstance(value, str):
            # only the documented format (JSON Schema "date-time"), not all that
            # fromisoformat takes (week dates, basic format, a space for the T)
            if _RFC3339.fullmatch(value) is None:
                raise self.make_error("not_rfc3339")
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                pass
        if moment is None or moment.tzinfo is None:
            moment = super()._deserialize(value, attr, data, **kwargs)
        now = datetime.now(UTC)
        if moment > now + MAX_FUTURE:
            raise self.make_error("future")
        if moment < now - MAX_AGE:
            raise self.make_error("too_old")
        return moment


class StrictSchema(ma.Schema):
    """Unknown fields are rejected (marshmallow's default, kept on purpose)."""

    class Meta:
        unknown = ma.RAISE


class QuerySchema(ma.Schema):
    """Query strings ignore unknown parameters (cache-busters)."""

    class Meta:
        unknown = ma.EXCLUDE


class PaperSeedSchema(StrictSchema):
    title = Text(required=True, validate=validate.Length(min=1, max=300), metadata={
        "description": "Title, to seed a paper not in the catalogue. Control characters and "
                       "lone surrogates are refused; bidirectional overrides and isolates "
                       "(U+202A-202E, U+2066-2069) are removed."})


class EventSchema(StrictSchema):
    id = CanonicalUUID(required=True, metadata={
        "description": "Chosen by the client; makes retries idempotent."})
    type = fields.String(required=True, validate=validate.OneOf(EVENT_TYPES))
    paper_id = PaperId(required=True, metadata={"example": "2412.01824"})
    ts = RecentTime(required=True, metadata={
        "description": "RFC 3339 date-time with zone; at most 5 minutes ahead, at most 30 days "
                       "old."})
    source = fields.String(validate=validate.OneOf(EVENT_SOURCES))
    paper = fields.Nested(PaperSeedSchema)


class EventBatchSchema(StrictSchema):
    # Nested(many=True), not List(Nested(...)): one load of all events instead of one
    # schema load per event (15 % of validating a 50-event batch).
    events = fields.Nested(EventSchema, many=True, required=True,
                           validate=validate.Length(min=1, max=MAX_EVENTS),
                           error_messages={"type": "Not a valid list."})


class EventBatchResultSchema(ma.Schema):
    accepted = fields.Integer(required=True)
    duplicates = fields.Integer(required=True)


class NewUserSchema(ma.Schema):
    user_id = fields.String(required=True)
    token = fields.String(required=True, metadata={"description": "Bearer token; shown once."})


class PaperIdList(fields.String):
    """Comma-separated arXiv ids (at most ``max_ids``), loaded as a frozenset of normalised ids."""

    default_error_messages = {
        "invalid_id": "Not an arXiv id: {value!r} (e.g. 2412.01824 or hep-th/9901001).",
        "too_many": "At most {max} ids."}

    def __init__(self, max_ids: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.max_ids = max_ids

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any
                     ) -> frozenset[str]:
        text = super()._deserialize(value, attr, data, **kwargs)
        parts = [part.strip() for part in text.split(",") if part.strip()]
        if len(parts) > self.max_ids:
            raise self.make_error("too_many", max=self.max_ids)
        found = set()
        for part in parts:
            try:
                found.add(ids.normalize_paper_id(part))
            except ValueError:
                raise self.make_error("invalid_id", value=part[:40]) from None
        return frozenset(found)


class ListQuerySchema(QuerySchema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    days = fields.Integer(load_default=7, validate=validate.Range(min=1, max=90))
    until = fields.Date(format="%Y-%m-%d", load_default=None, metadata={
        "description": "Last day of the window (YYYY-MM-DD); the window is the `days` days "
                       "ending there. Default: the newest Daily Papers day."})


class RecommendationsQuerySchema(ListQuerySchema):
    exclude = PaperIdList(MAX_EXCLUDED, load_default=frozenset, metadata={
        "description": f"Comma-separated arXiv ids to leave out (at most {MAX_EXCLUDED}), "
                       "e.g. the paper being viewed.", "example": "2412.01824,2412.01825"})
    include_opened = fields.Boolean(load_default=False, metadata={
        "description": "Also list papers the user has opened (left out by default)."})


class ReasonSchema(ma.Schema):
    kind = fields.String(required=True, metadata={
        "description": "because_you_saved (names a saved paper), because_you_opened (names an "
                       "opened paper), similar_readers (readers who resemble the user read it), "
                       "topic (close to the user's papers) or trending; clients show the text "
                       "of a kind they do not know as it is.",
        "example": "because_you_saved"})
    text = fields.String(required=True)


class ListItemSchema(ma.Schema):
    paper_id = fields.String(required=True)
    title = fields.String(allow_none=True, required=True)
    score = fields.Float(required=True)
    day = fields.String(metadata={"format": "date", "description": "Daily Papers day."})
    upvotes = fields.Integer()


class WindowSchema(ma.Schema):
    start = fields.String(required=True, data_key="from", metadata={"format": "date"})
    until = fields.String(required=True, metadata={"format": "date"})


class TrendingSchema(ma.Schema):
    window = fields.Nested(WindowSchema, required=True, metadata={
        "description": "The Daily Papers days the list covers (inclusive)."})
    items = fields.List(fields.Nested(ListItemSchema), required=True)


class RecommendationItemSchema(ListItemSchema):
    reason = fields.Nested(ReasonSchema, required=True)


class RecommendationsSchema(ma.Schema):
    model_version = fields.String(allow_none=True, required=True)
    window = fields.Nested(WindowSchema, required=True, metadata={
        "description": "The Daily Papers days the list covers (inclusive)."})
    items = fields.List(fields.Nested(RecommendationItemSchema), required=True)


class SavedItemSchema(ma.Schema):
    paper_id = fields.String(required=True)
    title = fields.String(allow_none=True, required=True)
    saved_at = fields.String(required=True, metadata={"format": "date-time"})


class SavedSchema(ma.Schema):
    items = fields.List(fields.Nested(SavedItemSchema), required=True)


class PaperSchema(ma.Schema):
    paper_id = fields.String(required=True)
    title = fields.String(allow_none=True, required=True)
    abstract = fields.String()
    authors = fields.List(fields.String())
    published_at = fields.String()
    daily_date = fields.String()
    upvotes = fields.Integer()
    num_comments = fields.Integer()
    github_repo = fields.String()
    ai_keywords = fields.List(fields.String())


class ExportEventSchema(ma.Schema):
    id = fields.String()
    type = fields.String()
    paper_id = fields.String()
    ts = fields.String()
    source = fields.String(allow_none=True)
    received_at = fields.String()


class DismissedItemSchema(ma.Schema):
    paper_id = fields.String()
    dismissed_at = fields.String()


class ExportSchema(ma.Schema):
    user_id = fields.String(required=True)
    created_at = fields.String(allow_none=True)
    events = fields.List(fields.Nested(ExportEventSchema))
    saved = fields.List(fields.Nested(SavedItemSchema))
    dismissed = fields.List(fields.Nested(DismissedItemSchema))
    opens = fields.Dict(keys=fields.String(), values=fields.Integer())
    interaction_weights = fields.Dict(keys=fields.String(), values=fields.Float())
    titles = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "Titles your events supplied (seen by you only)."})


class HealthSchema(ma.Schema):
    status = fields.String(required=True, metadata={
        "description": "`ok` (/healthz); `ready`, or `degraded` when the model pointer's "
                       "version cannot be served (/readyz)."})
    model_version = fields.String(allow_none=True, metadata={
        "description": "The model version this worker serves (null: none)."})
    model_pointer = fields.String(allow_none=True, metadata={
        "description": "The version the model pointer names (null: none published)."})
    model_problem = fields.String(allow_none=True, metadata={
        "description": "Why the pointer's version is not served (null: it is)."})
    catalogue_size = fields.Integer()
    newest_daily_date = fields.String(allow_none=True, metadata={
        "format": "date", "description": "The newest Daily Papers day imported (null: none)."})
    persistence = fields.String(validate=validate.OneOf(("aof", "rdb", "none", "unknown")),
                                metadata={"description": "How Redis keeps data across a restart."})


class FieldErrorSchema(ma.Schema):
    field = fields.String(required=True, metadata={"description": "Dotted path of the field."})
    pointer = fields.String(metadata={"description": "JSON pointer into the request body."})
    location = fields.String()
    index = fields.Integer(metadata={"description": "Index of the bad event, for /v1/events."})
    message = fields.String(required=True)


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    errors = fields.List(fields.Nested(FieldErrorSchema))
