"""What the kiosk prints: a basket line's price label and a sale's receipt, from config and core.

Pure builders (the time and the fiscal record are passed in): the shop actions hand their result
to the printer's worker and journal it. The receipt carries the legal identity of the software
(its first characters, the same as `comptoir version --legal`) and its signed ticket's mark; a
training or demo box says so on the shop line of every label and receipt.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from appliance.config import Config
from appliance.core.barcode import BarcodeLayout
from appliance.core.catalogue import Product, SoldBy
from appliance.core.label import LabelContent, Shop, label_for_pieces, label_for_weighing
from appliance.core.receipt import (
    MODE_MARKS,
    FiscalMark,
    ReceiptHeader,
    receipt_lines,
    receipt_url,
)
from appliance.core.sale import Sale
from appliance.devices.printers.paper import paper_of
from appliance.kiosk.flows.values import BasketLine
from appliance.legal import legal_identity

TEST_PRODUCT = Product("test", "ÉTIQUETTE DE TEST", SoldBy.PIECE, 0, 0)


class Documents:
    """The labels and receipts of one kiosk."""

    def __init__(self, site: Config) -> None:
        self.site = site
        self.columns = paper_of(site.printer).receipt_columns
        device = site.device
        mark = MODE_MARKS.get(site.shop.mode)
        self.shop = Shop(
            f"{device.name} · {mark}" if mark else device.name,
            device.address,
            device.id,
            ZoneInfo(device.timezone),
            device.language,
        )

    def label(self, line: BasketLine, ticket: int, packed_at: datetime) -> LabelContent:
        product = line.product
        layout = BarcodeLayout.parse(product.barcode_layout or self.site.printer.barcode_layout)
        if line.weighing is not None:
            return label_for_weighing(
                line.weighing,
                product,
                shop=self.shop,
                interval_g=self.site.scale.interval_g,
                layout=layout,
                packed_at=packed_at,
                ticket=ticket,
            )
        return label_for_pieces(
            line.quantity,
            product,
            shop=self.shop,
            layout=layout,
            packed_at=packed_at,
            ticket=ticket,
        )

    def test_label(self, now: datetime) -> LabelContent:
        """A label that says it is a test (device command `print_test_label`)."""
        return self.label(BasketLine(TEST_PRODUCT, 1, 0), 0, now)

    def receipt(self, sale: Sale, fiscal: FiscalMark | None) -> tuple[list[str], str]:
        """The receipt's lines and its QR code's link (empty without `receipt_base_url`);
        `fiscal` is the signed ticket's mark (a DUPLICATA when its copy number is set)."""
        device = self.site.device
        identity = legal_identity()
        header = ReceiptHeader(
            device.name, device.address, device.id, identity.sha256, identity.version
        )
        local = datetime.fromisoformat(sale.created_at).astimezone(self.shop.timezone)
        lines = receipt_lines(
            sale, header, local.strftime("%d/%m/%Y %H:%M"), self.columns, fiscal=fiscal
        )
        return lines, receipt_url(self.site.kiosk.receipt_base_url, sale)
