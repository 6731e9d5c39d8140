"""Turn Tindeq Progressor weight frames into SampleBlocks in newtons.

Pure code (no bleak). The Progressor stamps each sample with a uint32
microsecond clock that wraps every 71.6 min and restarts at 0 at every
START command and after a reconnect. So the decoder keeps one time line in
*segments*: inside a segment it unwraps the device clock; a new segment
(announced by ``stream_started``/``link_lost``, or detected when the clock
jumps back) is placed on the time line by the host clock, and the hole
before it is recorded as a Gap. Nothing is interpolated.

Byte-identical repeats of the previous frame (a real capture has one) are
dropped and counted; samples at or before the last accepted device time are
dropped too. Values are kg on the wire and newtons here (standard gravity);
the device calibrates itself, so there is no counts-to-newtons step.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np

from firmware_protocol import DeviceClock

from .blocks import Gap, SampleBlock, StreamStats
from .progressor_protocol import (
    MAX_PLAUSIBLE_KG,
    NOMINAL_RATE_HZ,
    STANDARD_GRAVITY,
    U32_WRAP,
    ProgressorProtocolError,
    Tag,
    decode_weights,
    parse_frame,
)

log = logging.getLogger(__name__)

_HALF_WRAP = U32_WRAP // 2


class ProgressorStreamDecoder:
    """Stateful decoder for one Progressor across its whole connection history.

    ``gap_threshold_s``: a step between consecutive samples longer than this
    is a hole (lost notifications). A real unit leaves one empty sample slot
    (about 23 ms) between notifications, which is not a hole.
    """

    def __init__(
        self,
        *,
        stats: StreamStats | None = None,
        clock: Callable[[], float] = time.monotonic,
        gap_threshold_s: float = 0.05,
    ) -> None:
        self.stats = stats if stats is not None else StreamStats()
        self._clock = clock
        self.gap_threshold_s = gap_threshold_s
        self.period_s = 1.0 / NOMINAL_RATE_HZ
        self._device_clock = DeviceClock()
        self._offset_s = 0.0  # recording time of device time 0 in the current segment
        self._last_us: int | None = None  # unwrapped device time of the last accepted sample
        self._last_t_s: float | None = None
        self._last_received: float | None = None
        self._last_frame: bytes | None = None
        self._samples_per_frame = 15
        self._frame_step_s = self.period_s  # the unit's usual step from one notification to the next
        self._next_cause: str | None = None  # set when the next frame starts a new segment
        self.last_error: str | None = None

    # ------------------------------------------------------------ announcements

    def stream_started(self) -> None:
        """A START was sent: the device clock restarts with the next frame."""
        if self._next_cause is None:
            self._next_cause = "stream restart"

    def link_lost(self) -> None:
        """The link dropped: the next frame starts a new segment after a link-loss gap."""
        self._next_cause = "link loss"

    # ------------------------------------------------------------ decoding

    def decode(
        self, data: bytes | bytearray | memoryview, received_at: float | None = None, *, timeline_s: float | None = None
    ) -> SampleBlock | None:
        """Decode one weight notification; None when it carries no new sample.

        ``received_at`` is the host clock at arrival (kept in the block).
        ``timeline_s`` is the clock new segments are anchored on, in seconds
        that pass like the device's; it defaults to ``received_at`` (a
        simulation running faster than real time passes its own clock).

        Never raises for bad bytes: malformed frames are counted in
        ``stats.malformed_packets`` (``last_error`` says why) and their whole,
        plausible samples are still used.
        """
        received = self._clock() if received_at is None else received_at
        now = received if timeline_s is None else timeline_s
        data = bytes(data)
        try:
            frame = parse_frame(data)
        except ProgressorProtocolError as exc:
            self._malformed(str(exc))
            return None
        if frame.tag != Tag.WEIGHT_MEASUREMENT:
            self._malformed(f"frame tag 0x{frame.tag:02x} is not a weight measurement")
            return None
        if data == self._last_frame and self._next_cause is None:
            self.stats.duplicate_packets += 1
            return None

        kg, rel_us = self._samples(frame.payload, frame.truncated, frame.declared_len)
        if kg.size == 0:
            return None
        host_elapsed_us = 0 if self._last_received is None else max(0, int((now - self._last_received) * 1e6))

        cause = self._next_cause
        if cause is None and self._last_us is not None:
            first = self._device_clock.unwrap(int(rel_us[0]), host_elapsed_us)
            u = first + (rel_us - rel_us[0])
            if u[-1] <= self._last_us:
                # Entirely at or before what we have, and not a repeat: the
                # device restarted its clock without our START (or rebooted).
                cause = "stream restart"
            elif u[0] <= self._last_us:
                newer = u > self._last_us
                self.stats.duplicate_packets += 1  # partly a repeat: keep the new samples
                kg, u = kg[newer], u[newer]
        if cause is not None or self._last_us is None:
            self._device_clock.reset()
            first = self._device_clock.unwrap(int(rel_us[0]))
            u = first + (rel_us - rel_us[0])
            self._place_segment(u, now)

        t_s = self._offset_s + u / 1e6
        gap_s, lost_packets = self._account_gap(t_s[0], cause, int(kg.size))
        force_n = kg * STANDARD_GRAVITY

        st = self.stats
        if self._last_us is not None and cause is None and gap_s == 0.0:
            inst_rate = kg.size / max(1e-6, (u[-1] - self._last_us) / 1e6)
            st.rate_hz = inst_rate if st.rate_hz == 0 else 0.8 * st.rate_hz + 0.2 * inst_rate
        self._last_us = int(u[-1])
        self._last_t_s = float(t_s[-1])
        self._last_received = now
        self._last_frame = data
        self._next_cause = None
        self._samples_per_frame = max(1, int(kg.size))
        st.packets += 1
        st.samples += int(kg.size)
        st.last_force_n = float(force_n[-1])
        st.last_t_s = float(t_s[-1])
        return SampleBlock(t_s=t_s, force_n=force_n, gap_before_s=gap_s, lost_packets_before=lost_packets, received_at=received)

    # ------------------------------------------------------------ helpers

    def _malformed(self, why: str) -> None:
        self.stats.malformed_packets += 1
        self.last_error = why
        log.warning("Progressor frame: %s", why)

    def _samples(self, payload: bytes, truncated: bool, declared_len: int) -> tuple[np.ndarray, np.ndarray]:
        """Plausible kg and their device times relative to a raw u32 start
        (int64, increasing). Problems are counted once per frame."""
        weights = decode_weights(payload)
        problems = []
        if truncated:
            problems.append(f"declares {declared_len} payload bytes but {len(payload)} arrived")
        if weights.trailing_bytes:
            problems.append(f"{weights.trailing_bytes} bytes after the last whole 8-byte sample")
        kg, us = weights.kg, weights.us
        if kg.size:
            # Device time relative to the first sample, unwrapped across a wrap inside the frame.
            steps = np.mod(np.diff(us), U32_WRAP)
            backwards = (steps == 0) | (steps >= _HALF_WRAP)
            if backwards.any():
                stop = int(np.argmax(backwards)) + 1
                problems.append(f"device time does not increase after sample {stop}")
                kg, us, steps = kg[:stop], us[:stop], steps[: stop - 1]
            rel = int(us[0]) + np.concatenate(([0], np.cumsum(steps))).astype(np.int64)
            plausible = np.isfinite(kg) & (np.abs(kg) <= MAX_PLAUSIBLE_KG)
            if not plausible.all():
                problems.append(f"{int((~plausible).sum())} implausible weight(s) dropped")
                kg, rel = kg[plausible], rel[plausible]
        else:
            rel = np.empty(0, dtype=np.int64)
        if problems:
            self._malformed("; ".join(problems))
        return kg, rel

    def _place_segment(self, u: np.ndarray, now: float) -> None:
        """Put a new device-clock segment on the time line."""
        if self._last_t_s is None or self._last_received is None:
            self._offset_s = -float(u[0]) / 1e6  # the first sample ever is time 0
            return
        # The last sample of a notification is taken just before it is sent, for
        # every notification alike: so the host time between the two arrivals is
        # the device time between their last samples.
        offset = self._last_t_s + (now - self._last_received) - float(u[-1]) / 1e6
        earliest = self._last_t_s + self.period_s
        if offset + float(u[0]) / 1e6 < earliest:
            offset = earliest - float(u[0]) / 1e6
        self._offset_s = offset

    def _account_gap(self, t_first: float, cause: str | None, n: int) -> tuple[float, int]:
        """Record the hole before a frame, if any; returns (its length in s, lost notifications)."""
        if self._last_t_s is None:
            return 0.0, 0
        step_s = t_first - self._last_t_s
        if cause is None and step_s <= self.gap_threshold_s:
            self._frame_step_s = step_s  # a real unit leaves one empty slot here: not a hole
            return 0.0, 0
        expected = self._last_t_s + self._frame_step_s
        hole_s = t_first - expected
        if hole_s <= self.period_s / 2:
            return 0.0, 0
        lost_samples = round(hole_s * (self.stats.rate_hz or NOMINAL_RATE_HZ))
        lost_packets = max(1, round(lost_samples / self._samples_per_frame)) if cause is None else 0
        self.stats.gaps.append(Gap(t_s=expected, duration_s=hole_s, lost_packets=lost_packets, cause=cause or "packet loss"))
        if cause != "stream restart":  # a stopped device measured nothing: nothing was lost
            self.stats.lost_samples_est += lost_samples
        self.stats.lost_packets += lost_packets
        return hole_s, lost_packets
