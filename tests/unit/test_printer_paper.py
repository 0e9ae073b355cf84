"""The paper comes from the printer's python-escpos profile unless the config says otherwise."""

from __future__ import annotations

import pytest

from appliance.config import Printer
from appliance.devices.printers.paper import Paper, paper_of
from appliance.errors import ConfigError


def test_a_profile_that_does_not_know_its_paper_means_a_58_mm_roll_of_32_characters() -> None:
    assert paper_of(Printer(profile="default")) == Paper(58, 32)


def test_a_known_model_gives_its_paper_width_and_its_receipt_line_length() -> None:
    assert paper_of(Printer(profile="TM-T20II")) == Paper(72, 48)
    assert paper_of(Printer(profile="TM-T88V")) == Paper(80, 42)


def test_label_stock_narrower_than_the_printer_sets_the_width_and_shortens_receipts() -> None:
    assert paper_of(Printer(profile="TM-T88V", label_width_mm=58)) == Paper(58, 32)
    assert paper_of(Printer(profile="default", label_width_mm=80)) == Paper(80, 48)


def test_a_profile_python_escpos_does_not_know_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"printer\.profile = 'TM-NOPE' is wrong"):
        paper_of(Printer(profile="TM-NOPE"))
