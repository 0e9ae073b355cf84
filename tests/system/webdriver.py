"""A tiny W3C WebDriver client over urllib, enough to drive headless Chromium through chromedriver.

It starts chromedriver on a free port, opens one session, and offers what the web admin tests
need: navigate, find by CSS (waiting for it), click, type, read text, take a screenshot.
"""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM = "/usr/bin/chromium"
ELEMENT_KEY = "element-6066-11e4-a52e-4f735466cecf"
TIMEOUT_S = 30.0


class WebDriverError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Element:
    def __init__(self, browser: Browser, element_id: str) -> None:
        self.browser = browser
        self.id = element_id

    def click(self) -> None:
        self.browser.call("POST", f"/element/{self.id}/click", {})

    def send_keys(self, text: str) -> None:
        self.browser.call("POST", f"/element/{self.id}/value", {"text": text})

    def clear(self) -> None:
        self.browser.call("POST", f"/element/{self.id}/clear", {})

    @property
    def text(self) -> str:
        return self.browser.call("GET", f"/element/{self.id}/text")


class Browser:
    """One chromedriver process and one headless Chromium session; close() ends both."""

    def __init__(self, profile_dir: Path) -> None:
        self.port = free_port()
        self.driver = subprocess.Popen(
            [CHROMEDRIVER, f"--port={self.port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        self.session = ""
        try:
            self._wait_ready()
            options = {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--window-size=1000,900",
                    f"--user-data-dir={profile_dir}",
                ],
            }
            created = self._request(
                "POST",
                "/session",
                {"capabilities": {"alwaysMatch": {"goog:chromeOptions": options}}},
            )
            self.session = created["sessionId"]
        except BaseException:
            self.close()
            raise

    # -- the commands the tests use ---------------------------------------------------------------

    def get(self, url: str) -> None:
        self.call("POST", "/url", {"url": url})

    @property
    def url(self) -> str:
        return self.call("GET", "/url")

    def find(self, css: str, timeout_s: float = TIMEOUT_S) -> Element:
        """The first element matching `css`, waiting for it to appear."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                found = self.call("POST", "/element", {"using": "css selector", "value": css})
                return Element(self, found[ELEMENT_KEY])
            except WebDriverError as exc:
                if "no such element" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(0.1)

    def wait_for_text(self, css: str, text: str, timeout_s: float = TIMEOUT_S) -> str:
        """The text of `css` once it contains `text` (the page may still be loading)."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                seen = self.find(css, timeout_s).text
            except WebDriverError as exc:  # the page changed under us: look again
                if "stale element" not in str(exc):
                    raise
                seen = ""
            if text in seen:
                return seen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared in {css}; last seen: {seen!r}")
            time.sleep(0.1)

    def screenshot(self, path: Path) -> Path:
        path.write_bytes(base64.b64decode(self.call("GET", "/screenshot")))
        return path

    def close(self) -> None:
        try:
            if self.session:
                self._request("DELETE", f"/session/{self.session}")
        except (OSError, WebDriverError):
            pass
        finally:
            self.driver.terminate()
            try:
                self.driver.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.driver.kill()
                self.driver.wait()

    # -- protocol ---------------------------------------------------------------------------------

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._request(method, f"/session/{self.session}{path}", body)

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            answer = json.loads(exc.read() or b"{}")
            value = answer.get("value", {})
            raise WebDriverError(
                f"{value.get('error')}: {value.get('message', '')[:300]}"
            ) from None
        return answer.get("value", answer)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            try:
                if self._request("GET", "/status").get("ready"):
                    return
            except OSError:
                pass
            if self.driver.poll() is not None or time.monotonic() > deadline:
                raise WebDriverError("chromedriver did not start")
            time.sleep(0.1)
