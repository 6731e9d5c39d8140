"""Export a live session: the samples CSV (exactly what `analyze` reads) and a reps CSV."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from sensorapp.signal import SessionSummary
from sensorapp.storage.samples_csv import write_samples_csv

from .sample_log import SampleLog

REP_FIELDS = ("side", "index", "onset_s", "release_s", "hold_s", "baseline_n", "plateau_n", "peak_n", "mean_n", "impulse_ns", "target_met")


def reps_path_for(samples_path: Path) -> Path:
    return samples_path.with_name(samples_path.stem + "-reps.csv")


def export_session_csv(samples: SampleLog, summary: SessionSummary, path: Path) -> tuple[Path, Path]:
    """Write ``path`` (samples) and ``<stem>-reps.csv`` atomically; return both paths."""
    write_samples_csv(path, samples.t_s, samples.force_n, samples.side)
    reps_path = reps_path_for(path)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(REP_FIELDS)
    for rep in summary.reps:
        d = rep.to_dict()
        w.writerow([_cell(d.get(k)) for k in REP_FIELDS])
    tmp = reps_path.with_name(reps_path.name + ".tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(buf.getvalue())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, reps_path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
    return path, reps_path


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
