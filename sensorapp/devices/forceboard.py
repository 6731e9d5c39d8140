"""The PitchSix Force Board over Bluetooth, as a ForceSource like the belt.

Protocol: sensorapp.acquisition.forceboard_protocol (sources in
shared/research/anchors.md section 2.2). What differs from the belt:

- Whole pounds on the wire, calibrated by the board: the app converts to
  newtons; no rate choice (the public protocol has no rate setting).
- No timestamps: samples are timed on the host clock
  (sensorapp.acquisition.host_timeline states the assumptions).
- Tare: the board's own, through the Device Mode characteristic (0x05),
  after the app checked 0.5 s of rest like the belt's tare; the board is
  put back in streaming mode afterwards when it was streaming.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from bleak import BleakClient
from bleak.backends.characteristic import BleakGATTCharacteristic

from sensorapp.acquisition import forceboard_protocol as fp
from sensorapp.acquisition.forceboard_stream import ASSUMED_RATE_HZ, ForceBoardStreamDecoder

from .base import (
    BatteryChanged,
    DeviceError,
    SamplesReceived,
    SourceInfo,
    own_calibration_info,
)
from .ble_source import BLE_ERRORS, BleForceSource

log = logging.getLogger(__name__)

MODEL_NAME = "PitchSix Force Board"
TARE_WINDOW_S = 0.5
TARE_MAX_SPREAD_N = 5.0 + fp.NEWTONS_PER_LB  # the belt's rule, plus one pound of quantisation


class ForceBoardSource(BleForceSource):
    kind = "forceboard"

    def __init__(self, device: Any, *, timeline_clock: Callable[[], float] | None = None, **kwargs: Any) -> None:
        """``timeline_clock``: seconds that pass like the board's (default: the host clock; the simulated world passes its own)."""
        super().__init__(device, **kwargs)
        self._timeline_clock = timeline_clock
        self.decoder = ForceBoardStreamDecoder(stats=self.stats)
        self.battery_pct: int | None = None
        self.tared = False
        self._connected_once = False
        self._device_streaming = False

    @property
    def info(self) -> SourceInfo | None:
        if not self._connected_once:
            return None
        return own_calibration_info(
            self,
            model=MODEL_NAME,
            calibration="Force Board's own (whole lbs)",
            tared=self.tared,
            rate_hz=round(self.stats.rate_hz or ASSUMED_RATE_HZ, 1) if self._streaming_rate else None,
        )

    async def _on_connected(self, client: BleakClient) -> None:
        self._device_streaming = False
        try:
            await client.start_notify(fp.FORCE_DATA_CHAR_UUID, self._on_data, **self._stream_notify_options())
        except BLE_ERRORS as exc:
            raise DeviceError(f"setting up {self.name} failed: {exc or type(exc).__name__}") from None
        self._connected_once = True
        try:  # battery is nice to have
            level = await asyncio.wait_for(client.read_gatt_char(fp.BATTERY_LEVEL_CHAR_UUID), 2.0)
        except BLE_ERRORS as exc:
            log.info("%s: no battery level: %s", self.name, exc)
            return
        if level:
            self._battery(int(level[0]))

    def _battery(self, pct: int) -> None:
        if pct != self.battery_pct:
            self.battery_pct = pct
            self.emit(BatteryChanged(pct))

    def _on_link_lost(self) -> None:
        self.decoder.link_lost()
        self._device_streaming = False

    def _on_data(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        received_at = time.monotonic()
        timeline_s = self._timeline_clock() if self._timeline_clock is not None else None
        block = self.decoder.decode(data, received_at, timeline_s=timeline_s)
        if block is not None:
            self.emit(SamplesReceived(block))

    async def _mode(self, mode: int) -> None:
        try:
            await self.client.write_gatt_char(fp.DEVICE_MODE_CHAR_UUID, fp.encode_mode(mode), response=True)
        except BLE_ERRORS as exc:
            raise DeviceError(f"{self.name}: setting mode 0x{mode:02x} failed: {exc or type(exc).__name__}") from None

    async def _start(self, rate_hz: int | None) -> int:
        if rate_hz is not None and rate_hz != round(ASSUMED_RATE_HZ):  # the reconnect passes back what _start returned
            raise DeviceError(f"the {MODEL_NAME} streams at its own rate; it cannot be set to {rate_hz} Hz")
        self.decoder.stream_started()
        await self._mode(fp.Mode.STREAM)
        self._device_streaming = True
        return round(ASSUMED_RATE_HZ)

    async def _stop(self) -> None:
        await self._mode(fp.Mode.IDLE)
        self._device_streaming = False

    async def tare(self) -> float:
        started_here = not self._device_streaming
        if started_here:
            await self._start(None)
        try:
            force_n = await self.rest_window(TARE_WINDOW_S, TARE_MAX_SPREAD_N, silent="sent no force")
            await self._mode(fp.Mode.TARE)
            if not started_here:
                await self._mode(fp.Mode.STREAM)  # the mode byte replaced streaming: resume it
            self.tared = True
            return float(force_n.mean())
        finally:
            if started_here and self._client is not None and self._client.is_connected:
                await self._stop()

    async def read_battery(self) -> int | None:
        try:
            level = await self.client.read_gatt_char(fp.BATTERY_LEVEL_CHAR_UUID)
        except BLE_ERRORS:
            return self.battery_pct
        if level:
            self._battery(int(level[0]))
        return self.battery_pct


def open_source(descriptor: Any, **options: Any) -> ForceBoardSource:
    """Registry entry point: a Force Board found by a scan (or given by address)."""
    return ForceBoardSource(descriptor.details or descriptor.address, name=descriptor.name or None, **options)
