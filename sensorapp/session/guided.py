"""The guided isometric gluteus medius session.

A rep counts only when the belt saw it: progress comes from the online
detector's events (ContractionStarted, TargetReached, RepCompleted...), and
every timer runs on device time taken from the samples, never on a wall-clock
timer alone. So the same recording always produces the same session, at any
replay speed, and a link loss simply stops the clock until data resumes.

The GUI reads ``view()`` on its display timer and drains ``take_cues()`` for
sounds; nothing here knows about Qt.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from sensorapp.signal import (
    ContractionStarted,
    DetectorParams,
    OnlineRepDetector,
    Released,
    Rep,
    RepCompleted,
    RepRejected,
    RepState,
    SessionSummary,
    TargetReached,
    summarize,
)

from .sample_log import SampleLog

if TYPE_CHECKING:  # only for the annotation: the session model needs no store
    from sensorapp.clinic.prescription import Prescription

SIDES = ("left", "right")


def other_side(side: str) -> str:
    return SIDES[1 - SIDES.index(side)]


@dataclass(frozen=True)
class ExerciseProtocol:
    """What the therapist prescribes; every field can be set in the GUI."""

    reps_per_side: int = 7
    hold_s: float = 6.0
    hold_tolerance_s: float = 0.5
    rest_s: float = 8.0
    first_side: str = "left"
    both_sides: bool = True
    target_band_pct: tuple[float, float] | None = None  # e.g. (70, 90) % of the patient's best plateau
    settle_s: float = 2.0  # quiet time in position before the first press of a side
    turnover_min_s: float = 8.0

    def __post_init__(self) -> None:
        if not 1 <= self.reps_per_side <= 30:
            raise ValueError("reps per side must be 1..30")
        if not 1.0 <= self.hold_s <= 60.0:
            raise ValueError("hold must be 1..60 s")
        if not 0.0 <= self.rest_s <= 120.0:
            raise ValueError("rest must be 0..120 s")
        if self.first_side not in SIDES:
            raise ValueError("first side must be 'left' or 'right'")
        if self.target_band_pct is not None:
            lo, hi = self.target_band_pct
            if not 0 < lo < hi <= 150:
                raise ValueError("target band must be 0 < low < high <= 150 % of the best")

    @property
    def sides(self) -> tuple[str, ...]:
        return (self.first_side, other_side(self.first_side)) if self.both_sides else (self.first_side,)

    def detector_params(self) -> DetectorParams:
        return replace(DetectorParams(), target_hold_s=self.hold_s, target_tolerance_s=self.hold_tolerance_s)

    def as_dict(self) -> dict[str, object]:
        return {
            "reps_per_side": self.reps_per_side,
            "hold_s": self.hold_s,
            "hold_tolerance_s": self.hold_tolerance_s,
            "rest_s": self.rest_s,
            "first_side": self.first_side,
            "both_sides": self.both_sides,
            "target_band_pct": list(self.target_band_pct) if self.target_band_pct else None,
        }


class Phase(enum.Enum):
    IDLE = "idle"  # not started
    POSITION = "position"  # getting into position, waiting for a quiet belt
    READY = "ready"  # press now
    PRESSING = "pressing"  # contraction started, not yet at the hold level
    HOLDING = "holding"  # hold countdown running
    RELEASE = "release"  # target reached: release slowly
    REST = "rest"  # rest countdown between reps
    TURN_OVER = "turn_over"  # between sides
    DONE = "done"
    ABORTED = "aborted"


class Cue(enum.Enum):
    HOLD_SECOND = "hold_second"  # each whole second of the hold
    TARGET = "target"  # the hold reached the target: release
    REP_DONE = "rep_done"
    REP_NOT_COUNTED = "rep_not_counted"
    SIDE_DONE = "side_done"
    SESSION_DONE = "session_done"


@dataclass(frozen=True)
class SessionView:
    """Everything the patient screen shows, as one snapshot."""

    phase: Phase
    side: str
    rep_number: int  # the rep in progress or next (1-based), capped at reps_per_side
    reps_done: int  # on this side
    reps_per_side: int
    hold_s: float
    hold_target_s: float
    rest_remaining_s: float
    instruction: str
    feedback: str  # about the last rep or rejected press
    paused: bool
    reconnecting: bool
    baseline_n: float
    threshold_n: float
    target_band_n: tuple[float, float] | None  # absolute force levels for the plot
    t_s: float
    turn_over_remaining_s: float = 0.0  # of the turn-over's minimum time, while turning over

    @property
    def turn_over_waiting(self) -> bool:
        """Turned over long enough; waiting for the leg to be still before the next press."""
        return self.phase == Phase.TURN_OVER and self.turn_over_remaining_s <= 0.0

    @property
    def hold_fraction(self) -> float:
        return min(1.0, self.hold_s / self.hold_target_s) if self.hold_target_s > 0 else 0.0

    @property
    def counter_text(self) -> str:
        return f"Rep {self.rep_number} of {self.reps_per_side}, {self.side} side"


@dataclass(frozen=True)
class PhaseChange:
    """The session entered ``phase`` at device time ``t_s`` (on ``side``)."""

    t_s: float
    phase: Phase
    side: str


INSTRUCTIONS: dict[Phase, str] = {
    Phase.IDLE: "Put the belt around both ankles, then press Start (or the space bar).",
    Phase.POSITION: "Lie on your {side} side with the belt around both ankles. Lift the top leg until the belt is just tight, then stay still.",
    Phase.READY: "Press gently up into the belt, and hold.",
    Phase.PRESSING: "Keep pressing up, gently and steadily.",
    Phase.HOLDING: "Hold it there.",
    Phase.RELEASE: "Well done. Now release slowly.",
    Phase.REST: "Rest. Keep the belt just tight.",
    Phase.TURN_OVER: "Turn over onto your {side} side. Lift the top leg until the belt is just tight, then stay still.",
    Phase.DONE: "Session complete. Well done!",
    Phase.ABORTED: "Session stopped.",
}


@dataclass
class GuidedSession:
    protocol: ExerciseProtocol = field(default_factory=ExerciseProtocol)

    def __post_init__(self) -> None:
        self.detector = OnlineRepDetector(self.protocol.detector_params(), side=self.protocol.first_side)
        self.samples = SampleLog()
        self.phase = Phase.IDLE
        self.side = self.protocol.first_side
        self.reps: dict[str, list[Rep]] = {s: [] for s in SIDES}
        self.rejected: list[RepRejected] = []
        self.paused = False
        self.reconnecting = False
        self.feedback = ""
        self._now = 0.0
        self._phase_since = 0.0
        self._rest_until = 0.0
        self._quiet_since: float | None = None
        self._last_whole_second = 0
        self._cues: list[Cue] = []
        self._side_index = 0
        # Every phase entered, in order: a narrator reads this instead of sampling
        # view(), so no phase is skipped or reordered however fast data arrives.
        self.phase_log: list[PhaseChange] = []
        self.started_at_s: float | None = None
        self.ended_at_s: float | None = None

    # ------------------------------------------------------------ control

    def start(self) -> None:
        if self.phase != Phase.IDLE:
            return
        self.started_at_s = self._now
        self._enter(Phase.POSITION)

    def pause(self) -> None:
        if self.active:
            self.paused = True

    def resume(self) -> None:
        self.paused = False

    def toggle(self) -> None:
        """The space bar: start, pause or resume."""
        if self.phase == Phase.IDLE:
            self.start()
        elif self.paused:
            self.resume()
        elif self.active:
            self.pause()

    def abort(self) -> None:
        if self.phase not in (Phase.DONE, Phase.ABORTED):
            # A rep the belt saw finish is reported 1 s after release (the detector
            # waits for rest to correct drift); flush so a stop does not lose it.
            if not self.paused:
                for ev in self.detector.flush():
                    if isinstance(ev, RepCompleted):
                        self._rep_completed(ev.rep)
            if self.phase == Phase.DONE:  # the flushed rep completed the session
                return
            self.ended_at_s = self._now
            self.paused = False
            self._enter(Phase.ABORTED)

    def link_lost(self) -> None:
        self.reconnecting = True

    def link_restored(self) -> None:
        self.reconnecting = False

    @property
    def active(self) -> bool:
        return self.phase not in (Phase.IDLE, Phase.DONE, Phase.ABORTED)

    @property
    def finished(self) -> bool:
        return self.phase in (Phase.DONE, Phase.ABORTED)

    # ------------------------------------------------------------ data

    def feed(self, t_s: np.ndarray, force_n: np.ndarray) -> None:
        """One packet of samples: detector, timers, phase changes."""
        if len(t_s) == 0:
            return
        counting = self.active and not self.paused
        self.samples.append(t_s, force_n, self.side if counting else "")
        events = self.detector.feed(t_s, force_n)
        self._now = float(t_s[-1])
        for ev in events:
            if counting:
                self._on_event(ev)
        if counting:
            self._tick()

    def _on_event(self, ev: object) -> None:
        if isinstance(ev, ContractionStarted):
            if self.phase == Phase.TURN_OVER and self._now - self._phase_since < self.protocol.turnover_min_s:
                return  # bumps while turning over; a real rep done now still counts on RepCompleted
            if self.phase == Phase.REST and self._now < self._rest_until:
                # A bump (or an early press) does not cut the rest short; an early
                # press still counts on RepCompleted, and _tick picks it up at rest end.
                return
            if self.phase in (Phase.READY, Phase.REST, Phase.POSITION, Phase.TURN_OVER) and self._side_reps_left() > 0:
                self._begin_press()
        elif isinstance(ev, TargetReached):
            if self.phase in (Phase.PRESSING, Phase.HOLDING):
                self._cues.append(Cue.TARGET)
                self._enter(Phase.RELEASE)
        elif isinstance(ev, Released):
            pass  # the rep is judged on RepCompleted, which follows
        elif isinstance(ev, RepCompleted):
            self._rep_completed(ev.rep)
        elif isinstance(ev, RepRejected):
            self.rejected.append(ev)
            if self.phase in (Phase.PRESSING, Phase.HOLDING, Phase.RELEASE):
                self.feedback = f"That press was too short to count ({ev.duration_s:.1f} s). Press and hold."
                self._cues.append(Cue.REP_NOT_COUNTED)
                self._enter(Phase.READY)

    def _side_reps_left(self) -> int:
        return self.protocol.reps_per_side - len(self.reps[self.side])

    def _rep_completed(self, rep: Rep) -> None:
        if self._side_reps_left() <= 0:
            return  # extra presses after the set are recorded in the samples, not counted
        side_reps = self.reps[self.side]
        rep = replace(rep, side=self.side, index=len(side_reps) + 1)
        side_reps.append(rep)
        verdict = "target met" if rep.target_met else f"released {max(0.0, self.protocol.hold_s - rep.hold_s):.1f} s early"
        self.feedback = f"Rep {rep.index}: held {rep.hold_s:.1f} s at {rep.plateau_n:.0f} N, {verdict}."
        self._cues.append(Cue.REP_DONE)
        if self._side_reps_left() > 0:
            self._rest_until = self._now + self.protocol.rest_s
            self._enter(Phase.REST)
            return
        self._cues.append(Cue.SIDE_DONE)
        self._side_index += 1
        if self._side_index < len(self.protocol.sides):
            self.side = self.protocol.sides[self._side_index]
            self.detector.side = self.side
            self._enter(Phase.TURN_OVER)
        else:
            self.ended_at_s = self._now
            self._cues.append(Cue.SESSION_DONE)
            self._enter(Phase.DONE)

    def _tick(self) -> None:
        now = self._now
        state = self.detector.state
        if self.phase == Phase.PRESSING and state == RepState.HOLDING:
            self._enter(Phase.HOLDING)
        if self.phase in (Phase.HOLDING, Phase.PRESSING):
            whole = math.floor(self.detector.hold_elapsed_s)
            if whole > self._last_whole_second and whole < self.protocol.hold_s:
                self._cues.append(Cue.HOLD_SECOND)
            self._last_whole_second = max(self._last_whole_second, whole)
        if self.phase == Phase.REST and now >= self._rest_until:
            if state in (RepState.RISING, RepState.HOLDING) and self._side_reps_left() > 0:
                self._begin_press()  # pressed a little early: follow the press that is on
            else:
                self._enter(Phase.READY)
        if self.phase in (Phase.POSITION, Phase.TURN_OVER):
            if self.phase == Phase.TURN_OVER and now - self._phase_since < self.protocol.turnover_min_s:
                return
            if state == RepState.REST:
                if self._quiet_since is None:
                    self._quiet_since = now
                elif now - self._quiet_since >= self.protocol.settle_s:
                    self._enter(Phase.READY)
            else:
                self._quiet_since = None

    def _begin_press(self) -> None:
        """A press the session follows. The patient is always told to press (READY)
        before being told to keep pressing, even when the press came first."""
        if self.phase != Phase.READY:
            self._enter(Phase.READY)
        self._last_whole_second = 0
        self._enter(Phase.PRESSING)

    def _enter(self, phase: Phase) -> None:
        self.phase = phase
        self._phase_since = self._now
        self.phase_log.append(PhaseChange(self._now, phase, self.side))
        if phase in (Phase.POSITION, Phase.TURN_OVER):
            self._quiet_since = None

    # ------------------------------------------------------------ output

    def take_cues(self) -> list[Cue]:
        cues, self._cues = self._cues, []
        return cues

    def best_plateau_n(self) -> float | None:
        plateaus = [r.plateau_n for reps in self.reps.values() for r in reps]
        return max(plateaus) if plateaus else None

    def view(self) -> SessionView:
        det = self.detector
        p = self.protocol
        band = None
        best = self.best_plateau_n()
        baseline = float(det.baseline_n) if det.baseline_n is not None and math.isfinite(det.baseline_n) else 0.0
        if p.target_band_pct and best is not None:
            band = (baseline + best * p.target_band_pct[0] / 100.0, baseline + best * p.target_band_pct[1] / 100.0)
        done = len(self.reps[self.side])
        hold = float(det.hold_elapsed_s) if self.phase in (Phase.PRESSING, Phase.HOLDING, Phase.RELEASE) else 0.0
        threshold = float(det.onset_threshold_n) if det.onset_threshold_n is not None else math.nan
        return SessionView(
            phase=self.phase,
            side=self.side,
            rep_number=min(done + 1, p.reps_per_side) if self.phase != Phase.DONE else done,
            reps_done=done,
            reps_per_side=p.reps_per_side,
            hold_s=hold,
            hold_target_s=p.hold_s,
            rest_remaining_s=max(0.0, self._rest_until - self._now) if self.phase == Phase.REST else 0.0,
            instruction=INSTRUCTIONS[self.phase].format(side=self.side),
            feedback=self.feedback,
            paused=self.paused,
            reconnecting=self.reconnecting,
            baseline_n=baseline,
            threshold_n=threshold,
            target_band_n=band,
            t_s=self._now,
            turn_over_remaining_s=(
                max(0.0, p.turnover_min_s - (self._now - self._phase_since)) if self.phase == Phase.TURN_OVER else 0.0
            ),
        )

    def all_reps(self) -> list[Rep]:
        return [r for s in SIDES for r in self.reps[s]]

    def summary(self, involved_side: str | None = None, body_mass_kg: float | None = None, lever_arm_m: float | None = None) -> SessionSummary:
        return summarize(
            self.all_reps(),
            target_hold_s=self.protocol.hold_s,
            involved_side=involved_side,
            body_mass_kg=body_mass_kg,
            lever_arm_m=lever_arm_m,
        )


def protocol_from_prescription(prescription: Prescription, base: ExerciseProtocol) -> ExerciseProtocol:
    """The guided session's protocol under a prescription: reps per side, hold, rest, first side and a
    band in % of best; an absolute band (N) is not drawn by the guided session, so it keeps ``base``'s."""
    band = base.target_band_pct
    if prescription.target_kind == "percent_of_best" and prescription.target_low is not None and prescription.target_high is not None:
        band = (float(prescription.target_low), float(prescription.target_high))
    return replace(
        base,
        reps_per_side=prescription.reps_per_side,
        hold_s=float(prescription.hold_s),
        rest_s=float(prescription.rest_s),
        first_side=prescription.first_side,
        target_band_pct=band,
    )
