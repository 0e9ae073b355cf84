"""`comptoir journal verify|show`: the hash-chained audit trail."""

from __future__ import annotations

import argparse
import dataclasses

from appliance.commands._common import add_json_flag, open_store, print_json
from appliance.store import journal


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("journal", help="check or show the hash-chained journal")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    verify = actions.add_parser("verify", help="walk the chain; exit 1 at the first bad entry")
    add_json_flag(verify)
    verify.set_defaults(func=run_verify)
    show = actions.add_parser("show", help="print the last entries")
    show.add_argument("--last", type=int, default=20, metavar="N")
    show.add_argument("--kind", help="only entries of this kind (weighing, label, sale, ...)")
    add_json_flag(show)
    show.set_defaults(func=run_show)


def run_verify(args: argparse.Namespace) -> int:
    count, broken = journal.verify(open_store(args, must_exist=True))
    if args.json:
        print_json(
            {
                "ok": broken is None,
                "entries": count,
                "first_bad_entry": broken[0] if broken else None,
                "reason": broken[1] if broken else None,
            }
        )
    elif broken:
        print(f"journal BROKEN at entry {broken[0]}: {broken[1]} ({count} entries in all)")
    else:
        print(f"journal OK: {count} entries, chain intact")
    return 0 if broken is None else 1


def run_show(args: argparse.Namespace) -> int:
    entries = list(journal.entries(open_store(args, must_exist=True), args.kind))[-args.last :]
    if args.json:
        print_json([dataclasses.asdict(e) for e in entries])
    else:
        for e in entries:
            print(f"{e.seq:>6} {e.ts} {e.kind:<10} {e.data}")
    return 0
