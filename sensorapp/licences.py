"""The bundled parts and their licences, read from their installed package metadata.

Pure Python (importlib.metadata): the About dialog lists these, and the frozen app
carries the same metadata folders (packaging/sensorapp.spec copies them), so what it
shows frozen is what was bundled. Qt's wheels name their licence but ship no text:
the LGPL-3.0 and GPL-3.0 texts come with this package (``sensorapp/licence_texts``).
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import platform
import sys
from dataclasses import dataclass
from typing import Any

#: The distributions the app bundles (every line of requirements/app.lock; tests/test_packaging.py
#: checks), in the order the About dialog lists them.
BUNDLED_DISTRIBUTIONS: tuple[str, ...] = (
    "PySide6-Essentials",
    "shiboken6",
    "pyqtgraph",
    "numpy",
    "bleak",
    "bleak-retry-connector",
    "qasync",
    "platformdirs",
    "pylsl",
    "dbus-fast",
    "bluetooth-adapters",
    "psycopg",
    "psycopg-binary",
    "typing-extensions",
    "aiooui",
    "uart-devices",
    "usb-devices",
    "colorama",
)

#: Licence texts shipped with the app for parts whose wheels carry none (file names under licence_texts/).
SHIPPED_TEXTS: dict[str, tuple[str, ...]] = {
    "PySide6-Essentials": ("LGPL-3.0.txt", "GPL-3.0.txt"),
    "shiboken6": ("LGPL-3.0.txt", "GPL-3.0.txt"),
}


@dataclass(frozen=True)
class BundledPart:
    name: str
    version: str
    licence: str  # an SPDX expression or the classifier's words, as the package states it
    licence_files: tuple[str, ...]  # paths inside the distribution's metadata, or licence_texts/<file>


def licence_of(meta: Any) -> str:  # importlib.metadata.PackageMetadata (an email.Message)
    """The licence a package states: License-Expression (PEP 639), else License, else its classifiers."""
    expression = meta.get("License-Expression")
    if expression:
        return str(expression).strip()
    text = (meta.get("License") or "").strip()
    if text and "\n" not in text and len(text) < 80:
        return text
    classifiers = [c.split("::")[-1].strip() for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    return ", ".join(classifiers) if classifiers else (text.splitlines()[0] if text else "not stated")


def bundled_parts() -> list[BundledPart]:
    """Every bundled distribution that is installed here (platform-only ones may be absent)."""
    parts = []
    for name in BUNDLED_DISTRIBUTIONS:
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        files = tuple(
            str(f) for f in dist.files or () if ".dist-info" in str(f) and any(k in str(f).upper() for k in ("LICEN", "COPYING", "NOTICE"))
        )
        files += tuple(f"licence_texts/{t}" for t in SHIPPED_TEXTS.get(name, ()))
        parts.append(BundledPart(name, dist.version, licence_of(dist.metadata), files))
    return parts


def python_part() -> BundledPart:
    return BundledPart("Python", platform.python_version(), "PSF-2.0", ())


def licence_text(part: BundledPart, file: str) -> str:
    """One of a part's licence files as text."""
    if file.startswith("licence_texts/"):
        return importlib.resources.files("sensorapp").joinpath("licence_texts", file.split("/", 1)[1]).read_text(encoding="utf-8")
    dist = importlib.metadata.distribution(part.name)
    for f in dist.files or ():
        if str(f) == file:
            return f.read_text(encoding="utf-8")
    raise FileNotFoundError(f"{part.name} has no file {file}")


def frozen() -> bool:
    """Whether this is the PyInstaller build (its bootloader sets sys.frozen)."""
    return bool(getattr(sys, "frozen", False))
