"""Signed tokens in the links of emails (itsdangerous).

A confirmation token names a user and a nonce; it is signed with a timestamp and expires after
48 hours, and the nonce is single use (its record in Redis is deleted when it is used). An
unsubscribe token names a user and the subscription it was mailed for; it works until that
subscription ends.
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

CONFIRM_MAX_AGE = 48 * 3600  # seconds


class TokenError(Exception):
    """A token that is tampered with, malformed or expired (``expired`` says which)."""

    def __init__(self, message: str, expired: bool = False):
        super().__init__(message)
        self.expired = expired


@dataclass(frozen=True)
class TokenClaims:
    """What a valid token says: the user, and the nonce (confirm) or subscription id (unsubscribe)."""

    user_id: str
    value: str


class Tokens:
    """Makes and checks the digest's tokens with one secret key."""

    def __init__(self, secret_key: str):
        self._confirm = URLSafeTimedSerializer(secret_key, salt="paperfeed-digest-confirm")
        self._unsubscribe = URLSafeSerializer(secret_key, salt="paperfeed-digest-unsubscribe")

    def confirm_token(self, user_id: str, nonce: str) -> str:
        """A confirmation token for ``nonce`` (valid 48 h)."""
        return self._confirm.dumps([user_id, nonce])

    def unsubscribe_token(self, user_id: str, subscription_id: str) -> str:
        """An unsubscribe token for one subscription."""
        return self._unsubscribe.dumps([user_id, subscription_id])

    def check_confirm(self, token: str, max_age: int = CONFIRM_MAX_AGE) -> TokenClaims:
        """The claims of a confirmation token; :class:`TokenError` if invalid or expired."""
        try:
            return _claims(self._confirm.loads(token, max_age=max_age))
        except SignatureExpired:
            raise TokenError("This confirmation link has expired.", expired=True) from None
        except BadSignature:
            raise TokenError("This confirmation link is not valid.") from None

    def check_unsubscribe(self, token: str) -> TokenClaims:
        """The claims of an unsubscribe token; :class:`TokenError` if invalid."""
        try:
            return _claims(self._unsubscribe.loads(token))
        except BadSignature:
            raise TokenError("This unsubscribe link is not valid.") from None


def _claims(payload: object) -> TokenClaims:
    if (not isinstance(payload, list) or len(payload) != 2
            or not all(isinstance(part, str) and part for part in payload)):
        raise BadSignature("malformed payload")
    return TokenClaims(user_id=payload[0], value=payload[1])
