"""What sub-commands share: loading the config, opening the store, printing JSON."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import threading
from collections.abc import Callable
from typing import Any, Protocol

from appliance import config as config_module
from appliance.config import Config
from appliance.store.db import open_database


def load_config(args: argparse.Namespace) -> Config:
    """The validated config named by --config / $COMPTOIR_CONFIG / the default path."""
    return config_module.load(config_module.config_path(args.config))


def open_store(args: argparse.Namespace, *, must_exist: bool = False) -> sqlite3.Connection:
    """The database of the configured data directory, migrated; `must_exist` for read-only tools."""
    return open_database(load_config(args).database_path, must_exist=must_exist)


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2, sort_keys=True)
    sys.stdout.write("\n")


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


class _Served(Protocol):
    path: str

    def stop(self) -> None: ...


def serve_simulator(
    server: _Served, change: Callable[[list[str]], str], help_text: str = ""
) -> int:
    """A started pty simulator for an installer: its path, then one stdin command a line (each
    answered on one line), serving on after stdin closes until killed."""
    print(server.path, flush=True)
    if help_text:
        print(help_text, flush=True)
    try:
        for line in sys.stdin:
            if line.strip():
                print(change(line.split()), flush=True)
        threading.Event().wait()  # stdin closed: keep serving until killed
    finally:
        server.stop()
    return 0
