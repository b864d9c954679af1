"""HTTP plumbing: OpenAPI and docs, CORS, security headers, content types, errors."""

from __future__ import annotations

import http
from fnmatch import fnmatchcase

import swagger_ui_bundle
from flask import Flask, Response, request, send_from_directory
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

    @app.after_request
    def _headers(response: Response) -> Response:
        # One pass over the few headers present: werkzeug's Headers.setdefault scans the list
        # and raises (and catches) a KeyError per missing name, which was a tenth of the
        # CPU of a one-event POST.
        headers = response.headers
        present = {name.lower() for name, _ in headers}
        added = [(name, value) for name, value in SECURITY_HEADERS.items()
                 if name.lower() not in present]
        path = request.path
        if "content-security-policy" not in present:
            is_docs = path == "/docs" or path.startswith("/docs/")
            added.append(("Content-Security-Policy", DOCS_CSP if is_docs else API_CSP))
        if path.startswith("/v1/") and "cache-control" not in present:
            added.append(("Cache-Control", "public, max-age=5"
                          if path.startswith("/v1/trending") else "no-store"))
        if "vary" in present:
            response.vary.add("Origin")
        else:
            added.append(("Vary", "Origin"))
        headers.extend(added)
        _cors(app, response)
        return response


def _cors(app: Flask, response: Response) -> None:
    origin = request.environ.get("HTTP_ORIGIN")  # no KeyError raised and caught when absent
    if not origin or not any(fnmatchcase(origin, p) for p in app.config["CORS_ORIGINS"]):
        return
    response.headers["Access-Control-Allow-Origin"] = origin
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, DELETE, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        response.headers["Access-Control-Max-Age"] = "600"
