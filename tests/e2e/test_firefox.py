"""End-to-end in Firefox ESR: the same source tree as a temporary add-on, the fixture site
on https://huggingface.co (:443 via network.dns.forceResolve), the real backend."""

from __future__ import annotations

import socket

import pytest

from tests.e2e.conftest import free_port, wait_until
from tests.e2e.firefox import FirefoxWithExtension, firefox_available
from tests.e2e.site import FixtureSite

# marionette_driver's own imports (mozinfo, mozrunner) raise DeprecationWarnings, and its
# transport may leave a socket for the garbage collector.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]
HF = "https://huggingface.co"

SIDEBAR_TITLES = """
const host = document.getElementById('paperfeed-root');
if (!host || !host.shadowRoot) return null;
return [...host.shadowRoot.querySelectorAll('li a')].map((a) => a.textContent);
"""
CARD_BUTTON = """
const [id, action] = arguments;
const hostEl = document.querySelector(`article [data-paperfeed-controls="${id}"]`);
return hostEl && hostEl.shadowRoot.querySelector(`[data-paperfeed-action="${action}"]`);
"""


def port_443_free() -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", 443))
        except OSError:
            return False
    return True


@pytest.fixture(scope="module")
def site443(tmp_path_factory):
    reason = firefox_available()
    if reason:
        pytest.skip(reason)
    if not port_443_free():
        pytest.skip("port 443 is busy or needs root (Firefox maps the host, not the port)")
    with FixtureSite(tmp_path_factory.mktemp("hf-cert-ff"), port=443) as site:
        yield site


@pytest.fixture
def firefox(site443, backend, tmp_path):
    ff = FirefoxWithExtension(tmp_path / "ff-profile", free_port())
    try:
        # Point the extension at the test backend through its options page.
        ff.open_extension_page("src/options/options.html")
        wait_until(lambda: ff.js("return document.getElementById('backend-url').value"), 10, message="options loaded")
        ff.js("document.getElementById('backend-url').value = arguments[0];"
              "document.getElementById('save-url').click();", backend.url)
        wait_until(lambda: ff.js("return document.getElementById('url-status').textContent") == "Saved.", 10,
                   message="backend URL saved")
        yield ff
    finally:
        ff.close()


def token_of(ff) -> str | None:
    ff.open_extension_page("src/options/options.html")
    return wait_until(lambda: ff.js("return document.getElementById('token').value"), 10, message="token")


def test_firefox_sidebar_shows_recommendations(firefox, backend, artifacts):
    ff = firefox
    ff.m.navigate(f"{HF}/papers/date/2024-12-03")
    titles = wait_until(lambda: ff.js(SIDEBAR_TITLES), 20, message="sidebar items")
    assert ff.js("return document.querySelectorAll('article [data-paperfeed-controls]').length") == 25
    assert ff.js("return document.getElementById('paperfeed-root').dataset.mode") == "side"
    assert ff.js("return document.getElementById('paperfeed-root').shadowRoot.querySelector('h2').textContent") == (
        "Trending for you \u00b7 Dec 3")
    (artifacts / "firefox-sidebar.png").write_bytes(ff.m.screenshot(format="binary"))
    token = token_of(ff)
    expected = backend.api("GET", "/v1/recommendations?limit=20&days=1&until=2024-12-03", token)["items"]
    assert titles == [i["title"] for i in expected]


def test_firefox_save_reaches_backend_and_popup(firefox, backend):
    ff = firefox
    ff.m.navigate(f"{HF}/papers/date/2024-12-03")
    button = wait_until(lambda: ff.js(CARD_BUTTON, "2412.01824", "save"), 20, message="card Save button")
    assert button.get_attribute("aria-pressed") == "false"
    button.click()
    wait_until(lambda: ff.js(CARD_BUTTON, "2412.01824", "save").get_attribute("aria-pressed") == "true", 10,
               message="pressed")
    token = token_of(ff)
    wait_until(lambda: backend.saved_ids(token) == ["2412.01824"], 10, message="save reached the backend")
    ff.open_extension_page("src/popup/popup.html")
    links = wait_until(lambda: ff.js("return [...document.querySelectorAll('#saved li a')].map(a => a.href)"), 10,
                       message="popup list")
    assert links == ["https://huggingface.co/papers/2412.01824"]
