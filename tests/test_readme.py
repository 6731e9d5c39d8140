"""The README's two quick-start commands stay true: CI runs the test one."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def quick_start_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```\n(.+?)\n```", section)


def test_quick_start_has_exactly_two_commands() -> None:
    cmds = quick_start_commands()
    assert len(cmds) == 2
    run_app, run_tests = cmds
    assert run_app.endswith("sensorapp --simulate")
    assert "requirements/app.lock" in run_app and "requirements/dev.lock" in run_tests
    assert run_tests.endswith("-m pytest")


def test_ci_runs_the_readme_test_command() -> None:
    run_tests = quick_start_commands()[1]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert run_tests in ci


def test_lock_files_pin_every_package_and_keep_pyside_below_6_12() -> None:
    for name in ("app.lock", "dev.lock"):
        lines = [ln.split("#")[0].strip() for ln in (ROOT / "requirements" / name).read_text().splitlines()]
        reqs = [ln for ln in lines if ln]
        assert reqs and all("==" in r for r in reqs), name
        pyside = next(r for r in reqs if r.lower().startswith("pyside6-essentials=="))
        major, minor = (int(x) for x in pyside.split("==")[1].split(".")[:2])
        assert (major, minor) < (6, 12)
