"""One interface for every force source: real belts, the simulated belt,
the Tindeq Progressor, replay of a recording.

No bleak here: the UI, the recorder and the tests depend on this module only,
and concrete sources are picked by data in ``registry`` and imported lazily.
Events are plain dataclasses delivered to subscribed callables on the asyncio
loop's thread, so a Qt layer can forward them without this layer knowing Qt.
"""

from __future__ import annotations

import abc
import asyncio
import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sensorapp.acquisition.blocks import SampleBlock, StreamStats

log = logging.getLogger(__name__)

async def cancel_and_wait(task: asyncio.Task[object] | None) -> None:
    """Cancel a background task and wait until it has really stopped."""
    if task is None or task is asyncio.current_task():
        return
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


# ------------------------------------------------------------------ errors


class DeviceError(Exception):
    """Any failure talking to a force source; the message is shown to users as is."""


class BluetoothUnavailableError(DeviceError):
    """No Bluetooth adapter, or it is off."""


class DeviceNotFoundError(DeviceError):
    pass


class ConnectError(DeviceError):
    pass


class CommandError(DeviceError):
    """The device answered a command with an error status."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class CommandTimeoutError(DeviceError):
    pass


class IncompatibleDeviceError(DeviceError):
    """The device speaks a protocol version this app does not."""


class TareRejectedError(DeviceError):
    """The tare window was not at rest."""


# ------------------------------------------------------------------ descriptors


@dataclass(frozen=True)
class DeviceDescriptor:
    """A device found by a scan (or a virtual one), enough to open a source."""

    kind: str  # a key of registry.DEVICE_KINDS: "belt", "simulated", "progressor", "replay"
    address: str
    name: str
    rssi: int | None = None
    details: Any = field(default=None, compare=False, repr=False)  # e.g. bleak's BLEDevice

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "address": self.address, "rssi": self.rssi, "kind": self.kind}


@dataclass(frozen=True)
class SourceInfo:
    """What the app knows about a connected source."""

    kind: str
    name: str
    address: str
    serial: str = ""
    model: str = ""
    firmware: str = ""
    capacity_n: float | None = None
    rate_hz: float | None = None
    calibration: str = ""  # human-readable provenance, e.g. "factory 2026-01-01"
    supports_rate_choice: bool = True
    supports_tare: bool = True


def own_calibration_info(
    source: ForceSource, *, model: str, calibration: str, tared: bool, rate_hz: float | None, **extra: Any
) -> SourceInfo:
    """The info of a third-party gauge that sends force in its own calibration: the app can only
    add a tare (said in ``calibration``) and cannot choose the rate."""
    return SourceInfo(
        kind=source.kind,
        name=source.name,
        address=source.address,
        model=model,
        rate_hz=rate_hz,
        calibration=calibration + (" + tare" if tared else ""),
        supports_rate_choice=False,
        supports_tare=True,
        **extra,
    )


class LinkState(enum.Enum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    STREAMING = "streaming"
    RECONNECTING = "reconnecting"


# ------------------------------------------------------------------ events


@dataclass(frozen=True)
class SamplesReceived:
    block: SampleBlock


@dataclass(frozen=True)
class LinkStateChanged:
    state: LinkState
    detail: str = ""


@dataclass(frozen=True)
class LinkLost:
    reason: str


@dataclass(frozen=True)
class Reconnecting:
    attempt: int
    next_delay_s: float


@dataclass(frozen=True)
class LinkRestored:
    attempts: int
    outage_s: float  # host time between loss and the stream resuming


@dataclass(frozen=True)
class BatteryChanged:
    percent: int


@dataclass(frozen=True)
class BatteryLow:
    """The device warned that its battery is nearly flat (it may switch itself off)."""

    message: str


@dataclass(frozen=True)
class StreamEnded:
    """A finite source (a replayed recording) has delivered everything."""

    reason: str


@dataclass(frozen=True)
class SourceFailed:
    """The source gave up (e.g. reconnect timed out); it is disconnected."""

    message: str


SourceEvent = (
    SamplesReceived
    | LinkStateChanged
    | LinkLost
    | Reconnecting
    | LinkRestored
    | BatteryChanged
    | BatteryLow
    | StreamEnded
    | SourceFailed
)
Listener = Callable[[SourceEvent], None]


# ------------------------------------------------------------------ interface


class ForceSource(abc.ABC):
    """A device that streams calibrated force.

    Life cycle: ``connect`` -> ``start_stream`` -> events ... -> ``stop_stream``
    -> ``disconnect``. A source that loses its link reconnects by itself when it
    can (``LinkLost``, ``Reconnecting``, ``LinkRestored``) and resumes the stream.
    """

    name: str = "the device"  # what messages call it; sources set the device's own name
    address: str = ""  # the Bluetooth address; sources without one (replay) leave it empty
    kind: str  # per class; the belt class sets it per instance ("simulated" for the virtual belt)
    # The belt: raw counts under a calibration the app can fit and write (SET_CALIBRATION). Others: tare only.
    supports_calibration: bool = False

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self.stats = StreamStats()
        self._state = LinkState.DISCONNECTED

    # -- events

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every event; returns the unsubscribe function."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    async def rest_window(self, window_s: float, max_spread_n: float, *, silent: str) -> np.ndarray:
        """Forces of the next ``window_s`` of device time from the stream, refused unless at rest.

        For sources that tare from their own samples. ``silent`` completes "NAME ... for S s; cannot tare"
        when nothing arrives (e.g. "sent no force"); a max-min spread over ``max_spread_n`` is a moving load.
        """
        blocks: list[SampleBlock] = []
        enough = asyncio.Event()

        def listen(event: SourceEvent) -> None:
            if isinstance(event, SamplesReceived):
                blocks.append(event.block)
                if blocks[-1].t_s[-1] - blocks[0].t_s[0] >= window_s:
                    enough.set()

        unsubscribe = self.subscribe(listen)
        timeout = window_s + 3.0
        try:
            await asyncio.wait_for(enough.wait(), timeout)
        except TimeoutError:
            raise CommandTimeoutError(f"{self.name} {silent} for {timeout:g} s; cannot tare") from None
        finally:
            unsubscribe()
        force_n = np.concatenate([b.force_n for b in blocks])
        spread_n = float(force_n.max() - force_n.min())
        if spread_n > max_spread_n:
            raise TareRejectedError(f"the load moved during tare (force varied by {spread_n:.1f} N); relax and try again")
        return force_n

    def emit(self, event: SourceEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken listener must not stop the stream
                log.exception("listener %r failed on %r", listener, type(event).__name__)

    @property
    def state(self) -> LinkState:
        return self._state

    def _set_state(self, state: LinkState, detail: str = "") -> None:
        if state != self._state:
            self._state = state
            self.emit(LinkStateChanged(state, detail))

    # -- operations

    @property
    @abc.abstractmethod
    def info(self) -> SourceInfo | None:
        """Identity and settings once connected, else None."""

    @abc.abstractmethod
    async def connect(self) -> None: ...

    @abc.abstractmethod
    async def disconnect(self) -> None: ...

    @abc.abstractmethod
    async def start_stream(self, rate_hz: int | None = None) -> None: ...

    @abc.abstractmethod
    async def stop_stream(self) -> None: ...

    @abc.abstractmethod
    async def tare(self) -> float:
        """Zero the force at rest; returns the rest level removed, in newtons."""

    async def read_battery(self) -> int | None:
        """Battery percent, or None when the device does not report it."""
        return None
