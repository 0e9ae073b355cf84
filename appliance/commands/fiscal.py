"""`comptoir fiscal verify|show|archive|verify-archive`: the signed records, checked, read and
archived.

`verify` walks every chain of this box's database and checks every signature (or, with
`--hash-only`, the hash chains alone). `show` prints the records of one chain (the technical
events journal is `show event`), as an inspector reads them. The archive commands make and
check the zip files that an inspector or the fleet keeps (docs/fiscal.md states their format).
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from appliance.commands._common import add_json_flag, load_config, open_store, print_json
from appliance.core.fiscal import RecordType
from appliance.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "fiscal", help="check the signed fiscal records, make and check archives"
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    verify = actions.add_parser("verify", help="walk every chain; exit 1 at the first bad record")
    verify.add_argument(
        "--hash-only", action="store_true", help="check the hash chains, not the signatures"
    )
    add_json_flag(verify)
    verify.set_defaults(func=run_verify)
    show = actions.add_parser("show", help="print the last records of one chain, or one record")
    show.add_argument(
        "chain",
        choices=[t.value for t in RecordType],
        metavar="CHAIN",
        help="ticket, duplicate, closing, event, training or archive",
    )
    show.add_argument("--last", type=int, default=20, metavar="N")
    show.add_argument("--number", type=int, metavar="N", help="only record N of the chain")
    add_json_flag(show)
    show.set_defaults(func=run_show)
    archive = actions.add_parser("archive", help="freeze a period's records into a signed zip")
    archive.add_argument("--from", dest="first", type=_day, required=True, metavar="YYYY-MM-DD")
    archive.add_argument("--to", dest="last", type=_day, required=True, metavar="YYYY-MM-DD")
    archive.add_argument("--out", type=Path, metavar="FILE", help="default: a name in the cwd")
    add_json_flag(archive)
    archive.set_defaults(func=run_archive)
    check = actions.add_parser(
        "verify-archive", help="check archives (several: in the order they were made)"
    )
    check.add_argument("files", type=Path, nargs="+", metavar="FILE")
    check.add_argument(
        "--public-key",
        metavar="HEX",
        help="the box's public key (default: the one inside the archive, which proves only that "
        "the archive agrees with itself)",
    )
    add_json_flag(check)
    check.set_defaults(func=run_verify_archive)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day: use YYYY-MM-DD") from None


def run_verify(args: argparse.Namespace) -> int:
    from appliance.store import fiscal

    reports = fiscal.verify(open_store(args, must_exist=True), signatures=not args.hash_only)
    bad = [r for r in reports if r.broken is not None]
    if args.json:
        print_json(
            {
                "ok": not bad,
                "signatures_checked": not args.hash_only,
                "chains": [
                    {
                        "type": r.type.value,
                        "records": r.records,
                        "first_bad_record": r.broken.number if r.broken else None,
                        "reason": r.broken.reason if r.broken else None,
                    }
                    for r in reports
                ],
            }
        )
        return 1 if bad else 0
    for report in reports:
        state = f"BROKEN at {report.broken}" if report.broken else "OK"
        print(f"{report.type.value:<10} {report.records:>8} records  {state}")
    checked = "hash chains only" if args.hash_only else "every signature checked"
    print(f"fiscal records {'BROKEN' if bad else 'OK'} ({checked})")
    return 1 if bad else 0


def run_show(args: argparse.Namespace) -> int:
    from appliance.store import fiscal

    db = open_store(args, must_exist=True)
    chain = RecordType(args.chain)
    if args.number is not None:
        one = fiscal.get(db, chain, args.number)
        if one is None:
            raise UsageError(f"there is no {chain} record {args.number} on this box")
        found = [one]
    else:
        after = max(fiscal.count(db, chain) - args.last, 0)
        found = list(fiscal.records(db, chain, after=after))
    if args.json:
        print_json(
            [
                {
                    "number": r.number,
                    "ts": r.ts,
                    "data": r.data,
                    "hash": r.hash,
                    "signature": r.signature,
                }
                for r in found
            ]
        )
    else:
        for r in found:
            print(f"{r.number:>6} {r.ts} {r.data}")
    return 0


def run_archive(args: argparse.Namespace) -> int:
    from appliance.store import archives
    from appliance.store.db import open_database

    config = load_config(args)
    out = args.out or Path(archives.default_name(config.device.id, args.first, args.last))
    db = open_database(config.database_path, must_exist=True)
    try:
        made = archives.make_archive(
            db,
            args.first,
            args.last,
            out,
            box=config.device.id,
            zone=ZoneInfo(config.device.timezone),
            fiscal_year_start_month=config.shop.fiscal_year_start_month,
            by="cli",
        )
    finally:
        db.close()
    if args.json:
        print_json(
            {
                "archive": made.number,
                "file": str(made.path),
                "records": made.records,
                "manifest_sha256": made.manifest_sha256,
            }
        )
    else:
        print(f"archive {made.number}: {made.records} records in {made.path}")
    return 0


def run_verify_archive(args: argparse.Namespace) -> int:
    from appliance.store import archives

    results = archives.check_sequence(args.files, args.public_key)
    if args.json:
        print_json(
            [
                {
                    "file": str(r.path),
                    "archive": r.number,
                    "records": r.records,
                    "ok": r.problem is None,
                    "problem": r.problem,
                }
                for r in results
            ]
        )
    else:
        for r in results:
            verdict = f"BROKEN: {r.problem}" if r.problem else "OK, every signature checked"
            print(f"{r.path}: archive {r.number}, {r.records} records, {verdict}")
    return 0 if all(r.problem is None for r in results) else 1
