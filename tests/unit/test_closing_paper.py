"""The Z as printed on the kiosk's roll: every figure of the signed record, on the roll's width."""

from __future__ import annotations

from typing import Any

import pytest

from appliance.core.closing_paper import FIGURES, closing_lines

Z: dict[str, Any] = {
    "number": 3,
    "period": "day",
    "label": "2026-11-03",
    "start": "2026-11-03T00:00:00+01:00",
    "end": "2026-11-04T00:00:00+01:00",
    "box": "ferme-lilas-1",
    "shop": "Ferme des Lilas",
    "siret": "12345678900012",
    "mode": "demo",
    "made_by": "agent",
    "first_ticket": 4,
    "last_ticket": 9,
    "tickets": 6,
    "total_cents": 12345,
    "total_excl_vat_cents": 11633,
    "vat_cents": 712,
    "period_total_cents": 50000,
    "year_total_cents": 90000,
    "perpetual_total_cents": 123456,
    "perpetual_abs_total_cents": 130000,
    "by_vat": [
        {"rate_bp": 550, "total_cents": 10000, "vat_cents": 521},
        {"rate_bp": 2000, "total_cents": 2345, "vat_cents": 391},
    ],
    "by_payment": [{"method": "card", "total_cents": 12345}],
    "ts": "2026-11-04T00:01:02.123456+00:00",
    "hash": "ab" * 32,
    "signature": "cd" * 64,
}


@pytest.mark.parametrize("width", [32, 48])
def test_every_line_fits_the_roll_and_the_whole_signature_is_there(width: int) -> None:
    lines = closing_lines(Z, width)
    assert all(len(line) <= width for line in lines)
    text = "".join(lines)
    assert Z["signature"] in text and Z["hash"] in text


def test_the_paper_shows_every_figure_per_rate_and_per_payment() -> None:
    lines = closing_lines(Z, 32)
    text = "\n".join(lines)
    assert lines[0].strip() == "*** DÉMO ***" and lines[-1].strip() == "*** DÉMO ***"
    assert "CLÔTURE JOURNALIÈRE" in text and "Z n° 3 - 2026-11-03" in text
    assert "Du 03/11/2026 00:00" in text and "4 à 9" in text
    for label, _ in FIGURES:
        assert label.split()[0] in text
    assert "Grand total perpétuel  1234,56 €" in lines
    assert "5,5 %      94,79 / 5,21 / 100,00" in lines
    assert "Carte bancaire          123,45 €" in lines


def test_a_live_box_prints_no_mark() -> None:
    lines = closing_lines({**Z, "mode": "live"}, 32)
    assert "***" not in "".join(lines)


def test_training_tickets_of_the_period_are_shown_apart_from_the_figures() -> None:
    lines = closing_lines({**Z, "training_tickets": 4, "training_total_cents": 2500}, 32)
    assert "Formation : 4 tickets" in lines
    assert "hors chiffres            25,00 €" in lines
    assert not any("Formation" in line for line in closing_lines(Z, 32))
