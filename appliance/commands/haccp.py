"""`comptoir haccp log` and `comptoir haccp report --date D [--csv]`: the cold-chain record.

`log` reads every configured DS18B20 once, stores the good readings, raises an alarm for a
sensor that cannot be read and for a zone above its limit longer than allowed (once per
excursion, while its alert is open). Run it every `[haccp] interval_s` (the agent or a timer).
`report` prints one line per zone for a local calendar day: readings, min, max, mean,
excursions and door-open minutes, as a table or as CSV for an inspector.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

from appliance import clock
from appliance.agent.cold_chain import log_once
from appliance.commands._common import add_json_flag, load_config, print_json
from appliance.core import haccp
from appliance.errors import UsageError
from appliance.store import temperatures
from appliance.store.db import open_database


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("haccp", help="temperature log and daily cold-chain report")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    log = actions.add_parser("log", help="read every sensor once and store the readings")
    add_json_flag(log)
    log.set_defaults(func=run_log)
    report = actions.add_parser("report", help="one line per zone for a day")
    report.add_argument("--date", required=True, metavar="YYYY-MM-DD", help="local day")
    report.add_argument("--csv", action="store_true", help="CSV for an inspector")
    add_json_flag(report)
    report.set_defaults(func=run_report)


def run_log(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    if not cfg.haccp.zones:
        raise UsageError("no [[haccp.zones]] configured: nothing to read")
    read = log_once(cfg, open_database(cfg.database_path), clock.now())
    if args.json:
        print_json(
            [
                {
                    "zone": r.zone,
                    "sensor": r.reading.sensor,
                    "temp_mc": r.reading.temp_mc,
                    "problem": r.reading.problem,
                }
                for r in read
            ]
        )
    else:
        for r in read:
            shown = (
                f"{haccp.format_mc(r.reading.temp_mc)} °C"
                if r.reading.temp_mc is not None
                else r.reading.problem
            )
            print(f"{r.zone:<12} {r.reading.sensor:<18} {shown}")
    return 0 if all(r.reading.temp_mc is not None for r in read) else 1


def run_report(args: argparse.Namespace) -> int:
    try:
        day = date.fromisoformat(args.date)
    except ValueError:
        raise UsageError(f"--date {args.date!r} is not a date like 2026-05-04") from None
    cfg = load_config(args)
    lines = haccp.report(temperatures.day_record(cfg, open_database(cfg.database_path), day))
    rows = [haccp.report_row(line) for line in lines]
    if args.json:
        print_json({"date": day.isoformat(), "zones": rows})
    elif args.csv:
        sys.stdout.write(haccp.report_csv(lines))
    else:
        print(f"HACCP {day.isoformat()} ({cfg.device.name}, {cfg.device.timezone})")
        for row in rows:
            print(
                f"{row['zone']:<12} limit {row['limit_c']:>5} °C  {row['readings']:>5} readings  "
                f"min {row['min_c']:>5}  max {row['max_c']:>5}  mean {row['mean_c']:>5}  "
                f"excursions {row['excursions']}  door open {row['door_open_minutes']} min"
            )
    return 0
