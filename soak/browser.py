"""A person's browser on the web admin: pages fetched, forms read and posted, cookies kept.

It logs in through the login form the web admin offers (whatever fields and hidden tokens it
carries), follows redirects, and posts the forms found on the page with the values a person
would choose, so the soak exercises the same path as a producer on their phone.
"""

from __future__ import annotations

import http.cookiejar
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str, str]] = field(default_factory=list)  # (name, value, text)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._button: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif not self.forms:
            return
        elif tag == "input" and a.get("name"):
            if a.get("type") in ("submit", "button"):
                self.forms[-1].buttons.append((a["name"], a.get("value", ""), a.get("value", "")))
            elif a.get("type") == "checkbox":
                if "checked" in a:
                    self.forms[-1].fields[a["name"]] = a.get("value") or "on"
            else:
                self.forms[-1].fields[a["name"]] = a.get("value", "")
        elif tag == "button":
            self._button = [a.get("name", ""), a.get("value", ""), ""]

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button[2] += data.strip()

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None and self.forms:
            name, value, text = self._button
            self.forms[-1].buttons.append((name, value, text))
            self._button = None


@dataclass
class Page:
    url: str
    status: int
    html: str

    def forms(self) -> list[Form]:
        parser = _Forms()
        parser.feed(self.html)
        return parser.forms


class Browser:
    def __init__(self, base_url: str, *, timeout_s: float = 20) -> None:
        self.base = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.jar = http.cookiejar.CookieJar()
        context = ssl.create_default_context()
        # The box's certificate is its own (self-signed at provisioning): a person checks its
        # fingerprint once; the soak talks to 127.0.0.1 only.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar),
            urllib.request.HTTPSHandler(context=context),
        )

    def get(self, path: str) -> Page:
        return self._open(urllib.request.Request(self._url(path)))

    def submit(
        self,
        page: Page,
        form: Form,
        values: dict[str, str] | None = None,
        button: tuple[str, str, str] | None = None,
    ) -> Page:
        data = dict(form.fields)
        data.update(values or {})
        if button and button[0]:
            data[button[0]] = button[1]
        body = urllib.parse.urlencode(data).encode()
        url = urllib.parse.urljoin(page.url, form.action or page.url)
        if form.method == "post":
            return self._open(urllib.request.Request(url, data=body, method="POST"))
        return self._open(urllib.request.Request(f"{url}?{body.decode()}"))

    def log_in(self, username: str, password: str) -> Page:
        page = self.get("/login")
        form = next(f for f in page.forms() if "password" in f.fields or "username" in f.fields)
        return self.submit(page, form, {"username": username, "password": password})

    def _url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base}{path}"

    def _open(self, request: urllib.request.Request) -> Page:
        try:
            with self.opener.open(request, timeout=self.timeout_s) as answer:
                return Page(
                    answer.geturl(), answer.status, answer.read().decode("utf-8", "replace")
                )
        except urllib.error.HTTPError as error:
            return Page(error.geturl(), error.code, error.read().decode("utf-8", "replace"))
