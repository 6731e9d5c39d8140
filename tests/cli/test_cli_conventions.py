"""What every command shares: the global --data-dir, exit codes as documented, no overwrite without
--force, a closed pipe ends quietly, and the window's missing system libraries are named before Qt aborts."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sensorapp import cli
from sensorapp.cli import gui_options, scan
from sensorapp.storage.store import SessionStore

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "storage"))
from storage_helpers import record_session  # noqa: E402


@pytest.fixture
def one_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, int]:
    monkeypatch.setenv("SENSORAPP_DATA_DIR", str(tmp_path / "elsewhere"))
    data_dir = tmp_path / "store"
    with SessionStore.open(data_dir) as store:
        sid = record_session(store, reps_per_side=1).id
    return data_dir, sid


def _sessions_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> list[dict[str, object]]:
    assert cli.main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_data_dir_works_before_and_after_the_command(one_session: tuple[Path, int], capsys: pytest.CaptureFixture[str]) -> None:
    data_dir, sid = one_session
    before = _sessions_json(capsys, ["--data-dir", str(data_dir), "sessions", "--json"])
    after = _sessions_json(capsys, ["sessions", "--json", "--data-dir", str(data_dir)])
    assert [s["id"] for s in before] == [s["id"] for s in after] == [sid]
    # Without it, SENSORAPP_DATA_DIR (an empty store elsewhere) is used: the option really moved the store.
    assert _sessions_json(capsys, ["sessions", "--json"]) == []


def test_export_refuses_to_overwrite_without_force(one_session: tuple[Path, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir, sid = one_session
    out = tmp_path / "x.json"
    out.write_text("keep me")
    assert cli.main(["--data-dir", str(data_dir), "export", str(sid), "--format", "json", "--out", str(out)]) == cli.EXIT_FAILURE
    err = capsys.readouterr().err
    assert "already exists" in err and "--force" in err and err.count("\n") == 1
    assert out.read_text() == "keep me"
    # csv writes two files: an existing reps file alone is enough to refuse.
    csv = tmp_path / "y.csv"
    (tmp_path / "y.reps.csv").write_text("keep me too")
    assert cli.main(["--data-dir", str(data_dir), "export", str(sid), "--format", "csv", "--out", str(csv)]) == cli.EXIT_FAILURE
    assert not csv.exists() and (tmp_path / "y.reps.csv").read_text() == "keep me too"
    capsys.readouterr()
    assert cli.main(["--data-dir", str(data_dir), "export", str(sid), "--format", "json", "--out", str(out), "--force"]) == 0
    assert out.read_text() != "keep me" and json.loads(out.read_text())


def test_a_closed_pipe_ends_quietly_with_its_exit_code(one_session: tuple[Path, int]) -> None:
    data_dir, _ = one_session
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte: every write fails with EPIPE
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "sensorapp", "--data-dir", str(data_dir), "sessions", "--json"],
            stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120,
        )
    finally:
        os.close(write_end)
    assert proc.returncode == cli.EXIT_BROKEN_PIPE
    assert proc.stderr == ""


def test_bad_arguments_exit_2_and_a_missing_file_exits_1(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "sensorapp", *args], capture_output=True, text=True, timeout=120)

    usage = run("analyze", str(tmp_path / "x.csv"), "--target-hold", "-3")
    assert usage.returncode == cli.EXIT_USAGE
    missing = run("--data-dir", str(tmp_path), "export", "999", "--format", "json", "--out", str(tmp_path / "o.json"))
    assert missing.returncode == cli.EXIT_FAILURE
    assert missing.stderr.count("\n") == 1 and missing.stderr.startswith("sensorapp: error: ")
    # argparse prints its usage first; the error itself is one line, the last.
    assert "Traceback" not in usage.stderr and usage.stderr.strip().splitlines()[-1].startswith("sensorapp analyze: error: ")


def test_the_readme_lists_every_exit_code() -> None:
    text = (ROOT / "README.md").read_text()
    section = text.split("### Exit codes", 1)[1].split("\n## ", 1)[0]
    documented = {int(code) for code in re.findall(r"^\| (\d+) \|", section, flags=re.MULTILINE)}
    assert documented == set(cli.EXIT_CODES)


def test_a_simulated_scan_needs_no_bluetooth_timeout() -> None:
    args = argparse.Namespace(timeout=None, simulate=True, belts_only=False)
    assert scan.scan_timeout_s(args) < 1.0
    assert scan.scan_timeout_s(argparse.Namespace(timeout=None, simulate=False)) == scan.BLUETOOTH_SCAN_S
    assert scan.scan_timeout_s(argparse.Namespace(timeout=2.5, simulate=True)) == 2.5
    import asyncio

    found = asyncio.run(scan._scan(args))
    assert [d.kind for d in found] == ["simulated"]


LDD_SAMPLE = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /x/libQt6XcbQpa.so.6 (0x00007f)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxkbcommon-x11.so.0 => not found
\tlibxcb-icccm.so.4 => not found
"""


def test_missing_window_libraries_are_named_with_their_packages() -> None:
    missing = gui_options.missing_from_ldd(LDD_SAMPLE)
    assert missing == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxkbcommon-x11.so.0"]
    assert [gui_options.debian_package_of(m) for m in missing] == ["libxcb-icccm4", "libxcb-keysyms1", "libxkbcommon-x11-0"]
    assert gui_options.debian_package_of("libxcb-cursor.so.0") == "libxcb-cursor0"


@pytest.mark.skipif(sys.platform != "linux", reason="the X11 library check runs on Linux only")
def test_the_window_names_what_this_machine_lacks(tmp_path: Path) -> None:
    env = {**os.environ, "DISPLAY": ":97", "SENSORAPP_DATA_DIR": str(tmp_path)}
    env.pop("QT_QPA_PLATFORM", None)
    env.pop("WAYLAND_DISPLAY", None)
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        missing = gui_options.missing_window_libraries()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    if not missing:
        pytest.skip("this machine has every library Qt's X11 plugin needs, so there is nothing to name")
    proc = subprocess.run([sys.executable, "-m", "sensorapp"], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == cli.EXIT_FAILURE
    assert "sudo apt install" in proc.stderr and all(m in proc.stderr for m in missing)
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("mtu", ["22", "248", "517"])
def test_mtu_outside_what_the_belt_accepts_is_refused_as_documented(tmp_path: Path, mtu: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "sensorapp", "record", "--simulate", "--mtu", mtu, "--duration", "1", "--no-store", "--out", str(tmp_path / "x.csv")],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == cli.EXIT_USAGE
    assert "between 23 and 247" in proc.stderr and not (tmp_path / "x.csv").exists()
    assert "--mtu 23..247" in (ROOT / "README.md").read_text()
