"""`sensorapp patients`, `patients add/edit`, `prescribe`, and `sessions` showing pain (issue 9)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sensorapp import cli
from sensorapp.clinic.prescription import Prescription
from sensorapp.storage.store import SessionStore


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SENSORAPP_DATA_DIR", str(tmp_path / "elsewhere"))
    return tmp_path / "store"


def _run(capsys: pytest.CaptureFixture[str], data_dir: Path, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["--data-dir", str(data_dir), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_patients_add_list_and_json(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys, data_dir, "patients", "add", "--name", "Anna Berg", "--external-id", "MRN-1", "--involved", "left",
        "--body-mass", "62", "--lever-arm", "0.8", "--birth-year", "1970", "--sex", "female", "--notes", "post-op",
    )
    assert code == 0 and out.strip() == "patient 1: Anna Berg (external id MRN-1, involved left, born 1970, female, 62 kg, lever arm 0.8 m)"
    code, out, _ = _run(capsys, data_dir, "patients", "add", "--name", "Bob", "--involved", "none", "--json")
    added = json.loads(out)
    assert code == 0 and (added["id"], added["name"], added["involved_side"], added["external_id"]) == (2, "Bob", None, None)
    code, out, _ = _run(capsys, data_dir, "patients")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["id", "name", "external", "id", "involved", "last", "session", "flags", "advice"]
    assert lines[1].split() == ["1", "Anna", "Berg", "MRN-1", "left", "-", "-", "-"]
    assert lines[2].split() == ["2", "Bob", "-", "none", "-", "-", "-"]
    code, out, _ = _run(capsys, data_dir, "patients", "--json")
    listing = json.loads(out)
    assert [p["name"] for p in listing] == ["Anna Berg", "Bob"]
    for entry in listing:
        assert {"id", "name", "external_id", "involved_side", "last_session", "flags", "advice"} <= entry.keys()
        assert entry["flags"] == [] and entry["advice"] is None and entry["last_session"] is None
    assert listing[0]["birth_year"] == 1970 and listing[0]["body_mass_kg"] == 62.0 and listing[0]["notes"] == "post-op"


def test_patients_edit_and_archive(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _run(capsys, data_dir, "patients", "add", "--name", "Anna", "--external-id", "MRN-1")
    _run(capsys, data_dir, "patients", "add", "--name", "Bob")
    code, out, _ = _run(capsys, data_dir, "patients", "edit", "MRN-1", "--involved", "right", "--sex", "other", "--json")
    edited = json.loads(out)
    assert code == 0 and (edited["involved_side"], edited["sex"], edited["external_id"]) == ("right", "other", "MRN-1")
    code, _, _ = _run(capsys, data_dir, "patients", "edit", "bob", "--archive")
    assert code == 0
    code, out, _ = _run(capsys, data_dir, "patients", "--json")
    assert [p["name"] for p in json.loads(out)] == ["Anna"]
    code, out, _ = _run(capsys, data_dir, "patients", "--all")
    assert "archived" in out.splitlines()[2] and "Bob" in out.splitlines()[2]
    _run(capsys, data_dir, "patients", "edit", "2", "--unarchive", "--external-id", "B-7")
    with SessionStore.open(data_dir) as store:
        bob = store.patient(2)
        assert (bob.archived, bob.external_id) == (False, "B-7")


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["patients", "add", "--name", "X", "--external-id", "MRN-1"], cli.EXIT_USAGE, "already patient 1's (Anna)"),
        (["patients", "add", "--name", "   "], cli.EXIT_USAGE, "needs a name"),
        (["patients", "edit", "Nobody", "--sex", "male"], cli.EXIT_FAILURE, "no patient with the id, external id or name 'Nobody'"),
        (["patients", "edit", "1"], cli.EXIT_USAGE, "nothing to change"),
        (["prescribe", "1", "--reps", "0"], cli.EXIT_USAGE, "reps per side must be a whole number from 1 to 1000"),
        (["prescribe", "1", "--target-percent", "90", "70"], cli.EXIT_USAGE, "0 < low <= high"),
        (["prescribe", "1", "--history", "--reps", "8"], cli.EXIT_USAGE, "--history only lists"),
        (["prescribe", "Nobody", "--reps", "8"], cli.EXIT_FAILURE, "no patient"),
    ],
)
def test_bad_input_is_one_line_with_its_exit_code_and_changes_nothing(
    data_dir: Path, capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str
) -> None:
    _run(capsys, data_dir, "patients", "add", "--name", "Anna", "--external-id", "MRN-1")
    got, out, err = _run(capsys, data_dir, *argv)
    assert got == code and out == ""
    assert err.count("\n") == 1 and message in err and err.startswith("sensorapp: error: ")
    with SessionStore.open(data_dir) as store:
        assert [p.name for p in store.patients(include_archived=True)] == ["Anna"]
        assert store.prescription_history(1) == []


def test_argparse_refuses_a_birth_year_outside_1900_to_now(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--data-dir", str(data_dir), "patients", "add", "--name", "Old", "--birth-year", "1850"])
    assert exc.value.code == cli.EXIT_USAGE and "outside 1900.." in capsys.readouterr().err


def test_prescribe_sets_changes_and_lists_history(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _run(capsys, data_dir, "patients", "add", "--name", "Anna", "--external-id", "MRN-1")
    code, out, _ = _run(capsys, data_dir, "prescribe", "Anna")
    assert code == 0 and "no prescription yet" in out
    code, out, _ = _run(
        capsys, data_dir, "prescribe", "MRN-1", "--reps", "7", "--hold", "6", "--rest", "10", "--first-side", "right",
        "--sessions-per-day", "3", "--target-percent", "70", "90", "--start", "2026-03-02", "--json",
    )
    first = json.loads(out)
    assert code == 0 and first["patient_id"] == 1 and first["first_side"] == "right" and first["uuid"]
    assert (first["target_kind"], first["target_low"], first["target_high"], first["start_date"]) == ("percent_of_best", 70.0, 90.0, "2026-03-02")
    # Options not given keep the current values.
    code, out, _ = _run(capsys, data_dir, "prescribe", "1", "--hold", "8", "--target-newtons", "60", "80")
    assert code == 0 and out.startswith("patient 1 (Anna): 7 reps/side, hold 8 s, rest 10 s, right first, 3/day, target 60-80 N, from 2026-03-02")
    code, out, _ = _run(capsys, data_dir, "prescribe", "1", "--history")
    lines = out.splitlines()
    assert len(lines) == 2 and "hold 6 s" in lines[0] and lines[1].endswith("<- current") and "hold 8 s" in lines[1]
    code, out, _ = _run(capsys, data_dir, "prescribe", "1", "--history", "--json")
    history = json.loads(out)
    assert [h["hold_s"] for h in history] == [6.0, 8.0] and history[0]["uuid"] == first["uuid"]
    with SessionStore.open(data_dir) as store:
        current = store.prescription(1)
        assert current is not None and current.target_kind == "absolute_n" and current.hold_s == 8.0
    code, out, _ = _run(capsys, data_dir, "prescribe", "1", "--no-target", "--json")
    assert json.loads(out)["target_kind"] is None


def test_patients_json_shows_the_last_session_and_sessions_show_pain(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "storage"))
    from storage_helpers import record_session, utc

    with SessionStore.open(data_dir) as store:
        anna = store.add_patient("Anna")
        store.set_prescription(anna.id, Prescription(reps_per_side=1))
        record_session(store, patient_id=anna.id, reps_per_side=1, started_at=utc(2026, 3, 1))
        last = record_session(store, patient_id=anna.id, reps_per_side=1, started_at=utc(2026, 3, 2))
        store.set_pain(last.id, before=2, after=4)
    code, out, _ = _run(capsys, data_dir, "patients", "--json")
    assert code == 0
    (entry,) = json.loads(out)
    assert entry["last_session"]["id"] == last.id and entry["last_session"]["started_at"].startswith("2026-03-02")
    assert entry["prescription"]["reps_per_side"] == 1
    code, out, _ = _run(capsys, data_dir, "sessions", "--json", "--patient", "Anna")
    assert code == 0
    sessions = json.loads(out)
    assert [(s["pain_before"], s["pain_after"]) for s in sessions] == [(None, None), (2, 4)]
    code, out, _ = _run(capsys, data_dir, "sessions")
    assert code == 0
    header, *rows = out.splitlines()
    assert "pain" in header.split()
    assert rows[0].split()[-2] == "-" and rows[1].split()[-2] == "2->4"


def test_adherence_is_judged_against_the_patients_prescription(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "storage"))
    from storage_helpers import record_session, utc

    with SessionStore.open(data_dir) as store:
        anna = store.add_patient("Anna")
        for hour in (8, 13):
            record_session(store, patient_id=anna.id, reps_per_side=1, started_at=utc(2026, 3, 1, hour))
    code, out, _ = _run(capsys, data_dir, "sessions", "--adherence", "--patient", "Anna", "--json")
    assert code == 0 and json.loads(out)["days"][0]["status"] == "met"  # 2 sessions: within the default 2-3
    with SessionStore.open(data_dir) as store:
        store.set_prescription(anna.id, Prescription(sessions_per_day=3))
    code, out, _ = _run(capsys, data_dir, "sessions", "--adherence", "--patient", "Anna", "--json")
    result = json.loads(out)
    assert code == 0 and result["days"][0]["status"] == "below" and result["days"][0]["sessions"] == 2
    code, out, _ = _run(capsys, data_dir, "sessions", "--adherence", "--patient", "Anna")
    assert out.splitlines()[0] == "prescribed 3 sessions a day"
