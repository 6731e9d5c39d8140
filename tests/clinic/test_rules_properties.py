"""Properties of the rules over generated inputs: each flag follows its threshold monotonically."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from clinic_helpers import T0, session, with_thresholds
from hypothesis import given, settings
from hypothesis import strategies as st

from sensorapp.clinic.flags import adherence_flag, asymmetry_flag, pain_flag
from sensorapp.clinic.thresholds import names, parse_thresholds, shipped_thresholds

pct = st.floats(min_value=50.0, max_value=120.0, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(lsi=pct, half=st.floats(min_value=0.0, max_value=20.0), band=st.floats(min_value=85.0, max_value=100.0))
def test_asymmetry_fires_exactly_when_lsi_and_interval_are_below_the_band(lsi: float, half: float, band: float) -> None:
    th = with_thresholds(asymmetry_lsi_band_low_pct=band, asymmetry_lsi_alert_pct=85.0)
    flag = asymmetry_flag([session(1, lsi=lsi, low=lsi - half, high=lsi + half)], th)
    assert (flag is not None) is (lsi + half < band)
    # A higher band never removes a flag.
    if flag is not None and band < 100.0:
        assert asymmetry_flag([session(1, lsi=lsi, low=lsi - half, high=lsi + half)], with_thresholds(asymmetry_lsi_band_low_pct=100.0)) is not None


@settings(max_examples=200, deadline=None)
@given(ratings=st.lists(st.tuples(st.none() | st.integers(0, 10), st.none() | st.integers(0, 10)), min_size=1, max_size=8),
       points=st.integers(2, 10))
def test_pain_flag_fires_more_often_with_a_lower_rise(ratings: list[tuple[int | None, int | None]], points: int) -> None:
    sessions = [session(i + 1, day=i, pain_before=b, pain_after=a) for i, (b, a) in enumerate(ratings)]
    strict = pain_flag(sessions, with_thresholds(pain_rise_points=points))
    loose = pain_flag(sessions, with_thresholds(pain_rise_points=points - 1))
    if strict is not None:
        assert loose is not None and strict.figures["rise"] >= points
        # It is about the latest rated session, by its highest rating.
        latest = max(i for i, pair in enumerate(ratings) if any(r is not None for r in pair))
        assert strict.figures["session_id"] == latest + 1
        assert strict.figures["pain"] == max(r for r in ratings[latest] if r is not None)


@settings(max_examples=200, deadline=None)
@given(per_day=st.lists(st.integers(0, 4), min_size=1, max_size=10), prescribed=st.integers(1, 4),
       low=st.floats(0.0, 1.0), high=st.floats(0.0, 1.0))
def test_adherence_flag_follows_the_min_fraction(per_day: list[int], prescribed: int, low: float, high: float) -> None:
    low, high = min(low, high), max(low, high)
    sessions = [session(100 * d + k, day=d, hour=2.0 * k) for d, n in enumerate(per_day) for k in range(n)]
    today = T0.date() + timedelta(days=len(per_day))
    kwargs = {"today": today, "sessions_per_day": prescribed, "start_date": T0.date()}
    lenient = adherence_flag(sessions, **kwargs, thresholds=with_thresholds(adherence_min_fraction=low))  # type: ignore[arg-type]
    strict = adherence_flag(sessions, **kwargs, thresholds=with_thresholds(adherence_min_fraction=high))  # type: ignore[arg-type]
    if lenient is not None:
        assert strict is not None
    done = sum(per_day[-7:])
    expected = prescribed * min(7, len(per_day))
    assert (strict is not None) is (done < high * expected)


def test_thresholds_round_trip_through_their_file_shape() -> None:
    th = shipped_thresholds()
    again = parse_thresholds(th.to_dict(), where="round trip")
    assert again == th and again.sources == th.sources
    assert [n for n in th.to_dict()["thresholds"]] == list(names())
    assert dataclasses.replace(th, inactivity_days=9) != th
