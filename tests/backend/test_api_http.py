"""HTTP plumbing: health, readiness, CORS, limits, content types, OpenAPI and docs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from tests.redis_server import free_port

PROBLEM = "application/problem+json"
V1_PATHS = {"/v1/users", "/v1/events", "/v1/saved", "/v1/trending", "/v1/recommendations",
            "/v1/papers/{paper_id}", "/v1/me/export", "/v1/me"}


def event() -> dict:
    return {"id": str(uuid.uuid4()), "type": "open", "paper_id": "2412.01824",
            "ts": datetime.now(UTC).isoformat()}


@pytest.fixture
def down_client(tmp_path):
    """A client of an app whose Redis URL points at a closed port."""
    from backend import create_app

    app = create_app({"TESTING": True, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
                      "DATA_DIR": str(tmp_path), "RATELIMIT_ENABLED": False})
    return app.test_client()


# --- health -----------------------------------------------------------------------------


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["status"] == "ok"


def test_readyz(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ready" and body["catalogue_size"] == 0


def test_readyz_is_503_problem_when_redis_is_unreachable(down_client):
    response = down_client.get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == 503 and {"type", "title", "detail"} <= set(body)


def test_healthz_stays_200_when_redis_is_unreachable(down_client):
    assert down_client.get("/healthz").status_code == 200


@pytest.mark.parametrize("method,path", [("GET", "/v1/trending"), ("POST", "/v1/users"),
                                         ("GET", "/v1/saved")])
def test_redis_down_is_a_503_problem_not_a_500(down_client, method, path):
    response = down_client.open(path, method=method,
                                headers={"Authorization": "Bearer " + "x" * 43})
    assert response.status_code == 503 and response.mimetype == PROBLEM
    assert response.headers.get("Retry-After")


# --- CORS -------------------------------------------------------------------------------


@pytest.mark.parametrize("origin", ["chrome-extension://abcdefghijklmnopabcdefghijklmnop",
                                    "moz-extension://0a1b2c3d-1111-2222-3333-444455556666"])
def test_extension_origins_are_allowed(client, make_user, origin):
    _, headers = make_user()
    response = client.get("/v1/saved", headers={**headers, "Origin": origin})
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert "Origin" in response.headers["Vary"]
    # errors are readable by the extension too
    response = client.get("/v1/saved", headers={"Origin": origin})
    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == origin


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://localhost:5000",
                                    "https://huggingface.co", "chrome-extension:/x"])
def test_other_origins_get_no_cors_headers(client, origin):
    response = client.get("/v1/trending", headers={"Origin": origin})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = client.options("/v1/events", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in preflight.headers


@pytest.mark.parametrize("path,method", [("/v1/events", "POST"), ("/v1/me", "DELETE"),
                                         ("/v1/saved", "GET")])
def test_preflight_works(client, path, method):
    origin = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"
    response = client.options(path, headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert response.status_code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert method in response.headers["Access-Control-Allow-Methods"]
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed


def test_preflight_needs_no_token(client, redis_client):
    response = client.options("/v1/events", headers={
        "Origin": "chrome-extension://abcdefghijklmnopabcdefghijklmnop", "Access-Control-Request-Method": "POST"})
    assert response.status_code in (200, 204)
    assert redis_client.dbsize() == 0


# --- security headers, errors -----------------------------------------------------------


def test_security_headers(client):
    response = client.get("/v1/trending")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_user_data_is_not_cacheable(client, make_user):
    _, headers = make_user()
    assert client.get("/v1/saved", headers=headers).headers["Cache-Control"] == "no-store"


def test_unknown_route_is_404_problem(client):
    response = client.get("/v1/nope")
    assert response.status_code == 404 and response.mimetype == PROBLEM


def test_wrong_method_is_405_problem(client):
    response = client.put("/v1/trending")
    assert response.status_code == 405 and response.mimetype == PROBLEM
    assert "GET" in response.headers["Allow"]


def test_body_over_256_kib_is_413_problem(client, make_user):
    _, headers = make_user()
    response = client.post("/v1/events", data=b"[" + b" " * (256 * 1024 + 1) + b"]",
                           content_type="application/json", headers=headers)
    assert response.status_code == 413 and response.mimetype == PROBLEM


def test_body_just_under_the_limit_is_parsed(client, make_user):
    _, headers = make_user()
    body = b'{"events": []}' + b" " * (255 * 1024)
    response = client.post("/v1/events", data=body, content_type="application/json",
                           headers=headers)
    assert response.status_code == 422  # parsed and validated, not refused for size


def test_json_with_charset_is_accepted(client, make_user):
    _, headers = make_user()
    import json

    response = client.post("/v1/events", data=json.dumps({"events": [event()]}),
                           content_type="application/json; charset=utf-8", headers=headers)
    assert response.status_code == 202


def test_deeply_nested_json_is_a_4xx_problem(client, make_user):
    _, headers = make_user()
    body = "[" * 100_000 + "]" * 100_000
    response = client.post("/v1/events", data=body, content_type="application/json",
                           headers=headers)
    assert 400 <= response.status_code < 500 and response.mimetype == PROBLEM


# --- OpenAPI and docs -------------------------------------------------------------------


def test_openapi_document(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    assert V1_PATHS <= set(spec["paths"])
    assert {"/healthz", "/readyz"} <= set(spec["paths"])
    events = spec["paths"]["/v1/events"]["post"]
    assert "202" in events["responses"] and "422" in events["responses"]
    body = events["requestBody"]
    assert body["required"] is True
    assert body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/EventBatch"}
    assert events.get("security") == [{"bearerAuth": []}]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_openapi_document_validates(client):
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(client.get("/openapi.json").get_json())


def test_errors_are_documented_as_served(client):
    spec = client.get("/openapi.json").get_json()
    responses = spec["components"]["responses"]
    for name in ("Problem", "UNPROCESSABLE_ENTITY"):
        assert set(responses[name]["content"]) == {"application/problem+json"}, name
    for path in ("/v1/events", "/v1/users"):
        assert spec["paths"][path]["post"]["responses"]["default"] == {
            "$ref": "#/components/responses/Problem"}


def test_docs_page(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert b"swagger" in response.data.lower()


def test_docs_assets_are_served_locally(client):
    page = client.get("/docs").get_data(as_text=True)
    assert "/docs/static/" in page
    assert client.get("/docs/static/swagger-ui-bundle.js").status_code == 200


def test_body_cache_serialises_each_list_object_once(app):
    from backend.api.common import BodyCache
    from backend.schemas import TrendingSchema

    cache, schema = BodyCache(max_entries=2), TrendingSchema()
    first = [{"paper_id": "2412.00001", "title": "A", "score": 1.0}]
    with app.app_context():
        body = cache.response("k", first, lambda: {"items": first}, schema).get_json()
        assert body["items"][0]["title"] == "A"
        first[0]["title"] = "changed in place"  # same object: the cached body is reused
        assert cache.response("k", first, lambda: {"items": first}, schema).get_json() == body
        second = [dict(first[0])]  # a new list (the service's cache moved on): dumped anew
        again = cache.response("k", second, lambda: {"items": second}, schema).get_json()
        assert again["items"][0]["title"] == "changed in place"
        for key in ("a", "b"):
            cache.response(key, second, lambda: {"items": second}, schema)
        assert "k" not in cache._bodies  # bounded: the least recently used entry went


def test_gunicorn_workers_freeze_what_they_built_at_start(redis_url, tmp_path, monkeypatch):
    """The app and its imports are moved out of the garbage collector's full passes."""
    import gc

    from backend.server import GunicornServer, gunicorn_options

    monkeypatch.setenv("PAPERFEED_REDIS_URL", redis_url)
    monkeypatch.setenv("PAPERFEED_DATA_DIR", str(tmp_path))
    gc.unfreeze()
    try:
        app = GunicornServer(gunicorn_options("127.0.0.1", 0, 1, 1)).load()
        assert app.name == "backend"
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


def test_response_headers_keep_what_a_view_set_and_merge_vary():
    from backend.web import add_response_headers

    headers = [("Content-Type", "text/html"), ("Content-Security-Policy", "default-src 'self'"),
               ("Cache-Control", "max-age=60"), ("Vary", "Accept-Encoding")]
    add_response_headers({"PATH_INFO": "/v1/trending", "REQUEST_METHOD": "GET",
                          "HTTP_ORIGIN": "moz-extension://0a1b2c3d-1111-2222-3333-444455556666"}, headers, {})
    names = [name.lower() for name, _ in headers]
    assert len(names) == len(set(names))  # nothing doubled
    as_dict = dict(headers)
    assert as_dict["Content-Security-Policy"] == "default-src 'self'"
    assert as_dict["Cache-Control"] == "max-age=60"
    assert as_dict["Vary"] == "Accept-Encoding, Origin"
    assert as_dict["X-Frame-Options"] == "DENY"
    assert as_dict["Access-Control-Allow-Origin"] == "moz-extension://0a1b2c3d-1111-2222-3333-444455556666"
    assert "Access-Control-Allow-Methods" not in as_dict  # preflights only
    vary_star = [("Vary", "*")]
    add_response_headers({"PATH_INFO": "/healthz"}, vary_star, {})
    assert dict(vary_star)["Vary"] == "*" and "Cache-Control" not in dict(vary_star)
