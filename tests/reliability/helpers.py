"""Small helpers shared by the reliability tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import redis


def event(kind: str = "open", paper_id: str = "2412.01824", *, title: str | None = None,
          ago: timedelta = timedelta(minutes=1), event_id: str | None = None) -> dict[str, Any]:
    """A valid event for POST /v1/events."""
    body: dict[str, Any] = {
        "id": event_id or str(uuid.uuid4()), "type": kind, "paper_id": paper_id,
        "ts": (datetime.now(UTC) - ago).isoformat(), "source": "list",
    }
    if title is not None:
        body["paper"] = {"title": title}
    return body


def dump_everything(client: redis.Redis) -> dict[str, Any]:
    """Every key of the database with its full value, whatever its type."""
    out: dict[str, Any] = {}
    for key in client.scan_iter("*", count=1000):
        kind = client.type(key)
        if kind == "string":
            out[key] = client.get(key)
        elif kind == "hash":
            out[key] = client.hgetall(key)
        elif kind == "set":
            out[key] = sorted(client.smembers(key))
        elif kind == "zset":
            out[key] = client.zrange(key, 0, -1, withscores=True)
        elif kind == "list":
            out[key] = client.lrange(key, 0, -1)
        elif kind == "stream":
            out[key] = client.xrange(key)
        else:
            out[key] = f"<{kind}>"
    return out


def occurrences(dump: dict[str, Any], needle: str) -> list[str]:
    """Keys whose name or value mentions ``needle``."""
    return [key for key, value in dump.items() if needle in key or needle in repr(value)]
