"""The mailed HTML digest in headless Chromium at 360 and 1200 px, light and dark: the ten
titles are on the rendered page and nothing overflows a phone's width.

Screenshots go to the test's temporary folder; with ``PAPERFEED_UPDATE_SCREENSHOTS=1`` they
replace docs/img/digest-360.png and docs/img/digest-1200.png.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from backend import importer
from backend.digest.run import digest_run
from backend.extensions import get_store
from tests.digest.conftest import NEWEST, event
from tests.e2e.chromium import CHROMIUM, chromium_available

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(chromium_available() is not None,
                                 reason=chromium_available() or "")]
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "hf" / "catalogue-sample.jsonl.gz"
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


@pytest.fixture
def mailed_digest(app, client, make_user, subscribe, smtp):
    """The digest of a reader who saved two of fourteen real Daily Papers (the fixture's, all
    on the newest day), as mailed."""
    papers = importer.read_papers(FIXTURE).papers[:14]
    with app.app_context():
        get_store().upsert_papers([{**paper, "daily_date": NEWEST.isoformat()} for paper in papers])
    _, headers = make_user()
    saved = [event("save", paper["paper_id"]) for paper in papers[12:]]
    assert client.post("/v1/events", headers=headers, json={"events": saved}).status_code == 202
    subscribe(headers, "reader@example.com")
    with app.app_context():
        report = digest_run(get_store(), app.config).run(datetime.now(UTC))
    assert report.outcomes == {"sent": 1}
    message = smtp[0].to("reader@example.com")[-1]
    titles = [" ".join(paper["title"].split()) for paper in papers]
    return message.get_body(preferencelist=("html",)).get_content(), titles


@pytest.mark.parametrize("width", [360, 1200])
def test_digest_renders_its_ten_titles(mailed_digest, width, tmp_path):
    from playwright.sync_api import sync_playwright

    html, titles = mailed_digest
    folder = DOCS_IMG if os.environ.get("PAPERFEED_UPDATE_SCREENSHOTS") == "1" else tmp_path
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.set_content(html, wait_until="load")
            shown = page.locator("ol").first.locator("a.title").all_inner_texts()
            assert len(shown) == 10
            assert set(shown) <= set(titles)
            for title in shown:
                assert page.get_by_role("link", name=title, exact=True).is_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            assert requests == []  # nothing loaded from anywhere
            page.screenshot(path=str(folder / f"digest-{width}.png"), full_page=True)

            light = page.evaluate("getComputedStyle(document.body).backgroundColor")
            page.emulate_media(color_scheme="dark")
            dark = page.evaluate("getComputedStyle(document.body).backgroundColor")
            assert light != dark
            assert page.get_by_role("link", name=shown[0], exact=True).is_visible()
        finally:
            browser.close()
