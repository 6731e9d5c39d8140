"""`sensorapp analyze`: table, JSON, options, and bad input (one line, exit code 2)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
from signal_builders import Press, build

from sensorapp.cli import analyze as analyze_cli
from sensorapp.signal import SignalInputError, analyze
from sensorapp.storage.samples_csv import write_samples_csv


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="sensorapp")
    analyze_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture
def two_sides(tmp_path: Path) -> Path:
    presses = [Press(3.0 + 12 * k, 80.0) for k in range(3)] + [Press(45.0 + 12 * k, 64.0) for k in range(3)]
    sig = build(presses, 82.0, 50.0, baseline_n=4.0, noise_n=0.3)
    side = np.where(sig.t_s < 40.0, "left", "right").astype(object)
    path = tmp_path / "session.csv"
    write_samples_csv(path, sig.t_s, sig.force_n, side)
    return path


def test_json_report(two_sides: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["analyze", str(two_sides), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["target_hold_s"] == 6.0
    assert [(r["side"], r["index"]) for r in doc["reps"]] == [("left", 1), ("left", 2), ("left", 3), ("right", 1), ("right", 2), ("right", 3)]
    assert doc["sides"]["left"]["reps"] == 3 and doc["sides"]["left"]["reps_target_met"] == 3
    assert doc["sides"]["left"]["plateau_n"] == pytest.approx(80.0, abs=0.5)
    sym = doc["symmetry"]
    assert sym["lsi_pct"] == pytest.approx(80.0, abs=1.0)
    assert sym["weaker_side"] == "right" and sym["band"] == "red" and sym["uncertain"] is False
    assert doc["recording"]["rate_hz"] == pytest.approx(50.0)


def test_options_target_side_and_involved(two_sides: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["analyze", str(two_sides), "--json", "--target-hold", "8", "--side", "left", "--involved", "left"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["target_hold_s"] == 8.0
    assert all(r["side"] == "left" and r["target_met"] is False for r in doc["reps"])
    assert doc["symmetry"] is None and list(doc["sides"]) == ["left"]


def test_table_report(two_sides: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["analyze", str(two_sides), "--body-mass", "70", "--lever-arm", "0.8"]) == 0
    out = capsys.readouterr().out
    assert "Target hold 6 s (met at >= 5.5 s)" in out
    assert out.count("\nleft ") == 3 and out.count("\nright ") == 3
    assert "Symmetry: LSI 80." in out and "right weaker" in out and "on torque" in out
    assert "N/kg" in out


def test_malformed_csv_names_the_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("time_s,force_n\n0.00,1.0\n0.01,1.0\n0.02,oops\n")
    assert run_cli(["analyze", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "row 4" in err and "Traceback" not in err
    assert run_cli(["analyze", str(tmp_path / "missing.csv")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file" in err


def test_bad_option_values_are_refused(two_sides: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        run_cli(["analyze", str(two_sides), "--target-hold", "-1"])
    assert exc.value.code == 2


def test_signal_input_errors_point_at_the_sample() -> None:
    with pytest.raises(SignalInputError, match="sample 2") as exc:
        analyze(np.array([0.0, 0.1, 0.1]), np.zeros(3))
    assert exc.value.sample_index == 2
    with pytest.raises(SignalInputError, match="not finite at sample 1"):
        analyze(np.array([0.0, 0.1]), np.array([0.0, np.nan]))
    with pytest.raises(SignalInputError, match="samples"):
        analyze(np.array([0.0, 0.1]), np.zeros(3))
    assert analyze(np.array([]), np.array([])).reps == []


@pytest.mark.parametrize(
    ("bad_time", "expected"),
    [
        ("1e308", "row 4: time_s '1e308' is out of range"),
        ("inf", "row 4: time_s is not finite: 'inf'"),
        ("nan", "row 4: time_s is not finite: 'nan'"),
        ("-1", "row 4: time_s '-1' is out of range"),
        ("0.005", "row 4: time_s 0.005 does not increase (previous row has 0.01)"),
    ],
)
def test_absurd_times_are_one_line_errors_naming_the_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad_time: str, expected: str
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(f"time_s,force_n\n0.00,1.0\n0.01,1.0\n{bad_time},1.0\n0.03,1.0\n")
    assert run_cli(["analyze", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err and "Traceback" not in err


def test_a_1e12_s_gap_is_analysed_and_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    presses = [Press(3.0 + 12 * k, 80.0) for k in range(4)]
    sig = build(presses, 50.0, 50.0, baseline_n=4.0, noise_n=0.3)
    t = sig.t_s.copy()
    t[t > 26.0] += 1e12
    path = tmp_path / "gap.csv"
    write_samples_csv(path, t, sig.force_n, "left")
    assert run_cli(["analyze", str(path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["recording"]["gaps"] == 1 and doc["recording"]["longest_gap_s"] == pytest.approx(1e12, rel=1e-6)
    assert len(doc["reps"]) == 4 and all(r["target_met"] for r in doc["reps"])


def test_signal_layer_refuses_times_it_cannot_grid() -> None:
    with pytest.raises(SignalInputError, match="sample 1") as exc:
        analyze(np.array([0.0, 1e308]), np.zeros(2))
    assert exc.value.sample_index == 1
    codes = np.array([1, 1, 2], dtype=np.uint8)
    assert analyze(np.array([0.0, 0.1, 0.2]), np.zeros(3), codes).reps == []
    with pytest.raises(SignalInputError, match="side code 7"):
        analyze(np.array([0.0, 0.1, 0.2]), np.zeros(3), np.array([1, 7, 2], dtype=np.uint8))


def test_uint8_side_codes_give_the_same_reps_as_string_labels(two_sides: Path) -> None:
    from sensorapp.storage.samples_csv import read_samples_csv

    table = read_samples_csv(two_sides)
    codes = table.analysis_side()
    assert isinstance(codes, np.ndarray) and codes.dtype == np.uint8
    by_codes = analyze(table.t_s, table.force_n, codes).reps
    by_labels = analyze(table.t_s, table.force_n, table.side).reps
    assert len(by_codes) == 6 and [r.to_dict() for r in by_codes] == [r.to_dict() for r in by_labels]
