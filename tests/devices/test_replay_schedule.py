"""Replay of a samples CSV: the schedule is per sample (never per second of span), gaps are reported
whole but waited out for at most MAX_GAP_WAIT_S, on a virtual clock (no wall time involved)."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import numpy as np
import pytest

from sensorapp.devices.base import SamplesReceived, StreamEnded
from sensorapp.devices.replay import MAX_GAP_WAIT_S, ReplaySource, replay_schedule
from sensorapp.storage.samples_csv import read_samples_csv, write_samples_csv


class VirtualClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.slept.append(delay)
        self.now += max(delay, 0.0)
        await asyncio.sleep(0)


def test_schedule_with_a_1e12_s_gap_is_per_sample() -> None:
    t = np.arange(3000) / 1000.0
    t[1500:] += 1e12
    blocks = list(replay_schedule(t, period_s=1e-3, speed=1.0))
    assert len(blocks) < 200  # 3 s of samples in 20 ms blocks, whatever the span
    assert blocks[0].lo == 0 and blocks[-1].hi == t.size
    assert all(a.hi == b.lo for a, b in itertools.pairwise(blocks))
    gaps = [b for b in blocks if b.gap_s]
    assert len(gaps) == 1 and gaps[0].lo == 1500 and gaps[0].gap_s == pytest.approx(1e12, rel=1e-9)
    # the wait: the samples' own 3 s plus at most MAX_GAP_WAIT_S for the gap
    assert blocks[-1].due_s == pytest.approx(2.999 + MAX_GAP_WAIT_S, abs=2e-3)


def test_schedule_independent_of_its_chunking() -> None:
    rng = np.random.default_rng(3)
    steps = np.full(5000, 0.005)
    steps[rng.random(5000) < 0.01] *= rng.uniform(2, 1e7)
    t = np.cumsum(steps)
    ref = list(replay_schedule(t, period_s=0.005, speed=4.0, chunk=1 << 16))
    for chunk in (1, 7, 333):
        got = list(replay_schedule(t, period_s=0.005, speed=4.0, chunk=chunk))
        assert [(b.lo, b.hi, b.gap_s) for b in got] == [(b.lo, b.hi, b.gap_s) for b in ref]
        np.testing.assert_allclose([b.due_s for b in got], [b.due_s for b in ref], rtol=1e-12)


def test_replay_on_a_virtual_clock_reports_the_gap_and_does_not_wait_for_it(tmp_path: Path) -> None:
    t = np.arange(2000) / 100.0
    t[1000:] += 1e12
    path = tmp_path / "gap.csv"
    write_samples_csv(path, t, np.sin(t), "left")
    clock = VirtualClock()
    source = ReplaySource(path, speed=2.0, clock=clock, sleep=clock.sleep)
    blocks: list[np.ndarray] = []
    ended = asyncio.Event()

    def on_event(event: object) -> None:
        if isinstance(event, SamplesReceived):
            blocks.append(event.block.t_s)
        elif isinstance(event, StreamEnded):
            ended.set()

    async def run() -> None:
        source.subscribe(on_event)
        await source.connect()
        await source.start_stream()
        await asyncio.wait_for(ended.wait(), 30)
        await source.disconnect()

    asyncio.run(run())
    np.testing.assert_array_equal(np.concatenate(blocks), read_samples_csv(path).t_s)
    assert len(source.stats.gaps) == 1 and source.stats.gaps[0].duration_s == pytest.approx(1e12, rel=1e-9)
    # virtual time: 20 s of samples at speed 2 plus the capped gap wait, not 5e11 s
    assert clock.now == pytest.approx((19.99 + MAX_GAP_WAIT_S) / 2.0, abs=0.05)


def test_fast_replay_merges_due_blocks_but_never_across_a_gap(tmp_path: Path) -> None:
    t = np.arange(20000) / 1000.0
    t[10000:] += 50.0
    path = tmp_path / "fast.csv"
    write_samples_csv(path, t, np.zeros_like(t), "")
    clock = VirtualClock()

    source = ReplaySource(path, speed=1e6, clock=clock, sleep=clock.sleep)
    blocks: list[tuple[np.ndarray, float]] = []
    ended = asyncio.Event()

    def on_event(event: object) -> None:
        if isinstance(event, SamplesReceived):
            blocks.append((event.block.t_s, event.block.gap_before_s))
            clock.now += 0.01  # each block costs the consumer 10 ms: far behind a 1e6x schedule
        elif isinstance(event, StreamEnded):
            ended.set()

    async def run() -> None:
        source.subscribe(on_event)
        await source.connect()
        await source.start_stream()
        await asyncio.wait_for(ended.wait(), 30)

    asyncio.run(run())
    assert len(blocks) < 100  # merged (1000 blocks of 20 ms without merging)
    as_read = read_samples_csv(path).t_s
    np.testing.assert_array_equal(np.concatenate([b for b, _ in blocks]), as_read)
    gap_blocks = [b for b, g in blocks if g]
    assert len(gap_blocks) == 1 and gap_blocks[0][0] == as_read[10000]
