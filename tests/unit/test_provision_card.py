"""The site card (comptoir.txt) as an installer writes it on any laptop, and what it becomes."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from appliance import config as config_module
from appliance.provisioning import (
    SiteCardError,
    read_card,
    redact,
    render_toml,
    settings,
    split_written,
)
from tests.found import found

ETC = Path("/etc/comptoir")
DATA = Path("/var/lib/comptoir")
CARD = """\
# Comptoir: this box's card
device_id = ferme-lilas-1
shop_name = "Ferme des Lilas"
address = 12 route des Lilas, 49000 Angers
phone = 02 41 00 00 00
mqtt_url = mqtts://fleet.example.org:8883
mqtt_password = pa#ss=word
marketplace_url = https://www.coopcircuits.fr
hub_id = 1234
shipping_method_ids = 5, 6
marketplace_api_key = 0123abcd
"""


def card_settings(text: str, kept: frozenset[str] = frozenset()) -> config_module.Config:
    return settings(read_card(text.encode()), ETC, DATA, kept)


def test_card_values_become_the_box_settings() -> None:
    config = card_settings(CARD)
    assert config.device.id == "ferme-lilas-1"
    assert config.device.name == "Ferme des Lilas"
    assert config.device.address == "12 route des Lilas, 49000 Angers"
    assert config.mqtt.url == "mqtts://fleet.example.org:8883"
    assert config.mqtt.username == "ferme-lilas-1"
    assert config.mqtt.password_file == ETC / "mqtt-password"
    assert config.marketplace.hub_id == 1234
    assert config.marketplace.shipping_method_ids == (5, 6)
    assert config.marketplace.api_key_file == ETC / "ofn-api-key"


def test_comments_blank_lines_and_a_hash_inside_a_value() -> None:
    card = read_card(b"\n  # a comment\n\ndevice_id = box-1\n   \nmqtt_password = a#b\n")
    assert card.device_id == "box-1"
    assert found(card.get("mqtt_password")).value == "a#b"
    assert found(card.get("mqtt_password")).line == 6


def test_a_card_saved_by_windows_notepad_reads_the_same() -> None:
    windows = b"\xef\xbb\xbf" + CARD.replace("\n", "\r\n").encode("utf-8")
    assert read_card(windows) == read_card(CARD.encode())


def test_an_ansi_card_keeps_its_accents() -> None:
    card = read_card("device_id = box-1\nshop_name = Ferme de l'Étang\n".encode("cp1252"))
    assert found(card.get("shop_name")).value == "Ferme de l'Étang"


def test_quotes_around_a_value_are_not_part_of_it() -> None:
    card = read_card(b"device_id = 'box-1'\nshop_name = \xe2\x80\x9cLa Ferme\xe2\x80\x9d\n")
    assert card.device_id == "box-1"
    assert found(card.get("shop_name")).value == "La Ferme"


def test_an_empty_value_keeps_the_default() -> None:
    config = card_settings("device_id = box-1\nshop_name =\n")
    assert config.device.name == config_module.Device().name


def test_a_misspelt_key_is_named_with_its_line_and_a_suggestion() -> None:
    with pytest.raises(
        SiteCardError, match=r"line 2: unknown key 'shop_nmae'; did you mean 'shop_name'"
    ):
        read_card(b"device_id = box-1\nshop_nmae = Ferme\n")


def test_a_line_without_equals_is_refused_without_echoing_a_secret() -> None:
    with pytest.raises(SiteCardError, match=r"line 2 \(starting 'mqtt_password'\)") as caught:
        read_card(b"device_id = box-1\nmqtt_password hunter2\n")
    assert "hunter2" not in str(caught.value)


def test_a_key_given_twice_names_both_lines() -> None:
    with pytest.raises(SiteCardError, match=r"line 3: shop_name is given twice \(also on line 1\)"):
        read_card(b"shop_name = A\ndevice_id = box-1\nshop_name = B\n")


def test_a_card_without_device_id_is_refused() -> None:
    with pytest.raises(SiteCardError, match="device_id is missing"):
        read_card(b"# device_id = ferme-lilas-1\nshop_name = Ferme\n")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("device_id = Ferme Lilas", r"line 1, device_id: device\.id = 'Ferme Lilas' is wrong"),
        ("hub_id = douze", r"line 2, hub_id: marketplace\.hub_id = 'douze' is wrong"),
        ("hub_id = -3", r"line 2, hub_id: marketplace\.hub_id = -3 is wrong: expected a number"),
        ("shipping_method_ids = 5, x", r"line 2, shipping_method_ids: .*\[1\] = 'x' is wrong"),
        ("language = de", r"line 2, language: device\.language = 'de' is wrong"),
        ("mqtt_url = http://fleet", r"line 2, mqtt_url: mqtt\.url = 'http://fleet' is wrong"),
    ],
)
def test_bad_values_are_caught_by_config_validation(line: str, expected: str) -> None:
    text = f"{line}\n" if line.startswith("device_id") else f"device_id = box-1\n{line}\n"
    with pytest.raises(SiteCardError, match=expected):
        card_settings(text)


def test_the_toml_holds_only_what_differs_from_the_defaults_and_no_secret() -> None:
    toml = render_toml(card_settings(CARD + "language = FR\n"))
    raw = tomllib.loads(toml)
    assert "language" not in raw["device"]  # fr is the default
    assert "data_dir" not in raw["device"]
    assert set(raw) == {"device", "marketplace", "mqtt"}
    assert "pa#ss=word" not in toml and "0123abcd" not in toml
    assert config_module.from_dict(raw) == card_settings(CARD)


def test_secrets_moved_by_an_earlier_run_stay_referenced() -> None:
    without = CARD.replace("mqtt_password = pa#ss=word\n", "")
    assert card_settings(without).mqtt.password_file is None
    kept = card_settings(without, frozenset({"mqtt_password"}))
    assert kept.mqtt.password_file == ETC / "mqtt-password"


def test_the_header_hash_tells_a_written_file_from_an_edited_one() -> None:
    toml = render_toml(card_settings(CARD))
    recorded, body = split_written(toml)
    assert recorded is not None and body.startswith("[device]")
    edited_recorded, edited_body = split_written(toml.replace("Lilas", "Roses"))
    assert edited_recorded == recorded and edited_body != body
    assert split_written("[device]\n") == (None, "[device]\n")


def test_redaction_replaces_only_the_secret_lines_and_keeps_bom_and_line_ends() -> None:
    raw = b"\xef\xbb\xbfmqtt_password = x\r\ndevice_id = box-1\r\nmarketplace_api_key = y\r\n"
    cleaned = redact(raw, {1: "mqtt_password: moved", 3: "marketplace_api_key: moved"})
    assert cleaned == (
        b"\xef\xbb\xbf# mqtt_password: moved\r\ndevice_id = box-1\r\n"
        b"# marketplace_api_key: moved\r\n"
    )
    assert read_card(cleaned).secrets == ()


def test_every_bad_line_is_named_in_one_go_top_to_bottom() -> None:
    with pytest.raises(SiteCardError) as caught:
        read_card(b"device_id = box-1\nshop_nmae = A\nmqtt_password hunter2\nshop_nmae = B\n")
    assert [p.split(" (")[0].split(":")[0] for p in caught.value.problems] == [
        "comptoir.txt line 2",
        "comptoir.txt line 3",
        "comptoir.txt line 4",
    ]
    assert "hunter2" not in str(caught.value)


def test_every_bad_value_is_named_not_only_the_first() -> None:
    with pytest.raises(SiteCardError) as caught:
        card_settings("device_id = box-1\nhub_id = douze\nlanguage = de\n")
    assert len(caught.value.problems) == 2
    assert "line 2, hub_id" in caught.value.problems[0]
    assert "line 3, language" in caught.value.problems[1]
