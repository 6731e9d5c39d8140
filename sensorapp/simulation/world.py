"""The simulated surroundings of virtual belts: a clock that may run faster
than real time, which belts are in range, their signal strength and link drops.

Pure code: transports (the simulated bleak backend, the fake BlueZ) consult it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .virtual_belt import VirtualBelt


class SimClock:
    """Device time in microseconds, running ``speed`` times faster than the host.

    With ``max_step_s`` the clock is virtual: each reading advances device
    time by the host time since the previous reading, but by at most
    ``max_step_s`` host seconds (times ``speed``). A process starved of CPU
    then slows its simulated world down instead of receiving seconds of
    samples in one burst, so what happens on the device clock (and which
    states a test sees between readings) no longer depends on how busy the
    machine is. Without it (the default) device time is locked to the host
    clock, as a real belt's is.
    """

    def __init__(self, speed: float = 1.0, clock: Callable[[], float] = time.monotonic, max_step_s: float | None = None) -> None:
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed must be a positive number, got {speed!r}")
        if max_step_s is not None and not (math.isfinite(max_step_s) and max_step_s > 0):
            raise ValueError(f"max_step_s must be a positive number of seconds, got {max_step_s!r}")
        self.speed = speed
        self.max_step_s = max_step_s
        self._clock = clock
        self._t0 = clock()
        self._host_last = self._t0
        self._device_s = 0.0

    def now_us(self) -> int:
        host = self._clock()
        if self.max_step_s is None:
            return int((host - self._t0) * self.speed * 1e6)
        self._device_s += min(max(host - self._host_last, 0.0), self.max_step_s) * self.speed
        self._host_last = host
        return int(self._device_s * 1e6)

    def host_seconds(self, device_s: float) -> float:
        """Host seconds that pass while the device clock advances ``device_s`` (at least; more on a virtual clock)."""
        return device_s / self.speed


@dataclass(frozen=True)
class LinkDrop:
    """The belt goes out of range at ``at_s`` device seconds for ``duration_s``."""

    at_s: float
    duration_s: float

    @classmethod
    def parse(cls, text: str) -> LinkDrop:
        """'AT:DURATION' in seconds, e.g. '30:4'."""
        try:
            at, dur = (float(x) for x in text.split(":"))
        except ValueError:
            raise ValueError(f"link drop {text!r}: expected AT:DURATION in seconds, e.g. 30:4") from None
        if at < 0 or dur <= 0:
            raise ValueError(f"link drop {text!r}: AT must be >= 0 and DURATION > 0")
        return cls(at, dur)


@dataclass
class SimulatedDevice:
    address: str
    belt: VirtualBelt
    rssi_dbm: int = -58
    link_drops: tuple[LinkDrop, ...] = ()
    fail_connects: int = 0  # refuse this many connection attempts (connect-failure tests)
    mute_replies: bool = False  # the belt never indicates replies (command-timeout tests)
    wake_after_sleep_s: float = 5.0
    _asleep_since_us: int | None = field(default=None, init=False)

    def in_range(self, now_us: int) -> bool:
        t = now_us / 1e6
        return not any(d.at_s <= t < d.at_s + d.duration_s for d in self.link_drops)

    def drop_between(self, from_us: int, to_us: int) -> bool:
        """A link drop starts in (from_us, to_us]."""
        return any(from_us < d.at_s * 1e6 <= to_us for d in self.link_drops)

    def awake(self, now_us: int) -> bool:
        if self.belt.asleep:
            if self._asleep_since_us is None:
                self._asleep_since_us = now_us
            elif now_us - self._asleep_since_us >= self.wake_after_sleep_s * 1e6:
                self.belt.asleep = False  # the patient pressed the button
                self._asleep_since_us = None
        return not self.belt.asleep

    def advertising(self, now_us: int) -> bool:
        return self.in_range(now_us) and self.awake(now_us) and not self.belt.connected

    def rssi(self, now_us: int) -> int:
        # A slow deterministic wobble, like a body moving near the antenna.
        return round(self.rssi_dbm + 4 * math.sin(now_us / 1.7e6))


class SimulatedWorld:
    def __init__(self, clock: SimClock | None = None) -> None:
        self.clock = clock or SimClock()
        self.devices: dict[str, SimulatedDevice] = {}

    def add(self, device: SimulatedDevice) -> SimulatedDevice:
        self.devices[device.address.upper()] = device
        return device

    def get(self, address: str) -> SimulatedDevice | None:
        return self.devices.get(address.upper())

    def now_us(self) -> int:
        return self.clock.now_us()


def simulated_address(serial: int) -> str:
    """A MAC-like address for a simulated belt (locally administered prefix 5A)."""
    b = serial.to_bytes(4, "big")
    return "5A:1E:" + ":".join(f"{x:02X}" for x in b)
