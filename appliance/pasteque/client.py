"""HTTP client of a Pastèque API v8 server, as a cash register uses it.

Logs in with the instance account (`POST /api/login`, form fields), keeps the JWT it gets and
replaces it with the fresh one in the `Token` header of every answer; a 403 ("Not logged": the
token passed its `jwt_timeout`) means one new login and the same request again. Writes are form
posts whose field holds a JSON string, sent exactly as the caller froze it. One attempt per
request: the gateway owns retries and backoff, so that a queue survives restarts. The password
is read from a file and never logged.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.errors import ComptoirError

log = logging.getLogger(__name__)


class PastequeError(ComptoirError):
    """Something between this box and the Pastèque server went wrong."""


class PastequeUnavailable(PastequeError):
    """Down, in maintenance, too slow or unreachable: try again later, nothing was lost."""


class PastequeAuthError(PastequeError):
    """The instance account or its password is wrong."""

    exit_code = 3


class PastequeRefused(PastequeError):
    """A 4xx answer: this request will not succeed by sending it again."""

    def __init__(self, message: str, status: int, reason: str, body: Any) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.body = body


@dataclass(frozen=True)
class Answer:
    status: int
    reason: str
    body: Any


def read_password(path: Path | None) -> str:
    """The password from `[pasteque] password_file`; its text is never logged or stored."""
    if path is None:
        raise PastequeAuthError(
            "no Pastèque password: set [pasteque] password_file to a file holding the password "
            "of the instance account named in [pasteque] user"
        )
    try:
        password = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise PastequeAuthError(
            f"cannot read the Pastèque password file {path} ([pasteque] password_file): "
            f"{exc.strerror}"
        ) from None
    if not password:
        raise PastequeAuthError(f"the Pastèque password file {path} is empty: write it there")
    return password


class Client:
    """One Pastèque instance seen through one instance account."""

    def __init__(self, url: str, user: str, password: str, *, timeout_s: float = 20) -> None:
        if not url.startswith(("http://", "https://")):
            raise PastequeError(
                f"[pasteque] url = {url!r} is wrong: expected the server's address, such as "
                "https://pasteque.example.org (the API lives under /api/ there)"
            )
        self.base = url.rstrip("/")
        self.user = user
        self._password = password
        self.timeout_s = timeout_s
        self._token = ""
        self._lock = threading.Lock()
        self.requests = 0
        self.logins = 0

    # -- the routes a till uses -------------------------------------------------------------------

    def login(self) -> None:
        """A fresh token; `null` in a 200 answer is a refused login."""
        answer = self._send("POST", "/api/login", {"user": self.user, "password": self._password})
        if not isinstance(answer.body, str) or not answer.body:
            raise PastequeAuthError(
                f"Pastèque at {self.base} refused the login of {self.user!r}: check [pasteque] "
                "user and the password in [pasteque] password_file (an instance account, not a "
                "cashier)"
            )
        with self._lock:
            self._token = self._token or answer.body
        self.logins += 1

    def version(self) -> dict[str, Any]:
        return self._object(self.get("/api/version"), "/api/version")

    def register(self, reference: str) -> dict[str, Any] | None:
        """The cash register with this reference, or None when the server has none."""
        try:
            body = self.get(f"/api/cashregister/getByReference/{_segment(reference)}")
        except PastequeRefused as exc:
            if exc.status == 404:
                return None
            raise
        return self._object(body, "getByReference")

    def sync(self, label: str) -> dict[str, Any]:
        """Everything at once for the register with this *label*, its current session included."""
        return self._object(self.get(f"/api/sync/{_segment(label)}"), "/api/sync")

    def session(self, register_id: int, sequence: int) -> dict[str, Any] | None:
        body = self.get(f"/api/cashsession/{register_id}/{sequence}")
        return None if body is None else self._object(body, "/api/cashsession")

    def summary(self, register_id: int, sequence: int) -> dict[str, Any]:
        path = f"/api/cashsession/summary/{register_id}/{sequence}"
        return self._object(self.get(path), path)

    def closed_sessions(self, register_id: int, since_s: int) -> list[dict[str, Any]]:
        query = urllib.parse.urlencode({"cashRegister": register_id, "dateStart": since_s})
        body = self.get(f"/api/cash/search/?{query}")
        if not isinstance(body, list):
            raise PastequeUnavailable("unexpected answer from /api/cash/search: not a list")
        return body

    def post_tickets(self, tickets_json: str) -> dict[str, Any]:
        """`tickets=<JSON array>`; the answer lists successes, failures and errors."""
        body = self._authenticated("POST", "/api/ticket", {"tickets": tickets_json}).body
        answer = self._object(body, "/api/ticket")
        if not all(isinstance(answer.get(k), list) for k in ("successes", "failures", "errors")):
            raise PastequeUnavailable("unexpected answer from /api/ticket: no successes list")
        return answer

    def post_session(self, session_json: str) -> dict[str, Any]:
        """`session=<JSON object>`: opens or closes; the answer is the stored session."""
        body = self._authenticated("POST", "/api/cash", {"session": session_json}).body
        return self._object(body, "/api/cash")

    def get(self, path: str) -> Any:
        return self._authenticated("GET", path, None).body

    # -- plumbing ---------------------------------------------------------------------------------

    def _authenticated(self, method: str, path: str, form: dict[str, str] | None) -> Answer:
        if not self._token:
            self.login()
        try:
            return self._send(method, path, form)
        except _NotLogged:
            log.info("Pastèque token expired; logging in again")
            with self._lock:
                self._token = ""
            self.login()
            try:
                return self._send(method, path, form)
            except _NotLogged:
                raise PastequeAuthError(
                    f"Pastèque at {self.base} says 'Not logged' right after a login: check "
                    "that its clock and jwt_timeout are sane"
                ) from None

    def _send(self, method: str, path: str, form: dict[str, str] | None) -> Answer:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        headers = {"Accept": "application/json"}
        with self._lock:
            if self._token:
                headers["Token"] = self._token
        if data is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        self.requests += 1
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                status, reason, raw = resp.status, resp.reason, resp.read()
                token, content_type = resp.headers.get("Token"), resp.headers.get_content_type()
        except urllib.error.HTTPError as exc:
            status, reason, content_type = exc.code, str(exc.reason), exc.headers.get_content_type()
            token = exc.headers.get("Token")
            try:
                raw = exc.read()
            except OSError:
                raw = b""
        except (OSError, TimeoutError) as exc:
            why = getattr(exc, "reason", exc)
            raise PastequeUnavailable(
                f"no answer from Pastèque at {self.base} ({method} {path}: {why}); nothing is "
                "lost, the box tries again"
            ) from None
        if token:
            with self._lock:
                self._token = token
        return self._answer(method, path, status, reason, raw, content_type)

    def _answer(
        self, method: str, path: str, status: int, reason: str, raw: bytes, content_type: str
    ) -> Answer:
        looks_html = "html" in content_type or raw.lstrip()[:1] == b"<"
        if status >= 500 or (status < 300 and looks_html):
            kind = "a maintenance or error page" if looks_html else "an error"
            raise PastequeUnavailable(
                f"Pastèque at {self.base} answered {method} {path} with HTTP {status} and {kind}; "
                "nothing is lost, the box tries again"
            )
        if status == 403:
            raise _NotLogged()
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError:
            if status < 300:
                raise PastequeUnavailable(
                    f"Pastèque's answer to {method} {path} was cut off; the box tries again"
                ) from None
            body = raw.decode("utf-8", "replace")
        if status >= 400:
            said = reason if reason and reason not in ("Bad Request", "Not Found") else ""
            detail = said or _error_text(body) or reason
            raise PastequeRefused(
                f"Pastèque refused {method} {path} (HTTP {status}: {detail})", status, reason, body
            )
        return Answer(status, reason, body)

    @staticmethod
    def _object(body: Any, what: str) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise PastequeUnavailable(f"unexpected answer from {what}: not a JSON object")
        return body


class _NotLogged(Exception):
    """403: the token is missing or past its timeout."""


def _segment(text: str) -> str:
    """A reference or label inside a URL path, quoted (labels may hold spaces and accents)."""
    return urllib.parse.quote(text, safe="")


def _error_text(body: Any) -> str:
    if isinstance(body, dict):
        parts = [str(body.get(k)) for k in ("error", "constraint", "field") if body.get(k)]
        return " ".join(parts)
    return str(body or "")[:200]
