"""Promise 1 (hand-written half): hostile inputs get a 4xx problem, never a 5xx.

Plus: HTML/script in titles is stored inert and returned verbatim as a JSON string.
"""

from __future__ import annotations

import json

import pytest

from tests.reliability.conftest import assert_problem
from tests.reliability.helpers import event

JSON = "application/json"


def deep(n: int) -> bytes:
    return b'{"events": ' + b"[" * n + b"]" * n + b"}"


def with_event(**changes) -> bytes:
    e = event()
    e.update(changes)
    return json.dumps({"events": [e]}).encode()


# (name, method, path, body bytes or None, content type, expected 4xx)
HOSTILE = [
    ("huge body (> MAX_CONTENT_LENGTH)", "POST", "/v1/events",
     b'{"events": [' + b'"x",' * 200_000 + b'"x"]}', JSON, 413),
    ("deeply nested JSON", "POST", "/v1/events", deep(100_000), JSON, 400),
    ("moderately nested JSON", "POST", "/v1/events", deep(500), JSON, 422),
    ("text/plain body", "POST", "/v1/events", b'{"events": []}', "text/plain", 415),
    ("form body", "POST", "/v1/events", b"events=1", "application/x-www-form-urlencoded", 415),
    ("no content type", "POST", "/v1/events", b'{"events": []}', None, 415),
    ("invalid UTF-8", "POST", "/v1/events", b'{"events": ["\xff\xfe\xc3\x28"]}', JSON, 400),
    ("truncated JSON", "POST", "/v1/events", b'{"events": [', JSON, 400),
    ("NaN timestamp", "POST", "/v1/events",
     with_event().replace(b'"ts": "', b'"ts": NaN, "x": "'), JSON, 422),
    ("Infinity as event id", "POST", "/v1/events", b'{"events": [{"id": Infinity}]}', JSON, 422),
    ("top-level array", "POST", "/v1/events", b"[1, 2]", JSON, 422),
    ("top-level null", "POST", "/v1/events", b"null", JSON, 422),
    ("top-level string", "POST", "/v1/events", b'"events"', JSON, 422),
    ("empty batch", "POST", "/v1/events", b'{"events": []}', JSON, 422),
    ("101 events", "POST", "/v1/events",
     json.dumps({"events": [event() for _ in range(101)]}).encode(), JSON, 422),
    ("unknown field", "POST", "/v1/events", with_event(user_id="someone-else"), JSON, 422),
    ("paper id with colon", "POST", "/v1/events", with_event(paper_id="2412.01824:x"), JSON, 422),
    ("paper id with star", "POST", "/v1/events", with_event(paper_id="*"), JSON, 422),
    ("paper id with hash tag", "POST", "/v1/events", with_event(paper_id="{abc}"), JSON, 422),
    ("paper id with newline", "POST", "/v1/events",
     with_event(paper_id="2412.01824\nFLUSHALL"), JSON, 422),
    ("paper id 10k chars", "POST", "/v1/events", with_event(paper_id="1" * 10_000), JSON, 422),
    ("event id with colon", "POST", "/v1/events", with_event(id="a:b"), JSON, 422),
    ("event id with newline", "POST", "/v1/events", with_event(id="x\r\nSET a b"), JSON, 422),
    ("10k-char title", "POST", "/v1/events",
     json.dumps({"events": [event(title="T" * 10_000)]}).encode(), JSON, 422),
    ("title is an object", "POST", "/v1/events",
     with_event(paper={"title": {"$gt": ""}}), JSON, 422),
    ("timestamp without zone", "POST", "/v1/events", with_event(ts="2025-01-01T00:00:00"),
     JSON, 422),
    ("timestamp in year 9999", "POST", "/v1/events", with_event(ts="9999-12-31T23:59:59+00:00"),
     JSON, 422),
    ("unknown event type", "POST", "/v1/events", with_event(type="delete_all"), JSON, 422),
    ("negative limit", "GET", "/v1/trending?limit=-1", None, None, 422),
    ("zero limit", "GET", "/v1/trending?limit=0", None, None, 422),
    ("huge limit", "GET", "/v1/trending?limit=" + "9" * 400, None, None, 422),
    ("float limit", "GET", "/v1/trending?limit=1e9", None, None, 422),
    ("NaN days", "GET", "/v1/trending?days=NaN", None, None, 422),
    ("huge days", "GET", "/v1/trending?days=100000000", None, None, 422),
    ("negative recommendation limit", "GET", "/v1/recommendations?limit=-5", None, None, 422),
    ("paper id with star (path)", "GET", "/v1/papers/*", None, None, 404),
    ("paper id with colon (path)", "GET", "/v1/papers/2412.01824:meta", None, None, 404),
    ("paper id with braces (path)", "GET", "/v1/papers/%7Bx%7D", None, None, 404),
    ("paper id with newline (path)", "GET", "/v1/papers/2412.01824%0A", None, None, 404),
    ("paper id 10k chars (path)", "GET", "/v1/papers/" + "9" * 10_000, None, None, 404),
    ("unknown route", "GET", "/v1/../../etc/passwd", None, None, 404),
    ("wrong method", "PUT", "/v1/events", None, None, 405),
]


@pytest.mark.parametrize(("name", "method", "path", "body", "content_type", "status"), HOSTILE,
                         ids=[row[0] for row in HOSTILE])
def test_hostile_input_gets_a_4xx_problem(client, make_user, name, method, path, body,
                                          content_type, status):
    _, headers = make_user()
    if content_type:
        headers["Content-Type"] = content_type
    response = client.open(path, method=method, data=body, headers=headers)
    assert_problem(response, status)


@pytest.mark.parametrize("header", [
    "Bearer " + "A" * 10_000, "Bearer \x00", "Bearer a b c", "Basic dXNlcjpwYXNz", "Bearer",
    "bearer ", "Bearer {uid}:*", "Bearer ../../", "Token abc",
])
def test_hostile_authorization_header_is_401(client, header):
    response = client.get("/v1/saved", headers={"Authorization": header})
    assert_problem(response, 401)


SCRIPT_TITLE = '<script>alert("x")</script><img src=x onerror=alert(1)> & "quotes" \u2603'


def test_html_in_titles_is_stored_inert_and_returned_verbatim(client, make_user):
    _, headers = make_user()
    response = client.post("/v1/events", headers=headers,
                           json={"events": [event("save", "2412.09999", title=SCRIPT_TITLE)]})
    assert response.status_code == 202
    # the paper is known from the event only: the title is the user's own
    assert client.get("/v1/papers/2412.09999").status_code == 404
    assert client.get("/v1/trending").get_json()["items"] == []
    for path in ("/v1/saved", "/v1/me/export"):
        response = client.get(path, headers=headers)
        assert response.status_code == 200
        assert response.mimetype == "application/json"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
        body = response.get_json()
        items = body.get("items", body.get("saved"))
        assert any(item.get("title") == SCRIPT_TITLE for item in items), path
        json.loads(response.get_data())  # valid JSON, nothing else
