"""The web admin's memory (goal: under 60 MB resident on the box, `make bench`): what only a
few pages or another process need stays out of the web process until it is used."""

from __future__ import annotations

import json
import subprocess
import sys

#: Each costs 1 to 5 MB resident: label drawing, PDFs, certificate making, the fiscal chain's
#: parallel verification, and urllib's request machinery.
HEAVY = (
    "barcode",
    "PIL",
    "fpdf",
    "cryptography.x509",
    "multiprocessing",
    "concurrent.futures",
    "urllib.request",
)


def test_the_web_process_starts_without_what_only_some_pages_need() -> None:
    """What `comptoir web` imports before it serves (commands/web.py, create_app, serve)."""
    script = (
        "import json, sys\n"
        "import appliance.cli, appliance.commands.web\n"
        "from appliance import memory\n"
        "from appliance.web import create_app, serve\n"
        "from appliance.certificate import ensure_certificate, web_fingerprint\n"
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(loaded.stdout) == []
