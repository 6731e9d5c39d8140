"""fit_from_masses: exact and noisy fits, linearity error, every error case."""

from __future__ import annotations

import math

import numpy as np
import pytest

from calibration import STANDARD_GRAVITY, CalibrationError, CalibrationFit, fit_from_masses

ZERO = 8123.0
GAIN = 0.000596  # N per count, the belt's nominal gain
MASSES = np.array([0.0, 10.0, 20.0, 30.0, 40.0])  # kg, evenly spaced
# A deviation pattern orthogonal to a constant and to a line over 5 evenly spaced
# points (discrete 2nd-order Legendre): the best-fit line ignores it, so the
# residuals must come out as exactly this pattern and its max is the linearity error.
BOW = np.array([2.0, -1.0, -2.0, -1.0, 2.0]) / 2.0


def counts_for(force_n, zero=ZERO, gain=GAIN):
    return zero + np.asarray(force_n, dtype=float) / gain


def test_exact_fit_recovers_zero_and_gain():
    forces = MASSES * STANDARD_GRAVITY
    fit = fit_from_masses(counts_for(forces), MASSES)
    assert isinstance(fit, CalibrationFit)
    cal = fit.calibration
    assert cal.zero_counts == pytest.approx(ZERO, abs=1e-6)
    assert cal.newtons_per_count == pytest.approx(GAIN, rel=1e-12)
    assert cal.source == "fit"
    assert cal.created_at is not None
    assert fit.n_points == 5
    np.testing.assert_allclose(fit.forces_n, forces)
    np.testing.assert_allclose(fit.residuals_n, 0.0, atol=1e-9)
    assert fit.linearity_error_n < 1e-9
    assert cal.linearity_error_n == fit.linearity_error_n
    assert fit.r_squared == pytest.approx(1.0, abs=1e-12)
    assert fit.full_scale_basis == "max_load"
    assert fit.full_scale_n == pytest.approx(40 * STANDARD_GRAVITY)


def test_exact_fit_with_negative_gain():
    forces = MASSES * STANDARD_GRAVITY
    fit = fit_from_masses(counts_for(forces, gain=-GAIN), MASSES)
    assert fit.calibration.newtons_per_count == pytest.approx(-GAIN, rel=1e-12)
    np.testing.assert_allclose(fit.calibration.to_newtons(fit.counts), forces, atol=1e-9)


def test_two_point_fit_is_exact_and_reports_zero_linearity():
    fit = fit_from_masses([1000.0, 3000.0], [0.0, 2.0], gravity=10.0)
    assert fit.calibration.zero_counts == pytest.approx(1000.0)
    assert fit.calibration.newtons_per_count == pytest.approx(20.0 / 2000.0)
    assert fit.linearity_error_n == pytest.approx(0.0, abs=1e-12)
    assert fit.r_squared == pytest.approx(1.0)


def test_fit_without_a_zero_load_point_extrapolates_the_zero():
    masses = np.array([5.0, 15.0, 25.0])
    fit = fit_from_masses(counts_for(masses * STANDARD_GRAVITY), masses)
    assert fit.calibration.zero_counts == pytest.approx(ZERO, abs=1e-6)


def test_gravity_changes_applied_force():
    local_g = 9.81
    forces = MASSES * local_g
    fit = fit_from_masses(counts_for(forces), MASSES, gravity=local_g)
    assert fit.calibration.newtons_per_count == pytest.approx(GAIN, rel=1e-12)
    fit_std = fit_from_masses(counts_for(forces), MASSES)
    assert fit_std.calibration.newtons_per_count == pytest.approx(GAIN * STANDARD_GRAVITY / local_g, rel=1e-12)


def test_injected_nonlinearity_is_reported_exactly_without_noise():
    forces = MASSES * STANDARD_GRAVITY
    bow_n = 0.8 * BOW  # the cell reads up to 0.8 N off the best straight line
    fit = fit_from_masses(counts_for(forces + bow_n), MASSES, capacity_n=1000.0)
    np.testing.assert_allclose(fit.residuals_n, bow_n, atol=1e-9)
    assert fit.linearity_error_n == pytest.approx(0.8, abs=1e-9)
    assert fit.calibration.newtons_per_count == pytest.approx(GAIN, rel=1e-12)
    assert fit.full_scale_basis == "capacity"
    assert fit.full_scale_n == 1000.0
    assert fit.linearity_error_pct_fs == pytest.approx(0.08, abs=1e-9)
    assert fit.calibration.capacity_n == 1000.0
    assert fit.r_squared < 1.0


def test_noisy_fit_with_nonlinearity_from_raw_samples():
    rng = np.random.default_rng(7)
    forces = MASSES * STANDARD_GRAVITY
    bow_n = 1.5 * BOW
    noise_counts = 40.0  # ADC noise per sample (about 0.024 N)
    # 500 raw samples per point: the fit averages them.
    raw = [np.round(counts_for(f + b) + rng.normal(0, noise_counts, 500)) for f, b in zip(forces, bow_n, strict=True)]
    fit = fit_from_masses(raw, MASSES)
    # Mean of 500 samples: noise 40/sqrt(500) ~ 1.8 counts ~ 0.001 N, plus rounding.
    assert fit.linearity_error_n == pytest.approx(1.5, abs=0.01)
    np.testing.assert_allclose(fit.residuals_n, bow_n, atol=0.01)
    assert fit.calibration.newtons_per_count == pytest.approx(GAIN, rel=1e-4)
    assert fit.calibration.zero_counts == pytest.approx(ZERO, abs=5.0)
    assert fit.full_scale_basis == "max_load"
    assert fit.linearity_error_pct_fs == pytest.approx(100 * 1.5 / forces.max(), rel=0.01)
    assert 0.9999 < fit.r_squared < 1.0


def test_quadratic_cell_gives_bfsl_error_smaller_than_terminal_error():
    # A cell that reads 2 N high at mid-scale relative to the line through its end
    # points: the best-fit straight line splits that error, so the reported
    # linearity is well under 2 N but clearly non-zero.
    masses = np.linspace(0.0, 50.0, 11)
    forces = masses * STANDARD_GRAVITY
    x = forces / forces.max()
    bow = 2.0 * 4.0 * x * (1 - x)
    fit = fit_from_masses(counts_for(forces + bow), masses)
    assert 0.9 < fit.linearity_error_n < 1.5
    # Residuals: indicated - applied, so calibrated readings of the points differ from applied forces by them.
    np.testing.assert_allclose(fit.calibration.to_newtons(fit.counts) - forces, fit.residuals_n, atol=1e-9)


def test_two_d_array_of_samples_is_averaged_per_row():
    samples = np.array([[999.0, 1001.0], [2999.0, 3001.0], [4999.0, 5001.0]])
    fit = fit_from_masses(samples, [0.0, 1.0, 2.0], gravity=1.0)
    np.testing.assert_allclose(fit.counts, [1000.0, 3000.0, 5000.0])
    assert fit.calibration.newtons_per_count == pytest.approx(1 / 2000)


@pytest.mark.parametrize(
    "counts, masses, kwargs, match",
    [
        ([1000.0], [1.0], {}, "at least 2 points"),
        ([], [], {}, "at least 2 points"),
        ([1000.0, 2000.0, 3000.0], [0.0, 1.0], {}, "3 count points but 2 masses"),
        ([1000.0, 1000.0, 1000.0], [0.0, 1.0, 2.0], {}, "same counts"),
        ([1000.0, 2000.0], [5.0, 5.0], {}, "same mass"),
        ([1000.0, math.nan], [0.0, 1.0], {}, "NaN or infinity"),
        ([1000.0, 2000.0], [0.0, math.inf], {}, "NaN or infinity"),
        ([1000.0, 2000.0], [0.0, -1.0], {}, ">= 0 kg"),
        ([1000.0, 2000.0], [0.0, 1.0], {"gravity": 0.0}, "gravity"),
        ([1000.0, 2000.0], [0.0, 1.0], {"gravity": math.nan}, "gravity"),
        ([1000.0, 2000.0], [0.0, 1.0], {"capacity_n": -5.0}, "capacity_n"),
        ([[1.0, 2.0], []], [0.0, 1.0], {}, "no samples"),
        ([[1.0, math.nan], [3.0]], [0.0, 1.0], {}, "finite"),
        ([1000.0, "x"], [0.0, 1.0], {}, "numbers"),
        (np.zeros((2, 2, 2)), [0.0, 1.0], {}, "1-D"),
    ],
)
def test_fit_errors(counts, masses, kwargs, match):
    with pytest.raises(CalibrationError, match=match):
        fit_from_masses(counts, masses, **kwargs)
