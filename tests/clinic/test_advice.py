"""The progression rule: each criterion at and around its threshold, the trend fit, and pending advice."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from clinic_helpers import T0, session, with_thresholds

from sensorapp.clinic.advice import (
    RULE_ID,
    SUGGESTIONS,
    PastDecision,
    check_progression,
    is_pending,
    plateau_trend,
    progression_advice,
)
from sensorapp.clinic.facts import SessionFacts


def ready(
    *,
    days: int = 10,
    per_day: int = 1,
    slope_n_per_day: float = 0.0,
    lsi: float = 95.0,
    low: float | None = None,
    met_last: int | None = None,
    pain: int | None = 1,
    involved_plateau: float = 100.0,
    reps: int = 7,
    wobble_n: float = 1.5,
) -> list[SessionFacts]:
    """A patient who meets every criterion by default: flat plateau, LSI 95 (91-99), all holds, pain 1."""
    out = []
    sid = 0
    for d in range(days):
        for k in range(per_day):
            sid += 1
            # A +--+ wobble keeps the fit's residuals non-zero, as real plateaus are, without tilting the slope.
            level = involved_plateau + slope_n_per_day * d + (wobble_n if sid % 4 in (0, 1) else -wobble_n)
            out.append(
                session(
                    sid, day=d, hour=3.0 * k, lsi=lsi, low=low, plateau=(level, level * 100 / lsi), reps=reps,
                    pain_before=pain, pain_after=pain,
                )
            )
    if met_last is not None:
        out[-1] = SessionFacts(**{**out[-1].__dict__, "reps_target_met": met_last})
    return out


def test_a_ready_patient_gets_the_advice_with_every_suggestion_and_its_basis() -> None:
    sessions = ready()
    advice = progression_advice(sessions, involved_side="left")
    assert advice is not None
    assert advice.rule_id == RULE_ID
    assert advice.suggestions == list(SUGGESTIONS)
    joined = " ".join(advice.suggestions)
    for needle in ("side plank, 30 s", "hip hikes, 10 reps", "3 sets of 10 steps each way", "a few times a week"):
        assert needle in joined
    assert advice.basis["latest_session_id"] == 10 and advice.basis["session_ids"] == [8, 9, 10]
    assert advice.basis["criteria"]["holds"]["fraction"] == 1.0
    assert advice.basis["criteria"]["plateau"]["sides"]["left"]["sessions"] == 10


@pytest.mark.parametrize(("lsi", "fires"), [(89.9, False), (90.0, True), (93.0, True)])
def test_symmetry_lsi_at_and_around_ninety(lsi: float, fires: bool) -> None:
    assert (progression_advice(ready(lsi=lsi, low=88.0), involved_side="left") is not None) is fires


@pytest.mark.parametrize(("low", "fires"), [(84.9, False), (85.0, True), (88.0, True)])
def test_symmetry_lower_bound_at_and_around_eighty_five(low: float, fires: bool) -> None:
    assert (progression_advice(ready(low=low), involved_side="left") is not None) is fires


def test_symmetry_thresholds_are_followed() -> None:
    sessions = ready(lsi=91.0, low=87.0)
    assert progression_advice(sessions) is not None
    assert progression_advice(sessions, thresholds=with_thresholds(advice_lsi_min_pct=92.0)) is None
    assert progression_advice(sessions, thresholds=with_thresholds(advice_lsi_low_min_pct=88.0)) is None


def test_symmetry_needs_every_one_of_the_last_n_sessions() -> None:
    sessions = ready()
    s = sessions[-2]
    sessions[-2] = SessionFacts(**{**s.__dict__, "lsi_pct": 88.0})
    check = check_progression(sessions)
    assert not check.fires and [c.name for c in check.criteria if not c.met] == ["symmetry"]
    # An older session out of the last 3 does not matter.
    sessions = ready()
    s = sessions[-4]
    sessions[-4] = SessionFacts(**{**s.__dict__, "lsi_pct": 70.0})
    assert check_progression(sessions).fires


@pytest.mark.parametrize(("met_last", "fires"), [(6, False), (7, True), (8, True)])
def test_holds_met_at_and_around_ninety_percent(met_last: int, fires: bool) -> None:
    # 5 reps a side: the last 3 sessions have 30 reps, 10 + 10 + met_last met; 27 of 30 is exactly 90 %.
    check = check_progression(ready(reps=5, met_last=met_last))
    holds = next(c for c in check.criteria if c.name == "holds")
    assert holds.figures["reps"] == 30 and holds.figures["met"] == 20 + met_last
    assert holds.met is fires
    assert check.fires is fires


def test_holds_threshold_is_followed() -> None:
    sessions = ready(met_last=11)  # 14 + 14 + 11 = 39 of 42 = 92.9 %
    assert progression_advice(sessions) is not None
    assert progression_advice(sessions, thresholds=with_thresholds(advice_holds_met_min_fraction=0.95)) is None


@pytest.mark.parametrize(("pain", "fires"), [(0, True), (2, True), (3, False)])
def test_pain_at_and_around_two(pain: int, fires: bool) -> None:
    assert (progression_advice(ready(pain=pain)) is not None) is fires


def test_pain_needs_a_rating_and_follows_its_threshold() -> None:
    check = check_progression(ready(pain=None))
    assert not check.fires and next(c for c in check.criteria if c.name == "pain").detail == "no pain rating recorded"
    assert progression_advice(ready(pain=3), thresholds=with_thresholds(advice_pain_max=3)) is not None
    # One high rating after an otherwise calm last session blocks it.
    sessions = ready()
    s = sessions[-1]
    sessions[-1] = SessionFacts(**{**s.__dict__, "pain_after": 4})
    assert progression_advice(sessions) is None


def test_plateau_trend_fit_recovers_a_known_slope() -> None:
    start = T0
    points = [(start + timedelta(days=d), 100.0 + 2.0 * d) for d in range(15)]  # 14 N/week on a mean of 114 N
    trend = plateau_trend("left", points)
    assert trend.sessions == 15 and trend.span_days == 14.0
    assert trend.slope_pct_per_week == pytest.approx(100 * 14.0 / 114.0)
    assert trend.slope_low95_pct_per_week == pytest.approx(trend.slope_pct_per_week)  # exact line: no spread
    rng = np.random.default_rng(3)
    noisy = [(t, v + float(rng.normal(0, 3))) for t, v in points]
    trend = plateau_trend("left", noisy)
    assert trend.slope_low95_pct_per_week is not None and trend.slope_pct_per_week is not None
    assert trend.slope_low95_pct_per_week < trend.slope_pct_per_week
    assert plateau_trend("left", points[:2]).slope_pct_per_week is None  # too few for a CI


@pytest.mark.parametrize(
    ("slope_n_per_day", "fires"),
    [(0.0, True), (-1.0, True), (0.5, True), (0.8, False), (2.0, False)],
)
def test_plateau_slope_at_and_around_five_percent_a_week(slope_n_per_day: float, fires: bool) -> None:
    # Mean plateau ~100 N: 5 %/week = 5 N/week = 0.71 N/day. Session-to-session spread of +-8 N
    # (about the measurement error) keeps these slopes from being significant, so the limit decides.
    check = check_progression(ready(slope_n_per_day=slope_n_per_day, days=14, wobble_n=8.0), involved_side="left")
    plateau = next(c for c in check.criteria if c.name == "plateau")
    slope = plateau.figures["sides"]["left"]["slope_pct_per_week"]
    assert (slope < 5.0) is (slope_n_per_day < 0.71)
    assert plateau.met is fires
    assert check.fires is fires


def test_plateau_significantly_rising_blocks_it_even_below_the_slope_limit() -> None:
    sessions = ready(slope_n_per_day=0.5, days=14)  # ~3.4 %/week, below 5, but clearly rising
    tight = [SessionFacts(**{**s.__dict__, "plateau_n": {"left": 100.0 + 0.5 * i, "right": 105.0}}) for i, s in enumerate(sessions)]
    check = check_progression(tight, involved_side="left")
    plateau = next(c for c in check.criteria if c.name == "plateau")
    assert not plateau.met and "95 % CI" in plateau.detail
    assert plateau.figures["sides"]["left"]["slope_low95_pct_per_week"] > 0
    # With the usual spread it is not significant; lowering the slope limit then blocks it.
    sessions = ready(slope_n_per_day=0.5, days=14, wobble_n=8.0)
    assert progression_advice(sessions, involved_side="left") is not None
    assert progression_advice(sessions, involved_side="left", thresholds=with_thresholds(advice_plateau_slope_max_pct_per_week=2.0)) is None


def test_plateau_trend_looks_at_the_involved_side_or_both() -> None:
    sessions = ready(days=14)
    # The right side still rises steeply, the left is flat.
    rising_right = [
        SessionFacts(**{**s.__dict__, "plateau_n": {"left": s.plateau_n["left"], "right": 100.0 + 3.0 * i}}) for i, s in enumerate(sessions)
    ]
    assert progression_advice(rising_right, involved_side="left") is not None
    assert progression_advice(rising_right, involved_side="right") is None
    assert progression_advice(rising_right, involved_side=None) is None


def test_plateau_needs_enough_sessions_over_enough_days() -> None:
    # 3 a day for 2 days: 6 sessions but spanning ~1.25 days.
    check = check_progression(ready(days=2, per_day=3), involved_side="left")
    plateau = next(c for c in check.criteria if c.name == "plateau")
    assert not plateau.met and "span" in plateau.detail
    assert progression_advice(ready(days=2, per_day=3), thresholds=with_thresholds(advice_trend_min_span_days=1)) is not None
    # 5 sessions over 9 days: too few.
    five = [s for s in ready(days=10) if s.session_id % 2 == 0]
    check = check_progression(five, involved_side="left")
    assert "5 sessions in 14 d, need 6" in next(c for c in check.criteria if c.name == "plateau").detail
    assert progression_advice(five, thresholds=with_thresholds(advice_trend_min_sessions=5)) is not None
    # Sessions older than 14 days before the latest are outside the window.
    spread = ready(days=10)
    late = [SessionFacts(**{**s.__dict__, "started_at": s.started_at + timedelta(days=30)}) for s in spread[-3:]]
    assert "3 sessions in 14 d" in next(c for c in check_progression([*spread[:-3], *late]).criteria if c.name == "plateau").detail


def test_too_few_sessions_with_an_lsi() -> None:
    check = check_progression(ready(days=2))
    assert not check.fires and check.criteria[0].name == "sessions"
    one_sided = [SessionFacts(**{**s.__dict__, "lsi_pct": None}) for s in ready()]
    assert check_progression(one_sided).criteria[0].detail == "0 sessions with an LSI, need 3"
    assert check_progression([]).latest_session_id is None


def test_a_decision_hides_the_advice_until_a_newer_session_makes_it_fire_again() -> None:
    sessions = ready()
    advice = progression_advice(sessions)
    assert advice is not None and is_pending(advice, [])
    latest = sessions[-1].started_at
    dismissed = PastDecision(RULE_ID, latest + timedelta(hours=1), advice.basis)
    assert not is_pending(advice, [dismissed])
    # A decision on another rule or one made before the latest session does not hide it.
    assert is_pending(advice, [PastDecision("other-rule", latest + timedelta(hours=1))])
    assert is_pending(advice, [PastDecision(RULE_ID, latest - timedelta(hours=1))])
    # A decision on the same data hides it even if the clock was behind.
    assert not is_pending(advice, [PastDecision(RULE_ID, latest - timedelta(days=5), {"latest_session_id": 10})])
    # A new session after the decision: the rule fires on newer data and the advice is pending again.
    newer = session(11, day=10, hour=5, lsi=95.0, plateau=(100.0, 100 * 100 / 95.0), pain_before=1, pain_after=1)
    again = progression_advice([*sessions, newer])
    assert again is not None and again.basis["latest_session_id"] == 11
    assert is_pending(again, [dismissed])
