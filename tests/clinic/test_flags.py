"""The four flag rules, each at and around its threshold, and each following its threshold's value."""

from __future__ import annotations

from datetime import UTC, date, timedelta

import pytest
from clinic_helpers import T0, session, with_thresholds

from sensorapp.clinic.flags import (
    adherence_flag,
    asymmetry_flag,
    evaluate_flags,
    inactivity_flag,
    pain_baseline,
    pain_flag,
)

MONDAY = T0.date()

# ------------------------------------------------------------------ asymmetry


@pytest.mark.parametrize(
    ("lsi", "low", "high", "flagged"),
    [
        (84.0, 80.0, 88.0, True),  # LSI and whole interval below 90
        (89.9, 86.0, 89.9, True),  # interval top just below the band
        (88.0, 84.0, 90.0, False),  # interval top at the band: could be in it
        (88.0, 84.0, 92.0, False),  # interval reaches into the band
        (90.0, 87.0, 89.0, False),  # LSI itself at the band (not below)
        (95.0, 91.0, 99.0, False),
    ],
)
def test_asymmetry_at_and_around_the_band(lsi: float, low: float, high: float, flagged: bool) -> None:
    flag = asymmetry_flag([session(1, lsi=lsi, low=low, high=high)])
    assert (flag is not None) is flagged
    if flag is not None:
        assert flag.code == "asymmetry"
        assert flag.figures["lsi_pct"] == lsi and flag.figures["lsi_high_pct"] == high
        assert f"LSI {lsi:.0f} %" in flag.text and "left weaker" in flag.text


def test_asymmetry_severity_is_alert_in_the_red_band() -> None:
    assert asymmetry_flag([session(1, lsi=84.9, low=80, high=89)]).severity == "alert"  # type: ignore[union-attr]
    assert asymmetry_flag([session(1, lsi=85.0, low=81, high=89)]).severity == "warning"  # type: ignore[union-attr]


def test_asymmetry_follows_the_threshold_value() -> None:
    s = [session(1, lsi=84.0, low=80.0, high=88.0)]
    assert asymmetry_flag(s) is not None
    # A band of 85 %: the interval (80-88) reaches into it, so nothing is flagged.
    assert asymmetry_flag(s, with_thresholds(asymmetry_lsi_band_low_pct=85.0)) is None


def test_asymmetry_judges_only_the_latest_session_with_an_lsi() -> None:
    old_bad = session(1, day=0, lsi=80.0, low=75.0, high=85.0)
    new_good = session(2, day=1, lsi=95.0)
    one_sided = session(3, day=2, lsi=None)  # no LSI: does not hide the latest judged one
    assert asymmetry_flag([new_good, old_bad, one_sided]) is None
    assert asymmetry_flag([old_bad, one_sided]).figures["session_id"] == 1  # type: ignore[union-attr]


def test_asymmetry_without_an_interval_is_not_flagged() -> None:
    s = session(1, lsi=70.0)
    bare = type(s)(**{**s.__dict__, "lsi_low_pct": None, "lsi_high_pct": None})
    assert asymmetry_flag([bare]) is None


# ------------------------------------------------------------------ adherence


def _week(per_day: list[int], *, start_day: int = 0) -> list:
    """Sessions on consecutive days from T0 + start_day, per_day[i] on day i."""
    out = []
    sid = 0
    for i, n in enumerate(per_day):
        for k in range(n):
            sid += 1
            out.append(session(sid, day=start_day + i, hour=2.0 * k))
    return out


def test_adherence_at_and_around_the_prescription() -> None:
    today = MONDAY + timedelta(days=7)
    full = _week([3] * 7)
    assert adherence_flag(full, today=today, sessions_per_day=3) is None  # 21 of 21
    short = _week([3] * 6 + [2])
    flag = adherence_flag(short, today=today, sessions_per_day=3)
    assert flag is not None  # 20 of 21: below the prescription
    assert flag.figures["sessions"] == 20 and flag.figures["expected"] == 21 and flag.figures["days"] == 7
    assert flag.text == "adherence: 20 of 21 sessions in 7 d"
    assert adherence_flag(short, today=today, sessions_per_day=2) is None  # same week, 2 a day prescribed


def test_adherence_follows_the_min_fraction() -> None:
    today = MONDAY + timedelta(days=7)
    short = _week([3] * 6 + [2])  # 20 of 21 = 0.952
    assert adherence_flag(short, today=today, sessions_per_day=3) is not None
    assert adherence_flag(short, today=today, sessions_per_day=3, thresholds=with_thresholds(adherence_min_fraction=0.95)) is None
    assert adherence_flag(short, today=today, sessions_per_day=3, thresholds=with_thresholds(adherence_min_fraction=0.96)) is not None


def test_adherence_window_is_the_last_seven_days_before_today() -> None:
    # Eight days: day 0 has no session, days 1-7 have 3; today (day 8) has none yet.
    sessions = _week([3] * 7, start_day=1)
    today = MONDAY + timedelta(days=8)
    assert adherence_flag(sessions, today=today, sessions_per_day=3, start_date=MONDAY) is None
    # A day earlier the empty day 0 is in the window and today's (day 7) sessions are not judged.
    flag = adherence_flag(sessions, today=MONDAY + timedelta(days=7), sessions_per_day=3, start_date=MONDAY)
    assert flag is not None and flag.figures["sessions"] == 18 and flag.figures["expected"] == 21
    # A 3-day window judges days 5-7 only.
    th = with_thresholds(adherence_window_days=3)
    assert adherence_flag(sessions, today=today, sessions_per_day=3, thresholds=th) is None
    assert adherence_flag(sessions[:-1], today=today, sessions_per_day=3, thresholds=th).figures["days"] == 3  # type: ignore[union-attr]


def test_adherence_counts_only_ended_sessions_with_reps() -> None:
    today = MONDAY + timedelta(days=1)
    done = [session(1, hour=0), session(2, hour=2)]
    assert adherence_flag(done, today=today, sessions_per_day=2) is None
    empty = [session(1, hour=0), session(2, hour=2, reps=0)]
    assert adherence_flag(empty, today=today, sessions_per_day=2) is not None
    unfinished = [session(1, hour=0), session(2, hour=2, ended=False)]
    assert adherence_flag(unfinished, today=today, sessions_per_day=2) is not None


def test_adherence_starts_at_the_prescription_or_first_session() -> None:
    # Started yesterday with 3 sessions: one judged day, met.
    today = MONDAY + timedelta(days=1)
    assert adherence_flag(_week([3]), today=today, sessions_per_day=3) is None
    # Prescription started today: nothing judged yet.
    assert adherence_flag([], today=today, sessions_per_day=3, start_date=today) is None
    # Prescribed 3 days ago, nothing done: 0 of 9.
    flag = adherence_flag([], today=today, sessions_per_day=3, start_date=today - timedelta(days=3))
    assert flag is not None and flag.figures["expected"] == 9 and flag.figures["sessions"] == 0
    # Without a prescription the default (2 a day) applies and the flag says so.
    flag = adherence_flag(_week([1]), today=today, sessions_per_day=None)
    assert flag is not None and flag.figures["sessions_per_day"] == 2 and flag.figures["prescribed"] is False
    # Sessions before the prescription's start are not counted against it.
    assert adherence_flag(_week([3]), today=today, sessions_per_day=3, start_date=today) is None


def test_adherence_uses_the_patients_local_day() -> None:
    from datetime import timezone

    tokyo = timezone(timedelta(hours=9))
    # 20:00 UTC on Monday is Tuesday 05:00 in Tokyo.
    late = [session(1, at=T0.replace(hour=20)), session(2, at=T0.replace(hour=21))]
    assert adherence_flag(late, today=MONDAY + timedelta(days=1), sessions_per_day=2, start_date=MONDAY, tz=UTC) is None
    flag = adherence_flag(late, today=MONDAY + timedelta(days=1), sessions_per_day=2, start_date=MONDAY, tz=tokyo)
    assert flag is not None and flag.figures["sessions"] == 0


# ------------------------------------------------------------------ inactivity


@pytest.mark.parametrize(("days_after", "flagged"), [(0, False), (2, False), (3, True), (10, True)])
def test_inactivity_at_and_around_three_days(days_after: int, flagged: bool) -> None:
    flag = inactivity_flag([session(1)], today=MONDAY + timedelta(days=days_after))
    assert (flag is not None) is flagged
    if flag is not None:
        assert flag.figures["days_without"] == days_after and flag.text == f"no session for {days_after} d"


def test_inactivity_follows_the_threshold_and_ignores_empty_sessions() -> None:
    today = MONDAY + timedelta(days=3)
    assert inactivity_flag([session(1)], today=today, thresholds=with_thresholds(inactivity_days=4)) is None
    # An empty session two days ago does not count as a session.
    assert inactivity_flag([session(1), session(2, day=1, reps=0)], today=today) is not None
    assert inactivity_flag([session(1), session(2, day=1)], today=today) is None


def test_inactivity_without_sessions_uses_the_prescription_start() -> None:
    assert inactivity_flag([], today=MONDAY) is None
    assert inactivity_flag([], today=MONDAY + timedelta(days=2), start_date=MONDAY) is None
    flag = inactivity_flag([], today=MONDAY + timedelta(days=3), start_date=MONDAY)
    assert flag is not None and "since the start" in flag.text


# ------------------------------------------------------------------ pain


def test_pain_baseline_is_the_median_of_the_first_three_pre_session_ratings() -> None:
    sessions = [
        session(1, day=0, pain_before=1),
        session(2, day=1, pain_after=6),  # no pre-session rating: not in the baseline
        session(3, day=2, pain_before=5),
        session(4, day=3, pain_before=2),
        session(5, day=4, pain_before=9),  # fourth pre-session rating: outside the baseline
    ]
    assert pain_baseline(sessions) == 2.0
    assert pain_baseline(sessions, with_thresholds(pain_baseline_sessions=1)) == 1.0
    assert pain_baseline([session(1)]) is None


@pytest.mark.parametrize(("latest_after", "flagged"), [(3, False), (4, True), (5, True)])
def test_pain_rise_at_and_around_two_points(latest_after: int, flagged: bool) -> None:
    history = [session(1, day=0, pain_before=2), session(2, day=1, pain_before=2, pain_after=2)]
    latest = session(3, day=2, pain_before=2, pain_after=latest_after)
    flag = pain_flag([*history, latest])
    assert (flag is not None) is flagged
    if flag is not None:
        assert flag.severity == "alert"
        assert flag.figures["baseline"] == 2.0 and flag.figures["rise"] == latest_after - 2
        assert flag.text == f"pain {latest_after}/10, baseline 2 (+{latest_after - 2})"


def test_pain_follows_the_threshold_and_never_judges_a_session_against_itself() -> None:
    sessions = [session(1, day=0, pain_before=1), session(2, day=1, pain_before=4)]
    assert pain_flag(sessions) is not None  # +3
    assert pain_flag(sessions, with_thresholds(pain_rise_points=4)) is None
    # One rated session only: it would be its own baseline, so nothing is flagged.
    assert pain_flag([session(1, pain_before=1, pain_after=9)]) is None
    # Only post-session ratings before the latest: no baseline.
    assert pain_flag([session(1, day=0, pain_after=1), session(2, day=1, pain_after=8)]) is None


def test_pain_falls_back_to_baseline_once_the_latest_rating_drops() -> None:
    sessions = [session(1, day=0, pain_before=1), session(2, day=1, pain_after=5), session(3, day=2, pain_before=2)]
    assert pain_flag(sessions) is None  # the latest rated session (+1) decides


# ------------------------------------------------------------------ all together


def test_evaluate_flags_lists_alerts_first_with_their_figures() -> None:
    sessions = [
        session(1, day=0, pain_before=1),
        session(2, day=1, pain_before=1, lsi=80.0, low=75.0, high=85.0, pain_after=5),
    ]
    today: date = MONDAY + timedelta(days=5)
    flags = evaluate_flags(sessions, today=today, sessions_per_day=3)
    assert [f.code for f in flags] == ["asymmetry", "pain", "adherence", "inactivity"]
    assert [f.severity for f in flags] == ["alert", "alert", "warning", "warning"]
    assert flags[2].figures == {
        "sessions": 2,
        "expected": 15,
        "days": 5,
        "sessions_per_day": 3,
        "prescribed": True,
        "first_day": MONDAY.isoformat(),
        "last_day": (today - timedelta(days=1)).isoformat(),
        "min_fraction": 1.0,
    }
    assert all(len(f.text) <= 48 for f in flags)
    assert flags[0].to_dict()["figures"]["lsi_pct"] == 80.0
