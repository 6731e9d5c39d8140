"""SessionRecord's whole-session counts, which the clinic facts and the report table both read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sensorapp.clinic.facts import facts_from_record
from sensorapp.reporting.model import session_row
from sensorapp.storage.records import SessionRecord


def record_with_sides(sides: dict[str, dict[str, Any]]) -> SessionRecord:
    return SessionRecord(
        id=1, uuid="u-1", patient_id=None, patient_name=None,
        started_at=datetime(2025, 1, 6, 8, 0, tzinfo=UTC), ended_at=datetime(2025, 1, 6, 8, 5, tzinfo=UTC),
        complete=True, end_reason="finished", protocol={}, device={}, calibration={}, app_version="test",
        sample_count=0, duration_s=300.0, samples_sha256=None, summary={"sides": sides},
    )


def test_holds_met_count_every_side_including_unknown_and_missing_counts() -> None:
    record = record_with_sides({
        "left": {"reps": 7, "reps_target_met": 5},
        "right": {"reps": 7, "reps_target_met": 6},
        "unknown": {"reps": 2, "reps_target_met": 1},
        "extra": {"reps": 1},  # an older summary without the count
    })
    assert record.reps_target_met == 12
    assert record.rep_count == 17
    # Both readers take the one count.
    assert facts_from_record(record).reps_target_met == 12
    assert session_row(record, body_mass_kg=None, lever_arm_m=None).holds_met == 12


def test_no_summary_means_no_holds_met() -> None:
    record = record_with_sides({})
    assert record.reps_target_met == 0
    assert session_row(record, body_mass_kg=70.0, lever_arm_m=0.8).holds_met == 0
