"""Promise 2: nobody gets in where they don't belong.

Tokens, the authentication matrix of every authenticated route, data isolation between
users, CORS, security headers and rate limits.
"""

from __future__ import annotations

import base64
import inspect
import time

import pytest

from backend.store import Store, hash_token
from tests.reliability.conftest import assert_problem
from tests.reliability.helpers import dump_everything, event, occurrences

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-site",
}


def authenticated_routes(client) -> list[tuple[str, str]]:
    """(method, path) of every operation the OpenAPI document marks as needing a token."""
    spec = client.get("/openapi.json").get_json()
    routes = [(method.upper(), path) for path, item in spec["paths"].items()
              for method, operation in item.items()
              if isinstance(operation, dict) and operation.get("security")]
    assert len(routes) >= 5
    return routes


def call(client, method: str, path: str, headers: dict[str, str]):
    body = {"events": [event()]} if method == "POST" else None
    return client.open(path, method=method, json=body, headers=headers)


# -- tokens ----------------------------------------------------------------------------

def test_tokens_carry_at_least_128_random_bits_and_are_stored_only_as_hashes(
        client, redis_client):
    tokens = [client.post("/v1/users").get_json()["token"] for _ in range(20)]
    assert len(set(tokens)) == len(tokens)
    for token in tokens:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        assert len(raw) * 8 >= 128
    dump = dump_everything(redis_client)
    for token in tokens:
        assert occurrences(dump, token) == []
        assert occurrences(dump, hash_token(token)), "the token's hash is what is stored"


def test_token_comparison_is_constant_time():
    from backend.store import _token_owner

    assert "hmac.compare_digest" in inspect.getsource(_token_owner)
    # The lookup is by hash, so a guessed token never reaches a byte-wise comparison of the
    # secret itself; the stored hash is then compared in constant time. (The event script
    # compares hashes only of tokens found this way before, remembered by the process.)
    for method in (Store.user_for_token, Store.apply_events_of_token):
        source = inspect.getsource(method)
        assert "hash_token(token)" in source and "_token_owner(" in source


# -- the authentication matrix ---------------------------------------------------------

BAD_HEADERS = {
    "no token": {},
    "empty bearer": {"Authorization": "Bearer "},
    "wrong scheme": {"Authorization": "Basic dXNlcjpwYXNz"},
    "malformed token": {"Authorization": "Bearer not-a-real-token"},
    "token of the right shape": {"Authorization": "Bearer " + "A" * 43},
}


@pytest.mark.parametrize("variant", list(BAD_HEADERS))
def test_every_authenticated_route_rejects_bad_tokens(client, variant):
    for method, path in authenticated_routes(client):
        response = call(client, method, path, BAD_HEADERS[variant])
        body = assert_problem(response, 401)
        assert "WWW-Authenticate" in response.headers, (method, path)
        assert body["title"] == "Unauthorized"


def test_every_authenticated_route_rejects_a_deleted_users_token(client, make_user):
    _, headers = make_user()
    assert client.delete("/v1/me", headers=headers).status_code == 204
    for method, path in authenticated_routes(client):
        assert_problem(call(client, method, path, headers), 401)


def test_no_route_returns_another_users_data(client, make_user):
    alice, alice_headers = make_user()
    bob, bob_headers = make_user()
    alice_events = [event("save", "2412.00001", title="Alice's secret"),
                    event("open", "2412.00002"), event("dismiss", "2412.00003")]
    assert client.post("/v1/events", headers=alice_headers,
                       json={"events": alice_events}).status_code == 202
    alice_ids = {e["id"] for e in alice_events}

    saved = client.get("/v1/saved", headers=bob_headers).get_json()
    assert saved["items"] == []
    export = client.get("/v1/me/export", headers=bob_headers).get_json()
    assert export["user_id"] == bob
    assert export["events"] == [] and export["saved"] == [] and export["dismissed"] == []
    assert alice not in str(export) and not alice_ids & set(str(export).split("'"))
    for method, path in authenticated_routes(client):
        if method == "DELETE":
            continue
        text = call(client, method, path, bob_headers).get_data(as_text=True)
        assert alice not in text
        assert not any(event_id in text for event_id in alice_ids)
    # Bob deleting himself leaves Alice intact.
    assert client.delete("/v1/me", headers=bob_headers).status_code == 204
    export = client.get("/v1/me/export", headers=alice_headers).get_json()
    assert {e["id"] for e in export["events"]} == alice_ids


def test_the_user_comes_from_the_token_never_from_the_request(client, make_user):
    alice, _ = make_user()
    _, bob_headers = make_user()
    batch = {"events": [event()], "user_id": alice}
    assert_problem(client.post("/v1/events", headers=bob_headers, json=batch), 422)
    response = client.get(f"/v1/me/export?user_id={alice}", headers=bob_headers)
    assert response.get_json()["user_id"] != alice


# -- CORS ------------------------------------------------------------------------------

CHROME_ORIGIN = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"
FIREFOX_ORIGIN = "moz-extension://0a1b2c3d-1111-2222-3333-444455556666"


@pytest.mark.parametrize("origin", [CHROME_ORIGIN, FIREFOX_ORIGIN])
def test_cors_allows_extension_origins(client, origin):
    response = client.options("/v1/events", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Authorization, Content-Type"})
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in response.headers


@pytest.mark.parametrize("origin", [
    "https://evil.example", "null", "http://127.0.0.1:5000", "https://huggingface.co",
    "chrome-extension:/x", "https://chrome-extension.evil.example",
    "chrome-extension://a/../b", "chrome-extension://", "moz-extension://",
    "chrome-extension://abcdefghijklmnopabcdefghijklmno",  # 31 letters
    "chrome-extension://abcdefghijklmnopabcdefghijklmnoq",  # q is not an id letter
    "chrome-extension://ABCDEFGHIJKLMNOPABCDEFGHIJKLMNOP",
    CHROME_ORIGIN + "/", CHROME_ORIGIN + ".evil.example", CHROME_ORIGIN + ":80",
    "moz-extension://0a1b2c3d-uuid", "moz-extension://0a1b2c3d-1111-2222-3333-44445555666",
    FIREFOX_ORIGIN + "/../x", "moz-extension://" + "0" * 36,
])
def test_cors_refuses_other_origins(client, make_user, origin):
    _, headers = make_user()
    for response in (
        client.options("/v1/events", headers={"Origin": origin,
                                               "Access-Control-Request-Method": "POST"}),
        client.get("/v1/saved", headers={**headers, "Origin": origin}),
        client.get("/v1/trending", headers={"Origin": origin}),
    ):
        assert "Access-Control-Allow-Origin" not in response.headers
        assert "Origin" in response.headers.get("Vary", "")


def test_cors_in_production_allows_only_the_listed_extension_ids(redis_url, redis_client,
                                                                  tmp_path):
    from backend import create_app

    listed = "ponmlkjihgfedcbaponmlkjihgfedcba"
    app = create_app({"TESTING": True, "REDIS_URL": redis_url, "DATA_DIR": str(tmp_path),
                      "CORS_EXTENSION_IDS": [listed, FIREFOX_ORIGIN.rpartition("/")[2]]})
    client = app.test_client()
    for origin, allowed in ((f"chrome-extension://{listed}", True), (FIREFOX_ORIGIN, True),
                            (CHROME_ORIGIN, False),
                            ("moz-extension://11111111-2222-3333-4444-555555555555", False)):
        response = client.get("/v1/trending", headers={"Origin": origin})
        assert (response.headers.get("Access-Control-Allow-Origin") == origin) is allowed, origin


def test_a_204_carries_no_content_type(client, make_user):
    _, headers = make_user()
    response = client.delete("/v1/me", headers=headers)
    assert response.status_code == 204
    assert "Content-Type" not in response.headers
    assert response.get_data() == b""


@pytest.mark.parametrize(("method", "path"), [
    ("PUT", "/v1/trending"), ("GET", "/v1/trending?limit=0"), ("GET", "/v1/trending?days=x"),
    ("POST", "/v1/trending"), ("GET", "/nope"), ("DELETE", "/healthz"),
])
def test_errors_are_never_publicly_cached(client, method, path):
    response = client.open(path, method=method)
    assert response.status_code >= 400
    assert response.headers["Cache-Control"] == "no-store", (path, response.status_code)


# -- security headers ------------------------------------------------------------------

def test_security_headers_on_every_kind_of_response(client, make_user):
    _, headers = make_user()
    responses = {
        "201": client.post("/v1/users"),
        "200": client.get("/v1/trending"),
        "202": client.post("/v1/events", headers=headers, json={"events": [event()]}),
        "401": client.get("/v1/saved"),
        "404": client.get("/nope"),
        "405": client.put("/v1/saved"),
        "415": client.post("/v1/events", headers=headers, data="x",
                           content_type="text/plain"),
        "422": client.get("/v1/trending?limit=0"),
        "openapi": client.get("/openapi.json"),
        "docs": client.get("/docs"),
        "healthz": client.get("/healthz"),
    }
    for name, response in responses.items():
        for header, value in SECURITY_HEADERS.items():
            assert response.headers.get(header) == value, (name, header)
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp, name
        if name != "docs":
            assert csp.startswith("default-src 'none'"), name
    assert responses["200"].headers["Cache-Control"].startswith("public")
    assert responses["401"].headers["Cache-Control"] == "no-store"


# -- rate limits -----------------------------------------------------------------------

def test_registration_is_rate_limited_per_ip(limited_app):
    client = limited_app.test_client()
    for _ in range(3):
        assert client.post("/v1/users").status_code == 201
    response = client.post("/v1/users")
    body = assert_problem(response, 429)
    assert 1 <= int(response.headers["Retry-After"]) <= 3601  # window end, rounded up
    assert "3 per 1 hour" in body["detail"]
    for header in ("X-Content-Type-Options", "Content-Security-Policy"):
        assert header in response.headers
    other_ip = client.post("/v1/users", environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert other_ip.status_code == 201


def test_event_posting_is_rate_limited_per_token_and_per_ip(limited_app):
    client = limited_app.test_client()
    tokens = [client.post("/v1/users").get_json()["token"] for _ in range(2)]
    first, second = ({"Authorization": f"Bearer {t}"} for t in tokens)
    for _ in range(5):
        assert client.post("/v1/events", headers=first,
                           json={"events": [event()]}).status_code == 202
    response = client.post("/v1/events", headers=first, json={"events": [event()]})
    assert_problem(response, 429)
    assert 1 <= int(response.headers["Retry-After"]) <= 61
    # Another token from the same IP is still served, until the per-IP limit (8; the
    # refused request above counted against the token only).
    for _ in range(3):
        assert client.post("/v1/events", headers=second,
                           json={"events": [event()]}).status_code == 202
    assert_problem(client.post("/v1/events", headers=second, json={"events": [event()]}), 429)
    # Reads are not limited.
    assert client.get("/v1/saved", headers=first).status_code == 200


def test_event_requests_that_fail_count_against_the_limits_too(limited_app):
    """Invalid bodies and unknown tokens never reach the batch script; they still count."""
    client = limited_app.test_client()
    token = client.post("/v1/users").get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    bad_event = {**event(), "type": "like"}
    for _ in range(5):
        assert client.post("/v1/events", headers=headers,
                           json={"events": [bad_event]}).status_code == 422
    response = client.post("/v1/events", headers=headers, json={"events": [event()]})
    assert "5 per 1 minute" in assert_problem(response, 429)["detail"]
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    # Guessed tokens count per guessed token and per IP (5 so far: the refused request
    # above stopped at the token's window): the IP's 8 run out at the fourth guess.
    guesses = [client.post("/v1/events", headers={"Authorization": f"Bearer guess-{i}"},
                           json={"events": [event()]}).status_code for i in range(4)]
    assert guesses == [401, 401, 401, 429]


def test_event_limits_are_counted_in_the_configured_storage_when_it_is_apart(
        redis_url, redis_client, tmp_path):
    from backend import create_app
    from backend.limits import RATE_LIMITS

    app = create_app({"TESTING": True, "REDIS_URL": redis_url, "DATA_DIR": str(tmp_path),
                      "RATELIMIT_STORAGE_URI": "memory://", "RATELIMIT_EVENTS": "2/minute"})
    assert app.extensions[RATE_LIMITS].events_in_store is False
    client = app.test_client()
    headers = {"Authorization": f"Bearer {client.post('/v1/users').get_json()['token']}"}
    statuses = [client.post("/v1/events", headers=headers, json={"events": [event()]}).status_code
                for _ in range(3)]
    assert statuses == [202, 202, 429]
    assert not list(redis_client.scan_iter("pf:rl:*")), "counted in the configured storage"


@pytest.mark.parametrize("swallow", [True, False])
def test_an_unreachable_limit_storage_answers_503_not_500(swallow, tmp_path):
    """Whether the limiter lets the request through (default) or fails itself, the client
    gets the retryable 503 problem of an unreachable store."""
    import socket

    from backend import create_app

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{sock.getsockname()[1]}/0"
    app = create_app({"TESTING": True, "REDIS_URL": dead, "DATA_DIR": str(tmp_path),
                      "RATELIMIT_ENABLED": True, "RATELIMIT_SWALLOW_ERRORS": swallow})
    client = app.test_client()
    response = client.post("/v1/users")
    assert_problem(response, 503)
    assert response.headers["Retry-After"]


def test_limiter_keys_never_carry_a_token_or_user_id(limited_app, redis_client):
    client = limited_app.test_client()
    body = client.post("/v1/users").get_json()
    headers = {"Authorization": f"Bearer {body['token']}"}
    client.post("/v1/events", headers=headers, json={"events": [event()]})
    client.get("/v1/saved", headers={"Authorization": "Bearer guessed-token"})
    limiter_keys = [k for k in redis_client.scan_iter("pf:rl:*")]
    assert limiter_keys, "the limiter stores its counters in paperfeed's Redis"
    for key in limiter_keys:
        for secret in (body["token"], hash_token(body["token"]), body["user_id"]):
            assert secret not in key
        assert redis_client.ttl(key) > 0, "limiter keys expire by themselves"
    assert client.delete("/v1/me", headers=headers).status_code == 204
    dump = dump_everything(redis_client)
    for secret in (body["token"], hash_token(body["token"]), body["user_id"]):
        assert occurrences(dump, secret) == []


def test_rate_limits_can_be_disabled_and_configured_from_the_environment(
        monkeypatch, redis_url, redis_client, tmp_path):
    from backend import create_app

    monkeypatch.setenv("PAPERFEED_RATELIMIT_REGISTER", "2/hour")
    app = create_app({"REDIS_URL": redis_url, "DATA_DIR": str(tmp_path)})
    client = app.test_client()
    assert [client.post("/v1/users").status_code for _ in range(3)] == [201, 201, 429]
    monkeypatch.setenv("PAPERFEED_RATELIMIT_ENABLED", "false")
    app = create_app({"REDIS_URL": redis_url, "DATA_DIR": str(tmp_path)})
    client = app.test_client()
    assert {client.post("/v1/users").status_code for _ in range(5)} == {201}


def test_default_limits_let_heavy_use_through_and_stop_a_flood(redis_url, redis_client, tmp_path):
    from backend import create_app

    app = create_app({"TESTING": True, "REDIS_URL": redis_url, "DATA_DIR": str(tmp_path)})
    client = app.test_client()
    # Twenty people behind one address register within the hour; the next registration waits.
    tokens = [client.post("/v1/users").get_json()["token"] for _ in range(20)]
    assert_problem(client.post("/v1/users"), 429)
    # A reader whose extension sends each event on its own, 100 in a row, is never refused.
    headers = {"Authorization": f"Bearer {tokens[0]}"}
    for _ in range(100):
        assert client.post("/v1/events", headers=headers, json={"events": [event()]}).status_code == 202


def test_rate_limit_window_resets(limited_app, monkeypatch):
    limited_app.config["RATELIMIT_REGISTER"] = "1/second"
    client = limited_app.test_client()
    assert client.post("/v1/users").status_code == 201
    response = client.post("/v1/users")
    assert response.status_code == 429
    time.sleep(int(response.headers["Retry-After"]) + 0.05)
    assert client.post("/v1/users").status_code == 201


@pytest.mark.parametrize("proxies", [0, 1])
def test_forwarded_client_addresses_count_only_behind_a_trusted_proxy(
        redis_url, redis_client, tmp_path, proxies):
    from backend import create_app

    app = create_app({"TESTING": True, "REDIS_URL": redis_url, "DATA_DIR": str(tmp_path),
                      "RATELIMIT_ENABLED": True, "RATELIMIT_REGISTER": "2/hour",
                      "TRUSTED_PROXIES": proxies})
    client = app.test_client()

    def register(forwarded_for: str) -> int:
        return client.post("/v1/users", headers={"X-Forwarded-For": forwarded_for}).status_code

    assert [register("10.0.0.1") for _ in range(3)] == [201, 201, 429]
    # behind the proxy another client has its own limit; without one the header is a lie
    assert register("10.0.0.2") == (201 if proxies else 429)
