"""Replay a recorded samples CSV as a live source, optionally faster than real time.

Useful for demos, for re-running a session through the live detector, and for
tests of everything above the device layer. Gaps in the file's timestamps are
reported as gaps, exactly like lost packets from a belt. A gap is waited out for
at most MAX_GAP_WAIT_S of device time: a file with a 1e12 s hole replays in the
time of its samples, and nothing is allocated per second of the hole.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

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
MAX_GAP_WAIT_S = 1.0  # device seconds a gap is waited out, at most (it is still reported whole)
YIELD_EVERY = 64  # blocks delivered back to back (behind schedule) before letting the loop run
MERGE_MAX_S = 0.5  # behind schedule (a high --speed), due blocks go out together, up to this much device time


class ReplayBlock(NamedTuple):
    """One block of the replay: samples [lo, hi), the gap before it, when it is due."""

    lo: int
    hi: int
    gap_s: float  # 0.0, or the missing time before t[lo] (the step minus one period)
    due_s: float  # wall seconds after the start of the pass at which its last sample is due


def replay_schedule(
    t_s: np.ndarray,
    *,
    period_s: float,
    speed: float,
    block_s: float = BLOCK_S,
    max_gap_wait_s: float = MAX_GAP_WAIT_S,
    chunk: int = 1 << 16,
) -> Iterator[ReplayBlock]:
    """Blocks of ``block_s`` device time over ``t_s`` (strictly increasing), lazily.

    A gap (a step over GAP_FACTOR periods) always starts a block; otherwise blocks follow a
    ``block_s`` grid that starts at the first sample after the last gap. Work and memory are
    per sample (``chunk`` samples at a time), never per second of the span, and a gap adds at
    most ``max_gap_wait_s`` to the wait.
    """
    n = int(t_s.size)
    if n == 0:
        return
    gap_step = GAP_FACTOR * period_s
    wait_cap = max_gap_wait_s + period_s
    played_s = 0.0  # device time waited for up to the last emitted block's last sample
    seg_t0 = float(t_s[0])  # where the current gap-free stretch (and its block grid) starts
    open_lo = 0  # first sample of the block not yet emitted
    prev_k = 0.0
    for c0 in range(1, n, chunk):
        c1 = min(n, c0 + chunk)
        t = t_s[c0:c1]
        step = t - t_s[c0 - 1 : c1 - 1]
        gap = step > gap_step
        seg = np.where(gap, t, -np.inf)
        np.maximum.accumulate(seg, out=seg)
        seg = np.maximum(seg, seg_t0)
        k = np.floor((t - seg) / block_s)
        k_before = np.empty_like(k)
        k_before[0] = prev_k
        k_before[1:] = k[:-1]
        starts = c0 + np.flatnonzero(gap | (k != k_before))
        seg_t0 = float(seg[-1])
        prev_k = float(k[-1])
        if starts.size == 0:
            continue
        los = np.concatenate(([open_lo], starts[:-1]))
        his = starts
        # wait per block: its own span, plus the (capped) step from the block before it
        span = t_s[his - 1] - t_s[los]
        lead = np.where(los > 0, np.minimum(t_s[los] - t_s[np.maximum(los - 1, 0)], wait_cap), 0.0)
        due = played_s + np.cumsum(span + lead)
        before = t_s[los] - t_s[np.maximum(los - 1, 0)]
        gaps = np.where((los > 0) & (before > gap_step), before - period_s, 0.0)
        for lo, hi, g, d in zip(los.tolist(), his.tolist(), gaps.tolist(), due.tolist(), strict=True):
            yield ReplayBlock(lo, hi, g, d / speed)
        played_s = float(due[-1])
        open_lo = int(starts[-1])
    lo = open_lo
    step_s = float(t_s[lo] - t_s[lo - 1]) if lo else 0.0
    gap_s = step_s - period_s if step_s > gap_step else 0.0
    played_s += min(step_s, wait_cap) + float(t_s[n - 1] - t_s[lo])
    yield ReplayBlock(lo, n, gap_s, played_s / speed)


class ReplaySource(ForceSource):
    kind = "replay"

    def __init__(
        self,
        path: str | Path,
        *,
        speed: float = 1.0,
        loop: bool = False,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        super().__init__()
        self._clock = clock  # injectable: tests replay on a virtual clock
        self._sleep = sleep
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
        self._rate_hz = float(1.0 / np.median(dt, overwrite_input=True)) if dt.size else None
        del dt
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
            started = self._clock()
            pass_start = 0.0
            behind = 0
            while True:
                due_s = 0.0
                schedule = replay_schedule(t, period_s=period, speed=self.speed)
                upcoming = next(schedule, None)
                while upcoming is not None:
                    block, upcoming = upcoming, next(schedule, None)
                    lo, hi, gap_s = block.lo, block.hi, block.gap_s
                    due_s = block.due_s
                    delay = started + pass_start + due_s - self._clock()
                    if delay > 0:
                        await self._sleep(delay)
                        behind = 0
                    else:
                        # the consumer is behind the schedule: what is already due goes out as one
                        # block (never across a gap), so a fast replay costs per sample, not per 20 ms
                        now_s = self._clock() - started - pass_start
                        while (
                            upcoming is not None
                            and upcoming.gap_s == 0.0
                            and upcoming.due_s <= now_s
                            and t[upcoming.hi - 1] - t[lo] <= MERGE_MAX_S
                        ):
                            hi, due_s = upcoming.hi, upcoming.due_s
                            upcoming = next(schedule, None)
                        behind += 1
                        if behind >= YIELD_EVERY:  # let the consumers' other tasks run
                            await self._sleep(0)
                            behind = 0
                    if gap_s:
                        self.stats.gaps.append(Gap(float(t[lo - 1] + period + offset), gap_s, 0, "recording gap"))
                    sample_block = SampleBlock(
                        t_s=t[lo:hi] + offset,
                        force_n=f[lo:hi].copy(),
                        gap_before_s=gap_s,
                        received_at=self._clock(),
                    )
                    self.stats.packets += 1
                    self.stats.samples += hi - lo
                    self.stats.last_force_n = float(f[hi - 1])
                    self.stats.last_t_s = float(t[hi - 1] + offset)
                    self.emit(SamplesReceived(sample_block))
                if not self.loop:
                    break
                offset += float(t[-1] - t[0]) + period
                pass_start += due_s + period / self.speed
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001  never leave the UI waiting on a dead task
            self.emit(SourceFailed(f"replay of {self.path.name} failed: {exc}"))
            return
        self._task = None
        self._set_state(LinkState.CONNECTED)
        self.emit(StreamEnded(f"end of {self.path.name}"))


def open_source(descriptor: Any, *, speed: float = 1.0, **_: Any) -> ReplaySource:
    return ReplaySource(descriptor.address, speed=speed)
