"""A stored session as a FHIR R4 Bundle (type ``collection``), as plain JSON-ready dicts.

Input is the session JSON document (``sensorapp.storage.export.session_json``),
so this module needs nothing from the store and nothing outside the standard
library. What goes in (docs/interop.md has the full mapping):

- Patient: the session's patient (name, and the therapist's fields when the
  store has them); without a patient, no Patient and no subject.
- Device: the belt (serial, model, firmware, name).
- one Observation per side with reps: the mean plateau of the best 3 reps in
  UCUM ``N``, bodySite hip with its laterality (SNOMED CT, as a BodyStructure
  with ``locationQualifier`` left 7771000 / right 24028007), the method, and the
  rep count, holds met, mean hold and best peak as components.
- one Observation for the LSI (%) when both sides have reps, with its 95 %
  interval as a component (a ``valueRange``) and the weaker side.

There is no LOINC code for isometric hip-abduction strength, so the
observation codes and the method come from the project's own code system
(``CODE_SYSTEM``); body site and laterality are SNOMED CT, units UCUM.
Ids are UUIDs derived from the session's UUID, so exporting the same session
twice gives the same ids (a receiver can recognise a re-send).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from typing import Any

CODE_SYSTEM = "https://sensorapp.example/fhir/CodeSystem/hip-abduction"
IDENTIFIER_SYSTEM = "https://sensorapp.example/fhir/sid"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
BODY_SITE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/bodySite"

HIP = {"system": SNOMED, "code": "29836001", "display": "Hip region structure"}
LATERALITY: dict[str, dict[str, str]] = {
    "left": {"system": SNOMED, "code": "7771000", "display": "Left"},
    "right": {"system": SNOMED, "code": "24028007", "display": "Right"},
}

PLATEAU_CODE = {
    "system": CODE_SYSTEM,
    "code": "plateau-best3",
    "display": "Isometric hip abduction force: mean plateau of the best 3 reps",
}
LSI_CODE = {
    "system": CODE_SYSTEM,
    "code": "lsi",
    "display": "Isometric hip abduction limb symmetry index (weaker or involved side / other side)",
}
METHOD_CODE = {
    "system": CODE_SYSTEM,
    "code": "side-lying-isometric-hold",
    "display": "Side-lying isometric hip abduction against an ankle-belt load cell, timed holds",
}
_COMPONENT_CODES = {
    "reps": "reps",
    "reps_target_met": "reps-target-met",
    "mean_hold_s": "mean-hold",
    "best_peak_n": "best-peak",
    "torque_nm": "torque-best3",
    "lsi_ci95_pct": "lsi-ci95",
    "weaker_side": "weaker-side",
    "involved_side": "involved-side",
}
_GENDERS = ("male", "female", "other", "unknown")


def _uuid_for(session_uuid: str, what: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{IDENTIFIER_SYSTEM}/session/{session_uuid}/{what}"))


def _quantity(value: float, unit: str, code: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": code}


def _number(value: Any) -> float | None:
    """A finite float, or None (the session document already has None for NaN; be strict anyway)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _code(code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": CODE_SYSTEM, "code": code, "display": display}], "text": display}


def fhir_bundle(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The FHIR R4 collection Bundle of one session document (``session_json``)."""
    session: Mapping[str, Any] = doc.get("session") or {}
    session_uuid = str(session.get("uuid") or uuid.uuid4())
    entries: list[dict[str, Any]] = []

    def add(resource: dict[str, Any]) -> str:
        entries.append({"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource})
        return f"urn:uuid:{resource['id']}"

    patient_ref = None
    patient_doc = doc.get("patient")
    if isinstance(patient_doc, Mapping) and patient_doc.get("name"):
        patient_ref = add(_patient(patient_doc, session_uuid))
    device_ref = add(_device(session.get("device") or {}, session_uuid))

    complete = bool(session.get("complete"))
    status = "preliminary" if session.get("state") == "recording" else "final"
    common: dict[str, Any] = {
        "status": status,
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "exam", "display": "Exam"}]}],
        "effectiveDateTime": session.get("started_at"),
        "device": {"reference": device_ref},
    }
    if patient_ref is not None:
        common["subject"] = {"reference": patient_ref}
    if session.get("ended_at"):
        common["issued"] = session["ended_at"]
    notes = [] if complete else [{"text": f"Session incomplete ({session.get('end_reason') or 'not finished'}): values are from the reps recorded."}]

    protocol: Mapping[str, Any] = session.get("protocol") or {}
    method = _method(protocol)
    side_refs: dict[str, str] = {}
    sides: Mapping[str, Any] = doc.get("sides") or {}
    for side, summary in sides.items():
        plateau = _number(summary.get("plateau_n")) if isinstance(summary, Mapping) else None
        if plateau is None:
            continue  # a side without a plateau has nothing to report
        body_site: dict[str, Any] = {"coding": [dict(HIP)], "text": f"{side} hip" if side in LATERALITY else "hip"}
        if side in LATERALITY and patient_ref is not None:
            body_ref = add(_body_structure(side, patient_ref, session_uuid))
            body_site["extension"] = [{"url": BODY_SITE_EXTENSION, "valueReference": {"reference": body_ref}}]
        observation = {
            "resourceType": "Observation",
            "id": _uuid_for(session_uuid, f"plateau/{side}"),
            "identifier": [{"system": f"{IDENTIFIER_SYSTEM}/observation", "value": f"{session_uuid}/plateau/{side}"}],
            **common,
            "code": {"coding": [dict(PLATEAU_CODE)], "text": f"Hip abduction force, {side} side (best 3 reps)"},
            "valueQuantity": _quantity(round(plateau, 2), "N", "N"),
            "bodySite": body_site,
            "method": method,
            "component": _side_components(summary),
        }
        if notes:
            observation["note"] = notes
        side_refs[side] = add(observation)

    symmetry = doc.get("symmetry")
    lsi = _number(symmetry.get("lsi_pct")) if isinstance(symmetry, Mapping) else None
    if isinstance(symmetry, Mapping) and lsi is not None:
        add(_lsi_observation(symmetry, lsi, common, method, notes, side_refs, session_uuid))

    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": _uuid_for(session_uuid, "bundle"),
        "identifier": {"system": f"{IDENTIFIER_SYSTEM}/session", "value": session_uuid},
        "type": "collection",
        "entry": entries,
    }
    if doc.get("exported_at"):
        bundle["timestamp"] = doc["exported_at"]
    return bundle


def _patient(patient: Mapping[str, Any], session_uuid: str) -> dict[str, Any]:
    """Name (a name or a pseudonym, kept as text), plus the therapist's fields when the store has them."""
    patient_uuid = str(patient.get("uuid") or _uuid_for(session_uuid, "patient"))
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": patient_uuid,
        "identifier": [{"system": f"{IDENTIFIER_SYSTEM}/patient", "value": patient_uuid}],
        "name": [{"text": str(patient["name"])}],
    }
    for key in ("external_id", "identifier", "mrn", "record_number"):  # a clinic's own number (schema v3: external_id)
        if patient.get(key):
            resource["identifier"].append({"type": {"text": "clinic record number"}, "value": str(patient[key])})
            break
    gender = patient.get("gender") or patient.get("sex")
    if isinstance(gender, str) and gender.lower() in _GENDERS:
        resource["gender"] = gender.lower()
    birth = patient.get("birth_date") or patient.get("date_of_birth")
    if isinstance(birth, str) and birth:
        resource["birthDate"] = birth[:10]
    elif isinstance(patient.get("birth_year"), int):  # schema v3 keeps the year only; FHIR's date allows "YYYY"
        resource["birthDate"] = f"{patient['birth_year']:04d}"
    return resource


def _device(device: Mapping[str, Any], session_uuid: str) -> dict[str, Any]:
    serial = str(device.get("serial") or "")
    resource: dict[str, Any] = {
        "resourceType": "Device",
        # one id per belt (from its serial), so every session's export names the same Device
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{IDENTIFIER_SYSTEM}/device-serial/{serial}")) if serial else _uuid_for(session_uuid, "device"),
        "type": {"text": "force gauge (load cell)"},
    }
    if serial:
        resource["identifier"] = [{"system": f"{IDENTIFIER_SYSTEM}/device-serial", "value": serial}]
        resource["serialNumber"] = serial
    if device.get("name"):
        resource["deviceName"] = [{"name": str(device["name"]), "type": "user-friendly-name"}]
    if device.get("model"):
        resource["modelNumber"] = str(device["model"])
    if device.get("firmware"):
        resource["version"] = [{"type": {"text": "firmware"}, "value": str(device["firmware"])}]
    if device.get("calibration"):
        resource["note"] = [{"text": f"calibration: {device['calibration']}"}]
    return resource


def _body_structure(side: str, patient_ref: str, session_uuid: str) -> dict[str, Any]:
    return {
        "resourceType": "BodyStructure",
        "id": _uuid_for(session_uuid, f"body/{side}"),
        "location": {"coding": [dict(HIP)], "text": "hip"},
        "locationQualifier": [{"coding": [dict(LATERALITY[side])], "text": side}],
        "patient": {"reference": patient_ref},
    }


def _method(protocol: Mapping[str, Any]) -> dict[str, Any]:
    reps = protocol.get("reps_per_side", 7)
    hold = _number(protocol.get("hold_s")) or 6.0
    return {
        "coding": [dict(METHOD_CODE)],
        "text": (
            f"Side-lying isometric hip abduction against an ankle-belt load cell: {reps} reps per side, "
            f"{hold:g} s holds; value = mean plateau force of the 3 best reps of the side"
        ),
    }


def _side_components(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for key, display in (("reps", "Reps detected"), ("reps_target_met", "Reps that met the hold target")):
        count = summary.get(key)
        if isinstance(count, int) and not isinstance(count, bool):
            parts.append({"code": _code(_COMPONENT_CODES[key], display), "valueInteger": count})
    for key, display, unit, ucum in (
        ("mean_hold_s", "Mean hold", "s", "s"),
        ("best_peak_n", "Best peak force", "N", "N"),
        ("torque_nm", "Torque, best 3 reps (plateau x lever arm)", "N.m", "N.m"),
    ):
        value = _number(summary.get(key))
        if value is not None:
            parts.append({"code": _code(_COMPONENT_CODES[key], display), "valueQuantity": _quantity(value, unit, ucum)})
    return parts


def _lsi_observation(
    symmetry: Mapping[str, Any],
    lsi: float,
    common: Mapping[str, Any],
    method: Mapping[str, Any],
    notes: list[dict[str, Any]],
    side_refs: Mapping[str, str],
    session_uuid: str,
) -> dict[str, Any]:
    basis = symmetry.get("basis") or "force"
    involved = symmetry.get("involved_side")
    ratio = f"{involved} (involved) side / other side" if involved in LATERALITY else "weaker side / stronger side"
    components: list[dict[str, Any]] = []
    ci = symmetry.get("lsi_ci95_pct")
    if isinstance(ci, (list, tuple)) and len(ci) == 2 and all(_number(v) is not None for v in ci):
        components.append(
            {
                "code": _code(_COMPONENT_CODES["lsi_ci95_pct"], "LSI 95 % confidence interval"),
                "valueRange": {"low": _quantity(float(ci[0]), "%", "%"), "high": _quantity(float(ci[1]), "%", "%")},
            }
        )
    for key, display in (("weaker_side", "Weaker side"), ("involved_side", "Involved side")):
        side = symmetry.get(key)
        if side in LATERALITY:
            components.append(
                {"code": _code(_COMPONENT_CODES[key], display), "valueCodeableConcept": {"coding": [dict(LATERALITY[side])], "text": side}}
            )
    text = [f"LSI = {ratio}, on {basis}; band {symmetry.get('band')}"]
    if symmetry.get("uncertain"):
        text.append("uncertain: the asymmetry is small or its interval includes 100 %")
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": _uuid_for(session_uuid, "lsi"),
        "identifier": [{"system": f"{IDENTIFIER_SYSTEM}/observation", "value": f"{session_uuid}/lsi"}],
        **common,
        "code": {"coding": [dict(LSI_CODE)], "text": "Hip abduction limb symmetry index"},
        "valueQuantity": _quantity(round(lsi, 2), "%", "%"),
        "bodySite": {"coding": [dict(HIP)], "text": "hip, both sides"},
        "method": method,
        "derivedFrom": [{"reference": side_refs[s]} for s in ("left", "right") if s in side_refs],
        "note": [*notes, {"text": "; ".join(text)}],
    }
    if components:
        resource["component"] = components
    return resource
