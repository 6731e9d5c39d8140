"""The calibration wizard's pure model: steps, stillness, wrong loads, mass checks, the fit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from calibration import CalibrationError, LinearCalibration, fit_from_masses
from calibration.wizard import (
    MOVING_LOAD_MESSAGE,
    CalibrationWizard,
    LoadMovingError,
    Step,
    WizardLimits,
    WrongLoadError,
    validate_masses,
)

G = 9.80665
TRUE_ZERO = 14_000.0
TRUE_GAIN = 0.000596  # N/count


def counts_for(force_n: np.ndarray, bow: float = 0.0) -> np.ndarray:
    ideal = force_n / TRUE_GAIN
    return TRUE_ZERO + ideal * (1 + bow * force_n / 1000.0)


def wizard(masses: list[float], **kw: object) -> CalibrationWizard:
    # The calibration in use is the factory one: 0.2 % off in gain, 120 counts off in zero.
    factory = LinearCalibration(TRUE_ZERO + 120, TRUE_GAIN * 1.002)
    return CalibrationWizard(masses, factory, **kw)  # type: ignore[arg-type]


def hang(w: CalibrationWizard, mass_kg: float, start_s: float, seconds: float = 2.5, *, swing_n: float = 0.0, bow: float = 0.0) -> float:
    """Feed ``seconds`` at 100 Hz of ``mass_kg`` hanging (with an optional swing); returns the next start time."""
    t = start_s + np.arange(round(seconds * 100)) / 100
    force = mass_kg * G + swing_n * np.sin(2 * np.pi * 1.4 * t)
    w.feed(t, counts_for(force, bow))
    return float(t[-1] + 0.01)


def test_steps_tare_then_each_mass_then_fit_recovers_the_line() -> None:
    w = wizard([2.0, 5.0, 10.0])
    assert w.step is Step.TARE and "unloaded" in w.instruction()
    t = hang(w, 0.0, 0.0)
    assert w.ready()
    w.capture()
    for mass in (2.0, 5.0, 10.0):
        assert w.step is Step.MASS and w.current_mass_kg == mass and f"hang {mass:g} kg" in w.instruction()
        t = hang(w, mass, t)
        w.capture()
    assert w.step is Step.FIT
    fit = w.compute_fit()
    assert fit.n_points == 4
    assert fit.calibration.newtons_per_count == pytest.approx(TRUE_GAIN, rel=1e-9)
    assert fit.calibration.zero_counts == pytest.approx(TRUE_ZERO, abs=1e-6)
    assert fit.linearity_error_n < 1e-6  # a straight cell
    cal = w.accept()
    assert w.step is Step.ACCEPTED and cal.source == "fit"


def test_a_swinging_mass_is_refused_with_the_moving_message_then_captured_once_still() -> None:
    w = wizard([2.0, 5.0])
    t = hang(w, 0.0, 0.0)
    w.capture()
    t = hang(w, 2.0, t, swing_n=0.6)  # 1.2 N peak to peak: still swinging
    assert not w.ready()
    with pytest.raises(LoadMovingError, match=MOVING_LOAD_MESSAGE) as err:
        w.capture()
    assert "varied by 1.2" in str(err.value)
    assert len(w.points) == 1  # nothing was captured
    hang(w, 2.0, t)  # it settles: the window now holds only still samples
    point = w.capture()
    assert point.mass_kg == 2.0 and point.spread_n < 0.01


def test_a_capture_needs_a_full_window() -> None:
    w = wizard([2.0, 5.0])
    hang(w, 0.0, 0.0, seconds=1.0)
    with pytest.raises(CalibrationError, match="not enough samples yet: 1.0 of 2 s"):
        w.capture()


def test_a_load_that_did_not_change_by_the_named_mass_is_refused() -> None:
    w = wizard([2.0, 5.0])
    t = hang(w, 0.0, 0.0)
    w.capture()
    hang(w, 5.0, t)  # the 5 kg mass hung when 2 kg was asked for
    assert not w.ready()
    with pytest.raises(WrongLoadError, match=r"changed by \+5\.0\d kg since the last point, not about \+2\.00 kg"):
        w.capture()
    w2 = wizard([2.0, 5.0])
    t = hang(w2, 0.0, 0.0)
    w2.capture()
    hang(w2, 0.0, t)  # nothing hung yet: a non-interactive run keeps waiting
    assert not w2.ready()


@pytest.mark.parametrize(
    ("masses", "message"),
    [
        ([2.0], "at least 2 different known masses"),
        ([], "at least 2 different known masses"),
        ([2.0, 2.0], "given twice"),
        ([2.0, math.nan], "not a finite number"),
        ([2.0, math.inf], "not a finite number"),
        ([2.0, -1.0], "more than 0 kg"),
        ([0.0, 2.0], "more than 0 kg"),
        ([2.0, 150.0], "more than the belt's capacity of 100 kg"),
        ([2.0, "x"], "is not a number"),
    ],
)
def test_bad_masses_are_refused_in_one_line(masses: list[float], message: str) -> None:
    with pytest.raises(CalibrationError, match=message) as err:
        validate_masses(masses)
    assert "\n" not in str(err.value)


def test_the_capacity_sets_the_largest_mass() -> None:
    assert validate_masses([2.0, 50.0], capacity_n=1000.0) == (2.0, 50.0)
    with pytest.raises(CalibrationError, match="capacity of 20 kg"):
        validate_masses([2.0, 50.0], capacity_n=20 * G)


def test_the_linearity_error_of_a_bowed_cell_is_reported_as_the_fit_computes_it() -> None:
    w = wizard([5.0, 20.0, 50.0])
    t = 0.0
    for mass in (0.0, 5.0, 20.0, 50.0):
        t = hang(w, mass, t, bow=0.02)
        w.capture()
    fit = w.compute_fit()
    reference = fit_from_masses([p.mean_counts for p in w.points], [0, 5, 20, 50])
    assert fit.linearity_error_n == pytest.approx(reference.linearity_error_n)
    # The bow in newtons is 0.02 F^2 / 1000: its best straight line, fitted independently, leaves this much.
    applied = np.array([0, 5, 20, 50]) * G
    bow_n = 0.02 * applied**2 / 1000
    expected = np.max(np.abs(bow_n - np.polyval(np.polyfit(applied, bow_n, 1), applied)))
    assert fit.linearity_error_n == pytest.approx(expected, rel=0.02)
    assert fit.linearity_error_n > 0.5
    assert np.max(np.abs(fit.residuals_n)) == pytest.approx(fit.linearity_error_n)


def test_an_implausible_linearity_error_is_refused() -> None:
    w = wizard([2.0, 5.0], limits=WizardLimits(step_tolerance=0.9, max_linearity_pct=2.0))
    t = hang(w, 0.0, 0.0)
    w.capture()
    t = hang(w, 2.0, t)
    w.capture()
    hang(w, 3.5, t)  # "5 kg" but only 3.5 kg: within this loose step tolerance, off the line
    w.capture()
    with pytest.raises(CalibrationError, match="linearity error .* more than 2 % of the largest load"):
        w.compute_fit()
    assert w.fit is None


def test_feed_keeps_only_the_last_window_and_restarts_when_the_clock_goes_back() -> None:
    w = wizard([2.0, 5.0])
    hang(w, 0.0, 0.0, seconds=10.0)
    assert w.window().n_samples == 200 and w.window().duration_s == pytest.approx(2.0)
    hang(w, 0.0, 0.0, seconds=0.5)  # the device clock restarted
    assert w.window().n_samples == 50


def test_undo_last_recaptures_a_point() -> None:
    w = wizard([2.0, 5.0])
    t = hang(w, 0.0, 0.0)
    w.capture()
    t = hang(w, 2.0, t)
    w.capture()
    w.undo_last()
    assert w.step is Step.MASS and w.current_mass_kg == 2.0
