"""The GMBelt over Bluetooth (real hardware, or the simulated belt through
the simulated bleak backend: the same code either way)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from bleak import BleakClient
from bleak.backends.characteristic import BleakGATTCharacteristic

from calibration import CalibrationStore, CalibrationStoreError, LinearCalibration
from firmware_protocol import codec, gatt
from firmware_protocol.capabilities import BeltCapabilities, capabilities_for
from firmware_protocol.codec import (
    BeltCalibration,
    Command,
    DeviceInfo,
    Opcode,
    ProtocolError,
    Response,
    StatusReport,
    TareResult,
    UnsupportedVersionError,
)
from sensorapp.acquisition.belt_stream import BeltStreamDecoder

from .base import (
    BatteryChanged,
    CommandError,
    CommandTimeoutError,
    DeviceError,
    IncompatibleDeviceError,
    SamplesReceived,
    SourceFailed,
    SourceInfo,
    TareRejectedError,
)
from .ble_source import BLE_ERRORS, BleForceSource

log = logging.getLogger(__name__)

COMMAND_TIMEOUT_S = codec.RESPONSE_TIMEOUT_S
TARE_WINDOW_MS = 1000
# A tare window whose max-min spread exceeds this was not at rest (strap noise is ~1 N).
TARE_MAX_SPREAD_N = 5.0
# A belt snug around the ankles rests at a few newtons (the virtual patient: 3-9 N); a tare level far above
# that, against the belt's unloaded zero, means the leg was pressing: zeroing it would make every rep read low.
TARE_MAX_REST_N = 25.0


CALIBRATION_FILE = "calibrations.json"


def default_calibration_store() -> CalibrationStore:
    """The per-belt calibration file in the data folder (a user calibration overrides the factory one)."""
    from sensorapp.storage.paths import default_data_dir

    return CalibrationStore(default_data_dir() / CALIBRATION_FILE)


def calibration_from_belt(cal: BeltCalibration, capacity_n: float | None) -> LinearCalibration:
    when = dt.datetime.fromtimestamp(cal.calibrated_at_unix, dt.UTC).isoformat() if cal.calibrated_at_unix else None
    return LinearCalibration(
        zero_counts=float(cal.zero_counts),
        newtons_per_count=float(cal.newtons_per_count),
        source="factory",
        created_at=when,
        linearity_error_n=float(cal.linearity_error_n),
        capacity_n=capacity_n,
    )


class BeltSource(BleForceSource):
    kind = "belt"
    supports_calibration = True

    def __init__(
        self,
        device: Any,
        *,
        calibration_store: CalibrationStore | None = None,
        command_timeout_s: float = COMMAND_TIMEOUT_S,
        kind: str = "belt",
        **kwargs: Any,
    ) -> None:
        super().__init__(device, **kwargs)
        self.kind = kind  # "simulated" for the virtual belt: same code, different label
        self.calibration_store = calibration_store
        self.command_timeout_s = command_timeout_s
        self.device_info: DeviceInfo | None = None
        self.capabilities: BeltCapabilities | None = None
        self.calibration: LinearCalibration | None = None
        self._unloaded_calibration: LinearCalibration | None = None  # as read at connect, before any tare
        self.calibration_note = ""
        self.last_status: StatusReport | None = None
        self.battery_pct: int | None = None
        self.model_name = ""
        self.firmware_text = ""
        self.decoder: BeltStreamDecoder | None = None
        self._pending: tuple[int, asyncio.Future[Response]] | None = None
        self._command_lock = asyncio.Lock()

    # ------------------------------------------------------------ identity

    @property
    def info(self) -> SourceInfo | None:
        if self.device_info is None:
            return None
        return SourceInfo(
            kind=self.kind,
            name=self.name,
            address=self.address,
            serial=self.device_info.serial_text,
            model=self.model_name,
            firmware=self.firmware_text,
            capacity_n=self.capabilities.capacity_n if self.capabilities else None,
            rate_hz=float(self._streaming_rate) if self._streaming_rate else None,
            calibration=self.calibration_note,
        )

    # ------------------------------------------------------------ setup

    async def _on_connected(self, client: BleakClient) -> None:
        self._pending = None
        try:
            await client.start_notify(gatt.CONTROL_POINT_CHAR_UUID, self._on_control)
            info = DeviceInfo.decode((await self._command_on(client, Command(Opcode.GET_INFO))).payload)
            if info.protocol_version != codec.PROTOCOL_VERSION:
                raise IncompatibleDeviceError(
                    f"{self.name} speaks belt protocol v{info.protocol_version}; this app speaks v{codec.PROTOCOL_VERSION}. Update the app."
                )
            if self.device_info is not None and info.serial != self.device_info.serial:
                raise IncompatibleDeviceError(f"a different belt ({info.serial_text}) answered at {self.address}")
            self.device_info = info
            try:
                self.capabilities = capabilities_for(info.model_id)
            except KeyError as exc:
                raise IncompatibleDeviceError(f"{self.name}: {exc.args[0]}") from None
            self.model_name = (await client.read_gatt_char(gatt.MODEL_NUMBER_CHAR_UUID)).decode("utf-8", "replace")
            self.firmware_text = (await client.read_gatt_char(gatt.FIRMWARE_REVISION_CHAR_UUID)).decode("utf-8", "replace")
            if self.calibration is None:  # keep a tare done before a reconnect
                self.calibration = self._load_calibration(await self._read_belt_calibration(client))
                self._unloaded_calibration = self.calibration
            self.battery_pct = (await client.read_gatt_char(gatt.BATTERY_LEVEL_CHAR_UUID))[0]
            self.last_status = StatusReport.decode(await client.read_gatt_char(gatt.STATUS_CHAR_UUID))
            await client.start_notify(gatt.STATUS_CHAR_UUID, self._on_status)
            await client.start_notify(gatt.BATTERY_LEVEL_CHAR_UUID, self._on_battery)
            if self.decoder is None:
                self.decoder = BeltStreamDecoder(self.calibration, stats=self.stats)
            await client.start_notify(gatt.FORCE_STREAM_CHAR_UUID, self._on_stream, **self._stream_notify_options())
        except ProtocolError as exc:
            raise IncompatibleDeviceError(f"{self.name} sent a reply this app cannot read: {exc}") from None
        except (IndexError, UnicodeError) as exc:
            raise IncompatibleDeviceError(f"{self.name} sent malformed identity data: {exc}") from None
        except BLE_ERRORS as exc:
            raise DeviceError(f"setting up {self.name} failed: {exc or type(exc).__name__}") from None
        self.emit(BatteryChanged(self.battery_pct))

    async def _read_belt_calibration(self, client: BleakClient) -> BeltCalibration | None:
        """The belt's stored calibration; None if it has none (INTERNAL_ERROR, SPEC)."""
        try:
            resp = await self._command_on(client, Command(Opcode.GET_CALIBRATION))
        except CommandError as exc:
            if exc.status == codec.Status.INTERNAL_ERROR:
                return None
            raise
        return BeltCalibration.decode(resp.payload)

    def _load_calibration(self, on_belt: BeltCalibration | None) -> LinearCalibration:
        assert self.device_info is not None and self.capabilities is not None
        stored = None
        store_problem = ""
        if self.calibration_store is not None:
            try:
                stored = self.calibration_store.get(self.device_info.serial_text, model_id=self.device_info.model_id)
            except CalibrationStoreError as exc:
                # Never refuse to measure over a bad file: use the belt's own calibration and say why.
                log.warning("%s: %s", self.name, exc)
                store_problem = f"; calibration file not used: {exc}"
        if stored is not None:
            self.calibration_note = f"{stored.source} ({(stored.created_at or '')[:10]})"
            return stored
        if on_belt is None:
            # No calibration anywhere: the model's nominal gain is within a few percent,
            # and every metric is net of the rep's baseline, so the session can go on.
            log.warning("%s has no stored calibration; using the nominal gain", self.name)
            self.calibration_note = "nominal (belt not calibrated: forces approximate)"
            return LinearCalibration(0.0, self.capabilities.nominal_newtons_per_count, source="manual", capacity_n=self.capabilities.capacity_n)
        factory = calibration_from_belt(on_belt, self.capabilities.capacity_n)
        self.calibration_note = f"belt ({factory.created_at[:10] if factory.created_at else 'undated'}){store_problem}"
        return factory

    def _on_link_lost(self) -> None:
        if self.decoder is not None:
            self.decoder.link_lost()
        pending, self._pending = self._pending, None
        if pending is not None and not pending[1].done():
            pending[1].set_exception(DeviceError(f"{self.name}: link lost while waiting for a reply"))

    # ------------------------------------------------------------ notifications

    def _on_stream(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        assert self.decoder is not None
        try:
            block = self.decoder.decode(data)
        except UnsupportedVersionError as exc:
            self.emit(SourceFailed(f"{self.name}: {exc}. Update the app."))
            asyncio.get_running_loop().create_task(self.disconnect())
            return
        if block is not None:
            self.emit(SamplesReceived(block))

    def _on_control(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        try:
            resp = codec.decode_response(data)
        except ProtocolError as exc:
            log.warning("%s: unreadable control-point indication %s: %s", self.name, bytes(data).hex(), exc)
            return
        pending = self._pending
        if pending is None or pending[0] != resp.opcode or pending[1].done():
            log.warning("%s: unexpected reply %s", self.name, resp.describe())
            return
        pending[1].set_result(resp)

    def _on_status(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        try:
            self.last_status = StatusReport.decode(bytes(data))
        except ProtocolError as exc:
            log.warning("%s: unreadable status %s: %s", self.name, bytes(data).hex(), exc)

    def _on_battery(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        if len(data) >= 1 and data[0] <= 100 and data[0] != self.battery_pct:
            self.battery_pct = data[0]
            self.emit(BatteryChanged(data[0]))

    # ------------------------------------------------------------ commands

    async def command(self, command: Command, timeout_s: float | None = None) -> Response:
        """Send a command and wait for its reply; raise CommandError on an error status."""
        return await self._command_on(self.client, command, timeout_s)

    async def _command_on(self, client: BleakClient, command: Command, timeout_s: float | None = None) -> Response:
        # SPEC: 2 s, or the tare window + 2 s; command_timeout_s overrides the 2 s part.
        timeout = timeout_s if timeout_s is not None else codec.response_timeout_s(command) - codec.RESPONSE_TIMEOUT_S + self.command_timeout_s
        async with self._command_lock:
            fut: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
            self._pending = (command.opcode, fut)
            try:
                await client.write_gatt_char(gatt.CONTROL_POINT_CHAR_UUID, codec.encode_command(command), response=True)
                resp = await asyncio.wait_for(fut, timeout)
            except TimeoutError:
                raise CommandTimeoutError(f"{self.name} did not answer {command.name} within {timeout:g} s") from None
            except BLE_ERRORS as exc:
                raise DeviceError(f"{self.name}: sending {command.name} failed: {exc or type(exc).__name__}") from None
            finally:
                self._pending = None
        if not resp.ok:
            raise CommandError(f"{self.name} refused {resp.describe()}", resp.status)
        return resp

    # ------------------------------------------------------------ stream

    async def _start(self, rate_hz: int | None) -> int:
        assert self.capabilities is not None
        rate = rate_hz or self.capabilities.default_rate_hz
        if not self.capabilities.supports_rate(rate):
            raise DeviceError(
                f"{self.model_name or self.name} streams at {self.capabilities.min_rate_hz}..{self.capabilities.max_rate_hz} Hz, not {rate} Hz"
            )
        await self.command(codec.start_stream_command(rate))
        return rate

    async def _stop(self) -> None:
        await self.command(codec.simple_command(Opcode.STOP_STREAM))

    async def tare(self) -> float:
        """Zero at rest with the belt's TARE (1 s window); returns the removed level in N."""
        assert self.calibration is not None and self.decoder is not None
        resp = await self.command(codec.tare_command(TARE_WINDOW_MS))
        try:
            result = TareResult.decode(resp.payload)
        except ProtocolError as exc:
            raise DeviceError(f"{self.name}: unreadable tare reply: {exc}") from None
        spread_n = result.spread_counts * abs(self.calibration.newtons_per_count)
        if spread_n > TARE_MAX_SPREAD_N:
            raise TareRejectedError(
                f"the belt moved during tare (force varied by {spread_n:.1f} N); relax the leg and try again"
            )
        # Judged against the unloaded zero, not the last tare, so tares in a row cannot creep up onto a load.
        unloaded = self._unloaded_calibration or self.calibration
        rest_n = float(unloaded.to_newtons(result.zero_counts))
        if rest_n > TARE_MAX_REST_N:
            raise TareRejectedError(
                f"the belt reads {rest_n:.0f} N at rest, more than a snug belt's {TARE_MAX_REST_N:.0f} N: "
                "is the leg pressing? relax it (or loosen the belt) and tare again"
            )
        removed_n = float(self.calibration.to_newtons(result.zero_counts))
        self.calibration = self.calibration.with_zero(float(result.zero_counts))
        self.decoder.calibration = self.calibration
        self.calibration_note = self.calibration_note.split(" + tare")[0] + " + tare"
        return removed_n

    async def write_calibration(self, calibration: LinearCalibration) -> BeltCalibration:
        """Store a calibration on the belt (SET_CALIBRATION, persistent) and use it from now on.

        Reads it back with GET_CALIBRATION and returns what the belt holds; a belt that
        holds something else is an error. The belt keeps a whole-count zero and float32
        values, so what it holds differs from ``calibration`` by under half a count.
        """
        assert self.decoder is not None
        if not calibration.belt_compatible:
            raise DeviceError(f"{self.name} stores only positive gains; this calibration ({calibration.newtons_per_count:g} N/count) cannot be written")
        when = 0
        if calibration.created_at:
            try:
                when = int(dt.datetime.fromisoformat(calibration.created_at).timestamp())
            except ValueError:
                when = 0
        try:
            wanted = BeltCalibration(
                zero_counts=round(calibration.zero_counts),
                newtons_per_count=float(calibration.newtons_per_count),
                calibrated_at_unix=max(0, when),
                linearity_error_n=float(calibration.linearity_error_n or 0.0),
            ).as_sent()
            await self.command(codec.set_calibration_command(wanted))
            held = await self._read_belt_calibration(self.client)
        except ProtocolError as exc:
            raise DeviceError(f"{self.name}: cannot write this calibration: {exc}") from None
        if held != wanted:
            raise DeviceError(f"{self.name} holds {held} after SET_CALIBRATION, not {wanted}; calibration not written")
        self.calibration = calibration
        self._unloaded_calibration = calibration
        self.decoder.calibration = calibration
        self.calibration_note = f"{calibration.source} ({(calibration.created_at or '')[:10]})"
        return held

    async def read_belt_calibration(self) -> BeltCalibration | None:
        """The calibration the belt holds now (GET_CALIBRATION); None if it has none."""
        try:
            return await self._read_belt_calibration(self.client)
        except ProtocolError as exc:
            raise DeviceError(f"{self.name} sent a calibration this app cannot read: {exc}") from None

    async def read_battery(self) -> int | None:
        data = await self.client.read_gatt_char(gatt.BATTERY_LEVEL_CHAR_UUID)
        self.battery_pct = data[0] if data else None
        return self.battery_pct

    async def sleep(self) -> None:
        """Put the belt to sleep (it disconnects; wakes by its button)."""
        self._closing = True
        await self.command(codec.simple_command(Opcode.SLEEP))
        await self.disconnect()


def open_source(descriptor: Any, **options: Any) -> BeltSource:
    """Registry entry point: a belt found by a scan (or given by address)."""
    options.setdefault("calibration_store", default_calibration_store())
    return BeltSource(descriptor.details or descriptor.address, name=descriptor.name or None, **options)
