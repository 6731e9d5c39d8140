"""The synthetic session generator: determinism, chunk independence, truth, coverage."""

from __future__ import annotations

import numpy as np
import pytest

from sensorapp.simulation.synthetic import (
    BeltProfile,
    PatientProfile,
    SessionScript,
    lost_packets,
    random_scenario,
    record,
)


def test_same_seed_same_session_and_different_seed_differs() -> None:
    a = SessionScript.generate(42)
    b = SessionScript.generate(42)
    c = SessionScript.generate(43)
    assert a == b
    assert a.contractions != c.contractions
    t = np.linspace(0, a.duration_s, 5000)
    assert np.array_equal(a.force_at(t), b.force_at(t))


def test_force_is_chunk_independent_on_any_grid() -> None:
    script = SessionScript.generate(7)
    rng = np.random.default_rng(0)
    t = np.sort(rng.uniform(0, script.duration_s, 20_000))
    whole = script.force_at(t)
    cuts = np.sort(rng.choice(t.size, 30, replace=False))
    pieces = np.concatenate([script.force_at(chunk) for chunk in np.split(t, cuts)])
    assert np.array_equal(whole, pieces)
    single = np.array([script.force_at(np.array([v]))[0] for v in t[::997]])
    assert np.array_equal(single, whole[::997])
    shuffled = rng.permutation(t.size)[:500]
    assert np.allclose(script.force_at(t[shuffled]), whole[shuffled], rtol=0, atol=1e-9)


def test_schedule_and_truth() -> None:
    script = SessionScript.generate(3, PatientProfile(left_plateau_n=120, right_plateau_n=90, first_side="left"))
    truth = script.truth
    assert [(r.side, r.index) for r in truth] == [("left", k) for k in range(1, 8)] + [("right", k) for k in range(1, 8)]
    for r in truth:
        assert r.onset_s < r.hold_start_s < r.hold_end_s < r.release_s
        assert r.hold_s == pytest.approx(r.hold_end_s - r.hold_start_s)
        assert r.target_met == (r.hold_s >= 5.5)
        assert script.side_at(np.array([r.onset_s]))[0] == r.side
        assert r.baseline_n == pytest.approx(float(script.offset_at(np.array([r.onset_s]))[0]))
    left = [r.plateau_n for r in truth if r.side == "left"]
    assert 95 < np.mean(left) < 125
    assert all(c.end_s - c.start_s < 1.0 for c in script.twitches)
    lsi = script.truth_lsi_pct()
    assert lsi is not None and 65 < lsi < 85


def test_weak_profile_and_failed_holds_and_dips() -> None:
    pat = PatientProfile.weak(20.0, lsi=0.8)
    assert pat.left_plateau_n == 20.0 and pat.right_plateau_n == 16.0
    script = SessionScript.generate(5, PatientProfile(failed_hold_prob=1.0, dip_prob=0.0))
    assert all(not r.target_met for r in script.truth)
    dips = SessionScript.generate(5, PatientProfile(dip_prob=1.0, failed_hold_prob=0.0))
    assert all(c.dip_width_s > 0 for c in dips.reps)


def test_recording_rate_noise_loss_and_packets() -> None:
    script = SessionScript.generate(1, belt=BeltProfile(glitch_prob=1e-3))
    rec = record(script, 50.0, 1, packet_samples=4, loss_prob=0.1, jitter_frac=0.2)
    assert np.all(np.diff(rec.t_s) > 0)
    dt = np.diff(rec.t_s)
    assert dt.max() >= 4 * 0.02 * 0.8  # at least one lost packet
    assert 0.8 < rec.t_s.size / (script.duration_s * 50.0 * 0.9) < 1.2
    sizes = np.diff(rec.packet_bounds)
    assert sizes.max() <= 4 and rec.packet_bounds[-1] == rec.t_s.size
    assert sum(len(t) for t, _ in rec.packets()) == rec.t_s.size
    clean = script.force_at(rec.t_s)
    resid = rec.force_n - clean
    assert np.median(np.abs(resid)) < 2.0 and np.abs(resid).max() > 150  # noise plus glitches
    again = record(script, 50.0, 1, packet_samples=4, loss_prob=0.1, jitter_frac=0.2)
    assert np.array_equal(again.force_n, rec.force_n)


def test_bursty_loss_has_the_requested_rate() -> None:
    rng = np.random.default_rng(0)
    lost = lost_packets(100_000, rng, 0.05, burst_len=3.0)
    assert 0.04 < lost.mean() < 0.06
    runs = np.diff(np.flatnonzero(np.diff(np.concatenate(([0], lost.astype(int), [0]))) != 0))[::2]
    assert 2.5 < runs.mean() < 3.5


def test_random_scenarios_cover_the_issue_list() -> None:
    recs = [random_scenario(s) for s in range(30)]
    rates = {r.rate_hz for r in recs}
    assert {10.0, 1000.0} <= rates
    strong = [max(r.script.patient.left_plateau_n, r.script.patient.right_plateau_n) for r in recs]
    assert min(strong) < 30 and max(strong) > 150
    assert any(r.script.step_times_s for r in recs)
    assert any(r.script.twitches for r in recs)
    assert any(r.loss_prob > 0.05 for r in recs)
    assert any(abs(r.script.drift_n_per_s) * 60 > 5 for r in recs)
    assert any(not t.target_met for r in recs for t in r.truth)
