"""Every number the flags and the progression advice use, as data with its source.

The shipped values live in ``thresholds.json`` next to this module (package data, also in the
frozen app). A clinic can override any of them with its own JSON file of the same shape; names
it does not give keep the shipped value. ``clinic-thresholds.json`` in the store's data folder is
picked up by every screen and command that uses that store (``thresholds_for_data_dir``). Files are checked strictly: an unknown name, a missing
value, a wrong type or a value out of range is refused with one line naming the file and entry.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

FILE_FORMAT = "sensorapp-clinic-thresholds"
FILE_VERSION = 1
SHIPPED_NAME = "thresholds.json"
USER_FILENAME = "clinic-thresholds.json"  # in the store's data folder: a clinic's own values


class ThresholdsError(ValueError):
    """A thresholds file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Thresholds:
    """The flag and advice thresholds; ``sources`` says where each value comes from."""

    asymmetry_lsi_band_low_pct: float
    asymmetry_lsi_alert_pct: float
    adherence_window_days: int
    adherence_min_fraction: float
    adherence_default_sessions_per_day: int
    inactivity_days: int
    pain_rise_points: int
    pain_baseline_sessions: int
    advice_recent_sessions: int
    advice_lsi_min_pct: float
    advice_lsi_low_min_pct: float
    advice_holds_met_min_fraction: float
    advice_pain_max: int
    advice_trend_days: int
    advice_trend_min_sessions: int
    advice_trend_min_span_days: int
    advice_plateau_slope_max_pct_per_week: float
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The values and their sources, in the file's shape."""
        return {
            "format": FILE_FORMAT,
            "version": FILE_VERSION,
            "thresholds": {
                name: {"value": getattr(self, name), "source": self.sources.get(name, "")} for name in names()
            },
        }


# (kind, lowest, highest) allowed for each value: a threshold outside these is a typo, not a policy.
LIMITS: dict[str, tuple[type, float, float]] = {
    "asymmetry_lsi_band_low_pct": (float, 50.0, 100.0),
    "asymmetry_lsi_alert_pct": (float, 50.0, 100.0),
    "adherence_window_days": (int, 1, 90),
    "adherence_min_fraction": (float, 0.0, 1.0),
    "adherence_default_sessions_per_day": (int, 1, 10),
    "inactivity_days": (int, 1, 90),
    "pain_rise_points": (int, 1, 10),
    "pain_baseline_sessions": (int, 1, 50),
    "advice_recent_sessions": (int, 1, 100),
    "advice_lsi_min_pct": (float, 50.0, 100.0),
    "advice_lsi_low_min_pct": (float, 50.0, 100.0),
    "advice_holds_met_min_fraction": (float, 0.0, 1.0),
    "advice_pain_max": (int, 0, 10),
    "advice_trend_days": (int, 1, 365),
    "advice_trend_min_sessions": (int, 3, 1000),
    "advice_trend_min_span_days": (int, 0, 365),
    "advice_plateau_slope_max_pct_per_week": (float, 0.0, 100.0),
}


def names() -> tuple[str, ...]:
    """The threshold names, in declaration order."""
    return tuple(f.name for f in dataclasses.fields(Thresholds) if f.name != "sources")


def _check_value(where: str, name: str, value: Any) -> float | int:
    kind, low, high = LIMITS[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ThresholdsError(f"{where}: {name} must be a number, got {value!r}")
    if kind is int and not (isinstance(value, int) or float(value).is_integer()):
        raise ThresholdsError(f"{where}: {name} must be a whole number, got {value!r}")
    if not math.isfinite(value) or not low <= value <= high:
        raise ThresholdsError(f"{where}: {name} must be between {low:g} and {high:g}, got {value!r}")
    return int(value) if kind is int else float(value)


def _entries(where: str, doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise ThresholdsError(f"{where}: expected a JSON object at the top, got {type(doc).__name__}")
    if doc.get("format") != FILE_FORMAT:
        raise ThresholdsError(f"{where}: 'format' must be {FILE_FORMAT!r}, got {doc.get('format')!r}")
    if doc.get("version") != FILE_VERSION:
        raise ThresholdsError(f"{where}: 'version' must be {FILE_VERSION}, got {doc.get('version')!r}")
    unknown_top = sorted(set(doc) - {"format", "version", "thresholds"})
    if unknown_top:
        raise ThresholdsError(f"{where}: unknown top-level key {unknown_top[0]!r}")
    entries = doc.get("thresholds")
    if not isinstance(entries, dict):
        raise ThresholdsError(f"{where}: 'thresholds' must be an object of name: {{value, source}}")
    return entries


def parse_thresholds(
    doc: Any, *, where: str, base: Thresholds | None = None, source_required: bool = True
) -> Thresholds:
    """Thresholds from a parsed file; names the file leaves out come from ``base`` (none left out if no base)."""
    entries = _entries(where, doc)
    values: dict[str, Any] = {} if base is None else {n: getattr(base, n) for n in names()}
    sources: dict[str, str] = {} if base is None else dict(base.sources)
    known = set(names())
    for name, entry in entries.items():
        if name not in known:
            raise ThresholdsError(f"{where}: unknown threshold {name!r} (known: {', '.join(names())})")
        if not isinstance(entry, dict) or "value" not in entry:
            raise ThresholdsError(f"{where}: {name} must be an object with a 'value'")
        extra = sorted(set(entry) - {"value", "unit", "source"})
        if extra:
            raise ThresholdsError(f"{where}: {name} has an unknown key {extra[0]!r}")
        source = entry.get("source")
        if source is None and not source_required:
            source = f"set in {where}"
        if not isinstance(source, str) or not source.strip():
            raise ThresholdsError(f"{where}: {name} needs a 'source' saying where the value comes from")
        values[name] = _check_value(where, name, entry["value"])
        sources[name] = source
    missing = [n for n in names() if n not in values]
    if missing:
        raise ThresholdsError(f"{where}: missing threshold {missing[0]!r}")
    result = Thresholds(**values, sources=sources)
    if result.asymmetry_lsi_alert_pct > result.asymmetry_lsi_band_low_pct:
        raise ThresholdsError(
            f"{where}: asymmetry_lsi_alert_pct ({result.asymmetry_lsi_alert_pct:g}) must not be above "
            f"asymmetry_lsi_band_low_pct ({result.asymmetry_lsi_band_low_pct:g})"
        )
    if result.advice_lsi_low_min_pct > result.advice_lsi_min_pct:
        raise ThresholdsError(
            f"{where}: advice_lsi_low_min_pct ({result.advice_lsi_low_min_pct:g}) must not be above "
            f"advice_lsi_min_pct ({result.advice_lsi_min_pct:g})"
        )
    return result


@lru_cache(maxsize=1)
def shipped_thresholds() -> Thresholds:
    """The values shipped with the app (``sensorapp/clinic/thresholds.json``)."""
    text = resources.files(__package__).joinpath("thresholds.json").read_text(encoding="utf-8")
    return parse_thresholds(json.loads(text), where=f"shipped {SHIPPED_NAME}")


def load_thresholds(path: Path | str | None = None) -> Thresholds:
    """The shipped thresholds, with any a user file at ``path`` overrides."""
    base = shipped_thresholds()
    if path is None:
        return base
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ThresholdsError(f"{path}: cannot read the thresholds file ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ThresholdsError(f"{path}: the thresholds file is not UTF-8 text") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ThresholdsError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    return parse_thresholds(doc, where=str(path), base=base, source_required=False)


def thresholds_for_data_dir(data_dir: Path | str) -> Thresholds:
    """The thresholds a store's users get: the data folder's ``clinic-thresholds.json`` if there is one."""
    path = Path(data_dir) / USER_FILENAME
    return load_thresholds(path) if path.is_file() else shipped_thresholds()
