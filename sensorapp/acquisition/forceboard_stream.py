"""Turn PitchSix Force Board notifications into SampleBlocks in newtons.

The board sends whole pounds and no timestamps: samples are placed on a
device-like clock made from host arrival times (``HostTimeline``; its
assumptions are in that module and docs/devices.md). The nominal rate is
only the starting estimate; the period is then measured from the arrivals.

Never raises for bad bytes: malformed notifications are counted in
``stats.malformed_packets`` (``last_error`` says why) and dropped.
"""

from __future__ import annotations

import logging

from .blocks import SampleBlock, StreamStats
from .forceboard_protocol import NEWTONS_PER_LB, ForceBoardProtocolError, decode_notification
from .host_timeline import HostTimeline

log = logging.getLogger(__name__)

# Not in the public sources: the starting estimate only (the virtual board
# streams at this rate). The time line measures the real period from arrivals.
ASSUMED_RATE_HZ = 40.0
MAX_PLAUSIBLE_LBS = 2000.0  # far above any Force Board's range: larger values are corruption


class ForceBoardStreamDecoder:
    def __init__(self, *, stats: StreamStats | None = None, nominal_rate_hz: float = ASSUMED_RATE_HZ) -> None:
        self.stats = stats if stats is not None else StreamStats()
        self.timeline = HostTimeline(nominal_rate_hz, self.stats)
        self.last_error: str | None = None

    def link_lost(self) -> None:
        self.timeline.link_lost()

    def stream_started(self) -> None:
        self.timeline.stream_started()

    def decode(self, data: bytes | bytearray | memoryview, received_at: float, *, timeline_s: float | None = None) -> SampleBlock | None:
        now = received_at if timeline_s is None else timeline_s
        try:
            lbs = decode_notification(data)
        except ForceBoardProtocolError as exc:
            self._malformed(str(exc))
            return None
        if float(lbs.max()) > MAX_PLAUSIBLE_LBS:
            self._malformed(f"{int((lbs > MAX_PLAUSIBLE_LBS).sum())} implausible sample(s) above {MAX_PLAUSIBLE_LBS:g} lbs: frame dropped")
            return None
        placed = self.timeline.place(int(lbs.size), now)
        force_n = lbs * NEWTONS_PER_LB
        st = self.stats
        st.packets += 1
        st.samples += int(lbs.size)
        st.last_force_n = float(force_n[-1])
        st.last_t_s = float(placed.t_s[-1])
        return SampleBlock(
            t_s=placed.t_s, force_n=force_n, gap_before_s=placed.gap_before_s, lost_packets_before=placed.lost_packets_before, received_at=received_at
        )

    def _malformed(self, why: str) -> None:
        self.stats.malformed_packets += 1
        self.last_error = why
        log.warning("Force Board notification: %s", why)
