"""The `comptoir` command: one entry point, one sub-command module per tool in `commands/`.

Each module of `appliance.commands` (names starting with `_` excepted) has `register(sub)` that
adds its sub-parser and sets `func(args) -> int`. Errors a person can act on become one line on
stderr and an exit code; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

from appliance import __version__, commands
from appliance.errors import ComptoirError


def command_names() -> list[str]:
    """Every sub-command; each lives in the `commands` module of the same name."""
    return sorted(
        m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_")
    )


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `only`, just that sub-command is imported (each import costs start time
    and memory: the kiosk's Kivy, the printer's escpos profiles)."""
    parser = argparse.ArgumentParser(
        prog="comptoir",
        description="Comptoir: self-service farm shop and pickup lockers.",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="configuration file (default: $COMPTOIR_CONFIG or /etc/comptoir/comptoir.toml)",
    )
    parser.add_argument(
        "--log-level",
        default="WARNING",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="how much to log on stderr (default: WARNING)",
    )
    parser.add_argument("--version", action="version", version=f"comptoir {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in [only] if only else command_names():
        importlib.import_module(f"{commands.__name__}.{name}").register(sub)
    return parser


def _chosen_command(argv: list[str]) -> str | None:
    """The sub-command named on the command line, if it is one we have."""
    args = iter(argv)
    for arg in args:
        if arg in ("--config", "--log-level"):
            next(args, None)
        elif not arg.startswith("-"):
            return arg if arg in command_names() else None
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(_chosen_command(argv)).parse_args(argv)
    logging.basicConfig(
        force=True,  # a library may have put its own handler on the root logger at import
        stream=sys.stderr,
        level=args.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except ComptoirError as exc:
        print(f"comptoir: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        sys.stderr.close()
        return 0
