"""Headless Firefox ESR driven over Marionette, paperfeed installed as a temporary add-on."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.e2e.site import EXTENSION

FIREFOX = os.environ.get("PAPERFEED_FIREFOX", "firefox-esr")
ADDON_ID = json.loads((EXTENSION / "manifest.json").read_text())["browser_specific_settings"]["gecko"]["id"]
ADDON_UUID = "6d1f4c2e-3b7a-4c59-9a0e-5f2d8c1b7e40"  # fixed, so moz-extension:// URLs are known


def firefox_available() -> str | None:
    if not shutil.which(FIREFOX):
        return f"Firefox not installed ({FIREFOX}); apt-get install firefox-esr"
    try:
        import marionette_driver  # noqa: F401
    except ImportError:
        return "marionette_driver not installed; pip install marionette_driver"
    return None


PREFS = {
    "network.dns.forceResolve": "127.0.0.1",  # huggingface.co -> the fixture site on :443
    "extensions.webextensions.uuids": json.dumps({ADDON_ID: ADDON_UUID}),
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.aboutwelcome.enabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.healthreport.uploadEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "app.update.disabledForTesting": True,
    "app.normandy.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "browser.safebrowsing.downloads.enabled": False,
    "extensions.update.enabled": False,
    "extensions.getAddons.cache.enabled": False,
    "services.settings.server": "http://127.0.0.1:9/",
    "network.http.speculative-parallel-limit": 0,
    "browser.newtabpage.enabled": False,
    "extensions.autoDisableScopes": 0,
    "xpinstall.signatures.required": False,
    "browser.startup.page": 0,
    "browser.startup.homepage": "about:blank",
    "startup.homepage_welcome_url": "about:blank",
    "startup.homepage_welcome_url.additional": "",
    "browser.sessionstore.resume_from_crash": False,
    "browser.tabs.warnOnClose": False,
    "toolkit.startup.max_resumed_crashes": -1,
    "browser.region.network.url": "",
    "browser.search.geoip.url": "",
    "geo.provider.network.url": "",
    "network.trr.mode": 5,
}


class FirefoxWithExtension:
    def __init__(self, profile_dir: Path, marionette_port: int, width: int = 1920, height: int = 1080) -> None:
        from marionette_driver.addons import Addons
        from marionette_driver.marionette import Marionette

        profile_dir.mkdir(parents=True, exist_ok=True)
        prefs = {**PREFS, "marionette.port": marionette_port}
        (profile_dir / "user.js").write_text(
            "".join(f'user_pref("{k}", {json.dumps(v)});\n' for k, v in prefs.items()))
        self.log = open(profile_dir / "firefox.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [FIREFOX, "--marionette", "-remote-allow-system-access", "--headless", "--no-remote",
             "--profile", str(profile_dir)],
            stdout=self.log, stderr=self.log, env={**os.environ, "MOZ_HEADLESS": "1"},
            start_new_session=True,
        )
        # Wait for the port ourselves: marionette_driver's own polling leaks sockets.
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", marionette_port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self._stop_process()
                    raise RuntimeError(f"Firefox did not open Marionette: see {profile_dir / 'firefox.log'}") from None
                time.sleep(0.1)
        self.m = Marionette(host="127.0.0.1", port=marionette_port)
        self.m.start_session({"acceptInsecureCerts": True})
        self.m.set_window_rect(width=width, height=height)
        Addons(self.m).install(str(EXTENSION), temp=True)
        self.base = f"moz-extension://{ADDON_UUID}/"

    def open_extension_page(self, path: str) -> None:
        """Load a moz-extension:// page in the current tab (Marionette's navigate refuses them)."""
        url = self.base + path
        with self.m.using_context("chrome"):
            self.m.execute_script(
                """
                const [url] = arguments;
                const browser = Services.wm.getMostRecentWindow("navigator:browser").gBrowser.selectedBrowser;
                const principal = Services.scriptSecurityManager.getSystemPrincipal();
                const options = { triggeringPrincipal: principal };
                if (browser.fixupAndLoadURIString) browser.fixupAndLoadURIString(url, options);
                else browser.loadURI(Services.io.newURI(url), options);
                """,
                script_args=[url],
            )
        deadline = time.monotonic() + 10
        while self.m.get_url() != url or self.js("return document.readyState") != "complete":
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not load (at {self.m.get_url()})")
            time.sleep(0.1)

    def js(self, script: str, *args):
        return self.m.execute_script(script, script_args=list(args))

    def close(self) -> None:
        try:
            self.m.delete_session()
        except Exception:  # noqa: BLE001
            pass
        self._stop_process()

    def _stop_process(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.log.close()
