"""The hold countdown: a ring that fills toward the target, with the seconds
left in large numerals. Unmistakable from 2 m: fill, number and colour change
together, and the finished state also says so in words. Between sides it
counts down the turn-over with a turning arrow."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from . import theme

MARGIN_PX = 4  # between the ring's outer edge and the widget's edge


class HoldDial(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hold_s = 0.0
        self.target_s = 6.0
        self.mode = "idle"  # idle | holding | done | rest | turn_over
        self.rest_s = 0.0
        self.turn_over_s = 0.0
        self.turn_over_colour = theme.SKY
        self.turn_over_total_s = 8.0
        self.setMinimumSize(200, 200)
        self.setAccessibleName("Hold countdown")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def show_hold(self, hold_s: float, target_s: float, done: bool) -> None:
        self.hold_s, self.target_s = hold_s, target_s
        self.mode = "done" if done else "holding"
        self.update()

    def show_rest(self, remaining_s: float) -> None:
        self.mode, self.rest_s = "rest", remaining_s
        self.update()

    def show_turn_over(self, remaining_s: float, colour: str = theme.SKY, total_s: float = 8.0) -> None:
        """Turning over: seconds left of the turn-over, then "lie still" until the leg is quiet."""
        self.mode, self.turn_over_s, self.turn_over_colour = "turn_over", remaining_s, colour
        self.turn_over_total_s = total_s
        self.update()

    def show_idle(self, target_s: float | None = None) -> None:
        if target_s is not None:
            self.target_s = target_s
        self.mode = "idle"
        self.update()

    def ring_rect(self) -> tuple[QRectF, float]:
        """The ring's centre-line rectangle and pen width: the whole pen lies inside the widget."""
        side = max(0.0, min(self.width(), self.height()) - 2.0 * MARGIN_PX)
        width = max(10.0, side * 0.09)
        d = side - width  # a pen is centred on the path: keep its outer half inside too
        return QRectF((self.width() - d) / 2, (self.height() - d) / 2, d, d), width

    def texts(self) -> tuple[str, str]:
        """(numeral or symbol, caption) as drawn now."""
        if self.mode == "holding":
            return f"{max(0, math.ceil(self.target_s - self.hold_s - 1e-9))}", f"held {self.hold_s:.1f} of {self.target_s:.0f} s"
        if self.mode == "done":
            return "\u2714", "release slowly"
        if self.mode == "rest":
            return f"{math.ceil(self.rest_s)}", "rest"
        if self.mode == "turn_over":
            if self.turn_over_s > 0:
                return f"{math.ceil(self.turn_over_s)}", "turn over"
            return "", "lie still"
        return f"{self.target_s:.0f}", "second hold"

    def numeral_ink_height_px(self) -> int:
        """Height in pixels of the numeral as drawn now (its digits' cap height), measured on a
        rendering of the widget: rows of numeral-coloured pixels in the numeral's box."""
        image = self.grab().toImage()
        rect, width = self.ring_rect()
        inner = rect.adjusted(width / 2, width / 2, -width / 2, -width / 2)
        top, bottom = int(inner.top() + inner.height() * 0.06), int(inner.top() + inner.height() * 0.64)
        left, right = int(inner.left() + inner.width() * 0.15), int(inner.right() - inner.width() * 0.15)
        ink = QColor(theme.TEXT)
        rows = [
            y for y in range(max(0, top), min(image.height(), bottom))
            if any(abs(QColor(image.pixel(x, y)).lightness() - ink.lightness()) < 24 for x in range(max(0, left), min(image.width(), right), 2))
        ]  # fmt: skip
        return (rows[-1] - rows[0] + 1) if rows else 0

    def update(self) -> None:  # type: ignore[override]  # (QWidget.update's overloads take a rect; this one does not)
        """Repaint, and tell a screen reader what the dial says now ("3, held 3.0 of 6 s")."""
        big, small = self.texts()
        big = "done" if big == "\u2714" else big  # the check mark, in words
        said = f"{big}, {small}" if big else small
        if said != self.accessibleDescription():
            self.setAccessibleDescription(said)
        super().update()

    def paintEvent(self, _event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect, width = self.ring_rect()
        side = rect.width() + width
        track = QPen(QColor(theme.GRID), width)
        track.setCapStyle(Qt.PenCapStyle.FlatCap)
        p.setPen(track)
        p.drawEllipse(rect)
        frac = 0.0
        colour = theme.SKY
        if self.mode == "holding":
            frac = min(1.0, self.hold_s / self.target_s) if self.target_s else 0.0
        elif self.mode == "done":
            frac, colour = 1.0, theme.GREEN
        elif self.mode == "turn_over":
            colour = self.turn_over_colour
            frac = 1.0 - min(1.0, self.turn_over_s / max(self.turn_over_total_s, 1e-9)) if self.turn_over_s > 0 else 1.0
        big, small = self.texts()
        if frac > 0:
            arc = QPen(QColor(colour), width)
            arc.setCapStyle(Qt.PenCapStyle.FlatCap)
            p.setPen(arc)
            p.drawArc(rect, 90 * 16, -round(frac * 360 * 16))
        inner = rect.adjusted(width / 2, width / 2, -width / 2, -width / 2)
        h = inner.height()
        numeral_box = QRectF(inner.left(), inner.top() + h * 0.08, inner.width(), h * 0.55)
        if self.mode == "turn_over":
            self._draw_turn_arrow(p, numeral_box if not big else QRectF(inner.left(), inner.top() + h * 0.06, inner.width(), h * 0.2), colour)
            if big:
                numeral_box = QRectF(inner.left(), inner.top() + h * 0.24, inner.width(), h * 0.42)
        p.setPen(QColor(colour if self.mode == "done" else theme.TEXT))
        f = QFont(self.font())
        f.setPixelSize(max(24, int(side * (0.40 if self.mode != "turn_over" else 0.30))))
        f.setBold(True)
        p.setFont(f)
        if big:
            p.drawText(numeral_box, Qt.AlignmentFlag.AlignCenter, big)
        f.setPixelSize(max(12, int(side * 0.075)))
        f.setBold(False)
        p.setFont(f)
        p.setPen(QColor(theme.MUTED if self.mode != "done" else theme.GREEN))
        p.drawText(QRectF(inner.left(), inner.top() + h * 0.66, inner.width(), h * 0.16), Qt.AlignmentFlag.AlignCenter, small)
        p.end()

    @staticmethod
    def _draw_turn_arrow(p: QPainter, box: QRectF, colour: str) -> None:
        """A circular arrow: the picture for "turn over"."""
        r = min(box.width(), box.height()) * 0.42
        c = box.center()
        pen = QPen(QColor(colour), max(3.0, r * 0.18))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawArc(QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r), 120 * 16, 280 * 16)
        # Arrowhead at the arc's end (400 deg = 40 deg), pointing along the turn.
        a = math.radians(40.0)
        dx, dy = -math.sin(a), -math.cos(a)  # counter-clockwise travel, screen y down
        size = r * 0.6
        end_pt = QPointF(c.x() + r * math.cos(a), c.y() - r * math.sin(a))
        tip = QPointF(end_pt.x() + dx * size * 0.6, end_pt.y() + dy * size * 0.6)
        wings = []
        for turn in (0.55, -0.55):
            bx = -dx * math.cos(turn) + dy * math.sin(turn)
            by = -dx * math.sin(turn) - dy * math.cos(turn)
            wings.append(QPointF(tip.x() + bx * size, tip.y() + by * size))
        left, right = wings
        p.setBrush(QColor(colour))
        p.setPen(Qt.PenStyle.NoPen)
        p.drawPolygon(QPolygonF([tip, left, right]))
