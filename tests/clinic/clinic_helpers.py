"""Per-session facts for the clinic rule tests: one session per call, explicit figures."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from sensorapp.clinic.facts import SessionFacts
from sensorapp.clinic.thresholds import Thresholds, shipped_thresholds

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday, 09:00 UTC


def session(
    session_id: int,
    *,
    at: datetime | None = None,
    day: int = 0,
    hour: float = 0.0,
    lsi: float | None = 95.0,
    low: float | None = None,
    high: float | None = None,
    reps: int = 7,
    met: int | None = None,
    plateau: tuple[float | None, float | None] = (100.0, 100.0),
    pain_before: int | None = None,
    pain_after: int | None = None,
    ended: bool = True,
    weaker: str | None = "left",
) -> SessionFacts:
    """A two-sided session ``day`` days (+ ``hour`` h) after T0; the LSI interval defaults to +-4 %."""
    started = at if at is not None else T0 + timedelta(days=day, hours=hour)
    return SessionFacts(
        session_id=session_id,
        started_at=started,
        ended=ended,
        reps={"left": reps, "right": reps},
        reps_target_met=2 * reps if met is None else met,
        plateau_n={"left": plateau[0], "right": plateau[1]},
        lsi_pct=lsi,
        lsi_low_pct=(None if lsi is None else lsi - 4.0) if low is None else low,
        lsi_high_pct=(None if lsi is None else lsi + 4.0) if high is None else high,
        weaker_side=weaker,
        pain_before=pain_before,
        pain_after=pain_after,
    )


def with_thresholds(**changes: float) -> Thresholds:
    return dataclasses.replace(shipped_thresholds(), **changes)
