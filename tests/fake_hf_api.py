"""A local stand-in for the Daily Papers API (``/api/daily_papers?date=YYYY-MM-DD``), so that
imports are tested without the internet."""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class FakeDailyPapersApi:
    """Answers ``days[date]`` (status, body) for a requested date, else 200 ``[]``."""

    url: str = ""
    days: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    requested: list[str] = field(default_factory=list)


@contextmanager
def running_fake_api() -> Iterator[FakeDailyPapersApi]:
    """Serve a :class:`FakeDailyPapersApi` on a free loopback port while the block runs."""
    api = FakeDailyPapersApi()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
            day = query.get("date", [""])[0]
            api.requested.append(day)
            status, body = api.days.get(day, (200, b"[]"))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    api.url = f"http://127.0.0.1:{server.server_address[1]}/api/daily_papers"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
