"""Bearer-token authentication: the user is always taken from the token."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import redis
from flask import g, request
from flask_smorest import abort
from werkzeug.exceptions import HTTPException

from backend.extensions import get_store
from backend.store import RateLimited, RateWindow

_MISSING = 'Bearer realm="paperfeed"'
_INVALID = 'Bearer realm="paperfeed", error="invalid_token"'


def request_bearer_token() -> str | None:
    """The request's bearer token, or None if it carries none."""
    header = request._get_current_object().headers.get("Authorization", "")  # see limits.client_ip
    scheme, _, token = header.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def bearer_token() -> str:
    """The request's bearer token, or abort with 401."""
    token = request_bearer_token()
    if token is None:
        abort(401, message="Missing bearer token.", headers={"WWW-Authenticate": _MISSING})
    return token


def unknown_token() -> None:
    """Abort with the 401 of a token that is unknown or revoked."""
    abort(401, message="Unknown or revoked token.", headers={"WWW-Authenticate": _INVALID})


def authenticate() -> str:
    """Return the user id of the request's bearer token, or abort with 401."""
    user_id = get_store().user_for_token(bearer_token())
    if user_id is None:
        unknown_token()
    return user_id


def auth_required(view: Callable[..., Any] | None = None, *, with_stamp: bool = False):
    """Authenticate before anything else (in particular before the body is validated).

    The view gets the user id as its first positional argument. With ``with_stamp`` the
    user's state stamp (``Store.user_stamp``) is read in the same round trip and put in
    ``g.user_stamp``, for views that cache per user state.
    """

    def decorate(inner: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(inner)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if with_stamp:
                found = get_store().user_and_stamp(bearer_token())
                if found is None:
                    unknown_token()
                g.user_id, g.user_stamp = found
            else:
                g.user_id = authenticate()
            return inner(g.user_id, *args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate


def token_checked_on_failure(
        rate_windows: Callable[[str], Sequence[RateWindow]] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """For views whose one store call authenticates (``Store.apply_events_of_token``).

    The view gets the bearer token and the request's rate-limit windows
    (``rate_windows(token)``, for the store to count in that call) as its first positional
    arguments (401 here if there is no token) and answers 401 itself for an unknown token.
    If the request fails before reaching the store (413, 415, 422, ...), the windows are
    counted and the token is checked first, so that a bad token still gets its 401 before
    anything is said about the body, as with :func:`auth_required`.
    """

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = bearer_token()
            windows = rate_windows(token) if rate_windows is not None else ()
            try:
                response = view(token, windows, *args, **kwargs)
            except HTTPException as error:
                if _client_error(error.code):
                    _count_and_authenticate(windows)
                raise
            except (redis.ConnectionError, redis.TimeoutError, RateLimited):
                raise
            except Exception:
                # an unexpected failure (a 500) is not reported to an unknown token either
                _count_and_authenticate(windows)
                raise
            if _client_error(getattr(response, "status_code", None)):
                _count_and_authenticate(windows)
            return response

        return wrapper

    return decorate


def _count_and_authenticate(windows: Sequence[RateWindow]) -> None:
    get_store().hit_rate_windows(windows)
    g.user_id = authenticate()


def _client_error(status: int | None) -> bool:
    return status is not None and 400 <= status < 500 and status != 401
