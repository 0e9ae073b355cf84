"""Headless Chromium driven by selenium through Debian's chromedriver, for the web admin tests.

Only Debian's binaries are used (no driver download): the paths are given to selenium, so its
driver manager has nothing to look for. Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import base64
import hashlib
import time
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM = "/usr/bin/chromium"
TIMEOUT_S = 30.0
PHONE = (360, 780)
LAPTOP = (1280, 900)


def start(profile_dir: Path, *, language: str = "fr-FR", size: tuple[int, int] = LAPTOP) -> Browser:
    """A fresh headless Chromium whose profile lives in `profile_dir` (deleted with tmp_path)."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--ignore-certificate-errors",  # the box's own self-signed certificate, on 127.0.0.1
        f"--lang={language}",
        f"--user-data-dir={profile_dir}",
    ):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.execute_cdp_cmd("Network.enable", {})  # before any page: it keeps the certificates
    browser = Browser(driver)
    browser.resize(*size)
    return browser


class Browser:
    """The few things the tests do, each waiting for the page rather than sleeping."""

    def __init__(self, driver: webdriver.Chrome) -> None:
        self.driver = driver

    def get(self, url: str) -> None:
        self.driver.get(url)

    @property
    def url(self) -> str:
        return self.driver.current_url

    def find(self, css: str, timeout_s: float = TIMEOUT_S):  # -> WebElement
        return WebDriverWait(self.driver, timeout_s).until(
            lambda d: d.find_element(By.CSS_SELECTOR, css)
        )

    def find_all(self, css: str) -> list:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def type_into(self, css: str, text: str) -> None:
        field = self.find(css)
        field.clear()
        field.send_keys(text)

    def wait_for_text(self, css: str, text: str, timeout_s: float = TIMEOUT_S) -> str:
        """The text of `css` once it contains `text` (the page may still be loading)."""
        deadline = time.monotonic() + timeout_s
        seen = ""
        while time.monotonic() < deadline:
            try:
                seen = self.find(css, timeout_s).text
            except (StaleElementReferenceException, WebDriverException) as exc:
                # The page changed under us ("stale", or Chromium's "Node ... does not belong to
                # the document" while it navigates): look again; a real problem still times out.
                seen = f"({type(exc).__name__})"
            if text in seen:
                return seen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared in {css}; last seen: {seen!r}")

    def resize(self, width: int, height: int) -> None:
        """The viewport (not the window) to `width` x `height` CSS pixels, like a phone's."""
        self.driver.set_window_size(width, height)
        inner_w, inner_h = self.driver.execute_script(
            "return [window.innerWidth, window.innerHeight]"
        )
        self.driver.set_window_size(2 * width - inner_w, 2 * height - inner_h)

    def page_width(self) -> int:
        """How wide the page is drawn: wider than the viewport means sideways scrolling."""
        return int(self.driver.execute_script("return document.documentElement.scrollWidth"))

    def viewport_width(self) -> int:
        return int(self.driver.execute_script("return window.innerWidth"))

    def screenshot(self, path: Path, *, full_page: bool = True) -> Path:
        """A PNG of the page; `full_page` grows the window to the page's height first."""
        if full_page:
            width = self.viewport_width()
            height = int(self.driver.execute_script("return document.body.scrollHeight"))
            self.resize(width, max(height, 200))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.driver.get_screenshot_as_png())
        return path

    def certificate_fingerprint(self, origin: str) -> str:
        """The SHA-256 of the certificate Chromium received from `origin`, written as browsers
        show it (what a producer reads in the padlock's certificate viewer)."""
        chain = self.driver.execute_cdp_cmd("Network.getCertificate", {"origin": origin})
        digest = hashlib.sha256(base64.b64decode(chain["tableNames"][0])).hexdigest().upper()
        return "SHA-256 " + ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))

    def close(self) -> None:
        self.driver.quit()
