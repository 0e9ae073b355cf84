"""Printable documents (the HACCP report, the daily closings) as PDF, through fpdf2.

One module so that every document of the admin looks alike: A4, a title, a few facts (which
box, which day), tables whose header repeats on each page, and a footer with the page number.
fpdf2 is pure Python; the text is set in DejaVu Sans (Debian's fonts-dejavu-core) because the
PDF core fonts cannot write the euro sign.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from appliance.errors import ComptoirError

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT = "DejaVu"
Align = Literal["LEFT", "RIGHT", "CENTER"]


class PdfUnavailable(ComptoirError):
    """The font the documents are set in is missing from the box."""


@functools.cache
def _page_class() -> type:
    """fpdf2 and what it imports weigh some 30 MB: loaded on the first document only, so the
    web process stays small until someone downloads a PDF."""
    from fpdf import FPDF

    class Page(FPDF):
        def __init__(self, footer_text: str) -> None:
            super().__init__(orientation="portrait", unit="mm", format="A4")
            self.footer_text = footer_text

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(FONT, size=8)
            self.set_text_color(90, 90, 90)
            self.cell(0, 5, f"{self.footer_text} · {self.page_no()}/{{nb}}", align="C")

    return Page


class Document:
    """A document built top to bottom: `facts`, `heading`, `paragraph`, `table`, then `bytes()`.

    `footer` is printed on every page beside the page number (say what the document is and
    which box made it, so a loose page can be put back)."""

    def __init__(self, title: str, *, footer: str, author: str = "Comptoir") -> None:
        self.pdf: Any = _page_class()(footer)
        _add_fonts(self.pdf)
        self.pdf.set_title(title)
        self.pdf.set_author(author)
        self.pdf.set_creator("Comptoir")
        self.pdf.set_margins(15, 15, 15)
        self.pdf.set_auto_page_break(auto=True, margin=18)
        self.pdf.add_page()
        self.pdf.set_font(FONT, "B", 16)
        self.pdf.multi_cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(2)

    def facts(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Label: value lines (the box, the day, when it was printed)."""
        for label, value in pairs:
            self.pdf.set_font(FONT, "B", 10)
            self.pdf.cell(45, 5.5, label)
            self.pdf.set_font(FONT, size=10)
            self.pdf.multi_cell(0, 5.5, value, new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(3)

    def heading(self, text: str) -> None:
        self.pdf.ln(2)
        self.pdf.set_font(FONT, "B", 12)
        self.pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")

    def paragraph(self, text: str, *, small: bool = False, warn: bool = False) -> None:
        self.pdf.set_font(FONT, size=8.5 if small else 10)
        if warn:
            self.pdf.set_text_color(170, 30, 20)
        self.pdf.multi_cell(0, 4.5 if small else 5.5, text, new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_text_color(0, 0, 0)
        self.pdf.ln(1)

    def table(
        self,
        columns: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        widths: Sequence[int] | None = None,
        align: Sequence[Align] | None = None,
    ) -> None:
        """A table whose header row repeats on each page; `widths` are relative."""
        from fpdf.fonts import FontFace

        self.pdf.set_font(FONT, size=9)
        header = FontFace(emphasis="BOLD", fill_color=(230, 236, 230))
        with self.pdf.table(
            col_widths=tuple(widths) if widths else None,
            text_align=tuple(align) if align else "LEFT",
            headings_style=header,
            line_height=5,
            padding=1.2,
        ) as table:
            heading = table.row()
            for name in columns:
                heading.cell(name)
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(value)
        self.pdf.ln(3)

    def bytes(self) -> bytes:
        return bytes(self.pdf.output())


def _add_fonts(pdf: Any) -> None:
    regular, bold = FONT_DIR / "DejaVuSans.ttf", FONT_DIR / "DejaVuSans-Bold.ttf"
    if not (regular.is_file() and bold.is_file()):
        raise PdfUnavailable(
            f"cannot make a PDF: the font {regular} is missing; install the Debian package "
            f"fonts-dejavu-core"
        )
    pdf.add_font(FONT, "", str(regular))
    pdf.add_font(FONT, "B", str(bold))
