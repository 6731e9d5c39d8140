"""Lab Streaming Layer outlet: the force as a ``Force`` stream and the detector's events as ``Markers``.

Timestamps come from the device clock mapped onto LSL's clock (``local_clock``),
not from arrival times: ``lsl_time = device_time + offset``. The offset is set
from the first block (its arrival on LSL's clock minus its newest sample's
device time), then follows the lower envelope of the per-block offsets (arrival
delays are never negative, so the smallest recent one is closest to the truth)
with a slew limit, which corrects slow crystal drift without letting BLE
jitter into the timestamps and keeps them increasing.

Markers (one string channel, irregular rate), at the device time of the event:

| marker | when |
|---|---|
| ``rep onset`` | a press is confirmed; stamped at its back-dated onset |
| ``6 s reached`` | the live hold reached the target (the number is the target) |
| ``release`` | the force is back below the offset threshold; stamped at the release |
| ``side change: left`` / ``right`` | the side being exercised changed (or was first set) |
| ``not a rep: too short`` (or ``baseline step``) | a confirmed press turned out not to be a rep (its ``rep onset`` stays) |

pylsl is imported lazily, so the rest of the app works without liblsl.
"""

from __future__ import annotations

import collections
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from sensorapp.signal.detector import OnlineRepDetector
from sensorapp.signal.events import ContractionStarted, DetectorEvent, Released, RepRejected, TargetReached

MAX_SLEW = 5e-4  # s of offset change per s of device time (500 ppm): far above crystal drift, far below jitter
ENVELOPE_WINDOW_S = 10.0  # device seconds of block offsets whose minimum the map follows
FORCE_STREAM_TYPE = "Force"
MARKER_STREAM_TYPE = "Markers"
_QUIET_CONFIG = Path(__file__).with_name("lsl_api.cfg")
# An inlet drops what it has received but not yet pulled once the outlet goes, so a closing outlet
# that has consumers waits this long first (LabRecorder and most inlets pull several times a second).
CLOSE_LINGER_S = 1.0


class LslUnavailableError(RuntimeError):
    """pylsl or its liblsl cannot be loaded; the message says so in one line."""


def load_pylsl() -> Any:
    """Import pylsl (liblsl logs only errors unless the user has an lsl_api.cfg of their own)."""
    user_configs = [Path("lsl_api.cfg"), Path.home() / "lsl_api.cfg", Path("/etc/lsl_api.cfg")]
    if "LSLAPICFG" not in os.environ and _QUIET_CONFIG.exists() and not any(p.exists() for p in user_configs):
        os.environ["LSLAPICFG"] = str(_QUIET_CONFIG)
    try:
        import pylsl
    except (ImportError, RuntimeError, OSError) as exc:  # pylsl raises RuntimeError when liblsl is missing
        raise LslUnavailableError(f"Lab Streaming Layer is not available: {str(exc).splitlines()[0]}") from None
    return pylsl


class DeviceClockMap:
    """Device seconds -> LSL seconds: offset from the first block, slow drift correction after it."""

    def __init__(self, max_slew: float = MAX_SLEW, window_s: float = ENVELOPE_WINDOW_S) -> None:
        self.max_slew = max_slew
        self.window_s = window_s
        self.offset_s: float | None = None
        self._last_t: float = 0.0
        self._recent: collections.deque[tuple[float, float]] = collections.deque()

    def observe(self, device_t_s: float, arrival_lsl_s: float) -> None:
        """One block: the device time of its newest sample and when it arrived, on LSL's clock."""
        measured = arrival_lsl_s - device_t_s
        if self.offset_s is None:
            self.offset_s, self._last_t = measured, device_t_s
            self._recent.append((device_t_s, measured))
            return
        self._recent.append((device_t_s, measured))
        while self._recent and self._recent[0][0] < device_t_s - self.window_s:
            self._recent.popleft()
        target = min(m for _, m in self._recent)
        allowed = self.max_slew * max(0.0, device_t_s - self._last_t)
        self.offset_s += float(np.clip(target - self.offset_s, -allowed, allowed))
        self._last_t = max(self._last_t, device_t_s)

    def to_lsl(self, device_t_s: np.ndarray | float) -> np.ndarray:
        if self.offset_s is None:
            raise RuntimeError("the clock map has seen no block yet")
        return np.asarray(device_t_s, dtype=float) + self.offset_s


def marker_for(event: DetectorEvent) -> tuple[str, float] | None:
    """The marker text and its device time for a detector event, or None for events that get none."""
    if isinstance(event, ContractionStarted):
        return "rep onset", event.onset_s
    if isinstance(event, TargetReached):
        return f"{event.target_s:g} s reached", event.t_s
    if isinstance(event, Released):
        return "release", event.release_s
    if isinstance(event, RepRejected):
        return f"not a rep: {event.reason}", event.t_s
    return None


class LslOutlet:
    """A force stream and a marker stream for one device; push device-time samples and markers."""

    def __init__(
        self,
        device_name: str,
        serial: str,
        rate_hz: float | None,
        *,
        model: str = "",
        clock: Callable[[], float] | None = None,
        clock_map: DeviceClockMap | None = None,
    ) -> None:
        pylsl = load_pylsl()
        self._pylsl = pylsl
        self.clock = clock or pylsl.local_clock
        self.clock_map = clock_map or DeviceClockMap()
        source_id = serial or device_name  # the serial lets an inlet re-find the stream after a restart
        self.name = f"sensorapp {device_name}"
        info = pylsl.StreamInfo(self.name, FORCE_STREAM_TYPE, 1, float(rate_hz or 0.0), pylsl.cf_float32, source_id)
        desc = info.desc()
        channel = desc.append_child("channels").append_child("channel")
        channel.append_child_value("label", "force")
        channel.append_child_value("unit", "newtons")
        channel.append_child_value("type", "Force")
        acquisition = desc.append_child("acquisition")
        acquisition.append_child_value("manufacturer", "sensorapp")
        acquisition.append_child_value("model", model or device_name)
        acquisition.append_child_value("serial_number", serial)
        acquisition.append_child_value("clock", "device clock mapped onto local_clock (offset + slow drift correction)")
        self.force_outlet = pylsl.StreamOutlet(info)
        markers = pylsl.StreamInfo(f"{self.name} markers", MARKER_STREAM_TYPE, 1, pylsl.IRREGULAR_RATE, pylsl.cf_string, f"{source_id}-markers")
        self.marker_outlet = pylsl.StreamOutlet(markers)
        self.samples_pushed = 0
        self.markers_pushed = 0
        self.closed = False

    def push_samples(self, t_s: np.ndarray, force_n: np.ndarray, received_at: float | None = None) -> None:
        """A block of device-time samples; ``received_at`` is its arrival on ``time.monotonic()`` (default: now)."""
        if self.closed or len(t_s) == 0:
            return
        now = self.clock()
        if received_at is not None:  # the block waited in the loop: its arrival was that much earlier
            now -= max(0.0, time.monotonic() - received_at)
        self.clock_map.observe(float(t_s[-1]), now)
        stamps = self.clock_map.to_lsl(t_s)
        self.force_outlet.push_chunk(np.asarray(force_n, dtype=np.float32).reshape(-1, 1), stamps.tolist())
        self.samples_pushed += len(t_s)

    def push_marker(self, text: str, device_t_s: float) -> None:
        """A marker at a device time (before the first block there is no mapping: it goes out stamped now)."""
        if self.closed:
            return
        stamp = self.clock() if self.clock_map.offset_s is None else float(self.clock_map.to_lsl(device_t_s))
        self.marker_outlet.push_sample([text], stamp)
        self.markers_pushed += 1

    def push_events(self, events: Iterable[DetectorEvent]) -> None:
        for event in events:
            marker = marker_for(event)
            if marker is not None:
                self.push_marker(*marker)

    def have_consumers(self) -> bool:
        return bool(self.force_outlet.have_consumers())

    def close(self) -> None:
        """Drop both outlets (inlets see the streams go; a new outlet with the same serial is found again)."""
        if not self.closed:
            self.closed = True
            del self.force_outlet, self.marker_outlet


class LslRecording:
    """What `record --lsl` runs: samples to the force stream, its own online detector's events to the markers."""

    def __init__(self, outlet: LslOutlet, side: str | None = None, detector: OnlineRepDetector | None = None) -> None:
        self.outlet = outlet
        self.detector = detector or OnlineRepDetector(side=side)
        self._side = side
        self._side_pending = side is not None  # announced with the first sample, when the clock is mapped

    def feed(self, t_s: np.ndarray, force_n: np.ndarray, received_at: float | None = None) -> None:
        if len(t_s) == 0:
            return
        self.outlet.push_samples(t_s, force_n, received_at)
        if self._side_pending and self._side is not None:
            self._side_pending = False
            self.outlet.push_marker(f"side change: {self._side}", float(t_s[0]))
        self.outlet.push_events(self.detector.feed(t_s, force_n))

    def set_side(self, side: str, device_t_s: float) -> None:
        """The side being exercised changed at this device time."""
        if side == self._side:
            return
        self._side = side
        self.detector.side = side
        self.outlet.push_marker(f"side change: {side}", device_t_s)

    def finish(self) -> None:
        """The markers of a press still open at the end (its release, if the detector can close it)."""
        self.outlet.push_events(self.detector.flush())

    def close(self) -> None:
        self.finish()
        self.outlet.close()
