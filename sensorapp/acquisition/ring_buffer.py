"""A ring buffer that stores every sample twice, so the most recent window is
always one contiguous numpy view: the live plot draws it without copies or
``np.roll`` (the friture pattern, see shared/STYLE.md)."""

from __future__ import annotations

import numpy as np


class MirroredRing:
    """Fixed-capacity history of (t_s, force_n) samples.

    ``write`` is called from the stream callback; ``latest(n)`` returns views
    of the newest n samples, valid until the next write overwrites them.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._t = np.zeros(2 * capacity)
        self._f = np.zeros(2 * capacity)
        self._head = 0  # next write position in [0, capacity)
        self.count = 0  # samples currently held (<= capacity)
        self.total = 0  # samples ever written

    def write(self, t_s: np.ndarray, force_n: np.ndarray) -> None:
        n = len(t_s)
        if n == 0:
            return
        cap = self.capacity
        if n >= cap:  # only the newest capacity samples survive
            t_s, force_n = t_s[-cap:], force_n[-cap:]
            self.total += n - cap
            n = cap
        h = self._head
        first = min(n, cap - h)
        for buf, src in ((self._t, t_s), (self._f, force_n)):
            buf[h : h + first] = src[:first]
            buf[h + cap : h + cap + first] = src[:first]
            rest = n - first
            if rest:
                buf[:rest] = src[first:]
                buf[cap : cap + rest] = src[first:]
        self._head = (h + n) % cap
        self.count = min(cap, self.count + n)
        self.total += n

    def latest(self, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Views of the newest ``n`` samples (all held samples by default), oldest first."""
        k = self.count if n is None else max(0, min(n, self.count))
        end = self._head + self.capacity
        return self._t[end - k : end], self._f[end - k : end]

    def since(self, t_from_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Views of the held samples with t >= t_from_s."""
        t, f = self.latest()
        i = int(np.searchsorted(t, t_from_s, side="left"))
        return t[i:], f[i:]

    def clear(self) -> None:
        self._head = 0
        self.count = 0
