from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sensorapp.acquisition.ring_buffer import MirroredRing
from sensorapp.session.sample_log import SampleLog


@settings(max_examples=200, deadline=None)
@given(capacity=st.integers(1, 50), chunks=st.lists(st.integers(0, 120), max_size=30))
def test_ring_latest_equals_the_tail_of_everything_written(capacity: int, chunks: list[int]) -> None:
    ring = MirroredRing(capacity)
    written = np.empty(0)
    x = 0.0
    for n in chunks:
        t = x + np.arange(n, dtype=float)
        x += n
        ring.write(t, -t)
        written = np.concatenate([written, t])
        t_view, f_view = ring.latest()
        np.testing.assert_array_equal(t_view, written[-capacity:])
        np.testing.assert_array_equal(f_view, -written[-capacity:])
        assert t_view.base is not None  # a view, not a copy
    assert ring.total == written.size


def test_ring_since_and_partial_latest() -> None:
    ring = MirroredRing(10)
    ring.write(np.arange(15.0), np.arange(15.0) * 2)
    t, f = ring.since(12.0)
    np.testing.assert_array_equal(t, [12, 13, 14])
    np.testing.assert_array_equal(f, [24, 26, 28])
    t, _ = ring.latest(3)
    np.testing.assert_array_equal(t, [12, 13, 14])


def test_sample_log_grows_and_keeps_sides() -> None:
    log = SampleLog(chunk=4)
    log.append(np.arange(3.0), np.ones(3), "left")
    log.append(np.arange(3.0, 10.0), np.zeros(7), "right")
    log.append(np.array([10.0]), np.array([5.0]))
    assert len(log) == 11
    np.testing.assert_array_equal(log.t_s, np.arange(11.0))
    assert list(log.side) == ["left"] * 3 + ["right"] * 7 + [""]


def test_stopping_right_after_a_release_still_counts_that_rep() -> None:
    """The detector reports a rep 1 s after release; a stop must flush it."""
    import numpy as np

    from sensorapp.session.guided import ExerciseProtocol, GuidedSession, Phase

    s = GuidedSession(ExerciseProtocol(reps_per_side=3, settle_s=1.0))
    rate = 100.0
    t = np.arange(0, 20.0, 1 / rate)
    force = np.where((t > 5.0) & (t < 12.0), 60.0, 5.0) + 0.2 * np.sin(37 * t)
    s.feed(t[:10], force[:10])
    s.start()
    stop_at = int(12.3 * rate)  # released, but the 1 s post-rest has not passed
    for i in range(10, stop_at, 20):
        s.feed(t[i : i + 20], force[i : i + 20])
    assert s.reps["left"] == []
    s.abort()
    assert s.phase == Phase.ABORTED
    (rep,) = s.reps["left"]
    assert 6.0 < rep.hold_s < 7.5


def test_a_bump_while_turning_over_does_not_skip_the_turn_over_prompt() -> None:
    import numpy as np

    from sensorapp.session.guided import ExerciseProtocol, GuidedSession, Phase

    s = GuidedSession(ExerciseProtocol(reps_per_side=1, settle_s=1.0, turnover_min_s=8.0))
    t = np.arange(0, 30.0, 0.01)
    rep = (t > 3.0) & (t < 10.0)
    bump = (t > 13.0) & (t < 13.4)  # repositioning, 2 s into the turn-over
    force = 5.0 + 60.0 * rep + 25.0 * bump + 0.2 * np.sin(37 * t)
    s.feed(t[:10], force[:10])
    s.start()
    phases = []
    for i in range(10, t.size, 20):
        s.feed(t[i : i + 20], force[i : i + 20])
        phases.append((round(float(t[i]), 1), s.phase))
    turn = [ts for ts, ph in phases if ph == Phase.TURN_OVER]
    assert turn and max(turn) - min(turn) >= 7.5  # the prompt stayed up through the bump
    assert len(s.reps["left"]) == 1 and s.reps["right"] == []
