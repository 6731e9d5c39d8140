"""Export the session just done (still in memory): the same CSV pair as a stored session."""

from __future__ import annotations

from pathlib import Path

from sensorapp.signal import SessionSummary
from sensorapp.storage.export import write_csv_pair

from .sample_log import SampleLog


def export_session_csv(samples: SampleLog, summary: SessionSummary, path: Path, *, patient: str = "") -> tuple[Path, Path]:
    """Write ``path`` (samples) and the reps CSV beside it atomically; return both paths."""
    return write_csv_pair(path, samples.t_s, samples.force_n, samples.side, list(summary.reps), patient=patient)
