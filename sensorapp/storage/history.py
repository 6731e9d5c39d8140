"""What the therapist reviews over weeks: trend per side, LSI over time, adherence.

Plain data for the History view to plot (times as POSIX seconds, numpy
arrays with NaN where a session has no value) and for ``sensorapp sessions``.
Everything comes from the summaries stored with each session, so a history
of hundreds of sessions loads without touching the raw samples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

import numpy as np

from sensorapp.signal.symmetry import UNCERTAIN_ASYMMETRY_PCT

from .records import SIDES, SessionRecord
from .store import SessionStore

PRESCRIBED_SESSIONS_PER_DAY: tuple[int, int] = (2, 3)


# ---------------------------------------------------------------------- trend


@dataclass(frozen=True)
class TrendPoint:
    """One session in the trend. Values are None where the session has none (e.g. one side only)."""

    session_id: int
    started_at: datetime
    complete: bool
    reps: dict[str, int]
    plateau_n: dict[str, float | None]  # best-3 mean plateau per side
    mean_hold_s: dict[str, float | None]
    lsi_pct: float | None
    lsi_low_pct: float | None  # the uncertainty band around lsi_pct
    lsi_high_pct: float | None
    band_basis: str | None  # "ci95": the session's rep-level 95 % CI; "measurement error": +- the single-session error
    lsi_uncertain: bool | None
    lsi_band: str | None  # "green" | "amber" | "red"
    weaker_side: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "started_at": self.started_at.isoformat(),
            "complete": self.complete,
            "reps": self.reps,
            "plateau_n": self.plateau_n,
            "mean_hold_s": self.mean_hold_s,
            "lsi_pct": self.lsi_pct,
            "lsi_low_pct": self.lsi_low_pct,
            "lsi_high_pct": self.lsi_high_pct,
            "band_basis": self.band_basis,
            "lsi_uncertain": self.lsi_uncertain,
            "lsi_band": self.lsi_band,
            "weaker_side": self.weaker_side,
        }


@dataclass(frozen=True, eq=False)
class SideSeries:
    """One side over time, ready to plot."""

    side: str
    session_ids: np.ndarray  # int64
    t_posix_s: np.ndarray  # session start, seconds since the epoch (pyqtgraph's DateAxisItem takes these)
    plateau_n: np.ndarray  # NaN where the session has no rep on this side
    mean_hold_s: np.ndarray


@dataclass(frozen=True, eq=False)
class LsiSeries:
    """LSI over time with its uncertainty band; sessions without both sides are left out."""

    session_ids: np.ndarray
    t_posix_s: np.ndarray
    lsi_pct: np.ndarray
    low_pct: np.ndarray
    high_pct: np.ndarray
    uncertain: np.ndarray  # bool


@dataclass(frozen=True)
class PatientTrend:
    patient_id: int | None
    points: tuple[TrendPoint, ...]

    def side(self, side: str) -> SideSeries:
        pts = self.points
        return SideSeries(
            side=side,
            session_ids=np.array([p.session_id for p in pts], dtype=np.int64),
            t_posix_s=np.array([p.started_at.timestamp() for p in pts], dtype=np.float64),
            plateau_n=_floats(p.plateau_n.get(side) for p in pts),
            mean_hold_s=_floats(p.mean_hold_s.get(side) for p in pts),
        )

    @property
    def lsi(self) -> LsiSeries:
        pts = [p for p in self.points if p.lsi_pct is not None]
        return LsiSeries(
            session_ids=np.array([p.session_id for p in pts], dtype=np.int64),
            t_posix_s=np.array([p.started_at.timestamp() for p in pts], dtype=np.float64),
            lsi_pct=_floats(p.lsi_pct for p in pts),
            low_pct=_floats(p.lsi_low_pct for p in pts),
            high_pct=_floats(p.lsi_high_pct for p in pts),
            uncertain=np.array([bool(p.lsi_uncertain) for p in pts], dtype=bool),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"patient_id": self.patient_id, "points": [p.to_dict() for p in self.points]}


def _floats(values: Any) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)


def trend_point(record: SessionRecord) -> TrendPoint:
    """A session's trend values from its stored summary."""
    sides = record.side_summaries()
    sym = record.symmetry
    lsi = low = high = None
    basis = None
    if sym and sym.get("lsi_pct") is not None:
        lsi = float(sym["lsi_pct"])
        ci = sym.get("lsi_ci95_pct")
        if ci and all(v is not None and math.isfinite(v) for v in ci):
            low, high, basis = float(ci[0]), float(ci[1]), "ci95"
        else:
            low, high, basis = lsi - UNCERTAIN_ASYMMETRY_PCT, lsi + UNCERTAIN_ASYMMETRY_PCT, "measurement error"
    return TrendPoint(
        session_id=record.id,
        started_at=record.started_at,
        complete=record.complete,
        reps={s: int((sides.get(s) or {}).get("reps") or 0) for s in SIDES},
        plateau_n={s: (sides.get(s) or {}).get("plateau_n") for s in SIDES},
        mean_hold_s={s: (sides.get(s) or {}).get("mean_hold_s") for s in SIDES},
        lsi_pct=lsi,
        lsi_low_pct=low,
        lsi_high_pct=high,
        band_basis=basis,
        lsi_uncertain=None if sym is None else bool(sym.get("uncertain")),
        lsi_band=None if sym is None else sym.get("band"),
        weaker_side=None if sym is None else sym.get("weaker_side"),
    )


def patient_trend(store: SessionStore, patient_id: int | None, *, include_incomplete: bool = True) -> PatientTrend:
    """Per-session plateau and hold per side, and LSI with its band, in start order.

    Sessions still being recorded are left out; interrupted ones are kept
    (their reps were re-derived) unless ``include_incomplete`` is False.
    ``patient_id=None`` takes every session in the store.
    """
    points = [
        trend_point(r)
        for r in store.sessions(patient_id)
        if r.ended_at is not None and r.summary is not None and (include_incomplete or r.complete)
    ]
    return PatientTrend(patient_id, tuple(points))


# ---------------------------------------------------------------------- adherence


@dataclass(frozen=True)
class AdherenceDay:
    day: date  # a local calendar day
    sessions: int  # sessions that count: ended, with at least one rep
    started: int  # every session started that day, including empty or still recording ones
    complete: int  # of ``sessions``, those that ended normally
    status: str  # "below", "met", "above"; "today" (not over, still below) or "future" are not judged

    def to_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "sessions": self.sessions,
            "started": self.started,
            "complete": self.complete,
            "status": self.status,
        }


@dataclass(frozen=True)
class Adherence:
    """Sessions per day against the prescription (2-3 a day)."""

    patient_id: int | None
    prescribed_min: int
    prescribed_max: int
    days: tuple[AdherenceDay, ...]

    @property
    def judged_days(self) -> tuple[AdherenceDay, ...]:
        """Days that are over (today is judged only once it meets the prescription)."""
        return tuple(d for d in self.days if d.status not in ("today", "future"))

    @property
    def days_met(self) -> int:
        return sum(d.status == "met" for d in self.days)

    @property
    def days_below(self) -> int:
        return sum(d.status == "below" for d in self.days)

    @property
    def days_above(self) -> int:
        return sum(d.status == "above" for d in self.days)

    @property
    def sessions(self) -> int:
        return sum(d.sessions for d in self.days)

    @property
    def fraction_days_met(self) -> float | None:
        judged = self.judged_days
        return None if not judged else sum(d.status in ("met", "above") for d in judged) / len(judged)

    @property
    def mean_sessions_per_day(self) -> float | None:
        judged = self.judged_days
        return None if not judged else sum(d.sessions for d in judged) / len(judged)

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient_id": self.patient_id,
            "prescribed_per_day": [self.prescribed_min, self.prescribed_max],
            "days": [d.to_dict() for d in self.days],
            "days_met": self.days_met,
            "days_below": self.days_below,
            "days_above": self.days_above,
            "sessions": self.sessions,
            "fraction_days_met": self.fraction_days_met,
            "mean_sessions_per_day": self.mean_sessions_per_day,
        }


def local_day(moment: datetime, tz: tzinfo | None = None) -> date:
    """The calendar day of ``moment`` where the patient is (``tz``; None: this computer's zone)."""
    return (moment.astimezone(tz) if tz is not None else moment.astimezone()).date()


def prescribed_per_day(store: SessionStore, patient_id: int | None) -> tuple[int, int]:
    """The (min, max) sessions a day the patient's adherence is judged against: their current
    prescription's sessions a day, else the app's default (PRESCRIBED_SESSIONS_PER_DAY)."""
    current = store.prescription(patient_id) if patient_id is not None else None
    return PRESCRIBED_SESSIONS_PER_DAY if current is None else (current.sessions_per_day, current.sessions_per_day)


def adherence(
    store: SessionStore,
    patient_id: int | None,
    *,
    first_day: date | None = None,
    last_day: date | None = None,
    today: date | None = None,
    prescribed_per_day: tuple[int, int] = PRESCRIBED_SESSIONS_PER_DAY,
    tz: tzinfo | None = None,
    records: Sequence[SessionRecord] | None = None,
) -> Adherence:
    """Sessions per local day from ``first_day`` (default: the first session's day) to ``last_day`` (default: today).

    ``records``: the patient's sessions (``store.sessions(patient_id)``) when the caller has read them already.

    A session counts when it has ended and at least one rep was found in it
    (an interrupted session with reps counts; an empty one does not). Every
    day in the range is listed, including days without a session. "above"
    (more than prescribed) counts as met in ``fraction_days_met``; today is
    "today" until it meets the prescription, since it is not over.
    """
    lo, hi = prescribed_per_day
    if not 0 < lo <= hi:
        raise ValueError(f"prescribed_per_day must be (min, max) with 0 < min <= max, got {prescribed_per_day!r}")
    today = today or local_day(datetime.now().astimezone(), tz)
    if records is None:
        records = store.sessions(patient_id)
    by_day: dict[date, list[SessionRecord]] = {}
    for r in records:
        by_day.setdefault(local_day(r.started_at, tz), []).append(r)
    if first_day is None:
        if not by_day:
            return Adherence(patient_id, lo, hi, ())
        first_day = min(by_day)
    last_day = last_day or max(today, max(by_day, default=today))
    days: list[AdherenceDay] = []
    day = first_day
    while day <= last_day:
        started = by_day.get(day, [])
        counted = [r for r in started if r.ended_at is not None and r.rep_count > 0]
        n = len(counted)
        if n > hi:
            status = "above"
        elif n >= lo:
            status = "met"
        elif day == today:
            status = "today"
        elif day > today:
            status = "future"
        else:
            status = "below"
        days.append(AdherenceDay(day, n, len(started), sum(r.complete for r in counted), status))
        day += timedelta(days=1)
    return Adherence(patient_id, lo, hi, tuple(days))
