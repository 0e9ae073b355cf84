"""The site card: `comptoir.txt`, the few per-site values a field installer writes on the SD
card's boot partition, turned into comptoir.toml settings and secret files.

Pure: bytes in, values out; `comptoir provision` reads and writes the files. Like octopi.txt the
card is `key = value` lines with `#` comments, edited on any laptop, so it forgives a UTF-8 BOM,
Windows line ends, ANSI (cp1252) text and quotes around values. A `#` starts a comment only at the
start of a line: a password may hold one.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance import config as config_module
from appliance.config import Config
from appliance.errors import ConfigError

CARD_NAME = "comptoir.txt"
TOML_NAME = "comptoir.toml"
HASH_MARK = "# provision-sha256: "
# Beside comptoir.toml while the card on the boot partition is refused (the agent reports it).
PROBLEMS_NAME = "provision-problems.txt"

# Card key -> config key ("section.name"). The MQTT username is always the device id (the broker
# ACL's %u), so it has no card key.
SETTINGS = {
    "device_id": "device.id",
    "shop_name": "device.name",
    "address": "device.address",
    "phone": "device.phone",
    "language": "device.language",
    "mqtt_url": "mqtt.url",
    "marketplace_url": "marketplace.url",
    "hub_id": "marketplace.hub_id",
    "shipping_method_ids": "marketplace.shipping_method_ids",
}
WHOLE_NUMBERS = ("hub_id",)
NUMBER_LISTS = ("shipping_method_ids",)


@dataclass(frozen=True)
class EtcFile:
    """A card value kept in its own file beside comptoir.toml, the config naming only the file."""

    file_name: str
    config_key: str


SECRETS = {
    "mqtt_password": EtcFile("mqtt-password", "mqtt.password_file"),
    "marketplace_api_key": EtcFile("ofn-api-key", "marketplace.api_key_file"),
}
# A file the installer copies next to the card (the broker's CA certificate): public, copied.
CA_KEY = "mqtt_ca_file"
CA_FILE = EtcFile("mqtt-ca.crt", "mqtt.ca_file")
# The co-op's CA for the web admin's certificate, two files next to the card: the certificate,
# and its key, used once to sign this box's certificate and then removed from the card.
WEB_CA_CERT_KEY = "web_ca_cert"
WEB_CA_KEY_KEY = "web_ca_key"
KNOWN_KEYS = (*SETTINGS, *SECRETS, CA_KEY, WEB_CA_CERT_KEY, WEB_CA_KEY_KEY)


class SiteCardError(ConfigError):
    """comptoir.txt is wrong; nothing has been written. `problems` holds one line per wrong line
    of the card, all of them, so the installer fixes the card in one go."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(sorted(problems, key=_line_of))
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            message = f"{CARD_NAME} has {len(self.problems)} problems; fix them all:\n" + "\n".join(
                f"  {problem}" for problem in self.problems
            )
        super().__init__(message)


@dataclass(frozen=True)
class Entry:
    """One `key = value` line of the card (`line` counts from 1)."""

    key: str
    value: str
    line: int


@dataclass(frozen=True)
class SiteCard:
    entries: tuple[Entry, ...]

    def get(self, key: str) -> Entry | None:
        return next((e for e in self.entries if e.key == key), None)

    @property
    def device_id(self) -> str:
        entry = self.get("device_id")
        return entry.value if entry else ""

    @property
    def secrets(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.key in SECRETS)


def read_card(raw: bytes) -> SiteCard:
    """Parse the card; a SiteCardError names every line and key that are wrong."""
    card, problems = parse_card(raw)
    if problems:
        raise SiteCardError(problems)
    return card


def parse_card(raw: bytes) -> tuple[SiteCard, list[str]]:
    """The card's good lines, and one problem per bad line (so the values of the good lines
    can be checked too, and the installer hears of everything at once)."""
    entries: dict[str, Entry] = {}
    problems: list[str] = []
    for number, line in enumerate(decode(raw).split("\n"), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        key, sep, value = text.partition("=")
        key = key.strip().lower()
        if not sep or not key:
            # Only the first word is quoted back: the line may hold a secret.
            problems.append(
                f"{CARD_NAME} line {number} (starting {_first_word(text)!r}) is not "
                f"`key = value`; start a comment with #"
            )
        elif key not in KNOWN_KEYS:
            near = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            problems.append(
                f"{CARD_NAME} line {number}: unknown key {key!r}{hint} "
                f"(known: {', '.join(KNOWN_KEYS)})"
            )
        elif key in entries:
            problems.append(
                f"{CARD_NAME} line {number}: {key} is given twice (also on line "
                f"{entries[key].line}); keep one"
            )
        elif value := _unquote(value.strip()):  # `key =` with nothing after it leaves the default
            entries[key] = Entry(key, value, number)
    card = SiteCard(tuple(entries.values()))
    if not card.device_id and not any("device_id" in problem for problem in problems):
        problems.append(
            f"{CARD_NAME}: device_id is missing: add a line such as `device_id = ferme-lilas-1` "
            f"(the id the cooperative's admin gave this box)"
        )
    return card, problems


def decode(raw: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows' ANSI code page; line ends become \\n."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError:
            raise SiteCardError(
                [f"{CARD_NAME} is not text: save it as UTF-8 with a plain text editor"]
            ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def settings(card: SiteCard, etc_dir: Path, data_dir: Path, kept: frozenset[str]) -> Config:
    """The validated config the card describes; `kept` are the card keys of secret and CA files
    already in `etc_dir` (moved there by an earlier run), still referenced. Every wrong value is
    named: the config names one, that line is set aside and the rest checked again."""
    problems: list[str] = []
    entries = list(card.entries)
    while True:
        try:
            config = _config(card, entries, etc_dir, data_dir, kept)
        except ConfigError as exc:
            entry = _entry_for(entries, str(exc))
            if entry is None:
                raise SiteCardError([*problems, f"{CARD_NAME}: {exc}"]) from None
            problems.append(f"{CARD_NAME} line {entry.line}, {entry.key}: {exc}")
            entries.remove(entry)
            continue
        if problems:
            raise SiteCardError(problems)
        return config


def _config(
    card: SiteCard,
    entries: list[Entry],
    etc_dir: Path,
    data_dir: Path,
    kept: frozenset[str],
) -> Config:
    raw: dict[str, dict[str, Any]] = {"device": {"data_dir": str(data_dir)}}
    for entry in entries:
        if entry.key in SETTINGS:
            _put(raw, SETTINGS[entry.key], _typed(entry))
    for key, file in (*SECRETS.items(), (CA_KEY, CA_FILE)):
        if card.get(key) or key in kept:
            _put(raw, file.config_key, str(etc_dir / file.file_name))
    if "url" in raw.get("mqtt", {}):
        raw["mqtt"]["username"] = card.device_id
    return config_module.from_dict(raw)


def render_toml(config: Config) -> str:
    """The keys that differ from the defaults, section by section, under a header whose hash
    tells a file provisioning wrote from one edited since."""
    defaults = Config()
    lines: list[str] = []
    for section in dataclasses.fields(Config):
        value, default = getattr(config, section.name), getattr(defaults, section.name)
        if not dataclasses.is_dataclass(value) or value == default:
            continue
        lines += ["", f"[{section.name}]"]
        for key in dataclasses.fields(value):
            mine, theirs = getattr(value, key.name), getattr(default, key.name)
            if mine != theirs:
                lines.append(f"{key.name} = {_toml_value(mine)}")
    body = "\n".join(lines).lstrip("\n") + "\n"
    return (
        "# Written by `comptoir provision` from comptoir.txt on the boot partition; secrets are\n"
        "# in the files named here. Change the card and reboot to provision again. Once this file\n"
        "# is edited by hand, provisioning leaves it alone (`comptoir provision --force`).\n"
        f"{HASH_MARK}{body_hash(body)}\n\n{body}"
    )


def body_hash(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def split_written(text: str) -> tuple[str | None, str]:
    """(the hash recorded when provisioning wrote it, or None; the body after the header)."""
    recorded = None
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if line.startswith(HASH_MARK):
            recorded = line[len(HASH_MARK) :].strip()
            body = "\n".join(lines[index + 1 :])
            return recorded, body[1:] if body.startswith("\n") else body
    return recorded, text


def redact(raw: bytes, notes: dict[int, str]) -> bytes:
    """The card with each line numbered in `notes` replaced by that comment, every other byte
    (BOM, line ends, encoding) as the installer wrote it."""
    lines = raw.split(b"\n")
    for number, note in notes.items():
        old = lines[number - 1]
        ending = b"\r" if old.endswith(b"\r") else b""
        prefix = b"\xef\xbb\xbf" if number == 1 and old.startswith(b"\xef\xbb\xbf") else b""
        lines[number - 1] = prefix + f"# {note}".encode() + ending
    return b"\n".join(lines)


def _typed(entry: Entry) -> Any:
    """Numbers as numbers; anything else stays text for the config to judge and name."""
    if entry.key in WHOLE_NUMBERS:
        return _number(entry.value)
    if entry.key in NUMBER_LISTS:
        return [_number(item) for item in re.split(r"[,;\s]+", entry.value) if item]
    if entry.key == "language":
        return entry.value.lower()
    return entry.value


def _number(text: str) -> int | str:
    return int(text) if re.fullmatch(r"[+-]?\d+", text) else text


def _put(raw: dict[str, dict[str, Any]], dotted: str, value: Any) -> None:
    section, _, name = dotted.partition(".")
    raw.setdefault(section, {})[name] = value


def _entry_for(entries: list[Entry], message: str) -> Entry | None:
    """The card line whose config key a ConfigError message starts with."""
    for entry in entries:
        key = SETTINGS.get(entry.key)
        if key and re.match(re.escape(key) + r"[\s\[]", message):
            return entry
    return None


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    # A JSON string is a TOML basic string (same escapes), accents kept as they are.
    return json.dumps(str(value), ensure_ascii=False)


def _unquote(value: str) -> str:
    for left, right in (('"', '"'), ("'", "'"), ("“", "”"), ("«", "»")):
        if len(value) >= 2 and value.startswith(left) and value.endswith(right):
            return value[1:-1]
    return value


def _line_of(problem: str) -> int:
    """The line a problem names, for reading them top to bottom (0: the card as a whole)."""
    found = re.match(rf"{re.escape(CARD_NAME)} line (\d+)", problem)
    return int(found[1]) if found else 0


def _first_word(text: str) -> str:
    return re.split(r"[\s:]", text, maxsplit=1)[0][:30]
