"""HTTP plumbing: OpenAPI and docs, CORS, security headers, content types, errors."""

from __future__ import annotations

import http
from fnmatch import fnmatchcase
from typing import Any

import swagger_ui_bundle
from flask import Flask, Response, send_from_directory
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from backend import api as api_package
from backend import limits
from backend.errors import PROBLEM_MIME, register_error_handlers
from backend.schemas import ProblemSchema

OPENAPI_SETTINGS = {
    "API_TITLE": "paperfeed",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.1.0",
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    # Swagger UI is served from the installed swagger-ui-bundle package, not a CDN.
    "OPENAPI_SWAGGER_UI_URL": "/docs/static/",
    "API_SPEC_OPTIONS": {
        "info": {"description": "Personalised Hugging Face Daily Papers. Errors are "
                                "RFC 9457 application/problem+json."},
    },
}
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-site",
}
API_CSP = "default-src 'none'; frame-ancestors 'none'"
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'")


class ProblemApi(Api):
    """flask-smorest ``Api`` documenting problem+json errors."""

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = "Problem"

    def _register_responses(self) -> None:
        # flask-smorest registers the error responses as application/json and the default
        # one as "DEFAULT_ERROR" whatever DEFAULT_ERROR_RESPONSE_NAME says: register them as
        # served, application/problem+json, and under the name the operations refer to.
        for status in http.HTTPStatus:
            response: dict = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_MIME)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Error (RFC 9457 problem details)",
                    "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_MIME)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)


def init_app(app: Flask) -> None:
    """Register the API, docs, error handlers and response hooks."""
    api = ProblemApi(app)
    api_package.register(api)
    register_error_handlers(app)
    limits.init_app(app)

    @app.get("/docs/static/<path:filename>")
    def swagger_static(filename: str) -> Response:
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename,
                                   max_age=86400)

    app.wsgi_app = ResponseHeaders(app.wsgi_app, app.config)  # type: ignore[method-assign]


class ResponseHeaders:
    """WSGI middleware that adds the security, caching and CORS headers to every response.

    It works on the plain header list handed to ``start_response``: the same logic as an
    ``after_request`` hook on werkzeug's ``Headers`` took ~50 Python calls per request
    (validation of each header added, Flask's hook dispatch, context-local lookups).
    Headers a view set itself are kept.
    """

    def __init__(self, wsgi_app: Any, config: Any):
        self.wsgi_app = wsgi_app
        self.config = config

    def __call__(self, environ: dict, start_response: Any) -> Any:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            add_response_headers(environ, headers, self.config["CORS_ORIGINS"])
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)


_SECURITY_HEADERS = [(name.lower(), name, value) for name, value in SECURITY_HEADERS.items()]
_CORS_PREFLIGHT = [("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS"),
                   ("Access-Control-Allow-Headers", "Authorization, Content-Type"),
                   ("Access-Control-Max-Age", "600")]


def add_response_headers(environ: dict, headers: list[tuple[str, str]],
                         cors_origins: list[str]) -> None:
    """Add to ``headers`` (a WSGI header list) what every response carries: security
    headers, a Content-Security-Policy, Cache-Control for the API, ``Vary: Origin``, and
    CORS headers for an allowed origin (``cors_origins``: shell-style patterns)."""
    present = {name.lower(): i for i, (name, _) in enumerate(headers)}
    headers += [(name, value) for lower, name, value in _SECURITY_HEADERS
                if lower not in present]
    path = environ.get("PATH_INFO", "")
    if "content-security-policy" not in present:
        is_docs = path == "/docs" or path.startswith("/docs/")
        headers.append(("Content-Security-Policy", DOCS_CSP if is_docs else API_CSP))
    if path.startswith("/v1/") and "cache-control" not in present:
        headers.append(("Cache-Control", "public, max-age=5"
                        if path.startswith("/v1/trending") else "no-store"))
    vary_at = present.get("vary")
    if vary_at is None:
        headers.append(("Vary", "Origin"))
    else:
        name, value = headers[vary_at]
        varies = {item.strip().lower() for item in value.split(",")}
        if not varies & {"origin", "*"}:
            headers[vary_at] = (name, f"{value}, Origin" if value.strip() else "Origin")
    origin = environ.get("HTTP_ORIGIN")
    if origin and any(fnmatchcase(origin, pattern) for pattern in cors_origins):
        headers.append(("Access-Control-Allow-Origin", origin))
        if environ.get("REQUEST_METHOD") == "OPTIONS":
            headers += _CORS_PREFLIGHT
