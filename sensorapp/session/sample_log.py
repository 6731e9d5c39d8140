"""Every sample of a session in memory, with the side in effect, for the
summary's analysis and CSV export. Grows in chunks; no per-sample Python."""

from __future__ import annotations

import numpy as np

SIDE_CODES = ("", "left", "right")


class SampleLog:
    def __init__(self, chunk: int = 1 << 16) -> None:
        self._chunk = chunk
        self._t = np.empty(chunk)
        self._f = np.empty(chunk)
        self._side = np.zeros(chunk, dtype=np.int8)
        self.n = 0

    def append(self, t_s: np.ndarray, force_n: np.ndarray, side: str = "") -> None:
        k = len(t_s)
        if self.n + k > self._t.size:
            size = max(self._t.size * 2, self.n + k)
            for name in ("_t", "_f", "_side"):
                old = getattr(self, name)
                new = np.empty(size, dtype=old.dtype)
                new[: self.n] = old[: self.n]
                setattr(self, name, new)
        self._t[self.n : self.n + k] = t_s
        self._f[self.n : self.n + k] = force_n
        self._side[self.n : self.n + k] = SIDE_CODES.index(side)
        self.n += k

    @property
    def t_s(self) -> np.ndarray:
        return self._t[: self.n]

    @property
    def force_n(self) -> np.ndarray:
        return self._f[: self.n]

    @property
    def side(self) -> np.ndarray:
        """Per-sample side labels as an object array of str."""
        return np.asarray(SIDE_CODES, dtype=object)[self._side[: self.n]]

    def __len__(self) -> int:
        return self.n
