"""The hold countdown: a ring that fills toward the target, with the seconds
left in large numerals. Unmistakable from 2 m: fill, number and colour change
together, and the finished state also says so in words."""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from . import theme


class HoldDial(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hold_s = 0.0
        self.target_s = 6.0
        self.mode = "idle"  # idle | holding | done | rest
        self.rest_s = 0.0
        self.setMinimumSize(220, 220)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def show_hold(self, hold_s: float, target_s: float, done: bool) -> None:
        self.hold_s, self.target_s = hold_s, target_s
        self.mode = "done" if done else "holding"
        self.update()

    def show_rest(self, remaining_s: float) -> None:
        self.mode, self.rest_s = "rest", remaining_s
        self.update()

    def show_idle(self) -> None:
        self.mode = "idle"
        self.update()

    def paintEvent(self, _event: object) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        side = min(self.width(), self.height()) - 20
        width = max(12.0, side * 0.09)
        rect = QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)
        track = QPen(QColor(theme.GRID), width)
        track.setCapStyle(Qt.PenCapStyle.FlatCap)
        p.setPen(track)
        p.drawEllipse(rect)
        frac = 0.0
        colour = theme.SKY
        big, small = "", ""
        if self.mode == "holding":
            frac = min(1.0, self.hold_s / self.target_s) if self.target_s else 0.0
            big = f"{max(0, math.ceil(self.target_s - self.hold_s - 1e-9))}"
            small = f"held {self.hold_s:.1f} of {self.target_s:.0f} s"
        elif self.mode == "done":
            frac, colour = 1.0, theme.GREEN
            big, small = "\u2714", "release slowly"
        elif self.mode == "rest":
            frac, colour = 0.0, theme.MUTED
            big, small = f"{math.ceil(self.rest_s)}", "rest"
        else:
            big, small = f"{self.target_s:.0f}", "second hold"
        if frac > 0:
            arc = QPen(QColor(colour), width)
            arc.setCapStyle(Qt.PenCapStyle.FlatCap)
            p.setPen(arc)
            p.drawArc(rect, 90 * 16, -int(round(frac * 360 * 16)))
        p.setPen(QColor(colour if self.mode == "done" else theme.TEXT))
        f = QFont(self.font())
        f.setPixelSize(max(24, int(side * 0.40)))
        f.setBold(True)
        p.setFont(f)
        # Numeral in the upper part of the ring, caption in a band below it.
        inner = rect.adjusted(width, width, -width, -width)
        h = inner.height()
        p.drawText(QRectF(inner.left(), inner.top() + h * 0.08, inner.width(), h * 0.55), Qt.AlignmentFlag.AlignCenter, big)
        f.setPixelSize(max(12, int(side * 0.075)))
        f.setBold(False)
        p.setFont(f)
        p.setPen(QColor(theme.MUTED if self.mode != "done" else theme.GREEN))
        p.drawText(QRectF(inner.left(), inner.top() + h * 0.66, inner.width(), h * 0.16), Qt.AlignmentFlag.AlignCenter, small)
        p.end()
