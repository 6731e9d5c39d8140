"""The sound of each cue, as samples: pure numpy, so tests can render and measure them.

A tick each second of the hold, a higher, longer tone at the target ("release"),
a low tone for a press too short to count. Each tone is a sine with 10 ms
raised-cosine edges (no click at start or end).
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .guided import Cue

SAMPLE_RATE_HZ = 44100
EDGE_S = 0.010
FULL_SCALE = 32767
#: Peak level at 100 % volume: -6 dBFS leaves room for a sound server's mixing.
PEAK_AT_FULL_VOLUME = 0.5


@dataclass(frozen=True)
class Tone:
    frequency_hz: float
    duration_s: float


TONES: dict[Cue, Tone] = {
    Cue.HOLD_SECOND: Tone(880.0, 0.08),
    Cue.TARGET: Tone(1320.0, 0.45),
    Cue.REP_NOT_COUNTED: Tone(330.0, 0.25),
}


def volume_gain(volume_pct: int) -> float:
    """Amplitude for a volume setting (0-100). Squared: with a linear slider the upper half
    would all sound nearly as loud; squared, the steps are spread more evenly to the ear."""
    v = min(100, max(0, int(volume_pct))) / 100.0
    return v * v


def render_tone(tone: Tone, volume_pct: int = 100, rate_hz: int = SAMPLE_RATE_HZ) -> np.ndarray:
    """The tone as 16-bit mono samples (int16), at ``volume_pct`` of the full level."""
    n = round(rate_hz * tone.duration_s)
    t = np.arange(n) / rate_hz
    wave_ = np.sin(2.0 * np.pi * tone.frequency_hz * t)
    edge = min(n // 2, max(1, round(rate_hz * EDGE_S)))
    envelope = np.ones(n)
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(edge) / edge)
    envelope[:edge] = ramp
    envelope[n - edge :] = ramp[::-1]
    amplitude = FULL_SCALE * PEAK_AT_FULL_VOLUME * volume_gain(volume_pct)
    return np.round(amplitude * envelope * wave_).astype(np.int16)


def render_cue(cue: Cue, volume_pct: int = 100, rate_hz: int = SAMPLE_RATE_HZ) -> np.ndarray | None:
    """The cue's samples, or None for a cue that has no sound."""
    tone = TONES.get(cue)
    return render_tone(tone, volume_pct, rate_hz) if tone is not None else None


def write_wav(path: Path, samples: np.ndarray, rate_hz: int = SAMPLE_RATE_HZ) -> None:
    """16-bit mono WAV of ``samples``."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate_hz)
        w.writeframes(np.asarray(samples, dtype="<i2").tobytes())


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Mono or first-channel samples of a 16-bit WAV, and its rate."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: {8 * w.getsampwidth()}-bit samples, expected 16-bit")
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        return data[:: w.getnchannels()].copy(), w.getframerate()


def peak_frequency_hz(samples: np.ndarray, rate_hz: int) -> float:
    """The strongest frequency (FFT peak, refined by parabolic interpolation of the log magnitude)."""
    x = samples.astype(np.float64) * np.hanning(samples.size)
    spectrum = np.abs(np.fft.rfft(x, n=max(samples.size, 1 << 16)))
    k = int(np.argmax(spectrum[1:])) + 1
    if 1 <= k < spectrum.size - 1:
        a, b, c = np.log(spectrum[k - 1 : k + 2] + 1e-12)
        k_frac = k + 0.5 * (a - c) / (a - 2 * b + c)
    else:
        k_frac = float(k)
    return float(k_frac * rate_hz / max(samples.size, 1 << 16))


def sounding_duration_s(samples: np.ndarray, rate_hz: int, threshold: float = 0.05) -> float:
    """Time from the first to the last sample above ``threshold`` of the peak (the audible length)."""
    level = np.abs(samples.astype(np.float64))
    if level.size == 0 or level.max() == 0:
        return 0.0
    loud = np.flatnonzero(level >= threshold * level.max())
    return float((loud[-1] - loud[0] + 1) / rate_hz)
