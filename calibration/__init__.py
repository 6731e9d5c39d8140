"""Load-cell calibration: counts to newtons, multi-point fits, tare, units and
the per-belt calibration file.

Pure numpy and the standard library: this package imports nothing from
``sensorapp`` or ``firmware_protocol`` (a layer contract checked by the tests),
so the firmware team and offline tools can use it on its own. See
``docs/calibration.md`` for the model, the rules and the file format.
"""

from .errors import (
    CalibrationError,
    CalibrationFileError,
    CalibrationMismatchError,
    CalibrationStoreError,
    TareError,
    UnitError,
)
from .fit import CalibrationFit, fit_from_masses
from .model import SOURCES, LinearCalibration, utc_now_iso
from .store import FORMAT_ID, FORMAT_VERSION, MIGRATIONS, CalibrationStore, StoredCalibration, record_checksum
from .tare import DEFAULT_MAX_NOISE_N, MIN_TARE_WINDOW_S, TareResult, tare
from .units import (
    ACCEPTED_UNIT_NAMES,
    LBF_IN_N,
    STANDARD_GRAVITY,
    Unit,
    convert,
    format_force,
    parse_unit,
    unit_label,
)

__all__ = [
    "ACCEPTED_UNIT_NAMES",
    "DEFAULT_MAX_NOISE_N",
    "FORMAT_ID",
    "FORMAT_VERSION",
    "LBF_IN_N",
    "MIGRATIONS",
    "MIN_TARE_WINDOW_S",
    "SOURCES",
    "STANDARD_GRAVITY",
    "CalibrationError",
    "CalibrationFileError",
    "CalibrationFit",
    "CalibrationMismatchError",
    "CalibrationStore",
    "CalibrationStoreError",
    "LinearCalibration",
    "StoredCalibration",
    "TareError",
    "TareResult",
    "Unit",
    "UnitError",
    "convert",
    "fit_from_masses",
    "format_force",
    "parse_unit",
    "record_checksum",
    "tare",
    "unit_label",
    "utc_now_iso",
]
