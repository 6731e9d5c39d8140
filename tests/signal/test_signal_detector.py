"""The rep detector: what counts as a rep, baselines, guards, events and live attributes."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from signal_builders import Press, Signal, build

from sensorapp.signal import (
    ContractionStarted,
    DetectorParams,
    HoldProgress,
    OnlineRepDetector,
    Released,
    RepCompleted,
    RepRejected,
    RepState,
    TargetReached,
    analyze,
    analyze_recording,
)

EDGE = math.acos(-0.6) / math.pi


def expected_hold(p: Press) -> float:
    return p.hold_s + (1 - EDGE) * (p.rise_s + p.release_s)


def feed_all(det: OnlineRepDetector, sig: Signal, packet: int = 10) -> list[object]:
    events: list[object] = []
    for i in range(0, sig.t_s.size, packet):
        events += det.feed(sig.t_s[i : i + packet], sig.force_n[i : i + packet])
    events += det.flush()
    return events


def test_three_presses_found_with_onset_hold_and_baseline() -> None:
    presses = [Press(3.0, 90.0), Press(16.0, 85.0, rise_s=1.0), Press(29.0, 80.0, hold_s=2.5)]
    sig = build(presses, 40.0, 100.0, baseline_n=5.0, noise_n=0.3)
    reps = analyze_recording(sig.t_s, sig.force_n)
    assert len(reps) == 3
    for rep, p in zip(reps, presses, strict=True):
        assert rep.onset_s == pytest.approx(p.start_s, abs=0.15)
        assert rep.release_s == pytest.approx(p.start_s + p.rise_s + p.hold_s + p.release_s, abs=0.15)
        assert rep.hold_s == pytest.approx(expected_hold(p), abs=0.05)
        assert rep.plateau_n == pytest.approx(p.level_n, abs=0.5)
        assert rep.baseline_n == pytest.approx(5.0, abs=0.2)
    assert [r.index for r in reps] == [1, 2, 3]
    assert [r.target_met for r in reps] == [True, True, False]  # the last one is a failed short hold


def test_twitches_shorter_than_a_second_are_not_reps() -> None:
    sig = build([Press(3.0, 30.0, rise_s=0.25, hold_s=0.1, release_s=0.25), Press(10.0, 60.0)], 20.0, 100.0)
    result = analyze(sig.t_s, sig.force_n)
    assert len(result.reps) == 1
    assert result.reps[0].onset_s == pytest.approx(10.0, abs=0.15)
    assert [r.reason for r in result.rejections] == ["too short"]
    assert result.rejections[0].duration_s < 1.0


def test_bump_that_never_holds_is_rejected() -> None:
    # 1.1 s long, but a peak rather than a hold: at 80 % of its own plateau for ~0.4 s
    sig = build([Press(3.0, 40.0, rise_s=0.55, hold_s=0.0, release_s=0.55), Press(10.0, 60.0)], 20.0, 100.0)
    result = analyze(sig.t_s, sig.force_n)
    assert len(result.reps) == 1
    assert [r.reason for r in result.rejections] == ["bump"]


def test_pre_tension_does_not_change_the_score() -> None:
    def baseline(t: np.ndarray) -> np.ndarray:
        return np.where(t < 12.0, 2.0, 9.0)  # the belt was re-tightened between reps

    sig = build([Press(3.0, 50.0), Press(16.0, 50.0)], 26.0, 100.0, baseline_n=baseline, noise_n=0.2)
    reps = analyze_recording(sig.t_s, sig.force_n)
    assert len(reps) == 2
    assert reps[0].baseline_n == pytest.approx(2.0, abs=0.2)
    assert reps[1].baseline_n == pytest.approx(9.0, abs=0.2)
    assert reps[0].plateau_n == pytest.approx(reps[1].plateau_n, abs=0.3)


def test_residual_step_after_release_is_closed_by_the_stuck_guard() -> None:
    # After the first press the belt stays 8 N tighter, above the offset threshold.
    def baseline(t: np.ndarray) -> np.ndarray:
        return np.where(t < 10.0, 0.0, 8.0)

    p1 = Press(3.0, 60.0)  # released at 10.3 s, to the new level
    sig = build([p1, Press(20.0, 60.0)], 30.0, 100.0, baseline_n=baseline, noise_n=0.2)
    reps = analyze_recording(sig.t_s, sig.force_n)
    assert len(reps) == 2
    assert reps[0].closed_by == "stuck guard"
    assert reps[0].hold_s == pytest.approx(expected_hold(p1), abs=0.1)
    assert reps[1].closed_by == "release"
    assert reps[1].baseline_n == pytest.approx(8.0, abs=0.3)
    assert reps[1].plateau_n == pytest.approx(60.0, abs=0.5)


@pytest.mark.parametrize("lead_s", [0.7, 2.0])
def test_pre_tension_step_just_before_a_press_is_its_baseline(lead_s: float) -> None:
    def baseline(t: np.ndarray) -> np.ndarray:
        return np.where(t < 20.0 - lead_s, 0.0, 7.0)

    sig = build([Press(3.0, 40.0), Press(20.0, 40.0)], 32.0, 100.0, baseline_n=baseline, noise_n=0.2)
    result = analyze(sig.t_s, sig.force_n)
    assert len(result.reps) == 2
    rep = result.reps[1]
    assert rep.baseline_n == pytest.approx(7.0, abs=0.3)
    assert rep.plateau_n == pytest.approx(40.0, abs=0.5)
    assert rep.onset_s == pytest.approx(20.0, abs=0.15)


def test_a_lasting_step_is_not_a_rep_and_the_detector_comes_back() -> None:
    def baseline(t: np.ndarray) -> np.ndarray:
        return np.where(t < 14.0, 0.0, 8.0)  # 8 N > onset threshold, < 30 % of the plateau

    sig = build([Press(3.0, 60.0)], 30.0, 100.0, baseline_n=baseline, noise_n=0.2)
    det = OnlineRepDetector()
    events = feed_all(det, sig)
    assert len(det.reps) == 1
    assert any(isinstance(e, RepRejected) and e.reason == "baseline step" for e in events)
    assert det.state == RepState.REST
    assert det.baseline_n == pytest.approx(8.0, abs=0.3)


def test_live_events_states_and_attributes() -> None:
    press = Press(3.0, 80.0, rise_s=0.6, hold_s=6.5)
    sig = build([press], 16.0, 100.0, baseline_n=4.0, noise_n=0.2)
    det = OnlineRepDetector()
    assert det.baseline_n is None and det.onset_threshold_n is None
    events: list[object] = []
    states = []
    for i in range(0, sig.t_s.size, 10):
        events += det.feed(sig.t_s[i : i + 10], sig.force_n[i : i + 10])
        states.append((float(sig.t_s[min(i + 9, sig.t_s.size - 1)]), det.state))
        if 2.0 < sig.t_s[i] < 2.5:
            assert det.onset_threshold_n == pytest.approx(4.0 + 5.0, abs=0.3)  # absolute: baseline + 5 N floor
        if 6.0 < sig.t_s[i] < 6.5:
            assert det.state == RepState.HOLDING
            assert det.plateau_ref_n == pytest.approx(80.0, abs=1.0)
            assert det.hold_level_n == pytest.approx(4.0 + 64.0, abs=1.0)
            assert det.hold_elapsed_s == pytest.approx(sig.t_s[i + 9] - 3.0 - EDGE * 0.6, abs=0.1)
    events += det.flush()
    kinds = [type(e) for e in events]
    assert kinds[0] is ContractionStarted
    assert kinds[-2:] == [Released, RepCompleted]
    assert kinds.count(TargetReached) == 1
    progress = [e for e in events if isinstance(e, HoldProgress)]
    assert 40 <= len(progress) <= 10 * 7.2  # at most 10 per second of hold
    assert all(b.t_s - a.t_s >= 0.1 - 1e-9 for a, b in itertools.pairwise(progress))
    reached = next(e for e in events if isinstance(e, TargetReached))
    assert reached.hold_s >= 6.0 and reached.t_s == pytest.approx(3.0 + EDGE * 0.6 + 6.0, abs=0.15)
    started = events[0]
    assert isinstance(started, ContractionStarted)
    assert started.onset_s == pytest.approx(3.0, abs=0.15) and started.t_s > started.onset_s
    seen = [s for _, s in states]
    order = [RepState.REST, RepState.RISING, RepState.HOLDING, RepState.RELEASING, RepState.REST]
    compact = [s for k, s in enumerate(seen) if k == 0 or s != seen[k - 1]]
    assert compact == order
    rep = events[-1].rep  # type: ignore[attr-defined]
    assert rep == analyze_recording(sig.t_s, sig.force_n)[0]


def test_rep_completed_waits_for_post_release_rest_or_flush() -> None:
    sig = build([Press(3.0, 50.0)], 11.2, 100.0)  # data stops 0.5 s after the release
    det = OnlineRepDetector()
    events: list[object] = []
    for i in range(0, sig.t_s.size, 20):
        events += det.feed(sig.t_s[i : i + 20], sig.force_n[i : i + 20])
    assert any(isinstance(e, Released) for e in events)
    assert not any(isinstance(e, RepCompleted) for e in events)
    flushed = det.flush()
    assert [type(e) for e in flushed] == [RepCompleted]
    assert det.flush() == []
    immediate = OnlineRepDetector(DetectorParams(post_baseline_s=0.0))
    events = feed_all(immediate, sig, 20)
    released = next(k for k, e in enumerate(events) if isinstance(e, Released))
    assert isinstance(events[released + 1], RepCompleted)


def test_side_changes_apply_to_reps_completed_afterwards() -> None:
    sig = build([Press(3.0, 60.0), Press(15.0, 60.0), Press(35.0, 40.0)], 46.0, 100.0)
    det = OnlineRepDetector(side="left")
    reps = []
    for i in range(0, sig.t_s.size, 25):
        if sig.t_s[i] >= 28.0 and det.side == "left":
            det.side = "right"
        reps += [e.rep for e in det.feed(sig.t_s[i : i + 25], sig.force_n[i : i + 25]) if isinstance(e, RepCompleted)]
    reps += [e.rep for e in det.flush() if isinstance(e, RepCompleted)]
    assert [(r.side, r.index) for r in reps] == [("left", 1), ("left", 2), ("right", 1)]


def test_per_sample_side_labels_take_the_side_at_onset() -> None:
    sig = build([Press(3.0, 60.0), Press(15.0, 60.0), Press(35.0, 40.0)], 46.0, 100.0)
    labels = np.where(sig.t_s < 28.0, "left", "right").astype(object)
    labels[sig.t_s < 1.0] = ""
    reps = analyze_recording(sig.t_s, sig.force_n, side=labels)
    assert [(r.side, r.index) for r in reps] == [("left", 1), ("left", 2), ("right", 1)]
    assert [r.side for r in analyze_recording(sig.t_s, sig.force_n, side="right")] == ["right"] * 3


def test_weak_patient_after_a_strong_side_is_still_detected() -> None:
    # 0.1 x 250 N would be 25 N: the threshold must not carry over to the other side.
    sig = build([Press(3.0, 250.0), Press(16.0, 250.0), Press(40.0, 20.0), Press(53.0, 20.0)], 64.0, 100.0, noise_n=0.3)
    labels = np.where(sig.t_s < 30.0, "left", "right").astype(object)
    reps = analyze_recording(sig.t_s, sig.force_n, side=labels)
    assert [(r.side, round(r.plateau_n)) for r in reps] == [("left", 250), ("left", 250), ("right", 20), ("right", 20)]


def test_packet_loss_in_the_hold_is_bridged_and_flagged() -> None:
    sig = build([Press(3.0, 60.0)], 14.0, 100.0, noise_n=0.2)
    keep = ~((sig.t_s > 6.0) & (sig.t_s < 6.6))
    reps = analyze_recording(sig.t_s[keep], sig.force_n[keep])
    assert len(reps) == 1
    assert reps[0].gap_bridged is True
    assert reps[0].hold_s == pytest.approx(expected_hold(Press(3.0, 60.0)), abs=0.05)


def test_a_twitch_whose_end_is_lost_is_not_stretched_into_a_rep() -> None:
    sig = build([Press(3.0, 25.0, rise_s=0.25, hold_s=0.1, release_s=0.25), Press(10.0, 60.0)], 20.0, 10.0, noise_n=0.2)
    keep = ~((sig.t_s > 3.25) & (sig.t_s < 4.1))  # the twitch's release fell into lost packets
    result = analyze(sig.t_s[keep], sig.force_n[keep])
    assert len(result.reps) == 1 and result.reps[0].onset_s == pytest.approx(10.0, abs=0.2)


@pytest.mark.parametrize("rate_hz", [10.0, 25.0, 1000.0])
def test_rates_from_10_to_1000_hz(rate_hz: float) -> None:
    presses = [Press(3.0, 30.0), Press(16.0, 30.0)]
    sig = build(presses, 27.0, rate_hz, noise_n=0.5)
    reps = analyze_recording(sig.t_s, sig.force_n)
    assert len(reps) == 2
    for rep, p in zip(reps, presses, strict=True):
        assert rep.hold_s == pytest.approx(expected_hold(p), abs=max(2 / rate_hz, 0.05))
    assert (reps[0].rfd_n_per_s is None) == (rate_hz < 50)


def test_glitches_make_neither_reps_nor_peaks() -> None:
    sig = build([Press(3.0, 60.0)], 20.0, 100.0, noise_n=0.2)
    f = sig.force_n.copy()
    for k in (150, 700, 702, 1500, 1502):  # singles and pairs one sample apart, at rest and in the hold
        f[k] = 2000.0
    result = analyze(sig.t_s, f)
    assert len(result.reps) == 1 and not result.rejections
    assert result.reps[0].peak_n < 62.0


def test_drift_across_a_rep_is_removed() -> None:
    def drifting(t: np.ndarray) -> np.ndarray:
        return 10.0 / 60.0 * t  # 10 N/min, a warming load cell

    press = Press(5.0, 20.0)
    sig = build([press], 16.0, 100.0, baseline_n=drifting, noise_n=0.2)
    rep = analyze_recording(sig.t_s, sig.force_n)[0]
    assert rep.baseline_drift_n_per_min == pytest.approx(10.0, abs=1.5)
    assert rep.plateau_n == pytest.approx(20.0, abs=0.25)
    off = analyze_recording(sig.t_s, sig.force_n, params=DetectorParams(drift_max_n_per_min=0.0))[0]
    assert off.plateau_n > 20.4  # without correction the drift biases a weak patient's plateau


def test_feed_rejects_time_going_backwards() -> None:
    det = OnlineRepDetector()
    det.feed(np.array([0.0, 0.01]), np.array([1.0, 1.0]))
    with pytest.raises(ValueError, match="time must increase"):
        det.feed(np.array([0.01]), np.array([1.0]))
    with pytest.raises(ValueError):
        det.feed(np.array([1.0, 2.0]), np.array([1.0]))
    assert det.feed(np.array([]), np.array([])) == []


def test_rebaseline_and_reset() -> None:
    sig = build([Press(3.0, 60.0)], 14.0, 100.0)
    det = OnlineRepDetector()
    det.feed(sig.t_s[:500], sig.force_n[:500])  # mid-hold
    assert det.state == RepState.HOLDING
    det.rebaseline()
    assert det.state == RepState.REST and det.baseline_n is None
    events = det.feed(sig.t_s[500:], sig.force_n[500:]) + det.flush()
    assert not any(isinstance(e, RepCompleted) for e in events)  # the contraction in progress was dropped
    det.reset()
    later = sig.t_s - 100.0  # time may restart after a reset
    events = feed_all(det, Signal(later, sig.force_n))
    assert sum(isinstance(e, RepCompleted) for e in events) == 1


def test_params_are_validated() -> None:
    with pytest.raises(ValueError):
        DetectorParams(min_rep_s=-1.0)
    with pytest.raises(ValueError):
        DetectorParams(baseline_update_s=0.0)
    with pytest.raises(ValueError):
        DetectorParams(dip_tolerance_s=2.0)
    assert DetectorParams().target_hold_s == 6.0 and DetectorParams().target_tolerance_s == 0.5


def test_release_cut_by_the_end_of_data_still_counts() -> None:
    # The recording stops 0.2 s after the force fell below the offset threshold.
    sig = build([Press(3.0, 60.0)], 10.55, 100.0)
    result = analyze(sig.t_s, sig.force_n)
    assert len(result.reps) == 1 and result.reps[0].closed_by == "end of data"
    held = build([Press(3.0, 60.0, hold_s=10.0)], 9.0, 100.0)  # still pressing when data ends
    assert analyze(held.t_s, held.force_n).reps == []


def test_a_flat_pulse_far_below_the_sides_plateau_is_not_a_rep() -> None:
    # After a 60 N rep the belt is 8 N tighter for 3 s, then back: a step that came and went.
    def baseline(t: np.ndarray) -> np.ndarray:
        return np.where((t > 13.0) & (t < 16.0), 8.0, 0.0)

    sig = build([Press(3.0, 60.0), Press(22.0, 60.0)], 33.0, 100.0, baseline_n=baseline, noise_n=0.2)
    result = analyze(sig.t_s, sig.force_n)
    assert [round(r.onset_s) for r in result.reps] == [3, 22]
    assert any(r.reason == "baseline step" for r in result.rejections)


def test_noise_sigma_ignores_a_step_in_the_window() -> None:
    from sensorapp.signal.detector import noise_sigma

    rng = np.random.default_rng(0)
    w = rng.normal(0.0, 1.0, 128)
    stepped = w + np.where(np.arange(128) < 64, 0.0, 10.0)
    assert noise_sigma(w) == pytest.approx(1.0, rel=0.3)
    assert noise_sigma(stepped) == pytest.approx(noise_sigma(w), rel=0.2)


def test_rest_level_and_foot_of_rise_find_a_pre_tension_step() -> None:
    from sensorapp.signal.levels import foot_of_rise, rest_level

    rng = np.random.default_rng(1)
    t = np.arange(0.0, 4.0, 0.01)
    # rest at 0 N, the belt tightened to 10 N at 1 s, the press starts rising at 3 s
    x = np.where(t < 1.0, 0.0, 10.0) + np.clip(t - 3.0, 0.0, None) * 100.0 + rng.normal(0.0, 0.2, t.size)
    crossing = int(np.searchsorted(t, 3.2))
    level, lo, hi = foot_of_rise(t, x, 0, crossing, quiet_n=2.0, flat_n=0.5, window_s=0.5, max_points=128)
    assert level == pytest.approx(10.0, abs=0.3)
    assert t[lo] >= 1.0 and t[hi - 1] <= 3.0  # the window lies on the step, not on the rise
    ramp = np.linspace(0.0, 5.0, 100)  # quiet (small spread per half) but sloping: not a level
    assert rest_level(ramp, 0, ramp.size, quiet_n=10.0, flat_n=0.5, max_points=128) is None
    assert rest_level(x, 150, 250, quiet_n=2.0, flat_n=0.5, max_points=128) == pytest.approx(10.0, abs=0.3)


def test_live_hold_timer_bridges_short_dips_and_ends_at_a_long_one() -> None:
    from sensorapp.signal.live_hold import LiveHoldTimer

    p = DetectorParams()
    timer = LiveHoldTimer(p)
    t = np.arange(0.0, 10.0, 0.01)
    x = np.full(t.size, 50.0)
    x[(t >= 3.0) & (t < 3.1)] = 10.0  # 100 ms dip: shorter than dip_tolerance_s, bridged
    x[(t >= 6.0) & (t < 7.0)] = 10.0  # 1 s dip: ends the hold
    events: list = []
    timer.start(0.0, 0.0)
    timer.plateau_ref_n, timer.hold_level_n = 50.0, 40.0
    timer.advance(t, x, 0, int(np.searchsorted(t, 5.0)), events)
    assert timer.state == RepState.HOLDING and timer.hold_elapsed_s == pytest.approx(4.99, abs=0.02)
    timer.advance(t, x, int(np.searchsorted(t, 5.0)), int(np.searchsorted(t, 6.5)), events)
    assert timer.state == RepState.RELEASING and timer.hold_elapsed_s == pytest.approx(6.0, abs=1e-9)
    timer.advance(t, x, int(np.searchsorted(t, 6.5)), t.size, events)
    assert timer.state == RepState.HOLDING and timer.hold_start_s == pytest.approx(7.0, abs=1e-9)
    progress = [e for e in events if isinstance(e, HoldProgress)]
    assert progress and all(b.t_s - a.t_s >= p.progress_interval_s - 1e-9 for a, b in itertools.pairwise(progress))
    assert not any(isinstance(e, TargetReached) for e in events)  # neither hold reached 6 s


def test_online_detector_refuses_device_times_beyond_its_grid() -> None:
    from sensorapp.signal.detector import OnlineRepDetector
    from sensorapp.signal.params import MAX_ABS_TIME_S

    det = OnlineRepDetector()
    det.feed(np.array([0.0, 0.01]), np.zeros(2))
    # 1e308 / baseline_update_s overflowed math.floor deep in the engine; now it is refused at the door.
    with pytest.raises(ValueError, match="out of range"):
        det.feed(np.array([1e308]), np.zeros(1))
    with pytest.raises(ValueError, match="out of range"):
        det.feed(np.array([MAX_ABS_TIME_S * 2]), np.zeros(1))
    assert det.feed(np.array([0.02]), np.zeros(1)) == []  # the detector is still usable
