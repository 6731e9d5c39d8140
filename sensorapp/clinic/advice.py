"""Progression advice: when to move on from the isometric to harder hip exercises (issue 9, part 5).

The exercise material says: once glute strength has improved, move on to more advanced hip
exercises and keep the isometric a few times a week to hold the gains. As a rule, every number
from ``thresholds.json`` (docs/clinic.md):

1. symmetry: each of the last N sessions with an LSI has LSI >= 90 % and its interval's lower
   bound >= 85 %;
2. holds: >= 90 % of the reps of those sessions met the hold target;
3. pain: every rating recorded in those sessions is <= 2 (and at least one was recorded);
4. plateau levelled off: over the sessions of the 14 days up to the latest one (at least 6,
   spanning at least 7 days), the involved side's best-3 plateau (both sides when none is
   involved) has a least-squares slope below 5 %/week of its mean and not significantly above 0
   (the slope's 95 % CI reaches 0).

The advice only suggests: the therapist accepts or dismisses it (the store records that) and the
prescription never changes by itself. A decision hides the advice until a session newer than the
decision makes the rule fire again.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from sensorapp.signal.symmetry import t_quantile_975

from .facts import SessionFacts
from .thresholds import Thresholds, shipped_thresholds

RULE_ID = "progression-v1"
SUGGESTIONS: tuple[str, ...] = (
    "side plank, 30 s holds per side",
    "standing hip hikes, 10 reps",
    "banded lateral walks, 3 sets of 10 steps each way",
    "isometric holds reduced to a few times a week, to keep the gains",
)
ADVICE_TEXT = "ready to progress: side plank 30 s/side, hip hikes 10 reps, banded walks 3x10 each way, isometrics a few times a week"
DAYS_PER_WEEK = 7.0


@dataclass(frozen=True)
class Advice:
    """Advice that fired: ``basis`` holds the figures and the sessions it rests on."""

    rule_id: str
    text: str
    suggestions: list[str]
    basis: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "text": self.text, "suggestions": list(self.suggestions), "basis": self.basis}


@dataclass(frozen=True)
class Criterion:
    """One condition of the rule, whether it holds and the figures it was judged on."""

    name: str  # "symmetry" | "holds" | "pain" | "plateau"
    met: bool
    detail: str  # one short line for a screen
    figures: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "met": self.met, "detail": self.detail, "figures": dict(self.figures)}


@dataclass(frozen=True)
class ProgressionCheck:
    """The rule's verdict with every criterion, also when it does not fire."""

    criteria: tuple[Criterion, ...]
    recent_session_ids: tuple[int, ...]
    latest_session_id: int | None
    latest_started_at: datetime | None

    @property
    def fires(self) -> bool:
        return bool(self.criteria) and all(c.met for c in self.criteria)

    def basis(self) -> dict[str, Any]:
        return {
            "rule_id": RULE_ID,
            "latest_session_id": self.latest_session_id,
            "latest_started_at": None if self.latest_started_at is None else self.latest_started_at.isoformat(),
            "session_ids": list(self.recent_session_ids),
            "criteria": {c.name: c.figures for c in self.criteria},
        }


@dataclass(frozen=True)
class PlateauTrend:
    """Least-squares slope of one side's plateau against time, in % of its mean per week."""

    side: str
    sessions: int
    span_days: float
    slope_pct_per_week: float | None
    slope_low95_pct_per_week: float | None  # lower end of the slope's two-sided 95 % CI


def plateau_trend(side: str, points: Sequence[tuple[datetime, float]]) -> PlateauTrend:
    """Fit plateau = a + b t (t in weeks); slope and its CI lower bound in % of the mean plateau."""
    n = len(points)
    if n == 0:
        return PlateauTrend(side, 0, 0.0, None, None)
    t0 = min(t for t, _ in points)
    weeks = np.array([(t - t0).total_seconds() / 86400.0 / DAYS_PER_WEEK for t, _ in points], dtype=float)
    values = np.array([v for _, v in points], dtype=float)
    span_days = float(weeks.max() * DAYS_PER_WEEK)
    mean = float(values.mean())
    if n < 3 or span_days <= 0 or not mean > 0:
        return PlateauTrend(side, n, span_days, None, None)
    slope, intercept = np.polyfit(weeks, values, 1)
    residuals = values - (intercept + slope * weeks)
    sxx = float(((weeks - weeks.mean()) ** 2).sum())
    se = math.sqrt(float((residuals**2).sum()) / (n - 2) / sxx)
    low = float(slope) - t_quantile_975(n - 2) * se
    return PlateauTrend(side, n, span_days, 100.0 * float(slope) / mean, 100.0 * low / mean)


def _symmetry(recent: Sequence[SessionFacts], th: Thresholds) -> Criterion:
    lsis = [s.lsi_pct for s in recent]
    lows = [s.lsi_low_pct for s in recent]
    ok = all(v is not None and v >= th.advice_lsi_min_pct for v in lsis) and all(
        v is not None and v >= th.advice_lsi_low_min_pct for v in lows
    )
    lowest = min((v for v in lsis if v is not None), default=None)
    lowest_bound = min((v for v in lows if v is not None), default=None)
    detail = (
        f"LSI >= {th.advice_lsi_min_pct:g} % (lowest {lowest:.0f} %), lower bound >= "
        f"{th.advice_lsi_low_min_pct:g} % (lowest {'-' if lowest_bound is None else f'{lowest_bound:.0f}'} %)"
        if lowest is not None
        else "no LSI"
    )
    return Criterion(
        "symmetry",
        ok,
        detail,
        {
            "lsi_pct": [None if v is None else round(v, 2) for v in lsis],
            "lsi_low_pct": [None if v is None else round(v, 2) for v in lows],
            "min_lsi_pct": th.advice_lsi_min_pct,
            "min_low_pct": th.advice_lsi_low_min_pct,
        },
    )


def _holds(recent: Sequence[SessionFacts], th: Thresholds) -> Criterion:
    reps = sum(s.reps_total for s in recent)
    met = sum(s.reps_target_met for s in recent)
    fraction = met / reps if reps else None
    ok = fraction is not None and fraction >= th.advice_holds_met_min_fraction
    pct = "-" if fraction is None else f"{100 * fraction:.0f}"
    return Criterion(
        "holds",
        ok,
        f"holds met {met}/{reps} ({pct} %), need {100 * th.advice_holds_met_min_fraction:g} %",
        {"reps": reps, "met": met, "fraction": fraction, "min_fraction": th.advice_holds_met_min_fraction},
    )


def _pain(recent: Sequence[SessionFacts], th: Thresholds) -> Criterion:
    ratings = [r for s in recent for r in s.pain_ratings]
    worst = max(ratings, default=None)
    ok = worst is not None and worst <= th.advice_pain_max
    detail = "no pain rating recorded" if worst is None else f"pain at most {worst}/10, need <= {th.advice_pain_max}"
    return Criterion("pain", ok, detail, {"ratings": ratings, "max": worst, "max_allowed": th.advice_pain_max})


def _plateau(
    sessions: Sequence[SessionFacts], latest: SessionFacts, involved_side: str | None, th: Thresholds
) -> Criterion:
    since = latest.started_at - timedelta(days=th.advice_trend_days)
    window = [s for s in sessions if since <= s.started_at <= latest.started_at]
    sides = [involved_side] if involved_side in ("left", "right") else ["left", "right"]
    trends = []
    for side in sides:
        points = [(s.started_at, v) for s in window if (v := s.plateau_n.get(side)) is not None and v > 0]
        trends.append(plateau_trend(side, points))
    problems = []
    for tr in trends:
        if tr.sessions < th.advice_trend_min_sessions:
            problems.append(f"{tr.side}: {tr.sessions} sessions in {th.advice_trend_days} d, need {th.advice_trend_min_sessions}")
        elif tr.span_days < th.advice_trend_min_span_days:
            problems.append(f"{tr.side}: sessions span {tr.span_days:.1f} d, need {th.advice_trend_min_span_days}")
        elif tr.slope_pct_per_week is None or tr.slope_low95_pct_per_week is None:
            problems.append(f"{tr.side}: no trend")
        elif tr.slope_pct_per_week >= th.advice_plateau_slope_max_pct_per_week:
            problems.append(f"{tr.side}: still rising {tr.slope_pct_per_week:+.1f} %/week")
        elif tr.slope_low95_pct_per_week > 0:
            problems.append(f"{tr.side}: still rising (95 % CI of the slope above 0)")
    detail = "; ".join(problems) or ", ".join(f"{tr.side} {tr.slope_pct_per_week:+.1f} %/week" for tr in trends)
    return Criterion(
        "plateau",
        not problems,
        ("levelled off: " + detail) if not problems else detail,
        {
            "sides": {
                tr.side: {
                    "sessions": tr.sessions,
                    "span_days": round(tr.span_days, 2),
                    "slope_pct_per_week": None if tr.slope_pct_per_week is None else round(tr.slope_pct_per_week, 2),
                    "slope_low95_pct_per_week": None
                    if tr.slope_low95_pct_per_week is None
                    else round(tr.slope_low95_pct_per_week, 2),
                }
                for tr in trends
            },
            "max_slope_pct_per_week": th.advice_plateau_slope_max_pct_per_week,
            "window_days": th.advice_trend_days,
        },
    )


def check_progression(
    sessions: Sequence[SessionFacts], *, involved_side: str | None = None, thresholds: Thresholds | None = None
) -> ProgressionCheck:
    """Judge every criterion of the rule on a patient's sessions (any order)."""
    th = thresholds or shipped_thresholds()
    counted = sorted((s for s in sessions if s.counted), key=lambda s: (s.started_at, s.session_id))
    with_lsi = [s for s in counted if s.lsi_pct is not None]
    recent = with_lsi[-th.advice_recent_sessions :]
    if len(recent) < th.advice_recent_sessions:
        enough = Criterion(
            "sessions",
            False,
            f"{len(recent)} sessions with an LSI, need {th.advice_recent_sessions}",
            {"sessions_with_lsi": len(recent), "needed": th.advice_recent_sessions},
        )
        latest = counted[-1] if counted else None
        return ProgressionCheck(
            (enough,),
            tuple(s.session_id for s in recent),
            None if latest is None else latest.session_id,
            None if latest is None else latest.started_at,
        )
    latest = recent[-1]
    criteria = (
        _symmetry(recent, th),
        _holds(recent, th),
        _pain(recent, th),
        _plateau(counted, latest, involved_side, th),
    )
    return ProgressionCheck(criteria, tuple(s.session_id for s in recent), latest.session_id, latest.started_at)


def progression_advice(
    sessions: Sequence[SessionFacts], *, involved_side: str | None = None, thresholds: Thresholds | None = None
) -> Advice | None:
    """The advice when the rule fires, else None."""
    return advice_of(check_progression(sessions, involved_side=involved_side, thresholds=thresholds))


def advice_of(check: ProgressionCheck) -> Advice | None:
    """The advice a check gives: None unless every criterion is met."""
    if not check.fires:
        return None
    return Advice(rule_id=RULE_ID, text=ADVICE_TEXT, suggestions=list(SUGGESTIONS), basis=check.basis())


@dataclass(frozen=True)
class PastDecision:
    """What the rules need of a recorded accept/dismiss."""

    rule_id: str
    decided_at: datetime
    basis: dict[str, Any] = field(default_factory=dict)


def is_pending(advice: Advice, decisions: Sequence[PastDecision]) -> bool:
    """True unless a decision on this rule was made at or after the newest session the advice rests on.

    The same latest session id in a decision's basis also counts as decided (a clock set back
    must not bring a decided advice back).
    """
    latest_id = advice.basis.get("latest_session_id")
    latest_text = advice.basis.get("latest_started_at")
    latest_at = datetime.fromisoformat(latest_text) if isinstance(latest_text, str) else None
    for d in decisions:
        if d.rule_id != advice.rule_id:
            continue
        if latest_id is not None and d.basis.get("latest_session_id") == latest_id:
            return False
        if latest_at is not None and d.decided_at >= latest_at:
            return False
    return True
