"""Journeys of the installer's pages (appliance/kiosk/installer.py): the journey writes the
provisioning status file as `comptoir provision` does, and reads what the screen shows.
`COMPTOIR_SHOTS=DIR` also saves a screenshot of each page there (docs/screens/)."""

from __future__ import annotations

import os
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
    folder = os.environ.get("COMPTOIR_SHOTS")
    if folder:
        from kivy.core.window import Window

        taken = Path(Window.screenshot(name=str(Path(folder) / "shot.png")))
        taken.replace(Path(folder) / f"{k.app.lang}-{shot}.png")
    return "\n".join((panel.title_label.text, panel.who.text, panel.body.text, panel.hint.text))


async def _provisioning_then_ready(k, words: dict[str, str]) -> None:
    await k.wait_screen("home")
    if words["lang"] != k.app.lang:
        k.app.send(Touched(Action.LANGUAGE, words["lang"]))
    _write(k, Status(State.RUNNING, Step.SETTINGS, device_id="ferme-lilas-1"))
    shown = await _page(k, Page.PROVISIONING, "48-provisioning")
    assert words["setting_up"] in shown and words["done"] in shown, shown

    _write(k, Status(State.FAILED, Step.CARD, (PROBLEM,), "ferme-lilas-1"))
    shown = await _page(k, Page.FAILED, "49-provisioning-refused")
    assert PROBLEM in shown and words["refused"] in shown, shown
    await k.tap_widget(k.app.installer.button)  # continue with the previous settings
    await k.wait_for(lambda: k.app.installer.parent is None)

    _write(k, Status(State.DONE, Step.CARD_CLEANED, (), "ferme-lilas-1", False))
    shown = await _page(k, Page.READY, "50-ready")
    assert words["ready"] in shown and "2 " in shown, shown  # the two products of the test shop
    assert words["scale_found"] in shown, shown
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
