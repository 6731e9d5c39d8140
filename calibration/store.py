"""The per-belt calibration file: one record per belt serial, versioned, checksummed.

Layout (JSON, UTF-8)::

    {
      "format": "sensorapp-calibrations",
      "version": 1,
      "records": {
        "GMB-0001E240": {
          "serial": "GMB-0001E240",
          "model_id": 1,
          "zero_counts": 8123.5,
          "newtons_per_count": 0.000596,
          "metadata": {"source": "fit", "created_at": "2026-11-21T10:00:00+00:00",
                       "linearity_error_n": 0.21, "capacity_n": 1000.0},
          "checksum": "sha256:<hex>"
        }
      }
    }

The checksum is the SHA-256 of the record without its ``checksum`` field,
serialised canonically (sorted keys, no spaces, ASCII). A wrong gain silently
scales every force the app ever shows, so a record that was hand-edited or
damaged is refused (``CalibrationMismatchError``) rather than used. The serial
is repeated inside the record so that a record pasted under another belt's
key is caught too.

Why these rules:
- Every call re-reads the file: it is tiny and read rarely (on connect), and
  the store then never disagrees with the disk.
- Writes are atomic (temp file in the same directory, fsync, ``os.replace``,
  fsync of the directory): a crash leaves either the old or the new file.
- A file that cannot be read as a calibration file is never overwritten:
  ``put``/``delete`` raise ``CalibrationFileError`` and leave it as it is; the
  caller decides (e.g. show the error, move the file aside). Records of other
  belts are carried over verbatim on every write, even ones that fail their
  checksum, so nothing stored is lost by calibrating another belt.
- Older format versions are upgraded in memory through ``MIGRATIONS`` (and
  written back at the current version on the next write); a newer version is
  refused, since this app cannot know what it would drop.
- Two processes writing at once are not coordinated: the last write wins.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import CalibrationError, CalibrationFileError, CalibrationMismatchError
from .model import LinearCalibration

FORMAT_ID = "sensorapp-calibrations"
FORMAT_VERSION = 1

#: Upgrade steps: ``MIGRATIONS[n]`` takes a whole document at version ``n`` and
#: returns it at version ``n + 1`` (recomputing record checksums with
#: ``record_checksum`` if it changes records). Empty while only v1 exists.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}

_SERIAL_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_CHECKSUM_PREFIX = "sha256:"


@dataclass(frozen=True)
class StoredCalibration:
    """A record of the store: the calibration and the belt it belongs to."""

    serial: str
    model_id: int | None
    calibration: LinearCalibration


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode("ascii")


def record_checksum(record: dict[str, Any]) -> str:
    """Checksum of a record: SHA-256 over its canonical JSON without ``checksum``."""
    body = {k: v for k, v in record.items() if k != "checksum"}
    return _CHECKSUM_PREFIX + hashlib.sha256(_canonical(body)).hexdigest()


def _check_serial(serial: object) -> str:
    if not isinstance(serial, str) or not _SERIAL_RE.fullmatch(serial):
        raise CalibrationError(f"belt serial must be 1-64 letters, digits, '.', '_' or '-' (like 'GMB-0001E240'), got {serial!r}")
    return serial


def _check_model_id(model_id: object) -> int | None:
    if model_id is None:
        return None
    if isinstance(model_id, bool) or not isinstance(model_id, int) or model_id < 0:
        raise CalibrationError(f"model_id must be a non-negative integer or None, got {model_id!r}")
    return model_id


def _make_record(serial: str, calibration: LinearCalibration, model_id: int | None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "serial": serial,
        "model_id": model_id,
        "zero_counts": calibration.zero_counts,
        "newtons_per_count": calibration.newtons_per_count,
        "metadata": {
            "source": calibration.source,
            "created_at": calibration.created_at,
            "linearity_error_n": calibration.linearity_error_n,
            "capacity_n": calibration.capacity_n,
        },
    }
    record["checksum"] = record_checksum(record)
    return record


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in a calibration file")


class CalibrationStore:
    """Calibrations of every belt this computer has seen, keyed by belt serial."""

    format_id: str = FORMAT_ID
    version: int = FORMAT_VERSION
    migrations: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = MIGRATIONS

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    # -- reading ---------------------------------------------------------------

    def _fail(self, what: str) -> CalibrationFileError:
        return CalibrationFileError(f"calibration file {self.path}: {what}")

    def _load(self) -> dict[str, Any]:
        """The document at the current version; an empty one if there is no file."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {"format": self.format_id, "version": self.version, "records": {}}
        except OSError as exc:
            raise self._fail(f"cannot be read ({exc.strerror or exc})") from exc
        if not raw.strip():
            raise self._fail("is empty (truncated?); it was left untouched")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self._fail(f"is not UTF-8 text (byte {exc.start}); it is corrupted or not a calibration file") from None
        try:
            doc = json.loads(text, parse_constant=_reject_constant)
        except json.JSONDecodeError as exc:
            raise self._fail(f"is not valid JSON, it may be truncated or corrupted ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
        except ValueError as exc:
            raise self._fail(str(exc)) from None
        if not isinstance(doc, dict):
            raise self._fail(f"is not a sensorapp calibration file (top level is {type(doc).__name__}, expected an object)")
        fmt = doc.get("format")
        if fmt != self.format_id:
            raise self._fail(f"is not a sensorapp calibration file (format {fmt!r}, expected {self.format_id!r})")
        version = doc.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise self._fail(f"has an invalid format version {version!r}")
        if version > self.version:
            raise self._fail(
                f"was written by a newer sensorapp (format version {version}; this app reads up to {self.version}). "
                "Update the app; the file was left untouched"
            )
        while version < self.version:
            step = self.migrations.get(version)
            if step is None:
                raise self._fail(f"format version {version} cannot be upgraded (no migration to {version + 1})")
            try:
                doc = step(doc)
            except Exception as exc:
                raise self._fail(f"upgrading from format version {version} failed: {exc}") from exc
            version += 1
            doc["version"] = version
        records = doc.get("records")
        if not isinstance(records, dict) or not all(isinstance(r, dict) for r in records.values()):
            raise self._fail("'records' must be an object mapping each belt serial to a record object")
        return doc

    def _decode(self, key: str, record: dict[str, Any], expected_model_id: int | None) -> StoredCalibration:
        stored_serial = record.get("serial")
        if stored_serial != key:
            raise CalibrationMismatchError(
                f"calibration file {self.path}: the record stored under {key!r} is for serial {stored_serial!r}; refusing to use it"
            )
        checksum = record.get("checksum")
        if not isinstance(checksum, str) or checksum != record_checksum(record):
            raise CalibrationMismatchError(
                f"calibration file {self.path}: the record for {key} fails its checksum (edited by hand or corrupted); "
                "recalibrate this belt or use its factory calibration"
            )
        model_id = record.get("model_id")
        if expected_model_id is not None and model_id is not None and model_id != expected_model_id:
            raise CalibrationMismatchError(
                f"calibration file {self.path}: the record for {key} was made for belt model {model_id}, "
                f"but this belt reports model {expected_model_id}"
            )
        meta = record.get("metadata")
        try:
            if not isinstance(meta, dict):
                raise CalibrationError("'metadata' must be an object")
            cal = LinearCalibration(
                zero_counts=record["zero_counts"],
                newtons_per_count=record["newtons_per_count"],
                source=meta.get("source", "manual"),
                created_at=meta.get("created_at"),
                linearity_error_n=meta.get("linearity_error_n"),
                capacity_n=meta.get("capacity_n"),
            )
            model = _check_model_id(model_id)
        except KeyError as exc:
            raise self._fail(f"the record for {key} has no {exc.args[0]!r}") from None
        except CalibrationError as exc:
            raise self._fail(f"the record for {key} is invalid: {exc}") from None
        return StoredCalibration(serial=key, model_id=model, calibration=cal)

    def get_record(self, serial: str, *, model_id: int | None = None) -> StoredCalibration | None:
        """The stored record for ``serial`` with its model id, or None if there is none.

        With ``model_id`` given, a record made for another model raises
        ``CalibrationMismatchError`` (a record without a model id is accepted).
        """
        key = _check_serial(serial)
        expected = _check_model_id(model_id)
        record = self._load()["records"].get(key)
        if record is None:
            return None
        return self._decode(key, record, expected)

    def get(self, serial: str, *, model_id: int | None = None) -> LinearCalibration | None:
        """The calibration stored for this belt, or None if there is none.

        Raises ``CalibrationFileError`` if the file is unreadable and
        ``CalibrationMismatchError`` if the record cannot be trusted.
        """
        rec = self.get_record(serial, model_id=model_id)
        return None if rec is None else rec.calibration

    def serials(self) -> list[str]:
        """Serials with a record, sorted (records are not verified here)."""
        return sorted(self._load()["records"])

    # -- writing ---------------------------------------------------------------

    def put(self, serial: str, calibration: LinearCalibration, *, model_id: int | None = None) -> None:
        """Store (or replace) the calibration of one belt, atomically.

        Raises ``CalibrationFileError`` without touching the file if the
        existing file is unreadable; other belts' records are kept as they are.
        """
        key = _check_serial(serial)
        model = _check_model_id(model_id)
        if not isinstance(calibration, LinearCalibration):
            raise CalibrationError(f"expected a LinearCalibration, got {type(calibration).__name__}")
        doc = self._load()
        doc["records"][key] = _make_record(key, calibration, model)
        self._write(doc)

    def delete(self, serial: str) -> bool:
        """Remove a belt's record; True if there was one. An unreadable file raises."""
        key = _check_serial(serial)
        doc = self._load()
        if key not in doc["records"]:
            return False
        del doc["records"][key]
        self._write(doc)
        return True

    def _write(self, doc: dict[str, Any]) -> None:
        out = dict(doc)
        out["format"] = self.format_id
        out["version"] = self.version
        out["records"] = {k: doc["records"][k] for k in sorted(doc["records"])}
        text = json.dumps(out, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
        try:
            _atomic_write_text(self.path, text)
        except OSError as exc:
            raise self._fail(f"could not be written ({exc.strerror or exc}); the previous file is unchanged") from exc


def _atomic_write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so that a crash leaves the old or the new file, never a mix."""
    parent = path.parent
    parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(parent)


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable (POSIX); directories cannot be opened on Windows."""
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
