"""FHIR R4 export: the Bundle validates with fhir.resources (R4B models) and carries the session's figures."""

from __future__ import annotations

import ast
import copy
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from interop_helpers import record_session
from pydantic import ValidationError

from sensorapp.interop.fhir import CODE_SYSTEM, LSI_CODE, PLATEAU_CODE, SNOMED, UCUM, fhir_bundle
from sensorapp.storage.export import export_session, session_json
from sensorapp.storage.store import SessionStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SessionStore]:
    s = SessionStore.open(tmp_path / "data")
    yield s
    s.close()


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def by_url(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["fullUrl"]: e["resource"] for e in bundle["entry"]}


def plateau_observations(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [o for o in resources(bundle, "Observation") if o["code"]["coding"][0]["code"] == PLATEAU_CODE["code"]]


def laterality_of(bundle: dict[str, Any], observation: dict[str, Any]) -> str | None:
    ext = observation["bodySite"].get("extension")
    if not ext:
        return None
    body = by_url(bundle)[ext[0]["valueReference"]["reference"]]
    return body["locationQualifier"][0]["coding"][0]["code"]


def all_references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "reference":
                yield v
            else:
                yield from all_references(v)
    elif isinstance(value, list):
        for v in value:
            yield from all_references(v)


def test_two_sided_session_bundle_validates_and_carries_the_figures(store: SessionStore) -> None:
    patient = store.add_patient("Ada Test", involved_side="right")
    record = record_session(store, patient_id=patient.id)
    doc = session_json(store, record.id)
    bundle = fhir_bundle(doc)

    parsed = Bundle.model_validate(bundle)  # raises on anything R4(B) does not allow
    assert parsed.type == "collection"
    assert [r["resourceType"] for r in (e["resource"] for e in bundle["entry"])].count("Observation") == 3
    (pat,) = resources(bundle, "Patient")
    assert pat["name"][0]["text"] == "Ada Test" and pat["id"] == patient.uuid
    (device,) = resources(bundle, "Device")
    assert device["serialNumber"] == "GMB-T1" and device["deviceName"][0]["name"] == "GMBelt-test"

    side_obs = plateau_observations(bundle)
    assert len(side_obs) == 2
    expected_code = {"left": "7771000", "right": "24028007"}
    for obs in side_obs:
        side = obs["bodySite"]["text"].split()[0]
        assert laterality_of(bundle, obs) == expected_code[side]
        assert obs["bodySite"]["coding"][0]["system"] == SNOMED
        q = obs["valueQuantity"]
        assert (q["system"], q["code"]) == (UCUM, "N")
        assert q["value"] == pytest.approx(doc["sides"][side]["plateau_n"], abs=0.01)
        assert obs["effectiveDateTime"] == doc["session"]["started_at"]
        assert obs["code"]["coding"][0]["system"] == CODE_SYSTEM
        assert obs["method"]["coding"][0]["system"] == CODE_SYSTEM
        assert obs["subject"]["reference"] == f"urn:uuid:{patient.uuid}"
        reps = next(c for c in obs["component"] if c["code"]["coding"][0]["code"] == "reps")
        assert reps["valueInteger"] == doc["sides"][side]["reps"]

    (lsi,) = [o for o in resources(bundle, "Observation") if o["code"]["coding"][0]["code"] == LSI_CODE["code"]]
    sym = doc["symmetry"]
    assert lsi["valueQuantity"]["value"] == pytest.approx(sym["lsi_pct"], abs=0.01)
    assert lsi["valueQuantity"]["code"] == "%"
    ci = next(c for c in lsi["component"] if c["code"]["coding"][0]["code"] == "lsi-ci95")
    assert [ci["valueRange"]["low"]["value"], ci["valueRange"]["high"]["value"]] == pytest.approx(sym["lsi_ci95_pct"])
    involved = next(c for c in lsi["component"] if c["code"]["coding"][0]["code"] == "involved-side")
    assert involved["valueCodeableConcept"]["coding"][0]["code"] == "24028007"
    assert len(lsi["derivedFrom"]) == 2

    urls = set(by_url(bundle))
    assert set(all_references(bundle)) <= urls  # every reference resolves inside the collection


def test_the_patients_clinic_details_become_identifier_gender_and_birth_year(store: SessionStore) -> None:
    patient = store.add_patient("Ada Test", external_id="MRN-0042", birth_year=1961, sex="female")
    bundle = fhir_bundle(session_json(store, record_session(store, patient_id=patient.id).id))
    Bundle.model_validate(bundle)
    (pat,) = resources(bundle, "Patient")
    assert {"type": {"text": "clinic record number"}, "value": "MRN-0042"} in pat["identifier"]
    assert (pat["gender"], pat["birthDate"]) == ("female", "1961")


def test_export_is_stable_and_the_same_belt_is_the_same_device(store: SessionStore) -> None:
    a = record_session(store, seed=1)
    b = record_session(store, seed=2)
    one, again = fhir_bundle(session_json(store, a.id)), fhir_bundle(session_json(store, a.id))
    strip = lambda bundle: {k: v for k, v in bundle.items() if k != "timestamp"}  # noqa: E731
    assert strip(one) == strip(again)
    other = fhir_bundle(session_json(store, b.id))
    assert resources(one, "Device")[0]["id"] == resources(other, "Device")[0]["id"]
    assert plateau_observations(one)[0]["id"] != plateau_observations(other)[0]["id"]


def test_one_side_no_patient_exports_what_it_has(store: SessionStore) -> None:
    record = record_session(store, sides=("left",))
    bundle = fhir_bundle(session_json(store, record.id))
    Bundle.model_validate(bundle)
    assert resources(bundle, "Patient") == []
    (obs,) = resources(bundle, "Observation")  # no LSI without a second side
    assert "subject" not in obs and obs["bodySite"]["text"] == "left hip"


def test_unlabelled_side_and_no_reps_still_validate(store: SessionStore) -> None:
    patient = store.add_patient("Bo")
    unlabelled = fhir_bundle(session_json(store, record_session(store, patient_id=patient.id, sides=()).id))
    Bundle.model_validate(unlabelled)
    (obs,) = plateau_observations(unlabelled)
    assert obs["bodySite"]["text"] == "hip" and laterality_of(unlabelled, obs) is None
    empty = fhir_bundle(session_json(store, record_session(store, patient_id=patient.id, flat=True).id))
    Bundle.model_validate(empty)
    assert resources(empty, "Observation") == [] and len(resources(empty, "Patient")) == 1


def test_the_validator_is_not_vacuous(store: SessionStore) -> None:
    bundle = fhir_bundle(session_json(store, record_session(store, sides=("left",)).id))
    broken = copy.deepcopy(bundle)
    del broken["entry"][-1]["resource"]["code"]  # Observation.code is 1..1
    with pytest.raises(ValidationError):
        Bundle.model_validate(broken)
    broken = copy.deepcopy(bundle)
    broken["entry"][0]["resource"]["serialNumber"] = {"not": "a string"}
    with pytest.raises(ValidationError):
        Bundle.model_validate(broken)
    broken = copy.deepcopy(bundle)
    obs = next(e["resource"] for e in broken["entry"] if e["resource"]["resourceType"] == "Observation")
    obs["valueQuantity"]["value"] = "heavy"
    with pytest.raises(ValidationError):
        Bundle.model_validate(broken)


def test_cli_export_fhir_writes_a_valid_bundle_and_keeps_an_existing_file(store: SessionStore, tmp_path: Path) -> None:
    record = record_session(store, patient_id=store.add_patient("Cy").id)
    out = tmp_path / "s.json"
    env_dir = str(tmp_path / "data")
    run = lambda *extra: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "sensorapp", "export", str(record.id), "--format", "fhir", "--out", str(out), "--data-dir", env_dir, *extra],
        capture_output=True, text=True, timeout=120,
    )
    proc = run()
    assert proc.returncode == 0, proc.stderr
    Bundle.model_validate(json.loads(out.read_text()))
    out.write_text("keep me")
    proc = run()
    assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1
    assert out.read_text() == "keep me"
    assert export_session(store, record.id, "fhir", out) == [out]  # the library path writes (replaces) it


def test_the_product_never_imports_fhir_resources() -> None:
    """fhir.resources is a dev dependency: no module under sensorapp/ may import it."""
    offenders = []
    for path in (ROOT / "sensorapp").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path}: {n}" for n in names if n.split(".")[0] in ("fhir", "pydantic")]
    assert offenders == []
