"""Promise 1 (the front door): the shipped nginx front (deploy/nginx) in front of a real
`paperfeed serve` holds against slow clients and oversized requests, and everything it
answers itself is problem+json with the app's security headers."""

from __future__ import annotations

import http.client
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import content_type_conformance, not_a_server_error, status_code_conformance

from backend.web import API_CSP, SECURITY_HEADERS
from tests.redis_server import free_port
from tests.reliability.front_door import nginx_binary, running_nginx

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(nginx_binary() is None,
                       reason="nginx is not installed (scripts/install-test-deps.sh installs it)"),
]

SLOW_CLIENTS = 40
PROBES = 10
PROBE_SECONDS = 1.0  # what a health check allows: the behaviour under test is that it answers
FRONT_EXAMPLES = 15  # generated requests per operation, sent over HTTP through the front


def start_serve(redis_url: str, data_dir, port: int) -> subprocess.Popen:
    env = {**os.environ, "PAPERFEED_REDIS_URL": redis_url, "PAPERFEED_DATA_DIR": str(data_dir),
           "PAPERFEED_WORKERS": "1", "PAPERFEED_THREADS": "4", "PAPERFEED_TRUSTED_PROXIES": "1",
           "PAPERFEED_ALLOW_VOLATILE_REDIS": "1"}
    process = subprocess.Popen(
        [sys.executable, "-c", "from backend.cli import main; main()", "serve",
         "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, "paperfeed serve exited"
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            pass
        assert time.monotonic() < deadline, "paperfeed serve did not start"
        time.sleep(0.2)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def front(redis_url, tmp_path_factory):
    """``(proxy port, app process)``: paperfeed serve behind the shipped nginx config."""
    app_port, proxy_port = free_port(), free_port()
    app = start_serve(redis_url, tmp_path_factory.mktemp("data"), app_port)
    try:
        with running_nginx(tmp_path_factory.mktemp("nginx"), proxy_port, app_port):
            yield proxy_port, app
    finally:
        stop(app)


def raw(port: int, request: bytes) -> http.client.HTTPResponse:
    """Send ``request`` as it is and read the response (the body is read too)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        sock.sendall(request)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the proxy answered before the whole request was sent
    response = http.client.HTTPResponse(sock)
    response.begin()
    response.body = response.read()  # type: ignore[attr-defined]
    sock.close()
    return response


def assert_proxy_problem(response: http.client.HTTPResponse, status: int) -> None:
    assert response.status == status, (response.status, response.body[:200])
    assert response.getheader("Content-Type") == "application/problem+json"
    for name, value in SECURITY_HEADERS.items():
        assert response.getheader(name) == value, name
    assert response.getheader("Content-Security-Policy") == API_CSP
    assert response.getheader("Cache-Control") == "no-store"
    body = json.loads(response.body)
    assert body["status"] == status and body["title"]


def probe(port: int) -> tuple[int, float]:
    started = time.monotonic()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=PROBE_SECONDS)
        connection.request("GET", "/healthz")
        status = connection.getresponse().status
        connection.close()
    except OSError:
        status = 0
    return status, time.monotonic() - started


def test_slow_clients_do_not_starve_the_service_and_are_cut_off(front):
    port, _ = front
    slow = []
    for _ in range(SLOW_CLIENTS):  # each sends part of a request and stops
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        slow.append(sock)
    try:
        probes = [probe(port) for _ in range(PROBES)]
        assert [status for status, _ in probes] == [200] * PROBES, probes
        assert max(elapsed for _, elapsed in probes) < PROBE_SECONDS, probes
        # the proxy closes every slow connection itself (client_header_timeout)
        open_ones, deadline = set(slow), time.monotonic() + 30
        while open_ones and time.monotonic() < deadline:
            readable, _, _ = select.select(list(open_ones), [], [], 1.0)
            for sock in readable:
                try:
                    data = sock.recv(65536)
                except (ConnectionResetError, TimeoutError):
                    data = b""
                if not data:
                    open_ones.discard(sock)
        assert not open_ones, f"{len(open_ones)} slow connections still open"
    finally:
        for sock in slow:
            sock.close()


PROXY_ANSWERS = {
    "request line": (b"GET /v1/trending?x=" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    "one header": (b"GET /v1/trending HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 10_000
                   + b"\r\n\r\n", 431),
    "all headers": (b"GET /v1/trending HTTP/1.1\r\nHost: x\r\n"
                    + b"".join(b"X-H%d: %s\r\n" % (i, b"a" * 3000) for i in range(8)) + b"\r\n",
                    431),
    "body": (b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             b"Content-Length: 300000\r\n\r\n" + b"[" * 300_000, 413),
    "chunked body": (b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n" + b"%x\r\n" % 300_000 + b"[" * 300_000
                     + b"\r\n0\r\n\r\n", 413),
    "not HTTP": (b"NOT A REQUEST\r\n\r\n", 400),
    "the proxy's own error page": (b"GET /_problem/400 HTTP/1.1\r\nHost: x\r\n\r\n", 404),
}


@pytest.mark.parametrize("name", PROXY_ANSWERS)
def test_oversized_or_malformed_requests_get_a_problem_with_security_headers(front, name):
    port, _ = front
    request, status = PROXY_ANSWERS[name]
    assert_proxy_problem(raw(port, request), status)


def test_the_apps_own_answers_pass_through_the_proxy(front):
    port, _ = front
    created = raw(port, b"POST /v1/users HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    assert created.status == 201 and json.loads(created.body)["token"]
    invalid = raw(port, b"GET /v1/trending?limit=0 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert_proxy_problem(invalid, 422)
    assert json.loads(invalid.body)["errors"][0]["field"] == "limit"  # the app's, with details


@pytest.fixture
def front_api_schema(front):
    port, _ = front
    schema = schemathesis.openapi.from_url(f"http://127.0.0.1:{port}/openapi.json")
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
    return schema


front_api = schemathesis.pytest.from_fixture("front_api_schema")


@front_api.parametrize()
@settings(max_examples=FRONT_EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_through_the_front_every_answer_is_documented(case):
    """The fuzzer's requests over real HTTP, through nginx and gunicorn: whatever nginx or
    gunicorn would refuse themselves is still a documented problem+json, never text/html."""
    case.call_and_validate(checks=[not_a_server_error, status_code_conformance,
                                   content_type_conformance])


def test_a_stopped_app_is_a_502_problem_with_retry_after(front):
    port, app = front
    stop(app)
    response = raw(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert_proxy_problem(response, 502)
    assert int(response.getheader("Retry-After")) > 0
