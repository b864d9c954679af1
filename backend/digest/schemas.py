"""Validation and shapes of the digest subscription API."""

from __future__ import annotations

import marshmallow as ma
from email_validator import EmailNotValidError, validate_email
from marshmallow import fields, validate

from backend.schemas import ExportSchema, StrictSchema

FREQUENCIES = ("daily", "weekly")
STATUSES = ("none", "pending", "active", "suppressed")


class EmailAddress(fields.String):
    """An email address, checked and normalised by ``email-validator`` (no DNS lookups)."""

    default_error_messages = {"invalid_email": "Not a valid email address: {reason}"}

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return validate_email(text.strip(), check_deliverability=False).normalized
        except EmailNotValidError as error:
            raise self.make_error("invalid_email", reason=str(error)) from None


class SubscriptionRequestSchema(StrictSchema):
    email = EmailAddress(required=True, validate=validate.Length(max=254))
    frequency = fields.String(required=True, validate=validate.OneOf(FREQUENCIES))
    hour_utc = fields.Integer(strict=True, load_default=7, validate=validate.Range(0, 23))
    weekday = fields.Integer(strict=True, load_default=0, validate=validate.Range(0, 6),
                             metadata={"description": "Weekly only; 0 = Monday."})


class SubscriptionStatusSchema(ma.Schema):
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))


class SubscriptionSchema(ma.Schema):
    email = fields.String(allow_none=True)
    frequency = fields.String(allow_none=True, validate=validate.OneOf(FREQUENCIES))
    hour_utc = fields.Integer(allow_none=True)
    weekday = fields.Integer(allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    last_sent_at = fields.String(allow_none=True)


class ExportWithSubscriptionSchema(ExportSchema):
    subscription = fields.Nested(SubscriptionSchema)
