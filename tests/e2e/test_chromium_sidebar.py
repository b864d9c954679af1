"""The sidebar in real Chromium against the real backend: its window follows the page being
viewed, the paper being viewed never shows in it, and above the list it opens as a compact strip."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.e2e.chromium import SIDEBAR, sidebar_titles
from tests.e2e.conftest import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

HF = "https://huggingface.co"
RECOMMENDATIONS = "/v1/recommendations"
HEADER = f"{SIDEBAR} h2"


def recommendations(backend, token: str, query: dict[str, str]) -> dict:
    return backend.api("GET", f"{RECOMMENDATIONS}?{urlencode(query)}", token)


def check_sidebar_window(page, browser, backend, label: str, query: dict[str, str], viewed: str | None = None) -> dict:
    """The header names `label` and the window's dates, the last request asked for `query`, the list is
    the backend's answer to it (which is returned)."""
    wait_until(lambda: page.locator(HEADER).inner_text() == f"Trending for you \u00b7 {label}", 10,
               message=f"header naming {label}")
    wait_until(lambda: browser.backend_requests(RECOMMENDATIONS)[-1:] == [query], 10,
               message=f"a request for {query}")
    token = browser.token()
    answer = recommendations(backend, token, query)
    expected = [i["title"] for i in answer["items"] if i["paper_id"] != viewed]
    wait_until(lambda: sidebar_titles(page) == expected, 10, message=f"the backend's list for {query}")
    # The header shows the dates of the window the server answered for.
    dates = page.locator(f"{SIDEBAR} header .window")
    assert dates.get_attribute("data-from") == answer["window"]["from"]
    assert dates.get_attribute("data-until") == answer["window"]["until"]
    assert dates.is_visible()
    if "until" in query:
        assert answer["window"]["until"] == query["until"]
    return answer


def test_window_follows_the_page(browser, backend, artifacts):
    browser.record_backend_requests()
    page = browser.page()
    page.goto(f"{HF}/papers/date/2024-12-03")
    check_sidebar_window(page, browser, backend, "Dec 3", {"limit": "20", "days": "1", "until": "2024-12-03"})
    page.locator(SIDEBAR).screenshot(path=str(artifacts / "sidebar-day.png"))

    # The Monthly tab navigates client-side: the window follows without a page load.
    page.click('a.tab[href="/papers/month/2024-12"]')
    page.wait_for_url(f"{HF}/papers/month/2024-12")
    check_sidebar_window(page, browser, backend, "December 2024",
                         {"limit": "20", "days": "31", "until": "2024-12-31"})
    page.click('a.tab[href="/papers/trending"]')
    page.wait_for_url(f"{HF}/papers/trending")
    check_sidebar_window(page, browser, backend, "last 7 days", {"limit": "20", "days": "7"})

    page.goto(f"{HF}/papers/week/2024-W22")
    check_sidebar_window(page, browser, backend, "May 27-Jun 2", {"limit": "20", "days": "7", "until": "2024-06-02"})
    page.locator(SIDEBAR).screenshot(path=str(artifacts / "sidebar-week.png"))
    page.goto(f"{HF}/papers")
    check_sidebar_window(page, browser, backend, "last 7 days", {"limit": "20", "days": "7"})


def test_paper_page_leaves_out_the_paper_being_viewed(browser, backend):
    browser.record_backend_requests()
    page = browser.page()
    page.goto(f"{HF}/papers/2608.19880")
    page.wait_for_selector('h1 + [data-paperfeed-controls="2608.19880"]')
    answer = check_sidebar_window(page, browser, backend, "last 7 days",
                                  {"limit": "20", "days": "7", "exclude": "2608.19880"}, viewed="2608.19880")
    assert page.locator(f'{SIDEBAR} li[data-paper-id="2608.19880"]').count() == 0
    assert "2608.19880" not in [i["paper_id"] for i in answer["items"]]
    # It is one of the window's papers: leaving it out is the extension's doing.
    token = browser.token()
    window = recommendations(backend, token, {"limit": "100", "days": "7", "include_opened": "true"})
    assert "2608.19880" in [i["paper_id"] for i in window["items"]]


def panel_height(page) -> float:
    return page.locator(SIDEBAR).bounding_box()["height"]


def first_card_top(page) -> float:
    return page.locator("article").first.bounding_box()["y"]


@pytest.mark.parametrize("width", [1366, 1440])
def test_compact_strip_above_the_list(browser, backend, artifacts, width):
    page = browser.page()
    page.set_viewport_size({"width": width, "height": 768})
    page.goto(f"{HF}/papers/date/2024-12-03")
    host = page.locator(SIDEBAR)
    wait_until(lambda: host.get_attribute("data-mode") == "inline" and host.get_attribute("data-compact") == "true",
               10, message="inline compact strip")
    wait_until(lambda: page.locator(f"{SIDEBAR} li a").count() == 3, 10, message="the top 3 titles")
    total = len(recommendations(backend, browser.token(), {"limit": "20", "days": "1", "until": "2024-12-03"})["items"])
    assert total > 3
    assert sidebar_titles(page) == [i["title"] for i in recommendations(
        backend, browser.token(), {"limit": "3", "days": "1", "until": "2024-12-03"})["items"]]
    # About 120 px, and the page's own list starts within the first screen.
    assert 90 <= panel_height(page) <= 135, panel_height(page)
    assert first_card_top(page) + 120 <= 768, first_card_top(page)
    assert page.locator("article h3").first.is_visible()
    page.screenshot(path=str(artifacts / f"sidebar-compact-{width}.png"))

    # A click expands it in full: every item with its reason and controls.
    page.locator(f"{SIDEBAR} [data-paperfeed-expand]").click()
    wait_until(lambda: host.get_attribute("data-compact") == "false", 5, message="expanded")
    assert page.locator(f"{SIDEBAR} li a").count() == total
    assert page.locator(f'{SIDEBAR} li [data-paperfeed-action="save"]').count() == total
    assert panel_height(page) > 200
    page.screenshot(path=str(artifacts / f"sidebar-expanded-{width}.png"))

    # Collapsing is remembered: after a reload the strip stays a header only.
    page.locator(f"{SIDEBAR} [data-paperfeed-toggle]").click()
    wait_until(lambda: (browser.storage("pf:settings") or {}).get("collapsed") is True, 5, message="collapsed stored")
    page.reload()
    page.wait_for_selector(f"{SIDEBAR} [data-paperfeed-toggle][aria-expanded=false]")
    wait_until(lambda: host.get_attribute("data-collapsed") == "true", 5, message="collapsed after reload")
    assert page.locator(f"{SIDEBAR} li a").count() == 0 or not page.locator(f"{SIDEBAR} li a").first.is_visible()
    assert panel_height(page) < 70
    # Opened again from its header, it is the strip again, which still expands.
    page.locator(f"{SIDEBAR} [data-paperfeed-toggle]").click()
    wait_until(lambda: host.get_attribute("data-compact") == "true", 5, message="strip after un-collapsing")
    assert page.locator(f"{SIDEBAR} li a").count() == 3
    page.locator(f"{SIDEBAR} [data-paperfeed-toggle]").click()
    wait_until(lambda: page.locator(f"{SIDEBAR} li a").count() == total, 5, message="a header click expands the strip")


def test_wide_window_panel_beside_the_list(browser, backend, artifacts):
    page = browser.page()
    page.goto(f"{HF}/papers/date/2024-12-03")
    host = page.locator(SIDEBAR)
    page.wait_for_selector(f"{SIDEBAR} li a")
    assert host.get_attribute("data-mode") == "side"
    assert host.get_attribute("data-compact") == "false"
    token = browser.token()
    total = len(recommendations(backend, token, {"limit": "20", "days": "1", "until": "2024-12-03"})["items"])
    assert page.locator(f"{SIDEBAR} li a").count() == total
    # Beside the list: the first cards start at the top of the page and none is covered.
    box = host.bounding_box()
    assert first_card_top(page) + 120 <= 1080
    for card in page.locator("article").all()[:6]:
        c = card.bounding_box()
        assert c["x"] + c["width"] <= box["x"], (box, c)
    page.screenshot(path=str(artifacts / "sidebar-wide.png"))
