"""What sub-commands share: loading the config, opening the store, printing JSON."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from typing import Any

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
