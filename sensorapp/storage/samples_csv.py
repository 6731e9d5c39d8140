"""The samples CSV: ``time_s,force_n,side``.

One format is written by ``sensorapp record`` and by CSV export, and read by
``sensorapp analyze`` and the replay source. Time comes from the device clock
(seconds, starting near 0); force is calibrated newtons; side is ``left``,
``right`` or empty when unknown.

The writer is crash-safe to about one second: it flushes and fsyncs at least
once a second, so a killed process leaves a readable file that is short by at
most the last second of samples (a half-written last line is tolerated by the
reader only when asked to, see ``allow_truncated_tail``).
"""

from __future__ import annotations

import io
import math
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

HEADER: tuple[str, ...] = ("time_s", "force_n", "side")
REQUIRED_COLUMNS: tuple[str, ...] = ("time_s", "force_n")
VALID_SIDES: frozenset[str] = frozenset({"", "left", "right"})
SIDE_NAMES: tuple[str, ...] = ("", "left", "right")  # side code -> label, as in the session store
# Device time runs from 0; beyond 1e13 s (300,000 years) no clock is meant and float64 can no
# longer tell 1 kHz samples apart (its step there is ~2 ms), so such a time is refused, not analysed.
MAX_TIME_S = 1e13
CHUNK_BYTES = 1 << 20  # text parsed per step: the table dominates peak memory, not the text

WRITE_BATCH_ROWS = 4096  # the writer formats rows this many at a time (or at each sync)
_FIELD_MAX = 16  # longest number the vectorised path parses (longer ones take the per-row path)
_TWO_53 = float(2**53)
_POW10 = 10.0 ** np.arange(23)
_LEFT_U32 = int.from_bytes(b"left", "little")
_RIGH_U32 = int.from_bytes(b"righ", "little")


class SamplesCsvError(ValueError):
    """A samples CSV that cannot be read; the message names the file and row."""


@dataclass(frozen=True, eq=False)
class SampleTable:
    """Samples read from a CSV: parallel arrays, time strictly increasing, 17 bytes per sample."""

    t_s: np.ndarray  # float64 device time
    force_n: np.ndarray  # float64 newtons
    side_codes: np.ndarray | None  # uint8: 0 unknown, 1 left, 2 right; None without a side column

    def __len__(self) -> int:
        return int(self.t_s.size)

    @property
    def side(self) -> np.ndarray | None:
        """Per-sample labels "left"/"right"/"" (object array, built on request), or None."""
        if self.side_codes is None:
            return None
        return np.asarray(SIDE_NAMES, dtype=object)[self.side_codes]

    def analysis_side(self) -> str | np.ndarray | None:
        """The cheapest ``side`` for the signal layer: None, one label, or the uint8 codes."""
        codes = self.side_codes
        if codes is None or codes.size == 0:
            return None
        first = int(codes[0])
        if not bool((codes != first).any()):
            return SIDE_NAMES[first] or None
        return codes


def read_samples_csv(path: str | os.PathLike[str], *, allow_truncated_tail: bool = False) -> SampleTable:
    """Read a samples CSV, validating every row.

    Raises SamplesCsvError naming the row (1-based line number, header = line 1)
    for a missing/unknown header, a non-numeric or non-finite value, a time
    outside 0..MAX_TIME_S, a wrong number of fields, an unknown side, or time
    that does not increase. ``allow_truncated_tail`` drops one malformed final
    line (a crash mid-write). Blank lines at the end are ignored.

    The text is read CHUNK_BYTES at a time and parsed with numpy; a chunk the
    vectorised parser does not accept as a whole is parsed again row by row,
    which finds the exact bad row (or accepts what Python's ``float`` accepts).
    """
    p = Path(path)
    try:
        with open(p, "rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            return _CsvReader(str(p), allow_truncated_tail, size).read(stream)
    except FileNotFoundError:
        raise SamplesCsvError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise SamplesCsvError(f"{p}: is a folder, not a file") from None
    except OSError as exc:
        raise SamplesCsvError(f"{p}: cannot read ({exc.strerror})") from None


def parse_samples_csv(text: str, *, name: str = "<csv>", allow_truncated_tail: bool = False) -> SampleTable:
    """Parse samples CSV text; see read_samples_csv."""
    data = text.encode("utf-8", "surrogatepass")
    return _CsvReader(name, allow_truncated_tail, len(data)).read(io.BytesIO(data))


class _CsvReader:
    """One pass over the file: header, then chunks that end at a newline."""

    def __init__(self, name: str, allow_truncated_tail: bool, size_bytes: int) -> None:
        self.name = name
        self.allow_truncated_tail = allow_truncated_tail
        self.size_bytes = size_bytes
        self.has_side = False
        self.n_fields = 2
        self.row = 1  # rows read so far (the header is row 1)
        self.n = 0
        self.last_t = -math.inf
        self.t_s = np.empty(0)
        self.force_n = np.empty(0)
        self.codes: np.ndarray | None = None
        self.any_body_line = False
        # an error that only counts if a non-blank line follows: a blank line (ignored at the end),
        # or the last line when a truncated tail is allowed
        self.deferred: str | None = None
        self.deferred_is_blank = False

    # ------------------------------------------------------------------ driver

    def read(self, stream: IO[bytes]) -> SampleTable:
        first = stream.read(CHUNK_BYTES)
        offset = self._header(first)
        chunks = _chunks(stream, first[offset:], offset)
        if self.size_bytes < 4 * CHUNK_BYTES:
            for data, consumed in chunks:
                self._chunk(data, consumed, _parse_checked(data, self.n_fields))
            return self._table()
        # Two chunks parse at once (numpy releases the GIL); results are taken in file order.
        with ThreadPoolExecutor(max_workers=2) as pool:
            ahead: deque[tuple[bytes, int, Future[_Parsed | None]]] = deque()
            for data, consumed in chunks:
                ahead.append((data, consumed, pool.submit(_parse_checked, data, self.n_fields)))
                if len(ahead) > 2:
                    done = ahead.popleft()
                    self._chunk(done[0], done[1], done[2].result())
            while ahead:
                done = ahead.popleft()
                self._chunk(done[0], done[1], done[2].result())
        return self._table()

    def _table(self) -> SampleTable:
        if self.deferred is not None and not (self.deferred_is_blank or self.allow_truncated_tail):
            self._fail(self.deferred)
        if not self.any_body_line:
            self._fail(f"{self.name}: no samples after the header")
        if self.n == 0:
            self._fail(f"{self.name}: no complete samples after the header")
        n = self.n
        # shrink in place (realloc): no second copy of the table
        self.t_s.resize(n, refcheck=False)
        self.force_n.resize(n, refcheck=False)
        if self.codes is not None:
            self.codes.resize(n, refcheck=False)
        return SampleTable(t_s=self.t_s, force_n=self.force_n, side_codes=self.codes)

    @staticmethod
    def _fail(message: str) -> None:
        raise SamplesCsvError(message)

    def _header(self, first: bytes) -> int:
        """Check the header line; the byte offset where the samples start."""
        nl = first.find(b"\n")
        head = first if nl < 0 else first[: nl + 1]
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SamplesCsvError(
                f"{self.name}: not a UTF-8 text file ({exc.reason} at byte {exc.start})"
            ) from None
        lines = text.splitlines(keepends=True)
        if not lines or not lines[0].strip():
            raise SamplesCsvError(f"{self.name}: empty file, expected the header 'time_s,force_n[,side]'")
        line = lines[0].splitlines()[0]
        header = [h.strip() for h in line.lstrip("\ufeff").split(",")]
        if header[:2] != list(REQUIRED_COLUMNS) or len(header) > 3 or (len(header) == 3 and header[2] != "side"):
            raise SamplesCsvError(
                f"{self.name}: row 1: header is {','.join(header)!r}, expected 'time_s,force_n' or 'time_s,force_n,side'"
            )
        self.has_side = len(header) == 3
        self.n_fields = len(header)
        if self.has_side:
            self.codes = np.empty(0, dtype=np.uint8)
        return len(lines[0].encode("utf-8"))

    # ------------------------------------------------------------------ storage

    def _reserve(self, k: int, chunk_bytes: int, consumed: int) -> None:
        """Room for k more rows; sized from the rows per byte seen so far, so it rarely regrows."""
        need = self.n + k
        if need <= self.t_s.size:
            return
        rows_per_byte = k / max(chunk_bytes, 1)
        left = max(self.size_bytes - consumed - chunk_bytes, 0)
        cap = max(need + int(left * rows_per_byte * 1.02) + 1024, int(self.t_s.size * 1.25))
        if self.n == 0:  # np.empty does not touch the pages (resize would zero them)
            self.t_s = np.empty(cap)
            self.force_n = np.empty(cap)
            self.codes = None if self.codes is None else np.empty(cap, dtype=np.uint8)
            return
        self.t_s.resize(cap, refcheck=False)
        self.force_n.resize(cap, refcheck=False)
        if self.codes is not None:
            self.codes.resize(cap, refcheck=False)

    def _append(self, t: np.ndarray, f: np.ndarray, codes: np.ndarray | None, chunk_bytes: int, consumed: int) -> None:
        k = t.size
        if k == 0:
            return
        self._reserve(k, chunk_bytes, consumed)
        n = self.n
        self.t_s[n : n + k] = t
        self.force_n[n : n + k] = f
        if self.codes is not None and codes is not None:
            self.codes[n : n + k] = codes
        self.n = n + k
        self.last_t = float(t[-1])

    # ------------------------------------------------------------------ chunks

    def _chunk(self, data: bytes, consumed: int, parsed: _Parsed | None) -> None:
        if parsed is not None and parsed[0][0] > self.last_t:
            t, f, codes = parsed
            if self.deferred is not None:  # a non-blank line follows the deferred one
                self._fail(self.deferred)
            self.any_body_line = True
            self._append(t, f, codes, len(data), consumed)
            self.row += t.size
            return
        self._chunk_by_rows(data, consumed)

    def _chunk_by_rows(self, data: bytes, consumed: int) -> None:
        """The exact per-row rules (the reference the vectorised path must agree with)."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SamplesCsvError(
                f"{self.name}: not a UTF-8 text file ({exc.reason} at byte {consumed + exc.start})"
            ) from None
        lines = text.splitlines()
        k = len(lines)
        t = np.empty(k)
        f = np.empty(k)
        codes = np.empty(k, dtype=np.uint8) if self.has_side else None
        kept = 0
        last = self.last_t
        for line in lines:
            self.row += 1
            row = self.row
            if not line.strip():
                if self.deferred is None:
                    # an error unless only blank lines follow
                    self.deferred = f"{self.name}: row {row}: expected {self.n_fields} fields, found 1: {line[:60]!r}"
                    self.deferred_is_blank = True
                continue
            if self.deferred is not None:
                self._fail(self.deferred)
            self.any_body_line = True
            try:
                tv, fv, side = _parse_row(line, self.n_fields, row)
                if (kept or self.n) and not tv > last:
                    raise SamplesCsvError(
                        f"row {row}: time_s {tv!r} does not increase (previous row has {last!r})"
                    )
            except SamplesCsvError as exc:
                message = f"{self.name}: {exc}"
                if not self.allow_truncated_tail:
                    self._fail(message)
                self.deferred = message  # fatal unless this turns out to be the last line
                self.deferred_is_blank = False
                continue
            t[kept] = tv
            f[kept] = fv
            if codes is not None:
                codes[kept] = SIDE_NAMES.index(side)
            last = tv
            kept += 1
        self._append(t[:kept], f[:kept], None if codes is None else codes[:kept], len(data), consumed)


def _parse_row(line: str, n_fields: int, row: int) -> tuple[float, float, str]:
    fields = line.split(",")
    if len(fields) != n_fields:
        raise SamplesCsvError(f"row {row}: expected {n_fields} fields, found {len(fields)}: {line[:60]!r}")
    values = []
    for col, raw in zip(REQUIRED_COLUMNS, fields[:2], strict=True):
        try:
            v = float(raw)
        except ValueError:
            raise SamplesCsvError(f"row {row}: {col} is not a number: {raw.strip()[:30]!r}") from None
        if not math.isfinite(v):
            raise SamplesCsvError(f"row {row}: {col} is not finite: {raw.strip()!r}")
        values.append(v)
    if not 0.0 <= values[0] <= MAX_TIME_S:
        raise SamplesCsvError(
            f"row {row}: time_s {fields[0].strip()[:30]!r} is out of range (device time runs from 0 to 1e13 s)"
        )
    side = fields[2].strip().lower() if n_fields == 3 else ""
    if side not in VALID_SIDES:
        raise SamplesCsvError(f"row {row}: side must be 'left', 'right' or empty, found {fields[2].strip()[:20]!r}")
    return values[0], values[1], side


def _chunks(stream: IO[bytes], pending: bytes, consumed: int) -> Iterator[tuple[bytes, int]]:
    """The rest of the file in pieces that end at a newline (the last one may not), with offsets."""
    while True:
        more = stream.read(CHUNK_BYTES)
        data = pending + more if pending else more
        if not more:
            if data:
                yield data, consumed
            return
        cut = data.rfind(b"\n") + 1
        if cut == 0:  # one line longer than a chunk: keep reading
            pending = data
            continue
        yield data[:cut], consumed
        consumed += cut
        pending = data[cut:]


_Parsed = tuple[np.ndarray, np.ndarray, np.ndarray | None]


def _parse_checked(data: bytes, n_fields: int) -> _Parsed | None:
    """The vectorised parse of one chunk, if every row is valid within it (time in range, increasing)."""
    parsed = _parse_fast(data if data.endswith(b"\n") else data + b"\n", n_fields)
    if parsed is None:
        return None
    t = parsed[0]
    if not (t[0] >= 0.0 and t[-1] <= MAX_TIME_S):
        return None
    if t.size > 1 and not (t[1:] > t[:-1]).all():
        return None
    return parsed


# ---------------------------------------------------------------------- vectorised path


def _parse_fast(body: bytes, n_fields: int) -> _Parsed | None:
    """Parse lines of plain decimals (``-?digits[.digits]``, exact sides, LF or CRLF) with numpy.

    Returns None for anything else (blank lines, spaces, exponents, other case, bad rows): the
    caller then applies the per-row rules. What it accepts it converts exactly as ``float`` does:
    the digits form an integer mantissa below 2**53 and one IEEE division by an exact power of
    ten rounds it correctly.
    """
    pad = _FIELD_MAX + 1
    # padding lets every field be read as _FIELD_MAX bytes without bounds checks
    buf = b"\n" * pad + body + b"\0" * pad
    u = np.frombuffer(buf, dtype=np.uint8)
    nl = np.flatnonzero(u == 10)
    nl = nl[nl >= pad]
    commas = np.flatnonzero(u == 44)
    n = nl.size
    k = n_fields - 1
    if n == 0 or commas.size != n * k:
        return None
    comma = commas.reshape(n, k)
    starts = np.empty(n, dtype=np.int64)
    starts[0] = pad
    starts[1:] = nl[:-1] + 1
    if not ((comma[:, 0] > starts - 1).all() and (comma[:, -1] < nl).all()):
        return None
    line_end = nl - (u[nl - 1] == 13)  # CRLF
    t = _parse_numbers(u, starts, comma[:, 0])
    if t is None:
        return None
    f_end = comma[:, 1] if k == 2 else line_end
    f = _parse_numbers(u, comma[:, 0] + 1, f_end)
    if f is None:
        return None
    if k == 1:
        return t, f, None
    codes = _side_codes(buf, u, comma[:, 1] + 1, line_end)
    if codes is None:
        return None
    return t, f, codes


def _parse_numbers(u: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray | None:
    """The numbers in u[start:end] per row, or None if one is not a plain decimal."""
    length = end - start
    if length.size == 0 or length.min() < 1 or length.max() > _FIELD_MAX:
        return None
    windows = sliding_window_view(u, _FIELD_MAX)  # row i: the bytes from i on (a view)
    counts = np.bincount(length)
    if np.count_nonzero(counts) == 1:
        return _same_length(windows, start, int(length[0]))
    out = np.empty(length.size)
    for width in np.flatnonzero(counts):
        rows = np.flatnonzero(length == width)
        values = _same_length(windows, start[rows], int(width))
        if values is None:
            return None
        out[rows] = values
    return out


def _same_length(windows: np.ndarray, start: np.ndarray, width: int) -> np.ndarray | None:
    """Fields of one length: usually one layout (the writer's fixed decimals), else per row."""
    chars = windows[:, :width][start]  # (rows, width) copy
    neg = chars[:, 0] == 45
    signed = neg | (chars[:, 0] == 43)
    chars[signed, 0] = 48  # a sign reads as a leading zero
    dots = np.flatnonzero(chars[0] == 46)
    dot_col = int(dots[0]) if dots.size else -1
    if dot_col >= 0:
        if not (chars[:, dot_col] == 46).all():
            return _mixed_layout(chars, neg, signed)
        chars[:, dot_col] = 48
    digits = chars - np.uint8(48)
    if digits.max() >= 10:
        return _mixed_layout(windows[:, :width][start], neg, signed)
    n_digits = width - (dot_col >= 0) - signed
    if (n_digits < 1).any():
        return None  # a lone sign or dot
    # place value of each column: the dot has none, the digits left of it one less
    power = np.arange(width - 1, -1, -1)
    if dot_col >= 0:
        power[:dot_col] -= 1
        frac = width - 1 - dot_col
    else:
        frac = 0
    weights = np.where(np.arange(width) == dot_col, 0.0, _POW10[np.maximum(power, 0)])
    mantissa = digits.astype(np.float64) @ weights
    if width >= 16 and not (mantissa < _TWO_53).all():
        return None
    value = mantissa / _POW10[frac]  # exact operands: one correctly rounded division, as float() does
    return np.where(neg, -value, value)


def _mixed_layout(chars: np.ndarray, neg: np.ndarray, signed: np.ndarray) -> np.ndarray | None:
    """Same length, dot in different columns (e.g. "12.5" and "1.25"): per-row column weights."""
    width = chars.shape[1]
    chars = chars.copy()
    chars[signed, 0] = 48
    digit = chars - np.uint8(48)
    is_dot = chars == 46
    n_dot = is_dot.sum(axis=1)
    if not (((digit < 10) | is_dot).all() and (n_dot <= 1).all()):
        return None
    n_digits = width - n_dot - signed
    if (n_digits < 1).any():
        return None
    digit[is_dot] = 0
    v = digit.astype(np.float64) @ _POW10[width - 1 :: -1]  # the dot as a zero digit: one place too many to its left
    if not (v < _TWO_53).all():
        return None
    has_dot = n_dot == 1
    frac = np.where(has_dot, width - 1 - is_dot.argmax(axis=1), 0)
    scale = _POW10[frac]
    low = np.fmod(v, scale)
    mantissa = np.where(has_dot, (v - low) / 10.0 + low, v)
    value = mantissa / scale
    return np.where(neg, -value, value)


def _side_codes(buf: bytes, u: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray | None:
    length = end - start
    codes = np.zeros(length.size, dtype=np.uint8)
    four = length == 4
    five = length == 5
    if not (four | five | (length == 0)).all():
        return None
    if four.any() or five.any():
        # every 4-byte window of the text as one little-endian uint32 (a strided view, no copy)
        words = np.ndarray(shape=(u.size - 3,), dtype="<u4", buffer=buf, strides=(1,))
        w = words[np.minimum(start, u.size - 4)]
        left = four & (w == _LEFT_U32)
        right = five & (w == _RIGH_U32) & (u[np.minimum(start + 4, u.size - 1)] == 116)
        if not (left | right | (length == 0)).all():
            return None
        codes[left] = 1
        codes[right] = 2
    return codes


def format_rows(t_s: np.ndarray, force_n: np.ndarray, side: str | np.ndarray = "") -> str:
    """CSV text for samples: microsecond time, 0.1 mN force (below any belt's resolution).

    Exactly ``f"{t:.6f},{f:.4f},{side}\n"`` per row; long runs are formatted with numpy.
    """
    t = np.asarray(t_s, dtype=np.float64)
    f = np.asarray(force_n, dtype=np.float64)
    if t.size >= 64:
        codes = _codes_of(side, t.size)
        if codes is not None:
            text = _format_fast(t, f, codes)
            if text is not None:
                return text
    sides = [side] * len(t) if isinstance(side, str) else [str(s) for s in side]
    return "".join(f"{a:.6f},{b:.4f},{s}\n" for a, b, s in zip(t.tolist(), f.tolist(), sides, strict=True))


_SIDE_TEXT = np.frombuffer(b"\0\0\0\0\0left\0right", dtype=np.uint8).reshape(3, 5)


def _codes_of(side: str | np.ndarray, n: int) -> np.ndarray | None:
    """uint8 side codes for n rows, or None for a label that is not '', 'left' or 'right'."""
    if isinstance(side, str):
        return np.full(n, SIDE_NAMES.index(side), dtype=np.uint8) if side in VALID_SIDES else None
    labels = np.asarray(side)
    if labels.shape != (n,):
        return None
    left = labels == "left"
    right = labels == "right"
    if not (left | right | (labels == "")).all():
        return None
    return left.astype(np.uint8) + 2 * right.astype(np.uint8)


def _format_fast(t: np.ndarray, f: np.ndarray, codes: np.ndarray) -> str | None:
    t_cols = _fixed_columns(t, 6)
    f_cols = _fixed_columns(f, 4)
    if t_cols is None or f_cols is None:
        return None
    n = t.size
    comma = np.full((n, 1), 44, dtype=np.uint8)
    newline = np.full((n, 1), 10, dtype=np.uint8)
    rows = np.concatenate((t_cols, comma, f_cols, comma, _SIDE_TEXT[codes], newline), axis=1)
    return rows[rows != 0].tobytes().decode("ascii")  # zero bytes are padding


def _fixed_columns(v: np.ndarray, decimals: int) -> np.ndarray | None:
    """Right-aligned ``f"{x:.{decimals}f}"`` characters per row, 0 for nothing; None when unsure.

    Rounding ``v * 10**decimals`` to an integer is what the f-string does unless the product
    lies within its own rounding error of a half; such a batch (and any non-finite or huge
    value) is left to Python's formatting.
    """
    scaled = v * 10.0**decimals
    if not (np.abs(scaled) < 1e15).all():  # also false for NaN
        return None
    m = np.rint(scaled)
    if (np.abs(np.abs(scaled - m) - 0.5) <= np.abs(scaled) * 5e-16 + 1e-12).any():
        return None
    a = np.abs(m).astype(np.int64)
    whole = a // 10**decimals
    n_int = np.ones(v.size, dtype=np.int64)
    for k in range(1, 16):
        n_int += whole >= 10**k
    max_int = int(n_int.max())
    width = 1 + max_int + 1 + decimals
    out = np.zeros((v.size, width), dtype=np.uint8)
    col = width - 1
    digit = np.empty_like(a)
    for _ in range(decimals):
        np.divmod(a, 10, out=(a, digit))
        out[:, col] = digit
        col -= 1
    out[:, col] = 46
    col -= 1
    for _ in range(max_int):
        np.divmod(a, 10, out=(a, digit))
        out[:, col] = digit
        col -= 1
    out[:, width - 1 - decimals - 1 - max_int + 1 :] += 48  # digits to ASCII (the dot column below)
    out[:, width - 1 - decimals] = 46
    # blank the leading zeros of the integer part (each row keeps n_int digits)
    lead_cols = np.arange(max_int)
    blank = lead_cols[None, :] < (max_int - n_int)[:, None]
    out[:, 1 : 1 + max_int][blank] = 0
    neg = np.flatnonzero(np.signbit(v))  # "-0.0000" too, as the f-string writes it
    out[neg, width - 2 - decimals - n_int[neg]] = 45
    return out


class SamplesCsvWriter:
    """Append samples to a CSV, durable to about one second.

    ``sync_interval_s`` bounds the loss on a crash: after each write, if that
    much wall time has passed since the last sync the file is flushed and
    fsynced. ``clock`` is injectable for tests.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        sync_interval_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path)
        self._sync_interval_s = sync_interval_s
        self._clock = clock
        self._file: IO[str] | None = None
        self._last_sync = 0.0
        self.rows_written = 0
        # rows accepted but not yet formatted: formatting thousands at once is ~20x cheaper than
        # per 20-sample block, and a sync writes them first, so the crash bound is unchanged
        self._pending: list[tuple[np.ndarray, np.ndarray, str | np.ndarray]] = []
        self._pending_rows = 0

    def open(self) -> SamplesCsvWriter:
        try:
            # kept open across write() calls until close(): no context manager fits
            self._file = open(self.path, "w", encoding="utf-8", newline="")  # noqa: SIM115
            self._file.write(",".join(HEADER) + "\n")
            self.sync()
        except OSError as exc:
            raise OSError(exc.errno, f"cannot write {self.path}: {exc.strerror}") from None
        return self

    def __enter__(self) -> SamplesCsvWriter:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self, t_s: np.ndarray, force_n: np.ndarray, side: str | np.ndarray = "") -> None:
        if self._file is None:
            raise RuntimeError("SamplesCsvWriter is not open")
        if len(t_s) == 0:
            return
        t = np.array(t_s, dtype=np.float64)  # copies: the caller may reuse its buffers
        f = np.array(force_n, dtype=np.float64)
        if t.shape != f.shape or (not isinstance(side, str) and len(side) != t.size):
            raise ValueError("t_s, force_n and side must have the same length")
        self._pending.append((t, f, side if isinstance(side, str) else np.array(side)))
        self._pending_rows += t.size
        self.rows_written += t.size
        if self._pending_rows >= WRITE_BATCH_ROWS:
            self._write_pending()
        if self._clock() - self._last_sync >= self._sync_interval_s:
            self.sync()

    def _write_pending(self) -> None:
        assert self._file is not None
        pending, self._pending, self._pending_rows = self._pending, [], 0
        if not pending:
            return
        if all(isinstance(side, str) and side == pending[0][2] for _, _, side in pending):
            side: str | np.ndarray = pending[0][2]
        else:
            side = np.concatenate([np.full(t.size, s, dtype=object) if isinstance(s, str) else s for t, _, s in pending])
        self._file.write(format_rows(np.concatenate([p[0] for p in pending]), np.concatenate([p[1] for p in pending]), side))

    def sync(self) -> None:
        """Write what is buffered and fsync it now (a caller may add its own rule, e.g. by device time)."""
        assert self._file is not None
        self._write_pending()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._last_sync = self._clock()

    def close(self) -> None:
        if self._file is not None:
            try:
                self.sync()
            finally:
                self._file.close()
                self._file = None


def write_samples_csv(path: str | os.PathLike[str], t_s: np.ndarray, force_n: np.ndarray, side: str | np.ndarray = "") -> None:
    """Write a whole samples CSV atomically (temp file, fsync, rename); StorageError on failure."""
    from .atomic import atomic_file

    with atomic_file(path, "w", what="write") as f:
        f.write(",".join(HEADER) + "\n")
        f.write(format_rows(np.asarray(t_s), np.asarray(force_n), side))


__all__ = [
    "HEADER",
    "MAX_TIME_S",
    "SIDE_NAMES",
    "SampleTable",
    "SamplesCsvError",
    "SamplesCsvWriter",
    "format_rows",
    "parse_samples_csv",
    "read_samples_csv",
    "write_samples_csv",
]
