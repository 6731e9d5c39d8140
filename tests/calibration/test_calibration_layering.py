"""The calibration package imports only numpy and the standard library.

The project-wide layer contract lives elsewhere; this is the package's own
stricter rule (no third-party dependency but numpy), checked statically.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import calibration

PACKAGE_DIR = Path(calibration.__file__).parent
ALLOWED_THIRD_PARTY = {"numpy"}


def imported_top_levels(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_only_numpy_and_stdlib():
    files = sorted(PACKAGE_DIR.rglob("*.py"))
    assert len(files) >= 6
    for f in files:
        bad = imported_top_levels(f.read_text(encoding="utf-8")) - set(sys.stdlib_module_names) - ALLOWED_THIRD_PARTY - {"__future__"}
        assert not bad, f"{f.name} imports {sorted(bad)}"


def test_detector_sees_forbidden_imports():
    assert imported_top_levels("import sensorapp.devices\nfrom firmware_protocol import codec\n") == {"sensorapp", "firmware_protocol"}


def test_public_names_are_exported():
    for name in calibration.__all__:
        assert hasattr(calibration, name), name
    for name in ("LinearCalibration", "fit_from_masses", "tare", "Unit", "convert", "parse_unit", "CalibrationStore",
                 "CalibrationFileError", "CalibrationMismatchError", "TareError", "STANDARD_GRAVITY", "LBF_IN_N"):
        assert name in calibration.__all__
