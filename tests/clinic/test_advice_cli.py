"""`sensorapp advice`: show, accept, dismiss, JSON, thresholds files and one-line errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from clinic_store_helpers import record_patient_session

from sensorapp import cli
from sensorapp.storage.store import SessionStore


@pytest.fixture(scope="module")
def ready_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A patient who meets the progression rule: 8 daily sessions up to yesterday, LSI ~98 %, pain 1."""
    data_dir = tmp_path_factory.mktemp("advice") / "store"
    # Midday of the local today, so each session falls on its own local day whatever the time zone.
    now = datetime.now().astimezone().replace(hour=12, minute=0, second=0, microsecond=0)
    with SessionStore.open(data_dir) as store:
        p = store.add_patient("Cleo", involved_side="left", external_id="MRN-7")
        for d in range(8):
            record_patient_session(store, p.id, now - timedelta(days=8 - d), seed=10 + d, asymmetry_pct=2.0, pain=(1, 1))
        store.add_patient("Dan")
    return data_dir


def _copy(src: Path, tmp_path: Path) -> Path:
    import shutil

    dst = tmp_path / "store"
    shutil.copytree(src, dst)
    return dst


def test_advice_shows_pending_advice_with_its_criteria(ready_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--data-dir", str(ready_store), "advice", "MRN-7"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Cleo (id 1, record MRN-7)\n")
    assert "advice pending: move on to harder hip exercises" in out
    assert "  - side plank, 30 s holds per side" in out and "banded lateral walks, 3 sets of 10 steps each way" in out
    for name in ("symmetry", "holds", "pain", "plateau"):
        assert f"  {name}" in out
    assert "not met" not in out


def test_accept_records_the_decision_and_hides_the_advice(
    ready_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = _copy(ready_store, tmp_path)
    assert cli.main(["advice", "Cleo", "--accept", "--json", "--data-dir", str(data_dir)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["recorded"]["decision"] == "accepted" and out["recorded"]["rule_id"] == "progression-v1"
    assert out["advice"] is None and out["progression"]["fires"] is True
    assert [d["decision"] for d in out["decisions"]] == ["accepted"]
    with SessionStore.open(data_dir) as store:
        decisions = store.advice_decisions(1)
        assert len(decisions) == 1 and decisions[0].basis["latest_session_id"] == 8
        assert store.prescription(1) is None  # accepting changes no prescription
    # Shown as decided, and a second decision on the same data is refused in one line.
    assert cli.main(["advice", "1", "--data-dir", str(data_dir)]) == 0
    assert "advice: decided on these sessions (accepted" in capsys.readouterr().out
    assert cli.main(["advice", "1", "--dismiss", "--data-dir", str(data_dir)]) == cli.EXIT_FAILURE
    err = capsys.readouterr().err
    assert err == "sensorapp: error: no advice is pending for 'Cleo': it was already decided on the same sessions\n"


def test_a_patient_without_advice_and_unknown_patients(ready_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--data-dir", str(ready_store), "advice", "Dan", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["advice"] is None and out["flags"] == [] and out["progression"]["fires"] is False
    assert cli.main(["--data-dir", str(ready_store), "advice", "Dan", "--dismiss"]) == cli.EXIT_FAILURE
    assert "the progression rule does not fire" in capsys.readouterr().err
    assert cli.main(["--data-dir", str(ready_store), "advice", "Nobody"]) == cli.EXIT_FAILURE
    err = capsys.readouterr().err
    assert err.startswith("sensorapp: error: ") and err.count("\n") == 1
    with pytest.raises(SystemExit) as info:
        cli.main(["--data-dir", str(ready_store), "advice", "Dan", "--accept", "--dismiss"])
    assert info.value.code == cli.EXIT_USAGE


def test_thresholds_file_changes_the_verdict_and_a_bad_one_is_refused(
    ready_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    strict = tmp_path / "strict.json"
    strict.write_text(json.dumps({
        "format": "sensorapp-clinic-thresholds", "version": 1,
        "thresholds": {"advice_pain_max": {"value": 0, "source": "our clinic: no pain at all"}},
    }))
    assert cli.main(["--data-dir", str(ready_store), "advice", "Cleo", "--json", "--thresholds", str(strict)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["advice"] is None
    assert [c["name"] for c in out["progression"]["criteria"] if not c["met"]] == ["pain"]
    # The same file in the data folder is used by default.
    data_dir = _copy(ready_store, tmp_path)
    (data_dir / "clinic-thresholds.json").write_text(strict.read_text())
    assert cli.main(["--data-dir", str(data_dir), "advice", "Cleo", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["advice"] is None
    (data_dir / "clinic-thresholds.json").write_text('{"format": "sensorapp-clinic-thresholds", "version": 1, "thresholds": {"pain_max": {"value": 1}}}')
    assert cli.main(["--data-dir", str(data_dir), "advice", "Cleo"]) == cli.EXIT_FAILURE
    err = capsys.readouterr().err
    assert "clinic-thresholds.json: unknown threshold 'pain_max'" in err and err.count("\n") == 1


def test_patients_list_and_json_show_flags_and_advice(ready_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import date

    from sensorapp.clinic.overview import patient_overview

    assert cli.main(["--data-dir", str(ready_store), "patients", "--json"]) == 0
    listing = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    with SessionStore.open(ready_store) as store:
        today = datetime.now(UTC).astimezone().date()
        assert isinstance(today, date)
        expected = patient_overview(store, store.patient(1), today=today)
    assert listing["Cleo"]["flags"] == [f.text for f in expected.flags]
    # One session a day against the default 2 a day (no prescription): the adherence flag.
    assert any(t.startswith("adherence: 7 of 14 sessions in 7 d") for t in listing["Cleo"]["flags"])
    assert listing["Cleo"]["advice"] is not None and listing["Cleo"]["advice"].startswith("ready to progress: side plank 30 s")
    assert listing["Dan"]["flags"] == [] and listing["Dan"]["advice"] is None
    assert cli.main(["--data-dir", str(ready_store), "patients"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[-2:] == ["flags", "advice"]
    cleo = next(line for line in lines if " Cleo " in line)
    assert "adherence: 7 of 14 sessions in 7 d" in cleo and cleo.rstrip().endswith("ready to progress")
    assert lines[-1] == "advice pending for patient(s) 1: see `sensorapp advice ID`"
