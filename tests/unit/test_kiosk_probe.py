"""On a box the kiosk writes no screen map: only the soak sets the variable."""

from __future__ import annotations

from appliance.kiosk.probe import ENV, Probe


def test_without_the_variable_the_kiosk_writes_no_screen_map(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    probe = Probe()
    assert probe.path is None
    probe.rendered(object())  # nothing to write, nothing touched


def test_the_variable_names_the_file(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV, str(tmp_path / "screen.json"))
    assert Probe().path == tmp_path / "screen.json"
