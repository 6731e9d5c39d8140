"""What the online detector tells the app, as plain frozen dataclasses.

Every event carries ``t_s``: the device time of the sample that caused it
(not wall-clock time), so a replayed recording produces the same events.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .metrics import Rep


class RepState(enum.Enum):
    """Where the patient is in a rep, for the live display."""

    REST = "rest"
    RISING = "rising"  # contraction confirmed, hold level not reached yet
    HOLDING = "holding"  # at or above 80 % of the live plateau (short dips tolerated)
    RELEASING = "releasing"  # hold over, force on its way back to baseline


@dataclass(frozen=True)
class ContractionStarted:
    """A press was confirmed (100 ms above threshold); onset is back-dated."""

    t_s: float
    onset_s: float
    baseline_n: float
    threshold_n: float  # absolute onset threshold that was crossed


@dataclass(frozen=True)
class HoldProgress:
    """The hold timer, emitted at most every ``progress_interval_s`` of data."""

    t_s: float
    hold_s: float
    target_s: float


@dataclass(frozen=True)
class TargetReached:
    """The live hold reached ``target_hold_s`` (the cue to release)."""

    t_s: float
    hold_s: float
    target_s: float


@dataclass(frozen=True)
class Released:
    """The force is back below the offset threshold (confirmed for 300 ms)."""

    t_s: float
    release_s: float
    hold_s: float  # live hold; the Rep's hold_s is the contract value


@dataclass(frozen=True)
class RepCompleted:
    """A contraction of at least ``min_rep_s``, with all its metrics."""

    t_s: float
    rep: Rep


@dataclass(frozen=True)
class RepRejected:
    """A confirmed contraction that is not a rep: too short, or a baseline step."""

    t_s: float
    reason: str  # "too short" | "baseline step"
    duration_s: float
    onset_s: float


DetectorEvent = ContractionStarted | HoldProgress | TargetReached | Released | RepCompleted | RepRejected
