"""The scheduler's hourly import of the newest Daily Papers days, against a local fake API."""

from __future__ import annotations

import json
import socket
from datetime import date
from pathlib import Path

import pytest

from backend.config import load_config
from backend.daily import days_to_import, import_newest_days
from backend.store import Store
from tests.fake_hf_api import running_fake_api

RAW = Path(__file__).resolve().parents[1] / "fixtures" / "hf" / "raw"
DAY = "2026-08-21"


@pytest.fixture
def store(redis_client, redis_url):
    return Store(redis_client, load_config({"REDIS_URL": redis_url}))


@pytest.fixture
def api():
    with running_fake_api() as fake:
        fake.days[DAY] = (200, (RAW / f"{DAY}.json").read_bytes())
        yield fake


def test_days_to_import():
    today = date(2026, 8, 22)
    assert days_to_import(None, today) == ["2026-08-20", "2026-08-21", "2026-08-22"]
    assert days_to_import(date(2026, 8, 22), today) == ["2026-08-20", "2026-08-21", "2026-08-22"]
    assert days_to_import(date(2026, 8, 17), today) == [
        "2026-08-18", "2026-08-19", "2026-08-20", "2026-08-21", "2026-08-22"]
    assert days_to_import(date(2026, 1, 1), today)[0] == "2026-08-16"  # 7 days at most


def test_the_newest_days_are_imported(store, api):
    outcome = import_newest_days(store, api.url, date(2026, 8, 22))
    assert api.requested == ["2026-08-20", "2026-08-21", "2026-08-22"]
    entries = json.loads((RAW / f"{DAY}.json").read_text())
    assert outcome.days == [DAY] and outcome.created == len(entries) and not outcome.failures
    assert store.newest_daily_date() == date(2026, 8, 21)
    first = entries[0]["paper"]
    assert store.paper(first["id"])["upvotes"] == first["upvotes"]

    # an hour later the upvotes have grown: the same days again update, never duplicate
    first["upvotes"] += 40
    api.days[DAY] = (200, json.dumps(entries).encode())
    again = import_newest_days(store, api.url, date(2026, 8, 22))
    assert (again.created, again.updated) == (0, len(entries))
    assert store.paper(first["id"])["upvotes"] == first["upvotes"]
    assert store.catalogue_size() == len(entries)


def test_a_failing_day_is_reported_and_the_others_imported(store, api, caplog):
    api.days["2026-08-20"] = (503, b"busy")
    api.days["2026-08-22"] = (200, b'{"error": "Invalid date"}')
    outcome = import_newest_days(store, api.url, date(2026, 8, 22))
    assert outcome.days == [DAY]
    assert [failure[:10] for failure in outcome.failures] == ["2026-08-20", "2026-08-22"]
    assert "HTTP 503" in outcome.failures[0] and "retried next run" in outcome.summary()
    assert "not imported" in caplog.text


def test_an_unreachable_api_changes_nothing_and_raises_nothing(store):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/api/daily_papers"
    outcome = import_newest_days(store, url, date(2026, 8, 22), timeout=2)
    assert len(outcome.failures) == 3 and outcome.created == 0
    assert store.catalogue_size() == 0 and store.newest_daily_date() is None


def test_readyz_reports_the_newest_daily_day(client, store, api):
    assert client.get("/readyz").get_json()["newest_daily_date"] is None
    import_newest_days(store, api.url, date(2026, 8, 22))
    body = client.get("/readyz").get_json()
    assert body["newest_daily_date"] == DAY and body["catalogue_size"] > 0
