"""SimClock: locked to the host by default; with max_step_s a stalled host slows the world down instead of jumping it."""

from __future__ import annotations

import pytest

from sensorapp.simulation.world import SimClock


class HostClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_default_clock_follows_the_host_through_a_stall() -> None:
    host = HostClock()
    clock = SimClock(speed=10, clock=host)
    host.now += 3.0  # the process did not run for 3 s
    assert clock.now_us() == 30_000_000


def test_a_virtual_clock_advances_at_most_one_step_per_reading() -> None:
    host = HostClock()
    clock = SimClock(speed=10, clock=host, max_step_s=0.02)
    host.now += 0.01
    assert clock.now_us() == 100_000  # a normal reading: host time x speed
    host.now += 3.0
    assert clock.now_us() == 300_000  # a stall: one step (20 ms x 10), not 30 s of device time
    host.now += 0.005
    assert clock.now_us() == 350_000
    assert clock.now_us() == 350_000  # no host time, no device time
    host.now -= 1.0  # a host clock never goes back; if it did, the world would not either
    assert clock.now_us() == 350_000


def test_a_bad_step_is_refused() -> None:
    with pytest.raises(ValueError, match="max_step_s"):
        SimClock(max_step_s=0.0)
