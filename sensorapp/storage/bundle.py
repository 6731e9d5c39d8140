"""A session as one lossless file for the therapist: a zip with a manifest and checksums.

Members (all listed in the manifest with their SHA-256 and size):

* ``session.json``: identity (UUID), times, state, device, patient, app version, stored summary and analysis note
* ``protocol.json``, ``calibration.json``
* ``reps.json``: every rep at full precision
* ``samples/t_s.npy``, ``samples/force_n.npy`` (little-endian float64) and
  ``samples/side.npy`` (uint8: 0 unknown, 1 left, 2 right): bit-exact raw samples

``manifest.json`` also holds the bundle format version, the app version, the
samples' content hash and ``checksum``: the SHA-256 of the canonical JSON of
the file table. Import checks all of it before writing anything, so a
corrupt, truncated or edited bundle is refused whole. The checksum detects
damage and casual edits; it is not a signature (anyone can recompute it).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import uuid as uuidlib
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from sensorapp import __version__

from .atomic import atomic_file
from .errors import BundleError, StorageError
from .records import SIDES, SessionSamples, json_ready
from .sample_codec import SIDE_NAMES, samples_sha256
from .store import SessionStore, parse_iso, rep_from_json, rep_to_json, utc_iso, validated_patient_fields

BUNDLE_FORMAT = "sensorapp-session-bundle"
BUNDLE_FORMAT_VERSION = 1
BUNDLE_SUFFIX = ".sensorapp.zip"
MANIFEST = "manifest.json"
MEMBERS: tuple[str, ...] = (
    "session.json",
    "protocol.json",
    "calibration.json",
    "reps.json",
    "samples/t_s.npy",
    "samples/force_n.npy",
    "samples/side.npy",
)
MAX_JSON_BYTES = 64 * 1024 * 1024
MAX_SAMPLES = 200_000_000  # ~55 h at 1 kHz: far beyond a session, small enough to refuse a zip bomb


@dataclass(frozen=True)
class ImportResult:
    session_id: int
    session_uuid: str
    patient_id: int | None
    created: bool  # False: the same session was already in the store, nothing was written
    message: str


# ---------------------------------------------------------------------- export


def _npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def _json_bytes(data: Any) -> bytes:
    return json.dumps(json_ready(data), indent=2, sort_keys=True, allow_nan=False).encode("utf-8") + b"\n"


def files_checksum(files: Mapping[str, Mapping[str, Any]]) -> str:
    """SHA-256 of the canonical JSON of the manifest's file table."""
    canonical = json.dumps({k: dict(v) for k, v in files.items()}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def bundle_members(store: SessionStore, session_id: int) -> dict[str, bytes]:
    """The bundle's files (manifest excluded) as bytes."""
    record = store.session(session_id)
    if record.ended_at is None:
        raise StorageError(f"session {session_id} is still being recorded; export it once it has ended")
    patient = store.patient(record.patient_id) if record.patient_id is not None else None
    samples = store.samples(session_id)
    reps = store.reps(session_id)
    session = {
        "uuid": record.uuid,
        "started_at": record.started_at.isoformat(),
        "ended_at": record.ended_at.isoformat(),
        "complete": record.complete,
        "end_reason": record.end_reason,
        "app_version": record.app_version,
        "device": record.device,
        "notes": record.notes,
        "sample_count": len(samples),
        "samples_sha256": samples_sha256(samples.t_s, samples.force_n, samples.side_codes),
        "patient": None if patient is None else patient.to_dict(),
        "summary": record.summary,
        "analysis": store.analysis_info(session_id),
    }
    return {
        "session.json": _json_bytes(session),
        "protocol.json": _json_bytes(record.protocol),
        "calibration.json": _json_bytes(record.calibration),
        "reps.json": _json_bytes([rep_to_json(r) for r in reps]),
        "samples/t_s.npy": _npy_bytes(np.ascontiguousarray(samples.t_s, dtype="<f8")),
        "samples/force_n.npy": _npy_bytes(np.ascontiguousarray(samples.force_n, dtype="<f8")),
        "samples/side.npy": _npy_bytes(np.ascontiguousarray(samples.side_codes, dtype=np.uint8)),
    }


def export_bundle(store: SessionStore, session_id: int, out: str | os.PathLike[str]) -> Path:
    """Write the session's bundle to ``out`` atomically; returns the path."""
    members = bundle_members(store, session_id)
    session = json.loads(members["session.json"])
    files = {name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)} for name, data in members.items()}
    manifest = {
        "format": BUNDLE_FORMAT,
        "format_version": BUNDLE_FORMAT_VERSION,
        "app_version": __version__,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "session_uuid": session["uuid"],
        "sample_count": session["sample_count"],
        "samples_sha256": session["samples_sha256"],
        "side_codes": list(SIDE_NAMES),
        "files": files,
        "checksum": {"algorithm": "sha256", "of": "files", "value": files_checksum(files)},
    }
    path = Path(out)
    with atomic_file(path, "wb", what="export the bundle to") as f, zipfile.ZipFile(f, "w") as zf:
        zf.writestr(MANIFEST, _json_bytes(manifest), compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
        for name, data in members.items():
            level = 1 if name.endswith(".npy") else 6
            zf.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=level)
    return path


# ---------------------------------------------------------------------- reading and checking


@dataclass(frozen=True)
class BundleContents:
    """A bundle that passed every check."""

    manifest: dict[str, Any]
    session: dict[str, Any]
    protocol: dict[str, Any]
    calibration: dict[str, Any]
    reps: list[dict[str, Any]]
    samples: SessionSamples


def read_bundle(path: str | os.PathLike[str]) -> BundleContents:
    """Open and verify a bundle; BundleError saying what is wrong otherwise. Writes nothing."""
    p = Path(path)
    name = p.name
    try:
        zf = zipfile.ZipFile(p)
    except FileNotFoundError:
        raise BundleError(f"{p}: no such file") from None
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise BundleError(f"{name} is not a sensorapp bundle: not a readable zip file ({exc})") from None
    with zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        if len(set(names)) != len(names):
            raise BundleError(f"{name} is damaged or tampered with: a file appears twice in it")
        if MANIFEST not in names:
            raise BundleError(f"{name} is not a sensorapp bundle: it has no {MANIFEST}")
        sizes = {i.filename: i.file_size for i in infos}
        manifest = _json_member(zf, MANIFEST, sizes, name)
        if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
            raise BundleError(f"{name} is not a sensorapp session bundle (its manifest has another format)")
        version = manifest.get("format_version")
        if not isinstance(version, int) or version < 1:
            raise BundleError(f"{name}: its manifest has no valid format_version")
        if version > BUNDLE_FORMAT_VERSION:
            raise BundleError(
                f"{name} was made by a newer sensorapp (bundle format {version}, this one reads up to {BUNDLE_FORMAT_VERSION}); update sensorapp"
            )
        files = manifest.get("files")
        checksum = (manifest.get("checksum") or {}).get("value") if isinstance(manifest.get("checksum"), dict) else None
        if not isinstance(files, dict) or not isinstance(checksum, str):
            raise BundleError(f"{name} is damaged: its manifest has no file table or no checksum")
        if files_checksum(files) != checksum:
            raise BundleError(f"{name} is damaged or tampered with: the manifest's checksum does not match its file table")
        if set(files) != set(MEMBERS):
            missing = sorted(set(MEMBERS) - set(files))
            extra = sorted(set(files) - set(MEMBERS))
            raise BundleError(f"{name}: the manifest lists the wrong files (missing {missing}, unexpected {extra})")
        if set(names) != {MANIFEST, *MEMBERS}:
            extra = sorted(set(names) - {MANIFEST, *MEMBERS})
            missing = sorted({MANIFEST, *MEMBERS} - set(names))
            raise BundleError(f"{name} is damaged or tampered with: missing {missing}, unexpected {extra}")
        data: dict[str, bytes] = {}
        for member in MEMBERS:
            entry = files[member]
            if not isinstance(entry, dict) or not isinstance(entry.get("bytes"), int) or not isinstance(entry.get("sha256"), str):
                raise BundleError(f"{name}: the manifest entry of {member} is malformed")
            if sizes[member] != entry["bytes"]:
                raise BundleError(f"{name} is damaged or tampered with: {member} has {sizes[member]} bytes, the manifest says {entry['bytes']}")
            raw = _read_member(zf, member, name)
            if hashlib.sha256(raw).hexdigest() != entry["sha256"]:
                raise BundleError(f"{name} is damaged or tampered with: {member} does not match its checksum")
            data[member] = raw
    session = _json_loads(data["session.json"], "session.json", name)
    protocol = _json_loads(data["protocol.json"], "protocol.json", name)
    calibration = _json_loads(data["calibration.json"], "calibration.json", name)
    reps = _json_loads(data["reps.json"], "reps.json", name)
    if not isinstance(session, dict) or not isinstance(protocol, dict) or not isinstance(calibration, dict) or not isinstance(reps, list):
        raise BundleError(f"{name}: session.json, protocol.json and calibration.json must be objects and reps.json a list")
    samples = _samples_from(data, name)
    _check_session(session, manifest, samples, name)
    return BundleContents(manifest, session, protocol, calibration, reps, samples)


def _read_member(zf: zipfile.ZipFile, member: str, bundle_name: str) -> bytes:
    try:
        return zf.read(member)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
        raise BundleError(f"{bundle_name} is damaged: {member} cannot be read ({exc})") from None


def _json_member(zf: zipfile.ZipFile, member: str, sizes: Mapping[str, int], bundle_name: str) -> Any:
    if sizes[member] > MAX_JSON_BYTES:
        raise BundleError(f"{bundle_name}: {member} is implausibly large ({sizes[member]} bytes)")
    return _json_loads(_read_member(zf, member, bundle_name), member, bundle_name)


def _json_loads(raw: bytes, member: str, bundle_name: str) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{bundle_name}: {member} is not valid JSON ({exc})") from None


def _load_npy(raw: bytes, member: str, dtype: str, bundle_name: str) -> np.ndarray:
    try:
        arr = np.load(io.BytesIO(raw), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise BundleError(f"{bundle_name}: {member} is not a valid .npy array ({exc})") from None
    if arr.dtype != np.dtype(dtype) or arr.ndim != 1:
        raise BundleError(f"{bundle_name}: {member} must be a 1-D {np.dtype(dtype).name} array, found {arr.ndim}-D {arr.dtype}")
    if arr.size > MAX_SAMPLES:
        raise BundleError(f"{bundle_name}: {member} has an implausible {arr.size} samples")
    return arr


def _samples_from(data: Mapping[str, bytes], bundle_name: str) -> SessionSamples:
    t = _load_npy(data["samples/t_s.npy"], "samples/t_s.npy", "<f8", bundle_name).astype(np.float64)
    f = _load_npy(data["samples/force_n.npy"], "samples/force_n.npy", "<f8", bundle_name).astype(np.float64)
    codes = _load_npy(data["samples/side.npy"], "samples/side.npy", "|u1", bundle_name)
    if not t.size == f.size == codes.size:
        raise BundleError(f"{bundle_name}: the sample arrays have different lengths ({t.size}, {f.size}, {codes.size})")
    if not (np.isfinite(t).all() and np.isfinite(f).all()):
        raise BundleError(f"{bundle_name}: the samples contain values that are not finite")
    if t.size > 1 and not bool(np.all(np.diff(t) > 0)):
        raise BundleError(f"{bundle_name}: the sample times do not increase")
    if codes.size and int(codes.max()) >= len(SIDE_NAMES):
        raise BundleError(f"{bundle_name}: a side code is not 0, 1 or 2")
    return SessionSamples(t, f, codes.astype(np.uint8))


def _check_session(session: dict[str, Any], manifest: dict[str, Any], samples: SessionSamples, bundle_name: str) -> None:
    try:
        session_uuid = str(uuidlib.UUID(str(session.get("uuid"))))
    except ValueError:
        raise BundleError(f"{bundle_name}: session.json has no valid session UUID") from None
    if manifest.get("session_uuid") != session_uuid:
        raise BundleError(f"{bundle_name} is damaged or tampered with: the manifest and session.json name different sessions")
    digest = samples_sha256(samples.t_s, samples.force_n, samples.side_codes)
    if session.get("samples_sha256") != digest or manifest.get("samples_sha256") != digest:
        raise BundleError(f"{bundle_name} is damaged or tampered with: the samples do not match their content hash")
    if session.get("sample_count") != len(samples) or manifest.get("sample_count") != len(samples):
        raise BundleError(f"{bundle_name}: the sample count does not match the samples")
    for key in ("started_at", "ended_at"):
        try:
            moment = parse_iso(str(session.get(key)))
        except ValueError:
            raise BundleError(f"{bundle_name}: session.json has no valid {key}") from None
        if moment.tzinfo is None:
            raise BundleError(f"{bundle_name}: session.json's {key} has no time zone")
    patient = session.get("patient")
    if patient is not None:
        if not isinstance(patient, dict) or not str(patient.get("name") or "").strip():
            raise BundleError(f"{bundle_name}: session.json has a patient without a name")
        if patient.get("involved_side") not in (None, *SIDES):
            raise BundleError(f"{bundle_name}: the patient's involved side is not left, right or none")
        try:
            uuidlib.UUID(str(patient.get("uuid")))
        except ValueError:
            raise BundleError(f"{bundle_name}: the patient has no valid UUID") from None


# ---------------------------------------------------------------------- import


def import_bundle(store: SessionStore, path: str | os.PathLike[str], *, patient_id: int | None = None) -> ImportResult:
    """Add a bundle's session to ``store``; idempotent by the session's UUID.

    Everything is checked first and then written in one transaction, so a
    bad bundle (BundleError) or a full disk (StorageFullError) writes
    nothing. The patient is matched by UUID, else created with the bundle's
    details; ``patient_id`` attaches the session to an existing patient
    instead. A session already in the store with the same samples is not
    imported again; with different samples the import is refused.
    """
    contents = read_bundle(path)
    session = contents.session
    session_uuid = str(uuidlib.UUID(session["uuid"]))
    name = Path(path).name
    existing = store.session_by_uuid(session_uuid)
    if existing is not None:
        if existing.samples_sha256 == session["samples_sha256"]:
            return ImportResult(existing.id, session_uuid, existing.patient_id, False, f"session {existing.id} is already in this store; nothing imported")
        raise BundleError(
            f"{name}: session {session_uuid} is already in this store (id {existing.id}) with different samples; not imported"
        )
    if patient_id is not None:
        store.patient(patient_id)
    try:
        reps = [rep_from_json(r) for r in contents.reps]
        summary, analysis = session.get("summary"), session.get("analysis")
    except (TypeError, ValueError):
        # Reps from a sensorapp whose Rep had other fields: derive them here from the (verified) samples.
        reps, summary, analysis = [], None, None
    bundle_patient = session.get("patient")
    with store._transaction(f"import {name}") as conn:
        pid = patient_id
        if pid is None and bundle_patient is not None:
            found = conn.execute("SELECT id FROM patients WHERE uuid = ?", (str(uuidlib.UUID(bundle_patient["uuid"])),)).fetchone()
            if found:
                pid = int(found[0])
            else:
                try:
                    values = validated_patient_fields(
                        bundle_patient["name"], bundle_patient.get("involved_side"), bundle_patient.get("body_mass_kg"), bundle_patient.get("lever_arm_m")
                    )
                except ValueError as exc:
                    raise BundleError(f"{name}: the patient's details are invalid ({exc})") from None
                cur = conn.execute(
                    "INSERT INTO patients (uuid, name, involved_side, body_mass_kg, lever_arm_m, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (str(uuidlib.UUID(bundle_patient["uuid"])), *values, _created_at(bundle_patient, session)),
                )
                pid = int(cur.lastrowid)
        new_id = store._insert_finished_session(
            session_uuid=session_uuid,
            patient_id=pid,
            protocol=contents.protocol,
            device=session.get("device") or {},
            calibration=contents.calibration,
            started_at=parse_iso(session["started_at"]),
            ended_at=parse_iso(session["ended_at"]),
            complete=bool(session.get("complete")),
            end_reason=session.get("end_reason"),
            app_version=str(session.get("app_version") or "unknown"),
            notes=str(session.get("notes") or ""),
            samples=contents.samples,
            reps=reps,
            summary=summary,
            analysis=analysis,
            conn=conn,
        )
    if summary is None:
        store.reanalyse(new_id, save=True)
    return ImportResult(new_id, session_uuid, pid, True, f"imported session {new_id} ({session_uuid})")


def _created_at(patient: Mapping[str, Any], session: Mapping[str, Any]) -> str:
    try:
        moment = parse_iso(str(patient.get("created_at")))
        if moment.tzinfo is not None:
            return utc_iso(moment)
    except ValueError:
        pass
    return utc_iso(parse_iso(session["started_at"]))
