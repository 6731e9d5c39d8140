"""LinearCalibration: conversion, validation, tare copy."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calibration import CalibrationError, LinearCalibration

INT24_MIN, INT24_MAX = -(1 << 23), (1 << 23) - 1


def test_to_newtons_known_values_scalar_and_array():
    cal = LinearCalibration(zero_counts=1000, newtons_per_count=0.5)
    assert cal.to_newtons(1000) == 0.0
    assert cal.to_newtons(1010) == 5.0
    assert isinstance(cal.to_newtons(1010), float)
    assert isinstance(cal.to_newtons(np.int32(1010)), float)
    out = cal.to_newtons(np.array([990, 1000, 1010], dtype=np.int32))
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [-5.0, 0.0, 5.0])


def test_to_newtons_does_not_modify_input_and_keeps_precision_at_rails():
    cal = LinearCalibration(zero_counts=INT24_MAX - 1, newtons_per_count=1e-3)
    counts = np.array([INT24_MAX, INT24_MIN], dtype=np.int32)
    before = counts.copy()
    out = cal.to_newtons(counts)
    np.testing.assert_array_equal(counts, before)
    assert out[0] == pytest.approx(1e-3, rel=1e-12)
    assert out[1] == pytest.approx((INT24_MIN - (INT24_MAX - 1)) * 1e-3, rel=1e-12)


def test_to_counts_is_the_inverse():
    cal = LinearCalibration(zero_counts=-2500.0, newtons_per_count=0.000596)
    assert cal.to_counts(0.0) == -2500.0
    assert cal.to_counts(0.596) == pytest.approx(-1500.0)
    np.testing.assert_allclose(cal.to_counts(np.array([0.0, 0.596])), [-2500.0, -1500.0])


def test_negative_gain_gives_positive_force_for_falling_counts():
    cal = LinearCalibration(zero_counts=5000, newtons_per_count=-0.01)
    assert cal.to_newtons(4000) == pytest.approx(10.0)
    assert not cal.belt_compatible
    assert LinearCalibration(0, 0.01).belt_compatible


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"zero_counts": 0, "newtons_per_count": 0.0}, "non-zero"),
        ({"zero_counts": 0, "newtons_per_count": math.nan}, "finite"),
        ({"zero_counts": 0, "newtons_per_count": math.inf}, "finite"),
        ({"zero_counts": math.nan, "newtons_per_count": 1.0}, "zero_counts"),
        ({"zero_counts": -math.inf, "newtons_per_count": 1.0}, "zero_counts"),
        ({"zero_counts": "12", "newtons_per_count": None}, "number"),
        ({"zero_counts": 0, "newtons_per_count": 1.0, "source": "guess"}, "source"),
        ({"zero_counts": 0, "newtons_per_count": 1.0, "created_at": "yesterday"}, "ISO"),
        ({"zero_counts": 0, "newtons_per_count": 1.0, "linearity_error_n": -0.1}, ">= 0"),
        ({"zero_counts": 0, "newtons_per_count": 1.0, "capacity_n": 0.0}, "> 0"),
        ({"zero_counts": True, "newtons_per_count": 1.0}, "number"),
    ],
)
def test_invalid_parameters_are_rejected(kwargs, match):
    with pytest.raises(CalibrationError, match=match):
        LinearCalibration(**kwargs)


def test_with_zero_returns_new_calibration_and_keeps_metadata():
    cal = LinearCalibration(100, 0.002, source="factory", created_at="2026-01-02T03:04:05+00:00", linearity_error_n=0.3, capacity_n=1000)
    tared = cal.with_zero(250)
    assert tared is not cal
    assert cal.zero_counts == 100.0  # original untouched
    assert tared.zero_counts == 250.0
    assert dataclasses.replace(tared, zero_counts=100.0) == cal
    with pytest.raises(dataclasses.FrozenInstanceError):
        cal.zero_counts = 5  # type: ignore[misc]
    with pytest.raises(CalibrationError):
        cal.with_zero(math.nan)


def test_linearity_pct_of_capacity():
    assert LinearCalibration(0, 1, linearity_error_n=0.5, capacity_n=1000).linearity_error_pct_fs() == pytest.approx(0.05)
    assert LinearCalibration(0, 1, linearity_error_n=0.5).linearity_error_pct_fs() is None


gains = st.one_of(st.floats(1e-7, 1e2), st.floats(-1e2, -1e-7))


@settings(max_examples=200, deadline=None)
@given(
    zero=st.floats(INT24_MIN, INT24_MAX),
    gain=gains,
    counts=st.lists(st.integers(INT24_MIN, INT24_MAX), min_size=1, max_size=50),
)
def test_counts_newtons_round_trip(zero, gain, counts):
    cal = LinearCalibration(zero, gain)
    c = np.asarray(counts, dtype=np.int32)
    back = cal.to_counts(cal.to_newtons(c))
    # float64 keeps ~1e-16 relative; the values involved are below 2**25.
    np.testing.assert_allclose(back, c, rtol=0, atol=1e-6)
    assert cal.to_counts(cal.to_newtons(int(c[0]))) == pytest.approx(float(c[0]), abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(zero=st.floats(INT24_MIN, INT24_MAX), gain=gains, force=st.floats(-1e4, 1e4))
def test_newtons_counts_round_trip(zero, gain, force):
    cal = LinearCalibration(zero, gain)
    assert cal.to_newtons(cal.to_counts(force)) == pytest.approx(force, rel=1e-9, abs=abs(gain) * 1e-6)
