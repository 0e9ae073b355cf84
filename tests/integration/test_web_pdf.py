"""The admin's printable documents: what is written is what a PDF reader shows, on every page."""

from __future__ import annotations

import subprocess
from pathlib import Path

from appliance.web.pdf import Document


def pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "document.pdf"
    path.write_bytes(data)
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    )
    return done.stdout


def test_a_document_keeps_accents_the_euro_sign_and_degrees(tmp_path: Path) -> None:
    doc = Document("Relevé des températures", footer="HACCP · ferme-lilas-1")
    doc.facts([("Boîte", "Ferme des Lilas"), ("Jour", "2026-07-01")])
    doc.heading("Ventes")
    doc.table(["Produit", "Prix"], [["Œufs × 6", "3,20 €"], ["Frigo", "4,0 °C"]])
    doc.paragraph("Dépassement : 7,5 °C", warn=True)
    data = doc.bytes()
    assert data.startswith(b"%PDF-")
    text = pdf_text(data, tmp_path)
    for said in (
        "Relevé des températures",
        "Ferme des Lilas",
        "Œufs × 6",
        "3,20 €",
        "4,0 °C",
        "Dépassement : 7,5 °C",
        "HACCP · ferme-lilas-1 · 1/1",
    ):
        assert said in text


def test_a_long_table_repeats_its_header_and_numbers_the_pages(tmp_path: Path) -> None:
    doc = Document("Relevé", footer="HACCP")
    doc.table(
        ["Heure", "Température"], [[f"{i // 60:02d}:{i % 60:02d}", "3,0 °C"] for i in range(200)]
    )
    pages = pdf_text(doc.bytes(), tmp_path).split("\f")
    pages = [page for page in pages if page.strip()]
    assert len(pages) >= 3
    assert all("Heure" in page and "Température" in page for page in pages)
    assert f"HACCP · {len(pages)}/{len(pages)}" in pages[-1]
    assert "03:19" in pages[-1]
