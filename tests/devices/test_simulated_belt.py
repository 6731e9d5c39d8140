"""The simulated belt through bleak's public API, bleak-retry-connector,
BeltSource and the real decoder: the path a real belt takes."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from sensorapp.devices.base import (
    CommandTimeoutError,
    ConnectError,
    DeviceNotFoundError,
    LinkLost,
    LinkRestored,
    LinkState,
    SamplesReceived,
    SourceEvent,
)
from sensorapp.devices.belt import BeltSource
from sensorapp.devices.registry import open_source
from sensorapp.devices.sim_backend import SimulatedBleakClient, SimulatedBleakScanner
from sensorapp.devices.simulated import SimulationOptions, current_simulation, start_simulation
from sensorapp.simulation.world import LinkDrop


class Collector:
    def __init__(self) -> None:
        self.events: list[SourceEvent] = []
        self.blocks = []

    def __call__(self, event: SourceEvent) -> None:
        if isinstance(event, SamplesReceived):
            self.blocks.append(event.block)
        else:
            self.events.append(event)

    def samples(self) -> tuple[np.ndarray, np.ndarray]:
        return np.concatenate([b.t_s for b in self.blocks]), np.concatenate([b.force_n for b in self.blocks])


async def stream_until(source: BeltSource, col: Collector, device_s: float, timeout_s: float = 20.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not col.blocks or col.blocks[-1].t_s[-1] < device_s:
            await asyncio.sleep(0.01)


async def test_stream_matches_the_virtual_patient() -> None:
    desc = start_simulation(SimulationOptions(speed=40, seed=2))
    sim = current_simulation()
    assert sim is not None
    src = open_source(desc)
    col = Collector()
    src.subscribe(col)
    await src.connect()
    assert src.info is not None and src.info.serial == "GMB-0001E240" and src.info.kind == "simulated"
    await src.start_stream(200)
    await stream_until(src, col, 20.0)
    await src.disconnect()
    t, f = col.samples()
    assert np.all(np.diff(t) > 0)
    np.testing.assert_allclose(np.diff(t), 0.005, atol=1e-9)  # 200 Hz, no gaps
    assert src.stats.lost_packets == 0 and src.stats.gaps == []
    # The recording's time 0 is the belt clock at the first sample; the patient runs on the belt clock.
    assert src.decoder is not None and src.decoder.origin_device_us is not None
    t_belt = t + (src.decoder.origin_device_us - sim.belt.config.boot_offset_us) / 1e6
    truth = sim.patient.force_at(t_belt)
    err = np.abs(f - truth)
    # Factory calibration: 120 counts zero error (0.07 N) and 0.2 % gain error; ADC noise 0.01 N.
    assert np.max(err - 0.002 * np.abs(truth)) < 0.15
    assert f.max() > 60  # the patient really pressed


async def test_link_drop_reconnects_and_records_the_gap() -> None:
    desc = start_simulation(SimulationOptions(speed=20, seed=1, link_drops=(LinkDrop(6.0, 2.0),)))
    src = open_source(desc)
    col = Collector()
    src.subscribe(col)
    await src.connect()
    await src.start_stream(100)
    await stream_until(src, col, 14.0)
    await src.disconnect()
    kinds = [type(e) for e in col.events]
    assert LinkLost in kinds and LinkRestored in kinds
    assert kinds.index(LinkLost) < kinds.index(LinkRestored)
    assert src.stats.reconnects == 1
    (gap,) = [g for g in src.stats.gaps if g.cause == "link loss"]
    # Out of range for 2 s of device time, plus reconnect time (>= 0.25 s host backoff x 20).
    assert 2.0 <= gap.duration_s < 2.0 + 0.25 * 20 + 3.0
    t, _ = col.samples()
    steps = np.diff(t)
    assert np.all(steps > 0)
    assert np.sum(steps > 0.015) == 1  # exactly one hole, no invented samples
    assert t[-1] >= 14.0


async def test_connect_retries_then_succeeds() -> None:
    desc = start_simulation(SimulationOptions(speed=10, fail_connects=1))
    src = open_source(desc, connect_attempts=3)
    await src.connect()
    assert src.state == LinkState.CONNECTED
    await src.disconnect()


async def test_connect_failure_is_a_clear_error() -> None:
    desc = start_simulation(SimulationOptions(speed=10, fail_connects=10))
    src = open_source(desc, connect_attempts=1)
    with pytest.raises(ConnectError, match="could not connect to GMBelt-E240"):
        await src.connect()
    assert src.state == LinkState.DISCONNECTED


async def test_unknown_address_is_not_found() -> None:
    start_simulation(SimulationOptions(speed=10))
    src = BeltSource("5A:1E:00:00:00:99", client_backend=SimulatedBleakClient, scanner_backend=SimulatedBleakScanner, find_timeout_s=0.3)
    with pytest.raises(DeviceNotFoundError, match="no device with address 5A:1E:00:00:00:99"):
        await src.connect()


async def test_command_without_reply_times_out() -> None:
    desc = start_simulation(SimulationOptions(speed=10))
    sim = current_simulation()
    assert sim is not None
    src = open_source(desc, command_timeout_s=0.2)
    sim.device.mute_replies = True
    with pytest.raises(CommandTimeoutError, match="did not answer GET_INFO within 0.2 s"):
        await src.connect()


async def test_tare_zeroes_the_rest_level() -> None:
    desc = start_simulation(SimulationOptions(speed=5))
    src = open_source(desc)
    col = Collector()
    src.subscribe(col)
    await src.connect()
    await src.start_stream(100)
    await stream_until(src, col, 0.5)
    removed = await src.tare()  # the virtual patient rests for the first 4 s
    assert 3.0 < removed < 9.5  # the belt's pre-tension
    n_before = len(col.blocks)
    await stream_until(src, col, 2.6)
    _, f = (np.concatenate([b.t_s for b in col.blocks[n_before:]]), np.concatenate([b.force_n for b in col.blocks[n_before:]]))
    assert abs(float(np.median(f))) < 0.5
    await src.disconnect()


async def test_uncalibrated_belt_falls_back_to_the_nominal_gain_and_says_so() -> None:
    desc = start_simulation(SimulationOptions(speed=10))
    sim = current_simulation()
    assert sim is not None
    sim.belt.config.calibrated = False
    src = open_source(desc)
    await src.connect()
    assert src.info is not None and "not calibrated" in src.info.calibration
    assert src.calibration is not None and src.calibration.newtons_per_count == pytest.approx(0.000596)
    await src.disconnect()


async def test_a_user_calibration_for_the_belt_serial_overrides_the_factory_one(tmp_path, monkeypatch) -> None:
    from calibration import CalibrationStore, LinearCalibration

    monkeypatch.setenv("SENSORAPP_DATA_DIR", str(tmp_path))
    CalibrationStore(tmp_path / "calibrations.json").put(
        "GMB-0001E240", LinearCalibration(14_000.0, 0.0006, source="fit", created_at="2026-11-01T10:00:00+00:00"), model_id=1
    )
    src = open_source(start_simulation(SimulationOptions(speed=10)))
    await src.connect()
    assert src.calibration is not None and src.calibration.newtons_per_count == pytest.approx(0.0006)
    assert src.info is not None and src.info.calibration.startswith("fit (2026-11-01")
    await src.disconnect()


async def test_a_corrupt_calibration_file_is_reported_and_the_belt_calibration_used(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SENSORAPP_DATA_DIR", str(tmp_path))
    (tmp_path / "calibrations.json").write_text('{"format": "sensorapp-calibrations", "vers')
    src = open_source(start_simulation(SimulationOptions(speed=10)))
    await src.connect()
    assert src.info is not None and "calibration file not used" in src.info.calibration and "not valid JSON" in src.info.calibration
    assert src.calibration is not None and src.calibration.source == "factory"
    await src.disconnect()
    assert (tmp_path / "calibrations.json").read_text().endswith('"vers')  # left untouched


async def test_a_second_tare_replaces_the_first_instead_of_adding_to_it() -> None:
    desc = start_simulation(SimulationOptions(speed=5))
    src = open_source(desc)
    col = Collector()
    src.subscribe(col)
    await src.connect()
    await src.start_stream(100)
    await stream_until(src, col, 0.5)
    first = await src.tare()
    second = await src.tare()  # still at rest: nothing more to remove
    assert 3.0 < first < 9.5 and abs(second) < 0.5
    n_before = len(col.blocks)
    await stream_until(src, col, 3.5)
    f = np.concatenate([b.force_n for b in col.blocks[n_before:]])
    assert abs(float(np.median(f))) < 0.5  # applied once: a doubled tare would read about -first
    await src.disconnect()


async def test_a_tare_of_a_loaded_belt_is_refused_and_changes_nothing() -> None:
    from sensorapp.devices.base import TareRejectedError
    from sensorapp.devices.belt import TARE_MAX_REST_N
    from sensorapp.simulation.patient import PatientProfile

    # A steady 40 N at rest: a leg that keeps pressing (or a belt strapped far too tight).
    desc = start_simulation(SimulationOptions(speed=5, patient=PatientProfile(pretension_n=(40.0, 40.0), pretension_step_n=0.0)))
    src = open_source(desc)
    col = Collector()
    src.subscribe(col)
    await src.connect()
    await src.start_stream(100)
    await stream_until(src, col, 0.5)
    assert isinstance(src, BeltSource) and src.calibration is not None
    zero_before = src.calibration.zero_counts
    with pytest.raises(TareRejectedError, match=rf"reads 4\d N at rest, more than a snug belt's {TARE_MAX_REST_N:.0f} N"):
        await src.tare()
    assert src.calibration.zero_counts == zero_before
    await src.disconnect()
