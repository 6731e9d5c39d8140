"""ruff and mypy run with the tests, configured in pyproject.toml: the tree must stay clean under both.

They run from the venv the tests run in (both are dev dependencies, pinned in requirements/dev.lock), on
the whole repository for ruff and on the packages listed under [tool.mypy] for mypy.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str, timeout_s: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout_s)


def test_ruff_finds_nothing() -> None:
    result = _run("ruff", "check", "--no-cache", "--output-format", "concise", ".")
    assert result.returncode == 0, f"ruff findings:\n{result.stdout}{result.stderr}"


@pytest.mark.slow
def test_mypy_finds_nothing() -> None:
    # No incremental cache: a stale .mypy_cache from another checkout must not hide or invent errors.
    result = _run("mypy", "--no-incremental", "--cache-dir", "/dev/null")
    assert result.returncode == 0, f"mypy errors:\n{result.stdout}{result.stderr}"
    assert "Success: no issues found" in result.stdout


def test_a_planted_finding_fails_ruff(tmp_path: Path) -> None:
    # The check above can only fail if ruff really reads the configured rules: show it on a copy.
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n\ndef f(xs=[]):\n    try:\n        return zip(xs, xs)\n    except Exception:\n        pass\n")
    result = _run("ruff", "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"), "--output-format", "concise", str(bad))
    assert result.returncode == 1
    for code in ("F401", "B006", "B905", "BLE001"):
        assert code in result.stdout, result.stdout
