"""What every Bluetooth force source shares: finding the device, connecting
through bleak-retry-connector, and getting the stream back after a link loss.

Subclasses say what to do once connected (``_on_connected``), how to start
and stop their stream, and how to tare.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import time
from typing import Any

from bleak import BleakClient, BleakScanner
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import BaseBleakScanner
from bleak.exc import BleakBluetoothNotAvailableError, BleakError
from bleak_retry_connector import establish_connection

from .base import (
    BluetoothUnavailableError,
    ConnectError,
    DeviceError,
    DeviceNotFoundError,
    ForceSource,
    LinkLost,
    LinkRestored,
    LinkState,
    Reconnecting,
    SourceFailed,
    cancel_and_wait,
)

log = logging.getLogger(__name__)

# Errors from bleak and the OS below it that mean "this attempt failed".
BLE_ERRORS: tuple[type[BaseException], ...] = (BleakError, asyncio.TimeoutError, OSError, EOFError)
DEVICE_OR_BLE_ERRORS: tuple[type[BaseException], ...] = (DeviceError, *BLE_ERRORS)


def scanner_backend_args(backend: type[BaseBleakScanner] | None) -> dict[str, Any]:
    """``backend=`` for BleakScanner calls only when one is chosen (bleak's types do not admit None)."""
    return {} if backend is None else {"backend": backend}


def bluetooth_error(exc: BaseException, doing: str) -> DeviceError:
    """Map a bleak/OS failure to our one-line, user-facing error."""
    if isinstance(exc, BleakBluetoothNotAvailableError):
        return BluetoothUnavailableError(f"Bluetooth is not available: {exc}")
    if isinstance(exc, (FileNotFoundError, ConnectionRefusedError)):
        return BluetoothUnavailableError(f"Bluetooth is not available (no BlueZ system service: {exc.strerror or exc})")
    if isinstance(exc, asyncio.TimeoutError):
        return ConnectError(f"{doing}: timed out")
    text = str(exc) or type(exc).__name__
    return ConnectError(f"{doing}: {text}")


class BleForceSource(ForceSource, abc.ABC):
    """A ForceSource behind a bleak client, with automatic reconnect."""

    def __init__(
        self,
        device: BLEDevice | str,
        *,
        name: str | None = None,
        client_backend: type[BaseBleakClient] | None = None,
        scanner_backend: type[BaseBleakScanner] | None = None,
        reconnect: bool = True,
        reconnect_timeout_s: float = 60.0,
        connect_attempts: int = 3,
        connect_timeout_s: float = 30.0,
        find_timeout_s: float = 10.0,
        acquire_notify: bool = False,
    ) -> None:
        super().__init__()
        self._device_arg = device
        self._ble_device: BLEDevice | None = device if isinstance(device, BLEDevice) else None
        self.address = device.address if isinstance(device, BLEDevice) else device
        self.name = name or (device.name if isinstance(device, BLEDevice) and device.name else self.address)
        self._client_backend = client_backend
        self._scanner_backend = scanner_backend
        self.reconnect_enabled = reconnect
        self.reconnect_timeout_s = reconnect_timeout_s
        self.connect_attempts = connect_attempts
        self.connect_timeout_s = connect_timeout_s
        self.find_timeout_s = find_timeout_s
        # BlueZ only: receive the high-rate stream through AcquireNotify (a socket
        # per characteristic) instead of D-Bus signals; other backends ignore it.
        self.acquire_notify = acquire_notify
        # Set when the device said it is going away for good (e.g. a flat
        # battery): a link loss then ends the source instead of reconnecting.
        self._gone_reason: str | None = None
        self._client: BleakClient | None = None
        self._closing = False
        self._streaming_rate: int | None = None
        self._reconnect_task: asyncio.Task[None] | None = None
        self._releasing: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------ subclass hooks

    @abc.abstractmethod
    async def _on_connected(self, client: BleakClient) -> None:
        """Subscribe and read what the source needs; raise DeviceError to refuse."""

    @abc.abstractmethod
    async def _start(self, rate_hz: int | None) -> int | None:
        """Start the device's stream; return the rate actually used."""

    @abc.abstractmethod
    async def _stop(self) -> None: ...

    def _on_link_lost(self) -> None:
        """Called when the link drops, before reconnecting (reset decoders here)."""

    def _stream_notify_options(self) -> dict[str, Any]:
        """Keyword arguments for ``start_notify`` on the high-rate stream characteristic."""
        return {"bluez": {"use_start_notify": False}} if self.acquire_notify else {}

    # ------------------------------------------------------------ public

    @property
    def client(self) -> BleakClient:
        if self._client is None or not self._client.is_connected:
            raise DeviceError(f"{self.name} is not connected")
        return self._client

    async def connect(self) -> None:
        self._closing = False
        self._gone_reason = None
        self._set_state(LinkState.CONNECTING)
        try:
            device = await self._find()
            client = await self._open(device, self.connect_attempts)
            try:
                await self._on_connected(client)
            except BaseException:
                await self._quiet_disconnect(client)
                raise
        except BaseException:
            self._set_state(LinkState.DISCONNECTED)
            raise
        self._client = client
        self._set_state(LinkState.CONNECTED)

    async def disconnect(self) -> None:
        self._closing = True
        task, self._reconnect_task = self._reconnect_task, None
        await cancel_and_wait(task)
        client = self._client
        if client is not None and client.is_connected:
            if self._streaming_rate is not None:
                # _stop() talks through self.client: keep it until the device has stopped.
                try:
                    await asyncio.wait_for(self._stop_on(client), 2.0)
                except DEVICE_OR_BLE_ERRORS as exc:
                    log.info("could not stop the stream before disconnecting: %s", exc)
            self._client = None
            await self._quiet_disconnect(client)
        self._client = None
        self._streaming_rate = None
        self._set_state(LinkState.DISCONNECTED)

    async def _stop_on(self, client: BleakClient) -> None:
        await self._stop()

    async def start_stream(self, rate_hz: int | None = None) -> None:
        _ = self.client  # raises when not connected
        self._streaming_rate = await self._start(rate_hz)
        self._set_state(LinkState.STREAMING)

    async def stop_stream(self) -> None:
        await self._stop()
        self._streaming_rate = None
        self._set_state(LinkState.CONNECTED)

    # ------------------------------------------------------------ connecting

    async def _scan_for(self, timeout_s: float) -> BLEDevice | None:
        """Scan until the device advertises (None if it does not within timeout_s)."""
        try:
            device = await BleakScanner.find_device_by_address(self.address, timeout=timeout_s, **scanner_backend_args(self._scanner_backend))
        except BLE_ERRORS as exc:
            raise bluetooth_error(exc, f"scanning for {self.address}") from None
        if device is not None:
            self._ble_device = device
        return device

    async def _find(self) -> BLEDevice:
        if self._ble_device is not None:
            return self._ble_device
        device = await self._scan_for(self.find_timeout_s)
        if device is None:
            raise DeviceNotFoundError(f"no device with address {self.address} was found within {self.find_timeout_s:g} s; is it switched on and in range?")
        if self.name == self.address and device.name:
            self.name = device.name
        return device

    async def _open(self, device: BLEDevice, attempts: int) -> BleakClient:
        kwargs: dict[str, Any] = {}
        if self._client_backend is not None:
            kwargs["backend"] = self._client_backend
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.connect_timeout_s * attempts):
                return await establish_connection(
                    BleakClient,
                    device,
                    self.name,
                    disconnected_callback=self._on_bleak_disconnect,
                    max_attempts=attempts,
                    **kwargs,
                )
        except BLE_ERRORS as exc:
            # Our deadline, or bleak-retry-connector's per-attempt one (it raises
            # BleakNotFoundError from the TimeoutError): say what a timeout means.
            if isinstance(exc, asyncio.TimeoutError) or isinstance(exc.__cause__, asyncio.TimeoutError):
                raise ConnectError(
                    f"could not connect to {self.name}: no usable connection after {time.monotonic() - started:.0f} s "
                    "(the device did not answer, or connected but never finished service discovery); "
                    "switch it off and on, or move closer, and try again"
                ) from None
            raise bluetooth_error(exc, f"could not connect to {self.name}") from None

    @staticmethod
    async def _quiet_disconnect(client: BleakClient) -> None:
        try:
            await asyncio.wait_for(client.disconnect(), 5.0)
        except BLE_ERRORS as exc:
            log.info("disconnect: %s", exc)

    def _release_later(self, client: BleakClient) -> None:
        task = asyncio.get_running_loop().create_task(self._quiet_disconnect(client))
        self._releasing.add(task)
        task.add_done_callback(self._releasing.discard)

    # ------------------------------------------------------------ link loss

    def _on_bleak_disconnect(self, client: BleakClient) -> None:
        if self._closing or client is not self._client:
            return
        # After a link loss bleak keeps the client's own D-Bus connection open
        # until disconnect() is called (BlueZ backend); release it, or every
        # drop leaks one bus connection.
        self._release_later(client)
        if self._reconnect_task is not None:
            return  # dropped again while reconnecting: the running loop retries
        log.info("%s: link lost", self.name)
        self._on_link_lost()
        self.emit(LinkLost("the Bluetooth link dropped"))
        if not self.reconnect_enabled or self._gone_reason is not None:
            self._client = None
            self._set_state(LinkState.DISCONNECTED)
            self.emit(SourceFailed(self._gone_reason or f"lost the connection to {self.name}"))
            return
        self._set_state(LinkState.RECONNECTING)
        self._reconnect_task = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        lost_at = time.monotonic()
        rate = self._streaming_rate
        delay = 0.25
        attempt = 0
        last_error = ""
        while not self._closing and (remaining := self.reconnect_timeout_s - (time.monotonic() - lost_at)) > 0:
            attempt += 1
            scan_s = min(self.find_timeout_s, remaining)
            self.emit(Reconnecting(attempt, scan_s))
            # Connect only once the device advertises again: connecting to one that
            # is out of range earns bleak-retry-connector's long "not found" backoff
            # (4 s), and the scan both paces this loop and refreshes the BLEDevice.
            try:
                device = await self._scan_for(scan_s)
            except DeviceError as exc:  # e.g. the adapter was switched off
                last_error = str(exc)
                await asyncio.sleep(min(delay, max(0.0, remaining)))
                delay = min(delay * 2, 5.0)
                continue
            if device is None:
                last_error = f"{self.name} is not in range"
                continue
            try:
                client = await self._open(device, 1)
            except DeviceError as exc:
                last_error = str(exc)
                log.info("reconnect attempt %d failed: %s", attempt, exc)
                continue
            self._client = client
            try:
                await self._on_connected(client)
                if rate is not None:
                    self._streaming_rate = await self._start(rate)
            except DEVICE_OR_BLE_ERRORS as exc:
                last_error = str(exc)
                log.info("reconnect attempt %d: setup failed: %s", attempt, exc)
                self._client = None
                await self._quiet_disconnect(client)
                continue
            self.stats.reconnects += 1
            self._set_state(LinkState.STREAMING if rate is not None else LinkState.CONNECTED)
            self.emit(LinkRestored(attempt, time.monotonic() - lost_at))
            self._reconnect_task = None
            return
        if not self._closing:
            self._client = None
            self._reconnect_task = None
            self._set_state(LinkState.DISCONNECTED)
            why = f" (last error: {last_error})" if last_error else ""
            self.emit(SourceFailed(f"lost {self.name} and could not reconnect within {self.reconnect_timeout_s:g} s{why}"))
