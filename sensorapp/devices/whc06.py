"""The WH-C06 / "IF_B7" hanging scale as a ForceSource: it never connects.

The scale broadcasts its displayed weight in every advertisement (about 8 a
second; sensorapp.acquisition.whc06_protocol). "Connecting" is scanning for
its address until the first advertisement arrives; the source then keeps
one scanner running, and while streaming each new advertisement becomes a
sample (sensorapp.acquisition.whc06_stream: host arrival time on a
device-like clock, no de-duplication the protocol cannot justify).

The link: when no advertisement arrives for ``lost_after_s`` the source
reports LinkLost and Reconnecting (it keeps listening); when they come back
it reports LinkRestored and the silent stretch is a "link loss" gap. After
``reconnect_timeout_s`` without any it gives up (SourceFailed).

Tare: the scale has no tare over the air, so the app tares in software
(1 s of rest, the belt's spread rule; subtracted from later samples).
No rate choice; no battery reading.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner

from sensorapp.acquisition import whc06_protocol as wp
from sensorapp.acquisition.whc06_stream import Whc06StreamDecoder

from .base import (
    DeviceError,
    DeviceNotFoundError,
    ForceSource,
    LinkLost,
    LinkRestored,
    LinkState,
    Reconnecting,
    SamplesReceived,
    SourceFailed,
    SourceInfo,
    cancel_and_wait,
    own_calibration_info,
)
from .ble_source import BLE_ERRORS, bluetooth_error, scanner_backend_args

log = logging.getLogger(__name__)

MODEL_NAME = "WH-C06 hanging scale"
LOST_AFTER_S = 2.0  # 16 missed advertisements; hangtime waits 10 s, GripGains 5 s before saying "disconnected"
TARE_WINDOW_S = 1.0  # 8 readings
TARE_MAX_SPREAD_N = 5.0
WATCH_INTERVAL_S = 0.1


class Whc06Source(ForceSource):
    kind = "whc06"

    def __init__(
        self,
        device: BLEDevice | str,
        *,
        name: str | None = None,
        scanner_backend: type[BaseBleakScanner] | None = None,
        timeline_clock: Callable[[], float] | None = None,
        lost_after_s: float = LOST_AFTER_S,
        reconnect_timeout_s: float = 60.0,
        find_timeout_s: float = 10.0,
        **_ignored: Any,  # options meant for connected sources (acquire_notify, client_backend)
    ) -> None:
        super().__init__()
        self.address = device.address if isinstance(device, BLEDevice) else device
        self.name = name or (device.name if isinstance(device, BLEDevice) and device.name else self.address)
        self._scanner_backend = scanner_backend
        self._timeline_clock = timeline_clock
        self.lost_after_s = lost_after_s
        self.reconnect_timeout_s = reconnect_timeout_s
        self.find_timeout_s = find_timeout_s
        self.decoder = Whc06StreamDecoder(stats=self.stats)
        self._scanner: BleakScanner | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._seen = asyncio.Event()
        self._last_advert: float | None = None
        self._lost_at: float | None = None
        self._streaming = False
        self._connected_once = False
        self.tared = False

    @property
    def info(self) -> SourceInfo | None:
        if not self._connected_once:
            return None
        return own_calibration_info(
            self,
            model=MODEL_NAME,
            calibration="scale's own (display unit to N)",
            tared=self.tared,
            rate_hz=wp.NOMINAL_RATE_HZ if self._streaming else None,
        )

    # ------------------------------------------------------------ listening

    def _on_advertisement(self, device: BLEDevice, adv: AdvertisementData) -> None:
        if device.address.upper() != self.address.upper():
            return
        received_at = time.monotonic()
        self._last_advert = received_at
        self._seen.set()
        if self._lost_at is not None:
            outage = received_at - self._lost_at
            self._lost_at = None
            self.stats.reconnects += 1
            self._set_state(LinkState.STREAMING if self._streaming else LinkState.CONNECTED)
            self.emit(LinkRestored(1, outage))
        if not self._streaming:
            return
        timeline_s = self._timeline_clock() if self._timeline_clock is not None else None
        block = self.decoder.decode(dict(adv.manufacturer_data), received_at, timeline_s=timeline_s)
        if block is not None:
            self.emit(SamplesReceived(block))

    async def connect(self) -> None:
        self._set_state(LinkState.CONNECTING)
        self._seen = asyncio.Event()
        scanner = BleakScanner(self._on_advertisement, **scanner_backend_args(self._scanner_backend))
        try:
            await scanner.start()
        except BLE_ERRORS as exc:
            self._set_state(LinkState.DISCONNECTED)
            raise bluetooth_error(exc, f"listening for {self.name}") from None
        self._scanner = scanner
        try:
            await asyncio.wait_for(self._seen.wait(), self.find_timeout_s)
        except TimeoutError:
            await self._stop_scanner()
            self._set_state(LinkState.DISCONNECTED)
            raise DeviceNotFoundError(f"no advertisement from {self.address} within {self.find_timeout_s:g} s; is the scale switched on and in range?") from None
        self._connected_once = True
        self._watchdog = asyncio.get_running_loop().create_task(self._watch())
        self._set_state(LinkState.CONNECTED)

    async def _stop_scanner(self) -> None:
        scanner, self._scanner = self._scanner, None
        if scanner is not None:
            try:
                await scanner.stop()
            except BLE_ERRORS as exc:
                log.info("stopping the scan: %s", exc)

    async def disconnect(self) -> None:
        task, self._watchdog = self._watchdog, None
        await cancel_and_wait(task)
        await self._stop_scanner()
        self._streaming = False
        self._lost_at = None
        self._set_state(LinkState.DISCONNECTED)

    async def _watch(self) -> None:
        """Link loss = the advertisements stopped; give up after reconnect_timeout_s."""
        attempt = 0
        while True:
            await asyncio.sleep(WATCH_INTERVAL_S)
            now = time.monotonic()
            if self._lost_at is None:
                if self._last_advert is not None and now - self._last_advert > self.lost_after_s:
                    self._lost_at = self._last_advert
                    attempt = 1
                    self.decoder.link_lost()
                    self.emit(LinkLost(f"no advertisement from {self.name} for {self.lost_after_s:g} s"))
                    self._set_state(LinkState.RECONNECTING)
                    self.emit(Reconnecting(attempt, self.reconnect_timeout_s))
            elif now - self._lost_at > self.reconnect_timeout_s:
                self._watchdog = None
                await self._stop_scanner()
                self._streaming = False
                self._lost_at = None
                self._set_state(LinkState.DISCONNECTED)
                self.emit(SourceFailed(f"lost {self.name}: no advertisement for {self.reconnect_timeout_s:g} s"))
                return

    # ------------------------------------------------------------ stream

    async def start_stream(self, rate_hz: int | None = None) -> None:
        if self._scanner is None:
            raise DeviceError(f"{self.name} is not connected")
        if rate_hz is not None and rate_hz != round(wp.NOMINAL_RATE_HZ):
            raise DeviceError(f"the {MODEL_NAME} broadcasts at its own rate (about {wp.NOMINAL_RATE_HZ:g} a second); it cannot stream at {rate_hz} Hz")
        self.decoder.stream_started()
        self._streaming = True
        if self._lost_at is None:
            self._set_state(LinkState.STREAMING)

    async def stop_stream(self) -> None:
        self._streaming = False
        if self._lost_at is None and self._scanner is not None:
            self._set_state(LinkState.CONNECTED)

    async def tare(self) -> float:
        """Software tare: 1 s of rest (refused if the load moved), subtracted from later samples."""
        started_here = not self._streaming
        if started_here:
            await self.start_stream()
        try:
            force_n = await self.rest_window(TARE_WINDOW_S, TARE_MAX_SPREAD_N, silent="broadcast no weight")
        finally:
            if started_here:
                await self.stop_stream()
        removed = float(force_n.mean())
        self.decoder.tare_n += removed
        self.tared = True
        return removed


def open_source(descriptor: Any, **options: Any) -> Whc06Source:
    """Registry entry point: a scale found by a scan (or given by address)."""
    return Whc06Source(descriptor.details or descriptor.address, name=descriptor.name or None, **options)
