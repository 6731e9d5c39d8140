"""Sound cues: a short tick each second of the hold, a distinct tone at the target,
a low tone for a press too short to count (tones in sensorapp/session/cue_tones.py).

Played by ``audio_out.CueOutput`` on a worker thread (ALSA on Linux, nothing bundled);
volume and on/off from the settings. Silent offscreen (tests, the headless demo),
and silent after one log line where there is no sound device."""

from __future__ import annotations

import os

from PySide6.QtCore import QObject
from PySide6.QtGui import QGuiApplication

from sensorapp.session.cue_tones import SAMPLE_RATE_HZ, TONES, render_cue
from sensorapp.session.guided import Cue

from .audio_out import CueOutput


class CuePlayer(QObject):
    def __init__(self, parent: QObject | None = None, *, sound_on: bool = True, volume_pct: int = 70) -> None:
        super().__init__(parent)
        # Offscreen (tests, the headless demo) is silent unless SENSORAPP_SOUND=1 (the frozen app's smoke test).
        self.enabled = QGuiApplication.platformName() not in ("offscreen", "minimal") or os.environ.get("SENSORAPP_SOUND") == "1"
        self.sound_on = sound_on
        self.volume_pct = volume_pct
        self.played: list[Cue] = []  # what was asked for, for tests
        self._output: CueOutput | None = None
        self._closed = False  # the window is closing: no new output (it would reopen the device)

    def set_preferences(self, sound_on: bool, volume_pct: int) -> None:
        self.sound_on, self.volume_pct = sound_on, volume_pct

    @property
    def output(self) -> CueOutput | None:
        return self._output

    def play(self, cue: Cue, *, force: bool = False) -> None:
        """Queue the cue's sound; returns at once. ``force`` plays it even with sound off (the settings' test button)."""
        if cue not in TONES:
            return
        self.played.append(cue)
        if not self.enabled or not (self.sound_on or force) or self._closed:
            return
        samples = render_cue(cue, self.volume_pct)
        if samples is None:
            return
        if self._output is None:
            self._output = CueOutput(SAMPLE_RATE_HZ)
        self._output.submit(samples)

    def close(self) -> None:
        """Stop playing for good (the window closes); cues asked for later are counted, not played."""
        self._closed = True
        if self._output is not None:
            self._output.close()
            self._output = None
