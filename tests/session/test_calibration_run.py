"""The calibration wizard end to end on the simulated belt's bench (the real BeltSource over the
simulated bleak backend), and tare only on the Progressor. Waits are on the device clock."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from calibration import CalibrationStore
from calibration.wizard import MOVING_LOAD_MESSAGE, LoadMovingError, Step
from sensorapp.devices.base import SamplesReceived
from sensorapp.devices.belt import BeltSource
from sensorapp.devices.registry import open_source
from sensorapp.devices.simulated import SimulationOptions, current_simulation, start_simulation
from sensorapp.session.calibration_run import CalibrationRunner, CalibrationUnsupportedError, tare_only
from sensorapp.simulation.virtual_belt import VirtualBelt

G = 9.80665


async def bench(tmp_path: Path) -> tuple[BeltSource, VirtualBelt, CalibrationStore]:
    store = CalibrationStore(tmp_path / "calibrations.json")
    # A virtual clock (max_step_s): a starved process slows the bench down instead of skipping its settling.
    desc = start_simulation(SimulationOptions(speed=20, hanging_mass=True, max_step_s=0.05))
    sim = current_simulation()
    assert sim is not None and isinstance(sim.belt, VirtualBelt) and sim.rig is not None
    src = open_source(desc, calibration_store=store)
    assert isinstance(src, BeltSource)
    await src.connect()
    await src.start_stream()
    return src, sim.belt, store


async def test_the_bench_fit_finds_the_belts_true_gain_and_zero_and_is_written_to_the_belt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    src, belt, store = await bench(tmp_path)
    sim = current_simulation()
    assert sim is not None
    runner = CalibrationRunner(src, [2.0, 5.0, 10.0])
    try:
        for mass in (0.0, 2.0, 5.0, 10.0):
            sim.hang_mass(mass)
            await runner.wait_until_ready()
            point = await runner.capture()
            assert point.mass_kg == mass and point.spread_n <= 0.5 and point.n_samples == 200
        fit = runner.fit()
        factory_error = abs(src.calibration.newtons_per_count / belt.gain - 1) if src.calibration else 1.0  # type: ignore[union-attr]
        gain_error = abs(fit.calibration.newtons_per_count / belt.gain - 1)
        assert gain_error < 0.001  # within 0.1 % of the virtual belt's true small-signal gain
        assert gain_error < factory_error  # and better than the factory's 0.2 %
        assert fit.calibration.zero_counts == pytest.approx(belt.config.true_zero_counts, abs=60)  # 0.04 N
        assert 0.0 < fit.linearity_error_n < 0.1  # the bench belt's bow, sway and noise, reported
        assert fit.residuals_n.shape == (4,)
        saved = await runner.save(store)
    finally:
        runner.close()
    assert runner.wizard.step is Step.ACCEPTED
    assert saved.written_to_device and saved.serial == "GMB-0001E240"
    stored = store.get("GMB-0001E240", model_id=1)
    assert stored is not None and stored.newtons_per_count == fit.calibration.newtons_per_count
    held = await src.read_belt_calibration()
    assert held == saved.device_readback == belt.stored_calibration
    assert held is not None and held.zero_counts == round(fit.calibration.zero_counts)
    assert held.linearity_error_n == pytest.approx(fit.linearity_error_n, rel=1e-6)
    # From now on the belt reads 7 kg as 7 kg.
    forces: list[float] = []
    src.subscribe(lambda e: forces.extend(e.block.force_n.tolist()) if isinstance(e, SamplesReceived) else None)
    sim.hang_mass(7.0)
    waiter = CalibrationRunner(src, [1.0, 2.0])
    try:
        await waiter.wait_device_time(5.0)  # settled
    finally:
        waiter.close()
    assert np.mean(forces[-100:]) == pytest.approx(7.0 * G, abs=0.05)
    # SET_CALIBRATION and GET_CALIBRATION while streaming left the stream whole and in order.
    assert src.stats.gaps == [] and src.stats.lost_packets == 0
    assert "clock went back" not in caplog.text
    # The calibration is in the belt's flash: a power cycle keeps it (a tare in RAM would not survive).
    await src.disconnect()
    belt.power_cycle()
    assert belt.persisted_calibration == held and belt.stored_calibration == held


async def test_a_swinging_mass_is_refused_on_the_bench(tmp_path: Path) -> None:
    src, _belt, _store = await bench(tmp_path)
    sim = current_simulation()
    assert sim is not None
    runner = CalibrationRunner(src, [2.0, 10.0])
    try:
        await runner.wait_until_ready()
        await runner.capture()
        sim.hang_mass(10.0)
        runner.wizard.clear_window()
        with pytest.raises(LoadMovingError, match=MOVING_LOAD_MESSAGE):
            await runner.capture()  # the first 2 s after hanging: it still bounces
        assert len(runner.wizard.points) == 1
    finally:
        runner.close()
        await src.disconnect()


async def test_the_progressor_gets_tare_only(tmp_path: Path) -> None:
    desc = start_simulation(SimulationOptions(device="progressor", speed=5, seed=3))
    src = open_source(desc)
    await src.connect()
    try:
        assert not src.supports_calibration
        with pytest.raises(CalibrationUnsupportedError, match="can only be zeroed"):
            CalibrationRunner(src, [2.0, 5.0])
        removed = await tare_only(src)
        assert abs(removed) < 25  # the rest level of the virtual patient's belt, now zeroed
        assert getattr(src, "tared", False)
    finally:
        await src.disconnect()
