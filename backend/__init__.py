"""paperfeed's web service: a Flask app factory.

``create_app()`` reads defaults, then ``PAPERFEED_*`` environment variables, then
``test_config``. Nothing happens at import time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the paperfeed Flask application (Flask and the API load on the first call, so
    the command line starts without them)."""
    from flask import Flask

    from backend import extensions, web
    from backend.config import load_config

    app = Flask(__name__)
    app.config.from_mapping(load_config(test_config))
    app.config.update(web.OPENAPI_SETTINGS)
    extensions.init_app(app)
    web.init_app(app)
    return app
