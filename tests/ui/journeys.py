"""Whole customer journeys, run by `harness` inside the real kiosk against the simulators."""

from __future__ import annotations

from typing import Any, cast

from appliance.devices.payment.simulator import Scenario
from appliance.devices.printers.simulator import Paper
from tests.found import found


async def weighed_purchase(k) -> None:
    await k.wait_screen("home")
    await k.tap("start")
    await k.tap_product("POMMES")
    await k.wait_screen("weigh")
    k.shop.put(1234)
    await k.wait_for(lambda: k.text("weight") == "1,234 kg")
    assert k.text("price") == "4,31 €", k.text("price")
    assert k.text("unit_price") == "3,49 € /kg"
    await k.wait_for(lambda: not k.widget("print_label").disabled)  # the weight is stable
    await k.tap("print_label")
    await k.wait_screen("basket")
    await k.wait_for(lambda: k.shop.printer.labels_received() == 1)
    await k.tap("pay")
    await k.wait_screen("receipt")
    assert "4,31 €" in k.text("total")
    assert k.app.flow.journey.receipt_url.startswith("https://example.org/r/1?t=")
    assert k.widget("qr").texture is not None
    await k.wait_for(lambda: k.shop.printer.labels_received() == 2)  # the label, then the receipt
    assert b"Ticket n" in k.shop.printer.received
    await k.tap("done")
    await k.wait_screen("thank_you")
    await k.wait_for(lambda: k.screen == "home", timeout=30)


async def piece_purchase(k) -> None:
    await k.wait_screen("home")
    await k.tap("lang_en")
    await k.tap("start")
    await k.tap_product("OEUFS")
    await k.wait_screen("pieces")
    await k.tap("more")
    await k.tap("more")
    await k.wait_for(lambda: k.text("price") == "9.60 €")
    await k.tap("add")
    await k.wait_screen("basket")
    assert k.text("total") == "Total 9.60 €", k.text("total")
    await k.tap("pay")
    await k.wait_screen("receipt")


async def pay_for_eggs(k) -> None:
    """From home: one box of eggs in the basket, and the customer presses pay."""
    await k.tap("start")
    await k.tap_product("OEUFS")
    await k.wait_screen("pieces")
    await k.tap("add")
    await k.wait_screen("basket")
    await k.tap("pay")


async def declined_card(k) -> None:
    k.shop.next_payment(Scenario.DECLINED)
    await pay_for_eggs(k)
    await k.wait_for(lambda: k.screen == "payment_failed")
    await k.frames(2)
    assert "refusée" in k.text("body"), k.text("body")
    k.shop.next_payment(Scenario.APPROVED)
    await k.tap_text("Réessayer")
    await k.wait_screen("receipt")


async def unknown_outcome(k) -> None:
    k.shop.next_payment(Scenario.CLOSED_AFTER_APPROVAL)
    await pay_for_eggs(k)
    await k.wait_for(lambda: k.screen == "payment_unknown")
    await k.frames(2)
    assert "Ne payez pas une deuxième fois" in k.text("body"), k.text("body")
    assert k.app.flow.journey.lines == []
    await k.tap_text("OK")
    await k.wait_screen("home")


async def out_of_paper(k) -> None:
    k.shop.paper(Paper.OUT)
    await k.wait_for(lambda: k.app.flow.journey.paper.value == "paper_out")
    await k.tap("start")
    await k.tap_product("OEUFS")
    await k.wait_screen("pieces")
    await k.tap("print_label")
    await k.wait_for(lambda: k.screen == "paper_out")
    await k.frames(2)
    await k.tap_text("Continuer sans étiquette")
    await k.wait_screen("basket")
    await k.tap("pay")
    await k.wait_for(lambda: k.screen == "paper_out")
    await k.frames(2)
    await k.tap_text("Payer sans ticket")
    await k.wait_screen("receipt")
    assert k.shop.printer.labels_received() == 0


async def scale_unplugged_and_back(k) -> None:
    await k.tap("start")
    await k.tap_product("POMMES")
    await k.wait_screen("weigh")
    k.shop.put(500)
    await k.wait_for(lambda: k.text("weight") == "0,500 kg")
    k.shop.unplug_scale()
    await k.wait_for(lambda: k.screen == "scale_missing")
    k.shop.unplug_scale(False)
    await k.wait_screen("weigh")
    await k.wait_for(lambda: k.text("price") == "1,75 €")
    await k.tap("add")
    await k.wait_screen("basket")


async def device_commands(k) -> None:
    """Another process queues commands; the running kiosk carries them out and answers."""
    from appliance.store import device_commands as queue
    from appliance.store.db import open_database

    await k.wait_screen("home")
    await k.tap("start")
    db = open_database(k.app.site.database_path)  # a second connection, like the web admin's
    try:
        names = [*map(queue.CommandName, ("print_test_label", "scale_zero", "restart_ui"))]
        names.append(cast(queue.CommandName, "open_the_safe"))  # a command of another release
        asked = {name: queue.queue(db, name, requested_by="web").id for name in names}
        done: dict[str, Any] = {name: await k.command_done(db, cid) for name, cid in asked.items()}
    finally:
        db.close()
    assert done["print_test_label"].state == "done", done["print_test_label"]
    assert done["scale_zero"].result == {"zeroed": True}
    assert done["restart_ui"].state == "done"
    assert done["open_the_safe"].state == "refused"
    await k.wait_screen("home")  # restart_ui went back to the start
    await k.wait_for(lambda: k.shop.printer.labels_received() == 1)


async def pause_for_update(k) -> None:
    """An update waits while a customer shops, then shows "back in a minute" over everything."""
    from appliance.store import device_commands as queue
    from appliance.store.db import open_database

    db = open_database(k.app.site.database_path)

    async def ask() -> queue.DeviceCommand:
        asked = queue.queue(
            db, queue.CommandName.PAUSE_FOR_UPDATE, {"hold_s": 60}, requested_by="update"
        )
        await k.wait_for(lambda: found(queue.get(db, asked.id)).finished)  # the UI thread answers
        return found(queue.get(db, asked.id))

    try:
        await k.wait_screen("home")
        await k.tap("start")
        await k.wait_screen("catalogue")
        busy = await ask()
        assert busy.state == "refused" and "customer" in found(busy.result)["error"], busy
        assert getattr(k.app, "back_soon", None) is None
        await k.tap("back")
        await k.wait_screen("home")
        idle = await ask()
    finally:
        db.close()
    assert idle.state == "done" and idle.result == {"paused_s": 60}, idle
    await k.wait_for(lambda: getattr(k.app, "back_soon", None) is not None)
    await k.wait_for(lambda: k.app.back_soon.parent is not None)
    await k.frames(3)
    k.save_shot("51-back-in-a-minute")
    assert "De retour dans une minute" in k.app.back_soon.children[0].text


async def screen_map(k) -> None:
    """The probe file follows the screen: home's buttons, then the catalogue's visible tiles."""
    import json
    import os
    from pathlib import Path

    probe = Path(os.environ["COMPTOIR_KIOSK_PROBE"])

    def shown() -> dict:
        try:
            return json.loads(probe.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    await k.wait_screen("home")
    await k.wait_for(lambda: shown().get("screen") == "home")
    await k.frames(20)
    await k.wait_for(lambda: any(w["id"] == "start" for w in shown().get("widgets", [])))
    start = next(w for w in shown()["widgets"] if w["id"] == "start")
    assert start["text"] == "Touchez pour commencer" and start["touchable"], start
    x, y, w, h = start["rect"]
    width, height = shown()["size"]
    assert x >= 0 and x + w <= width and y >= 0 and y + h <= height and w > 100, start
    await k.tap("start")
    await k.wait_for(lambda: shown().get("screen") == "catalogue")
    await k.wait_for(lambda: any(t.get("sku") == "POMMES" for t in shown()["widgets"]))
    tile = next(t for t in shown()["widgets"] if t.get("sku") == "POMMES")
    assert tile["touchable"] and not tile["disabled"], tile

    def spot(match) -> dict | None:
        return next((w for w in shown().get("widgets", []) if match(w)), None)

    # "Are you still there?" takes every touch: what is under it is listed, not touchable.
    k.app.flow.idle_prompt = True
    k.app.render()
    await k.wait_for(lambda: (spot(lambda w: w["id"] == "still_here") or {}).get("touchable"))
    assert not found(spot(lambda w: w.get("sku") == "POMMES"))["touchable"], shown()
    await k.tap_widget(k.app.idle_prompt.ids.still_here)
    await k.wait_for(lambda: spot(lambda w: w["id"] == "still_here") is None)
    assert found(spot(lambda w: w.get("sku") == "POMMES"))["touchable"], shown()


async def catalogue_pictures(k) -> None:
    """Every tile shows a picture: the product's own thumbnail, else its category's pictogram;
    a long name wraps on two lines between words; the category row says it scrolls."""
    from pathlib import Path

    await k.wait_screen("home")
    await k.tap("start")
    await k.wait_screen("catalogue")
    await k.wait_for(lambda: len(k.widget("grid").children) == 3)
    await k.frames(3)
    tiles = {tile.sku: tile for tile in k.widget("grid").children}
    sources = {sku: Path(tile.ids.photo.source) for sku, tile in tiles.items()}
    assert all(path.is_file() for path in sources.values()), sources
    assert sources["POMMES"].suffix == ".jpg", sources  # its own photo, made a thumbnail
    assert sources["OEUFS"].name == "pictogram-cheese.png", sources
    assert sources["COURGE"].name == "pictogram-vegetable.png", sources
    name = tiles["COURGE"].ids.name.text
    assert name.count("\n") == 1 and "…" not in name, name
    assert name.split() == ["Courge", "butternut", "du", "jardin", "bio"], name
    assert k.widget("more_categories").opacity == 0  # three categories fit on 800 px


async def disabled_until_ready(k) -> None:
    """Label and basket buttons look disabled and say why until the weight is stable; a printed
    label is said on the basket; the basket can be cancelled; the language on is marked."""
    await k.wait_screen("home")
    assert k.widget("lang_fr").on and not k.widget("lang_en").on
    await k.tap("start")
    await k.tap_product("POMMES")
    await k.wait_screen("weigh")
    k.shop.put(0)
    await k.wait_for(lambda: k.text("status") == "Posez vos produits sur la balance")
    assert k.widget("print_label").disabled and k.widget("add").disabled
    grey = tuple(k.widget("print_label").background_color)
    status = k.widget("status")
    assert status.y >= k.widget("print_label").top  # beside the buttons, not in the title
    await k.tap("print_label")
    assert k.screen == "weigh" and k.shop.printer.labels_received() == 0
    k.shop.put(1234)
    await k.wait_for(lambda: not k.widget("print_label").disabled)
    assert tuple(k.widget("print_label").background_color) != grey
    await k.tap("print_label")
    await k.wait_screen("basket")
    assert k.text("notice").startswith("Étiquette imprimée"), k.text("notice")
    await k.wait_for(lambda: k.shop.printer.labels_received() == 1)
    assert k.text("cancel") == "Tout annuler"
    await k.tap("cancel")
    await k.wait_screen("home")
    await k.tap("lang_en")
    await k.wait_for(lambda: k.widget("lang_en").on and not k.widget("lang_fr").on)


async def help_asked(k) -> None:
    """ "Besoin d'aide ?" from home and from the weighing screen's title bar: the panel shows the
    shop's phone, one alert is raised (a second touch soon after only shows the panel again)."""
    help_text = "?  Besoin d'aide ?"
    await k.wait_screen("home")
    await k.tap_widget(k.find(help_text))
    await k.wait_for(lambda: k.app.help_panel.parent is not None)
    await k.frames(2)
    assert k.find("04 75 00 00 00").opacity == 1
    assert "Le producteur est prévenu" in k.app.help_panel.ids.body.text
    await k.tap_widget(k.app.help_panel.ids.close_help)
    await k.wait_for(lambda: k.app.help_panel.parent is None)
    await k.tap("start")
    await k.tap_product("POMMES")
    await k.wait_screen("weigh")
    await k.tap_widget(k.find(help_text))  # the one in the weighing screen's title bar
    await k.wait_for(lambda: k.app.help_panel.parent is not None)
    assert k.screen == "weigh"  # the customer's choice is kept under the panel


async def left_alone(k) -> None:
    """A basket left alone: "Are you still there?", then home, then the attract screen; a
    touch there is home again."""
    await k.wait_screen("home")
    await k.tap("start")
    await k.tap_product("OEUFS")
    await k.wait_screen("pieces")
    await k.tap("add")
    await k.wait_screen("basket")
    await k.wait_for(lambda: k.app.idle_prompt.parent is not None, timeout=40)
    await k.wait_for(lambda: k.screen in ("home", "attract"), timeout=40)
    assert k.app.flow.journey.lines == []
    await k.wait_screen("attract")
    assert k.shown == "attract"
    await k.frames(3)
    shop = k.widget("shop").text
    assert shop == k.app.site.device.name and len(k.widget("offers").children) == 2
    await k.tap("touch")
    await k.wait_screen("home")


async def accessible_mode(k) -> None:
    """The accessibility mode: larger text in high contrast on every screen, until the customer
    leaves; the next customer starts in the usual look."""
    await k.wait_screen("home")
    usual = k.widget("start").font_size
    await k.tap("accessible")
    await k.wait_for(lambda: k.app.accessible)
    await k.frames(3)
    assert k.widget("start").font_size >= usual * 1.25
    assert tuple(k.widget("start").background_color)[:3] == (1, 0.85, 0)  # yellow on black
    assert tuple(k.widget("shop").color) == (1, 1, 1, 1)
    assert tuple(k.app.paper)[:3] == (0, 0, 0)
    await k.tap("start")
    await k.tap_product("POMMES")
    await k.wait_screen("weigh")
    assert k.widget("weight").children[0].font_size > 54 * 1.25  # the weight's big figures
    k.shop.put(1234)
    await k.wait_for(lambda: not k.widget("add").disabled)
    prompts = k.app.site.kiosk.speech_wav_dir

    def said(words: str) -> bool:
        return any(words in p.read_text() for p in prompts.glob("*.txt"))

    await k.wait_for(lambda: said("Poids 1,234 kg, prix 4,31 €"), timeout=40)  # espeak-ng
    await k.tap("add")
    await k.wait_screen("basket")
    assert k.text("total") == "Total 4,31 €"
    await k.wait_for(lambda: said("Total 4,31 €. Touchez payer par carte"), timeout=40)
    await k.tap("cancel")
    await k.wait_screen("home")
    await k.wait_for(lambda: not k.app.accessible)
    await k.frames(3)
    assert k.widget("start").font_size == usual


async def damaged_database(k) -> None:
    """The database check found a damaged table: the kiosk refuses to sell, saying so, until
    the alert is resolved (after the repair)."""
    from appliance.store import alerts
    from appliance.store.alerts import Alarm
    from appliance.store.db import open_database, transaction

    await k.wait_screen("home")
    db = open_database(k.app.site.database_path)  # as the agent's database check does
    try:
        with transaction(db):
            alerts.raise_alarm(db, Alarm.DATABASE_DAMAGED, "table sales damaged", subject="sales")
        await k.wait_for(lambda: k.app.flow.journey.damaged == {"sales"})
        await k.tap("start")
        await k.wait_screen("out_of_order")
        assert k.text("body").startswith("La borne ne peut pas enregistrer"), k.text("body")
        await k.tap_text("OK")
        await k.wait_screen("home")
        with transaction(db):
            alerts.resolve_about(db, "database_damaged", "sales", "installer", "restored")
        await k.wait_for(lambda: not k.app.flow.journey.damaged)
    finally:
        db.close()
    await k.tap("start")
    await k.wait_screen("catalogue")


def _open_files() -> int:
    import os

    return len(os.listdir("/proc/self/fd"))


async def many_sales(k) -> None:
    """Twelve customers in a row, each with a receipt and its QR code: the kiosk ends with the
    open files it had after the first, and holds one QR code, not one per receipt."""
    from appliance.kiosk.flows.events import Action, Touched
    from appliance.kiosk.screens import qr_texture

    after_first = 0
    for sale in range(12):
        await k.wait_screen("home")
        await pay_for_eggs(k)
        await k.wait_screen("receipt")
        assert k.widget("qr").texture is not None
        await k.tap("done")
        await k.wait_screen("thank_you")
        k.app.send(Touched(Action.DONE))  # the next customer touches the screen
        await k.wait_screen("home")
        if sale == 0:
            after_first = _open_files()
    assert qr_texture.cache_info().currsize == 1, qr_texture.cache_info()
    assert _open_files() == after_first, (after_first, _open_files())


async def receipt_without_link(k) -> None:
    """Without `receipt_base_url` there is no QR code, and the amount is centred alone."""
    await k.wait_screen("home")
    await pay_for_eggs(k)
    await k.wait_screen("receipt")
    await k.frames(3)
    assert k.widget("qr").opacity == 0 and k.widget("qr").width == 0
    total = k.widget("total")
    assert abs(total.center_x - k.app.root.width / 2) < 2, (total.center_x, k.app.root.width)


async def demo_mark(k) -> None:
    """A demo box says so on every screen, once, in the customer's language."""
    from appliance.kiosk.flows.events import Action, Touched

    await k.wait_screen("home")
    await k.tap("start")
    await k.wait_screen("catalogue")
    await k.tap("basket")
    await k.wait_screen("basket")
    k.find("DÉMO")
    k.app.send(Touched(Action.LANGUAGE, "en"))
    await k.wait_for(lambda: k.app.lang == "en")
    await k.frames(2)
    k.find("DEMO")
