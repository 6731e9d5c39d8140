"""The thresholds file: shipped values with sources, user overrides, and refusal of bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sensorapp.clinic.thresholds import (
    LIMITS,
    ThresholdsError,
    load_thresholds,
    names,
    shipped_thresholds,
)

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_file_has_every_threshold_with_a_source() -> None:
    shipped = json.loads((ROOT / "sensorapp" / "clinic" / "thresholds.json").read_text())
    assert set(shipped["thresholds"]) == set(names()) == set(LIMITS)
    th = shipped_thresholds()
    for name in names():
        assert len(th.sources[name]) > 20, name
    # The issue's own numbers.
    assert th.asymmetry_lsi_band_low_pct == 90.0
    assert th.adherence_window_days == 7
    assert th.inactivity_days == 3
    assert th.pain_rise_points == 2
    assert th.advice_lsi_min_pct == 90.0 and th.advice_lsi_low_min_pct == 85.0
    assert th.advice_holds_met_min_fraction == 0.9 and th.advice_pain_max == 2


def test_user_file_overrides_some_and_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "clinic.json"
    path.write_text(
        json.dumps(
            {
                "format": "sensorapp-clinic-thresholds",
                "version": 1,
                "thresholds": {"inactivity_days": {"value": 5}, "adherence_min_fraction": {"value": 0.8, "source": "our clinic"}},
            }
        )
    )
    th = load_thresholds(path)
    assert th.inactivity_days == 5 and isinstance(th.inactivity_days, int)
    assert th.adherence_min_fraction == 0.8
    assert th.sources["adherence_min_fraction"] == "our clinic"
    assert str(path) in th.sources["inactivity_days"]
    assert th.pain_rise_points == shipped_thresholds().pain_rise_points
    # The shipped, cached values are not changed by a user file.
    assert shipped_thresholds().inactivity_days == 3


def _doc(thresholds: object, **top: object) -> str:
    return json.dumps({"format": "sensorapp-clinic-thresholds", "version": 1, "thresholds": thresholds, **top})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON (line 1"),
        ("[]", "expected a JSON object"),
        (json.dumps({"format": "other", "version": 1, "thresholds": {}}), "'format' must be"),
        (json.dumps({"format": "sensorapp-clinic-thresholds", "version": 2, "thresholds": {}}), "'version' must be 1"),
        (_doc({}, extra=1), "unknown top-level key 'extra'"),
        (_doc([]), "'thresholds' must be an object"),
        (_doc({"inactivity_dayz": {"value": 3}}), "unknown threshold 'inactivity_dayz'"),
        (_doc({"inactivity_days": 3}), "inactivity_days must be an object with a 'value'"),
        (_doc({"inactivity_days": {"value": 3, "why": "x"}}), "unknown key 'why'"),
        (_doc({"inactivity_days": {"value": "3"}}), "inactivity_days must be a number"),
        (_doc({"inactivity_days": {"value": True}}), "inactivity_days must be a number"),
        (_doc({"inactivity_days": {"value": 2.5}}), "inactivity_days must be a whole number"),
        (_doc({"inactivity_days": {"value": 0}}), "inactivity_days must be between 1 and 90"),
        (_doc({"adherence_min_fraction": {"value": 1.5}}), "adherence_min_fraction must be between 0 and 1"),
        ('{"format": "sensorapp-clinic-thresholds", "version": 1, "thresholds": {"advice_lsi_min_pct": {"value": NaN}}}', "between 50 and 100"),
        (_doc({"inactivity_days": {"value": 3, "source": "  "}}), "needs a 'source'"),
        (_doc({"asymmetry_lsi_alert_pct": {"value": 95.0}}), "must not be above asymmetry_lsi_band_low_pct"),
        (_doc({"advice_lsi_low_min_pct": {"value": 92.0}}), "must not be above advice_lsi_min_pct"),
    ],
)
def test_bad_user_file_is_refused_in_one_line_naming_it(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ThresholdsError) as info:
        load_thresholds(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_and_non_utf8_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ThresholdsError, match="cannot read the thresholds file"):
        load_thresholds(tmp_path / "nope.json")
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ThresholdsError, match="not UTF-8"):
        load_thresholds(binary)


def test_threshold_file_is_shipped_as_package_data() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"clinic/*.json"' in pyproject
    assert '("sensorapp/clinic/thresholds.json", "sensorapp/clinic")' in (ROOT / "packaging" / "sensorapp.spec").read_text()
