"""tare(): window length in device time, rest check, the new zero."""

from __future__ import annotations

import math

import numpy as np
import pytest

from calibration import DEFAULT_MAX_NOISE_N, CalibrationError, LinearCalibration, TareError, tare

GAIN = 0.000596
CAL = LinearCalibration(zero_counts=0.0, newtons_per_count=GAIN, source="factory", capacity_n=1000.0)


def window(n, rate_hz=100.0, t0=12.345):
    return t0 + np.arange(n) / rate_hz


def test_tare_sets_zero_to_window_mean_and_keeps_gain():
    rng = np.random.default_rng(1)
    t = window(100)  # exactly 1 s at 100 Hz
    counts = np.round(50_000 + rng.normal(0, 20, t.size)).astype(np.int32)
    res = tare(t, counts, CAL)
    assert res.zero_counts == pytest.approx(counts.mean())
    assert res.calibration.zero_counts == res.zero_counts
    assert res.calibration.newtons_per_count == GAIN
    assert res.calibration.source == "factory" and res.calibration.capacity_n == 1000.0
    assert res.offset_n == pytest.approx(counts.mean() * GAIN)
    assert res.noise_n == pytest.approx(counts.std(ddof=1) * GAIN)
    assert res.spread_n == pytest.approx((counts.max() - counts.min()) * GAIN)
    assert res.duration_s == pytest.approx(1.0)
    assert res.n_samples == 100
    # After the tare the rest window reads about 0 N.
    assert abs(float(np.mean(res.calibration.to_newtons(counts)))) < 1e-9
    assert CAL.zero_counts == 0.0  # input not modified


def test_mean_resolves_below_one_count():
    # Three samples in four on one ADC code, one in four on the next: the level is
    # 1000.25 counts; the median would say 1000, the mean gets it.
    t = window(200)
    counts = np.array([1000] * 150 + [1001] * 50, dtype=np.int32)
    assert tare(t, counts, CAL).zero_counts == pytest.approx(1000.25)


@pytest.mark.parametrize("n, rate_hz", [(99, 100.0), (50, 100.0), (999, 1000.0), (9, 10.0)])
def test_window_shorter_than_one_second_is_refused(n, rate_hz):
    t = window(n, rate_hz)
    with pytest.raises(TareError, match=r"at least 1 s"):
        tare(t, np.zeros(n, dtype=np.int32), CAL)


@pytest.mark.parametrize("n, rate_hz", [(100, 100.0), (1000, 1000.0), (10, 10.0)])
def test_exactly_one_second_is_accepted(n, rate_hz):
    assert tare(window(n, rate_hz), np.full(n, 7, dtype=np.int32), CAL).zero_counts == 7.0


def test_window_length_is_device_time_not_sample_count():
    # 100 samples but spread over 2 s of device time (lost packets): accepted; the same
    # 100 samples packed into 0.5 s (2 ms apart): refused.
    t_gappy = np.concatenate([window(50, t0=0.0), window(50, t0=1.5)])
    assert tare(t_gappy, np.zeros(100, dtype=np.int32), CAL).duration_s > 1.9
    with pytest.raises(TareError):
        tare(window(100, rate_hz=200.0), np.zeros(100, dtype=np.int32), CAL)


def test_longer_minimum_window():
    t = window(150)
    with pytest.raises(TareError, match="at least 2 s"):
        tare(t, np.zeros(150), CAL, min_window_s=2.0)
    with pytest.raises(TareError, match="at least 1.0 s"):
        tare(t, np.zeros(150), CAL, min_window_s=0.5)


def test_not_at_rest_is_refused():
    t = window(200)
    rng = np.random.default_rng(2)
    quiet = 50_000 + rng.normal(0, 20, t.size)
    # The patient starts pushing halfway through: +20 N.
    pushing = quiet + np.where(np.arange(t.size) >= 100, 20.0 / GAIN, 0.0)
    with pytest.raises(TareError, match="not at rest"):
        tare(t, pushing, CAL)
    # A single 15 N kick in 2 s is enough too.
    kick = quiet.copy()
    kick[60] += 15.0 / GAIN
    with pytest.raises(TareError, match="not at rest"):
        tare(t, kick, CAL)
    assert tare(t, quiet, CAL).noise_n < DEFAULT_MAX_NOISE_N


def test_noise_threshold_is_in_newtons_and_configurable():
    t = window(100)
    alternating = np.where(np.arange(100) % 2 == 0, 0.0, 1.0 / GAIN)  # 1 N peak-to-peak, std ~0.5025 N
    with pytest.raises(TareError):
        tare(t, alternating, CAL)
    res = tare(t, alternating, CAL, max_noise_n=0.6)
    assert res.noise_n == pytest.approx(0.5025, abs=1e-3)
    # The same counts with a negative gain: the threshold uses |gain|.
    neg = LinearCalibration(0.0, -GAIN)
    assert tare(t, alternating, neg, max_noise_n=0.6).noise_n == pytest.approx(res.noise_n)


@pytest.mark.parametrize(
    "t, counts, match",
    [
        (np.array([0.0]), np.array([1.0]), "1 sample"),
        (window(100), np.zeros(99), "100 timestamps but 99 counts"),
        (window(100)[::-1], np.zeros(100), "increasing"),
        (np.concatenate([window(50), window(50)]), np.zeros(100), "increasing"),
        (window(100), np.where(np.arange(100) == 3, math.nan, 0.0), "NaN"),
        (np.zeros((10, 10)), np.zeros((10, 10)), "1-D"),
    ],
)
def test_malformed_windows(t, counts, match):
    with pytest.raises(TareError, match=match):
        tare(t, counts, CAL)


def test_bad_threshold_arguments():
    with pytest.raises(TareError):
        tare(window(100), np.zeros(100), CAL, max_noise_n=0.0)
    with pytest.raises(CalibrationError):
        tare(window(100), np.zeros(100), CAL, max_noise_n=math.nan)
