"""Export one session as CSV (samples + reps), JSON or a FHIR R4 Bundle, written atomically.

The samples CSV is exactly the ``time_s,force_n,side`` format that
``sensorapp analyze`` and the replay source read. The reps CSV sits next to it
(``NAME.reps.csv``); its free-text cells are neutralised against formula
injection, its numbers are left as numbers.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from sensorapp import __version__
from sensorapp.signal import Rep

from .atomic import atomic_file, neutralise_csv_text
from .records import json_ready
from .samples_csv import HEADER, format_rows
from .store import SessionStore

JSON_FORMAT = "sensorapp-session"
JSON_FORMAT_VERSION = 1
EXPORT_FORMATS: tuple[str, ...] = ("csv", "json", "bundle", "fhir")
_CSV_ROWS_PER_WRITE = 100_000


def reps_csv_path(samples_csv: str | os.PathLike[str]) -> Path:
    """Where the reps CSV of a samples CSV goes: ``x.csv`` -> ``x.reps.csv``."""
    p = Path(samples_csv)
    stem = p.name[: -len(p.suffix)] if p.suffix.lower() == ".csv" else p.name
    return p.with_name(stem + ".reps.csv")


def export_csv(store: SessionStore, session_id: int, out: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Samples CSV at ``out`` and reps CSV next to it; returns both paths."""
    record = store.session(session_id)
    samples = store.samples(session_id)
    return write_csv_pair(
        out, samples.t_s, samples.force_n, samples.side, store.reps(session_id), session_uuid=record.uuid, patient=record.patient_name or ""
    )


def write_csv_pair(
    out: str | os.PathLike[str],
    t_s: np.ndarray,
    force_n: np.ndarray,
    side: np.ndarray,
    reps: Sequence[Rep],
    *,
    session_uuid: str = "",
    patient: str = "",
) -> tuple[Path, Path]:
    """The samples CSV (exactly what `analyze` reads) and the reps CSV beside it.

    Both files are complete before either is renamed into place, so a full
    disk leaves neither half-written. Used for stored sessions and for the
    session just done in the GUI.
    """
    samples_path, reps_path = Path(out), reps_csv_path(out)
    with atomic_file(samples_path, "w", what="export the samples to") as sf:
        sf.write(",".join(HEADER) + "\n")
        for lo in range(0, len(t_s), _CSV_ROWS_PER_WRITE):
            hi = lo + _CSV_ROWS_PER_WRITE
            sf.write(format_rows(t_s[lo:hi], force_n[lo:hi], side[lo:hi]))
        sf.flush()
        os.fsync(sf.fileno())  # a full disk shows here, before the reps file is renamed into place
        with atomic_file(reps_path, "w", what="export the reps to") as rf:
            write_reps_csv(rf, reps, session_uuid=session_uuid, patient=patient)
    return samples_path, reps_path


def rep_csv_columns() -> list[str]:
    return ["session_uuid", "patient", *(f.name for f in dataclasses.fields(Rep))]


def write_reps_csv(stream: Any, reps: Sequence[Rep], *, session_uuid: str, patient: str) -> None:
    """One row per rep with every metric (rounded as ``Rep.to_dict``); text cells neutralised."""
    writer = csv.writer(stream, lineterminator="\n")
    columns = rep_csv_columns()
    writer.writerow(columns)
    for rep in reps:
        row = {"session_uuid": session_uuid, "patient": patient, **rep.to_dict()}
        writer.writerow([_csv_cell(row.get(c)) for c in columns])


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)  # a number: never neutralised, so -3.5 stays -3.5
    return neutralise_csv_text(str(value))


def session_json(store: SessionStore, session_id: int) -> dict[str, Any]:
    """The session with its patient, protocol, device, calibration, reps, per-side metrics and symmetry."""
    record = store.session(session_id)
    patient = store.patient(record.patient_id) if record.patient_id is not None else None
    summary = store.summary(session_id)
    return json_ready(
        {
            "format": JSON_FORMAT,
            "format_version": JSON_FORMAT_VERSION,
            "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "exported_by": f"sensorapp {__version__}",
            "session": {
                "id": record.id,
                "uuid": record.uuid,
                "started_at": record.started_at,
                "ended_at": record.ended_at,
                "complete": record.complete,
                "state": record.state,
                "end_reason": record.end_reason,
                "app_version": record.app_version,
                "samples": record.sample_count,
                "duration_s": record.duration_s,
                "samples_sha256": record.samples_sha256,
                "protocol": record.protocol,
                "device": record.device,
                "calibration": record.calibration,
                "notes": record.notes,
                "prescription": record.prescription,
                "pain_before": record.pain_before,
                "pain_after": record.pain_after,
            },
            "patient": None if patient is None else patient.to_dict(),
            "analysis": store.analysis_info(session_id),
            **summary.to_dict(),
        }
    )


def export_json(store: SessionStore, session_id: int, out: str | os.PathLike[str]) -> Path:
    """The session as one JSON file (strict JSON: no NaN)."""
    data = session_json(store, session_id)
    path = Path(out)
    with atomic_file(path, "w", what="export the session to") as f:
        json.dump(data, f, indent=2, allow_nan=False)
        f.write("\n")
    return path


def export_fhir(store: SessionStore, session_id: int, out: str | os.PathLike[str]) -> Path:
    """The session as a FHIR R4 collection Bundle (Patient, Device, an Observation per side, the LSI)."""
    from sensorapp.interop.fhir import fhir_bundle

    data = fhir_bundle(session_json(store, session_id))
    path = Path(out)
    with atomic_file(path, "w", what="export the FHIR bundle to") as f:
        json.dump(data, f, indent=2, allow_nan=False)
        f.write("\n")
    return path


def export_paths(fmt: str, out: str | os.PathLike[str]) -> list[Path]:
    """The files ``export_session(..., fmt, out)`` writes (csv writes the reps file beside the samples)."""
    return [Path(out), reps_csv_path(out)] if fmt == "csv" else [Path(out)]


def export_session(store: SessionStore, session_id: int, fmt: str, out: str | os.PathLike[str]) -> list[Path]:
    """Export in ``fmt`` ("csv", "json", "bundle" or "fhir"); returns the files written."""
    if fmt == "csv":
        return list(export_csv(store, session_id, out))
    if fmt == "json":
        return [export_json(store, session_id, out)]
    if fmt == "bundle":
        from .bundle import export_bundle

        return [export_bundle(store, session_id, out)]
    if fmt == "fhir":
        return [export_fhir(store, session_id, out)]
    raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
