"""Replay a recorded samples CSV as a live source, optionally faster than real time.

Useful for demos, for re-running a session through the live detector, and for
tests of everything above the device layer. Gaps in the file's timestamps are
reported as gaps, exactly like lost packets from a belt.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import numpy as np

from sensorapp.acquisition.blocks import Gap, SampleBlock
from sensorapp.storage.samples_csv import SamplesCsvError, SampleTable, read_samples_csv

from .base import (
    DeviceError,
    ForceSource,
    LinkState,
    SamplesReceived,
    SourceFailed,
    SourceInfo,
    StreamEnded,
    cancel_and_wait,
)

BLOCK_S = 0.02  # deliver in 20 ms blocks of device time, like the belt's notify interval
GAP_FACTOR = 1.5  # a step longer than 1.5 typical periods is a gap (research/signal.md §0)


class ReplaySource(ForceSource):
    kind = "replay"

    def __init__(self, path: str | Path, *, speed: float = 1.0, loop: bool = False) -> None:
        super().__init__()
        if not speed > 0:
            raise DeviceError(f"replay speed must be positive, got {speed}")
        self.path = Path(path)
        self.speed = speed
        self.loop = loop
        self.table: SampleTable | None = None
        self._task: asyncio.Task[None] | None = None
        self._rate_hz: float | None = None

    @property
    def info(self) -> SourceInfo | None:
        if self.table is None:
            return None
        return SourceInfo(
            kind=self.kind,
            name=self.path.name,
            address=str(self.path),
            rate_hz=self._rate_hz,
            calibration="as recorded (newtons)",
            supports_rate_choice=False,
            supports_tare=False,
        )

    async def connect(self) -> None:
        self._set_state(LinkState.CONNECTING)
        try:
            self.table = await asyncio.to_thread(read_samples_csv, self.path)
        except SamplesCsvError as exc:
            self._set_state(LinkState.DISCONNECTED)
            raise DeviceError(str(exc)) from None
        dt = np.diff(self.table.t_s)
        self._rate_hz = float(1.0 / np.median(dt)) if dt.size else None
        self._set_state(LinkState.CONNECTED)

    async def disconnect(self) -> None:
        await self.stop_stream()
        self._set_state(LinkState.DISCONNECTED)

    async def start_stream(self, rate_hz: int | None = None) -> None:
        if self.table is None:
            raise DeviceError("replay source is not connected")
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._play(self.table))
        self._set_state(LinkState.STREAMING)

    async def stop_stream(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        if self.state == LinkState.STREAMING:
            self._set_state(LinkState.CONNECTED)

    async def tare(self) -> float:
        raise DeviceError("a recording cannot be tared")

    async def _play(self, table: SampleTable) -> None:
        t, f = table.t_s, table.force_n
        period = 1.0 / self._rate_hz if self._rate_hz else BLOCK_S
        offset = 0.0
        try:
            while True:
                started = time.monotonic()
                edges = np.arange(t[0], t[-1] + BLOCK_S, BLOCK_S)
                idx = np.concatenate(([0], np.searchsorted(t, edges[1:], side="right")))
                prev_end = None
                for k in range(1, idx.size):
                    lo, hi = idx[k - 1], idx[k]
                    if hi <= lo:
                        continue
                    due = started + (t[hi - 1] - t[0]) / self.speed
                    delay = due - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    gap_s = 0.0
                    if prev_end is not None and t[lo] - t[prev_end] > GAP_FACTOR * period:
                        gap_s = float(t[lo] - t[prev_end] - period)
                        self.stats.gaps.append(Gap(float(t[prev_end] + period + offset), gap_s, 0, "recording gap"))
                    block = SampleBlock(
                        t_s=t[lo:hi] + offset,
                        force_n=f[lo:hi].copy(),
                        gap_before_s=gap_s,
                        received_at=time.monotonic(),
                    )
                    self.stats.packets += 1
                    self.stats.samples += hi - lo
                    self.stats.last_force_n = float(f[hi - 1])
                    self.stats.last_t_s = float(t[hi - 1] + offset)
                    self.emit(SamplesReceived(block))
                    prev_end = hi - 1
                if not self.loop:
                    break
                offset += float(t[-1] - t[0]) + period
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # never leave the UI waiting on a dead task
            self.emit(SourceFailed(f"replay of {self.path.name} failed: {exc}"))
            return
        self._task = None
        self._set_state(LinkState.CONNECTED)
        self.emit(StreamEnded(f"end of {self.path.name}"))


def open_source(descriptor: Any, *, speed: float = 1.0, **_: Any) -> ReplaySource:
    return ReplaySource(descriptor.address, speed=speed)
