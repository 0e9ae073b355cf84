"""Journeys of the installer's pages (appliance/kiosk/installer.py): the journey writes the
provisioning status file as `comptoir provision` does, and reads what the screen shows.
`COMPTOIR_SHOTS=DIR` also saves a screenshot of each page there (docs/screens/)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from appliance.kiosk.flows.events import Action, Touched
from appliance.kiosk.installer import Page
from appliance.provisioning_status import STATUS_NAME, State, Status, Step

PROBLEM = (
    "comptoir.txt line 9, hub_id: marketplace.hub_id = 'douze' is wrong: expected a whole number"
)


def _write(k, status: Status) -> None:
    path = Path(k.app.site.device.data_dir) / STATUS_NAME
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(status.to_json())
    temporary.replace(path)


async def _page(k, page: Page, shot: str) -> str:
    panel = k.app.installer
    await k.wait_for(lambda: panel.page is page and panel.parent is not None)
    await k.frames(3)
    k.save_shot(shot)
    return "\n".join((panel.title_label.text, panel.who.text, panel.body.text, panel.hint.text))


def _inked_rows(label) -> int:
    """How many pixel rows of the label's box on screen hold dark ink: its text's height."""
    from kivy.core.window import Window
    from PIL import Image

    left, bottom = label.to_window(label.x, label.y)
    top = Window.height - bottom - label.height  # the image's rows go down from the top
    box = (int(left), int(top), int(left + label.width), int(top + label.height))
    with (
        tempfile.TemporaryDirectory() as folder,
        Image.open(Window.screenshot(name=str(Path(folder) / "shot.png"))) as shot,
    ):
        grey = shot.convert("L").crop(box)
    width = grey.width
    pixels = grey.tobytes()
    rows = (pixels[y * width : (y + 1) * width] for y in range(grey.height))
    return sum(1 for row in rows if min(row) < 100)


async def _provisioning_then_ready(k, words: dict[str, str]) -> None:
    await k.wait_screen("home")
    if words["lang"] != k.app.lang:
        k.app.send(Touched(Action.LANGUAGE, words["lang"]))
    _write(k, Status(State.RUNNING, Step.SETTINGS, device_id="ferme-lilas-1"))
    shown = await _page(k, Page.PROVISIONING, "52-provisioning")
    assert words["setting_up"] in shown and words["done"] in shown, shown

    _write(k, Status(State.FAILED, Step.CARD, (PROBLEM,), "ferme-lilas-1"))
    shown = await _page(k, Page.FAILED, "53-provisioning-refused")
    assert PROBLEM in shown and words["refused"] in shown, shown
    await k.tap_widget(k.app.installer.button)  # continue with the previous settings
    await k.wait_for(lambda: k.app.installer.parent is None)

    _write(k, Status(State.DONE, Step.CARD_CLEANED, (), "ferme-lilas-1", False))
    shown = await _page(k, Page.READY, "54-ready")
    assert words["ready"] in shown and "2 " in shown, shown  # the two products of the test shop
    assert words["scale_found"] in shown, shown
    # The title stands out: it was drawn at the size of the text under it.
    panel = k.app.installer
    title, who = _inked_rows(panel.title_label), _inked_rows(panel.who)
    assert title > 1.5 * who, (title, who)
    await k.tap_widget(k.app.installer.body)  # a touch anywhere opens the shop
    await k.wait_for(lambda: k.app.installer.parent is None)
    assert k.screen == "home"


async def installer_pages_fr(k) -> None:
    await _provisioning_then_ready(
        k,
        {
            "lang": "fr",
            "setting_up": "Installation de cette borne",
            "done": "fait",
            "refused": "comptoir.txt refusé",
            "ready": "Cette borne est prête",
            "scale_found": "Balance   [b][color=2e7d32]en place",
        },
    )


async def installer_pages_en(k) -> None:
    await _provisioning_then_ready(
        k,
        {
            "lang": "en",
            "setting_up": "Setting up this box",
            "done": "done",
            "refused": "comptoir.txt was refused",
            "ready": "This box is ready",
            "scale_found": "Scale   [b][color=2e7d32]found",
        },
    )
