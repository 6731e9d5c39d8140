"""LSL outlet: the clock map, and an in-process inlet on loopback that gets every sample, the metadata and the markers."""

from __future__ import annotations

import time
import uuid
from typing import Any

import numpy as np
import pytest

from sensorapp.interop.lsl import DeviceClockMap, LslOutlet, LslRecording, marker_for
from sensorapp.signal.detector import OnlineRepDetector
from sensorapp.simulation.patient import PatientProfile, VirtualPatient

pylsl = pytest.importorskip("pylsl", reason="pylsl is a runtime dependency (requirements/app.lock)")

RATE_HZ = 100.0
OFFSET_S = 1234.5  # LSL seconds at device time 0, in the injected clock


# ------------------------------------------------------------------ the clock map (pure)


def test_clock_map_starts_from_the_first_block_and_follows_the_lower_envelope() -> None:
    rng = np.random.default_rng(4)
    cm = DeviceClockMap()
    true_offset, min_delay = 50.0, 0.004
    offsets = []
    for k in range(1, 3000):  # 300 s of 10-sample blocks with 4..40 ms of arrival jitter
        t = k * 0.1
        cm.observe(t, t + true_offset + min_delay + rng.exponential(0.01))
        offsets.append(cm.offset_s)
    first = offsets[0]
    assert first > true_offset + min_delay  # the first block's own delay is in the first offset...
    assert offsets[-1] == pytest.approx(true_offset + min_delay, abs=1e-3)  # ...and is corrected slowly
    steps = np.abs(np.diff(offsets))
    assert steps.max() <= 5e-4 * 0.1 + 1e-12  # never faster than the slew limit: jitter stays out
    stamps = cm.to_lsl(np.arange(0, 300, 0.01))
    assert np.all(np.diff(stamps) > 0)


def test_clock_map_corrects_a_slow_drift() -> None:
    cm = DeviceClockMap()
    drift = 100e-6  # the device clock runs 100 ppm slow
    for k in range(1, 6000):  # 10 min
        t = k * 0.1
        cm.observe(t, 10.0 + t * (1 + drift) + 0.005)
    host_now = 10.0 + 600.0 * (1 + drift) + 0.005
    assert float(cm.to_lsl(600.0)) == pytest.approx(host_now, abs=2e-3)  # uncorrected it would be 60 ms off


def test_marker_texts_and_times() -> None:
    from sensorapp.signal.events import ContractionStarted, HoldProgress, Released, RepRejected, TargetReached

    assert marker_for(ContractionStarted(t_s=5.1, onset_s=5.0, baseline_n=1.0, threshold_n=6.0)) == ("rep onset", 5.0)
    assert marker_for(TargetReached(t_s=11.2, hold_s=6.0, target_s=6.0)) == ("6 s reached", 11.2)
    assert marker_for(Released(t_s=12.6, release_s=12.3, hold_s=6.4)) == ("release", 12.3)
    assert marker_for(RepRejected(t_s=3.0, reason="too short", duration_s=0.4, onset_s=2.5)) == ("not a rep: too short", 3.0)
    assert marker_for(HoldProgress(t_s=7.0, hold_s=1.0, target_s=6.0)) is None


# ------------------------------------------------------------------ outlet -> inlet on loopback


class StepClock:
    """LSL time = device time of the newest sample fed + OFFSET_S: arrivals without jitter, so the map is exact."""

    def __init__(self) -> None:
        self.device_now = 0.0

    def __call__(self) -> float:
        return self.device_now + OFFSET_S


def open_inlet(prop: str, value: str) -> Any:
    found = pylsl.resolve_byprop(prop, value, 1, 30.0)
    assert found, f"no LSL stream with {prop}={value} on loopback"
    inlet = pylsl.StreamInlet(found[0], max_buflen=600, recover=False)
    inlet.open_stream(30.0)
    return inlet


def pull_all(inlet: Any, n: int) -> tuple[list[Any], list[float]]:
    """Pull until n samples came (a generous guard, not a timing assertion: it only stops a hang)."""
    values: list[Any] = []
    stamps: list[float] = []
    guard = time.monotonic() + 60.0
    while len(values) < n and time.monotonic() < guard:
        chunk, ts = inlet.pull_chunk(timeout=0.5, max_samples=100_000)
        values += chunk
        stamps += ts
    return values, stamps


def test_inlet_gets_every_sample_with_metadata_and_markers_at_device_times() -> None:
    vp = VirtualPatient(PatientProfile(seed=2, reps_per_side=7, rest_s=7.0, turnover_s=8.0))
    t = np.arange(int(vp.duration_s * RATE_HZ)) / RATE_HZ
    f = vp.force_at(t)
    turn = vp.truth[7].onset_s - 4.0
    serial = f"TEST-{uuid.uuid4().hex[:10]}"
    clock = StepClock()
    outlet = LslOutlet("GMBelt-T (simulated)", serial, RATE_HZ, model="GMBelt A1", clock=clock)
    force_inlet = open_inlet("source_id", serial)
    marker_inlet = open_inlet("source_id", f"{serial}-markers")

    info = force_inlet.info()
    assert (info.name(), info.type(), info.channel_count()) == ("sensorapp GMBelt-T (simulated)", "Force", 1)
    assert info.nominal_srate() == RATE_HZ and info.channel_format() == pylsl.cf_float32
    assert info.source_id() == serial
    ch = info.desc().child("channels").child("channel")
    assert (ch.child_value("label"), ch.child_value("unit"), ch.child_value("type")) == ("force", "newtons", "Force")
    assert info.desc().child("acquisition").child_value("serial_number") == serial
    assert marker_inlet.info().type() == "Markers" and marker_inlet.info().channel_format() == pylsl.cf_string

    recording = LslRecording(outlet, side="left")
    reference = OnlineRepDetector(side="left")  # the same detector fed the same blocks: the markers' truth
    expected: list[tuple[str, float]] = [("side change: left", 0.0)]
    for lo in range(0, t.size, 10):
        tb, fb = t[lo : lo + 10], f[lo : lo + 10]
        if recording.detector.side == "left" and tb[0] >= turn:
            recording.set_side("right", float(tb[0]))
            reference.side = "right"
            expected.append(("side change: right", float(tb[0])))
        clock.device_now = float(tb[-1])
        recording.feed(tb, fb)
        expected += [m for m in map(marker_for, reference.feed(tb, fb)) if m is not None]
    recording.finish()
    expected += [m for m in map(marker_for, reference.flush()) if m is not None]

    values, stamps = pull_all(force_inlet, t.size)
    assert len(values) == t.size  # every sample, none twice
    np.testing.assert_array_equal(np.asarray(values, dtype=np.float32)[:, 0], f.astype(np.float32))
    np.testing.assert_allclose(np.asarray(stamps) - OFFSET_S, t, atol=1e-6)  # device time, not arrival time

    markers, marker_stamps = pull_all(marker_inlet, len(expected))
    recording.close()
    got = [(m[0], ts - OFFSET_S) for m, ts in zip(markers, marker_stamps, strict=True)]
    assert [g[0] for g in got] == [e[0] for e in expected]
    np.testing.assert_allclose([g[1] for g in got], [e[1] for e in expected], atol=1e-6)
    texts = [g[0] for g in got]
    not_reps = sum(x.startswith("not a rep") for x in texts)
    assert texts.count("rep onset") == 14 + not_reps and texts.count("6 s reached") >= 12
    onsets = np.array([g[1] for g in got if g[0] == "rep onset"])
    for rep in vp.truth:  # every real press of the virtual patient has its onset marker
        assert np.min(np.abs(onsets - rep.onset_s)) < 0.3
