"""Sound cues: a short tick each second of the hold, a distinct tone at the
target. Played with QtMultimedia when it is installed (PySide6-Addons); else
the platform beep; silent where neither works (e.g. offscreen)."""

from __future__ import annotations

import math
import struct
import tempfile
import wave
from pathlib import Path

from PySide6.QtCore import QObject, QUrl
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from sensorapp.session.guided import Cue

TONES = {Cue.HOLD_SECOND: (880.0, 0.08), Cue.TARGET: (1320.0, 0.45), Cue.REP_NOT_COUNTED: (330.0, 0.25)}


def write_tone(path: Path, freq_hz: float, duration_s: float, rate: int = 22050) -> None:
    n = int(rate * duration_s)
    fade = max(1, int(rate * 0.01))
    frames = bytearray()
    for i in range(n):
        env = min(1.0, i / fade, (n - i) / fade)
        frames += struct.pack("<h", int(12000 * env * math.sin(2 * math.pi * freq_hz * i / rate)))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))


class CuePlayer(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.enabled = QGuiApplication.platformName() not in ("offscreen", "minimal")
        self.played: list[Cue] = []  # what was asked for, for tests
        self._effects: dict[Cue, object] = {}
        if not self.enabled:
            return
        try:
            from PySide6.QtMultimedia import QSoundEffect  # PySide6-Addons only
        except ImportError:
            return
        folder = Path(tempfile.mkdtemp(prefix="sensorapp-cues-"))
        for cue, (freq, dur) in TONES.items():
            path = folder / f"{cue.value}.wav"
            write_tone(path, freq, dur)
            effect = QSoundEffect(self)
            effect.setSource(QUrl.fromLocalFile(str(path)))
            self._effects[cue] = effect

    def play(self, cue: Cue) -> None:
        if cue not in TONES:
            return
        self.played.append(cue)
        if not self.enabled:
            return
        effect = self._effects.get(cue)
        if effect is not None:
            effect.play()  # type: ignore[attr-defined]
        else:
            QApplication.beep()
