"""The configuration file: every mistake is named precisely, before any data is touched."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from appliance import config
from appliance.config import Compartment, Config
from appliance.errors import ConfigError
from appliance.store.db import open_database

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config" / "comptoir.example.toml"
DEMO = REPO / "config" / "demo.toml"
DOCS = REPO / "docs" / "configuration.md"
SECTIONS = [f for f in dataclasses.fields(Config) if f.name != "source"]


def load_text(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "comptoir.toml"
    path.write_text(text, encoding="utf-8")
    return config.load(path)


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_text(tmp_path, text)
    assert caught.value.exit_code == 2
    message = str(caught.value)
    assert "\n" not in message
    return message


def comptoir(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    return subprocess.run(
        [sys.executable, "-m", "appliance", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
        cwd=cwd,
    )


# -- each kind of mistake -----------------------------------------------------------------------


def test_misspelt_key_is_named_with_a_suggestion(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[scale]\nprotocl = "cas"\n')
    assert "scale.protocl" in message
    assert "did you mean 'protocol'?" in message


def test_unknown_section_is_named_with_a_suggestion(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[scales]\nprotocol = "cas"\n')
    assert "unknown section [scales]" in message
    assert "did you mean 'scale'?" in message


def test_wrong_type_names_key_value_and_expected_type(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[scale]\ncapacity_g = "15 kg"\n')
    assert message == "scale.capacity_g = '15 kg' is wrong: expected a whole number"


def test_weight_written_as_decimal_is_refused(tmp_path: Path) -> None:
    message = error_of(tmp_path, "[scale]\ninterval_g = 2.0\n")
    assert "scale.interval_g = 2.0" in message
    assert "whole number" in message


def test_value_out_of_range_names_the_range(tmp_path: Path) -> None:
    message = error_of(tmp_path, "[scale]\ncapacity_g = 50\n")
    assert message == "scale.capacity_g = 50 is wrong: expected a number from 100 to 300000"


def test_interval_outside_the_legal_steps_is_refused(tmp_path: Path) -> None:
    message = error_of(tmp_path, "[scale]\ninterval_g = 3\n")
    assert "scale.interval_g = 3" in message
    assert "one of 1, 2, 5, 10, 20, 50" in message


def test_unknown_protocol_lists_the_choices(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[scale]\nprotocol = "mettler"\n')
    assert "scale.protocol = 'mettler'" in message
    assert "'toledo8217', 'dialog06', 'cas', 'none'" in message


def test_device_id_with_spaces_says_what_an_id_looks_like(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[device]\nid = "Ferme Lilas"\n')
    assert "device.id = 'Ferme Lilas'" in message
    assert "lower-case letters, digits and dashes" in message


def test_compartment_without_number_names_which_compartment(tmp_path: Path) -> None:
    text = '[[lockers.compartments]]\nnumber = 1\n\n[[lockers.compartments]]\nsize = "S"\n'
    message = error_of(tmp_path, text)
    assert "lockers.compartments[1].number" in message


def test_two_compartments_with_the_same_number_are_refused_naming_both(tmp_path: Path) -> None:
    text = "".join(f"[[lockers.compartments]]\nnumber = {n}\n" for n in (1, 4, 2, 4))
    message = error_of(tmp_path, text)
    assert "lockers.compartments[1] and lockers.compartments[3] both have number = 4" in message
    assert "its own number" in message


def test_bad_key_inside_a_compartment_names_its_position(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[[lockers.compartments]]\nnumber = 1\nsize = "XL"\n')
    assert "lockers.compartments[0].size = 'XL'" in message
    assert "'S', 'M', 'L'" in message


def test_section_written_as_a_value_is_refused(tmp_path: Path) -> None:
    message = error_of(tmp_path, 'scale = "toledo8217"\n')
    assert "scale" in message
    assert "table" in message


def test_file_that_is_not_toml_names_the_file(tmp_path: Path) -> None:
    message = error_of(tmp_path, "[scale\nprotocol = cas\n")
    assert str(tmp_path / "comptoir.toml") in message
    assert "not valid TOML" in message


def test_missing_file_says_where_the_example_is(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"comptoir\.example\.toml") as caught:
        config.load(tmp_path / "nowhere.toml")
    assert str(tmp_path / "nowhere.toml") in str(caught.value)


# -- what a valid file gives ----------------------------------------------------------------------


def test_empty_file_gives_the_documented_defaults(tmp_path: Path) -> None:
    loaded = load_text(tmp_path, "")
    assert loaded.device.data_dir == Path("/var/lib/comptoir")
    assert loaded.scale.protocol == "none"
    assert loaded.scale.min_load == 40  # 20 intervals of 2 g
    assert loaded.printer.barcode_layout == "20 IIIII V PPPP C"


def test_relative_data_dir_is_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    path = tmp_path / "etc" / "comptoir.toml"
    path.write_text('[device]\ndata_dir = "../data"\n', encoding="utf-8")
    assert config.load(path).device.data_dir == tmp_path / "data"


def test_compartments_are_read_in_order(tmp_path: Path) -> None:
    loaded = load_text(
        tmp_path,
        '[lockers]\ncontroller = "kerong"\n'
        "[[lockers.compartments]]\nnumber = 12\nchilled = true\nlock = 3\n"
        '[[lockers.compartments]]\nnumber = 4\nsize = "L"\n',
    )
    assert loaded.lockers.compartments == (
        Compartment(number=12, chilled=True, lock=3),
        Compartment(number=4, size="L"),
    )


def test_label_previews_go_to_labels_in_the_data_directory_unless_a_folder_is_given(
    tmp_path: Path,
) -> None:
    path = tmp_path / "etc" / "comptoir.toml"
    path.parent.mkdir()
    path.write_text('[device]\ndata_dir = "../data"\n', encoding="utf-8")
    assert config.load(path).printer.target == str(tmp_path / "data" / "labels")
    path.write_text('[printer]\nbackend = "preview"\ntarget = "previews"\n', encoding="utf-8")
    assert config.load(path).printer.target == str(tmp_path / "etc" / "previews")


def test_demo_config_loads_with_its_data_beside_the_repository() -> None:
    demo = config.load(DEMO)
    assert demo.device.id == "demo"
    assert demo.device.name == "Ferme des Lilas (démo)"
    assert demo.device.data_dir == REPO / "demo"
    assert demo.scale.protocol == "toledo8217"
    assert demo.printer.backend == "preview"
    assert demo.payment.terminal == "none"


def test_example_config_loads() -> None:
    assert config.load(EXAMPLE).device.id == "ferme-lilas-1"


def test_every_example_value_is_valid_when_uncommented(tmp_path: Path) -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    settings = re.compile(r"# (\[\[[\w.]+\]\]|\w+ = .*)")
    uncommented = [m[1] if (m := settings.fullmatch(line)) else line for line in lines]
    loaded = load_text(tmp_path, "\n".join(uncommented) + "\n")
    assert loaded.scale.protocol == "toledo8217"
    assert loaded.lockers.compartments == (Compartment(number=1),)


def _keys(cls: type, prefix: str) -> list[tuple[str, str]]:
    """(section, key) of every setting, compartments included."""
    found = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        found.append((prefix, f.name))
        inner = typing.get_args(hints[f.name])
        if inner and isinstance(inner[0], type) and dataclasses.is_dataclass(inner[0]):
            found += _keys(inner[0], prefix)
    return found


SECTION_TYPES = typing.get_type_hints(Config)
ALL_KEYS = [key for f in SECTIONS for key in _keys(SECTION_TYPES[f.name], f.name)]


def _sections_of(text: str) -> dict[str, str]:
    parts = re.split(r"^\[(\w+)\]$", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


@pytest.mark.parametrize(("section", "key"), ALL_KEYS, ids=[f"{s}.{k}" for s, k in ALL_KEYS])
def test_every_key_is_explained_in_the_example(section: str, key: str) -> None:
    body = _sections_of(EXAMPLE.read_text(encoding="utf-8")).get(section, "")
    setting = rf"^#? ?({key} = |\[\[{section}\.{key}\]\])"
    assert re.search(setting, body, flags=re.MULTILINE), f"[{section}] {key}"


@pytest.mark.parametrize(("section", "key"), ALL_KEYS, ids=[f"{s}.{k}" for s, k in ALL_KEYS])
def test_every_key_is_documented_for_installers(section: str, key: str) -> None:
    text = DOCS.read_text(encoding="utf-8")
    chapter = text.split(f"## [{section}]", 1)[-1].split("\n## ", 1)[0]
    assert f"| `{key}` |" in chapter, f"[{section}] {key} missing from docs/configuration.md"


# -- which file, and what the commands do with a bad one ------------------------------------------


def test_config_option_wins_over_environment_which_wins_over_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COMPTOIR_CONFIG", "/env/comptoir.toml")
    assert config.config_path("/cli/comptoir.toml") == Path("/cli/comptoir.toml")
    assert config.config_path(None) == Path("/env/comptoir.toml")
    monkeypatch.delenv("COMPTOIR_CONFIG")
    assert config.config_path(None) == Path("/etc/comptoir/comptoir.toml")


def test_bad_config_stops_a_command_with_status_2_and_creates_no_database(tmp_path: Path) -> None:
    data = tmp_path / "data"
    bad = tmp_path / "bad.toml"
    bad.write_text(f'[device]\ndata_dir = "{data}"\n[scale]\ncapacity_g = 50\n')
    result = comptoir("--config", str(bad), "journal", "verify")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "scale.capacity_g = 50" in result.stderr
    assert "Traceback" not in result.stderr
    assert not data.exists()


def test_config_option_overrides_the_environment_variable(
    tmp_path: Path, config_file: Path, data_dir: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[scale]\ncapacity_g = 50\n")
    open_database(data_dir / "comptoir.db").close()
    chosen = comptoir(
        "--config", str(config_file), "journal", "verify", env={config.ENV_VAR: str(bad)}
    )
    assert chosen.returncode == 0, chosen.stderr
    from_env = comptoir("journal", "verify", env={config.ENV_VAR: str(bad)})
    assert from_env.returncode == 2
    assert "scale.capacity_g = 50" in from_env.stderr


def test_journal_verify_in_a_mistyped_data_dir_says_so_and_creates_nothing(
    config_file: Path, data_dir: Path
) -> None:
    result = comptoir("--config", str(config_file), "journal", "verify")
    assert result.returncode == 1
    assert "no database at" in result.stderr and "data_dir" in result.stderr
    assert not (data_dir / "comptoir.db").exists()
