"""`comptoir provision`: set this box up from comptoir.txt on the SD card's boot partition.

comptoir-provision.service runs it as root at every boot, before the other units: it writes
comptoir.toml (only what differs from the defaults), moves the secrets into files only the
service user can read, then takes them off the card, a FAT partition any laptop reads. With the
same card a second time it changes nothing. Every check happens before the first write.
"""

from __future__ import annotations

import argparse
import logging
import os
import pwd
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from appliance.commands._common import add_json_flag, print_json
from appliance.config import Config
from appliance.errors import ComptoirError, UsageError
from appliance.provisioning import (
    CA_FILE,
    CA_KEY,
    CARD_NAME,
    PROBLEMS_NAME,
    SECRETS,
    TOML_NAME,
    WEB_CA_CERT_KEY,
    WEB_CA_KEY_KEY,
    SiteCard,
    SiteCardError,
    body_hash,
    parse_card,
    redact,
    render_toml,
    settings,
    split_written,
)
from appliance.provisioning_status import STATUS_NAME, State, Status, Step

if TYPE_CHECKING:
    from appliance.certificate import Authority

log = logging.getLogger(__name__)

# Every file of /etc/comptoir: read by the service user only (the card's CA is public, but one
# rule is easier to check than two).
PRIVATE = 0o600

STATES = {
    "created": "created",
    "updated": "updated",
    "unchanged": "already up to date",
    "kept": "kept as edited by hand (the card asks for nothing new)",
}


class HandEdited(ComptoirError):
    """comptoir.toml changed since provisioning wrote it and the card asks for something else."""


@dataclass(frozen=True)
class Owner:
    uid: int
    gid: int


@dataclass(frozen=True)
class Write:
    """One file to put in place; `owner` only for files the service user must read."""

    path: Path
    content: bytes
    mode: int
    owner: Owner | None = None


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "provision", help="set this box up from comptoir.txt on the SD card's boot partition"
    )
    parser.add_argument(
        "--boot", type=Path, required=True, metavar="DIR", help="folder of comptoir.txt"
    )
    parser.add_argument(
        "--etc",
        type=Path,
        default=Path("/etc/comptoir"),
        metavar="DIR",
        help="where comptoir.toml and the secret files go (default /etc/comptoir)",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=Path("/var/lib/comptoir"),
        metavar="DIR",
        help="the box's data directory, written as [device] data_dir (default /var/lib/comptoir)",
    )
    parser.add_argument(
        "--owner",
        default="comptoir",
        metavar="USER",
        help="when run as root, the user who owns the secret files (default comptoir)",
    )
    parser.add_argument("--force", action="store_true", help="replace a hand-edited comptoir.toml")
    add_json_flag(parser)
    parser.set_defaults(func=run)


class Progress:
    """Each step in the data directory's status file, for the kiosk's screen
    (appliance.provisioning_status). The screen is a help, not the job: a status that cannot be
    written is logged, and provisioning goes on."""

    def __init__(self, data: Path, owner: Owner | None) -> None:
        self.data = data
        self.owner = owner
        self.device_id = ""
        self.step = Step.CARD

    def at(self, step: Step) -> None:
        self.step = step
        self._write(Status(State.RUNNING, step, device_id=self.device_id))

    def done(self, changed: bool) -> None:
        self._write(Status(State.DONE, Step.CARD_CLEANED, (), self.device_id, changed))

    def failed(self, problems: tuple[str, ...]) -> None:
        self._write(Status(State.FAILED, self.step, problems, self.device_id))

    def _write(self, status: Status) -> None:
        try:
            if not self.data.exists():
                self.data.mkdir(mode=0o755, parents=True)
                if self.owner is not None:
                    os.chown(self.data, self.owner.uid, self.owner.gid)
            _replace(self.data / STATUS_NAME, status.to_json(), PRIVATE, self.owner)
        except OSError as exc:
            log.warning("cannot write the provisioning status in %s: %s", self.data, exc)


def run(args: argparse.Namespace) -> int:
    """Provision, and leave the outcome where the agent reports it: a refused card's problems
    in PROBLEMS_NAME beside comptoir.toml (the box keeps its last good settings), none once a
    card was taken; and where the kiosk shows it (Progress)."""
    problems_path = args.etc.absolute() / PROBLEMS_NAME
    owner = _owner(args.owner)
    progress = Progress(args.data.absolute(), owner)
    progress.at(Step.CARD)
    try:
        done = _provision(args, progress)
    except ComptoirError as exc:
        problems = exc.problems if isinstance(exc, SiteCardError) else (str(exc),)
        progress.failed(problems)
        if isinstance(exc, (SiteCardError, HandEdited)) and args.etc.absolute().is_dir():
            _replace(problems_path, f"{exc}\n".encode(), PRIVATE, owner)
        raise
    problems_path.unlink(missing_ok=True)
    return done


def _provision(args: argparse.Namespace, progress: Progress) -> int:
    card_path = args.boot / CARD_NAME
    try:
        raw = card_path.read_bytes()
    except FileNotFoundError:
        raise UsageError(
            f"no {CARD_NAME} in {args.boot}: copy image/comptoir.txt.example there and fill it in"
        ) from None
    except OSError as exc:
        raise UsageError(f"{card_path} cannot be read: {exc.strerror}") from None
    card, problems = parse_card(raw)
    progress.device_id = card.device_id
    etc: Path = args.etc.absolute()
    owner = progress.owner

    writes = [
        Write(etc / SECRETS[e.key].file_name, (e.value + "\n").encode(), PRIVATE, owner)
        for e in card.secrets
    ]
    ca, ca_problems = _ca_certificate(card, args.boot, etc, owner)
    if ca:
        writes.append(ca)
    kept = frozenset(
        key
        for key, file in (*SECRETS.items(), (CA_KEY, CA_FILE))
        if (etc / file.file_name).exists()
    )
    problems += ca_problems
    authority, authority_problems = _web_authority(card, args.boot)
    problems += authority_problems
    try:
        config = settings(card, etc, args.data.absolute(), kept)
    except SiteCardError as exc:  # every wrong line at once: syntax, values, the CA file
        raise SiteCardError([*problems, *exc.problems]) from None
    if problems:
        raise SiteCardError(problems)
    toml = render_toml(config)
    toml_path = etc / TOML_NAME
    state = _toml_state(toml_path, toml, force=args.force, boot=args.boot)
    if state in ("created", "updated"):
        writes.append(Write(toml_path, toml.encode(), PRIVATE, owner))
    notes = {
        e.line: f"{e.key}: moved to {etc / SECRETS[e.key].file_name} by comptoir provision "
        f"(a secret does not stay on this card)"
        for e in card.secrets
    }

    progress.at(Step.SETTINGS)
    written = [w for w in writes if _differs(w)]
    if written:
        etc.mkdir(mode=0o755, parents=True, exist_ok=True)
    for write in written:
        _put_in_place(write)
    progress.at(Step.KEYS)
    made_key = _signing_key(args.data.absolute(), owner)
    fingerprint = _web_certificate(args.data.absolute(), owner, config, authority)
    ca_key = card.get(WEB_CA_KEY_KEY)
    if ca_key is not None:  # the CA's key signed this box's certificate: it leaves the card
        notes[ca_key.line] = (
            f"{WEB_CA_KEY_KEY}: used by comptoir provision to sign this box's web certificate, "
            f"then removed from the card"
        )
    progress.at(Step.CARD_CLEANED)
    if notes:  # only once the secrets are safely in their files
        _replace(card_path, redact(raw, notes))
    if ca_key is not None:
        (args.boot / ca_key.value).unlink(missing_ok=True)
    progress.done(bool(written or notes or made_key))
    _report(args, card, toml_path, state, written, notes, fingerprint)
    return 0


def _signing_key(data: Path, owner: Owner | None) -> bool:
    """The box's Ed25519 key for fiscal records (docs/fiscal.md): made once, mode 600, owned by
    the service user; a second run leaves it alone. Whether it was made now."""
    from appliance.store import fiscal_key

    if (data / fiscal_key.KEY_NAME).exists():
        return False
    fiscal_key.ensure_key(data)
    if owner is not None:
        for path in (data / fiscal_key.KEY_NAME, data / fiscal_key.PUBLIC_NAME):
            os.chown(path, owner.uid, owner.gid)
    return True


def _web_certificate(
    data: Path, owner: Owner | None, config: Config, authority: Authority | None
) -> str:
    """The web admin's HTTPS certificate (docs/admin.md), made once (signed by the co-op's CA
    when the card gives it, self-signed otherwise); its key mode 600, owned by the service user.
    Returns its fingerprint."""
    from appliance import certificate

    cert_file = certificate.paths(data)[0]
    if cert_file.exists() and (authority is None or certificate.issued_by(cert_file, authority)):
        return certificate.fingerprint(cert_file)
    made = certificate.ensure_certificate(data, config.device.id, config.device.name, authority)
    if owner is not None:
        for path in (made.cert_file, made.key_file):
            os.chown(path, owner.uid, owner.gid)
    return made.fingerprint


def _web_authority(card: SiteCard, boot: Path) -> tuple[Authority | None, list[str]]:
    """The co-op's CA the card names (its certificate and key files beside the card), or the
    problem with those lines. The certificate alone (its key already used and removed) is fine."""
    from appliance.certificate import CertificateError, load_authority

    cert_entry, key_entry = card.get(WEB_CA_CERT_KEY), card.get(WEB_CA_KEY_KEY)
    if key_entry is None:
        return None, []
    if cert_entry is None:
        return None, [
            f"{CARD_NAME} line {key_entry.line}, {WEB_CA_KEY_KEY}: give the CA's certificate "
            f"too (`{WEB_CA_CERT_KEY} = coop-ca.crt`, the file next to {CARD_NAME})"
        ]
    pems: list[bytes] = []
    for entry in (cert_entry, key_entry):
        try:
            pems.append((boot / entry.value).read_bytes())
        except OSError:
            return None, [
                f"{CARD_NAME} line {entry.line}, {entry.key}: {boot / entry.value} cannot be "
                f"read: copy the co-op's file next to {CARD_NAME} under that name"
            ]
    try:
        return load_authority(pems[0], pems[1]), []
    except CertificateError as exc:
        return None, [f"{CARD_NAME} lines {cert_entry.line} and {key_entry.line}: {exc}"]


def _owner(name: str) -> Owner | None:
    """Root hands the secret files to the service user; anyone else keeps them."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise UsageError(
            f"user {name!r} does not exist: create it (the Comptoir image has it) or pass --owner"
        ) from None
    return Owner(entry.pw_uid, entry.pw_gid)


def _ca_certificate(
    card: SiteCard, boot: Path, etc: Path, owner: Owner | None
) -> tuple[Write | None, list[str]]:
    """The CA certificate to copy, or the problem with the card's line naming it."""
    entry = card.get(CA_KEY)
    if entry is None:
        return None, []
    source = boot / entry.value
    try:
        content = source.read_bytes()
    except OSError:
        return None, [
            f"{CARD_NAME} line {entry.line}, {CA_KEY}: {source} cannot be read: copy the "
            f"broker's CA certificate next to {CARD_NAME} under that name"
        ]
    return Write(etc / CA_FILE.file_name, content, PRIVATE, owner), []


def _toml_state(path: Path, toml: str, *, force: bool, boot: Path) -> str:
    """created, updated, unchanged, or kept (edited by hand, and the card has nothing new)."""
    try:
        old = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return "created"
    if old == toml:
        return "unchanged"
    if force:
        return "updated"
    recorded, body = split_written(old)
    if recorded == body_hash(split_written(toml)[1]):
        return "kept"
    if recorded == body_hash(body):
        return "updated"
    raise HandEdited(
        f"{path} was edited by hand since comptoir provision wrote it, and {CARD_NAME} asks for "
        f"other settings: copy them into it by hand, or run "
        f"`comptoir provision --boot {boot} --force` to replace it (nothing was written)"
    )


def _differs(write: Write) -> bool:
    try:
        status = write.path.stat()
        same = write.path.read_bytes() == write.content
    except FileNotFoundError:
        return True
    owned = write.owner is None or (status.st_uid, status.st_gid) == (
        write.owner.uid,
        write.owner.gid,
    )
    return not (same and owned and status.st_mode & 0o777 == write.mode)


def _put_in_place(write: Write) -> None:
    _replace(write.path, write.content, write.mode, write.owner)


def _replace(
    path: Path, content: bytes, mode: int | None = None, owner: Owner | None = None
) -> None:
    """Write beside, flush, then rename over: a power cut leaves the old file or the new one.
    `mode` None leaves permissions alone (a FAT partition refuses chmod)."""
    temporary = path.with_name(path.name + ".provisioning")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if mode else 0o644)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        if owner is not None:
            os.chown(temporary, owner.uid, owner.gid)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _report(
    args: argparse.Namespace,
    card: SiteCard,
    toml_path: Path,
    state: str,
    written: list[Write],
    notes: dict[int, str],
    fingerprint: str,
) -> None:
    cleaned = sorted(e.key for e in card.secrets)
    if args.json:
        print_json(
            {
                "device_id": card.device_id,
                "config": str(toml_path),
                "config_state": state,
                "written": [str(w.path) for w in written],
                "card_cleaned": cleaned,
                "changed": bool(written or notes),
                "web_certificate": fingerprint,
            }
        )
        return
    if not (written or notes):
        print(f"{card.device_id}: nothing to do, {toml_path} {STATES[state]}")
        print(f"  web admin certificate {fingerprint}")
        return
    print(f"{card.device_id}: {toml_path} {STATES[state]}")
    for write in written:
        if write.path != toml_path:
            print(f"  wrote {write.path} (mode {write.mode:o})")
    if cleaned:
        print(f"  removed from {args.boot / CARD_NAME}: {', '.join(cleaned)}")
    print(f"  web admin certificate {fingerprint}")
