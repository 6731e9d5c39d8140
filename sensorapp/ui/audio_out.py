"""Play cue samples without PySide6-Addons: on Linux through ALSA's libasound.so.2 (ctypes),
a system library on every desktop Linux that PulseAudio and PipeWire also serve through their
ALSA plugins, so nothing is bundled. Windows: the standard library's winsound; macOS: the
system's afplay. (Windows and macOS are prepared, not tested here.)

Playback runs on one worker thread, so the Qt/asyncio loop never waits for a sound device.
A missing library or device makes the player silent after one log line; it never raises.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import io
import logging
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

SND_PCM_STREAM_PLAYBACK = 0
SND_PCM_NONBLOCK = 1
SND_PCM_FORMAT_S16_LE = 2
SND_PCM_ACCESS_RW_INTERLEAVED = 3
LATENCY_US = 50_000  # a tick must sound on time; 50 ms is well below what the ear notices next to the dial
MAX_PENDING = 3  # cues waiting when the device is slow: older ones are dropped, a late tick is worse than none
EAGAIN = 11
ALSA_DEVICE_ENV = "SENSORAPP_ALSA_DEVICE"  # e.g. "null" or a named pcm; default: ALSA's "default"


class AlsaPcm:
    """One ALSA playback handle (16-bit mono), opened through ctypes.

    Non-blocking throughout, with every wait bounded: a device (or plugin) that stops consuming
    costs this one cue, never a worker stuck for good (a blocking snd_pcm_drain would wait as
    long as the device wants)."""

    def __init__(self, device: str, rate_hz: int, lib: ctypes.CDLL | None = None) -> None:
        self.lib = lib if lib is not None else load_libasound()
        self.rate_hz = rate_hz
        self.lib.snd_strerror.restype = ctypes.c_char_p
        self.lib.snd_pcm_writei.restype = ctypes.c_long
        self.lib.snd_pcm_writei.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_ulong]
        self.handle = ctypes.c_void_p()
        # Non-blocking: a device held by another program fails at once instead of hanging.
        self._check(self.lib.snd_pcm_open(ctypes.byref(self.handle), device.encode(), SND_PCM_STREAM_PLAYBACK, SND_PCM_NONBLOCK), f"open {device!r}")
        try:
            self._check(
                self.lib.snd_pcm_set_params(self.handle, SND_PCM_FORMAT_S16_LE, SND_PCM_ACCESS_RW_INTERLEAVED, 1, rate_hz, 1, LATENCY_US),
                "set 16-bit mono",
            )
        except OSError:
            self.close()
            raise

    def _check(self, code: int, what: str) -> int:
        if code < 0:
            raise OSError(f"ALSA could not {what}: {self.lib.snd_strerror(code).decode(errors='replace')}")
        return code

    def play(self, samples: np.ndarray) -> None:
        """Write all samples, then wait (bounded) until the device has played them."""
        data = np.ascontiguousarray(samples, dtype="<i2")
        duration_s = data.size / self.rate_hz
        deadline = time.monotonic() + duration_s + 1.0
        done = 0
        while done < data.size:
            if time.monotonic() > deadline:
                raise OSError("ALSA device stopped taking samples")
            n = self.lib.snd_pcm_writei(self.handle, data[done:].ctypes.data, data.size - done)
            if n == -EAGAIN:  # the buffer is full: wait for room
                self.lib.snd_pcm_wait(self.handle, 20)
            elif n < 0:  # an underrun (the last cue ran out, -EPIPE) or a suspend: recover and go on
                self._check(self.lib.snd_pcm_recover(self.handle, int(n), 1), "recover after an underrun")
            else:
                done += n
        # Let the buffered rest (at most LATENCY_US) play out, then reset for the next cue.
        delay = ctypes.c_long(0)
        if self.lib.snd_pcm_delay(self.handle, ctypes.byref(delay)) == 0 and delay.value > 0:
            time.sleep(min(delay.value / self.rate_hz, max(0.0, deadline - time.monotonic())))
        self.lib.snd_pcm_drop(self.handle)
        self._check(self.lib.snd_pcm_prepare(self.handle), "prepare for the next cue")

    def close(self) -> None:
        if self.handle:
            self.lib.snd_pcm_close(self.handle)
            self.handle = ctypes.c_void_p()


# ALSA prints its own errors to stderr (a machine without a sound card gets eight lines per
# attempt); the player reports one line itself, so ALSA's are dropped by a no-op handler.
_ALSA_ERROR_HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p)
_quiet_handler = _ALSA_ERROR_HANDLER(lambda *_args: None)  # kept referenced: ALSA holds the pointer
_libasound: ctypes.CDLL | None = None


def load_libasound() -> ctypes.CDLL:
    """The system's libasound (never bundled: it must match the system's sound server plugins)."""
    global _libasound
    if _libasound is not None:
        return _libasound
    try:
        lib = ctypes.CDLL("libasound.so.2")
    except OSError:
        found = ctypes.util.find_library("asound")
        if found is None:
            raise OSError("libasound.so.2 (ALSA) is not installed") from None
        lib = ctypes.CDLL(found)
    lib.snd_lib_error_set_handler(_quiet_handler)
    _libasound = lib
    return lib


def wav_bytes(samples: np.ndarray, rate_hz: int) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate_hz)
        w.writeframes(np.asarray(samples, dtype="<i2").tobytes())
    return buf.getvalue()


class CueOutput:
    """A worker thread that plays sample buffers one after the other on the system's sound output."""

    def __init__(self, rate_hz: int, device: str | None = None) -> None:
        self.rate_hz = rate_hz
        self.device = device or os.environ.get(ALSA_DEVICE_ENV, "") or "default"
        self.failure: str | None = None  # why it is silent, once it is
        self.played = 0  # buffers handed to the device
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue()
        self._idle = threading.Event()
        self._idle.set()
        self._thread = threading.Thread(target=self._run, name="sensorapp-sound", daemon=True)
        self._thread.start()

    def submit(self, samples: np.ndarray) -> None:
        """Queue a sound; returns at once."""
        if self.failure is not None:
            return
        while self._queue.qsize() >= MAX_PENDING:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._idle.clear()
        self._queue.put(samples)

    def wait_idle(self, timeout_s: float) -> bool:
        """Until everything queued has been played (tests, shutdown)."""
        return self._idle.wait(timeout_s)

    def close(self, timeout_s: float = 2.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout_s)

    def _run(self) -> None:
        pcm: AlsaPcm | None = None
        try:
            while True:
                samples = self._queue.get()
                if samples is None:
                    return
                try:
                    if sys.platform.startswith("linux"):
                        if pcm is None:
                            pcm = AlsaPcm(self.device, self.rate_hz)
                        pcm.play(samples)
                    elif sys.platform == "win32":
                        import winsound

                        winsound.PlaySound(wav_bytes(samples, self.rate_hz), winsound.SND_MEMORY)
                    elif sys.platform == "darwin":
                        self._afplay(samples)
                    else:
                        raise OSError(f"no sound output for {sys.platform}")
                    self.played += 1
                except OSError as exc:
                    self.failure = str(exc)
                    log.info("sound off: %s", exc)  # once: submit() ignores cues from now on
                    self._drain()
                finally:
                    if self._queue.empty():
                        self._idle.set()
        finally:
            if pcm is not None:
                pcm.close()
            self._idle.set()

    def _drain(self) -> None:
        while True:
            try:
                if self._queue.get_nowait() is None:
                    self._queue.put(None)
                    return
            except queue.Empty:
                return

    def _afplay(self, samples: np.ndarray) -> None:
        with tempfile.NamedTemporaryFile(suffix=".wav", delete=False) as f:
            f.write(wav_bytes(samples, self.rate_hz))
        try:
            subprocess.run(["afplay", f.name], check=True, timeout=10, capture_output=True)
        except (subprocess.SubprocessError, FileNotFoundError) as exc:
            raise OSError(f"afplay failed: {exc}") from None
        finally:
            Path(f.name).unlink(missing_ok=True)
