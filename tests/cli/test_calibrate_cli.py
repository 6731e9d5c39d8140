"""`sensorapp calibrate --simulate`: the virtual bench hangs each mass, the fit is saved and written to the belt."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from calibration import CalibrationStore
from sensorapp.cli import EXIT_OK, EXIT_USAGE, main
from sensorapp.devices.belt import BeltSource
from sensorapp.devices.sim_backend import SimulatedBleakClient, SimulatedBleakScanner
from sensorapp.devices.simulated import current_simulation


def test_calibrate_simulate_json_saves_the_fit_and_the_belt_reads_it_back(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["calibrate", "--simulate", "--speed", "20", "--mass", "2", "--mass", "5", "--mass", "10", "--yes", "--json",
               "--data-dir", str(tmp_path)])
    out, err = capsys.readouterr()
    assert rc == EXIT_OK, err
    result = json.loads(out)
    assert [p["mass_kg"] for p in result["points"]] == [0.0, 2.0, 5.0, 10.0]
    assert all(p["spread_n"] <= 0.5 and p["n_samples"] == 200 for p in result["points"])
    assert max(abs(p["residual_n"]) for p in result["points"]) == pytest.approx(result["linearity_error_n"])
    assert result["newtons_per_count"] == pytest.approx(0.000596, rel=0.001)  # the simulated belt's true gain
    assert "captured 10 kg" in err and "waiting until it hangs still" in err

    saved = Path(result["saved_to"])
    assert saved == tmp_path / "calibrations.json"
    stored = CalibrationStore(saved).get(result["serial"], model_id=1)
    assert stored is not None and stored.source == "fit"
    assert stored.newtons_per_count == result["newtons_per_count"] and stored.linearity_error_n == result["linearity_error_n"]

    # A fresh connection to the same virtual belt asks it with GET_CALIBRATION.
    sim = current_simulation()
    assert sim is not None

    async def read_back() -> object:
        src = BeltSource(sim.descriptor.address, name="check", client_backend=SimulatedBleakClient, scanner_backend=SimulatedBleakScanner)
        await src.connect()
        try:
            return await src.read_belt_calibration()
        finally:
            await src.disconnect()

    held = asyncio.run(read_back())
    want = result["belt_readback"]
    assert held is not None
    assert (held.zero_counts, held.newtons_per_count, held.linearity_error_n) == (  # type: ignore[attr-defined]
        want["zero_counts"], want["newtons_per_count"], want["linearity_error_n"])
    assert held.zero_counts == round(result["zero_counts"])  # type: ignore[attr-defined]
    assert held.calibrated_at_unix > 1_767_225_600  # dated now, after the factory date  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("masses", "message"),
    [
        (["2"], "at least 2 different known masses"),
        (["2", "2"], "given twice"),
        (["2", "nan"], "not a finite number"),
        (["2", "-3"], "more than 0 kg"),
        (["2", "500"], "capacity"),
    ],
)
def test_bad_masses_exit_2_with_one_line_and_nothing_saved(tmp_path: Path, capsys: pytest.CaptureFixture[str], masses: list[str], message: str) -> None:
    args = ["calibrate", "--simulate", "--yes", "--data-dir", str(tmp_path)]
    for m in masses:
        args += ["--mass", m]
    rc = main(args)
    err = capsys.readouterr().err
    assert rc == EXIT_USAGE
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "calibrations.json").exists()


def test_calibrate_prints_the_fit_and_where_it_saved_it(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "sensorapp", "calibrate", "--simulate", "--speed", "20", "--mass", "2", "--mass", "5",
         "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,  # not a terminal: no prompts
    )
    assert proc.returncode == 0, proc.stderr
    assert "N/count, zero " in proc.stdout and "linearity error " in proc.stdout
    assert "residual N" in proc.stdout and proc.stdout.count("\n") >= 5  # a row per point: 0, 2 and 5 kg
    assert f"saved for belt GMB-0001E240 in {tmp_path / 'calibrations.json'}" in proc.stdout
    assert "written to the belt" in proc.stdout


def test_calibrate_on_a_terminal_prompts_for_each_step_and_asks_before_saving(tmp_path: Path) -> None:
    import os
    import pty
    import threading

    master, slave = pty.openpty()  # stdin is a terminal: the interactive path
    proc = subprocess.Popen(
        [sys.executable, "-m", "sensorapp", "calibrate", "--simulate", "--speed", "20", "--mass", "2", "--mass", "5",
         "--data-dir", str(tmp_path)],
        stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    os.close(slave)
    watchdog = threading.Timer(120, proc.kill)  # only a hang fails, not a slow machine
    watchdog.start()
    prompts: list[str] = []
    refusals = 0
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "press Enter" in line or "[Y/n]" in line:
                prompts.append(line.strip())
                os.write(master, b"y\n" if "[Y/n]" in line else b"\n")
            elif "the load is still moving" in line or "since the last point, not about" in line:
                refusals += 1  # Enter pressed before the bench's mass hung still: said why, asked again
        out = proc.stdout.read() if proc.stdout else ""
        rc = proc.wait()
    finally:
        watchdog.cancel()
        os.close(master)
    assert rc == 0, prompts
    distinct = list(dict.fromkeys(prompts))
    assert distinct == [
        "let the belt hang unloaded and still and press Enter",
        "hang 2 kg and press Enter",
        "hang 5 kg and press Enter",
        "save this calibration and write it to the belt? [Y/n]",
    ]
    assert len(prompts) == len(distinct) + refusals  # every refusal asked again, nothing else did
    assert "saved for belt GMB-0001E240" in out and (tmp_path / "calibrations.json").exists()


def test_an_unreadable_calibration_file_is_left_alone_and_the_belt_is_not_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    damaged = tmp_path / "calibrations.json"
    damaged.write_text('{"format": "sensorapp-calibrations", "version": 1, "records": {')  # truncated
    before = damaged.read_bytes()
    rc = main(["calibrate", "--simulate", "--speed", "20", "--mass", "2", "--mass", "5", "--yes", "--data-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 1
    assert f"calibration file {damaged}: is not valid JSON" in err.splitlines()[-1]
    assert damaged.read_bytes() == before
    sim = current_simulation()
    assert sim is not None
    factory = sim.belt.persisted_calibration  # type: ignore[attr-defined]
    assert factory is not None and factory.calibrated_at_unix == 1_767_225_600  # still the factory's


def test_ctrl_c_at_a_prompt_ends_at_once_with_130(tmp_path: Path) -> None:
    import os
    import pty
    import signal

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sensorapp", "calibrate", "--simulate", "--mass", "2", "--mass", "5", "--data-dir", str(tmp_path)],
        stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    os.close(slave)
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "press Enter" in line:
                proc.send_signal(signal.SIGINT)  # nobody presses Enter
                break
        _, err = proc.communicate(timeout=60)  # a hang (waiting on the prompt's reader) fails here
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert proc.returncode == 130, err
    assert "sensorapp: interrupted" in err and not (tmp_path / "calibrations.json").exists()
