"""The guided session's cue logic, driven by samples and device time only (no wall clock)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sensorapp.session.guided import ExerciseProtocol, GuidedSession, Phase, PhaseChange
from sensorapp.simulation.patient import PatientProfile, VirtualPatient

RATE_HZ = 100.0
PACKET = 20  # samples per feed, as a belt notification


def drive(session: GuidedSession, t: np.ndarray, force: np.ndarray, start_at_s: float = 0.1) -> list[tuple[float, Phase]]:
    """Feed the session packet by packet; start it at ``start_at_s``; the phase after each packet."""
    seen = []
    for i in range(0, t.size, PACKET):
        if session.phase == Phase.IDLE and t[i] >= start_at_s:
            session.start()
        session.feed(t[i : i + PACKET], force[i : i + PACKET])
        seen.append((float(t[i]), session.phase))
    return seen


def press(t: np.ndarray, start_s: float, hold_s: float, level_n: float = 60.0) -> np.ndarray:
    """A press with 0.5 s ramps at both ends."""
    up = np.clip((t - start_s) / 0.5, 0, 1)
    down = np.clip((start_s + 0.5 + hold_s + 0.5 - t) / 0.5, 0, 1)
    return level_n * np.minimum(up, down)


def wobble(t: np.ndarray) -> np.ndarray:
    return 5.0 + 0.2 * np.sin(37 * t)


def entries(log: list[PhaseChange], phase: Phase) -> list[float]:
    return [c.t_s for c in log if c.phase == phase]


def test_a_bump_in_the_rest_does_not_cut_the_rest_short() -> None:
    s = GuidedSession(ExerciseProtocol(reps_per_side=2, settle_s=1.0, rest_s=8.0))
    t = np.arange(0, 45.0, 1 / RATE_HZ)
    # Rep 1 at 3 s; the detector reports it ~1 s after release (~11 s), so the rest runs to ~19 s.
    bump = 25.0 * ((t > 13.0) & (t < 13.4))  # 2 s into the rest: a twitch, not a rep
    force = wobble(t) + press(t, 3.0, 6.5) + bump + press(t, 22.0, 6.5)
    drive(s, t, force)
    rest_start = entries(s.phase_log, Phase.REST)[0]
    ready_after_rest = [x for x in entries(s.phase_log, Phase.READY) if x > rest_start]
    assert ready_after_rest, s.phase_log
    assert ready_after_rest[0] - rest_start >= 8.0 - PACKET / RATE_HZ
    assert not s.feedback.startswith("That press was too short")  # the bump is not judged as a rep
    assert len(s.reps["left"]) == 2 and s.reps["left"][0].hold_s > 6.0


def test_a_press_a_little_before_the_rest_ends_is_followed_at_the_end_of_the_rest() -> None:
    s = GuidedSession(ExerciseProtocol(reps_per_side=2, settle_s=1.0, rest_s=8.0))
    t = np.arange(0, 40.0, 1 / RATE_HZ)
    force = wobble(t) + press(t, 3.0, 6.5)
    drive(s, t[:1500], force[:1500])
    assert s.phase == Phase.REST
    rest_start = entries(s.phase_log, Phase.REST)[0]
    early = rest_start + 6.0
    force = force + press(t, early, 6.8)
    drive(s, t[1500:], force[1500:])
    # No phase change while the rest runs; at its end READY then PRESSING, and the rep counts.
    after = [c for c in s.phase_log if c.t_s > rest_start]
    assert [c.phase for c in after[:3]] == [Phase.READY, Phase.PRESSING, Phase.HOLDING]
    assert after[0].t_s - rest_start >= 8.0 - PACKET / RATE_HZ
    assert len(s.reps["left"]) == 2


def test_a_press_before_the_patient_is_settled_is_still_announced_as_press_first() -> None:
    # The patient presses 0.5 s after Start, before the 2 s of stillness the session waits for.
    s = GuidedSession(ExerciseProtocol(reps_per_side=1, both_sides=False, settle_s=2.0))
    t = np.arange(0, 20.0, 1 / RATE_HZ)
    force = wobble(t) + press(t, 2.5, 6.5)
    drive(s, t, force, start_at_s=2.0)
    phases = [c.phase for c in s.phase_log]
    assert phases[:4] == [Phase.POSITION, Phase.READY, Phase.PRESSING, Phase.HOLDING]
    assert s.phase == Phase.DONE


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_virtual_patient_sessions_keep_the_cue_order_and_the_full_rest(seed: int) -> None:
    """Invariants over whole sessions of a twitchy virtual patient: every PRESSING is
    announced by READY, no rest is cut short, and all 14 reps count."""
    profile = PatientProfile(seed=seed, twitch_prob=0.9)
    patient = VirtualPatient(profile)
    protocol = ExerciseProtocol()
    s = GuidedSession(protocol)
    t = np.arange(0, patient.duration_s + 20.0, 1 / RATE_HZ)
    drive(s, t, patient.force_at(t))
    log = s.phase_log
    for before, change in itertools.pairwise(log):
        if change.phase == Phase.PRESSING:
            assert before.phase == Phase.READY, (before, change)
        if before.phase == Phase.REST:
            assert change.t_s - before.t_s >= protocol.rest_s - PACKET / RATE_HZ, (before, change)
    assert s.phase == Phase.DONE
    assert len(s.reps["left"]) == len(s.reps["right"]) == 7


def test_the_view_counts_down_the_turn_over() -> None:
    s = GuidedSession(ExerciseProtocol(reps_per_side=1, settle_s=1.0, turnover_min_s=8.0))
    t = np.arange(0, 30.0, 1 / RATE_HZ)
    force = wobble(t) + press(t, 3.0, 6.5)
    remaining = []
    for i in range(0, t.size, PACKET):
        if s.phase == Phase.IDLE:
            s.start()
        s.feed(t[i : i + PACKET], force[i : i + PACKET])
        v = s.view()
        if v.phase == Phase.TURN_OVER:
            remaining.append(v.turn_over_remaining_s)
    assert remaining[0] == pytest.approx(8.0, abs=0.01)
    assert remaining == sorted(remaining, reverse=True) and remaining[-1] == 0.0
