"""The Kivy screens: each copies the journey's state into its widgets and forwards touches.

No business rule lives here: texts come from `view`, choices from the flow. Widgets are only
rebuilt when what they show changed (the product grid, the basket rows), so a reading arriving
ten times a second costs three label updates.
"""

from __future__ import annotations

import io
import time
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import qrcode
from kivy.core.image import Image as CoreImage
from kivy.core.text import Label as CoreLabel
from kivy.factory import Factory
from kivy.graphics.texture import Texture
from kivy.lang import Builder
from kivy.metrics import dp, sp
from kivy.properties import StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.modalview import ModalView
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget
from qrcode.image.pil import PilImage

from appliance.core.catalogue import Product
from appliance.kiosk import view
from appliance.kiosk.flows.events import Action

if TYPE_CHECKING:
    from appliance.kiosk.app import KioskApp

KV_DIR = Path(__file__).resolve().parent / "kv"


def load_kv() -> None:
    kv_files = (
        "common",
        "attract",
        "home",
        "about",
        "catalogue",
        "weigh",
        "basket",
        "receipt",
        "message",
    )
    for name in (*kv_files, "lockers"):
        Builder.load_file(str(KV_DIR / f"{name}.kv"))


def move(widget: Widget, parent: Widget, index: int = 0) -> None:
    """Take `widget` from where the kv rule put it to `parent` (index 0: a vertical
    BoxLayout's bottom, a horizontal one's right end)."""
    widget.parent.remove_widget(widget)
    parent.add_widget(widget, index=index)


class KioskScreen(Screen):
    """A screen; in the accessibility mode every control it has sits in the lower half of the
    screen, within reach from a wheelchair (kv rules that read `app.accessible`, and
    `within_reach` for what has to move)."""

    #: The accessibility mode moves this screen's top bar (the title bar with its help and Aa+
    #: buttons, home's help/Aa+/language row, the catalogue's search row) to the bottom of the
    #: screen; a screen whose top is no bar says False.
    top_bar = True

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        from kivy.app import App

        app = App.get_running_app()
        if app is not None and app.accessible:  # the screens are made again when the look changes
            self.within_reach()

    def within_reach(self) -> None:
        """The accessibility mode's layout, made once with the screen."""
        if self.top_bar:
            body = self.children[0]  # the screen's one vertical layout, its top bar first
            move(body.children[-1], body)

    def render(self, app: KioskApp) -> None:
        raise NotImplementedError


class IdlePrompt(ModalView):
    pass


class HelpPanel(ModalView):
    """Says the producer was alerted, and the shop's phone to call meanwhile."""

    def show(self, app: KioskApp) -> None:
        phone = app.flow.settings.phone
        body = "The producer has been told you need help."
        if phone:
            body += " You can also call:"
        self.ids.body.text = app.tr(body, app.lang)
        self.ids.phone.text = phone


#: The attract screen shows this many of today's products.
OFFERS = 4


#: A touch this soon after the attract screen appeared was aimed at home: home takes it.
ATTRACT_GRACE_S = 1.5


class AttractScreen(KioskScreen):
    """The shop, a few of today's products (those with their own picture first) and how it
    works, while nobody is at the kiosk."""

    top_bar = False  # the whole screen is one touch area, with the shop's name on top

    _shown: tuple = ()
    _since = 0.0

    def on_pre_enter(self, *_args) -> None:
        self._since = time.monotonic()

    def on_touch_down(self, touch) -> bool:
        if time.monotonic() - self._since >= ATTRACT_GRACE_S:
            return bool(super().on_touch_down(touch))
        from kivy.app import App

        app = App.get_running_app()
        app.touch(Action.WAKE)  # home is on screen again: the touch lands on its button
        return bool(app.root.current_screen.dispatch("on_touch_down", touch))

    def render(self, app: KioskApp) -> None:
        journey = app.flow.journey
        products = journey.browse.products
        key = (app.lang, app.accessible, products, journey.settings.payment_enabled)
        if key == self._shown:
            return
        self._shown = key
        self.ids.shop.text = app.site.device.name
        self.ids.today.text = app.tr("Today at the shop", app.lang) if products else ""
        self.ids.touch.text = app.tr("Touch the screen to start", app.lang)
        pictures = app.pictures
        steps = (
            (self.ids.step_choose, "basket", "1. Choose"),
            (self.ids.step_weigh, "scale", "2. Weigh"),
            (self.ids.step_pay, "card", "3. Pay by card"),
        )
        for step, kind, text in steps:
            step.source = str(pictures.pictogram(kind))
            step.text = app.tr(text, app.lang)
        if not journey.settings.payment_enabled:
            self.ids.step_pay.text = app.tr("3. Stick the label", app.lang)
        row = self.ids.offers
        row.clear_widgets()
        own = sorted(products, key=lambda p: Path(p.photo).name.startswith("pictogram-"))
        for product in own[:OFFERS]:
            card = ProductCard()
            card.show(product, view.unit_price(product, app.lang, app._))
            row.add_widget(card)


class HomeScreen(KioskScreen):
    def render(self, app: KioskApp) -> None:
        self.ids.shop.text = app.site.device.name
        self.ids.welcome.text = app.tr("Weigh, label and pay by yourself.", app.lang)


class AboutScreen(KioskScreen):
    def render(self, app: KioskApp) -> None:
        identity = app.legal
        self.ids.version.text = f"Comptoir {identity.version}"
        lines = [
            app.tr("Legally relevant software: SHA-256", app.lang),
            identity.sha256,
            app.tr("over {count} files", app.lang).format(count=len(identity.files)),
            f"{app.site.device.name} · {app.site.device.id}",
            app.tr("Fiscal records public key (Ed25519)", app.lang),
            app.public_key or "—",
            app.tr("Web admin certificate", app.lang),
            app.web_fingerprint or "—",
        ]
        self.ids.legal.text = "\n".join(lines)


#: A tile's name: the largest of these font sizes (sp) that shows it whole on two lines.
NAME_SIZES = (19.0, 17.0, 15.0)


@cache
def _measurer(font_px: float, bold: bool) -> CoreLabel:
    return CoreLabel(font_size=font_px, bold=bold)


def measure(text: str, font_size: float) -> float:
    """The width of `text` in bold at `font_size` sp, as a product's name is drawn."""
    return _measurer(sp(font_size), True).get_extents(text)[0]


def cut_to(label: Label, text: str) -> str:
    """`text` on one line of `label` as drawn (its font, width and padding), cut at a word."""
    room = label.width - 2 * label.padding_x - dp(4)
    measurer = _measurer(label.font_size, label.bold)
    return view.cut_at_word(text, lambda shown: measurer.get_extents(shown)[0] <= room)


class CutLabel(Label):
    """One line showing `whole`, cut after its last word that fits, with an ellipsis."""

    whole = StringProperty("")

    def on_whole(self, *_args) -> None:
        self.text = cut_to(self, self.whole)

    on_width = on_font_size = on_whole


class ProductCard(BoxLayout):
    """A product's picture (or its category's pictogram), its name and its price."""

    name = ""

    def show(self, product: Product, price: str) -> None:
        self.name = product.name
        self.ids.price.text = price
        self.ids.photo.source = product.photo
        self.fit()

    def fit(self) -> None:
        from kivy.app import App

        label = self.ids.name
        scale = App.get_running_app().text_scale
        sizes = tuple(size * scale for size in NAME_SIZES)
        fitted = view.fit_name(self.name, label.width - dp(8), measure, sizes)
        label.text, label.font_size = fitted.text, sp(fitted.font_size)


class ProductTile(ButtonBehavior, ProductCard):
    """A product card of the catalogue: a touch chooses it."""

    def show(self, product: Product, price: str) -> None:
        self.sku = product.sku
        super().show(product, price)


class CatalogueScreen(KioskScreen):
    _shown: tuple = ()

    def searched(self, text: str) -> None:
        app = self._app()
        if app.flow.journey.browse.search != text:
            app.touch(Action.SEARCH, text)

    def render(self, app: KioskApp) -> None:
        journey = app.flow.journey
        browse = journey.browse
        count = len(journey.lines)
        self.ids.basket.text = app.tr("Basket", app.lang) + (
            f" ({count}) · {view.money(journey.total_cents, app.lang)}" if count else ""
        )
        self.ids.basket.opacity = 1 if journey.settings.payment_enabled else 0
        self.ids.notice.text = app.tr(journey.notice, app.lang) if journey.notice else ""
        self.ids.basket.disabled = not journey.settings.payment_enabled
        if self.ids.search.text != browse.search:
            self.ids.search.text = browse.search
        key = (app.lang, app.accessible, browse.category, browse.categories, browse.visible)
        if key == self._shown:
            return
        self._shown = key
        self._categories(app, browse.categories, browse.category)
        grid = self.ids.grid
        grid.clear_widgets()
        for product in browse.visible:
            tile = ProductTile(on_release=lambda t: app.touch(Action.PRODUCT, t.sku))
            tile.show(product, view.unit_price(product, app.lang, app._))
            grid.add_widget(tile)

    def _categories(self, app: KioskApp, categories: tuple[str, ...], chosen: str) -> None:
        row = self.ids.categories
        row.clear_widgets()
        for name in ("", *categories):
            kind = "KioskButton" if name == chosen else "QuietButton"
            button = getattr(Factory, kind)(
                text=name or app.tr("All", app.lang), size_hint_x=None, height=dp(52)
            )
            button.width = max(dp(120), len(button.text) * dp(13) * app.text_scale + dp(24))
            button.bind(on_release=lambda b, n=name: app.touch(Action.CATEGORY, n))
            row.add_widget(button)

    def _app(self) -> KioskApp:
        from kivy.app import App

        return App.get_running_app()


class WeighingScreen(KioskScreen):
    """The weighing and pieces screens: in the accessibility mode their buttons leave the
    column beside the readings for a row above the bottom bar, "Other product" first."""

    def within_reach(self) -> None:
        super().within_reach()
        actions = self.ids.actions
        move(actions, self.children[0], index=1)
        move(self.ids.back, actions, index=len(actions.children))


class WeighScreen(WeighingScreen):
    def render(self, app: KioskApp) -> None:
        journey = app.flow.journey
        texts = view.weigh_texts(journey, app.site.scale.interval_g, app._)
        self.ids.title.text = journey.product.name if journey.product else ""
        self.ids.weight.value = texts.weight
        self.ids.unit_price.value = texts.unit_price
        self.ids.price.value = texts.price
        self.ids.status.text = texts.status
        self.ids.status.color = app.ready if texts.ready else app.wait
        self.ids.tare_info.text = texts.tare
        _offer_payment(self, journey.settings.payment_enabled)
        self.ids.print_label.disabled = not texts.ready
        self.ids.add.disabled = self.ids.add.disabled or not texts.ready


class PiecesScreen(WeighingScreen):
    def within_reach(self) -> None:
        column = self.ids.actions.parent
        super().within_reach()
        column.parent.remove_widget(column)  # only its spacer is left
        move(self.ids.count, self.ids.count.parent)  # − and + below the prices

    def render(self, app: KioskApp) -> None:
        journey = app.flow.journey
        product = journey.product
        self.ids.title.text = product.name if product else ""
        self.ids.quantity.value = str(journey.quantity)
        self.ids.unit_price.value = view.unit_price(product, app.lang, app._) if product else ""
        self.ids.price.value = view.money(journey.pieces_price_cents, app.lang)
        _offer_payment(self, journey.settings.payment_enabled)


def _offer_payment(screen: KioskScreen, enabled: bool) -> None:
    """Without a terminal the kiosk only labels: no "add to basket"."""
    add = screen.ids.add
    add.opacity = 1 if enabled else 0
    add.disabled = not enabled


class BasketRow(BoxLayout):
    pass


class BasketScreen(KioskScreen):
    _shown: tuple = ()

    def render(self, app: KioskApp) -> None:
        journey = app.flow.journey
        key = (app.lang, app.accessible, tuple(journey.lines))
        self.ids.total.text = (
            app.tr("Total", app.lang) + " " + view.money(journey.total_cents, app.lang)
        )
        self.ids.empty.text = "" if journey.lines else app.tr("Your basket is empty.", app.lang)
        self.ids.notice.text = app.tr(journey.notice, app.lang) if journey.notice else ""
        self.ids.pay.disabled = not journey.lines
        cancel = "Cancel everything" if journey.lines else "Back to the start"
        self.ids.cancel.text = app.tr(cancel, app.lang)
        if key == self._shown:
            return
        self._shown = key
        rows, removals = self.ids.rows, self.ids.removals
        rows.clear_widgets()
        removals.clear_widgets()
        interval = app.site.scale.interval_g
        for index, line in enumerate(journey.lines):
            row = BasketRow()
            name, row.ids.detail.text = view.line_texts(line, interval, app.lang, app._)
            row.ids.name.whole = name
            row.ids.price.text = view.money(line.price_cents, app.lang)
            remove = row.ids["remove"]
            if app.accessible:  # the line's × below the list, within reach
                remove = Factory.RemoveLine()
                remove.text = cut_to(remove, f"×  {name}")
                removals.add_widget(remove)
            remove.bind(on_release=lambda _b, i=index: app.touch(Action.REMOVE, str(i)))
            rows.add_widget(row)


class ReceiptScreen(KioskScreen):
    def render(self, app: KioskApp) -> None:
        journey = app.flow.journey
        self.ids.total.text = view.money(journey.paid_cents, app.lang)
        self.ids.number.text = app.tr("Receipt no. {number}", app.lang).format(
            number=journey.receipt_number
        )
        url = journey.receipt_url
        self.ids.hint.text = app.tr("Scan to keep your receipt.", app.lang) if url else ""
        self.ids.qr.texture = qr_texture(url) if url else None
        self.ids.qr.opacity = 1 if url else 0
        qr = self.ids.qr
        qr.size_hint = (1, 1) if url else (None, None)  # no link: the amount centred alone
        qr.parent.spacing = dp(24) if url else 0
        if not url:
            qr.size = (0, 0)


@lru_cache(maxsize=1)
def qr_texture(url: str) -> Texture:
    """The receipt's QR code, kept while its receipt is on screen: each receipt's URL is new, so
    keeping them all held a texture (half a megabyte) per sale for ever."""
    image = qrcode.make(url, box_size=8, border=2, image_factory=PilImage)
    data = io.BytesIO()
    image.save(data, format="PNG")
    data.seek(0)
    return CoreImage(data, ext="png").texture


class MessageScreen(KioskScreen):
    """A message and its one or two choices: one spans the row, two put the main one right."""

    _actions: dict[str, Action]
    _buttons: dict[str, Widget] | None = None

    def render(self, app: KioskApp) -> None:
        message = view.message(app.flow.journey, app._)
        self.ids.title.text = message.title
        self.ids.title.tone = message.tone
        self.ids.body.text = message.body
        if self._buttons is None:  # strong references: a button off the row stays alive
            self._buttons = {slot: self.ids[slot].__self__ for slot in ("secondary", "primary")}
        row = self.ids.choices
        row.clear_widgets()
        self._actions = {}
        for slot, button in self._buttons.items():
            choice = getattr(message, slot)
            if choice:
                button.text = choice[0]
                self._actions[slot] = choice[1]
                row.add_widget(button)

    def press(self, slot: str) -> None:
        from kivy.app import App

        action = self._actions.get(slot)
        if action:
            App.get_running_app().touch(action)
