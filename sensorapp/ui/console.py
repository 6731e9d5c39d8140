"""When there is no display: run the same window offscreen and narrate the
guided session in the terminal, so a headless machine still shows what the
app does (and a screenshot at the end shows how it looks)."""

from __future__ import annotations

import os
import sys
from typing import TextIO

from PySide6.QtCore import QObject, QTimer

from sensorapp.session.guided import Phase
from sensorapp.ui.summary_screen import symmetry_text

from .controller import AppController


def display_available() -> bool:
    """Whether Qt can open a window here (Linux needs X11 or Wayland)."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


class ConsoleNarrator(QObject):
    def __init__(self, controller: AppController, out: TextIO = sys.stdout) -> None:
        super().__init__()
        self.controller = controller
        self.out = out
        self._last: tuple[object, ...] = ()
        self._feedback = ""
        self.timer = QTimer(self)
        self.timer.setInterval(100)
        self.timer.timeout.connect(self.poll)
        self.timer.start()
        controller.message.connect(lambda text: self.say(f"  [{text}]"))
        controller.error.connect(lambda text: self.say(f"  [error: {text}]"))

    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def poll(self) -> None:
        session = self.controller.session
        if session is None:
            return
        v = session.view()
        key = (v.phase, v.side, v.rep_number, v.reconnecting, v.paused)
        if key != self._last:
            self._last = key
            where = f"{v.t_s:7.1f} s  "
            if v.phase in (Phase.READY, Phase.PRESSING):
                self.say(f"{where}{v.counter_text}: {v.instruction}")
            elif v.phase in (Phase.POSITION, Phase.TURN_OVER, Phase.RELEASE, Phase.DONE, Phase.ABORTED):
                self.say(f"{where}{v.instruction}")
            elif v.phase == Phase.REST:
                self.say(f"{where}rest {v.rest_remaining_s:.0f} s")
            if v.reconnecting:
                self.say(f"{where}lost the belt, reconnecting...")
        if v.feedback and v.feedback != self._feedback:
            self._feedback = v.feedback
            self.say(f"           {v.feedback}")

    def summary(self) -> None:
        session = self.controller.session
        if session is None:
            return
        summary = session.summary()
        self.say("\nSummary")
        for rep in summary.reps:
            mark = "met" if rep.target_met else "short"
            self.say(f"  {rep.side:<5} rep {rep.index}: hold {rep.hold_s:4.1f} s  plateau {rep.plateau_n:5.1f} N  {mark}")
        headline, detail, _ = symmetry_text(summary)
        self.say(f"  {headline}\n  {detail}")
