"""Headless Chromium (Debian's /usr/bin/chromium) with the unpacked extension loaded."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from tests.e2e.site import EXTENSION

CHROMIUM = os.environ.get("PAPERFEED_CHROMIUM", "/usr/bin/chromium")
SIDEBAR = "#paperfeed-root"


def chromium_available() -> str | None:
    """Why Chromium e2e cannot run here, or None when it can."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"Chromium not installed ({CHROMIUM}); apt-get install chromium"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python playwright not installed; pip install playwright"
    return None


class ExtensionBrowser:
    """A persistent Chromium context with paperfeed, its service worker and extension id."""

    def __init__(self, playwright, profile_dir: Path, site_port: int,
                 width: int = 1920, height: int = 1080) -> None:
        args = [
            f"--disable-extensions-except={EXTENSION}",
            f"--load-extension={EXTENSION}",
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--host-resolver-rules=MAP huggingface.co 127.0.0.1:{site_port}",
            "--ignore-certificate-errors",
        ]
        self.context = playwright.chromium.launch_persistent_context(
            str(profile_dir), executable_path=CHROMIUM, headless=True, args=args,
            ignore_https_errors=True, viewport={"width": width, "height": height},
        )
        workers = self.context.service_workers
        self.worker = workers[0] if workers else self.context.wait_for_event("serviceworker", timeout=15000)
        self.extension_id = self.worker.url.split("/")[2]
        self.console: list[str] = []

    def page(self):
        page = self.context.new_page()
        page.set_default_timeout(10000)
        page.on("console", lambda msg: self.console.append(f"{msg.type}: {msg.text}"))
        return page

    def storage(self, key: str):
        return self.worker.evaluate("async (k) => (await chrome.storage.local.get(k))[k]", key)

    def set_backend(self, url: str) -> None:
        self.worker.evaluate(
            "async (url) => chrome.storage.local.set("
            "{'pf:settings': {backendUrl: url, paused: false, collapsed: false}})",
            url,
        )

    def token(self) -> str | None:
        auth = self.storage("pf:auth")
        return auth and auth.get("token")

    def queue_length(self) -> int:
        return len(self.storage("pf:queue") or [])

    def record_backend_requests(self) -> None:
        """From now on, note the URL of every request the background sends to the backend."""
        self.worker.evaluate(
            "() => { const b = globalThis.paperfeed.backend; if (b.__urls) return; b.__urls = [];"
            " const send = b.fetch;"
            " b.fetch = (url, init) => { b.__urls.push(String(url)); return send(url, init); }; }")

    def backend_requests(self, path: str) -> list[dict[str, str]]:
        """Query parameters of the recorded requests to `path` (e.g. /v1/recommendations), oldest first."""
        urls = self.worker.evaluate("() => globalThis.paperfeed.backend.__urls || []")
        return [dict(parse_qsl(urlsplit(u).query)) for u in urls if urlsplit(u).path == path]

    def extension_url(self, path: str) -> str:
        return f"chrome-extension://{self.extension_id}/{path}"

    def close(self) -> None:
        self.context.close()


def sidebar_titles(page) -> list[str]:
    """Titles in the sidebar, top first (Playwright's CSS locators pierce its open shadow root)."""
    return page.locator(f"{SIDEBAR} li a").all_inner_texts()
