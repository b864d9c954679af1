"""HTTP plumbing: OpenAPI and docs, CORS, security headers, content types, errors."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

from apispec import BasePlugin
from flask import Flask, Response, send_from_directory
from flask_smorest import Api
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import BaseConverter

from backend import api as api_package
from backend import home, ids, limits
from backend.errors import PROBLEM_MIME, register_error_handlers
from backend.schemas import ProblemSchema

OPENAPI_SETTINGS = {
    "API_TITLE": "paperfeed",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.1.0",
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    # Swagger UI 5 (reads OpenAPI 3.1) is served from the installed flask-swagger-ui package's
    # files, not a CDN; no validator badge, which would call validator.swagger.io.
    "OPENAPI_SWAGGER_UI_URL": "/docs/static/",
    "OPENAPI_SWAGGER_UI_CONFIG": {"validatorUrl": None},
    "API_SPEC_OPTIONS": {
        "info": {"description": "Personalised Hugging Face Daily Papers. Errors are "
                                "RFC 9457 application/problem+json."},
    },
}
SWAGGER_UI_FILES = str(resources.files("flask_swagger_ui") / "dist")
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
    """flask-smorest ``Api`` documenting problem+json errors (see :class:`ProblemResponses`)."""

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = "Problem"


class ProblemResponses(BasePlugin):
    """apispec plugin: the error responses flask-smorest registers (one per HTTP status) are
    documented as served, ``application/problem+json``, not ``application/json``."""

    def response_helper(self, response: dict, **kwargs: Any) -> dict:
        content = response.get("content") or {}
        body = content.get("application/json")
        # the marshmallow plugin, which runs first, has made the schema a reference
        if body is not None and body.get("schema") == {"$ref": "#/components/schemas/Problem"}:
            response["content"] = {PROBLEM_MIME: content.pop("application/json"), **content}
        return response


class ArxivIdConverter(BaseConverter):
    """URL converter ``<arxiv_id:name>``: a path segment (or two, for old-style ids) shaped
    like an arXiv id (:data:`backend.ids.SHAPE`); anything else does not match the route."""

    regex = ids.SHAPE
    part_isolating = False  # old-style ids contain a "/"


def init_app(app: Flask) -> None:
    """Register the API, docs, error handlers and response hooks."""
    api = ProblemApi(app, spec_kwargs={"extra_plugins": [ProblemResponses()]})
    # operations refer to their default error response by DEFAULT_ERROR_RESPONSE_NAME
    api.spec.components.response("Problem", {
        "description": "Error (RFC 9457 problem details)",
        "content": {PROBLEM_MIME: {"schema": ProblemSchema}}}, lazy=True)
    app.url_map.converters["arxiv_id"] = ArxivIdConverter
    api.register_converter(ArxivIdConverter, lambda _: {
        "type": "string", "pattern": ids.PATTERN, "maxLength": ids.MAX_LENGTH})
    api_package.register(api)
    register_error_handlers(app)
    limits.init_app(app)

    app.register_blueprint(home.blp)

    @app.get("/docs/static/<path:filename>")
    def swagger_static(filename: str) -> Response:
        return send_from_directory(SWAGGER_UI_FILES, filename, max_age=86400)

    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:  # behind deploy/nginx: the client address is the one the proxy saw
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
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
            add_response_headers(environ, headers, self.config, int(status[:3]))
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)


_SECURITY_HEADERS = [(name.lower(), name, value) for name, value in SECURITY_HEADERS.items()]
_CORS_PREFLIGHT = [("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS"),
                   ("Access-Control-Allow-Headers", "Authorization, Content-Type"),
                   ("Access-Control-Max-Age", "600")]
# The origins browsers give extensions: Chromium's 32 letters a-p, Firefox's per-install UUID.
_EXTENSION_ORIGIN = re.compile(
    r"chrome-extension://([a-p]{32})"
    r"|moz-extension://([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})",
    re.ASCII)


def cors_allows(origin: str, config: Any) -> bool:
    """Whether ``origin`` may read the API's responses: an extension origin of the right
    shape whose id is in ``CORS_EXTENSION_IDS`` (any id when that list is empty), or one of
    the exact origins of ``CORS_ORIGINS``."""
    if origin in (config.get("CORS_ORIGINS") or ()):
        return True
    match = _EXTENSION_ORIGIN.fullmatch(origin)
    if match is None:
        return False
    allowed = config.get("CORS_EXTENSION_IDS") or ()
    return not allowed or (match.group(1) or match.group(2)) in allowed


def add_response_headers(environ: dict, headers: list[tuple[str, str]], config: Any,
                         status: int = 200) -> None:
    """Add to ``headers`` (a WSGI header list of a ``status`` response) what every response
    carries: security headers, a Content-Security-Policy, Cache-Control (only a successful
    trending list may be cached publicly; errors never), ``Vary: Origin``, CORS headers for
    an allowed origin (see :func:`cors_allows`); a 204 or 304 loses its Content-Type."""
    present = {name.lower(): i for i, (name, _) in enumerate(headers)}
    if status in (204, 304) and "content-type" in present:
        del headers[present["content-type"]]
        present = {name.lower(): i for i, (name, _) in enumerate(headers)}
    headers += [(name, value) for lower, name, value in _SECURITY_HEADERS
                if lower not in present]
    path = environ.get("PATH_INFO", "")
    if "content-security-policy" not in present:
        is_docs = path == "/docs" or path.startswith("/docs/")
        headers.append(("Content-Security-Policy", DOCS_CSP if is_docs else API_CSP))
    if "cache-control" not in present and (status >= 400 or path.startswith("/v1/")):
        headers.append(("Cache-Control", "public, max-age=5"
                        if status == 200 and path.startswith("/v1/trending") else "no-store"))
    vary_at = present.get("vary")
    if vary_at is None:
        headers.append(("Vary", "Origin"))
    else:
        name, value = headers[vary_at]
        varies = {item.strip().lower() for item in value.split(",")}
        if not varies & {"origin", "*"}:
            headers[vary_at] = (name, f"{value}, Origin" if value.strip() else "Origin")
    origin = environ.get("HTTP_ORIGIN")
    if origin and cors_allows(origin, config):
        headers.append(("Access-Control-Allow-Origin", origin))
        if environ.get("REQUEST_METHOD") == "OPTIONS":
            headers += _CORS_PREFLIGHT
