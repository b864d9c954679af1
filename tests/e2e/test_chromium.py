"""End-to-end: the unpacked extension in headless Chromium, fixture pages served at the
real https://huggingface.co/papers URLs, the real backend on a real Redis."""

from __future__ import annotations

import pytest

from tests.e2e.chromium import SIDEBAR, ExtensionBrowser, sidebar_titles
from tests.e2e.conftest import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

HF = "https://huggingface.co"
CARD_SAVE = 'article [data-paperfeed-action="save"][data-paper-id="{}"]'




def test_sidebar_shows_recommendations(browser, backend, artifacts):
    page = browser.page()
    page.goto(f"{HF}/papers/date/2024-12-03")
    page.wait_for_selector(f"{SIDEBAR} li a", timeout=15000)
    token = browser.token()
    assert token, "registered on first use"
    # A day's page asks for that day's recommendations.
    expected = backend.api("GET", "/v1/recommendations?limit=20&days=1&until=2024-12-03", token)["items"]
    assert sidebar_titles(page) == [i["title"] for i in expected]
    assert page.locator(f"{SIDEBAR} h2").inner_text() == "Trending for you \u00b7 Dec 3"
    first = page.locator(f"{SIDEBAR} li").first
    assert first.locator(".reason").inner_text() == expected[0]["reason"]["text"]
    assert first.locator("a").get_attribute("href") == f"/papers/{expected[0]['paper_id']}"
    assert first.locator('[data-paperfeed-action="save"]').get_attribute("aria-pressed") == "false"
    assert first.locator('[data-paperfeed-action="dismiss"]').count() == 1
    # The shadow root is open and the host follows HF's dark mode.
    assert page.evaluate("() => document.getElementById('paperfeed-root').shadowRoot !== null")
    host = page.locator(SIDEBAR)
    assert host.get_attribute("data-mode") == "side"
    assert host.get_attribute("data-theme") == "light"
    page.locator(SIDEBAR).screenshot(path=str(artifacts / "sidebar-panel.png"))
    page.screenshot(path=str(artifacts / "sidebar.png"))
    page.evaluate("() => document.documentElement.classList.add('dark')")
    wait_until(lambda: host.get_attribute("data-theme") == "dark", 5, message="dark theme")
    panel_bg = ("() => getComputedStyle(document.getElementById('paperfeed-root')"
                ".shadowRoot.querySelector('.panel')).backgroundColor")
    wait_until(lambda: page.evaluate(panel_bg) == "rgb(17, 24, 39)", 5, message="dark panel")
    page.screenshot(path=str(artifacts / "sidebar-dark.png"))
    page.evaluate("() => document.documentElement.classList.remove('dark')")

    # Every card got a Save and a dismiss control.
    assert page.locator('article [data-paperfeed-action="save"]').count() == 25
    assert page.locator('article [data-paperfeed-action="dismiss"]').count() == 25

    # Narrow window: the sidebar moves into the page flow and covers no card.
    page.set_viewport_size({"width": 900, "height": 900})
    wait_until(lambda: host.get_attribute("data-mode") == "inline", 5, message="inline mode")
    box = host.bounding_box()
    for card in page.locator("article").all()[:4]:
        c = card.bounding_box()
        overlaps = not (box["y"] + box["height"] <= c["y"] or c["y"] + c["height"] <= box["y"]
                        or box["x"] + box["width"] <= c["x"] or c["x"] + c["width"] <= box["x"])
        assert not overlaps, (box, c)
    page.screenshot(path=str(artifacts / "sidebar-narrow.png"))

    # Collapsing is remembered across page loads.
    page.set_viewport_size({"width": 1920, "height": 1080})
    wait_until(lambda: host.get_attribute("data-mode") == "side", 5, message="side mode")
    page.locator(f"{SIDEBAR} [data-paperfeed-toggle]").click()
    assert page.locator(f"{SIDEBAR} [data-paperfeed-toggle]").get_attribute("aria-expanded") == "false"
    wait_until(lambda: (browser.storage("pf:settings") or {}).get("collapsed") is True, 5, message="collapsed stored")
    page.reload()
    page.wait_for_selector(f"{SIDEBAR} [data-paperfeed-toggle][aria-expanded=false]", timeout=10000)
    assert not page.locator(f"{SIDEBAR} li a").first.is_visible()

    # The paper page has the sidebar too, and a Save toggle near its title.
    page.goto(f"{HF}/papers/2412.01824")
    page.wait_for_selector('h1 + [data-paperfeed-controls] [data-paperfeed-action="save"]', timeout=10000)
    assert page.locator(SIDEBAR).count() == 1


def events_settled_on_paper_page(browser, paper_id: str) -> None:
    """The paper page's open was handled (its list is asked for only after that) and every queued event sent."""
    wait_until(lambda: any(q.get("exclude") == paper_id for q in browser.backend_requests("/v1/recommendations")),
               10, message=f"the list of the page of {paper_id}")
    wait_until(lambda: browser.queue_length() == 0, 10, message="queue sent")


def test_save_on_card_reaches_backend_and_popup(browser, backend, redis_client):
    browser.record_backend_requests()
    page = browser.page()
    page.goto(f"{HF}/papers/date/2024-12-03")
    save = page.locator(CARD_SAVE.format("2412.01824"))
    save.wait_for(timeout=10000)
    assert save.get_attribute("aria-pressed") == "false"
    save.click()
    assert save.get_attribute("aria-pressed") == "true"
    token = wait_until(browser.token, 10, message="token")
    wait_until(lambda: backend.saved_ids(token) == ["2412.01824"], 5, message="save reached the backend")
    saved = backend.api("GET", "/v1/saved", token)["items"][0]
    assert saved["title"].startswith("X-Prompt")
    assert redis_client.dbsize() > 0  # the backend wrote to the test Redis

    # The popup lists it, newest first, searchable, linking to the paper.
    page.locator(CARD_SAVE.format("2412.00131")).click()
    wait_until(lambda: len(backend.saved_ids(token)) == 2, 5, message="second save")
    popup = browser.page()
    popup.goto(browser.extension_url("src/popup/popup.html"))
    popup.wait_for_selector("#saved li a", timeout=10000)
    links = popup.locator("#saved li a")
    assert links.count() == 2
    assert links.nth(1).get_attribute("href") == "https://huggingface.co/papers/2412.01824"
    assert links.nth(0).get_attribute("data-paper-id") == "2412.00131"
    popup.fill("#search", "x-prompt")
    assert popup.locator("#saved li a").count() == 1
    with popup.expect_download() as download:
        popup.click("#export-bibtex")
    bib = download.value.path().read_text()
    assert "eprint = {2412.01824}" in bib and "eprint = {2412.00131}" in bib

    # Saved shows as saved on the paper page too; clicking the card counts one "open".
    page.locator('article h3 a[href="/papers/2412.01824"]').click()
    page.wait_for_url(f"{HF}/papers/2412.01824")
    paper_save = page.locator('main [data-paperfeed-controls="2412.01824"] [data-paperfeed-action="save"]')
    paper_save.wait_for(timeout=10000)
    wait_until(lambda: paper_save.get_attribute("aria-pressed") == "true", 5, message="saved state on paper page")
    events_settled_on_paper_page(browser, "2412.01824")
    opens = [e for e in backend.events(token) if e["type"] == "open"]
    assert [(e["paper_id"], e.get("source")) for e in opens] == [("2412.01824", "list")]

    # Unsave from the paper page.
    paper_save.click()
    wait_until(lambda: backend.saved_ids(token) == ["2412.00131"], 5, message="unsave reached the backend")
    types = sorted(e["type"] for e in backend.events(token))
    assert types == ["open", "save", "save", "unsave"]


def test_client_side_navigation_keeps_working(browser, backend, hf_site):
    browser.record_backend_requests()
    hf_site.requests.clear()
    page = browser.page()
    page.goto(f"{HF}/papers/date/2024-12-03")
    page.locator(CARD_SAVE.format("2412.01824")).wait_for(timeout=10000)
    page.wait_for_selector(f"{SIDEBAR} li a", timeout=10000)
    loaded_at = page.evaluate("() => window.__spa.loadedAt")

    page.click("a.next")  # SPA: pushState + DOM swap, stale hydration props
    page.wait_for_url(f"{HF}/papers/date/2024-12-04")
    new_card = page.locator(CARD_SAVE.format("2608.19880"))
    new_card.wait_for(timeout=10000)
    assert page.locator('article [data-paperfeed-action="save"]').count() == 17
    assert page.locator(CARD_SAVE.format("2412.01824")).count() == 0
    new_card.click()
    token = browser.token()
    wait_until(lambda: backend.saved_ids(token) == ["2608.19880"], 5, message="save after SPA navigation")
    # The save used the title from the DOM, not the stale island.
    assert backend.api("GET", "/v1/saved", token)["items"][0]["title"].startswith("EnvHarness")

    page.click('a.tab[href="/papers/month/2024-12"]')
    page.wait_for_url(f"{HF}/papers/month/2024-12")
    page.locator(CARD_SAVE.format("2412.01824")).wait_for(timeout=10000)
    assert page.locator('article [data-paperfeed-action="save"]').count() == 12

    page.go_back()
    page.wait_for_url(f"{HF}/papers/date/2024-12-04")
    back_card = page.locator(CARD_SAVE.format("2608.19880"))
    back_card.wait_for(timeout=10000)
    wait_until(lambda: back_card.get_attribute("aria-pressed") == "true", 5, message="saved state after back")

    page.click('article h3 a[href="/papers/2608.19880"]')
    page.wait_for_url(f"{HF}/papers/2608.19880")
    paper_save = page.locator('h1 + [data-paperfeed-controls="2608.19880"] [data-paperfeed-action="save"]')
    paper_save.wait_for(timeout=10000)
    wait_until(lambda: paper_save.get_attribute("aria-pressed") == "true", 5, message="saved on paper page")
    assert page.locator(SIDEBAR).count() == 1
    assert page.evaluate("() => window.__spa.loadedAt") == loaded_at, "no full page load"
    assert page.evaluate("() => window.__spa.navigations") == 4
    events_settled_on_paper_page(browser, "2608.19880")
    opens = [(e["paper_id"], e.get("source")) for e in backend.events(token) if e["type"] == "open"]
    assert opens == [("2608.19880", "list")]
    # huggingface.co only saw the page's own requests: the extension never fetches from it.
    assert all(p.startswith(("/papers", "/__spa.js", "/favicon.ico")) for p in hf_site.requests), hf_site.requests


def test_backend_down_events_kept_and_delivered_once(browser, backend):
    page = browser.page()
    page.goto(f"{HF}/papers/date/2024-12-03")
    page.wait_for_selector(f"{SIDEBAR} li a", timeout=15000)
    token = browser.token()
    backend.stop()

    page.locator(CARD_SAVE.format("2412.01824")).click()
    page.locator('article [data-paperfeed-action="dismiss"][data-paper-id="2411.18499"]').click()
    wait_until(lambda: page.locator(f"{SIDEBAR} .status[data-kind=offline]").count() == 1, 10,
               message="offline state in the sidebar")
    assert page.locator(f"{SIDEBAR} .status").inner_text() == "offline \u2014 your actions are kept and sent later"
    wait_until(lambda: browser.queue_length() == 2, 5, message="two events queued")
    wait_until(lambda: (browser.storage("pf:queue-meta") or {}).get("attempts", 0) >= 2, 10,
               message="two failed retries")
    assert browser.queue_length() == 2
    assert page.locator(CARD_SAVE.format("2412.01824")).get_attribute("aria-pressed") == "true"

    backend.start()
    wait_until(lambda: browser.queue_length() == 0, 40, interval=0.5, message="queue drained after restart")
    assert backend.saved_ids(token) == ["2412.01824"]
    events = backend.events(token)
    assert sorted((e["type"], e["paper_id"]) for e in events if e["type"] != "open") == [
        ("dismiss", "2411.18499"), ("save", "2412.01824")]
    assert len({e["id"] for e in events}) == len(events)

    # Re-sending the same ids (as after a lost response) changes nothing: exactly once.
    ids_before = sorted(e["id"] for e in events)
    resend = backend.api("POST", "/v1/events", token, {"events": [
        {k: v for k, v in e.items() if k in {"id", "type", "paper_id", "ts", "source"}} for e in events]})
    assert resend["accepted"] == 0 and resend["duplicates"] == len(events)
    assert sorted(e["id"] for e in backend.events(token)) == ids_before


def test_queue_survives_browser_restart(playwright, hf_site, backend, tmp_path):
    """Events queued while the backend is down are still sent after the browser restarts."""
    profile = tmp_path / "profile"
    first = ExtensionBrowser(playwright, profile, hf_site.port)
    try:
        first.set_backend(backend.url)
        page = first.page()
        page.goto(f"{HF}/papers/date/2024-12-03")
        page.locator(CARD_SAVE.format("2412.01824")).wait_for()
        token = wait_until(first.token, 10, message="token")
        backend.stop()
        page.locator(CARD_SAVE.format("2412.01824")).click()
        wait_until(lambda: first.queue_length() == 1, 5, message="event queued")
    finally:
        first.close()
    backend.start()
    second = ExtensionBrowser(playwright, profile, hf_site.port)
    try:
        # No page needed: the service worker flushes its stored queue when it starts.
        try:
            wait_until(lambda: backend.saved_ids(token) == ["2412.01824"], 40, interval=0.5,
                       message="queued save delivered after restart")
        except AssertionError as error:
            state = {k: second.storage(k) for k in ("pf:auth", "pf:queue", "pf:queue-meta")}
            raise AssertionError(f"{error}; token {token!r}; extension state {state}; backend log tail:\n"
                                 f"{backend.log_path.read_text()[-2000:]}") from None
        # The server commits before the worker hears back and drops the event from its queue.
        wait_until(lambda: second.queue_length() == 0, 10, message="queue emptied")
        assert [e["type"] for e in backend.events(token)] == ["save"]
    finally:
        second.close()


def test_dismiss_removes_paper_from_sidebar(browser, backend):
    page = browser.page()
    page.goto(f"{HF}/papers/trending")
    page.wait_for_selector(f"{SIDEBAR} li a", timeout=15000)
    first = page.locator(f"{SIDEBAR} li").first
    paper_id = first.get_attribute("data-paper-id")
    title = first.locator("a").inner_text()
    first.locator('[data-paperfeed-action="dismiss"]').click()
    wait_until(lambda: title not in sidebar_titles(page), 5, message="dismissed item gone")
    token = browser.token()
    wait_until(lambda: any(e["type"] == "dismiss" and e["paper_id"] == paper_id for e in backend.events(token)),
               5, message="dismiss reached the backend")
    # Refreshed from the server: still gone, and the card on the page shows it as dismissed.
    page.reload()
    page.wait_for_selector(f"{SIDEBAR} li a", timeout=15000)
    assert title not in sidebar_titles(page)
    recs = backend.api("GET", "/v1/recommendations?limit=20&days=7", token)["items"]  # the trending page's window
    assert paper_id not in [i["paper_id"] for i in recs]
    card_dismiss = page.locator(f'article [data-paperfeed-action="dismiss"][data-paper-id="{paper_id}"]')
    wait_until(lambda: card_dismiss.get_attribute("aria-pressed") == "true", 5, message="card shows dismissed")

    # Save from the sidebar refreshes it and shows as saved on the card (of a paper the page lists).
    on_page = set(page.locator("article [data-paperfeed-controls]").evaluate_all(
        "hosts => hosts.map(h => h.dataset.paperfeedControls)"))
    in_sidebar = page.locator(f"{SIDEBAR} li[data-paper-id]").evaluate_all("lis => lis.map(li => li.dataset.paperId)")
    saved_id = next(i for i in in_sidebar if i in on_page)
    page.locator(f'{SIDEBAR} li [data-paperfeed-action="save"][data-paper-id="{saved_id}"]').click()
    wait_until(lambda: saved_id in backend.saved_ids(token), 5, message="sidebar save")
    wait_until(lambda: page.locator(CARD_SAVE.format(saved_id)).get_attribute("aria-pressed") == "true", 5,
               message="card shows saved")


def test_options_page_token_and_delete(browser, backend):
    page = browser.page()
    page.goto(f"{HF}/papers/date/2024-12-03")
    page.locator(CARD_SAVE.format("2412.01824")).click()
    token = wait_until(browser.token, 10, message="token")
    wait_until(lambda: backend.saved_ids(token) == ["2412.01824"], 5, message="save")

    options = browser.page()
    options.goto(browser.extension_url("src/options/options.html"))
    wait_until(lambda: options.input_value("#token") == token, 5, message="token shown")
    assert options.input_value("#backend-url") == backend.url
    assert "huggingface.co/papers" in options.locator("#collected").inner_text()

    # Link to another account by pasting its token.
    other = backend.api("POST", "/v1/users", None, {})["token"]
    options.fill("#paste-token", other)
    options.click("#use-token")
    wait_until(lambda: "Linked" in options.locator("#token-status").inner_text(), 5, message="linked")
    assert browser.token() == other

    # Delete all my data: DELETE /v1/me, local reset, a fresh account next time.
    options.fill("#paste-token", token)
    options.click("#use-token")
    wait_until(lambda: browser.token() == token, 5, message="relinked")
    options.once("dialog", lambda d: d.accept())
    options.click("#delete")
    wait_until(lambda: "Deleted" in options.locator("#delete-status").inner_text(), 5, message="deleted")
    assert browser.token() is None
    assert browser.storage("pf:saved") is None
    try:
        backend.api("GET", "/v1/saved", token)
        raise AssertionError("old token still valid")
    except Exception as error:  # noqa: BLE001
        assert "401" in str(error)
