"""Flags on a patient's record: what the therapist should look at (issue 9, part 4).

Four rules, every number from ``thresholds.json`` (docs/clinic.md explains each):

- ``asymmetry``: the latest session with an LSI has it below the band and its whole uncertainty
  interval below the band too, so an LSI that could still be in the band is not flagged.
- ``adherence``: fewer sessions than prescribed over the last 7 days (the days before today,
  from the prescription's start date or the first session if later).
- ``inactivity``: no session for 3 days or more.
- ``pain``: the latest rated session's highest rating is 2 or more points above the patient's
  baseline: the median pre-session rating of the first 3 rated sessions before it.

Each flag carries the figures it was decided on, so a screen or a report can say why.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta, tzinfo
from typing import Any

from .facts import SessionFacts
from .thresholds import Thresholds, shipped_thresholds

SEVERITIES: tuple[str, ...] = ("alert", "warning")  # most urgent first


@dataclass(frozen=True)
class Flag:
    """One flag: a stable ``code``, a short ``text`` for a list cell, and the figures behind it."""

    code: str  # "asymmetry" | "adherence" | "inactivity" | "pain"
    text: str
    severity: str  # "alert" | "warning"
    figures: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "text": self.text, "severity": self.severity, "figures": dict(self.figures)}


def _by_start(sessions: Sequence[SessionFacts]) -> list[SessionFacts]:
    return sorted(sessions, key=lambda s: (s.started_at, s.session_id))


def asymmetry_flag(sessions: Sequence[SessionFacts], thresholds: Thresholds | None = None) -> Flag | None:
    """Flag the latest session's LSI when it and its whole interval are below the band."""
    th = thresholds or shipped_thresholds()
    with_lsi = [s for s in _by_start(sessions) if s.ended and s.lsi_pct is not None]
    if not with_lsi:
        return None
    latest = with_lsi[-1]
    lsi, low, high = latest.lsi_pct, latest.lsi_low_pct, latest.lsi_high_pct
    band = th.asymmetry_lsi_band_low_pct
    # Without an interval nothing says the LSI is surely below the band, so it is not flagged.
    if lsi is None or high is None or low is None or not (lsi < band and high < band):
        return None
    severity = "alert" if lsi < th.asymmetry_lsi_alert_pct else "warning"
    weaker = f"{latest.weaker_side} weaker, " if latest.weaker_side else ""
    return Flag(
        code="asymmetry",
        text=f"asymmetry: {weaker}LSI {lsi:.0f} % ({low:.0f}-{high:.0f}) < {band:g} %",
        severity=severity,
        figures={
            "session_id": latest.session_id,
            "lsi_pct": round(lsi, 2),
            "lsi_low_pct": round(low, 2),
            "lsi_high_pct": round(high, 2),
            "band_low_pct": band,
            "alert_below_pct": th.asymmetry_lsi_alert_pct,
            "weaker_side": latest.weaker_side,
        },
    )


def adherence_flag(
    sessions: Sequence[SessionFacts],
    *,
    today: date,
    sessions_per_day: int | None,
    start_date: date | None = None,
    tz: tzinfo | None = None,
    thresholds: Thresholds | None = None,
) -> Flag | None:
    """Flag fewer counted sessions than prescribed over the judged days of the last week.

    The judged days are the ``adherence_window_days`` days before today (today is not over),
    none before the prescription's ``start_date`` or, without one, before the first session.
    """
    th = thresholds or shipped_thresholds()
    per_day = sessions_per_day or th.adherence_default_sessions_per_day
    last_day = today - timedelta(days=1)
    first_day = today - timedelta(days=th.adherence_window_days)
    days_of = [s.day(tz) for s in sessions]
    begin = start_date if start_date is not None else min(days_of, default=None)
    if begin is None:
        return None  # nothing prescribed and nothing done yet: no week to judge
    first_day = max(first_day, begin)
    days = (last_day - first_day).days + 1
    if days <= 0:
        return None
    done = sum(1 for s, d in zip(sessions, days_of, strict=True) if s.counted and first_day <= d <= last_day)
    expected = per_day * days
    if done >= th.adherence_min_fraction * expected:
        return None
    return Flag(
        code="adherence",
        text=f"adherence: {done} of {expected} sessions in {days} d",
        severity="warning",
        figures={
            "sessions": done,
            "expected": expected,
            "days": days,
            "sessions_per_day": per_day,
            "prescribed": sessions_per_day is not None,
            "first_day": first_day.isoformat(),
            "last_day": last_day.isoformat(),
            "min_fraction": th.adherence_min_fraction,
        },
    )


def inactivity_flag(
    sessions: Sequence[SessionFacts],
    *,
    today: date,
    start_date: date | None = None,
    tz: tzinfo | None = None,
    thresholds: Thresholds | None = None,
) -> Flag | None:
    """Flag when the last counted session's day is ``inactivity_days`` or more before today.

    With no session at all, the prescription's start date stands in for it (a patient who
    never started is flagged too); with neither there is nothing to judge.
    """
    th = thresholds or shipped_thresholds()
    counted_days = [s.day(tz) for s in sessions if s.counted]
    last = max(counted_days, default=None)
    since = last if last is not None else start_date
    if since is None:
        return None
    idle = (today - since).days
    if idle < th.inactivity_days:
        return None
    text = f"no session for {idle} d" if last is not None else f"no session since the start, {idle} d ago"
    return Flag(
        code="inactivity",
        text=text,
        severity="warning",
        figures={
            "days_without": idle,
            "last_session_day": None if last is None else last.isoformat(),
            "start_date": None if start_date is None else start_date.isoformat(),
            "threshold_days": th.inactivity_days,
        },
    )


def pain_baseline(sessions: Sequence[SessionFacts], thresholds: Thresholds | None = None) -> float | None:
    """Median pre-session rating of the first ``pain_baseline_sessions`` sessions rated before."""
    th = thresholds or shipped_thresholds()
    before = [s.pain_before for s in _by_start(sessions) if s.pain_before is not None]
    first = before[: th.pain_baseline_sessions]
    return float(statistics.median(first)) if first else None


def pain_flag(sessions: Sequence[SessionFacts], thresholds: Thresholds | None = None) -> Flag | None:
    """Flag the latest rated session when its highest rating is up by the threshold on the baseline.

    The baseline is taken from the sessions before the latest rated one, so a session never
    judges itself; it needs at least one earlier pre-session rating.
    """
    th = thresholds or shipped_thresholds()
    rated = [s for s in _by_start(sessions) if s.pain_ratings]
    if len(rated) < 2:
        return None
    latest = rated[-1]
    baseline = pain_baseline(rated[:-1], th)
    if baseline is None:
        return None
    current = max(latest.pain_ratings)
    rise = current - baseline
    if rise < th.pain_rise_points:
        return None
    return Flag(
        code="pain",
        text=f"pain {current}/10, baseline {baseline:g} (+{rise:g})",
        severity="alert",
        figures={
            "session_id": latest.session_id,
            "pain": current,
            "pain_before": latest.pain_before,
            "pain_after": latest.pain_after,
            "baseline": baseline,
            "rise": rise,
            "threshold_points": th.pain_rise_points,
        },
    )


def evaluate_flags(
    sessions: Sequence[SessionFacts],
    *,
    today: date,
    sessions_per_day: int | None = None,
    start_date: date | None = None,
    tz: tzinfo | None = None,
    thresholds: Thresholds | None = None,
) -> list[Flag]:
    """Every flag that fires, alerts first, then in rule order (asymmetry, pain, adherence, inactivity)."""
    th = thresholds or shipped_thresholds()
    found = [
        asymmetry_flag(sessions, th),
        pain_flag(sessions, th),
        adherence_flag(
            sessions, today=today, sessions_per_day=sessions_per_day, start_date=start_date, tz=tz, thresholds=th
        ),
        inactivity_flag(sessions, today=today, start_date=start_date, tz=tz, thresholds=th),
    ]
    flags = [f for f in found if f is not None]
    return sorted(flags, key=lambda f: SEVERITIES.index(f.severity))
