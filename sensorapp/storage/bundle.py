"""A session as one lossless file for the therapist: a zip with a manifest and checksums.

Members (all listed in the manifest with their SHA-256 and size):

* ``session.json``: identity (UUID), times, state, device, patient, app version, stored summary and analysis note
* ``protocol.json``, ``calibration.json``
* ``reps.json``: every rep at full precision
* ``samples/t_s.npy``, ``samples/force_n.npy`` (little-endian float64) and
  ``samples/side.npy`` (uint8: 0 unknown, 1 left, 2 right): bit-exact raw samples

``manifest.json`` also holds the bundle format version, the app version, the
samples' content hash and ``checksum``: the SHA-256 of the canonical JSON of
the file table. The checksum detects damage and casual edits; it is not a
signature (anyone can edit a member and recompute every hash), so import
also validates every member as untrusted input (``bundle_schema``) and
bounds memory by declared sizes, refusing before it inflates anything.
A bundle is imported whole or refused with one line (BundleError).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import numpy as np

from sensorapp import __version__
from sensorapp.clinic.prescription import Prescription
from sensorapp.signal import DetectorParams

from . import bundle_schema as schema
from .atomic import atomic_file
from .bundle_schema import MAX_SAMPLES, SchemaError
from .errors import BundleError, StorageError
from .records import Patient, SessionProtocol, SessionSamples, json_ready
from .sample_codec import SIDE_NAMES, samples_sha256
from .store import (
    SessionStore,
    parse_iso,
    rep_from_json,
    rep_to_json,
    utc_iso,
    validated_clinic_fields,
    validated_patient_fields,
)

BUNDLE_FORMAT = "sensorapp-session-bundle"
BUNDLE_FORMAT_VERSION = 2  # 2: the patient's clinic details, the session's prescription and pain (schema v3); 1 still imports
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
# Largest member accepted, by its declared (uncompressed) size, checked before anything is inflated.
# A session's JSON is a few kB (session.json and reps.json grow by about 1 kB per rep).
MAX_JSON_BYTES: dict[str, int] = {
    MANIFEST: 64 * 1024,
    "session.json": 4 * 1024 * 1024,
    "protocol.json": 64 * 1024,
    "calibration.json": 64 * 1024,
    "reps.json": 4 * 1024 * 1024,
}
ARRAY_DTYPES: dict[str, np.dtype[Any]] = {
    "samples/t_s.npy": np.dtype("<f8"),
    "samples/force_n.npy": np.dtype("<f8"),
    "samples/side.npy": np.dtype("|u1"),
}
MAX_NPY_HEADER_BYTES = 4096  # np.save writes 128
MAX_ABS_TIME_S = 1e10  # device clock; also fits a replayed CSV stamped with POSIX seconds
MAX_ABS_FORCE_N = 1e6  # the belt's cell is rated in hundreds of newtons
_READ_CHUNK = 1 << 20


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
        "prescription": record.prescription,
        "pain_before": record.pain_before,
        "pain_after": record.pain_after,
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
    """A bundle that passed every check. ``reps`` is None when they must be derived again from the samples."""

    manifest: dict[str, Any]
    session: dict[str, Any]
    protocol: dict[str, Any]
    calibration: dict[str, Any]
    reps: list[dict[str, Any]] | None
    samples: SessionSamples


def read_bundle(path: str | os.PathLike[str]) -> BundleContents:
    """Open and verify a bundle; BundleError saying what is wrong otherwise. Writes nothing.

    Order matters for memory: the zip's directory and each member's declared
    size are checked against the limits first, the manifest (small) next,
    then every member is read with a bounded read, the arrays through their
    .npy header (shape and dtype checked before their data is read).
    """
    p = Path(path)
    name = p.name
    try:
        zf = zipfile.ZipFile(p)
    except FileNotFoundError:
        raise BundleError(f"{p}: no such file") from None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, OverflowError) as exc:
        raise BundleError(f"{name} is not a sensorapp bundle: not a readable zip file ({exc})") from None
    with zf:
        infos = _checked_directory(zf, name)
        manifest = _read_manifest(zf, infos[MANIFEST], name)
        files: dict[str, dict[str, Any]] = manifest["files"]
        sample_count = int(manifest["sample_count"])
        for member in MEMBERS:
            declared = int(files[member]["bytes"])
            if infos[member].file_size != declared:
                raise BundleError(f"{name} is damaged or tampered with: {member} has {infos[member].file_size} bytes, the manifest says {declared}")
            limit = MAX_JSON_BYTES.get(member)
            if limit is None:
                limit = MAX_NPY_HEADER_BYTES + sample_count * ARRAY_DTYPES[member].itemsize
            if declared > limit:
                raise BundleError(f"{name}: {member} is implausibly large ({declared} bytes for {sample_count} samples)")
        raw: dict[str, bytes] = {}
        for member in MAX_JSON_BYTES:
            if member != MANIFEST:
                raw[member] = _read_exact(zf, infos[member], files[member]["sha256"], name)
        arrays = {
            member: _read_npy(zf, infos[member], dtype, sample_count, files[member]["sha256"], name)
            for member, dtype in ARRAY_DTYPES.items()
        }
    session = _validated(schema.SESSION, raw["session.json"], "session.json", name)
    protocol = _validated(schema.PROTOCOL, raw["protocol.json"], "protocol.json", name)
    calibration = _validated(schema.CALIBRATION, raw["calibration.json"], "calibration.json", name)
    reps = _validated(schema.REPS, raw["reps.json"], "reps.json", name)
    try:
        SessionProtocol.from_dict(protocol)
    except (TypeError, ValueError) as exc:
        raise BundleError(f"{name}: protocol.json is not valid: {exc}") from None
    if session.get("prescription") is not None:
        try:
            Prescription.from_dict(session["prescription"])
        except (TypeError, ValueError) as exc:
            raise BundleError(f"{name}: session.json: the prescription is not valid: {exc}") from None
    samples = _checked_samples(arrays, name)
    _check_session(session, manifest, samples, name)
    required = set(schema.REP_FIELDS) - schema.REP_FIELDS_WITH_DEFAULTS
    if any(not required <= rep.keys() for rep in reps):
        reps = None  # from a sensorapp whose Rep had other fields: import derives them again from the samples
    return BundleContents(manifest, session, protocol, calibration, reps, samples)


def _checked_directory(zf: zipfile.ZipFile, bundle_name: str) -> dict[str, zipfile.ZipInfo]:
    """The zip's members by name, after the checks that need no decompression."""
    infos = zf.infolist()
    names = [i.filename for i in infos]
    if len(set(names)) != len(names):
        raise BundleError(f"{bundle_name} is damaged or tampered with: a file appears twice in it")
    if MANIFEST not in names:
        raise BundleError(f"{bundle_name} is not a sensorapp bundle: it has no {MANIFEST}")
    expected = {MANIFEST, *MEMBERS}
    if set(names) - expected:
        extra = sorted(set(names) - expected)[:5]
        missing = sorted(expected - set(names))
        raise BundleError(f"{bundle_name} is damaged or tampered with: missing {missing}, unexpected {extra}")
    for info in infos:
        kind = stat.S_IFMT(info.external_attr >> 16)  # 0 when the writer set no Unix type (zipfile's writestr)
        if info.is_dir() or kind not in (0, stat.S_IFREG):
            raise BundleError(f"{bundle_name} is damaged or tampered with: {info.filename} is not a regular file")
        if info.flag_bits & 0x1:
            raise BundleError(f"{bundle_name}: {info.filename} is encrypted; bundles never are")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise BundleError(f"{bundle_name}: {info.filename} uses a compression sensorapp does not write (method {info.compress_type})")
    return {i.filename: i for i in infos}


def _read_manifest(zf: zipfile.ZipFile, info: zipfile.ZipInfo, bundle_name: str) -> dict[str, Any]:
    if info.file_size > MAX_JSON_BYTES[MANIFEST]:
        raise BundleError(f"{bundle_name}: {MANIFEST} is implausibly large ({info.file_size} bytes)")
    try:
        manifest = schema.parse_json(_read_exact(zf, info, None, bundle_name))
    except SchemaError as exc:
        raise BundleError(f"{bundle_name}: {MANIFEST} is not valid JSON ({exc.problem})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"{bundle_name} is not a sensorapp session bundle (its manifest has another format)")
    version = manifest.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise BundleError(f"{bundle_name}: its manifest has no valid format_version")
    if version > BUNDLE_FORMAT_VERSION:
        raise BundleError(
            f"{bundle_name} was made by a newer sensorapp (bundle format {version}, this one reads up to {BUNDLE_FORMAT_VERSION}); update sensorapp"
        )
    checksum = manifest.get("checksum")
    if not isinstance(manifest.get("files"), dict) or not isinstance(checksum, dict) or not isinstance(checksum.get("value"), str):
        raise BundleError(f"{bundle_name} is damaged: its manifest has no file table or no checksum")
    try:
        schema.MANIFEST.check(manifest)
    except SchemaError as exc:
        raise BundleError(f"{bundle_name}: {MANIFEST} is not valid: {exc}") from None
    files = manifest["files"]
    if files_checksum(files) != checksum["value"]:
        raise BundleError(f"{bundle_name} is damaged or tampered with: the manifest's checksum does not match its file table")
    if set(files) != set(MEMBERS):
        missing = sorted(set(MEMBERS) - set(files))
        extra = sorted(set(files) - set(MEMBERS))
        raise BundleError(f"{bundle_name}: the manifest lists the wrong files (missing {missing}, unexpected {extra})")
    missing_members = sorted(set(MEMBERS) - set(zf.namelist()))
    if missing_members:
        raise BundleError(f"{bundle_name} is damaged or tampered with: missing {missing_members}, unexpected []")
    if manifest.get("side_codes", list(SIDE_NAMES)) != list(SIDE_NAMES):
        raise BundleError(f"{bundle_name}: its side codes {manifest['side_codes']!r} are not this version's {list(SIDE_NAMES)!r}")
    return manifest


class _BoundedReader:
    """Reads at most ``limit`` bytes of a member (a zip header can lie), hashing what it hands out."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self._stream = stream
        self.remaining = limit
        self.consumed = 0
        self.sha256 = hashlib.sha256()

    def read(self, n: int | None = -1) -> bytes:
        if n is None or n < 0 or n > self.remaining:
            n = self.remaining
        chunk = self._stream.read(n)
        self.remaining -= len(chunk)
        self.consumed += len(chunk)
        self.sha256.update(chunk)
        return chunk

    def at_end(self) -> bool:
        """True when the member has nothing after what was read (reading on also lets zipfile check its CRC)."""
        return self.remaining == 0 and self._stream.read(1) == b""


_READ_ERRORS = (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, NotImplementedError, ValueError, OverflowError)


def _read_exact(zf: zipfile.ZipFile, info: zipfile.ZipInfo, sha256: str | None, bundle_name: str) -> bytes:
    """The member's ``file_size`` bytes (already checked against its limit) and nothing more."""
    member = info.filename
    try:
        with zf.open(info) as stream:
            reader = _BoundedReader(stream, info.file_size)
            parts = []
            while reader.remaining:
                chunk = reader.read(_READ_CHUNK)
                if not chunk:
                    break
                parts.append(chunk)
            complete = reader.at_end()
    except _READ_ERRORS as exc:
        raise BundleError(f"{bundle_name} is damaged: {member} cannot be read ({exc})") from None
    if not complete:
        raise BundleError(f"{bundle_name} is damaged: {member} is not the size its zip entry says")
    if sha256 is not None and reader.sha256.hexdigest() != sha256:
        raise BundleError(f"{bundle_name} is damaged or tampered with: {member} does not match its checksum")
    return b"".join(parts)


def _read_npy(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, dtype: np.dtype[Any], sample_count: int, sha256: str, bundle_name: str
) -> np.ndarray:
    """A 1-D array of ``sample_count`` values of ``dtype``; its header is checked before its data is read."""
    member = info.filename
    try:
        with zf.open(info) as stream:
            reader = _BoundedReader(stream, info.file_size)
            try:
                version = np.lib.format.read_magic(reader)
                if version == (1, 0):
                    header = np.lib.format.read_array_header_1_0(reader, max_header_size=MAX_NPY_HEADER_BYTES)
                elif version == (2, 0):
                    header = np.lib.format.read_array_header_2_0(reader, max_header_size=MAX_NPY_HEADER_BYTES)
                else:
                    raise ValueError(f"unsupported .npy version {version}")
            except (ValueError, SyntaxError, TypeError) as exc:
                raise BundleError(f"{bundle_name}: {member} is not a valid .npy array ({exc})") from None
            shape, fortran_order, found = header
            if found != dtype or len(shape) != 1 or fortran_order:
                raise BundleError(f"{bundle_name}: {member} must be a 1-D {dtype.name} array, found {len(shape)}-D {found}")
            if shape[0] != sample_count:
                raise BundleError(
                    f"{bundle_name}: {member} declares {shape[0]} samples, the manifest {sample_count}"
                    + (f" (at most {MAX_SAMPLES} are accepted)" if shape[0] > MAX_SAMPLES else "")
                )
            if reader.consumed + sample_count * dtype.itemsize != info.file_size:
                raise BundleError(f"{bundle_name} is damaged: {member} is not as long as its header says")
            array = np.empty(sample_count, dtype=dtype)
            view = array.view(np.uint8)
            at = 0
            while at < view.size:
                chunk = reader.read(min(_READ_CHUNK, view.size - at))
                if not chunk:
                    break
                view[at : at + len(chunk)] = np.frombuffer(chunk, dtype=np.uint8)
                at += len(chunk)
            complete = at == view.size and reader.at_end()
    except _READ_ERRORS as exc:
        raise BundleError(f"{bundle_name} is damaged: {member} cannot be read ({exc})") from None
    if not complete:
        raise BundleError(f"{bundle_name} is damaged: {member} is shorter than its header says")
    if reader.sha256.hexdigest() != sha256:
        raise BundleError(f"{bundle_name} is damaged or tampered with: {member} does not match its checksum")
    return array


def _validated(node: schema.Node, raw: bytes, member: str, bundle_name: str) -> Any:
    try:
        value = schema.parse_json(raw)
    except SchemaError as exc:
        raise BundleError(f"{bundle_name}: {member} is not valid JSON ({exc.problem})") from None
    try:
        return node.check(value)
    except SchemaError as exc:
        raise BundleError(f"{bundle_name}: {member} is not valid: {exc}") from None


def _checked_samples(arrays: Mapping[str, np.ndarray], bundle_name: str) -> SessionSamples:
    t = arrays["samples/t_s.npy"].astype(np.float64, copy=False)
    f = arrays["samples/force_n.npy"].astype(np.float64, copy=False)
    codes = arrays["samples/side.npy"]
    if not (np.isfinite(t).all() and np.isfinite(f).all()):
        raise BundleError(f"{bundle_name}: the samples contain values that are not finite")
    if t.size and (float(np.abs(t).max()) > MAX_ABS_TIME_S or float(np.abs(f).max()) > MAX_ABS_FORCE_N):
        raise BundleError(f"{bundle_name}: the samples hold times beyond {MAX_ABS_TIME_S:g} s or forces beyond {MAX_ABS_FORCE_N:g} N")
    if t.size > 1 and not bool(np.all(t[1:] > t[:-1])):
        raise BundleError(f"{bundle_name}: the sample times do not increase")
    if codes.size and int(codes.max()) >= len(SIDE_NAMES):
        raise BundleError(f"{bundle_name}: a side code is not 0, 1 or 2")
    return SessionSamples(t, f, codes)


def _check_session(session: dict[str, Any], manifest: dict[str, Any], samples: SessionSamples, bundle_name: str) -> None:
    if manifest["session_uuid"] != session["uuid"]:
        raise BundleError(f"{bundle_name} is damaged or tampered with: the manifest and session.json name different sessions")
    digest = samples_sha256(samples.t_s, samples.force_n, samples.side_codes)
    if session["samples_sha256"] != digest or manifest["samples_sha256"] != digest:
        raise BundleError(f"{bundle_name} is damaged or tampered with: the samples do not match their content hash")
    if session["sample_count"] != len(samples) or manifest["sample_count"] != len(samples):
        raise BundleError(f"{bundle_name}: the sample count does not match the samples")
    if parse_iso(session["ended_at"]) < parse_iso(session["started_at"]):
        raise BundleError(f"{bundle_name}: session.json's ended_at is before its started_at")


# ---------------------------------------------------------------------- import


def import_bundle(store: SessionStore, path: str | os.PathLike[str], *, patient_id: int | None = None) -> ImportResult:
    """Add a bundle's session to ``store``; idempotent by the session's UUID.

    Everything is checked first (``read_bundle``) and then written in one
    transaction, so a bad bundle (BundleError) or a full disk
    (StorageFullError) writes nothing. The patient is matched by UUID, else
    created with the bundle's details; ``patient_id`` attaches the session to
    an existing patient instead. A session already in the store with the same
    samples is not imported again; with different samples the import is refused.
    """
    contents = read_bundle(path)
    session = contents.session
    session_uuid = session["uuid"]
    name = Path(path).name
    existing = store.session_by_uuid(session_uuid)
    if existing is not None:
        if existing.samples_sha256 == session["samples_sha256"]:
            return ImportResult(existing.id, session_uuid, existing.patient_id, False, f"session {existing.id} is already in this store; nothing imported")
        raise BundleError(
            f"{name}: session {session_uuid} is already in this store (id {existing.id}) with different samples; not imported"
        )
    bundle_patient = session.get("patient")
    known_patient = store.patient(patient_id) if patient_id is not None else None
    if known_patient is None and bundle_patient is not None:
        known_patient = store.patient_by_uuid(bundle_patient["uuid"])
    new_patient: tuple[str, str | None, float | None, float | None] | None = None
    new_clinic: tuple[str | None, int | None, str | None, str] = (None, None, None, "")
    if known_patient is None and bundle_patient is not None:
        try:
            new_patient = validated_patient_fields(
                bundle_patient["name"], bundle_patient.get("involved_side"), bundle_patient.get("body_mass_kg"), bundle_patient.get("lever_arm_m")
            )
            new_clinic = validated_clinic_fields(
                bundle_patient.get("external_id"),
                bundle_patient.get("birth_year"),
                bundle_patient.get("sex"),
                bundle_patient.get("notes") or "",
                this_year=datetime.now(UTC).year,
            )
        except ValueError as exc:
            raise BundleError(f"{name}: the patient's details are invalid ({exc})") from None
        owner = store.patient_by_external_id(new_clinic[0]) if new_clinic[0] is not None else None
        if owner is not None:
            raise BundleError(
                f"{name}: the bundle's patient {new_patient[0]!r} has the external id {new_clinic[0]!r}, which is patient"
                f" {owner.id}'s ({owner.name}) here; import it with --patient {owner.id} to file it under them"
            )
    summary, analysis = session.get("summary"), session.get("analysis")
    if contents.reps is None or summary is None:
        # Derive reps and summary here from the (verified) samples, with the details of the patient it is filed under.
        details = known_patient
        if details is None and new_patient is not None and bundle_patient is not None:
            details = Patient(0, bundle_patient["uuid"], *new_patient, created_at=parse_iso(session["started_at"]))  # analysis needs no clinic details
        derived, analysis = store._analyse(contents.samples, contents.protocol, details, DetectorParams())
        reps, summary = list(derived.reps), derived.to_dict()
    else:
        reps = [rep_from_json(r) for r in contents.reps]
    with store._transaction(f"import {name}") as conn:
        pid = None if known_patient is None else known_patient.id
        if new_patient is not None:
            assert bundle_patient is not None
            # The exporter's "archived" is its own list's housekeeping: a patient arriving with a session is active here.
            cur = conn.execute(
                "INSERT INTO patients (uuid, name, involved_side, body_mass_kg, lever_arm_m, created_at,"
                " external_id, birth_year, sex, notes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (bundle_patient["uuid"], *new_patient, _created_at(bundle_patient, session), *new_clinic),
            )
            pid = int(cur.lastrowid or 0)
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
            prescription=session.get("prescription"),
            pain_before=session.get("pain_before"),
            pain_after=session.get("pain_after"),
        )
    return ImportResult(new_id, session_uuid, pid, True, f"imported session {new_id} ({session_uuid})")


def _created_at(patient: Mapping[str, Any], session: Mapping[str, Any]) -> str:
    """The patient's creation time as validated, else the session's start."""
    return utc_iso(parse_iso(patient.get("created_at") or session["started_at"]))
