"""The persistent settings file: round trip, atomic save, bad files kept aside, values checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sensorapp.settings import SETTINGS_FILENAME, LastBelt, Settings, SettingsError, default_config_dir


def test_defaults_when_there_is_no_file(tmp_path: Path) -> None:
    s = Settings.load(tmp_path / SETTINGS_FILENAME)
    assert (s.units, s.sound_on, s.volume_pct, s.large_text, s.last_belt, s.last_patient, s.window_geometry) == ("N", True, 70, False, None, None, None)
    assert s.load_warning is None
    assert not (tmp_path / SETTINGS_FILENAME).exists()  # loading writes nothing


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    path = tmp_path / "sub" / SETTINGS_FILENAME
    s = Settings(path=path)
    s.last_belt = LastBelt("belt", "C4:7F:51:0A:1E:40", "GMBelt-1E40")
    s.last_patient = "7f9c2b1e-0d6a-4c1e-9a53-2b8f1d3e4c5a"
    s.patient_name = "A. Person"
    s.units = "lbf"
    s.sound_on = False
    s.volume_pct = 35
    s.large_text = True
    s.window_geometry = [10, 20, 1024, 600]
    s.save()
    back = Settings.load(path)
    assert back == s
    assert json.loads(path.read_text())["version"] == 1


def test_units_are_normalised_and_typos_refused(tmp_path: Path) -> None:
    s = Settings(path=tmp_path / SETTINGS_FILENAME)
    s.units = "kg"
    s.save()
    assert Settings.load(s.path).units == "kgf"
    s.units = "stone"
    with pytest.raises(SettingsError, match="units"):
        s.save()
    assert Settings.load(s.path).units == "kgf"  # the good file on disk is untouched


@pytest.mark.parametrize(
    ("field", "value"),
    [("volume_pct", 101), ("volume_pct", -1), ("volume_pct", True), ("sound_on", "yes"), ("large_text", 1), ("window_geometry", [0, 0, 0, 600]), ("window_geometry", [1, 2, 3]), ("last_patient", 12)],
)
def test_bad_values_are_refused_with_the_field_named(tmp_path: Path, field: str, value: object) -> None:
    s = Settings(path=tmp_path / SETTINGS_FILENAME)
    setattr(s, field, value)
    with pytest.raises(SettingsError, match=field):
        s.save()
    assert s.save_quietly() is not None and field in (s.save_quietly() or "")
    assert not (tmp_path / SETTINGS_FILENAME).exists()


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '{"volume_pct": "loud"}', '{"last_belt": {"kind": "belt"}}', '{"units": "furlong"}', '{"bogus_field_only_unknown": 1, "sound_on": 3}'])
def test_a_corrupt_file_gives_defaults_one_warning_and_is_kept_aside(tmp_path: Path, text: str, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / SETTINGS_FILENAME
    path.write_text(text)
    with caplog.at_level("WARNING"):
        s = Settings.load(path)
    assert s == Settings()
    assert s.load_warning is not None and "\n" not in s.load_warning
    assert len([r for r in caplog.records if r.levelname == "WARNING"]) == 1
    kept = list(tmp_path.glob(f"{SETTINGS_FILENAME}.bad-*"))
    assert len(kept) == 1 and kept[0].read_text() == text  # nothing the user had is lost
    assert str(kept[0]) in s.load_warning
    s.volume_pct = 10
    s.save()  # the next save writes a fresh good file
    assert Settings.load(path).volume_pct == 10


def test_unknown_keys_from_a_newer_app_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / SETTINGS_FILENAME
    path.write_text(json.dumps({"version": 2, "units": "lbf", "theme": "solarized"}))
    s = Settings.load(path)
    assert s.units == "lbf" and s.load_warning is None


def test_save_is_atomic_no_temporary_left_and_old_file_kept_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / SETTINGS_FILENAME
    s = Settings(path=path, volume_pct=20)
    s.save()
    s.volume_pct = 90

    def refuse(*_a: object, **_k: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("sensorapp.storage.atomic.os.replace", refuse)
    message = s.save_quietly()
    assert message is not None and message.startswith("Settings not saved:")
    monkeypatch.undo()
    assert Settings.load(path).volume_pct == 20
    assert [p.name for p in tmp_path.iterdir()] == [SETTINGS_FILENAME]


def test_config_dir_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENSORAPP_CONFIG_DIR", str(tmp_path / "cfg"))
    assert default_config_dir() == tmp_path / "cfg"
    Settings(units="kgf").save()
    assert Settings.load().units == "kgf"
    assert (tmp_path / "cfg" / SETTINGS_FILENAME).is_file()
    monkeypatch.delenv("SENSORAPP_CONFIG_DIR")
    assert default_config_dir().name == "sensorapp"
