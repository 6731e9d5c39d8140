"""The scale, the Force Board and a Crimpdeq in the simulated world (the simulated bleak
backend), and what an 8 Hz scale can carry: metrics the rate cannot support are hidden."""

from __future__ import annotations

import numpy as np
import pytest

from sensorapp.devices.registry import open_source
from sensorapp.devices.simulated import SimulationOptions, start_simulation
from sensorapp.signal.metrics import measure_rep
from sensorapp.signal.params import DetectorParams


@pytest.mark.parametrize(("device", "lo", "hi"), [("whc06", 7.0, 9.0), ("forceboard", 36.0, 44.0), ("crimpdeq", 76.0, 84.0)])
async def test_each_streams_in_the_simulated_world(device: str, lo: float, hi: float, collector) -> None:
    src = open_source(start_simulation(SimulationOptions(device=device, speed=2.0)))
    src.subscribe(collector)
    await src.connect()
    await src.start_stream()
    await collector.until_device_time(3.0)
    await src.disconnect()
    t, f = collector.samples()
    assert t[0] == 0.0 and np.all(np.diff(t) > 0)
    assert lo < (len(t) - 1) / (t[-1] - t[0]) < hi  # on the world's clock, which runs twice as fast
    assert np.isfinite(f).all()


def test_rfd_is_hidden_at_the_scales_rate() -> None:
    t = np.arange(0, 8.0, 1 / 8.0)
    f = np.where((t > 1.0) & (t < 7.5), 120.0, 2.0)
    rep = measure_rep(t, f, 2.0, DetectorParams(), side="left", index=1)
    assert rep.rate_hz == pytest.approx(8.0)
    assert rep.rfd_n_per_s is None  # below rfd_min_rate_hz: not shown rather than wrong
    assert rep.plateau_n == pytest.approx(118.0, abs=1.0)
