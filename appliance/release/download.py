"""Fetching a bundle from the fleet's HTTPS file server, resumed where a cut left it.

The file grows as `<name>.part` beside its final name; after a cut (network, power) the next
try asks only for the missing bytes (HTTP Range). The finished file must have the SHA-256 the
admin's command announced, else it is thrown away. Only https URLs; the server's certificate
is checked against `[updates] ca_file` (or the system's CAs).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import ssl
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from appliance.release import failpoint
from appliance.release.errors import ReleaseError

CHUNK = 256 * 1024
TRIES = 6
TIMEOUT_S = 30
MAX_BYTES = 2 * 1024**3
_TOTAL = re.compile(r"bytes \d+-\d+/(\d+)")

Progress = Callable[[int, int], None]  # bytes so far, total


def fetch(
    url: str,
    target: Path,
    sha256: str | None,
    *,
    ca_file: Path | None = None,
    progress: Progress = lambda done, total: None,
    room: Callable[[int], None] = lambda total: None,
    tries: int = TRIES,
    pause_s: float = 1.0,
) -> Path:
    """Download `url` to `target` (resuming `target.part`); `room(total)` may refuse the size.

    `sha256` None: the admin's console learning a bundle's hash (the box always checks it)."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ReleaseError(f"bundle URL {url!r} is wrong: expected https://host/path")
    if sha256 and target.is_file() and _sha256(target) == sha256:
        return target
    partial = target.with_name(target.name + ".part")
    target.parent.mkdir(parents=True, exist_ok=True)
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    # Strict X.509, as Python 3.13 (Trixie boxes) does by default: a CA that a Trixie box would
    # refuse is refused on every box, so the admin learns it on the first one.
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    last_error = ""
    for attempt in range(tries):
        try:
            if _transfer(parts, partial, context, progress, room):
                break
        except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
            if isinstance(exc, ssl.SSLCertVerificationError):
                raise ReleaseError(
                    f"the file server's certificate is not trusted ({exc.verify_message}): "
                    "check the CA file ([updates] ca_file on a box, --files-ca for the console); "
                    "a CA needs keyUsage keyCertSign, a server certificate its names and an "
                    "authority key id (strict X.509)"
                ) from None
            last_error = str(exc) or type(exc).__name__
        time.sleep(pause_s * (attempt + 1))
    else:
        have = partial.stat().st_size if partial.exists() else 0
        raise ReleaseError(
            f"download incomplete after {tries} tries: {have} bytes received ({last_error}); "
            "send the command again to resume"
        )
    if sha256 and _sha256(partial) != sha256:
        partial.unlink()
        raise ReleaseError(
            "the downloaded bundle's SHA-256 differs from the one in the command: the file on "
            "the server is not the one announced (or was cut); nothing was installed"
        )
    os.replace(partial, target)
    return target


def _transfer(parts, partial: Path, context: ssl.SSLContext, progress: Progress, room) -> bool:
    """One request; True when the file is whole."""
    have = partial.stat().st_size if partial.exists() else 0
    connection = http.client.HTTPSConnection(
        parts.hostname, parts.port or 443, timeout=TIMEOUT_S, context=context
    )
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {"Range": f"bytes={have}-"} if have else {}
        connection.request("GET", path or "/", headers=headers)
        response = connection.getresponse()
        if response.status == 416 and have:
            return True  # we have it all already
        if response.status == 200:
            have = 0
            total = int(response.getheader("Content-Length") or 0)
        elif response.status == 206:
            match = _TOTAL.fullmatch(response.getheader("Content-Range") or "")
            if match is None:
                raise ReleaseError("the file server answered a range without its size")
            total = int(match[1])
        else:
            raise ReleaseError(
                f"the file server answered {response.status} {response.reason} "
                f"for {parts.path}: check the bundle URL"
            )
        if total > MAX_BYTES:
            raise ReleaseError(f"the bundle is {total} bytes, more than a bundle may be")
        room(total)
        with partial.open("ab" if have else "wb") as out:
            while chunk := response.read(CHUNK):
                out.write(chunk)
                have += len(chunk)
                progress(have, total)
                if have * 2 >= total:
                    failpoint.reached("download:half")
            out.flush()
            os.fsync(out.fileno())
        return have >= total
    finally:
        connection.close()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
