"""Bundle format 2: the patient's clinic details, the session's prescription snapshot and pain travel; format 1 still imports."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from hostile_bundles import BundleParts, add_caseload_patient, store_dump, write_bundle
from storage_helpers import record_session

from sensorapp.storage.bundle import BUNDLE_FORMAT_VERSION, export_bundle, import_bundle
from sensorapp.storage.errors import BundleError
from sensorapp.storage.store import SessionStore

FORMAT1_BUNDLE = Path(__file__).parent / "data" / "format1-session.sensorapp.zip"


@pytest.fixture
def exported(tmp_path: Path) -> Path:
    with SessionStore.open(tmp_path / "clinic-a") as store:
        anna = add_caseload_patient(store)
        record = record_session(store, patient_id=anna.id, reps_per_side=2, prescription=store.prescription(anna.id))
        store.set_pain(record.id, before=4, after=2)
        return export_bundle(store, record.id, tmp_path / "anna.sensorapp.zip")


def test_format_2_carries_the_patient_details_prescription_and_pain_to_another_store(exported: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(exported) as zf:
        assert json.loads(zf.read("manifest.json"))["format_version"] == BUNDLE_FORMAT_VERSION == 2
    with SessionStore.open(tmp_path / "clinic-a") as source:
        original = source.session(1)
        anna = source.patient(1)
    with SessionStore.open(tmp_path / "clinic-b") as target:
        result = import_bundle(target, exported)
        record = target.session(result.session_id)
        patient = target.patient(record.patient_id or 0)
    assert (record.pain_before, record.pain_after) == (4, 2)
    assert record.prescription == original.prescription and record.prescription is not None
    assert (record.prescription["target_kind"], record.prescription["target_low"]) == ("percent_of_best", 70.0)
    assert (patient.uuid, patient.external_id, patient.birth_year, patient.sex, patient.notes, patient.archived) == (
        anna.uuid, "MRN-0001", 1968, "female", "right THA 2025", False,
    )
    assert record.to_dict()["pain_before"] == 4


def test_an_external_id_that_is_another_patients_here_is_refused_and_nothing_written(exported: Path, tmp_path: Path) -> None:
    with SessionStore.open(tmp_path / "clinic-b") as target:
        other = target.add_patient("Not Anna", external_id="MRN-0001")
        before = store_dump(target.data_dir)
        with pytest.raises(BundleError, match=rf"external id 'MRN-0001', which is patient {other.id}'s \(Not Anna\) here; import it with --patient {other.id}"):
            import_bundle(target, exported)
        assert store_dump(target.data_dir) == before
        # Filed under that patient on purpose, it imports.
        result = import_bundle(target, exported, patient_id=other.id)
        assert target.session(result.session_id).patient_id == other.id


def test_a_patient_archived_by_the_exporter_arrives_active(exported: Path, tmp_path: Path) -> None:
    parts = BundleParts.read(exported)
    parts.docs["session.json"]["patient"]["archived"] = True
    with SessionStore.open(tmp_path / "clinic-b") as target:
        result = import_bundle(target, write_bundle(parts, tmp_path / "archived.zip"))
        assert target.patient(result.patient_id or 0).archived is False


def test_a_format_1_bundle_imports_with_no_prescription_or_pain(tmp_path: Path) -> None:
    with zipfile.ZipFile(FORMAT1_BUNDLE) as zf:
        assert json.loads(zf.read("manifest.json"))["format_version"] == 1
    with SessionStore.open(tmp_path / "d") as store:
        result = import_bundle(store, FORMAT1_BUNDLE)
        record = store.session(result.session_id)
        patient = store.patient(record.patient_id or 0)
    assert (record.prescription, record.pain_before, record.pain_after) == (None, None, None)
    assert patient.name == "Fixture Patient" and (patient.external_id, patient.birth_year, patient.notes) == (None, None, "")
    assert record.rep_count == 6
