"""Run the app under gunicorn (gthread workers): the production server."""

from __future__ import annotations

import gc
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.util import import_app


class GunicornServer(BaseApplication):
    """gunicorn configured from code; each worker builds its own app (no preload).

    ``app_spec`` is gunicorn's ``module:callable()`` form of the WSGI app to serve
    (paperfeed's by default; the ingest benchmark serves its baseline the same way).
    """

    def __init__(self, options: dict[str, Any], app_spec: str = "backend:create_app()"):
        self.options = options
        self.app_spec = app_spec
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)

    def load(self):
        app = import_app(self.app_spec)
        # Everything built so far (modules, the app, the recommender's imports: ~120,000
        # objects) lives as long as the worker: keep it out of the collector's full passes,
        # each of which otherwise scans it all (~50 ms, a pause in the middle of requests).
        gc.freeze()
        return app


def gunicorn_options(host: str, port: int, workers: int, threads: int) -> dict[str, Any]:
    """The gunicorn settings paperfeed runs with."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": 60,
        "graceful_timeout": 20,
        "keepalive": 5,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "paperfeed",
        # gunicorn's largest limits: the front proxy's (deploy/nginx) are smaller, so an
        # oversized request is refused there with a problem+json, never by gunicorn's own
        # text/html error pages
        "limit_request_line": 8190,
        "limit_request_fields": 32768,
        "limit_request_field_size": 8190,
    }
