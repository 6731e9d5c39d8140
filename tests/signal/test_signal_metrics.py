"""The contract of issue 3 section 4: plateau, hold, dips, gaps, target, metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sensorapp.signal import DetectorParams, measure_rep
from sensorapp.signal.filters import (
    centered_mean,
    even_subsample,
    lower_median,
    median3_causal,
    median3_causal_twice,
    median5_centered,
)
from sensorapp.signal.metrics import hold_intervals, plateau_of

EDGE = math.acos(-0.6) / math.pi  # raised-cosine rise reaches 80 % at this fraction


def expected_hold(rise: float, hold: float, release: float) -> float:
    """Time at >= 80 % of a raised-cosine press with a flat top."""
    return hold + (1 - EDGE) * rise + (1 - EDGE) * release


def window(sig, press):  # type: ignore[no-untyped-def]
    m = (sig.t_s >= press.start_s - 0.011) & (sig.t_s <= press.start_s + press.rise_s + press.hold_s + press.release_s + 0.011)
    return sig.t_s[m], sig.force_n[m]


# ---------------------------------------------------------------- filters


def test_median_filters_match_numpy_median() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=200)
    m3 = median3_causal(x, 0, x.size)
    assert np.array_equal(m3[2:], [np.median(x[i - 2 : i + 1]) for i in range(2, x.size)])
    assert np.array_equal(m3[:2], x[:2])
    m5 = median5_centered(x)
    assert np.array_equal(m5[2:-2], [np.median(x[i - 2 : i + 3]) for i in range(2, x.size - 2)])
    twice = median3_causal_twice(x, 10, 50)
    assert np.array_equal(twice, median3_causal(median3_causal(x, 0, x.size), 10, 50))


def test_median5_removes_spike_pairs_that_median3_keeps() -> None:
    x = np.full(20, 10.0)
    x[8] = x[10] = 900.0  # spike, good sample, spike
    assert median3_causal(x, 0, 20).max() == 900.0
    assert median3_causal_twice(x, 2, 20).max() == 10.0
    assert median5_centered(x).max() == 10.0


def test_median_filters_keep_a_monotone_ramp() -> None:
    ramp = np.linspace(0, 50, 30)
    assert np.array_equal(median5_centered(ramp), ramp)
    assert np.array_equal(median3_causal(ramp, 2, 30), ramp[1:29])  # one sample of latency


def test_centered_mean_and_subsample() -> None:
    x = np.arange(10, dtype=float)
    assert np.allclose(centered_mean(x, 1)[1:-1], x[1:-1])
    assert centered_mean(x, 1)[0] == 0.5
    sub = even_subsample(x, 0, 10, 4)
    assert sub.tolist() == [0.0, 2.0, 5.0, 7.0]
    assert even_subsample(x, 2, 5, 8).tolist() == [2.0, 3.0, 4.0]
    assert lower_median(np.array([4.0, 1.0, 3.0, 2.0])) == 2.0


# ---------------------------------------------------------------- plateau and hold


def test_plateau_is_median_above_half_the_95th_percentile() -> None:
    y = np.concatenate([np.zeros(50), np.full(100, 80.0), np.linspace(80, 0, 20)])
    assert plateau_of(y) == 80.0
    assert plateau_of(np.zeros(10)) == 0.0


@pytest.mark.parametrize("rate_hz", [10.0, 50.0, 1000.0])
def test_clean_press_hold_plateau_and_net_of_baseline(make_signal, rate_hz: float) -> None:
    from signal_builders import Press

    press = Press(start_s=2.0, level_n=80.0, rise_s=0.8, hold_s=5.0, release_s=0.5)
    for baseline in (0.0, 12.5):  # a tighter belt must not score higher
        sig = make_signal([press], 10.0, rate_hz, baseline_n=baseline)
        t, f = window(sig, press)
        rep = measure_rep(t, f, baseline)
        assert rep.plateau_n == pytest.approx(80.0, abs=0.5)
        assert rep.peak_n == pytest.approx(80.0, abs=0.5)
        assert rep.baseline_n == baseline
        assert rep.hold_s == pytest.approx(expected_hold(0.8, 5.0, 0.5), abs=2.0 / rate_hz)
        assert rep.target_met is False  # 5.4 s < 6 - 0.5
        assert rep.gap_bridged is False
        # mean over the hold ~ plateau; impulse = area of the press
        assert rep.mean_n == pytest.approx(80.0, abs=1.0)
        area = 80.0 * (5.0 + 0.8 / 2 + 0.5 / 2)
        assert rep.impulse_ns == pytest.approx(area, rel=0.02)


def test_target_met_uses_tolerance() -> None:
    t = np.arange(0, 8.0, 0.01)
    f = np.where((t > 1.0) & (t < 6.6), 50.0, 0.0)  # square press, hold 5.6 s
    rep = measure_rep(t, f, 0.0)
    assert rep.hold_s == pytest.approx(5.6, abs=0.05)  # the 15 Hz smoothing rounds square edges
    assert rep.target_met is True
    assert measure_rep(t, f, 0.0, DetectorParams(target_tolerance_s=0.2)).target_met is False
    assert measure_rep(t, f, 0.0, DetectorParams(target_hold_s=5.0, target_tolerance_s=0.0)).target_met is True


@pytest.mark.parametrize(
    ("dip_s", "bridged"),
    [(0.20, True), (0.24, True), (0.26, False), (0.5, False)],
)
def test_dips_shorter_than_250_ms_do_not_end_the_hold(dip_s: float, bridged: bool) -> None:
    t = np.arange(0, 10.0, 0.001)
    f = np.where((t >= 1.0) & (t < 8.0), 100.0, 0.0)
    f[(t >= 4.0) & (t < 4.0 + dip_s)] = 60.0  # below 80 %
    rep = measure_rep(t, f, 0.0)
    # 0.02 s: the 15 Hz zero-lag smoothing rounds the ideal square edges of this test
    if bridged:
        assert rep.hold_s == pytest.approx(7.0, abs=0.02)
    else:
        assert rep.hold_s == pytest.approx(8.0 - 4.0 - dip_s, abs=0.02)


def test_data_gaps_up_to_1_s_are_bridged_and_flagged() -> None:
    t = np.arange(0, 10.0, 0.01)
    f = np.where((t >= 1.0) & (t < 8.0), 100.0, 0.0)
    for gap_s, bridged in ((0.9, True), (1.2, False)):
        keep = ~((t > 4.0) & (t < 4.0 + gap_s))
        rep = measure_rep(t[keep], f[keep], 0.0)
        if bridged:
            assert rep.hold_s == pytest.approx(7.0, abs=0.03)
            assert rep.gap_bridged is True
            assert rep.max_gap_s == pytest.approx(gap_s + 0.01, abs=0.011)
        else:
            assert rep.hold_s == pytest.approx(3.0, abs=0.03)  # the longer piece: 1.0..4.0, not 5.2..8.0
            assert rep.gap_bridged is False


def test_short_gap_inside_hold_is_bridged_without_flag() -> None:
    t = np.arange(0, 10.0, 0.01)
    f = np.where((t >= 1.0) & (t < 8.0), 100.0, 0.0)
    keep = ~((t > 4.0) & (t < 4.1))
    rep = measure_rep(t[keep], f[keep], 0.0)
    assert rep.hold_s == pytest.approx(7.0, abs=0.03)
    assert rep.gap_bridged is False  # 0.1 s is below gap_flag_s


def test_hold_intervals_never_credit_an_unbridgeable_gap() -> None:
    t = np.array([0.0, 0.1, 0.2, 3.0, 3.1])
    y = np.array([0.0, 100.0, 100.0, 0.0, 0.0])
    _starts, ends = hold_intervals(t, y, 80.0, 0.25, 1.0)
    assert ends[-1] == 0.2  # the drop happened somewhere in a 2.8 s hole: only observed time counts


def test_spikes_do_not_move_peak_or_plateau() -> None:
    t = np.arange(0, 9.0, 0.001)
    f = np.where((t >= 1.0) & (t < 8.0), 60.0, 0.0)
    f[3000] = 2000.0
    f[5000] = f[5002] = 1500.0  # a pair one sample apart
    f[6000] = 0.0
    rep = measure_rep(t, f, 0.0)
    assert rep.peak_n == pytest.approx(60.0, abs=0.01)
    assert rep.plateau_n == pytest.approx(60.0, abs=0.01)
    assert rep.hold_s == pytest.approx(7.0, abs=0.02)


def test_rfd_only_where_the_rate_carries_it() -> None:
    for rate, has_rfd in ((1000.0, True), (80.0, True), (25.0, False), (10.0, False)):
        t = np.arange(0, 9.0, 1 / rate)
        f = np.clip((t - 1.0) * 200.0, 0, 100.0) * (t < 8.0)  # 200 N/s ramp
        rep = measure_rep(t[t >= 1.0], f[t >= 1.0], 0.0)
        if has_rfd:
            assert rep.rfd_n_per_s == pytest.approx(200.0, rel=0.05)
        else:
            assert rep.rfd_n_per_s is None


def test_steadiness_release_duration_and_to_dict_keys() -> None:
    t = np.arange(0, 9.005, 0.01)  # the rep ends at its release
    f = np.where((t >= 1.0) & (t < 8.0), 100.0 + 2.0 * np.sin(2 * np.pi * 1.3 * t), 0.0)
    f = np.where(t >= 8.0, 100.0 * (9.0 - t), f)  # 1 s linear release
    rep = measure_rep(t, f, 0.0)
    assert rep.steadiness_cv_pct == pytest.approx(100 * 2.0 / math.sqrt(2) / 100.0, rel=0.15)
    assert rep.release_duration_s == pytest.approx(0.8, abs=0.05)  # 80 % -> 0 over the last 0.8 s
    d = rep.to_dict()
    for key in ("side", "index", "onset_s", "release_s", "hold_s", "baseline_n", "plateau_n", "peak_n",
                "mean_n", "impulse_ns", "target_met"):  # fmt: skip
        assert key in d
    assert d["hold_s"] == round(rep.hold_s, 3)


def test_drift_correction_removes_a_linear_baseline() -> None:
    t = np.arange(0, 10.0, 0.01)
    drift = 0.2 * t  # 12 N/min
    f = np.where((t >= 1.0) & (t < 8.0), 20.0, 0.0) + drift
    plain = measure_rep(t, f, 0.0)
    corrected = measure_rep(t, f, 0.0, drift_n_per_s=0.2, baseline_t_s=0.0)
    assert plain.plateau_n > 20.5  # biased by the drift during the hold
    assert corrected.plateau_n == pytest.approx(20.0, abs=0.05)
    assert corrected.baseline_drift_n_per_min == pytest.approx(12.0)
