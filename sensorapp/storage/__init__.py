"""Storage: the samples CSV, and the session store (SQLite) with recording, history, export and import.

The public names below are imported lazily, so ``from sensorapp.storage.samples_csv
import ...`` (the replay source, ``record``) does not load sqlite3 or the signal layer.

GUI entry points:

* ``SessionStore.open()``: patients, ``begin_session`` -> ``SessionRecorder``, ``sessions``, ``samples``, ``reps``, ``summary``, ``reanalyse``
* ``patient_trend``, ``adherence``: what the History view plots
* ``export_session`` (csv/json/bundle), ``import_bundle``
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY: dict[str, str] = {
    "SessionStore": "store",
    "SessionRecorder": "recorder",
    "Patient": "records",
    "AdviceDecision": "records",
    "SessionProtocol": "records",
    "SessionRecord": "records",
    "SessionSamples": "records",
    "StorageError": "errors",
    "StorageFullError": "errors",
    "SchemaTooNewError": "errors",
    "SessionNotFoundError": "errors",
    "PatientNotFoundError": "errors",
    "SessionClosedError": "errors",
    "BundleError": "errors",
    "default_data_dir": "paths",
    "DATA_DIR_ENV": "paths",
    "patient_trend": "history",
    "adherence": "history",
    "PatientTrend": "history",
    "Adherence": "history",
    "export_session": "export",
    "export_csv": "export",
    "export_json": "export",
    "export_bundle": "bundle",
    "import_bundle": "bundle",
    "read_bundle": "bundle",
    "ImportResult": "bundle",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
