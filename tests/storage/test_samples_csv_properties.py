"""Property tests: the chunked, vectorised reader keeps the old per-row semantics.

``legacy_parse`` is the reader as it was before (commit 21451e3), plus the one new rule (time in
0..1e13 s). On valid random tables, in many spellings, both must give the same arrays bit for bit;
on random garbage the new reader may only raise SamplesCsvError, and raises it exactly when the
old one does.
"""

from __future__ import annotations

import math
import string

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sensorapp.storage import samples_csv
from sensorapp.storage.samples_csv import MAX_TIME_S, SamplesCsvError, parse_samples_csv

SIDES = ("", "left", "right")


def legacy_parse(text: str, allow_truncated_tail: bool = False) -> tuple[np.ndarray, np.ndarray, list[str] | None]:
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise SamplesCsvError("empty")
    header = [h.strip() for h in lines[0].lstrip("\ufeff").split(",")]
    if header[:2] != ["time_s", "force_n"] or len(header) > 3 or (len(header) == 3 and header[2] != "side"):
        raise SamplesCsvError("header")
    n_fields = len(header)
    body = lines[1:]
    while body and not body[-1].strip():
        body.pop()
    if not body:
        raise SamplesCsvError("no samples")
    t_s: list[float] = []
    force_n: list[float] = []
    sides: list[str] = []
    for i, line in enumerate(body):
        try:
            fields = line.split(",")
            if len(fields) != n_fields:
                raise SamplesCsvError("fields")
            values = []
            for raw in fields[:2]:
                try:
                    v = float(raw)
                except ValueError:
                    raise SamplesCsvError("number") from None
                if not math.isfinite(v):
                    raise SamplesCsvError("finite")
                values.append(v)
            if not 0.0 <= values[0] <= MAX_TIME_S:
                raise SamplesCsvError("range")
            side = fields[2].strip().lower() if n_fields == 3 else ""
            if side not in SIDES:
                raise SamplesCsvError("side")
            if t_s and not values[0] > t_s[-1]:
                raise SamplesCsvError("increase")
        except SamplesCsvError:
            if allow_truncated_tail and i == len(body) - 1:
                break
            raise
        t_s.append(values[0])
        force_n.append(values[1])
        sides.append(side)
    if not t_s:
        raise SamplesCsvError("no complete samples")
    return np.array(t_s), np.array(force_n), sides if n_fields == 3 else None


def spell(value: float, style: int) -> str:
    return [f"{value:.6f}", f"{value:.4f}", repr(value), f"{value:.3e}", f" {value:.2f} ", f"{value:g}"][style]


@st.composite
def valid_tables(draw: st.DrawFn) -> str:
    n = draw(st.integers(1, 60))
    steps = draw(st.lists(st.floats(1e-3, 1e4), min_size=n, max_size=n))
    t0 = draw(st.floats(0, 1e6))
    t = t0 + np.cumsum(steps)
    forces = draw(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=n, max_size=n))
    t_style = draw(st.sampled_from([0, 0, 1, 2, 4]))
    f_style = draw(st.integers(0, 5))
    has_side = draw(st.booleans())
    side_spell = draw(st.sampled_from([lambda s: s, str.upper, lambda s: f" {s} "]))
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    rows = []
    prev = -1.0
    for ti, fi in zip(t.tolist(), forces, strict=True):
        text = spell(ti, t_style)
        if float(text) <= prev:  # rounding in the spelling made it repeat: skip the row
            continue
        prev = float(text)
        row = f"{text},{spell(fi, f_style)}"
        if has_side:
            row += "," + side_spell(draw(st.sampled_from(SIDES)))
        rows.append(row)
    header = "time_s,force_n,side" if has_side else "time_s,force_n"
    tail = draw(st.sampled_from(["", eol, eol + "  " + eol]))
    return header + eol + eol.join(rows) + (eol if rows else "") + tail


@pytest.fixture(params=[1 << 20, 97], ids=["one-chunk", "tiny-chunks"])
def chunk(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(samples_csv, "CHUNK_BYTES", request.param)
    return int(request.param)


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(valid_tables())
def test_valid_tables_read_as_before(chunk: int, text: str) -> None:
    t, f, sides = legacy_parse(text)
    table = parse_samples_csv(text)
    np.testing.assert_array_equal(table.t_s, t)
    np.testing.assert_array_equal(np.signbit(table.force_n), np.signbit(f))
    np.testing.assert_array_equal(table.force_n, f)
    if sides is None:
        assert table.side_codes is None
    else:
        assert table.side is not None and table.side.tolist() == sides


GARBAGE_ALPHABET = string.digits + ".,-+eE \t\r\n" + "leftrighLEFTnaif" + "\x0b\x0c\x85\u2028\ufeff"


@st.composite
def garbage(draw: st.DrawFn) -> str:
    header = draw(st.sampled_from(["time_s,force_n,side\n", "time_s,force_n\n", "time_s,force_n,side\r\n", ""]))
    body = draw(st.text(GARBAGE_ALPHABET, max_size=300))
    return header + body


@FAST
@given(garbage(), st.booleans())
def test_garbage_only_ever_raises_samples_csv_error_and_agrees(chunk: int, text: str, allow_tail: bool) -> None:
    try:
        legacy = legacy_parse(text, allow_tail)
    except SamplesCsvError:
        legacy = None
    try:
        table = parse_samples_csv(text, allow_truncated_tail=allow_tail)
    except SamplesCsvError as exc:
        assert "\n" not in str(exc)
        assert legacy is None, f"new reader refused what the old one read: {exc}"
        return
    assert legacy is not None, "new reader accepted what the old one refused"
    np.testing.assert_array_equal(table.t_s, legacy[0])
    np.testing.assert_array_equal(table.force_n, legacy[1])
