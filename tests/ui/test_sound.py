"""The cues' sounds: pitch and length measured on rendered WAVs, and the player through a real
ALSA device (the `file` plugin over `null`, set up by an asoundrc in a temporary HOME: this
machine has no sound card, so what a speaker makes of it is not checked here)."""

from __future__ import annotations

import ctypes.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from sensorapp.session.cue_tones import (
    SAMPLE_RATE_HZ,
    TONES,
    peak_frequency_hz,
    read_wav,
    render_cue,
    sounding_duration_s,
    volume_gain,
    write_wav,
)
from sensorapp.session.guided import Cue

HAVE_ALSA = ctypes.util.find_library("asound") is not None


@pytest.mark.parametrize("cue", list(TONES))
def test_each_cue_rendered_to_wav_has_its_pitch_and_length(tmp_path: Path, cue: Cue) -> None:
    path = tmp_path / f"{cue.value}.wav"
    samples = render_cue(cue, 100)
    assert samples is not None
    write_wav(path, samples)
    back, rate = read_wav(path)
    assert rate == SAMPLE_RATE_HZ
    tone = TONES[cue]
    assert peak_frequency_hz(back, rate) == pytest.approx(tone.frequency_hz, abs=1.0)
    assert back.size / rate == pytest.approx(tone.duration_s, abs=1e-3)
    # Audible length (above 5 % of the peak): the 10 ms edges shave off under 4 ms each end.
    assert sounding_duration_s(back, rate) == pytest.approx(tone.duration_s, abs=0.008)
    assert abs(int(back[0])) < 200 and abs(int(back[-1])) < 200  # ramped edges: no click


def test_the_three_cues_are_told_apart_by_pitch_and_length() -> None:
    tick, target, short = (TONES[c] for c in (Cue.HOLD_SECOND, Cue.TARGET, Cue.REP_NOT_COUNTED))
    assert target.frequency_hz / tick.frequency_hz == pytest.approx(1.5)  # a fifth above the tick
    assert short.frequency_hz < tick.frequency_hz / 2
    assert tick.duration_s < 0.1 < short.duration_s < target.duration_s
    assert render_cue(Cue.SESSION_DONE) is None


def test_volume_scales_the_level_and_zero_is_silent() -> None:
    full = render_cue(Cue.TARGET, 100)
    half = render_cue(Cue.TARGET, 50)
    none = render_cue(Cue.TARGET, 0)
    assert full is not None and half is not None and none is not None
    assert int(np.abs(full).max()) == pytest.approx(16384, abs=2)  # -6 dBFS at full volume
    assert np.abs(half).max() / np.abs(full).max() == pytest.approx(volume_gain(50), rel=1e-3) == pytest.approx(0.25)
    assert not none.any()


PLAYER_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from sensorapp.session.cue_tones import SAMPLE_RATE_HZ, render_cue
    from sensorapp.session.guided import Cue
    from sensorapp.ui.audio_out import CueOutput
    out = CueOutput(SAMPLE_RATE_HZ)
    for name in sys.argv[1:]:
        out.submit(render_cue(Cue(name), 100))
    idle = out.wait_idle(30)
    if out.failure:
        out.submit(render_cue(Cue.HOLD_SECOND, 100))  # after a failure: ignored, no error
    out.close()
    print(json.dumps({"idle": idle, "played": out.played, "failure": out.failure}))
    """
)


def run_player(home: Path, device: str | None, cues: list[str]) -> tuple[dict[str, object], str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ALSA_CONFIG_PATH", "PULSE_SERVER")}
    env["HOME"] = str(home)
    env.pop("SENSORAPP_ALSA_DEVICE", None)
    if device is not None:
        env["SENSORAPP_ALSA_DEVICE"] = device
    done = subprocess.run([sys.executable, "-c", PLAYER_SCRIPT, *cues], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


@pytest.mark.skipif(not HAVE_ALSA, reason="libasound.so.2 (ALSA) is not installed on this machine")
@pytest.mark.parametrize("cue", [Cue.HOLD_SECOND, Cue.TARGET])
def test_the_player_writes_the_cue_through_a_real_alsa_device(tmp_path: Path, cue: Cue) -> None:
    wav = tmp_path / "played.wav"
    (tmp_path / ".asoundrc").write_text(f'pcm.sensorapp_test {{ type file slave.pcm "null" file "{wav}" format "wav" }}\n')
    result, stderr = run_player(tmp_path, "sensorapp_test", [cue.value])
    assert result == {"idle": True, "played": 1, "failure": None}, stderr
    samples, rate = read_wav(wav)
    assert rate == SAMPLE_RATE_HZ
    assert peak_frequency_hz(samples, rate) == pytest.approx(TONES[cue].frequency_hz, abs=1.0)
    assert sounding_duration_s(samples, rate) == pytest.approx(TONES[cue].duration_s, abs=0.008)


@pytest.mark.skipif(not HAVE_ALSA, reason="libasound.so.2 (ALSA) is not installed on this machine")
def test_no_sound_device_means_silence_one_reason_and_no_alsa_noise(tmp_path: Path) -> None:
    result, stderr = run_player(tmp_path, "sensorapp_no_such_device", [Cue.HOLD_SECOND.value, Cue.TARGET.value])
    assert result["played"] == 0 and result["idle"] is True
    assert "ALSA could not open 'sensorapp_no_such_device'" in str(result["failure"])
    assert "ALSA lib" not in stderr  # ALSA's own error lines are silenced


def test_a_cue_after_close_does_not_reopen_the_device(qapp: object, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """At exit the session screen may still ask for a cue after the window closed the player: opening
    the device again then truncated the smoke test's WAV (ALSA's file plugin) and left it unfinished."""
    from sensorapp.ui.sound import CuePlayer

    monkeypatch.setenv("SENSORAPP_SOUND", "1")  # play although offscreen
    monkeypatch.setenv("SENSORAPP_ALSA_DEVICE", f"file:FILE={tmp_path / 'cues.wav'},FORMAT=wav")
    player = CuePlayer(sound_on=True, volume_pct=100)
    player.play(Cue.HOLD_SECOND)
    output = player.output
    assert output is not None and output.wait_idle(30)
    player.close()
    player.play(Cue.TARGET)
    assert player.output is None and player.played == [Cue.HOLD_SECOND, Cue.TARGET]
    if HAVE_ALSA and output.failure is None:
        samples, rate = read_wav(tmp_path / "cues.wav")  # closed properly: the header has the length
        assert sounding_duration_s(samples, rate) == pytest.approx(TONES[Cue.HOLD_SECOND].duration_s, abs=0.008)
