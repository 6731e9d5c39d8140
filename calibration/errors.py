"""Exceptions of the calibration package.

Everything derives from ``CalibrationError`` (a ``ValueError``), so a caller
that only wants "calibration went wrong, show the message" catches one type.
"""

from __future__ import annotations


class CalibrationError(ValueError):
    """Invalid calibration parameters or fit input; the message says which."""


class TareError(CalibrationError):
    """A tare window that is too short or in which the belt was not at rest."""


class UnitError(CalibrationError):
    """An unknown force unit name; the message lists the accepted names."""


class CalibrationStoreError(CalibrationError):
    """Base of the calibration-store errors."""


class CalibrationFileError(CalibrationStoreError):
    """The calibration file as a whole is unreadable: not JSON, truncated,
    not a calibration file, or written by a newer version. Names the file."""


class CalibrationMismatchError(CalibrationStoreError):
    """One record cannot be trusted for the belt asked about: its stored serial
    differs from its key, its checksum does not match (hand-edited or
    corrupted), or it was made for another belt model."""
