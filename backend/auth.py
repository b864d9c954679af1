"""Bearer-token authentication: the user is always taken from the token."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import g, request
from flask_smorest import abort

from backend.extensions import get_store


def authenticate() -> str:
    """Return the user id of the request's bearer token, or abort with 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        abort(401, message="Missing bearer token.",
              headers={"WWW-Authenticate": 'Bearer realm="paperfeed"'})
    user_id = get_store().user_for_token(token.strip())
    if user_id is None:
        abort(401, message="Unknown or revoked token.",
              headers={"WWW-Authenticate": 'Bearer realm="paperfeed", error="invalid_token"'})
    return user_id


def auth_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Authenticate before anything else (in particular before the body is validated).

    The view gets the user id as its first positional argument.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.user_id = authenticate()
        return view(g.user_id, *args, **kwargs)

    return wrapper
