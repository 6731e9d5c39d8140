"""What every force source delivers: blocks of calibrated samples on the device clock."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, slots=True, eq=False)
class SampleBlock:
    """Consecutive samples from one notification.

    ``t_s`` is device time in seconds from the source's time origin (the first
    sample it ever delivered), so a recording starts near 0 and stays on the
    device clock across reconnects. ``gap_before_s`` is the stretch of device
    time with no samples just before this block (0 when contiguous): samples
    are never invented to fill it.
    """

    t_s: np.ndarray
    force_n: np.ndarray
    saturated: bool = False
    gap_before_s: float = 0.0
    lost_packets_before: int = 0
    received_at: float = 0.0  # host time.monotonic() at the notification, for latency figures

    def __len__(self) -> int:
        return int(self.t_s.size)


@dataclass(frozen=True, slots=True)
class Gap:
    """A hole in the data: where it starts on the device clock and how long it is."""

    t_s: float
    duration_s: float
    lost_packets: int
    cause: str  # "packet loss" or "link loss"


@dataclass
class StreamStats:
    """Running counts for the live display and the closing report."""

    packets: int = 0
    samples: int = 0
    lost_packets: int = 0
    lost_samples_est: int = 0
    malformed_packets: int = 0
    duplicate_packets: int = 0
    saturated_packets: int = 0
    reconnects: int = 0
    gaps: list[Gap] = field(default_factory=list)
    last_force_n: float = float("nan")
    last_t_s: float = float("nan")
    rate_hz: float = 0.0

    @property
    def gap_time_s(self) -> float:
        return float(sum(g.duration_s for g in self.gaps))

    def as_dict(self) -> dict[str, object]:
        return {
            "packets": self.packets,
            "samples": self.samples,
            "lost_packets": self.lost_packets,
            "lost_samples_est": self.lost_samples_est,
            "malformed_packets": self.malformed_packets,
            "duplicate_packets": self.duplicate_packets,
            "saturated_packets": self.saturated_packets,
            "reconnects": self.reconnects,
            "gaps": len(self.gaps),
            "gap_time_s": round(self.gap_time_s, 6),
        }


def empty_block() -> SampleBlock:
    return SampleBlock(np.empty(0), np.empty(0))
