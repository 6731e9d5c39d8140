"""Per-side summaries, LSI and its band, the uncertain flag, torque and N/kg, the JSON shape."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from sensorapp.signal import Rep, summarize
from sensorapp.signal.symmetry import lsi_band, t_quantile_975


def rep(side: str | None, index: int, plateau: float, hold: float = 6.2) -> Rep:
    return Rep(
        side=side, index=index, onset_s=10.0 * index, release_s=10.0 * index + 7, hold_s=hold, baseline_n=3.0,
        plateau_n=plateau, peak_n=plateau + 2, mean_n=plateau - 0.5, impulse_ns=plateau * 6.5, time_to_peak_s=1.0,
        rfd_n_per_s=None, steadiness_cv_pct=2.0, release_duration_s=0.4, target_met=hold >= 5.5, gap_bridged=False,
        hold_start_s=10.0 * index + 0.5, hold_end_s=10.0 * index + 0.5 + hold, ramp_s=0.5, duration_s=7.0,
        rate_hz=100.0, max_gap_s=0.01, target_hold_s=6.0,
    )  # fmt: skip


def session(left: list[float], right: list[float]) -> list[Rep]:
    return [rep("left", i + 1, p) for i, p in enumerate(left)] + [rep("right", i + 1, p) for i, p in enumerate(right)]


def test_lsi_on_best_three_weaker_over_stronger() -> None:
    reps = session([100, 102, 98, 90, 95, 96, 97], [80, 88, 85, 86, 70, 75, 60])
    s = summarize(reps)
    assert s.sides["left"].plateau_n == pytest.approx((102 + 100 + 98) / 3)
    assert s.sides["right"].plateau_n == pytest.approx((88 + 86 + 85) / 3)
    assert s.sides["left"].best_rep_indices == (2, 1, 3)
    sym = s.symmetry
    assert sym is not None
    assert sym.lsi_pct == pytest.approx(100 * 86.333333 / 100.0, rel=1e-6)
    assert sym.asymmetry_pct == pytest.approx(100 - sym.lsi_pct)
    assert sym.weaker_side == "right" and sym.stronger_side == "left"
    assert sym.band == "amber"
    assert sym.uncertain is False
    assert sym.basis == "force"


def test_involved_side_and_bands() -> None:
    reps = session([100] * 3, [80] * 3)
    s = summarize(reps, involved_side="left")  # the involved side is the stronger one here
    assert s.symmetry is not None and s.symmetry.lsi_pct == pytest.approx(125.0)
    assert s.symmetry.asymmetry_pct == pytest.approx(-25.0) and s.symmetry.band == "green"
    assert s.symmetry.weaker_side == "right"
    assert summarize(reps, involved_side="right").symmetry.lsi_pct == pytest.approx(80.0)  # type: ignore[union-attr]
    assert [lsi_band(v) for v in (95, 90, 89.9, 85, 84.9)] == ["green", "green", "amber", "amber", "red"]
    with pytest.raises(ValueError):
        summarize(reps, involved_side="top")


def test_uncertain_when_within_measurement_error_or_noise() -> None:
    close = summarize(session([100, 101, 99], [95, 96, 94]))  # 5 % < 7 %
    assert close.symmetry is not None and close.symmetry.uncertain is True
    noisy = summarize(session([100, 140, 60], [85, 120, 50]))  # 15 %, but the reps scatter
    assert noisy.symmetry is not None and noisy.symmetry.uncertain is True
    clear = summarize(session([100, 101, 99, 100], [80, 81, 79, 80]))
    assert clear.symmetry is not None and clear.symmetry.uncertain is False
    lo, hi = clear.symmetry.lsi_ci95_pct  # type: ignore[misc]
    assert lo < 80.0 < hi and hi < 100.0


def test_one_side_has_no_symmetry_and_unknown_side_is_kept_apart() -> None:
    s = summarize([rep("left", 1, 50.0), rep(None, 1, 40.0)])
    assert s.symmetry is None
    assert set(s.sides) == {"left", "unknown"}


def test_counts_hold_fatigue_and_retargeting() -> None:
    holds = [6.2, 5.6, 5.4, 6.0, 3.0, 6.5, 6.1]
    plats = [100, 98, 97, 95, 92, 90, 88]
    reps = [rep("left", i + 1, p, h) for i, (p, h) in enumerate(zip(plats, holds, strict=True))]
    s = summarize(reps).sides["left"]
    assert s.reps == 7 and s.reps_target_met == 5
    assert s.mean_hold_s == pytest.approx(sum(holds) / 7)
    assert s.fatigue_index_pct == pytest.approx(100 * (100 - (92 + 90 + 88) / 3) / 100)
    assert s.fatigue_slope_pct_per_rep is not None and s.fatigue_slope_pct_per_rep < 0
    strict = summarize(reps, target_hold_s=6.5)
    assert strict.sides["left"].reps_target_met == 4  # >= 6.5 - 0.5
    assert [r.target_met for r in strict.reps] == [h >= 6.0 for h in holds]
    assert all(r.target_hold_s == 6.5 for r in strict.reps)


def test_torque_and_body_mass() -> None:
    reps = session([100] * 3, [80] * 3)
    s = summarize(reps, body_mass_kg=80.0, lever_arm_m=0.8)
    assert s.sides["left"].torque_nm == pytest.approx(80.0)
    assert s.sides["left"].plateau_n_per_kg == pytest.approx(1.25)
    assert s.sides["left"].torque_nm_per_kg == pytest.approx(1.0)
    assert s.symmetry is not None and s.symmetry.basis == "torque" and s.symmetry.lsi_pct == pytest.approx(80.0)
    # different lever arms per side: torque, not force, decides
    s2 = summarize(reps, lever_arm_m={"left": 0.8, "right": 1.0})
    assert s2.symmetry is not None and s2.symmetry.lsi_pct == pytest.approx(100.0)
    with pytest.raises(ValueError):
        summarize(reps, body_mass_kg=0.0)


def test_json_matches_the_issue_contract() -> None:
    s = summarize(session([80.2, 79.9, 80.3], [70.0, 71.0, 69.5]))
    doc = json.loads(json.dumps(s.to_dict()))
    assert doc["target_hold_s"] == 6.0
    assert set(doc["sides"]) == {"left", "right"}
    for key in ("reps", "reps_target_met", "mean_hold_s", "plateau_n"):
        assert key in doc["sides"]["left"]
    for key in ("lsi_pct", "asymmetry_pct", "weaker_side", "band", "uncertain"):
        assert key in doc["symmetry"]
    assert doc["reps"][0]["side"] == "left" and doc["reps"][0]["index"] == 1
    assert json.loads(json.dumps(summarize([rep("left", 1, 50)]).to_dict()))["symmetry"] is None


def test_t_quantiles() -> None:
    assert t_quantile_975(1) == pytest.approx(12.706)
    assert t_quantile_975(10) == pytest.approx(2.228)
    assert t_quantile_975(10.5) == pytest.approx((2.228 + 2.201) / 2)
    assert 1.96 < t_quantile_975(1000) < 1.97


def test_summary_keeps_rep_identity_when_target_unchanged() -> None:
    reps = session([100] * 2, [90] * 2)
    s = summarize(reps)
    assert all(a is b for a, b in zip(s.reps, reps, strict=True))
    changed = replace(reps[0], hold_s=5.0)
    assert summarize([changed]).reps[0].target_met is False
