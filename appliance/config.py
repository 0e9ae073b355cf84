"""Typed, validated configuration loaded from one TOML file.

Every section is a frozen dataclass; the loader walks the type hints, so adding a key is adding a
field. A wrong key or value raises `ConfigError` naming the key, the value and what is expected,
before any process touches data. Like OctoPrint's settings, a file only holds what differs from
the defaults.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import tomllib
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from appliance.errors import ConfigError

DEFAULT_PATH = Path("/etc/comptoir/comptoir.toml")
ENV_VAR = "COMPTOIR_CONFIG"

Check = Callable[[Any], str | None]


def setting(default: Any = dataclasses.MISSING, *, check: Check | None = None, **kw: Any) -> Any:
    """A config field; `check` returns what is expected when the value is wrong, else None."""
    metadata = {"check": check} if check else {}
    return field(default=default, metadata=metadata, **kw)


def _at_least(low: int) -> Check:
    return lambda v: None if v >= low else f"a number of at least {low}"


def _between(low: int, high: int) -> Check:
    return lambda v: None if low <= v <= high else f"a number from {low} to {high}"


def _matches(pattern: str, expected: str) -> Check:
    return lambda v: None if re.fullmatch(pattern, v) else expected


def split_host_port(value: str) -> tuple[str, int] | None:
    """`host:port` as (host, port); None when it is not one (the one rule for every address)."""
    host, sep, port = value.rpartition(":")
    if sep and host and port.isdigit() and 0 < int(port) < 65536:
        return host, int(port)
    return None


def _host_port(value: str) -> str | None:
    return None if split_host_port(value) else "host:port, for example 192.168.1.50:8888"


#: When a box may switch to a new release: HH:MM-HH:MM, local time (docs/updates.md).
SWITCH_WINDOW = r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)"

DEVICE_ID = _matches(
    r"[a-z0-9][a-z0-9-]{1,62}", "lower-case letters, digits and dashes, such as ferme-lilas-1"
)
INTERVALS_G = (1, 2, 5, 10, 20, 50)


# -- sections -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Device:
    """Who this box is and where it keeps its data."""

    id: str = setting("comptoir-demo", check=DEVICE_ID)
    name: str = "Comptoir"
    address: str = ""
    phone: str = ""
    data_dir: Path = Path("/var/lib/comptoir")
    language: Literal["fr", "en"] = "fr"
    timezone: str = "Europe/Paris"


#: `[scale] protocol`: the scale's serial protocol, "none" for a shop without one.
ScaleProtocol = Literal["toledo8217", "dialog06", "cas", "none"]


@dataclass(frozen=True)
class Scale:
    """The legal-for-trade scale on a serial line (or any pyserial URL)."""

    protocol: ScaleProtocol = "none"
    port: str = "/dev/ttyUSB0"
    baud: int = setting(
        0,
        check=lambda v: (
            None
            if v in (0, 1200, 2400, 4800, 9600, 19200, 38400)
            else "0 (the protocol's default) or 1200, 2400, 4800, 9600, 19200, 38400"
        ),
    )
    framing: Literal["", "7E1", "7O1", "8N1", "8E1", "8O1"] = ""
    interval_g: int = setting(
        2,
        check=lambda v: None if v in INTERVALS_G else "one of " + ", ".join(map(str, INTERVALS_G)),
    )
    capacity_g: int = setting(15000, check=_between(100, 300000))
    min_load_g: int = setting(0, check=_at_least(0))
    poll_interval_ms: int = setting(200, check=_between(20, 5000))
    timeout_ms: int = setting(1000, check=_between(50, 10000))
    dialog06_polynomial: str = setting(
        "", check=_matches(r"([0-9A-Fa-f]{4})?", "empty or 4 hexadecimal digits, such as 8005")
    )

    @property
    def min_load(self) -> int:
        """Minimum load in grams: the configured value, or 20 scale intervals."""
        return self.min_load_g or 20 * self.interval_g


@dataclass(frozen=True)
class Printer:
    """The ESC/POS label and receipt printer."""

    backend: Literal["file", "usb", "serial", "network", "preview", "none"] = "preview"
    target: str = ""
    profile: str = "default"
    # 0: the paper width of the printer's profile (58 mm when it does not say).
    label_width_mm: int = setting(
        0, check=lambda v: None if v == 0 or 20 <= v <= 120 else "0 (the profile's) or 20 to 120"
    )
    label_height_mm: int = setting(40, check=_between(0, 300))
    barcode_layout: str = "20 IIIII V PPPP C"


@dataclass(frozen=True)
class Kiosk:
    """The touchscreen."""

    orientation: Literal["landscape", "portrait"] = "landscape"
    width: int = setting(800, check=_between(320, 3840))
    height: int = setting(480, check=_between(240, 3840))
    fullscreen: bool = True
    idle_timeout_s: int = setting(90, check=_between(10, 3600))
    receipt_base_url: str = ""
    help_email: str = ""  # where "Besoin d'aide ?" is e-mailed (through [smtp]); "" e-mails none
    # Spoken prompts (accessibility mode) written there as WAV files instead of played
    speech_wav_dir: Path | None = None


@dataclass(frozen=True)
class Payment:
    """The card terminal."""

    terminal: Literal["caisse-ap", "none"] = "none"
    address: str = setting("127.0.0.1:8888", check=_host_port)
    register_number: int = setting(1, check=_between(1, 99))
    timeout_s: int = setting(180, check=_between(10, 600))


@dataclass(frozen=True)
class Compartment:
    """One locker door as people number it, and how it is wired."""

    number: int = setting(check=_between(1, 999))
    size: Literal["S", "M", "L"] = "M"
    chilled: bool = False
    zone: str = ""
    board: int = setting(0, check=_between(0, 15))
    lock: int = setting(0, check=_between(0, 15))
    relay_pin: str = ""
    door_pin: str = ""
    item_pin: str = ""


@dataclass(frozen=True)
class Lockers:
    """Pickup lockers: controller, timings and compartments."""

    controller: Literal["gpio", "kerong", "none"] = "none"
    port: str = "/dev/ttyUSB1"
    pin_factory: Literal["lgpio", "native", "mock", "pigpio"] = "lgpio"
    # Where pin_factory = "pigpio" finds its pins: `comptoir locker simulate --gpio` or pigpiod.
    pigpio_address: str = setting("127.0.0.1:8888", check=_host_port)
    unlock_pulse_ms: int = setting(500, check=_between(50, 5000))
    lock_bit_closed: bool = True
    door_open_alarm_s: int = setting(120, check=_between(5, 3600))
    code_validity_days: int = setting(7, check=_between(1, 60))
    code_digits: int = setting(6, check=_between(6, 10))
    # Secret key that signs the QR codes sent to customers (never in the database or logs).
    device_key_file: Path | None = None
    # How long after an unlock the door must show open, and how often boards are polled.
    unlock_confirm_ms: int = setting(3000, check=_between(200, 30000))
    status_poll_ms: int = setting(200, check=_between(20, 5000))
    # A door switch state must hold this long before it counts (a flapping switch is ignored).
    door_debounce_ms: int = setting(300, check=_between(0, 5000))
    compartments: tuple[Compartment, ...] = ()


@dataclass(frozen=True)
class Marketplace:
    """The Open Food Network instance and this pickup point's scope in it."""

    url: str = ""
    api_key_file: Path | None = None
    hub_id: int = setting(0, check=_at_least(0))
    shipping_method_ids: tuple[int, ...] = ()
    order_cycle_ids: tuple[int, ...] = ()
    sync_interval_s: int = setting(300, check=_between(30, 86400))
    timeout_s: int = setting(20, check=_between(1, 300))
    # How variants measured by weight are sold here, unless `comptoir marketplace weighed` set
    # one product otherwise: as pieces (packs), or weighed with stock reported in small-unit
    # steps, with a local remainder, or not at all (on demand). See docs/marketplace.md.
    weighed_produce: Literal["pieces", "small_units", "remainder", "on_demand"] = "pieces"
    vat_rate_bp: int = setting(550, check=_between(0, 10000))
    # A completed order of the hub that collects on-site sales (relative, race-free stock
    # moves, visible in the hub's reports); empty: absolute stock writes. See docs/marketplace.md.
    shop_sales_order: str = setting(
        "", check=_matches(r"(R\d{9})?", "empty, or an order number such as R123456789")
    )


@dataclass(frozen=True)
class Pasteque:
    """The shop's Pastèque server: the box as one more cash register of it (off by default)."""

    enabled: bool = False
    url: str = setting(
        "", check=_matches(r"(https?://\S+)?", "empty, or the server's address: https://host")
    )
    # The instance account the box logs in with, and the file holding its password.
    user: str = ""
    password_file: Path | None = None
    # The reference of the box's register in Pastèque; empty means comptoir-<device id>.
    cash_register: str = ""
    # The Pastèque user (cashier) named on the box's tickets.
    cashier: str = "Comptoir"
    # Payment modes by reference: card sales, orders paid online, refunds.
    card_payment_mode: str = "magcard"
    online_payment_mode: str = "online"
    refund_payment_mode: str = "magcard"
    # Online orders handed out here become tickets paid online (off when another gateway
    # already records them in Pastèque).
    online_orders: bool = True
    interval_s: int = setting(60, check=_between(10, 3600))
    timeout_s: int = setting(20, check=_between(1, 300))
    # Failed rounds in a row before an alert is raised on the web admin.
    alert_after: int = setting(3, check=_between(1, 100))


@dataclass(frozen=True)
class Mqtt:
    """The fleet broker."""

    url: str = setting(
        "",
        check=_matches(
            r"(mqtts?://[^:/\s]+(:\d{1,5})?)?", "empty, or mqtt://host:port or mqtts://host:port"
        ),
    )
    username: str = ""
    password_file: Path | None = None
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    telemetry_period_s: int = setting(60, check=_between(5, 86400))
    # How `restart` restarts a process: empty means `systemctl restart comptoir-{name}`.
    restart_command: str = ""
    # Where `get_logs` reads: journald (`journalctl -u comptoir-NAME`), or a file in the data dir.
    logs_source: Literal["auto", "journald", "file"] = "auto"
    log_file: Path = Path("logs/comptoir.log")


@dataclass(frozen=True)
class Smtp:
    """The mail server that sends pickup codes to customers; an empty host sends nothing."""

    host: str = ""
    port: int = setting(587, check=_between(1, 65535))
    username: str = ""
    password_file: Path | None = None
    sender: str = ""
    starttls: bool = True
    timeout_s: int = setting(20, check=_between(1, 300))


@dataclass(frozen=True)
class HaccpZone:
    """A temperature zone: its DS18B20 sensors, its limit and how long it may stay above."""

    name: str = setting(check=_matches(r"[a-z0-9][a-z0-9_-]{0,39}", "a short name like frigo-1"))
    limit_c: int = setting(4, check=_between(-40, 40))
    allowed_min: int = setting(30, check=_between(0, 1440))
    sensors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Haccp:
    """Cold-chain log: where the 1-wire sensors are read and how often."""

    w1_root: Path = Path("/")
    interval_s: int = setting(60, check=_between(10, 43200))
    zones: tuple[HaccpZone, ...] = ()


@dataclass(frozen=True)
class Updates:
    """Signed releases installed side by side under `root` (see docs/updates.md)."""

    root: Path = Path("/opt/comptoir")
    # Public keys (release.pub) whose signature a bundle must carry to be installed.
    trusted_keys: tuple[Path, ...] = (Path("/etc/comptoir/release.pub"),)
    # CA certificate of the fleet's HTTPS file server; none: the system's CAs.
    ca_file: Path | None = None
    # How long the new release must stay healthy before it is kept.
    health_s: int = setting(120, check=_between(10, 3600))
    # Space an update must leave free on the disk, for the shop's database and logs.
    keep_free_mb: int = setting(200, check=_at_least(0))
    # Who starts and restarts the units: systemd on a box, `comptoir supervise` elsewhere.
    services: Literal["systemd", "supervisor"] = "systemd"
    # When this box may switch to a new release (local time, out of shop hours); "": any time.
    window: str = setting(
        "",
        check=lambda v: (
            None
            if not v or re.fullmatch(SWITCH_WINDOW, v)
            else "empty or HH:MM-HH:MM local time, such as 21:00-07:00"
        ),
    )


@dataclass(frozen=True)
class Web:
    """The LAN admin: HTTPS on `listen`, and plain HTTP on `http_listen` that only redirects
    ('' for none)."""

    listen: str = setting("0.0.0.0:8443", check=_host_port)
    http_listen: str = setting("0.0.0.0:8080", check=lambda v: None if not v else _host_port(v))


@dataclass(frozen=True)
class Shop:
    """How the box counts for the tax office (docs/fiscal.md): live sales, training or demo."""

    # live: real sales. training: every screen, label and receipt says FORMATION and its tickets
    # stay out of the fiscal totals. demo: like live, every document says DÉMO.
    mode: Literal["live", "training", "demo"] = "live"
    # The month the fiscal year starts in (1 = January): the yearly closing covers 12 months.
    fiscal_year_start_month: int = setting(1, check=_between(1, 12))
    # The local hour at which the agent closes the day before (and the month, and the year).
    closing_hour: int = setting(1, check=_between(0, 23))
    # Printed on receipts and closings for the tax office; empty: not printed.
    siret: str = setting("", check=_matches(r"(\d{14})?", "empty or the 14 digits of a SIRET"))


@dataclass(frozen=True)
class Privacy:
    """Personal data of marketplace customers (docs/privacy.md)."""

    # Names, e-mails and phone numbers of an order are erased this many days after it was
    # collected or cancelled; the fiscal records never held them.
    keep_contact_days: int = setting(30, check=_between(1, 3650))


@dataclass(frozen=True)
class Config:
    """The whole configuration of one box."""

    device: Device = field(default_factory=Device)
    scale: Scale = field(default_factory=Scale)
    printer: Printer = field(default_factory=Printer)
    kiosk: Kiosk = field(default_factory=Kiosk)
    payment: Payment = field(default_factory=Payment)
    lockers: Lockers = field(default_factory=Lockers)
    marketplace: Marketplace = field(default_factory=Marketplace)
    pasteque: Pasteque = field(default_factory=Pasteque)
    mqtt: Mqtt = field(default_factory=Mqtt)
    web: Web = field(default_factory=Web)
    smtp: Smtp = field(default_factory=Smtp)
    haccp: Haccp = field(default_factory=Haccp)
    updates: Updates = field(default_factory=Updates)
    shop: Shop = field(default_factory=Shop)
    privacy: Privacy = field(default_factory=Privacy)
    source: Path | None = None

    @property
    def database_path(self) -> Path:
        return self.device.data_dir / "comptoir.db"


# -- loading --------------------------------------------------------------------------------------


def config_path(cli_value: str | None = None) -> Path:
    """`--config`, else `$COMPTOIR_CONFIG`, else /etc/comptoir/comptoir.toml."""
    return Path(cli_value or os.environ.get(ENV_VAR) or DEFAULT_PATH)


def load(path: Path) -> Config:
    """Read and validate a config file; every problem is a ConfigError naming the key."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"config file {path} does not exist: copy config/comptoir.example.toml there "
            f"or pass --config FILE"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror}") from None
    config = from_dict(raw)
    config = dataclasses.replace(config, source=path)
    # A relative data_dir is relative to the config file, so a demo folder travels with it.
    if not config.device.data_dir.is_absolute():
        device = dataclasses.replace(
            config.device, data_dir=(path.parent / config.device.data_dir).resolve()
        )
        config = dataclasses.replace(config, device=device)
    target = Path(config.printer.target)
    if (
        config.printer.backend in ("preview", "file")
        and config.printer.target
        and not target.is_absolute()
    ):
        printer = dataclasses.replace(config.printer, target=str((path.parent / target).resolve()))
        config = dataclasses.replace(config, printer=printer)
    if config.printer.backend == "preview" and not config.printer.target:
        labels = str(config.device.data_dir / "labels")
        config = dataclasses.replace(
            config, printer=dataclasses.replace(config.printer, target=labels)
        )
    return config


def from_dict(raw: dict[str, Any]) -> Config:
    config: Config = _build(Config, raw, "", skip=frozenset({"source"}))
    _check_compartment_numbers(config.lockers.compartments)
    return config


def _check_compartment_numbers(compartments: tuple[Compartment, ...]) -> None:
    """One door per number: a repeated number would open, or list, the wrong door."""
    first: dict[int, int] = {}
    for i, compartment in enumerate(compartments):
        if compartment.number in first:
            raise ConfigError(
                f"lockers.compartments[{first[compartment.number]}] and "
                f"lockers.compartments[{i}] both have number = {compartment.number}: give each "
                f"[[lockers.compartments]] its own number"
            )
        first[compartment.number] = i


def _build(cls: type, raw: Any, where: str, skip: frozenset[str] = frozenset()) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where or 'config'} must be a table of keys, not {raw!r}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in skip}
    hints = typing.get_type_hints(cls)
    for key in raw:
        if key not in fields:
            near = difflib.get_close_matches(key, fields, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            known = ", ".join(fields)
            what = f"key {where}.{key}" if where else f"section [{key}]"
            raise ConfigError(f"unknown {what}{hint} (known: {known})")
    values = {}
    for name, f in fields.items():
        key = _key(where, name)
        if name not in raw:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ConfigError(f"missing key {key}: it is required here, add it")
            continue
        value = _convert(hints[name], raw[name], key)
        check = f.metadata.get("check")
        problem = check(value) if check and value is not None else None
        if problem:
            raise ConfigError(f"{key} = {raw[name]!r} is wrong: expected {problem}")
        values[name] = value
    return cls(**values)


def _key(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _convert(hint: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build(hint, value, key)
    if origin is Literal:
        if value not in args:
            choices = ", ".join(repr(a) for a in args)
            raise ConfigError(f"{key} = {value!r} is wrong: expected one of {choices}")
        return value
    if origin in (types.UnionType, typing.Union):
        inner = [a for a in args if a is not type(None)]
        return _convert(inner[0], value, key)
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(f"{key} = {value!r} is wrong: expected a list, such as [1, 2]")
        return tuple(_convert(args[0], item, f"{key}[{i}]") for i, item in enumerate(value))
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key} = {value!r} is wrong: expected true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key} = {value!r} is wrong: expected a whole number")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key} = {value!r} is wrong: expected text in quotes")
        return value
    if hint is Path:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{key} = {value!r} is wrong: expected a file path in quotes")
        return Path(value)
    raise TypeError(f"config field {key} has an unsupported type {hint!r}")
