"""When there is no display: run the same window offscreen and narrate the
guided session in the terminal, so a headless machine still shows what the
app does (and a screenshot at the end shows how it looks)."""

from __future__ import annotations

import os
import sys
from typing import TextIO

from PySide6.QtCore import QObject, QTimer

from sensorapp.session.guided import INSTRUCTIONS, GuidedSession, Phase
from sensorapp.ui.summary_screen import symmetry_text

from .controller import AppController


def display_available() -> bool:
    """Whether Qt can open a window here (Linux needs X11 or Wayland)."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


FEEDBACK_BEFORE = (Phase.REST, Phase.TURN_OVER, Phase.DONE, Phase.READY)


class ConsoleNarrator(QObject):
    def __init__(self, controller: AppController, out: TextIO = sys.stdout) -> None:
        super().__init__()
        self.controller = controller
        self.out = out
        self._last: tuple[object, ...] = (False, False)
        self._feedback = ""
        self._session: GuidedSession | None = None
        self._logged = 0  # entries of the session's phase_log already told
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
        if session is not self._session:
            self._session, self._logged, self._feedback = session, 0, ""
        # Every phase from the session's own log, in order: polling view() at 10 Hz
        # would skip short phases (and reorder cues) when device time runs fast.
        changes = session.phase_log[self._logged :]
        self._logged += len(changes)
        p = session.protocol
        feedback = session.feedback
        for change in changes:
            if change.phase in FEEDBACK_BEFORE and feedback and feedback != self._feedback:
                # A rep's verdict (or a press too short) is set just before these phases begin.
                self._feedback = feedback
                self.say(f"           {feedback}")
            where = f"{change.t_s:7.1f} s  "
            done = len(session.reps[change.side])
            counter = f"Rep {min(done + 1, p.reps_per_side)} of {p.reps_per_side}, {change.side} side"
            text = INSTRUCTIONS[change.phase].format(side=change.side)
            if change.phase in (Phase.READY, Phase.PRESSING):
                self.say(f"{where}{counter}: {text}")
            elif change.phase in (Phase.POSITION, Phase.TURN_OVER, Phase.RELEASE, Phase.DONE, Phase.ABORTED):
                self.say(f"{where}{text}")
            elif change.phase == Phase.REST:
                self.say(f"{where}rest {p.rest_s:.0f} s")
        v = session.view()
        key = (v.reconnecting, v.paused)
        if key != self._last:
            self._last = key
            if v.reconnecting:
                self.say(f"{v.t_s:7.1f} s  lost the belt, reconnecting...")
            elif v.paused:
                self.say(f"{v.t_s:7.1f} s  paused")
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
