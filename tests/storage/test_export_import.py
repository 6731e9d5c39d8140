"""Export (CSV, JSON, bundle) and import: lossless, idempotent, refusing damage, neutralising formulas."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from storage_helpers import record_session, sensorapp

from sensorapp.signal import DetectorParams, analyze_recording
from sensorapp.storage.atomic import neutralise_csv_text
from sensorapp.storage.bundle import MANIFEST, export_bundle, files_checksum, import_bundle, read_bundle
from sensorapp.storage.errors import BundleError, StorageError
from sensorapp.storage.export import export_csv, export_json, reps_csv_path
from sensorapp.storage.samples_csv import read_samples_csv
from sensorapp.storage.store import SessionStore, rep_to_json


@pytest.mark.parametrize(
    ("text", "expected"),
    [("=1+2", "'=1+2"), ("+49 170", "'+49 170"), ("-Anna", "'-Anna"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("Anna", "Anna"), ("", "")],
)
def test_formula_triggers_are_neutralised(text: str, expected: str) -> None:
    assert neutralise_csv_text(text) == expected


@pytest.mark.both_engines
def test_csv_export_is_the_samples_format_with_negative_forces_as_numbers(store: SessionStore, tmp_path: Path) -> None:
    patient = store.add_patient('=HYPERLINK("http://x","y")')
    record = record_session(store, patient_id=patient.id, reps_per_side=2, offset_n=-20.0)  # tared below zero at rest
    samples_path, reps_path = export_csv(store, record.id, tmp_path / "s.csv")
    assert reps_path == reps_csv_path(samples_path) == tmp_path / "s.reps.csv"
    text = samples_path.read_text()
    assert text.startswith("time_s,force_n,side\n") and "\n0.000000,-" in text and "'" not in text
    table = read_samples_csv(samples_path)
    samples = store.samples(record.id)
    np.testing.assert_allclose(table.t_s, samples.t_s, atol=5e-7)
    np.testing.assert_allclose(table.force_n, samples.force_n, atol=5e-5)
    assert (table.force_n < 0).any()
    assert table.side.tolist() == samples.side.tolist()
    # What `analyze` would find in the exported CSV is what the store holds.
    from_csv = analyze_recording(table.t_s, table.force_n, table.side)
    assert [(r.side, r.index) for r in from_csv] == [(r.side, r.index) for r in store.reps(record.id)]
    np.testing.assert_allclose([r.hold_s for r in from_csv], [r.hold_s for r in store.reps(record.id)], atol=2e-3)

    rows = list(csv.DictReader(reps_path.open()))
    assert len(rows) == len(store.reps(record.id)) == 4
    assert rows[0]["patient"] == '\'=HYPERLINK("http://x","y")'
    assert float(rows[0]["baseline_n"]) < 0 and not rows[0]["baseline_n"].startswith("'")
    assert rows[0]["side"] == "left" and rows[0]["target_met"] in ("true", "false")


@pytest.mark.both_engines
def test_json_export_has_the_session_reps_and_metrics_as_strict_json(store: SessionStore, tmp_path: Path) -> None:
    record = record_session(store, patient_id=store.add_patient("Ann", body_mass_kg=65).id, reps_per_side=2)
    path = export_json(store, record.id, tmp_path / "s.json")

    def no_nan(name: str) -> None:
        raise AssertionError(f"non-standard JSON constant {name}")

    data = json.loads(path.read_text(), parse_constant=no_nan)
    assert data["session"]["uuid"] == record.uuid and data["session"]["complete"] is True
    assert data["patient"]["name"] == "Ann" and data["session"]["protocol"]["reps_per_side"] == 7
    assert len(data["reps"]) == 4 and {"hold_s", "plateau_n", "target_met"} <= set(data["reps"][0])
    assert set(data["sides"]) == {"left", "right"} and data["sides"]["left"]["plateau_n_per_kg"] > 0
    assert data["symmetry"]["lsi_pct"] == record.symmetry["lsi_pct"]
    assert data["analysis"]["params"]["onset_k_sigma"] == DetectorParams().onset_k_sigma
    assert (data["session"]["pain_before"], data["session"]["pain_after"], data["session"]["prescription"]) == (None, None, None)


@pytest.mark.both_engines
def test_json_export_shows_the_sessions_prescription_pain_and_the_patients_clinic_details(store: SessionStore, tmp_path: Path) -> None:
    from sensorapp.clinic.prescription import Prescription

    ann = store.add_patient("Ann", external_id="MRN-5", birth_year=1959)
    rx = store.set_prescription(ann.id, Prescription(reps_per_side=2, hold_s=5))
    record = record_session(store, patient_id=ann.id, reps_per_side=2, prescription=rx)
    store.set_pain(record.id, before=6, after=4)
    data = json.loads(export_json(store, record.id, tmp_path / "s.json").read_text())
    assert (data["session"]["pain_before"], data["session"]["pain_after"]) == (6, 4)
    assert data["session"]["prescription"]["uuid"] == rx.uuid and data["session"]["prescription"]["hold_s"] == 5.0
    assert (data["patient"]["external_id"], data["patient"]["birth_year"]) == ("MRN-5", 1959)


def test_a_bundle_moves_a_session_losslessly_and_reproduces_its_analysis(tmp_path: Path) -> None:
    laptop = SessionStore.open(tmp_path / "laptop")
    patient = laptop.add_patient("Pat", involved_side="right", body_mass_kg=72.5, lever_arm_m=0.85)
    record = record_session(laptop, patient_id=patient.id, seed=4, reps_per_side=3)
    bundle = export_bundle(laptop, record.id, tmp_path / "pat.sensorapp.zip")

    clinic = SessionStore.open(tmp_path / "clinic")
    result = import_bundle(clinic, bundle)
    assert result.created and result.session_uuid == record.uuid
    got = clinic.session(result.session_id)
    assert (got.uuid, got.started_at, got.ended_at, got.complete, got.end_reason) == (
        record.uuid, record.started_at, record.ended_at, True, "finished"
    )  # fmt: skip
    assert (got.protocol, got.device, got.calibration, got.app_version, got.samples_sha256) == (
        record.protocol, record.device, record.calibration, record.app_version, record.samples_sha256
    )  # fmt: skip
    assert got.summary == record.summary
    p = clinic.patient(got.patient_id)
    assert (p.uuid, p.name, p.involved_side, p.body_mass_kg, p.lever_arm_m) == (patient.uuid, "Pat", "right", 72.5, 0.85)
    a, b = laptop.samples(record.id), clinic.samples(got.id)
    assert a.t_s.tobytes() == b.t_s.tobytes() and a.force_n.tobytes() == b.force_n.tobytes()
    np.testing.assert_array_equal(a.side_codes, b.side_codes)
    assert [rep_to_json(r) for r in clinic.reps(got.id)] == [rep_to_json(r) for r in laptop.reps(record.id)]
    # Re-analysing on the therapist's side, with default and with other parameters, gives the same as on the laptop.
    for params in (DetectorParams(), DetectorParams(onset_floor_n=8.0, hold_rel_plateau=0.75)):
        assert clinic.reanalyse(got.id, params).to_dict() == laptop.reanalyse(record.id, params).to_dict()

    # Importing again (same or a copied file) changes nothing.
    copy = shutil.copy(bundle, tmp_path / "again.zip")
    before = _counts(clinic)
    again = import_bundle(clinic, copy)
    assert not again.created and again.session_id == got.id and "already" in again.message
    assert _counts(clinic) == before
    # A second session of the same patient joins the same patient.
    second = record_session(laptop, patient_id=patient.id, seed=6, reps_per_side=1)
    imported = import_bundle(clinic, export_bundle(laptop, second.id, tmp_path / "second.zip"))
    assert imported.patient_id == got.patient_id and len(clinic.patients()) == 1
    laptop.close()
    clinic.close()


def _counts(store: SessionStore) -> tuple[int, ...]:
    return tuple(
        store._read(f"SELECT count(*) FROM {table}")[0][0] for table in ("patients", "sessions", "reps", "sample_chunks")
    )


def _rewrite(src: Path, dst: Path, edit: Callable[[dict[str, bytes]], None]) -> Path:
    with zipfile.ZipFile(src) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    edit(members)
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return dst


def _flip_force(members: dict[str, bytes]) -> None:
    raw = bytearray(members["samples/force_n.npy"])
    raw[-3] ^= 0x40
    members["samples/force_n.npy"] = bytes(raw)


def _flip_force_and_fix_manifest(members: dict[str, bytes], *, fix_checksum: bool) -> None:
    _flip_force(members)
    manifest = json.loads(members[MANIFEST])
    manifest["files"]["samples/force_n.npy"]["sha256"] = hashlib.sha256(members["samples/force_n.npy"]).hexdigest()
    if fix_checksum:
        manifest["checksum"]["value"] = files_checksum(manifest["files"])
    members[MANIFEST] = json.dumps(manifest).encode()


def _set_manifest(key: str, value: object) -> Callable[[dict[str, bytes]], None]:
    def edit(members: dict[str, bytes]) -> None:
        manifest = json.loads(members[MANIFEST])
        manifest[key] = value
        members[MANIFEST] = json.dumps(manifest).encode()

    return edit


TAMPERING: list[tuple[str, Callable[[dict[str, bytes]], None], str]] = [
    ("a sample changed", _flip_force, "samples/force_n.npy does not match its checksum"),
    ("a sample changed, its hash updated", lambda m: _flip_force_and_fix_manifest(m, fix_checksum=False), "checksum does not match its file table"),
    ("a sample changed, all checksums redone", lambda m: _flip_force_and_fix_manifest(m, fix_checksum=True), "do not match their content hash"),
    ("reps removed", lambda m: m.pop("reps.json"), "missing"),
    ("a file added", lambda m: m.__setitem__("evil.sh", b"rm -rf /"), "unexpected"),
    ("no manifest", lambda m: m.pop(MANIFEST), "has no manifest.json"),
    ("newer format", _set_manifest("format_version", 99), "newer sensorapp"),
    ("another format", _set_manifest("format", "something-else"), "not a sensorapp session bundle"),
    ("manifest not JSON", lambda m: m.__setitem__(MANIFEST, b"{not json"), "manifest.json is not valid JSON"),
]


@pytest.mark.parametrize(("case", "edit", "message"), TAMPERING, ids=[t[0] for t in TAMPERING])
def test_a_tampered_bundle_is_refused_and_nothing_is_written(
    tmp_path: Path, case: str, edit: Callable[[dict[str, bytes]], None], message: str, _shared_bundle: Path
) -> None:
    target = SessionStore.open(tmp_path / "target")
    target.add_patient("Someone else")
    before = _counts(target)
    bad = _rewrite(_shared_bundle, tmp_path / "bad.zip", edit)
    with pytest.raises(BundleError, match=message):
        import_bundle(target, bad)
    assert _counts(target) == before
    target.close()


@pytest.fixture(scope="module")
def _shared_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bundle")
    store = SessionStore.open(folder / "src")
    record = record_session(store, patient_id=store.add_patient("Src").id, reps_per_side=2)
    path = export_bundle(store, record.id, folder / "good.zip")
    store.close()
    return path


def test_truncated_corrupted_or_foreign_files_are_refused(tmp_path: Path, _shared_bundle: Path) -> None:
    store = SessionStore.open(tmp_path / "t")
    raw = _shared_bundle.read_bytes()
    cases = {
        "truncated.zip": raw[: len(raw) // 2],
        "text.zip": b"hello, I am not a zip",
        "empty.zip": b"",
    }
    # A flipped byte inside the compressed samples: the zip's CRC or deflate catches it, or our checksum.
    with zipfile.ZipFile(_shared_bundle) as zf:
        info = zf.getinfo("samples/force_n.npy")
    flipped = bytearray(raw)
    flipped[info.header_offset + 30 + len(info.filename) + info.compress_size // 2] ^= 0xFF
    cases["flipped.zip"] = bytes(flipped)
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(BundleError) as caught:
            import_bundle(store, path)
        assert name in str(caught.value)
    with pytest.raises(BundleError, match="no such file"):
        import_bundle(store, tmp_path / "missing.zip")
    assert _counts(store) == (0, 0, 0, 0)
    assert read_bundle(_shared_bundle).samples.t_s.size > 0  # the original is fine
    store.close()


def test_a_different_session_with_the_same_uuid_is_refused(tmp_path: Path, _shared_bundle: Path) -> None:
    store = SessionStore.open(tmp_path / "t")
    assert import_bundle(store, _shared_bundle).created
    store._conn.execute("UPDATE sessions SET samples_sha256 = 'something else'")
    with pytest.raises(BundleError, match="already in this store .* with different samples"):
        import_bundle(store, _shared_bundle)
    store.close()


def test_a_failed_export_leaves_the_previous_file_and_no_temporary(store: SessionStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record = record_session(store, reps_per_side=1)
    out = tmp_path / "out.zip"
    out.write_bytes(b"previous export")

    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", full_disk)
    with pytest.raises(StorageError, match="disk is full"):
        export_bundle(store, record.id, out)
    assert out.read_bytes() == b"previous export"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    with pytest.raises(StorageError, match="does not exist"):
        export_json(store, record.id, tmp_path / "no" / "such" / "dir.json")


def test_export_and_import_cli_between_two_data_dirs(tmp_path: Path, _private_data_dir: Path) -> None:
    store = SessionStore.open(_private_data_dir)
    record = record_session(store, patient_id=store.add_patient("Cli").id, reps_per_side=1)
    store.close()
    bundle = tmp_path / "b.zip"
    out = sensorapp("export", str(record.id), "--format", "bundle", "--out", str(bundle))
    assert out.returncode == 0, out.stderr
    assert sensorapp("export", record.uuid[:8], "--format", "csv", "--out", str(tmp_path / "c.csv")).returncode == 0
    assert (tmp_path / "c.reps.csv").exists() and read_samples_csv(tmp_path / "c.csv").t_s.size == record.sample_count
    other = tmp_path / "other"
    first = sensorapp("import", str(bundle), "--data-dir", str(other))
    second = sensorapp("import", str(bundle), "--data-dir", str(other))
    assert first.returncode == 0 and "imported session 1" in first.stdout, first.stderr
    assert second.returncode == 0 and "already in this store" in second.stdout
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 not really")
    refused = sensorapp("import", str(bad), "--data-dir", str(other))
    assert refused.returncode == 1 and "bad.zip is not a sensorapp bundle" in refused.stderr and "Traceback" not in refused.stderr
    missing = sensorapp("export", "42", "--format", "json", "--out", str(tmp_path / "x.json"))
    assert missing.returncode == 1 and "no session with id 42" in missing.stderr
    listing = json.loads(sensorapp("sessions", "--json", "--data-dir", str(other)).stdout)
    assert [(s["uuid"], s["patient"]) for s in listing] == [(record.uuid, "Cli")]


def test_import_can_file_the_session_under_an_existing_patient(tmp_path: Path, _shared_bundle: Path) -> None:
    store = SessionStore.open(tmp_path / "t")
    mine = store.add_patient("Local name", involved_side="left")
    result = import_bundle(store, _shared_bundle, patient_id=mine.id)
    assert result.created and result.patient_id == mine.id
    assert [p.name for p in store.patients()] == ["Local name"]
    assert store.session(result.session_id).patient_name == "Local name"
    store.close()


def test_sensorapp_analyze_reads_the_exported_csv_and_finds_the_stored_reps(tmp_path: Path, _private_data_dir: Path) -> None:
    import importlib.util

    if importlib.util.find_spec("sensorapp.cli.analyze") is None:
        pytest.skip("`sensorapp analyze` (the signal issue's CLI) is not in this checkout yet")
    store = SessionStore.open(_private_data_dir)
    record = record_session(store, reps_per_side=2, offset_n=-15.0)
    samples_path, _ = export_csv(store, record.id, tmp_path / "s.csv")
    stored = store.reps(record.id)
    store.close()
    proc = sensorapp("analyze", str(samples_path), "--json")
    assert proc.returncode == 0, proc.stderr
    reps = json.loads(proc.stdout)["reps"]
    assert [(r["side"], r["index"]) for r in reps] == [(r.side, r.index) for r in stored]
    np.testing.assert_allclose([r["hold_s"] for r in reps], [r.hold_s for r in stored], atol=2e-3)
