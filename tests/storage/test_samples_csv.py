"""Samples CSV reader: row-numbered errors, hostile times, CRLF, headers, the side column, tail rules.

Every file is read twice where it matters: in one chunk and with tiny chunks (so the vectorised
path, the per-row path and the chunk boundaries all see it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sensorapp.signal import analyze
from sensorapp.storage import samples_csv
from sensorapp.storage.samples_csv import (
    SamplesCsvError,
    SamplesCsvWriter,
    format_rows,
    parse_samples_csv,
    read_samples_csv,
    write_samples_csv,
)

GOOD = "time_s,force_n,side\n" + "".join(f"{i / 100:.6f},{i % 7:.4f},left\n" for i in range(300))


@pytest.fixture(params=[1 << 20, 64], ids=["one-chunk", "tiny-chunks"])
def chunk(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(samples_csv, "CHUNK_BYTES", request.param)
    return int(request.param)


def read_text(tmp_path: Path, text: str | bytes, **kw: bool) -> samples_csv.SampleTable:
    p = tmp_path / "s.csv"
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    return read_samples_csv(p, **kw)


def error_of(tmp_path: Path, text: str | bytes, **kw: bool) -> str:
    with pytest.raises(SamplesCsvError) as exc:
        read_text(tmp_path, text, **kw)
    message = str(exc.value)
    assert "\n" not in message and message.startswith(str(tmp_path / "s.csv"))
    return message


def with_row(n: int, line: str) -> str:
    """GOOD with its data row n (1-based file row, header = 1) replaced."""
    lines = GOOD.splitlines()
    lines[n - 1] = line
    return "\n".join(lines) + "\n"


def test_good_file_reads_exactly(tmp_path: Path, chunk: int) -> None:
    table = read_text(tmp_path, GOOD)
    assert len(table) == 300 and table.t_s.dtype == np.float64 and table.side_codes is not None
    assert table.side_codes.dtype == np.uint8 and set(table.side) == {"left"}
    np.testing.assert_array_equal(table.t_s, [float(f"{i / 100:.6f}") for i in range(300)])
    np.testing.assert_array_equal(table.force_n, [float(i % 7) for i in range(300)])
    assert table.analysis_side() == "left"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("0.5,oops,left", "row 150: force_n is not a number: 'oops'"),
        ("x,1.0,left", "row 150: time_s is not a number: 'x'"),
        ("1.48,1.0", "row 150: expected 3 fields, found 2"),
        ("1.48,1.0,left,extra", "row 150: expected 3 fields, found 4"),
        ("", "row 150: expected 3 fields, found 1"),
        ("1.48,1.0,middle", "row 150: side must be 'left', 'right' or empty, found 'middle'"),
        ("1e308,1.0,left", "row 150: time_s '1e308' is out of range"),
        ("-5,1.0,left", "row 150: time_s '-5' is out of range"),
        ("2e13,1.0,left", "row 150: time_s '2e13' is out of range"),
        ("inf,1.0,left", "row 150: time_s is not finite: 'inf'"),
        ("nan,1.0,left", "row 150: time_s is not finite: 'nan'"),
        ("1.48,-inf,left", "row 150: force_n is not finite: '-inf'"),
        ("1.48,NaN,left", "row 150: force_n is not finite: 'NaN'"),
        ("1.47,1.0,left", "row 150: time_s 1.47 does not increase (previous row has 1.47)"),
        ("0.1,1.0,left", "row 150: time_s 0.1 does not increase (previous row has 1.47)"),
    ],
)
def test_every_bad_row_is_named(tmp_path: Path, chunk: int, line: str, expected: str) -> None:
    assert expected in error_of(tmp_path, with_row(150, line))


def test_first_bad_row_wins_and_later_rows_are_not_needed(tmp_path: Path, chunk: int) -> None:
    text = with_row(150, "oops,1,left")
    text = "\n".join(line if i != 200 else "bad" for i, line in enumerate(text.splitlines(), 1)) + "\n"
    assert "row 150:" in error_of(tmp_path, text)


def test_header_variants(tmp_path: Path, chunk: int) -> None:
    body = "".join(f"{i}.5,{i},\n" for i in range(10))
    assert read_text(tmp_path, "\ufefftime_s,force_n,side\n" + body).side_codes.tolist() == [0] * 10
    assert read_text(tmp_path, " time_s , force_n , side \n" + body).t_s[0] == 0.5
    two = read_text(tmp_path, "time_s,force_n\n" + "".join(f"{i}.5,{i}\n" for i in range(10)))
    assert two.side_codes is None and two.side is None and two.analysis_side() is None
    assert "row 1: header is 'time,force'" in error_of(tmp_path, "time,force\n0,1\n")
    assert "row 1: header is 'time_s,force_n,hand'" in error_of(tmp_path, "time_s,force_n,hand\n0,1,left\n")
    assert "empty file" in error_of(tmp_path, "")
    assert "empty file" in error_of(tmp_path, "\n0,1,left\n")
    assert "no samples after the header" in error_of(tmp_path, "time_s,force_n,side\n\n  \n")
    assert "not a UTF-8 text file" in error_of(tmp_path, b"time_s,force_n,side\n0,1,\xff\n")


def test_crlf_and_side_column(tmp_path: Path, chunk: int) -> None:
    text = "time_s,force_n,side\r\n" + "".join(f"{i / 10:.6f},{i:.4f},{s}\r\n" for i, s in enumerate(["", "left", "right"] * 40))
    table = read_text(tmp_path, text)
    assert table.side_codes.tolist() == [0, 1, 2] * 40
    assert list(table.side[:3]) == ["", "left", "right"]
    np.testing.assert_array_equal(table.force_n, np.arange(120.0))
    # the per-row rules: spaces, other case, exponents, signs (what float() takes)
    odd = read_text(tmp_path, "time_s,force_n,side\n 0.5 ,+1e2, LEFT \n1,-.5,Right\n2,-0,\n")
    assert odd.t_s.tolist() == [0.5, 1.0, 2.0] and odd.force_n.tolist() == [100.0, -0.5, -0.0]
    assert odd.side_codes.tolist() == [1, 2, 0] and np.signbit(odd.force_n[2])


def test_tail_rules(tmp_path: Path, chunk: int) -> None:
    assert len(read_text(tmp_path, GOOD + "\n \n\n")) == 300  # blank lines at the end are ignored
    assert "row 302: expected 3 fields, found 1" in error_of(tmp_path, GOOD + "\n3.5,1,left\n")
    torn = GOOD + "3.00,1"
    assert "row 302: expected 3 fields, found 2" in error_of(tmp_path, torn)
    assert len(read_text(tmp_path, torn, allow_truncated_tail=True)) == 300
    assert len(read_text(tmp_path, GOOD + "2.5,1,left\n\n", allow_truncated_tail=True)) == 300  # non-increasing tail
    # only the last line may be torn
    assert "row 302" in error_of(tmp_path, GOOD + "3.0,x,left\n3.1,1,left\n", allow_truncated_tail=True)
    assert "no complete samples" in error_of(tmp_path, "time_s,force_n,side\n0,1", allow_truncated_tail=True)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(SamplesCsvError, match="no such file"):
        read_samples_csv(tmp_path / "nope.csv")
    with pytest.raises(SamplesCsvError, match="folder"):
        read_samples_csv(tmp_path)


def test_huge_gap_is_read_and_analysed_as_a_gap(tmp_path: Path, chunk: int) -> None:
    t = np.arange(4000) / 100.0
    t[2000:] += 1e12
    f = np.where((t % 20 > 3) & (t % 20 < 10), 60.0, 2.0)
    write_samples_csv(tmp_path / "s.csv", t, f, "left")
    table = read_samples_csv(tmp_path / "s.csv")
    assert table.t_s[-1] == pytest.approx(1e12 + 39.99)
    reps = analyze(table.t_s, table.force_n, table.analysis_side()).reps
    assert len(reps) >= 2 and all(r.hold_s < 10 for r in reps)


def test_parse_text_equals_read(tmp_path: Path) -> None:
    a = parse_samples_csv(GOOD, name="x")
    b = read_text(tmp_path, GOOD)
    np.testing.assert_array_equal(a.t_s, b.t_s)
    np.testing.assert_array_equal(a.side_codes, b.side_codes)
    with pytest.raises(SamplesCsvError, match=r"^x: row 150"):
        parse_samples_csv(with_row(150, "?,1,left"), name="x")


def test_writer_text_is_the_f_string_text(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    t = np.cumsum(rng.uniform(1e-4, 2e-3, 5000))
    f = rng.normal(0, 80, 5000)
    f[::50] = -0.0
    f[::77] = -4e-5  # "-0.0000", as the f-string writes it
    side = rng.choice(["", "left", "right"], 5000).astype(object)
    expected = "".join(f"{a:.6f},{b:.4f},{s}\n" for a, b, s in zip(t.tolist(), f.tolist(), side, strict=True))
    assert format_rows(t, f, side) == expected
    clock = iter(range(10**6))
    with SamplesCsvWriter(tmp_path / "w.csv", clock=lambda: float(next(clock))) as w:
        for lo in range(0, 5000, 20):
            w.write(t[lo : lo + 20], f[lo : lo + 20], side[lo : lo + 20])
    assert (tmp_path / "w.csv").read_text() == "time_s,force_n,side\n" + expected
