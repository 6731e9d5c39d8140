"""Signal layer: detect and time each hold, score the session and left/right symmetry.

Pure numpy (no Qt, no bleak, no scipy). Input is always two float64 arrays,
``t_s`` (device time, strictly increasing, gaps allowed) and ``force_n``.
See docs/signal.md for the algorithm, parameters and metric definitions.
"""

from .analysis import Analysis, SignalInputError, analyze, analyze_recording
from .detector import OnlineRepDetector
from .events import (
    ContractionStarted,
    DetectorEvent,
    HoldProgress,
    Released,
    RepCompleted,
    RepRejected,
    RepState,
    TargetReached,
)
from .metrics import Rep, measure_rep
from .params import DetectorParams
from .symmetry import SessionSummary, SideSummary, SymmetryIndex, summarize

__all__ = [
    "Analysis",
    "ContractionStarted",
    "DetectorEvent",
    "DetectorParams",
    "HoldProgress",
    "OnlineRepDetector",
    "Released",
    "Rep",
    "RepCompleted",
    "RepRejected",
    "RepState",
    "SessionSummary",
    "SideSummary",
    "SignalInputError",
    "SymmetryIndex",
    "TargetReached",
    "analyze",
    "analyze_recording",
    "measure_rep",
    "summarize",
]
