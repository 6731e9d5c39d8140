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

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

HEADER: tuple[str, ...] = ("time_s", "force_n", "side")
REQUIRED_COLUMNS: tuple[str, ...] = ("time_s", "force_n")
VALID_SIDES: frozenset[str] = frozenset({"", "left", "right"})


class SamplesCsvError(ValueError):
    """A samples CSV that cannot be read; the message names the file and row."""


@dataclass(frozen=True)
class SampleTable:
    """Samples read from a CSV: parallel arrays, time strictly increasing."""

    t_s: np.ndarray
    force_n: np.ndarray
    side: np.ndarray | None  # array of str ("left", "right", "") or None without a side column

    def __len__(self) -> int:
        return int(self.t_s.size)


def read_samples_csv(path: str | os.PathLike[str], *, allow_truncated_tail: bool = False) -> SampleTable:
    """Read a samples CSV, validating every row.

    Raises SamplesCsvError naming the row (1-based line number, header = line 1)
    for a missing/unknown header, a non-numeric or non-finite value, a wrong
    number of fields, an unknown side, or time that does not increase.
    ``allow_truncated_tail`` drops one malformed final line (a crash mid-write).
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SamplesCsvError(f"{p}: no such file") from None
    except UnicodeDecodeError as exc:
        raise SamplesCsvError(f"{p}: not a UTF-8 text file ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise SamplesCsvError(f"{p}: cannot read ({exc.strerror})") from None
    return parse_samples_csv(text, name=str(p), allow_truncated_tail=allow_truncated_tail)


def parse_samples_csv(text: str, *, name: str = "<csv>", allow_truncated_tail: bool = False) -> SampleTable:
    """Parse samples CSV text; see read_samples_csv."""
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise SamplesCsvError(f"{name}: empty file, expected the header 'time_s,force_n[,side]'")
    header = [h.strip() for h in lines[0].lstrip("\ufeff").split(",")]
    if header[:2] != list(REQUIRED_COLUMNS) or len(header) > 3 or (len(header) == 3 and header[2] != "side"):
        raise SamplesCsvError(
            f"{name}: row 1: header is {','.join(header)!r}, expected 'time_s,force_n' or 'time_s,force_n,side'"
        )
    has_side = len(header) == 3
    body = lines[1:]
    while body and not body[-1].strip():
        body.pop()
    if not body:
        raise SamplesCsvError(f"{name}: no samples after the header")

    n_fields = len(header)
    t_s = np.empty(len(body), dtype=np.float64)
    force_n = np.empty(len(body), dtype=np.float64)
    sides: list[str] | None = [] if has_side else None
    kept = 0
    for i, line in enumerate(body):
        row = i + 2
        try:
            t, f, side = _parse_row(line, n_fields, row)
        except SamplesCsvError as exc:
            if allow_truncated_tail and i == len(body) - 1:
                break
            raise SamplesCsvError(f"{name}: {exc}") from None
        if kept and not t > t_s[kept - 1]:
            if allow_truncated_tail and i == len(body) - 1:
                break
            raise SamplesCsvError(
                f"{name}: row {row}: time_s {t!r} does not increase (previous row has {float(t_s[kept - 1])!r})"
            )
        t_s[kept] = t
        force_n[kept] = f
        if sides is not None:
            sides.append(side)
        kept += 1
    if kept == 0:
        raise SamplesCsvError(f"{name}: no complete samples after the header")
    side_arr = np.asarray(sides, dtype=object) if sides is not None else None
    return SampleTable(t_s=t_s[:kept].copy(), force_n=force_n[:kept].copy(), side=side_arr)


def _parse_row(line: str, n_fields: int, row: int) -> tuple[float, float, str]:
    fields = line.split(",")
    if len(fields) != n_fields:
        raise SamplesCsvError(f"row {row}: expected {n_fields} fields, found {len(fields)}: {line[:60]!r}")
    values = []
    for col, raw in zip(REQUIRED_COLUMNS, fields[:2]):
        try:
            v = float(raw)
        except ValueError:
            raise SamplesCsvError(f"row {row}: {col} is not a number: {raw.strip()[:30]!r}") from None
        if not math.isfinite(v):
            raise SamplesCsvError(f"row {row}: {col} is not finite: {raw.strip()!r}")
        values.append(v)
    side = fields[2].strip().lower() if n_fields == 3 else ""
    if side not in VALID_SIDES:
        raise SamplesCsvError(f"row {row}: side must be 'left', 'right' or empty, found {fields[2].strip()[:20]!r}")
    return values[0], values[1], side


def format_rows(t_s: np.ndarray, force_n: np.ndarray, side: str | np.ndarray = "") -> str:
    """CSV text for samples: microsecond time, 0.1 mN force (below any belt's resolution)."""
    if isinstance(side, str):
        sides = [side] * len(t_s)
    else:
        sides = [str(s) for s in side]
    return "".join(f"{t:.6f},{f:.4f},{s}\n" for t, f, s in zip(t_s.tolist(), force_n.tolist(), sides))


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

    def open(self) -> SamplesCsvWriter:
        try:
            self._file = open(self.path, "w", encoding="utf-8", newline="")
            self._file.write(",".join(HEADER) + "\n")
            self._sync()
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
        self._file.write(format_rows(np.asarray(t_s), np.asarray(force_n), side))
        self.rows_written += len(t_s)
        if self._clock() - self._last_sync >= self._sync_interval_s:
            self._sync()

    def _sync(self) -> None:
        assert self._file is not None
        self._file.flush()
        os.fsync(self._file.fileno())
        self._last_sync = self._clock()

    def close(self) -> None:
        if self._file is not None:
            try:
                self._sync()
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
    "SampleTable",
    "SamplesCsvError",
    "SamplesCsvWriter",
    "format_rows",
    "parse_samples_csv",
    "read_samples_csv",
    "write_samples_csv",
]
