"""Receiver helpers: the device clock unwrap rule and sequence-gap counting (SPEC 4.3, 4.4)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_protocol.codec import SEQ_WRAP, U32_WRAP, DeviceClock, SequenceTracker

WRAP = U32_WRAP


# ------------------------------------------------------------------ DeviceClock


def test_first_value_passes_through_and_steps_accumulate() -> None:
    c = DeviceClock()
    assert c.unwrap(1_000_000) == 1_000_000
    assert c.unwrap(1_030_000) == 1_030_000
    assert c.unwrap(1_060_000) == 1_060_000


def test_wrap_worked_example_from_spec() -> None:
    """SPEC 4.3: t0 4294966296 then 2000 (3 samples at 1 kHz later) unwraps to 4294969296."""
    c = DeviceClock()
    assert c.unwrap(4_294_966_296) == 4_294_966_296
    assert c.unwrap(2_000) == 4_294_969_296
    assert c.unwrap(5_000) == WRAP + 5_000
    # and the next wrap, 71.6 min later, adds another 2**32
    t = WRAP + 5_000
    for _ in range(3):
        t += WRAP // 3
        c.unwrap(t % WRAP)
    assert c.unwrap((t + 1_000) % WRAP) == t + 1_000 > 2 * WRAP


def test_long_silence_needs_the_host_hint() -> None:
    """SPEC 4.3 example: 50 min idle between two streams on one connection."""
    prev, idle = 4_000_000_000, 3_000_000_000  # 66.7 min, then 50 min
    raw = (prev + idle) % WRAP  # 2705032704
    assert raw == 2_705_032_704
    with_hint = DeviceClock()
    with_hint.unwrap(prev)
    assert with_hint.unwrap(raw, host_elapsed_us=idle + 40_000) == prev + idle  # host off by 40 ms: fine
    without = DeviceClock()
    without.unwrap(prev)
    assert without.unwrap(raw) == raw  # wrong by one wrap: nearest to prev, not to prev + 50 min


def test_exact_half_wrap_tie_goes_forward() -> None:
    c = DeviceClock()
    c.unwrap(0)
    assert c.unwrap(WRAP // 2) == WRAP // 2
    c.reset()
    c.unwrap(WRAP // 2)
    assert c.unwrap(0) == WRAP  # both candidates are half a wrap away: the later one


def test_reset_forgets() -> None:
    c = DeviceClock()
    c.unwrap(WRAP - 10)
    c.unwrap(5)
    c.reset()
    assert c.unwrap(5) == 5


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 10 * WRAP),
    st.lists(st.integers(0, WRAP // 2 - 1), min_size=1, max_size=50),
)
def test_unwrap_recovers_true_time_for_steps_under_half_a_wrap(start: int, steps: list[int]) -> None:
    c = DeviceClock()
    true = start
    offset = c.unwrap(true % WRAP) - true  # the first value fixes the origin
    for step in steps:
        true += step
        assert c.unwrap(true % WRAP) - offset == true


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 20 * WRAP), st.integers(-(WRAP // 2) + 1, WRAP // 2 - 1)), min_size=1, max_size=20),
)
def test_unwrap_with_host_hint_recovers_any_gap(gaps: list[tuple[int, int]]) -> None:
    """Any gap, even many wraps, as long as the host's estimate is within half a wrap."""
    c = DeviceClock()
    true = 123
    c.unwrap(true)
    for gap, host_error in gaps:
        true += gap
        assert c.unwrap(true % WRAP, host_elapsed_us=gap + host_error) == true


# ------------------------------------------------------------------ SequenceTracker


def test_consecutive_packets_lose_nothing() -> None:
    t = SequenceTracker()
    assert [t.accept(s, stream_start=(s == 0)) for s in range(100)] == [0] * 100
    assert t.lost_packets == 0 and t.events == []


def test_gap_counts_lost_packets() -> None:
    t = SequenceTracker()
    t.accept(0, stream_start=True)
    t.accept(1)
    assert t.accept(5) == 3
    assert t.accept(6) == 0
    assert t.lost_packets == 3
    assert t.events == [(5, 3)]


def test_wrap_without_loss_and_with_loss() -> None:
    t = SequenceTracker()
    t.accept(65_534)
    assert t.accept(65_535) == 0
    assert t.accept(0) == 0  # wrap: no loss
    assert t.accept(3) == 2
    t2 = SequenceTracker()
    t2.accept(65_534)
    assert t2.accept(1) == 2  # 65535 and 0 lost across the wrap
    assert t2.lost_packets == 2


def test_stream_start_restarts_the_count() -> None:
    t = SequenceTracker()
    for s in range(10):
        t.accept(s)
    assert t.accept(0, stream_start=True) == 0  # new stream, seq back to 0: not 65527 lost
    assert t.accept(1) == 0
    assert t.lost_packets == 0


def test_duplicates_and_backward_jumps_are_not_losses() -> None:
    t = SequenceTracker()
    for s in range(5):
        t.accept(s)
    assert t.accept(4) == 0  # duplicate of the last packet
    assert t.accept(5) == 0
    assert t.lost_packets == 0 and t.out_of_order == 1
    # a new stream whose STREAM_START packet was lost: seq 1 after 5, no 65531 "lost"
    assert t.accept(1) == 0
    assert t.accept(2) == 0
    assert t.lost_packets == 0 and t.out_of_order == 2


def test_restart_forgets_the_expected_seq() -> None:
    t = SequenceTracker()
    t.accept(100)
    t.restart()
    assert t.accept(7) == 0
    assert t.accept(8) == 0


@settings(max_examples=200, deadline=None)
@given(st.integers(0, SEQ_WRAP - 1), st.lists(st.integers(0, 1000), min_size=1, max_size=300))
def test_lost_count_equals_packets_dropped(first: int, drops_before: list[int]) -> None:
    """Drop any number of packets (< 32768 in a row) anywhere, across wraps: every one is counted."""
    t = SequenceTracker()
    t.accept(first)
    seq = first
    for drop in drops_before:
        seq = (seq + 1 + drop) % SEQ_WRAP
        assert t.accept(seq) == drop
    assert t.lost_packets == sum(drops_before)
    assert t.out_of_order == 0
