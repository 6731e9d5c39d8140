"""ProgressorSource on the in-process simulated radio (a virtual Progressor
behind the simulated bleak backend), where time can run faster than real:
the same source, decoder and bleak front end as with hardware."""

from __future__ import annotations

import numpy as np
import pytest

from sensorapp.acquisition import progressor_protocol as pp
from sensorapp.devices.base import LinkLost, LinkRestored, TareRejectedError
from sensorapp.devices.progressor import ProgressorSource
from sensorapp.devices.registry import open_source
from sensorapp.devices.simulated import SimulationOptions, current_simulation, start_simulation
from sensorapp.simulation.patient import PatientProfile
from sensorapp.simulation.virtual_progressor import VirtualProgressor
from sensorapp.simulation.world import LinkDrop


def simulate(collector, **options: object) -> tuple[ProgressorSource, VirtualProgressor]:
    desc = start_simulation(SimulationOptions(device="progressor", **options))  # type: ignore[arg-type]
    sim = current_simulation()
    assert sim is not None and isinstance(sim.belt, VirtualProgressor)
    src = open_source(desc)
    assert isinstance(src, ProgressorSource)
    src.subscribe(collector)
    return src, sim.belt


async def test_stream_matches_the_virtual_patient(collector) -> None:
    src, unit = simulate(collector, speed=20, seed=2)
    await src.connect()
    assert src.info is not None and src.info.kind == "progressor" and not src.info.supports_rate_choice
    await src.start_stream()
    started_us = unit.stream_started_us
    assert started_us is not None
    await collector.until_device_time(20.0)
    await src.disconnect()
    t, f = collector.samples()
    assert np.all(np.diff(t) > 0) and src.stats.gaps == []
    sim = current_simulation()
    assert sim is not None
    truth = sim.patient.force_at((started_us + 54_636) / 1e6 + t)  # time 0 is the first sample
    assert np.max(np.abs(f - truth)) < 0.3  # 5 g of noise, float32
    assert f.max() > 60  # a whole rep
    assert 80 < len(t) / t[-1] < 83


async def test_tare_zeroes_and_refuses_a_moving_load(collector) -> None:
    src, unit = simulate(collector, speed=5)
    await src.connect()
    removed = await src.tare()  # streams for it, then stops again
    assert 3.0 < removed < 9.5  # the virtual patient's pre-tension
    assert not unit.streaming and unit.commands[-2:] == [pp.Opcode.TARE_SCALE, pp.Opcode.STOP_WEIGHT_MEAS]
    await src.start_stream()
    n = len(collector.blocks)
    await collector.until_device_time(collector.blocks[-1].t_s[-1] + 1.0)
    _, f = collector.samples(n)
    assert abs(float(np.median(f))) < 0.5
    await src.disconnect()

    shaky, unit2 = simulate(collector, speed=5, patient=PatientProfile(strap_noise_n=4.0))
    await shaky.connect()
    with pytest.raises(TareRejectedError, match="the load moved during tare"):
        await shaky.tare()
    assert pp.Opcode.TARE_SCALE not in unit2.commands and not unit2.streaming
    await shaky.disconnect()


async def test_link_drop_and_restart_keep_one_time_line(collector) -> None:
    # Virtual clock: a starved test process slows the unit's clock instead of stretching the restart gap.
    src, _ = simulate(collector, speed=10, link_drops=(LinkDrop(6.0, 2.0),), max_step_s=0.02)
    await src.connect()
    await src.start_stream()
    await collector.until_device_time(3.0)
    await src.stop_stream()
    await src.start_stream()  # the device clock restarts at 0
    await collector.until_device_time(12.0, timeout_s=30)
    await src.disconnect()
    kinds = collector.kinds()
    assert kinds.index(LinkLost) < kinds.index(LinkRestored) and src.stats.reconnects == 1
    restart, link = src.stats.gaps
    assert restart.cause == "stream restart" and 0 < restart.duration_s < 1.0
    assert link.cause == "link loss" and 2.0 <= link.duration_s < 2.0 + 10 * 0.75 + 1.0
    t, _ = collector.samples()
    assert np.all(np.diff(t) > 0) and np.sum(np.diff(t) > 0.05) == 2  # two holes, nothing invented
