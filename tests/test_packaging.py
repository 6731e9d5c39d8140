"""Packaging files stay valid and complete: the desktop entry and AppStream metainfo pass their
validators (when installed), the icons are real PNGs of their sizes, the PyInstaller spec ships
every resource file the code opens, and the Windows STA hook calls bleak's remedy."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import sys
import types
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINUX = ROOT / "packaging" / "linux"
APP_ID = "io.github.sensorapp"
DESKTOP = LINUX / f"{APP_ID}.desktop"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"
SPEC = ROOT / "packaging" / "sensorapp.spec"


def run_validator(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which(tool)
    if exe is None:
        pytest.skip(f"{tool} is not installed (Debian: apt install desktop-file-utils appstream)")
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=120)


def test_desktop_file_is_valid() -> None:
    result = run_validator("desktop-file-validate", str(DESKTOP))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in (result.stdout + result.stderr).lower()


def test_metainfo_is_valid() -> None:
    result = run_validator("appstreamcli", "validate", "--no-net", "--pedantic", str(METAINFO))
    assert result.returncode == 0, result.stdout + result.stderr


def test_desktop_file_and_metainfo_agree() -> None:
    entry = dict(
        line.split("=", 1) for line in DESKTOP.read_text().splitlines() if "=" in line and not line.startswith("#")
    )
    assert entry["Exec"].split()[0] == "sensorapp"
    assert entry["Icon"] == APP_ID
    root = ET.parse(METAINFO).getroot()
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable") == DESKTOP.name
    assert root.findtext("provides/binary") == "sensorapp"
    assert root.find("releases/release").get("version") == version()  # type: ignore[union-attr]


def test_metainfo_screenshots_point_at_files_in_the_repository() -> None:
    images = [el.text or "" for el in ET.parse(METAINFO).getroot().iter("image")]
    assert images
    for url in images:
        assert url.startswith("https://")
        assert (ROOT / "docs" / "screenshots" / url.rsplit("/", 1)[1]).is_file(), url


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", path
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_icons_are_pngs_of_their_named_sizes_and_an_svg() -> None:
    pngs = sorted(LINUX.glob(f"icons/{APP_ID}-*.png"))
    sizes = {int(p.stem.rsplit("-", 1)[1]) for p in pngs}
    assert {16, 32, 48, 64, 128, 256} <= sizes
    for p in pngs:
        n = int(p.stem.rsplit("-", 1)[1])
        assert png_size(p) == (n, n), p
    svg = ET.parse(LINUX / f"{APP_ID}.svg").getroot()
    assert svg.tag.endswith("svg") and svg.get("viewBox") == "0 0 128 128"


def version() -> str:
    match = re.search(r'__version__ = "([^"]+)"', (ROOT / "sensorapp" / "__init__.py").read_text())
    assert match
    return match.group(1)


def spec_package_data() -> set[str]:
    block = SPEC.read_text().split("PACKAGE_DATA = [", 1)[1].split("]", 1)[0]
    return set(re.findall(r'\("([^"]+)"', block))


def test_spec_ships_every_resource_the_code_opens() -> None:
    """Every file opened through importlib.resources (files(...).joinpath("name")) is in the spec."""
    shipped = spec_package_data()
    for path in shipped:
        assert (ROOT / path).is_file(), path
    opened = []
    for package in ("sensorapp", "firmware_protocol", "calibration"):
        for source in (ROOT / package).rglob("*.py"):
            text = source.read_text(encoding="utf-8")
            if "resources" not in text:
                continue
            for name in re.findall(r'joinpath\(\s*"([^"]+)"\s*\)', text):
                opened.append(f"{source.parent.relative_to(ROOT).as_posix()}/{name}")
    assert opened, "expected the capabilities table to be read through importlib.resources"
    missing = [p for p in opened if p not in shipped]
    assert not missing, f"the frozen app would lack {missing}: add them to PACKAGE_DATA in {SPEC.name}"


def test_spec_prepares_macos_and_windows() -> None:
    spec = SPEC.read_text()
    assert 'BUNDLE_ID = "io.github.sensorapp"' in spec
    assert '"NSBluetoothAlwaysUsageDescription":' in spec
    assert 'collect_submodules("bleak.backends.corebluetooth")' in spec
    assert 'collect_submodules("bleak.backends.winrt")' in spec


def test_windows_sta_hook_calls_bleaks_allow_sta(monkeypatch: pytest.MonkeyPatch) -> None:
    from sensorapp.devices import windows_com

    calls: list[str] = []
    fake = types.ModuleType("bleak.backends.winrt.util")
    fake.allow_sta = lambda: calls.append("allow_sta")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bleak.backends.winrt.util", fake)
    monkeypatch.setattr(windows_com.sys, "platform", "linux")
    assert windows_com.allow_ble_on_qt_thread() is False and calls == []
    monkeypatch.setattr(windows_com.sys, "platform", "win32")
    assert windows_com.allow_ble_on_qt_thread() is True and calls == ["allow_sta"]


def test_ci_runs_the_smoke_test_after_the_tests() -> None:
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    test_line = next(i for i, line in enumerate(lines) if line.endswith("-m pytest"))
    assert any("packaging/smoke.sh" in line for line in lines[test_line + 1 :])


def test_spec_ships_the_licence_texts_and_metadata_the_about_dialog_shows() -> None:
    """About reads sensorapp/licence_texts/ and the bundled distributions' metadata: the frozen app needs both."""
    from sensorapp.licences import BUNDLED_DISTRIBUTIONS, SHIPPED_TEXTS

    shipped = spec_package_data()
    for texts in SHIPPED_TEXTS.values():
        for name in texts:
            assert f"sensorapp/licence_texts/{name}" in shipped
            assert (ROOT / "sensorapp" / "licence_texts" / name).stat().st_size > 5000
    spec = SPEC.read_text()
    assert "BUNDLED_DISTRIBUTIONS = re.findall(" in spec and '"sensorapp" / "licences.py"' in spec  # one list, in licences.py
    block = (ROOT / "sensorapp" / "licences.py").read_text().split("BUNDLED_DISTRIBUTIONS: tuple[str, ...] = (", 1)[1].split(")", 1)[0]
    assert tuple(re.findall(r'"([^"]+)"', block)) == BUNDLED_DISTRIBUTIONS
    assert "libasound2" in (ROOT / "packaging" / "build.sh").read_text().split("Depends:", 1)[1].split("\n", 1)[0]


def test_spec_leaves_alsa_to_the_system() -> None:
    """The sound cues load libasound.so.2 by ctypes; PyInstaller would bundle the build machine's copy."""
    spec = SPEC.read_text()
    assert 'startswith("libasound.so")' in spec.split("a.binaries = [b for b in a.binaries if not unused_qt_part", 1)[1]


def test_about_lists_every_package_the_app_lock_bundles() -> None:
    from sensorapp.licences import BUNDLED_DISTRIBUTIONS

    locked = {ln.split("==")[0].strip().lower() for ln in (ROOT / "requirements" / "app.lock").read_text().splitlines() if "==" in ln.split("#")[0]}
    assert locked == {d.lower() for d in BUNDLED_DISTRIBUTIONS}
