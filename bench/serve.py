"""Serve a WSGI app exactly as ``paperfeed serve`` serves paperfeed (backend.server), for
the ingest benchmark: ``python bench/serve.py APP_SPEC PORT WORKERS THREADS``."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.server import GunicornServer, gunicorn_options  # noqa: E402


def main(argv: list[str]) -> None:
    app_spec, port, workers, threads = argv
    options = gunicorn_options("127.0.0.1", int(port), int(workers), int(threads))
    GunicornServer(options, app_spec).run()


if __name__ == "__main__":
    main(sys.argv[1:])
