"""Online == offline: the same samples give the same reps, bit for bit, whatever the packets."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sensorapp.signal import DetectorParams, OnlineRepDetector, RepCompleted, RepRejected, analyze
from sensorapp.simulation.synthetic import BeltProfile, PatientProfile, SessionScript, random_scenario, record

SHORT = PatientProfile(reps_per_side=3, rest_s=(3.0, 6.0), side_switch_s=(8.0, 12.0), twitch_prob=0.6)
HARSH = BeltProfile(step_prob=0.6, glitch_prob=2e-3)


def online(t_s: np.ndarray, force_n: np.ndarray, sizes: list[int], params: DetectorParams) -> tuple[list, list]:
    det = OnlineRepDetector(params)
    events = []
    i = k = 0
    while i < t_s.size:
        n = sizes[k % len(sizes)]
        events += det.feed(t_s[i : i + n], force_n[i : i + n])
        i += n
        k += 1
    events += det.flush()
    reps = [e.rep for e in events if isinstance(e, RepCompleted)]
    rejected = [e for e in events if isinstance(e, RepRejected)]
    assert reps == det.reps
    return reps, rejected


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    rate_hz=st.sampled_from([10.0, 25.0, 80.0, 200.0]),
    loss=st.floats(0.0, 0.1),
    sizes=st.lists(st.integers(1, 80), min_size=1, max_size=12),
)
def test_online_reps_equal_offline_reps_for_any_packetisation(seed: int, rate_hz: float, loss: float, sizes: list[int]) -> None:
    script = SessionScript.generate(seed, SHORT, HARSH)
    rec = record(script, rate_hz, seed, loss_prob=loss, jitter_frac=0.2)
    params = DetectorParams()
    offline = analyze(rec.t_s, rec.force_n, params=params)
    reps, rejected = online(rec.t_s, rec.force_n, sizes, params)
    assert reps == offline.reps
    assert rejected == offline.rejections
    assert len(reps) >= 1


@pytest.mark.parametrize("seed", [3, 11])
def test_identity_on_full_benchmark_sessions(seed: int) -> None:
    rec = random_scenario(seed)
    offline = analyze(rec.t_s, rec.force_n)
    sizes = np.diff(rec.packet_bounds).tolist()  # the recording's own packets
    reps, _ = online(rec.t_s, rec.force_n, sizes, DetectorParams())
    assert reps == offline.reps
    assert len(reps) == len(rec.truth)


def test_identity_at_1khz_with_20_sample_packets() -> None:
    script = SessionScript.generate(5, SHORT, HARSH)
    rec = record(script, 1000.0, 5, loss_prob=0.03)
    offline = analyze(rec.t_s, rec.force_n)
    reps, _ = online(rec.t_s, rec.force_n, [20], DetectorParams())
    assert reps == offline.reps and len(reps) == len(script.truth)


def test_identity_survives_buffer_compaction() -> None:
    # A long recording fed online forces the buffer to drop old samples many times.
    script = SessionScript.generate(9, PatientProfile(), BeltProfile(), sets=3)
    rec = record(script, 200.0, 9, loss_prob=0.02)
    offline = analyze(rec.t_s, rec.force_n)
    reps, _ = online(rec.t_s, rec.force_n, [7, 33, 1, 64], DetectorParams())
    assert reps == offline.reps and len(reps) == 42


def test_side_attribute_and_side_labels_give_the_same_reps() -> None:
    """The GUI sets ``side`` between packets and labels the samples it logs the same way."""
    script = SessionScript.generate(21, PatientProfile(left_plateau_n=250.0, right_plateau_n=22.0, reps_per_side=3), HARSH)
    rec = record(script, 100.0, 21, packet_samples=10, loss_prob=0.02)
    det = OnlineRepDetector(side=None)
    labels = np.empty(rec.t_s.size, dtype=object)
    reps = []
    for (ts, fs), start in zip(rec.packets(), rec.packet_bounds[:-1], strict=True):
        side = str(rec.script.side_at(ts[:1])[0])
        det.side = side
        labels[start : start + ts.size] = side
        reps += [e.rep for e in det.feed(ts, fs) if isinstance(e, RepCompleted)]
    reps += [e.rep for e in det.flush() if isinstance(e, RepCompleted)]
    offline = analyze(rec.t_s, rec.force_n, side=labels).reps
    assert [r.plateau_n for r in reps] == [r.plateau_n for r in offline]
    assert sorted((r.side, r.index) for r in offline) == [(s, k) for s in ("left", "right") for k in (1, 2, 3)]
    assert [(r.side, r.index) for r in reps] == [(r.side, r.index) for r in offline]
