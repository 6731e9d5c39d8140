"""`record` and the caseload: --patient by id/external id/name, pain, the prescription, and sides labelled as the GUI does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sensorapp.clinic.prescription import Prescription
from sensorapp.storage.samples_csv import read_samples_csv
from sensorapp.storage.store import SessionStore


def _sensorapp(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sensorapp", "--data-dir", str(data_dir), *args], capture_output=True, text=True, timeout=300
    )


def test_a_two_sided_record_labels_its_sides_from_the_prescription_and_gets_an_lsi(tmp_path: Path) -> None:
    data_dir = tmp_path / "store"
    with SessionStore.open(data_dir) as store:
        anna = store.add_patient("Anna", external_id="MRN-9", involved_side="left")
        prescribed = store.set_prescription(anna.id, Prescription(first_side="right", hold_s=6.0, rest_s=10.0))
    out = tmp_path / "r.csv"
    proc = _sensorapp(
        data_dir, "record", "--simulate", "--duration", "300", "--speed", "50", "--virtual-clock", "0.02", "--patient", "MRN-9",
        "--pain-before", "3", "--pain-after", "5", "--out", str(out), "--quiet",
    )
    assert proc.returncode == 0, proc.stderr
    assert "right side: 7 reps done; turning over to the left side" in proc.stderr
    assert "saved as session 1 (complete, 14 reps)" in proc.stderr

    listing = _sensorapp(data_dir, "sessions", "--json")
    (entry,) = json.loads(listing.stdout)
    assert entry["patient"] == "Anna" and set(entry["sides"]) == {"left", "right"}
    assert entry["sides"]["left"]["reps"] == 7 and entry["sides"]["right"]["reps"] == 7
    assert entry["symmetry"] is not None and entry["symmetry"]["involved_side"] == "left"
    assert entry["symmetry"]["lsi_pct"] > 0 and len(entry["symmetry"]["lsi_ci95_pct"]) == 2
    assert (entry["pain_before"], entry["pain_after"]) == (3, 5)
    assert entry["prescription"]["uuid"] == prescribed.uuid and entry["prescription"]["first_side"] == "right"

    with SessionStore.open(data_dir) as store:
        record = store.session(1)
        assert record.protocol["first_side"] == "right" and record.protocol["reps_per_side"] == 7
        reps = store.reps(1)
        assert [r.side for r in reps].count("left") == 7 and [r.side for r in reps].count("right") == 7
        right_onsets = [r.onset_s for r in reps if r.side == "right"]
        left_onsets = [r.onset_s for r in reps if r.side == "left"]
        assert max(right_onsets) < min(left_onsets)  # the prescription's first side came first
        samples = store.samples(1)
    # The CSV carries the same labels as the store: right, then left, then (after the session) none.
    csv = read_samples_csv(out)
    labels = np.asarray(csv.side, dtype=object)
    np.testing.assert_array_equal(labels, samples.side)
    runs = [labels[0], *(labels[i] for i in range(1, labels.size) if labels[i] != labels[i - 1])]
    assert runs[:2] == ["right", "left"] and set(runs[2:]) <= {""}


def test_record_patient_takes_an_id_or_a_new_name_and_refuses_what_it_cannot_tell_apart(tmp_path: Path) -> None:
    data_dir = tmp_path / "store"
    with SessionStore.open(data_dir) as store:
        store.add_patient("Twin")
        store.add_patient("twin")
    common = ("record", "--simulate", "--duration", "4", "--speed", "20", "--side", "left", "--quiet")
    ok = _sensorapp(data_dir, *common, "--patient", "2", "--out", str(tmp_path / "a.csv"))
    assert ok.returncode == 0, ok.stderr
    new = _sensorapp(data_dir, *common, "--patient", "Carl", "--out", str(tmp_path / "b.csv"))
    assert new.returncode == 0, new.stderr
    for ref, message in (("Twin", "2 patients are called 'Twin'"), ("77", "no patient with the id, external id or name '77'")):
        bad = _sensorapp(data_dir, *common, "--patient", ref, "--out", str(tmp_path / "c.csv"))
        assert bad.returncode == 1 and message in bad.stderr and bad.stderr.count("\n") == 1
    with SessionStore.open(data_dir) as store:
        assert [(r.patient_id, r.patient_name) for r in store.sessions()] == [(2, "twin"), (3, "Carl")]
        assert [p.name for p in store.patients()] == ["Carl", "Twin", "twin"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--pain-before", "11"), "outside the 0-10 pain scale"),
        (("--pain-after", "x"), "not a whole number from 0 to 10"),
        (("--pain-before", "2", "--no-store"), "drop --no-store"),
    ],
)
def test_bad_pain_options_exit_2(tmp_path: Path, extra: tuple[str, ...], message: str) -> None:
    proc = _sensorapp(tmp_path / "store", "record", "--simulate", "--duration", "2", "--out", str(tmp_path / "x.csv"), *extra)
    assert proc.returncode == 2 and message in proc.stderr
    assert not (tmp_path / "x.csv").exists()


def test_the_simulated_patient_follows_a_non_default_prescription_and_the_sides_follow_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "store"
    with SessionStore.open(data_dir) as store:
        bea = store.add_patient("Bea")
        store.set_prescription(bea.id, Prescription(reps_per_side=4, hold_s=5.0, rest_s=6.0, first_side="right"))
    proc = _sensorapp(
        data_dir, "record", "--simulate", "--duration", "200", "--speed", "50", "--virtual-clock", "0.02", "--patient", "Bea", "--out", str(tmp_path / "b.csv"), "--quiet"
    )
    assert proc.returncode == 0, proc.stderr
    assert "right side: 4 reps done; turning over to the left side" in proc.stderr
    with SessionStore.open(data_dir) as store:
        record = store.session(1)
        reps = store.reps(1)
    assert record.protocol["reps_per_side"] == 4 and record.target_hold_s == 5.0
    assert [r.side for r in reps] == ["left"] * 4 + ["right"] * 4  # stored left first, then right
    assert max(r.onset_s for r in reps if r.side == "right") < min(r.onset_s for r in reps if r.side == "left")
    assert all(r.hold_s >= 5.0 for r in reps)  # the virtual patient held to the prescribed 5 s


def test_a_prescription_the_session_cannot_run_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    data_dir = tmp_path / "store"
    with SessionStore.open(data_dir) as store:
        store.set_prescription(store.add_patient("Cy").id, Prescription(reps_per_side=40))
    proc = _sensorapp(data_dir, "record", "--simulate", "--duration", "5", "--patient", "Cy", "--out", str(tmp_path / "c.csv"))
    assert proc.returncode == 1 and "cannot run a guided session here (reps per side must be 1..30)" in proc.stderr
    assert proc.stderr.count("\n") == 1 and not (tmp_path / "c.csv").exists()
    # A source that cannot open does not leave a new patient behind either.
    bad = _sensorapp(data_dir, "record", "--device", "AA:BB:CC:DD:EE:FF", "--speed", "2", "--patient", "Dee", "--out", str(tmp_path / "d.csv"))
    assert bad.returncode == 2 and "--speed only applies" in bad.stderr
    with SessionStore.open(data_dir) as store:
        assert store.sessions() == [] and [p.name for p in store.patients()] == ["Cy"]
