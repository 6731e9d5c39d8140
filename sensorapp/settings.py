"""The app's persistent settings: one JSON file in the platform config folder.

Pure Python (no Qt): the UI reads and writes these fields and calls ``save()``.
The file is written atomically (temporary file, fsync, rename), so a crash
leaves the old settings or the new ones. A file that cannot be read (corrupt
JSON, wrong types) gives the defaults and one warning, and the bad file is
kept aside as ``settings.json.bad-<time>`` so nothing the user set is lost.
Forces are always stored in newtons; ``units`` is only what is shown.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import platformdirs

from calibration.errors import UnitError
from calibration.units import Unit, parse_unit
from sensorapp.storage.atomic import atomic_file
from sensorapp.storage.errors import StorageError

log = logging.getLogger(__name__)

CONFIG_DIR_ENV = "SENSORAPP_CONFIG_DIR"
SETTINGS_FILENAME = "settings.json"
SCHEMA_VERSION = 1
UNIT_CHOICES: tuple[str, ...] = tuple(u.label for u in Unit)  # "N", "kgf", "lbf"


def default_config_dir() -> Path:
    """``$SENSORAPP_CONFIG_DIR`` if set and non-empty, else the per-user config dir (e.g. ~/.config/sensorapp)."""
    override = os.environ.get(CONFIG_DIR_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir("sensorapp", appauthor=False))


class SettingsError(ValueError):
    """A settings value that is not allowed (the message says which and why)."""


@dataclass(frozen=True)
class LastBelt:
    """The device connected last, to offer it first at the next start."""

    kind: str
    address: str
    name: str


@dataclass
class Settings:
    """Everything the app remembers between runs. Change fields, then ``save()``."""

    last_belt: LastBelt | None = None
    #: The patient chosen last: the store's patient id or uuid, as a string (the patient picker owns its meaning).
    last_patient: str | None = None
    #: The patient name typed last on the Exercise screen (sessions are saved under it).
    patient_name: str = "Patient"
    units: str = "N"
    sound_on: bool = True
    volume_pct: int = 70
    large_text: bool = False
    #: Ask 0-10 pain before and after each session.
    pain_prompts: bool = True
    #: The main window's geometry as [x, y, width, height] in logical pixels, or None for "fit the screen".
    window_geometry: list[int] | None = None
    path: Path | None = field(default=None, compare=False, repr=False)
    #: Set when loading found a bad file: the one-line warning and where the bad file was moved.
    load_warning: str | None = field(default=None, compare=False, repr=False)

    # ------------------------------------------------------------ validation

    def unit(self) -> Unit:
        return parse_unit(self.units)

    def validate(self) -> None:
        """Raise SettingsError naming the first field that is out of range."""
        try:
            self.units = parse_unit(self.units).label
        except UnitError as exc:
            raise SettingsError(f"units: {exc}") from None
        if isinstance(self.volume_pct, bool) or not isinstance(self.volume_pct, int) or not 0 <= self.volume_pct <= 100:
            raise SettingsError(f"volume_pct must be a whole number from 0 to 100, got {self.volume_pct!r}")
        for name in ("sound_on", "large_text", "pain_prompts"):
            if not isinstance(getattr(self, name), bool):
                raise SettingsError(f"{name} must be true or false, got {getattr(self, name)!r}")
        if not isinstance(self.patient_name, str):
            raise SettingsError(f"patient_name must be text, got {self.patient_name!r}")
        if self.last_patient is not None and not isinstance(self.last_patient, str):
            raise SettingsError(f"last_patient must be text (a patient id or uuid), got {self.last_patient!r}")
        g = self.window_geometry
        if g is not None:
            if not (isinstance(g, list) and len(g) == 4 and all(isinstance(v, int) and not isinstance(v, bool) for v in g)):
                raise SettingsError(f"window_geometry must be [x, y, width, height] in whole pixels, got {g!r}")
            if g[2] <= 0 or g[3] <= 0:
                raise SettingsError(f"window_geometry width and height must be positive, got {g!r}")

    # ------------------------------------------------------------ file

    def to_json(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("path", "load_warning")}
        data["last_belt"] = asdict(self.last_belt) if self.last_belt is not None else None
        return {"version": SCHEMA_VERSION, **data}

    @classmethod
    def from_json(cls, data: object) -> Settings:
        """Settings from a parsed file; unknown keys are ignored (a newer app's), missing keys keep their defaults."""
        if not isinstance(data, dict):
            raise SettingsError(f"the file holds {type(data).__name__}, not an object")
        known = {f.name for f in fields(cls)} - {"path", "load_warning"}
        values = {k: v for k, v in data.items() if k in known}
        belt = values.pop("last_belt", None)
        settings = cls(**values)
        if belt is not None:
            if not isinstance(belt, dict) or not all(isinstance(belt.get(k), str) for k in ("kind", "address", "name")):
                raise SettingsError(f"last_belt must have text kind, address and name, got {belt!r}")
            settings.last_belt = LastBelt(belt["kind"], belt["address"], belt["name"])
        settings.validate()
        return settings

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        """The settings at ``path`` (default: the config folder's settings.json).

        No file: the defaults. A bad file: the defaults, ``load_warning`` set and
        logged once, and the file renamed aside so the next save does not overwrite it.
        """
        path = path if path is not None else default_config_dir() / SETTINGS_FILENAME
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(path=path)
        except OSError as exc:
            settings = cls(path=path)
            settings.load_warning = f"Could not read the settings ({exc.strerror or exc}); using the defaults."
            log.warning("%s", settings.load_warning)
            return settings
        try:
            settings = cls.from_json(json.loads(text))
        except (ValueError, TypeError) as exc:  # JSONDecodeError and SettingsError are ValueErrors
            aside = path.with_name(f"{path.name}.bad-{time.strftime('%Y%m%d-%H%M%S')}")
            try:
                os.replace(path, aside)
                where = f"the bad file is kept as {aside}"
            except OSError:
                where = f"the bad file {path} could not be moved aside"
            settings = cls(path=path)
            settings.load_warning = f"The settings file was unreadable ({_first_line(exc)}); using the defaults, {where}."
            log.warning("%s", settings.load_warning)
            return settings
        settings.path = path
        return settings

    def save(self) -> Path:
        """Write the settings atomically; raises SettingsError for a bad value, StorageError when the disk refuses."""
        self.validate()
        path = self.path if self.path is not None else default_config_dir() / SETTINGS_FILENAME
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_file(path, "w", what="save the settings to") as f:
            json.dump(self.to_json(), f, indent=2)
            f.write("\n")
        self.path = path
        return path

    def save_quietly(self) -> str | None:
        """``save()`` for the UI: the one-line reason when it failed, else None (the app keeps running)."""
        try:
            self.save()
        except (SettingsError, StorageError) as exc:
            return f"Settings not saved: {_first_line(exc)}"
        return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
