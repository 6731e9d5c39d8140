"""Turn WH-C06 advertisements into SampleBlocks in newtons.

Each advertisement is one sample: the scale's displayed weight at the moment
it arrived, converted from the display unit (kg, lb or jin) to newtons, on a
device-like clock made from host arrival times (``HostTimeline``).

Repeats: the payload has no counter or timestamp, so a repeated
advertisement of the same reading cannot be told from a new reading of the
same weight (a steady hold gives many equal readings). Every advertisement
is therefore kept, except reports that arrive within ``same_event_s`` of the
previous one: at about 8 advertisements a second those are one advertising
event seen twice (on two advertising channels, or as two D-Bus signals), not
two readings. They are counted in ``stats.duplicate_packets``.

Never raises for bad bytes: malformed payloads are counted in
``stats.malformed_packets`` (``last_error`` says why).
"""

from __future__ import annotations

import logging

import numpy as np

from .blocks import SampleBlock, StreamStats
from .host_timeline import HostTimeline
from .whc06_protocol import COMPANY_ID, NOMINAL_RATE_HZ, Whc06ProtocolError, decode_payload

log = logging.getLogger(__name__)

SAME_EVENT_S = 0.03  # a quarter of the ~125 ms advertising interval


class Whc06StreamDecoder:
    def __init__(self, *, stats: StreamStats | None = None, same_event_s: float = SAME_EVENT_S) -> None:
        self.stats = stats if stats is not None else StreamStats()
        self.timeline = HostTimeline(NOMINAL_RATE_HZ, self.stats)
        self.same_event_s = same_event_s
        self.tare_n = 0.0  # subtracted from every force (the app's own tare: the scale has none over the air)
        self.last_error: str | None = None
        self.last_stable: bool | None = None

    def link_lost(self) -> None:
        self.timeline.link_lost()

    def stream_started(self) -> None:
        self.timeline.stream_started()

    def decode(self, manufacturer_data: dict[int, bytes], received_at: float, *, timeline_s: float | None = None) -> SampleBlock | None:
        """One advertisement's manufacturer data; None when it adds no sample.

        ``received_at``: host time.monotonic() at arrival (kept in the block);
        ``timeline_s``: the clock to place the sample on, if not the host's
        (a simulated world running faster than real time passes its own).
        """
        now = received_at if timeline_s is None else timeline_s
        payload = manufacturer_data.get(COMPANY_ID)
        if payload is None:
            self._malformed(f"no manufacturer data for company 0x{COMPANY_ID:04x}")
            return None
        try:
            reading = decode_payload(payload)
            force_n = reading.force_n - self.tare_n
        except Whc06ProtocolError as exc:
            self._malformed(str(exc))
            return None
        last = self.timeline.last_arrival
        if last is not None and 0 <= now - last < self.same_event_s:
            self.stats.duplicate_packets += 1
            return None
        placed = self.timeline.place(1, now)
        st = self.stats
        st.packets += 1
        st.samples += 1
        st.last_force_n = force_n
        st.last_t_s = float(placed.t_s[-1])
        self.last_stable = reading.stable
        return SampleBlock(
            t_s=placed.t_s,
            force_n=np.array([force_n]),
            gap_before_s=placed.gap_before_s,
            lost_packets_before=placed.lost_packets_before,
            received_at=received_at,
        )

    def _malformed(self, why: str) -> None:
        self.stats.malformed_packets += 1
        self.last_error = why
        log.warning("WH-C06 advertisement: %s", why)
