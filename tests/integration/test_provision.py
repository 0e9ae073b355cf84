"""`comptoir provision` as the boot unit runs it, into temporary boot/etc/data folders (the image
recipe and the units that carry it: tests/image/)."""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest

from appliance import config as config_module
from appliance.provisioning import read_card
from tests.ca_support import make_ca
from tests.found import found

REPO = Path(__file__).resolve().parents[2]
IMAGE = REPO / "image"
SECRET_PASSWORD = "Zr8-pa#ss=word_42"
SECRET_KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
CARD = (
    "\ufeff# la carte de la Ferme des Lilas\n"
    "device_id = ferme-lilas-1\n"
    'shop_name = "Ferme des Lilas"\n'
    "address = 12 route des Lilas, 49000 Angers\n"
    "mqtt_url = mqtts://fleet.example.org:8883\n"
    f"mqtt_password = {SECRET_PASSWORD}\n"
    "mqtt_ca_file = comptoir-ca.crt\n"
    "marketplace_url = https://www.coopcircuits.fr\n"
    "hub_id = 1234\n"
    "shipping_method_ids = 56, 57\n"
    f"marketplace_api_key = {SECRET_KEY}\n"
).replace("\n", "\r\n")


@pytest.fixture
def box(tmp_path: Path) -> dict[str, Path]:
    """A boot partition holding the card and the broker's CA, and empty etc and data folders."""
    folders = {name: tmp_path / name for name in ("boot", "etc", "data")}
    folders["boot"].mkdir()
    (folders["boot"] / "comptoir.txt").write_bytes(CARD.encode("utf-8"))
    (folders["boot"] / "comptoir-ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    return folders


def provision(box: dict[str, Path], *extra: str) -> subprocess.CompletedProcess[str]:
    me = pwd.getpwuid(os.geteuid()).pw_name
    return subprocess.run(
        [sys.executable, "-m", "appliance", "provision", "--owner", me, "--json"]
        + [f"--{name}={path}" for name, path in box.items()]
        + list(extra),
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def snapshot(*folders: Path) -> dict[Path, tuple[bytes, int]]:
    return {
        path: (path.read_bytes(), path.stat().st_mtime_ns)
        for folder in folders
        if folder.exists()
        for path in sorted(folder.iterdir())
    }


def test_a_fresh_card_provisions_the_box(box: dict[str, Path]) -> None:
    result = provision(box)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["config_state"] == "created" and report["changed"] is True
    assert report["card_cleaned"] == ["marketplace_api_key", "mqtt_password"]

    config = config_module.load(box["etc"] / "comptoir.toml")
    assert config.device.id == "ferme-lilas-1"
    assert config.device.name == "Ferme des Lilas"
    assert config.device.data_dir == box["data"]
    assert config.mqtt.username == "ferme-lilas-1"
    assert config.mqtt.ca_file == box["etc"] / "mqtt-ca.crt"
    assert config.marketplace.shipping_method_ids == (56, 57)
    password_file = found(config.mqtt.password_file)
    api_key_file = found(config.marketplace.api_key_file)
    assert password_file.read_text().strip() == SECRET_PASSWORD
    assert api_key_file.read_text().strip() == SECRET_KEY
    for secret in (password_file, api_key_file):
        assert secret.stat().st_mode & 0o777 == 0o600
    assert (box["etc"] / "mqtt-ca.crt").read_text().startswith("-----BEGIN CERTIFICATE")


def test_provisioning_makes_the_web_admins_certificate_once_with_a_private_key(
    box: dict[str, Path],
) -> None:
    from cryptography import x509

    from appliance.certificate import fingerprint

    assert provision(box).returncode == 0
    cert_file, key_file = box["data"] / "web-tls.crt", box["data"] / "web-tls.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "ferme-lilas-1.local" in names.get_values_for_type(x509.DNSName)
    first = fingerprint(cert_file)
    assert first.startswith("SHA-256 ") and len(first.split()[1].split(":")) == 32
    assert provision(box).returncode == 0
    assert fingerprint(cert_file) == first  # a second boot keeps it


def test_the_secrets_leave_the_card_and_never_reach_the_toml(box: dict[str, Path]) -> None:
    assert provision(box).returncode == 0
    card = (box["boot"] / "comptoir.txt").read_bytes()
    toml = (box["etc"] / "comptoir.toml").read_text()
    for secret in (SECRET_PASSWORD, SECRET_KEY):
        assert secret not in card.decode("utf-8")
        assert secret not in toml
    assert b"# mqtt_password: moved to " in card
    assert card.startswith(b"\xef\xbb\xbf") and card.count(b"\r\n") == CARD.count("\r\n")
    assert read_card(card).device_id == "ferme-lilas-1"  # the card still reads


def test_a_second_boot_with_the_same_card_changes_nothing(box: dict[str, Path]) -> None:
    assert provision(box).returncode == 0
    before = snapshot(box["boot"], box["etc"])
    result = provision(box)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["changed"] is False and report["config_state"] == "unchanged"
    assert snapshot(box["boot"], box["etc"]) == before


def test_an_edited_card_updates_the_box_and_a_new_secret_replaces_the_old(
    box: dict[str, Path],
) -> None:
    assert provision(box).returncode == 0
    card = box["boot"] / "comptoir.txt"
    text = card.read_text(encoding="utf-8-sig").replace("Ferme des Lilas", "Les Lilas")
    card.write_text(text + "mqtt_password = new-one\r\n", encoding="utf-8")
    result = provision(box)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["config_state"] == "updated"
    assert config_module.load(box["etc"] / "comptoir.toml").device.name == "Les Lilas"
    assert (box["etc"] / "mqtt-password").read_text() == "new-one\n"
    assert "new-one" not in card.read_text(encoding="utf-8")


def test_a_hand_edited_toml_is_kept_unless_forced(box: dict[str, Path]) -> None:
    assert provision(box).returncode == 0
    toml = box["etc"] / "comptoir.toml"
    edited = toml.read_text().replace("[mqtt]", '[scale]\nprotocol = "cas"\n\n[mqtt]')
    toml.write_text(edited)

    same_card = provision(box)  # nothing new on the card: the hand edit stays, no error
    assert same_card.returncode == 0, same_card.stderr
    assert json.loads(same_card.stdout)["config_state"] == "kept"

    card = box["boot"] / "comptoir.txt"
    card.write_text(card.read_text(encoding="utf-8-sig").replace("1234", "99"), encoding="utf-8")
    refused = provision(box)
    assert refused.returncode == 1
    assert "edited by hand" in refused.stderr and "--force" in refused.stderr
    assert toml.read_text() == edited

    forced = provision(box, "--force")
    assert forced.returncode == 0, forced.stderr
    config = config_module.load(toml)
    assert config.marketplace.hub_id == 99 and config.scale.protocol == "none"


def test_a_bad_card_names_the_line_and_writes_nothing(box: dict[str, Path]) -> None:
    card = box["boot"] / "comptoir.txt"
    card.write_bytes(CARD.replace("hub_id = 1234", "hub_id = douze").encode("utf-8"))
    result = provision(box)
    assert result.returncode == 2
    assert "line 9, hub_id" in result.stderr and "whole number" in result.stderr
    assert SECRET_PASSWORD not in result.stderr
    assert not box["etc"].exists()
    assert card.read_bytes() == CARD.replace("hub_id = 1234", "hub_id = douze").encode("utf-8")


def test_a_bad_card_on_a_provisioned_box_keeps_its_settings_and_says_why(
    box: dict[str, Path],
) -> None:
    assert provision(box).returncode == 0
    toml = (box["etc"] / "comptoir.toml").read_bytes()
    card = box["boot"] / "comptoir.txt"
    card.write_bytes(card.read_bytes() + b"hub = 12\r\n")
    refused = provision(box)
    problems = box["etc"] / "provision-problems.txt"
    assert refused.returncode == 2 and "line 12: unknown key 'hub'" in refused.stderr
    assert "line 12: unknown key 'hub'" in problems.read_text()
    assert problems.stat().st_mode & 0o777 == 0o600
    assert (box["etc"] / "comptoir.toml").read_bytes() == toml
    card.write_bytes(card.read_bytes().replace(b"hub = 12\r\n", b""))
    assert provision(box).returncode == 0
    assert not problems.exists()


def test_a_missing_ca_file_is_a_bad_card(box: dict[str, Path]) -> None:
    (box["boot"] / "comptoir-ca.crt").unlink()
    result = provision(box)
    assert result.returncode == 2
    assert "line 7, mqtt_ca_file" in result.stderr
    assert not box["etc"].exists()


def test_without_a_card_there_is_nothing_to_provision(box: dict[str, Path]) -> None:
    (box["boot"] / "comptoir.txt").unlink()
    result = provision(box)
    assert result.returncode == 2 and "no comptoir.txt" in result.stderr


def test_a_card_with_several_bad_lines_names_them_all_in_one_run(box: dict[str, Path]) -> None:
    card = box["boot"] / "comptoir.txt"
    bad = (
        CARD.replace("hub_id = 1234", "hub_id = douze")
        .replace("shop_name", "shop_nmae")
        .replace("mqtt_url = mqtts://", "mqtt_url = http://")
    )
    card.write_bytes(bad.encode("utf-8"))
    (box["boot"] / "comptoir-ca.crt").unlink()
    result = provision(box)
    assert result.returncode == 2
    problems = [line.strip() for line in result.stderr.splitlines() if " line " in line]
    assert [p.split(",")[0].split(":")[0] for p in problems] == [
        "comptoir.txt line 3",
        "comptoir.txt line 5",
        "comptoir.txt line 7",
        "comptoir.txt line 9",
    ]
    assert "4 problems" in result.stderr and SECRET_PASSWORD not in result.stderr
    assert not box["etc"].exists()


def test_every_file_of_etc_comptoir_is_private(box: dict[str, Path]) -> None:
    assert provision(box).returncode == 0
    modes = {path.name: path.stat().st_mode & 0o777 for path in box["etc"].iterdir()}
    assert modes == dict.fromkeys(
        ("comptoir.toml", "mqtt-password", "ofn-api-key", "mqtt-ca.crt"), 0o600
    )


def with_ca_lines(box: dict[str, Path]) -> None:
    card = box["boot"] / "comptoir.txt"
    card.write_bytes(
        card.read_bytes() + b"web_ca_cert = coop-ca.crt\r\nweb_ca_key = coop-ca.key\r\n"
    )


def test_the_coops_ca_signs_the_web_certificate_and_its_key_leaves_the_card(
    box: dict[str, Path],
) -> None:
    from cryptography import x509

    from appliance.certificate import fingerprint

    ca_file, ca_key_file = make_ca(box["boot"])
    with_ca_lines(box)
    result = provision(box)
    assert result.returncode == 0, result.stderr
    cert_file = box["data"] / "web-tls.crt"
    chain = x509.load_pem_x509_certificates(cert_file.read_bytes())
    ca = x509.load_pem_x509_certificate(ca_file.read_bytes())
    chain[0].verify_directly_issued_by(ca)  # raises when the CA did not sign it
    assert chain[1] == ca  # the browser is given the whole chain
    assert json.loads(result.stdout)["web_certificate"] == fingerprint(cert_file)
    assert not ca_key_file.exists()  # the CA's key is not left on a FAT partition
    card = (box["boot"] / "comptoir.txt").read_bytes()
    assert b"coop-ca.key" not in card and b"# web_ca_key: used by comptoir provision" in card
    assert provision(box).returncode == 0  # the next boot: the certificate alone is fine
    assert fingerprint(cert_file) == json.loads(result.stdout)["web_certificate"]


def test_a_self_signed_certificate_from_an_earlier_boot_is_replaced_once_the_ca_is_given(
    box: dict[str, Path],
) -> None:
    from cryptography import x509

    from appliance.certificate import fingerprint

    first = json.loads(provision(box).stdout)["web_certificate"]
    cert_file = box["data"] / "web-tls.crt"
    chain = x509.load_pem_x509_certificates(cert_file.read_bytes())
    assert len(chain) == 1 and chain[0].issuer == chain[0].subject  # self-signed without a CA
    make_ca(box["boot"])
    with_ca_lines(box)
    again = json.loads(provision(box).stdout)["web_certificate"]
    assert again != first and again == fingerprint(cert_file)
    assert len(x509.load_pem_x509_certificates(cert_file.read_bytes())) == 2


def test_a_ca_key_that_does_not_match_its_certificate_is_a_bad_card(box: dict[str, Path]) -> None:
    make_ca(box["boot"])
    (box["boot"] / "other").mkdir()
    _, other_key = make_ca(box["boot"] / "other")
    other_key.replace(box["boot"] / "coop-ca.key")
    with_ca_lines(box)
    result = provision(box)
    assert result.returncode != 0
    assert "the CA key does not belong to the CA certificate" in result.stderr
    assert not (box["data"] / "web-tls.crt").exists()  # nothing made, nothing written
    assert (box["boot"] / "coop-ca.key").exists()


def test_the_kiosk_is_told_how_provisioning_went_in_the_data_directory(
    box: dict[str, Path],
) -> None:
    from appliance.provisioning_status import State, Step, read

    assert provision(box).returncode == 0
    first = read(box["data"])
    assert first is not None and first.current()
    assert (first.state, first.device_id, first.changed) == (State.DONE, "ferme-lilas-1", True)
    status_file = box["data"] / "provisioning.json"
    assert status_file.stat().st_mode & 0o777 == 0o600
    assert SECRET_PASSWORD not in status_file.read_text()

    assert provision(box).returncode == 0  # the same card again: done, nothing changed
    again = read(box["data"])
    assert again is not None and (again.state, again.changed) == (State.DONE, False)

    card = box["boot"] / "comptoir.txt"
    card.write_bytes(card.read_bytes() + b"hub = 12\r\nhub_id = douze\r\n")
    assert provision(box).returncode == 2
    refused = read(box["data"])
    assert refused is not None and (refused.state, refused.step) == (State.FAILED, Step.CARD)
    assert [p.split(":")[0] for p in refused.problems] == [
        "comptoir.txt line 12",
        "comptoir.txt line 13",
    ]
