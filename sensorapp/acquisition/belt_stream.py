"""Turn belt stream notifications into calibrated SampleBlocks.

Pure code (no bleak): the same decoder runs behind the real belt, the
simulated belt and the fake-BlueZ tests. It unwraps the belt's u32 clock,
counts lost packets from the sequence number, measures gaps from the device
timestamps (never interpolating), drops duplicates and applies calibration.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

import numpy as np

from firmware_protocol import (
    DeviceClock,
    ProtocolError,
    SequenceTracker,
    StreamFlags,
    UnsupportedVersionError,
    decode_stream_packet,
)

from .blocks import Gap, SampleBlock, StreamStats

log = logging.getLogger(__name__)

# A link that was silent this long may hide clock wraps: unwrap with the host clock.
_HOST_HINT_AFTER_S = 1.0


class CountsToNewtons(Protocol):
    def to_newtons(self, counts: np.ndarray) -> np.ndarray: ...


class BeltStreamDecoder:
    """Stateful decoder for one belt across its whole connection history."""

    def __init__(
        self,
        calibration: CountsToNewtons,
        *,
        stats: StreamStats | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.calibration = calibration
        self.stats = stats if stats is not None else StreamStats()
        self._clock = clock
        self._device_clock = DeviceClock()
        self._seq = SequenceTracker()
        self._origin_us: int | None = None
        self._offset_us = 0  # added to the belt clock after a reboot sent it backwards
        self._next_us: int | None = None  # where the next packet's first sample should fall
        self._last_seq_t0: tuple[int, int] | None = None
        self._last_received: float | None = None
        self._link_was_lost = False
        self.last_error: str | None = None

    @property
    def origin_device_us(self) -> int | None:
        """The belt clock (unwrapped, us) at the recording's time 0, once known."""
        return self._origin_us

    def link_lost(self) -> None:
        """The link dropped: the next gap is a link-loss gap and seq restarts."""
        self._link_was_lost = True
        self._seq.restart()

    def decode(self, data: bytes | bytearray | memoryview, received_at: float | None = None) -> SampleBlock | None:
        """Decode one notification; None for a malformed or duplicate packet.

        UnsupportedVersionError propagates: every packet would fail, so the
        caller must stop and tell the user instead of counting errors.
        """
        now = self._clock() if received_at is None else received_at
        try:
            packet = decode_stream_packet(data)
        except UnsupportedVersionError:
            raise
        except ProtocolError as exc:
            self.stats.malformed_packets += 1
            self.last_error = str(exc)
            log.warning("dropped malformed stream packet: %s", exc)
            return None

        key = (packet.seq, packet.t0_us)
        if key == self._last_seq_t0:
            self.stats.duplicate_packets += 1
            return None

        host_elapsed_us = 0
        if self._last_received is not None and now - self._last_received > _HOST_HINT_AFTER_S:
            host_elapsed_us = int((now - self._last_received) * 1e6)
        t0_abs = self._device_clock.unwrap(packet.t0_us, host_elapsed_us) + self._offset_us
        period = packet.period_us
        stream_start = bool(packet.flags & StreamFlags.STREAM_START)
        lost = self._seq.accept(packet.seq, stream_start=stream_start)

        if self._origin_us is None:
            self._origin_us = t0_abs
        gap_us = 0 if self._next_us is None else t0_abs - self._next_us
        if gap_us < -period // 2:
            # The clock went backwards: a rebooted belt. Keep our time line going
            # from where it was, plus what the host saw elapse.
            log.warning("belt clock went back by %d us; re-anchoring", -gap_us)
            assert self._next_us is not None
            shift = self._next_us + host_elapsed_us - t0_abs
            self._offset_us += shift
            t0_abs += shift
            gap_us = host_elapsed_us

        t_first_s = (t0_abs - self._origin_us) / 1e6
        if gap_us > period // 2:
            cause = "link loss" if self._link_was_lost else "packet loss"
            gap = Gap(t_s=(self._next_us - self._origin_us) / 1e6, duration_s=gap_us / 1e6, lost_packets=lost, cause=cause)  # type: ignore[operator]
            self.stats.gaps.append(gap)
            self.stats.lost_samples_est += round(gap_us / period)
        self.stats.lost_packets += lost
        self._link_was_lost = False

        n = packet.counts.size
        t_s = t_first_s + np.arange(n, dtype=np.float64) * (period / 1e6)
        force_n = np.asarray(self.calibration.to_newtons(packet.counts), dtype=np.float64)
        saturated = bool(packet.flags & StreamFlags.SATURATED)

        self._next_us = t0_abs + n * period
        self._last_seq_t0 = key
        self._last_received = now
        st = self.stats
        st.packets += 1
        st.samples += n
        st.saturated_packets += saturated
        st.last_force_n = float(force_n[-1])
        st.last_t_s = float(t_s[-1])
        st.rate_hz = 1e6 / period
        return SampleBlock(
            t_s=t_s,
            force_n=force_n,
            saturated=saturated,
            gap_before_s=max(gap_us, 0) / 1e6 if gap_us > period // 2 else 0.0,
            lost_packets_before=lost,
            received_at=now,
        )
