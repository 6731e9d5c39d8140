"""`sensorapp record --simulate --lsl` in a subprocess, received by an inlet in this process."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from sensorapp.storage.samples_csv import read_samples_csv

pylsl = pytest.importorskip("pylsl", reason="pylsl is a runtime dependency (requirements/app.lock)")

SIMULATED_SERIAL = "GMB-0001E240"  # the simulated belt's serial, so the stream's source_id


def pull_until_lost(inlet: object, values: list, stamps: list) -> None:
    try:
        while True:
            chunk, ts = inlet.pull_chunk(timeout=0.2, max_samples=100_000)  # type: ignore[attr-defined]
            values += chunk
            stamps += ts
    except pylsl.util.LostError:  # the outlet closed: record has finished
        pass


@pytest.mark.slow
def test_record_lsl_is_received_by_an_inlet_and_matches_the_csv(tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    cmd = [sys.executable, "-m", "sensorapp", "record", "--simulate", "--lsl", "--lsl-wait", "120", "--duration", "20",
           "--speed", "4", "--side", "left", "--out", str(out), "--no-store", "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        found = pylsl.resolve_bypred(f"type='Force' and source_id='{SIMULATED_SERIAL}'", 1, 60.0)
        assert found, "record --lsl published no Force stream"
        markers_found = pylsl.resolve_byprop("source_id", SIMULATED_SERIAL + "-markers", 1, 60.0)
        assert markers_found and markers_found[0].type() == "Markers"
        inlet = pylsl.StreamInlet(found[0], max_buflen=600, recover=False)
        marker_inlet = pylsl.StreamInlet(markers_found[0], max_buflen=600, recover=False)
        marker_inlet.open_stream(60.0)
        inlet.open_stream(60.0)  # record waits (--lsl-wait) for this before it streams
        markers: list = []
        marker_stamps: list = []
        puller = threading.Thread(target=pull_until_lost, args=(marker_inlet, markers, marker_stamps), daemon=True)
        puller.start()
        values: list = []
        stamps: list = []
        pull_until_lost(inlet, values, stamps)
        puller.join(30)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    info = found[0]
    assert info.name() == "sensorapp GMBelt-E240 (simulated)" and info.nominal_srate() == 100.0

    csv = read_samples_csv(out)
    assert len(values) == len(csv.t_s) > 1900  # every row of the CSV, through LSL
    np.testing.assert_allclose(np.asarray(values)[:, 0], csv.force_n, atol=2e-3)
    # device-clock timestamps: spacing follows the belt's clock (at --speed 4 arrival times are 4x
    # compressed), up to the drift correction's slew limit (500 ppm of 20 s)
    stamps_rel = np.asarray(stamps) - stamps[0]
    np.testing.assert_allclose(stamps_rel, csv.t_s - csv.t_s[0], atol=0.011)
    texts = [m[0] for m in markers]
    assert texts[0] == "side change: left" and "rep onset" in texts
    assert "LSL: " in err and f"{len(values)} samples" in err
