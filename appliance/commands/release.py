"""`comptoir release ...`: keys, bundles, and a box's releases (docs/updates.md).

On the admin's machine: `keygen`, `build`, `verify`, `serve`. On a box (or a test root):
`install`, `status`, `apply` (the switch and health gate, run by comptoir-update.service) and
`recover` (at boot: go back to the release a cut switch came from).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from appliance.commands._common import add_json_flag, print_json
from appliance.errors import ComptoirError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("release", help="build, sign, check and install releases")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    keygen = actions.add_parser("keygen", help="make a release signing key pair")
    keygen.add_argument("--out", type=Path, required=True, metavar="DIR")
    keygen.add_argument("--force", action="store_true", help="replace an existing key pair")
    keygen.set_defaults(func=run_keygen)

    build = actions.add_parser("build", help="turn this checkout into a signed bundle")
    build.add_argument("--key", type=Path, required=True, metavar="KEY", help="release.key")
    build.add_argument("--out", type=Path, required=True, metavar="DIR")
    build.add_argument("--source", type=Path, metavar="CHECKOUT", help="default: this checkout")
    build.add_argument("--notes", default="", help="release notes (text, or @FILE)")
    build.add_argument(
        "--installs-over",
        default="",
        metavar="VERSION",
        help="the oldest version this release may be installed over",
    )
    build.add_argument(
        "--platform",
        default="",
        metavar="TAG",
        help="wheel platform of the boxes, their glibc in it: manylinux_2_41_aarch64 (Pi, Trixie)",
    )
    build.add_argument("--python", default="", metavar="X.Y", help="the boxes' Python")
    build.add_argument(
        "--constraints",
        type=Path,
        metavar="FILE",
        help="pins (default: image/constraints.txt when it exists)",
    )
    add_json_flag(build)
    build.set_defaults(func=run_build)

    verify = actions.add_parser("verify", help="check a bundle offline; exit 0 only when good")
    verify.add_argument("bundle", type=Path, metavar="BUNDLE")
    verify.add_argument(
        "--public-key",
        type=Path,
        metavar="FILE",
        help="check against this key instead of [updates] trusted_keys",
    )
    add_json_flag(verify)
    verify.set_defaults(func=run_verify)

    install = actions.add_parser("install", help="install a bundle beside the running release")
    install.add_argument("bundle", type=Path, metavar="BUNDLE")
    _root_option(install)
    install.add_argument("--public-key", type=Path, metavar="FILE")
    install.add_argument(
        "--first", action="store_true", help="the image's first release: also point current at it"
    )
    add_json_flag(install)
    install.set_defaults(func=run_install)

    apply = actions.add_parser(
        "apply", help="switch to the prepared release and gate it (run by comptoir-update)"
    )
    _root_option(apply)
    apply.set_defaults(func=run_apply)

    recover = actions.add_parser(
        "recover", help="at boot: go back to the release a cut switch or gate came from"
    )
    _root_option(recover)
    recover.set_defaults(func=run_recover)

    serve = actions.add_parser("serve", help="serve bundles over HTTPS (with resume)")
    serve.add_argument("folder", type=Path, metavar="DIR")
    serve.add_argument("--listen", default="127.0.0.1:8443", metavar="HOST:PORT")
    serve.add_argument("--cert", type=Path, required=True, help="server certificate (PEM)")
    serve.add_argument("--cert-key", type=Path, required=True, help="its private key (PEM)")
    serve.add_argument(
        "--cut-after",
        type=int,
        default=0,
        metavar="BYTES",
        help="rehearsal: close each first transfer of a file after BYTES",
    )
    serve.set_defaults(func=run_serve)

    status = actions.add_parser("status", help="installed releases, current, previous, state")
    _root_option(status)
    add_json_flag(status)
    status.set_defaults(func=run_status)


def _root_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", type=Path, metavar="DIR", help="default: [updates] root")


def _config_or_none(args: argparse.Namespace):
    from appliance.commands._common import load_config

    try:
        return load_config(args)
    except ComptoirError:
        return None


def _keys(args: argparse.Namespace):
    from appliance.release import keys

    if args.public_key:
        return [keys.load_public(args.public_key)]
    from appliance.commands._common import load_config

    return keys.trusted(load_config(args).updates.trusted_keys)


def _layout(args: argparse.Namespace):
    from appliance.release.layout import Layout

    if args.root:
        return Layout(args.root)
    from appliance.commands._common import load_config

    return Layout(load_config(args).updates.root)


def run_keygen(args: argparse.Namespace) -> int:
    from appliance.release import keys

    private, public = keys.keygen(args.out, overwrite=args.force)
    trusted = keys.load_public(public)
    print(f"# private key {private} (mode 600: keep it off the boxes, back it up)", file=sys.stderr)
    print(f"# public key {public}: bake it into the image, list it in [updates] trusted_keys")
    print(f"key id {trusted.key_id}")
    return 0


def run_build(args: argparse.Namespace) -> int:
    from appliance.release import bundle, keys

    source = args.source.resolve() if args.source else bundle.source_root()
    constraints = args.constraints
    if constraints is None and (source / "image" / "constraints.txt").is_file():
        constraints = source / "image" / "constraints.txt"
    notes = args.notes
    if notes.startswith("@"):
        notes = Path(notes[1:]).read_text(encoding="utf-8")
    path = bundle.build(
        source,
        keys.load_private(args.key),
        args.out,
        notes=notes,
        installs_over=args.installs_over,
        python=args.python,
        platform=args.platform,
        constraints=constraints,
    )
    manifest = bundle.verify(path, [keys.load_public_of(args.key)])
    summary = {
        "bundle": str(path),
        "version": manifest.version,
        "sha256": bundle.sha256_of(path),
        "size": path.stat().st_size,
        "wheels": len(manifest.files),
        "legal_sha256": manifest.legal["sha256"],
    }
    if args.json:
        print_json(summary)
    else:
        print(
            f"{path}  comptoir {manifest.version}, {len(manifest.files)} wheels, "
            f"{summary['size'] // 1024} KiB"
        )
        print(f"sha256 {summary['sha256']}")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from appliance.release import bundle
    from appliance.release.errors import BundleRefused

    try:
        manifest = bundle.verify(args.bundle, _keys(args))
    except BundleRefused as refused:
        if args.json:
            print_json({"ok": False, "problems": refused.problems})
            return 1
        raise
    if args.json:
        print_json({"ok": True, "manifest": _manifest_summary(manifest)})
    else:
        print(
            f"good bundle: comptoir {manifest.version}, signed by key {manifest.key_id}, "
            f"{len(manifest.files)} files verified"
        )
    return 0


def _manifest_summary(manifest) -> dict:
    body = dataclasses.asdict(manifest)
    body["files"] = len(manifest.files)
    return body


def run_install(args: argparse.Namespace) -> int:
    from appliance.release import install

    config = _config_or_none(args)
    keep = config.updates.keep_free_mb if config else 200
    done = install.install(
        _layout(args), args.bundle, _keys(args), keep_free_mb=keep, first=args.first
    )
    if args.json:
        print_json({"version": done.version, "already_installed": done.already})
    else:
        word = "was already installed" if done.already else "installed"
        print(f"comptoir {done.version} {word}")
    return 0


def run_status(args: argparse.Namespace) -> int:
    layout = _layout(args)
    state = layout.state()
    body = {
        "root": str(layout.root),
        "current": layout.current(),
        "previous": layout.previous(),
        "installed": layout.installed(),
        "update": state.to_json() if state else None,
    }
    if args.json:
        print_json(body)
        return 0
    print(f"current  {body['current'] or '-'}\nprevious {body['previous'] or '-'}")
    print(f"installed {', '.join(body['installed']) or '-'}")
    if state:
        print(
            f"last update {state.job}: {state.from_version} -> {state.to_version} "
            f"{state.phase.value} {state.reason}".rstrip()
        )
    return 0


def run_apply(args: argparse.Namespace) -> int:
    from appliance.commands._common import load_config
    from appliance.release import apply, services

    config = load_config(args)
    layout = _layout(args)
    outcome = apply.apply(config, layout, services.for_config(config.updates.services, layout.root))
    print(f"update {outcome.phase.value} {outcome.reason}".rstrip())
    return 0


def run_recover(args: argparse.Namespace) -> int:
    from appliance.commands._common import load_config
    from appliance.release import apply

    outcome = apply.recover(load_config(args), _layout(args))
    print(
        "nothing to recover"
        if outcome is None
        else f"update {outcome.phase.value}: {outcome.reason}"
    )
    return 0


def run_serve(args: argparse.Namespace) -> int:
    from appliance.config import split_host_port
    from appliance.errors import UsageError
    from appliance.release.file_server import serve

    address = split_host_port(args.listen)
    if address is None:
        raise UsageError(f"--listen {args.listen!r} is wrong: expected HOST:PORT")
    server = serve(args.folder, address, args.cert, args.cert_key, cut_after=args.cut_after)
    print(f"serving {args.folder} on https://{args.listen}/", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0
