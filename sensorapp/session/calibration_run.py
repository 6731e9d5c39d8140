"""Runs the calibration wizard (``calibration.wizard``) on a connected force source.

The source streams calibrated newtons; the belt's decoder applied a known
``LinearCalibration``, so its raw counts are recovered exactly (to float
rounding) with ``to_counts``. The runner feeds them to the wizard, waits on
the device clock (never on a wall-clock timer, except to notice a silent
source), and at the end saves the accepted calibration to the per-belt file
and writes it to the belt. Sources without a calibration write (the
Progressor and the other devices) get tare only: ``tare_only``.

No Qt and no bleak: the CLI and the GUI both drive this.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from calibration import CalibrationFit, CalibrationStore, LinearCalibration
from calibration.wizard import CalibrationWizard, CapturedPoint, WizardLimits
from sensorapp.devices.base import CommandTimeoutError, DeviceError, ForceSource, SamplesReceived, SourceEvent

# A source that sends nothing for this long (host seconds) is silent, not settling.
SILENT_SOURCE_S = 10.0
# Device seconds a non-interactive run waits for a load to settle before giving up.
DEFAULT_SETTLE_TIMEOUT_S = 60.0


class CalibrationUnsupportedError(DeviceError):
    """The device calibrates itself: the app can only tare it."""


@dataclass
class SavedCalibration:
    """What ``CalibrationRunner.save`` did."""

    serial: str
    calibration: LinearCalibration
    store_path: Path
    written_to_device: bool
    device_readback: Any = None  # the belt's BeltCalibration after SET_CALIBRATION, read back with GET_CALIBRATION


@dataclass
class CalibrationRunner:
    """Feeds one wizard from one source's stream; ``close`` unsubscribes."""

    source: ForceSource
    masses_kg: Sequence[float]
    limits: WizardLimits = field(default_factory=WizardLimits)
    wizard: CalibrationWizard = field(init=False)
    last_t_s: float = field(default=float("nan"), init=False)

    def __post_init__(self) -> None:
        if not self.source.supports_calibration:
            raise CalibrationUnsupportedError(
                f"{self.source.name} applies its own calibration: it can only be zeroed (tare), not calibrated with known masses"
            )
        cal = self._source_calibration()
        info = self.source.info
        self.wizard = CalibrationWizard(self.masses_kg, cal, limits=self.limits, capacity_n=info.capacity_n if info else None)
        self._new_samples = asyncio.Event()
        self._unsubscribe: Callable[[], None] | None = self.source.subscribe(self._on_event)

    def _source_calibration(self) -> LinearCalibration:
        cal = getattr(self.source, "calibration", None)
        if not isinstance(cal, LinearCalibration):
            raise DeviceError(f"{self.source.name} is not connected (no calibration in use yet)")
        return cal

    def _on_event(self, event: SourceEvent) -> None:
        if isinstance(event, SamplesReceived) and len(event.block):
            counts = self._source_calibration().to_counts(event.block.force_n)
            self.wizard.feed(event.block.t_s, counts)
            self.last_t_s = float(event.block.t_s[-1])
            self._new_samples.set()

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    async def _next_samples(self) -> None:
        self._new_samples.clear()
        try:
            await asyncio.wait_for(self._new_samples.wait(), SILENT_SOURCE_S)
        except TimeoutError:
            raise CommandTimeoutError(f"{self.source.name} sent no force for {SILENT_SOURCE_S:g} s; is it still connected?") from None

    async def wait_device_time(self, seconds: float) -> None:
        """Wait until ``seconds`` of device time have streamed in (for a load to settle, say)."""
        await self._next_samples()
        until = self.last_t_s + seconds
        while self.last_t_s < until:
            await self._next_samples()

    async def wait_until_ready(self, timeout_s: float = DEFAULT_SETTLE_TIMEOUT_S) -> None:
        """Wait (device time) until the load is still and, for a mass, changed by about that mass."""
        started = None
        while not self.wizard.ready():
            await self._next_samples()
            started = self.last_t_s if started is None else started
            if self.last_t_s - started > timeout_s:
                w = self.wizard.window()
                raise DeviceError(
                    f"waited {timeout_s:g} s for the belt to settle on {self.wizard.current_mass_kg:g} kg; "
                    f"it reads {w.force_n:.1f} N, varying by {w.spread_n:.2f} N. {self.wizard.instruction()} and try again"
                )

    async def capture(self) -> CapturedPoint:
        """Capture this step's point from the current window (waiting until it is full); raises why not."""
        while not self.wizard.window().full:
            await self._next_samples()
        return self.wizard.capture()

    def fit(self) -> CalibrationFit:
        return self.wizard.compute_fit()

    async def save(self, store: CalibrationStore) -> SavedCalibration:
        """Accept the fit, store it under the belt's serial, write it to the belt (which then uses it)."""
        calibration = self.wizard.accept()
        info = self.source.info
        serial = info.serial if info is not None else ""
        if not serial:
            raise DeviceError(f"{self.source.name} reported no serial number: the calibration could not be filed under it")
        model_id = getattr(getattr(self.source, "device_info", None), "model_id", None)
        store.put(serial, calibration, model_id=model_id)
        readback = None
        write = getattr(self.source, "write_calibration", None)
        if write is not None:
            readback = await write(calibration)
        return SavedCalibration(serial, calibration, store.path, write is not None, readback)


async def tare_only(source: ForceSource) -> float:
    """Zero a device that calibrates itself (the Progressor and the others); the rest level removed, N."""
    return await source.tare()
