"""The Tindeq Progressor over Bluetooth, as a ForceSource like the belt.

Protocol: sensorapp.acquisition.progressor_protocol (sources in
shared/research/anchors.md section 1). What differs from the belt:

- Kilograms on the wire, calibrated by the device: the app converts to
  newtons and offers no calibration except the device's own tare.
- A fixed rate of about 80 Hz: no rate choice.
- Tare works only while the device streams; ``tare()`` starts the stream
  for it when needed and stops it again.
- Replies (tag 0x00) do not name the command they answer: one command at a
  time, and a reply belongs to the last command sent.
- The device clock restarts at every START and after a reconnect; the
  decoder re-anchors it on the host clock and records the gap.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from bleak import BleakClient
from bleak.backends.characteristic import BleakGATTCharacteristic

from sensorapp.acquisition import progressor_protocol as pp
from sensorapp.acquisition.progressor_stream import ProgressorStreamDecoder

from .base import (
    BatteryChanged,
    BatteryLow,
    CommandTimeoutError,
    DeviceError,
    SamplesReceived,
    SourceInfo,
    own_calibration_info,
)
from .ble_source import BLE_ERRORS, BleForceSource

log = logging.getLogger(__name__)

COMMAND_TIMEOUT_S = 2.0
TARE_WINDOW_S = 0.5  # device time of rest measured before the tare command
TARE_MAX_SPREAD_N = 5.0  # same rule as the belt: more than this and the load was moving
MODEL_NAME = "Tindeq Progressor"


class ProgressorSource(BleForceSource):
    kind = "progressor"

    def __init__(
        self,
        device: Any,
        *,
        command_timeout_s: float = COMMAND_TIMEOUT_S,
        timeline_clock: Callable[[], float] | None = None,
        **kwargs: Any,
    ) -> None:
        """``timeline_clock``: seconds that pass like the device's, to re-anchor
        its restarted clock on (default: the host clock; the simulated world,
        which may run faster, passes its own)."""
        super().__init__(device, **kwargs)
        self.command_timeout_s = command_timeout_s
        self._timeline_clock = timeline_clock
        self.decoder = ProgressorStreamDecoder(stats=self.stats)
        self.firmware_text = ""
        self.device_id: int | None = None
        self.battery_mv: int | None = None
        self.battery_pct: int | None = None
        self.tared = False
        self._connected_once = False
        self._device_streaming = False
        self._pending: tuple[int, asyncio.Future[int | str]] | None = None
        self._last_command: int | None = None
        self._command_lock = asyncio.Lock()

    # ------------------------------------------------------------ identity

    @property
    def info(self) -> SourceInfo | None:
        if not self._connected_once:
            return None
        return own_calibration_info(
            self,
            model=MODEL_NAME,
            calibration="Progressor's own (kg)",
            tared=self.tared,
            rate_hz=pp.NOMINAL_RATE_HZ if self._streaming_rate else None,
            serial=pp.format_progressor_id(self.device_id) if self.device_id is not None else "",
            firmware=self.firmware_text,
            capacity_n=None,  # 150, 200 or 300 kg models; the protocol does not say which
        )

    # ------------------------------------------------------------ setup

    async def _on_connected(self, client: BleakClient) -> None:
        self._fail_pending("reconnected")
        self._device_streaming = False  # a fresh connection: the unit is idle
        try:
            await client.start_notify(pp.DATA_CHAR_UUID, self._on_data, **self._stream_notify_options())
            # Identity and battery are nice to have: a clone that does not answer
            # them is still a force gauge.
            if not self.firmware_text:
                self.firmware_text = str(await self._optional_query(client, pp.Opcode.GET_APP_VERSION) or "")
            if self.device_id is None:
                device_id = await self._optional_query(client, pp.Opcode.GET_PROGRESSOR_ID)
                self.device_id = device_id if isinstance(device_id, int) else None
            millivolts = await self._optional_query(client, pp.Opcode.GET_BATTERY_VOLTAGE)
        except BLE_ERRORS as exc:
            raise DeviceError(f"setting up {self.name} failed: {exc or type(exc).__name__}") from None
        self._connected_once = True
        if isinstance(millivolts, int):
            self._battery_from(millivolts)

    async def _optional_query(self, client: BleakClient, opcode: int) -> int | str | None:
        try:
            return await self._query_on(client, opcode)
        except CommandTimeoutError as exc:
            log.info("%s", exc)
            return None

    def _battery_from(self, millivolts: int) -> None:
        self.battery_mv = millivolts
        pct = pp.battery_percent_estimate(millivolts)
        if pct != self.battery_pct:
            self.battery_pct = pct
            self.emit(BatteryChanged(pct))

    def _on_link_lost(self) -> None:
        self.decoder.link_lost()
        self._device_streaming = False
        self._fail_pending("link lost while waiting for a reply")

    def _fail_pending(self, why: str) -> None:
        pending, self._pending = self._pending, None
        if pending is not None and not pending[1].done():
            pending[1].set_exception(DeviceError(f"{self.name}: {why}"))

    # ------------------------------------------------------------ notifications

    def _on_data(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        received_at = time.monotonic()
        tag = data[0] if data else None
        if tag == pp.Tag.WEIGHT_MEASUREMENT:
            timeline_s = self._timeline_clock() if self._timeline_clock is not None else None
            block = self.decoder.decode(data, received_at, timeline_s=timeline_s)
            if block is not None:
                self.emit(SamplesReceived(block))
        elif tag == pp.Tag.COMMAND_RESPONSE:
            self._on_reply(bytes(data))
        elif tag == pp.Tag.LOW_BATTERY:
            message = f"{self.name}: battery low; the Progressor switches itself off now. Charge it."
            log.warning("%s", message)
            self._gone_reason = message  # it will not come back by reconnecting
            self.emit(BatteryLow(message))
        else:
            # Peak-RFD frames (tags 2 and 3) answer commands this app never sends.
            log.info("%s: ignored frame %s", self.name, bytes(data[:8]).hex())

    def _on_reply(self, data: bytes) -> None:
        try:
            frame = pp.parse_frame(data)
        except pp.ProgressorProtocolError as exc:
            log.warning("%s: unreadable reply %s: %s", self.name, data.hex(), exc)
            return
        pending = self._pending
        if pending is None or pending[1].done():
            last = f"0x{self._last_command:02x}" if self._last_command is not None else "none"
            log.warning("%s: a reply nobody waits for (last command %s): %s", self.name, last, frame.payload.hex())
            return
        opcode, fut = pending
        try:
            fut.set_result(pp.parse_reply(opcode, frame.payload))
        except pp.ProgressorProtocolError as exc:
            fut.set_exception(DeviceError(f"{self.name} sent an unreadable reply to 0x{opcode:02x}: {exc}"))

    # ------------------------------------------------------------ commands

    async def _send(self, client: BleakClient, opcode: int) -> None:
        """A command without a reply (start, stop, tare)."""
        async with self._command_lock:
            self._last_command = opcode
            await self._write(client, opcode)

    async def _query_on(self, client: BleakClient, opcode: int) -> int | str:
        """A command answered by a tag 0x00 frame; returns the parsed reply."""
        async with self._command_lock:
            fut: asyncio.Future[int | str] = asyncio.get_running_loop().create_future()
            self._pending = (opcode, fut)
            self._last_command = opcode
            try:
                await self._write(client, opcode)
                return await asyncio.wait_for(fut, self.command_timeout_s)
            except TimeoutError:
                raise CommandTimeoutError(f"{self.name} did not answer command 0x{opcode:02x} within {self.command_timeout_s:g} s") from None
            finally:
                if self._pending is not None and self._pending[1] is fut:
                    self._pending = None

    async def _write(self, client: BleakClient, opcode: int) -> None:
        try:
            await client.write_gatt_char(pp.CONTROL_CHAR_UUID, pp.encode_command(opcode), response=True)
        except BLE_ERRORS as exc:
            raise DeviceError(f"{self.name}: sending command 0x{opcode:02x} failed: {exc or type(exc).__name__}") from None

    # ------------------------------------------------------------ stream

    async def _start(self, rate_hz: int | None) -> int:
        if rate_hz is not None and rate_hz != round(pp.NOMINAL_RATE_HZ):
            raise DeviceError(f"the {MODEL_NAME} streams at its own fixed rate (about {pp.NOMINAL_RATE_HZ:g} Hz); it cannot stream at {rate_hz} Hz")
        self.decoder.stream_started()
        await self._send(self.client, pp.Opcode.START_WEIGHT_MEAS)
        self._device_streaming = True
        return round(pp.NOMINAL_RATE_HZ)

    async def _stop(self) -> None:
        await self._send(self.client, pp.Opcode.STOP_WEIGHT_MEAS)
        self._device_streaming = False

    async def tare(self) -> float:
        """Zero the Progressor at rest (its own tare); returns the removed level in N.

        The device tares only while streaming, so this starts the stream when
        needed (and stops it again). It first measures 0.5 s of rest and
        refuses if the load moved, like the belt's tare.
        """
        client = self.client
        started_here = not self._device_streaming
        if started_here:
            await self._start(None)
        try:
            force_n = await self.rest_window(TARE_WINDOW_S, TARE_MAX_SPREAD_N, silent="sent no weights")
            await self._send(client, pp.Opcode.TARE_SCALE)
            self.tared = True
            return float(force_n.mean())
        finally:
            if started_here and self._device_streaming and self._client is not None and self._client.is_connected:
                await self._stop()

    async def read_battery(self) -> int | None:
        """Battery percent (a voltage estimate). While streaming the unit cannot
        measure its battery, so the last value is returned."""
        if not self._device_streaming:
            value = await self._query_on(self.client, pp.Opcode.GET_BATTERY_VOLTAGE)
            if isinstance(value, int):
                self._battery_from(value)
        return self.battery_pct


def open_source(descriptor: Any, **options: Any) -> ProgressorSource:
    """Registry entry point: a Progressor found by a scan (or given by address)."""
    return ProgressorSource(descriptor.details or descriptor.address, name=descriptor.name or None, **options)
