"""Options of the bare `sensorapp` command, which opens the app window."""

from __future__ import annotations

import argparse
import ctypes.util
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

# Qt's X11 plugin loads libxcb-cursor at run time (ldd does not see it); the rest ldd reports.
XCB_RUNTIME_LIBRARIES = ("xcb-cursor",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from . import positive_float

    g = parser.add_argument_group("app window")
    g.add_argument("--simulate", action="store_true", help="connect the simulated belt at start; a virtual patient does the exercise")
    g.add_argument("--speed", type=positive_float, default=1.0, metavar="X", help="run the simulated belt X times faster than real time")
    g.add_argument("--seed", type=int, default=1, help="seed of the simulated patient (default 1)")
    g.add_argument("--exit-after", type=positive_float, metavar="S", help="quit cleanly after S seconds")
    g.add_argument("--screenshot", metavar="PATH.png", help="save the main window as a PNG just before exit")


def debian_package_of(soname: str) -> str:
    """The Debian/Ubuntu package that ships a library by its usual naming: libxcb-icccm.so.4 -> libxcb-icccm4."""
    m = re.fullmatch(r"lib(.+)\.so\.(\d+)(?:\..*)?", soname)
    if not m:
        return soname
    name, major = m.groups()
    return f"lib{name}{'-' if name[-1].isdigit() else ''}{major}"


def missing_from_ldd(ldd_output: str) -> list[str]:
    """The sonames ldd could not find, once each, in its order."""
    found = re.findall(r"^\s*(\S+) => not found", ldd_output, flags=re.MULTILINE)
    return list(dict.fromkeys(found))


def missing_window_libraries() -> list[str]:
    """System libraries Qt's X11 window plugin needs and this machine lacks ([] when not on X11 or unknown).

    Qt aborts the process (SIGABRT, exit 134) when its platform plugin cannot load, with a message that
    does not name the package; checking before Qt starts lets the app say what to install.
    """
    if sys.platform != "linux" or not os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return []
    if os.environ.get("QT_QPA_PLATFORM", "xcb") not in ("", "xcb"):
        return []
    spec = importlib.util.find_spec("PySide6")  # locates Qt without importing it
    ldd = shutil.which("ldd")
    if spec is None or spec.origin is None or ldd is None:
        return []
    plugin = Path(spec.origin).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    if not plugin.exists():
        return []
    try:
        out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    missing = missing_from_ldd(out)
    missing += [f"lib{name}.so.0" for name in XCB_RUNTIME_LIBRARIES if ctypes.util.find_library(name) is None]
    return missing


def run(args: argparse.Namespace) -> int:
    from . import fail

    missing = missing_window_libraries()
    if missing:
        packages = " ".join(dict.fromkeys(debian_package_of(m) for m in missing))
        fail(
            f"the app window needs system libraries this computer lacks ({', '.join(missing)}); "
            f"on Debian/Ubuntu: sudo apt install {packages} (or run without a display: `sensorapp --simulate` offscreen)"
        )
    from sensorapp.devices.windows_com import allow_ble_on_qt_thread
    from sensorapp.ui.app import run_app  # only now: other commands never load Qt

    allow_ble_on_qt_thread()  # Windows: bleak on Qt's STA main thread (qasync serves its message loop)

    return run_app(args)
