"""The layer contract: checked with import-linter on every test run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold() -> None:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("import-linter is not installed (it is in requirements/dev.lock)")
    proc = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "6 kept, 0 broken" in proc.stdout


def test_contract_detects_a_leak(tmp_path: Path) -> None:
    """The contract is not vacuous: a Qt import in the signal layer breaks it."""
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("import-linter is not installed (it is in requirements/dev.lock)")
    work = tmp_path / "tree"
    for name in ("sensorapp", "firmware_protocol", "calibration"):
        shutil.copytree(ROOT / name, work / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", work / ".importlinter")
    (work / "sensorapp" / "signal" / "leak.py").write_text("import PySide6.QtCore\n")
    env = {"PYTHONPATH": str(work), "PATH": str(Path(sys.executable).parent)}
    proc = subprocess.run([exe, "--no-cache"], cwd=work, capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode != 0
    assert "sensorapp.signal.leak -> PySide6" in proc.stdout
