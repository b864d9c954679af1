"""The API docs and the home page as a reader sees them: Swagger UI rendering the OpenAPI 3.1
document in headless Chromium, from files this server serves, and ``GET /``."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from tests.e2e.chromium import CHROMIUM, chromium_available

QUIET_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def test_home_page_links_docs_health_and_the_extension(client):
    response = client.get("/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    for link in ('href="/docs"', 'href="/openapi.json"', 'href="/healthz"', 'href="/readyz"'):
        assert link in page
    assert "extension/manifest.json" in page and "Load unpacked" in page
    assert "paperfeed" in page


def test_home_page_names_the_installed_version(client):
    from backend.home import package_version

    assert package_version() != "unknown"
    assert f"paperfeed {package_version()}" in client.get("/").get_data(as_text=True)


@pytest.fixture
def server(app) -> Iterator[str]:
    """The app on a real local port, in a thread."""
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    http.server_close()
    thread.join()


@pytest.mark.browser
def test_docs_render_every_operation_in_chromium(server, client):
    reason = chromium_available()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    operations = {(method.upper(), path) for path, item in spec["paths"].items()
                  for method in item if method in {"get", "post", "put", "patch", "delete"}}
    requested: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=QUIET_FLAGS)
        try:
            page = browser.new_page()
            page.on("request", lambda request: requested.append(request.url))
            page.goto(f"{server}/docs")
            # Operations, or Swagger UI's "Unable to render this definition" (.version-pragma).
            page.wait_for_selector(".opblock-summary, .version-pragma", timeout=20_000)
            shown = {(block.locator(".opblock-summary-method").inner_text().strip(),
                      block.locator(".opblock-summary-path").get_attribute("data-path"))
                     for block in page.locator(".opblock").all()}
            text = page.locator("body").inner_text()
        finally:
            browser.close()
    assert "Unable to render this definition" not in text
    assert shown == operations
    assert "paperfeed" in text and "OAS 3.1" in text
    assert all(url.startswith(server) or url.startswith("data:") for url in requested), requested
