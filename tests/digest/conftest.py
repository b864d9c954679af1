"""Fixtures of the digest tests: a real SMTP server on loopback, the app sending to it, a
catalogue of two Daily Papers days, and subscribing through the HTTP API."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from backend.extensions import get_store
from tests.digest.smtp import smtp_server

PUBLIC_URL = "https://paperfeed.example"
TODAY = datetime.now(UTC).date()
NEWEST = TODAY - timedelta(days=1)  # the newest Daily Papers day in the catalogue
EARLIER = NEWEST - timedelta(days=3)
RETRY_DELAYS = [10, 60]  # seconds


def paper(number: int, day: date, upvotes: int) -> dict[str, Any]:
    """A catalogue record (as the importer makes them); ids 2412.100NN."""
    return {
        "paper_id": f"2412.{10000 + number}",
        "title": f"Digest paper {number:02d}: on the reading of many papers",
        "abstract": f"We study question {number} of reading papers. The method ranks papers well. "
                    "A third sentence that the digest leaves out.",
        "authors": [f"Author {number}A", f"Author {number}B", f"Author {number}C",
                    f"Author {number}D"],
        "daily_date": day.isoformat(), "upvotes": upvotes,
    }


NEWEST_PAPERS = [paper(n, NEWEST, upvotes=100 - n) for n in range(1, 17)]
EARLIER_PAPERS = [paper(n, EARLIER, upvotes=500 + n) for n in range(50, 55)]


@pytest.fixture
def smtp():
    """``(handler, url)`` of a running SMTP server on loopback."""
    with smtp_server() as running:
        yield running


@pytest.fixture
def app(redis_url, redis_client, tmp_path, smtp):
    from backend import create_app

    return create_app({"TESTING": True, "REDIS_URL": redis_url, "DATA_DIR": str(tmp_path),
                       "RATELIMIT_ENABLED": False, "TRENDING_CACHE_SECONDS": 0,
                       "RECOMMENDATIONS_CACHE_SECONDS": 0, "SMTP_URL": smtp[1],
                       "PUBLIC_URL": PUBLIC_URL, "DIGEST_RETRY_DELAYS": RETRY_DELAYS})


@pytest.fixture
def catalogue(app):
    with app.app_context():
        get_store().upsert_papers(NEWEST_PAPERS + EARLIER_PAPERS)
    return NEWEST_PAPERS + EARLIER_PAPERS


def event(kind: str, paper_id: str) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "type": kind, "paper_id": paper_id,
            "ts": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(), "source": "list"}


def local_path(url: str) -> str:
    """The path and query of one of the service's absolute links (for the test client)."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == PUBLIC_URL
    return f"{parts.path}?{parts.query}"


def link_in(message, path: str) -> str:
    """The link to ``path`` in the plain-text part of ``message``."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    return next(word for word in text.split() if word.startswith(PUBLIC_URL + path))


@pytest.fixture
def subscribe(client, smtp):
    """Subscribe through the API and follow the confirmation link; returns the address."""

    def run(headers: dict[str, str], email: str, **fields: Any) -> str:
        body = {"email": email, "frequency": "daily", "hour_utc": 0, **fields}
        response = client.put("/v1/me/subscription", json=body, headers=headers)
        assert response.status_code == 202, response.get_json()
        confirmation = smtp[0].to(email)[-1]
        page = client.get(local_path(link_in(confirmation, "/v1/subscription/confirm")))
        assert page.status_code == 200, page.get_data(as_text=True)
        return email

    return run
