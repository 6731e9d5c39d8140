"""What a session bundle's JSON members may hold: a small declarative schema for untrusted input.

A bundle comes from another computer and its checksums are not secret (anyone
can edit a member and recompute every hash), so import treats its content as
untrusted. Everything the store, ``sensorapp sessions``/``export`` and the
History view later read is declared here with its type and range; anything
else is refused before a single row is written. Plain Python, no dependency:
a handful of node types (``Number``, ``Text``, ``Flag``, ``Moment``, ``ListOf``,
``MapOf``, ``Record``, ``Plain``) and ``parse_json``, which refuses what the
standard parser lets through (NaN, Infinity, 1e999, duplicate keys, integers
of thousands of digits, nesting deep enough to exhaust the stack).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

MAX_REPS = 2000  # per session; the protocol asks for 7 per side
MAX_NUMBER = 1e15  # magnitude bound of any number in a bundle's JSON (a 1 kHz day is 8.6e7 samples)
MAX_JSON_DEPTH = 16  # the deepest legitimate member (session.json) nests 5 levels
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
_INT_DIGITS = 20  # longer integer literals are refused before Python converts them
_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")  # control characters, lone surrogates
_BAD_CHARS_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class SchemaError(ValueError):
    """Where (a JSON path like ``summary.sides.left.plateau_n``) and what is wrong."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where or 'it'} {problem}")
        self.where = where
        self.problem = problem


def _at(path: str, key: str | int) -> str:
    return f"{path}[{key}]" if isinstance(key, int) else (f"{path}.{key}" if path else key)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class Node:
    """One schema node; ``check`` raises SchemaError or returns the (unchanged) value."""

    nullable: bool = False

    def check(self, value: Any, path: str = "", depth: int = 0) -> Any:
        if value is None:
            if self.nullable:
                return None
            raise SchemaError(path, f"must not be null (expected {self.describe()})")
        if depth > MAX_JSON_DEPTH:
            raise SchemaError(path, f"is nested more than {MAX_JSON_DEPTH} levels deep")
        return self._check(value, path, depth)

    def _check(self, value: Any, path: str, depth: int) -> Any:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def _wrong(self, value: Any, path: str) -> SchemaError:
        return SchemaError(path, f"must be {self.describe()}, found {_kind(value)}")


@dataclass(frozen=True)
class Number(Node):
    """A finite JSON number (never true/false) in [lo, hi]; ``above_lo``: strictly above lo."""

    lo: float = -MAX_NUMBER
    hi: float = MAX_NUMBER
    integer: bool = False
    nullable: bool = False
    above_lo: bool = False

    def _check(self, value: Any, path: str, depth: int) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (self.integer and not isinstance(value, int)):
            raise self._wrong(value, path)
        if not math.isfinite(value):
            raise SchemaError(path, f"must be a finite number, found {value!r}")
        if value < self.lo or value > self.hi or (self.above_lo and value == self.lo):
            raise SchemaError(path, f"must be {self.describe()}, found {value!r}")
        return value

    def describe(self) -> str:
        what = "a whole number" if self.integer else "a number"
        if self.above_lo:
            return f"{what} above {self.lo:g} and at most {self.hi:g}"
        return f"{what} from {self.lo:g} to {self.hi:g}"


@dataclass(frozen=True)
class Text(Node):
    """A string of at most ``max_len`` characters without control characters or lone surrogates."""

    max_len: int = 200
    choices: tuple[str, ...] | None = None
    nullable: bool = False
    multiline: bool = False  # allows newline, tab and carriage return
    non_blank: bool = False
    pattern: re.Pattern[str] | None = None

    def _check(self, value: Any, path: str, depth: int) -> Any:
        if not isinstance(value, str):
            raise self._wrong(value, path)
        if self.choices is not None:
            if value not in self.choices:
                raise SchemaError(path, f"must be one of {', '.join(map(repr, self.choices))}, found {value[:40]!r}")
            return value
        if len(value) > self.max_len:
            raise SchemaError(path, f"is longer than {self.max_len} characters ({len(value)})")
        if (_BAD_CHARS_MULTILINE if self.multiline else _BAD_CHARS).search(value):
            raise SchemaError(path, "contains control characters or invalid Unicode")
        if self.non_blank and not value.strip():
            raise SchemaError(path, "must not be empty")
        if self.pattern is not None and not self.pattern.fullmatch(value):
            raise SchemaError(path, f"is not {self.describe()}: {value[:40]!r}")
        return value

    def describe(self) -> str:
        if self.pattern is _HEX64:
            return "a SHA-256 in hex"
        if self.pattern is _UUID:
            return "a UUID"
        if self.pattern is _ISO_DATE:
            return "a date (YYYY-MM-DD)"
        return "text"


UUID_TEXT = Text(max_len=36, pattern=_UUID)  # the canonical lower-case form the exporter writes


HEX64 = Text(max_len=64, pattern=_HEX64)


@dataclass(frozen=True)
class Flag(Node):
    nullable: bool = False

    def _check(self, value: Any, path: str, depth: int) -> Any:
        if not isinstance(value, bool):
            raise self._wrong(value, path)
        return value

    def describe(self) -> str:
        return "true or false"


@dataclass(frozen=True)
class Moment(Node):
    """An ISO 8601 time with a UTC offset, from ``EARLIEST`` to ``LATEST``."""

    nullable: bool = False

    def _check(self, value: Any, path: str, depth: int) -> Any:
        if not isinstance(value, str) or len(value) > 64:
            raise self._wrong(value, path)
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise SchemaError(path, f"is not an ISO 8601 time: {value[:40]!r}") from None
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise SchemaError(path, f"has no time zone: {value!r}")
        try:
            utc = moment.astimezone(UTC)
        except (OverflowError, ValueError):
            raise SchemaError(path, f"is out of range: {value!r}") from None
        if not EARLIEST <= utc < LATEST:
            raise SchemaError(path, f"is out of range ({EARLIEST.year} to {LATEST.year - 1}): {value!r}")
        return value

    def describe(self) -> str:
        return "an ISO 8601 time with a time zone"


@dataclass(frozen=True)
class ListOf(Node):
    item: Node
    max_len: int = 1000
    length: int | None = None  # exactly this many items
    nullable: bool = False

    def _check(self, value: Any, path: str, depth: int) -> Any:
        if not isinstance(value, list):
            raise self._wrong(value, path)
        if self.length is not None and len(value) != self.length:
            raise SchemaError(path, f"must have {self.length} items, found {len(value)}")
        if len(value) > self.max_len:
            raise SchemaError(path, f"has more than {self.max_len} items ({len(value)})")
        for i, v in enumerate(value):
            self.item.check(v, _at(path, i), depth + 1)
        return value

    def describe(self) -> str:
        return "a list"


@dataclass(frozen=True)
class MapOf(Node):
    """An object with free keys (``key`` says which) and one kind of value."""

    value: Node
    key: Text = Text(max_len=100)
    max_len: int = 100
    nullable: bool = False

    def _check(self, value: Any, path: str, depth: int) -> Any:
        if not isinstance(value, dict):
            raise self._wrong(value, path)
        if len(value) > self.max_len:
            raise SchemaError(path, f"has more than {self.max_len} entries ({len(value)})")
        for k, v in value.items():
            self.key.check(k, _at(path, "(key)"), depth + 1)
            self.value.check(v, _at(path, k), depth + 1)
        return value

    def describe(self) -> str:
        return "an object"


@dataclass(frozen=True)
class Plain(Node):
    """Any JSON within the limits: for keys this version does not know (kept, shown, exported as they are)."""

    nullable: bool = True
    max_items: int = 1000

    def _check(self, value: Any, path: str, depth: int) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)):
            return Number().check(value, path, depth)
        if isinstance(value, str):
            return Text(max_len=10_000, multiline=True).check(value, path, depth)
        if isinstance(value, list):
            return ListOf(self, max_len=self.max_items).check(value, path, depth)
        if isinstance(value, dict):
            return MapOf(self, max_len=self.max_items).check(value, path, depth)
        raise self._wrong(value, path)

    def describe(self) -> str:
        return "plain JSON"


PLAIN = Plain()


@dataclass(frozen=True)
class Record(Node):
    """An object with declared fields; ``required`` must be present, others are checked when present.

    ``extra`` checks keys not declared (a newer app's additions); None refuses them.
    """

    fields: Mapping[str, Node]
    required: frozenset[str] = frozenset()
    extra: Node | None = PLAIN
    nullable: bool = False
    max_extra: int = 100
    name: str = "an object"

    def _check(self, value: Any, path: str, depth: int) -> Any:
        if not isinstance(value, dict):
            raise self._wrong(value, path)
        missing = sorted(self.required - value.keys())
        if missing:
            raise SchemaError(path, f"lacks {', '.join(missing)}")
        extras = [k for k in value if k not in self.fields]
        if extras and self.extra is None:
            raise SchemaError(path, f"has unexpected keys: {', '.join(repr(k[:40]) for k in extras[:5])}")
        if len(extras) > self.max_extra:
            raise SchemaError(path, f"has more than {self.max_extra} unknown keys")
        for k, v in value.items():
            node = self.fields.get(k)
            if node is None:
                Text(max_len=100).check(k, _at(path, "(key)"), depth + 1)
                node = self.extra
            assert node is not None
            node.check(v, _at(path, k), depth + 1)
        return value

    def describe(self) -> str:
        return self.name


def record(
    name: str, fields: Mapping[str, Node], *, required: tuple[str, ...] = (), extra: Node | None = PLAIN, nullable: bool = False
) -> Record:
    unknown = set(required) - set(fields)
    if unknown:
        raise ValueError(f"required fields not declared: {sorted(unknown)}")
    return Record(fields=dict(fields), required=frozenset(required), extra=extra, nullable=nullable, name=name)


# ---------------------------------------------------------------------- parsing


def _refuse_constant(name: str) -> Any:
    raise SchemaError("", f"contains {name}, which is not a number in JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise SchemaError("", f"contains the number {text[:40]} that overflows")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > _INT_DIGITS:
        raise SchemaError("", f"contains an integer of {len(text)} digits")
    return int(text)


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise SchemaError("", f"has the key {key[:40]!r} twice in one object")
        out[key] = value
    return out


def parse_json(raw: bytes) -> Any:
    """Strict JSON from untrusted bytes: UTF-8, no NaN/Infinity/overflow, no duplicate keys, bounded nesting.

    SchemaError (a ValueError) for anything else; never RecursionError.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SchemaError("", f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        return json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
            object_pairs_hook=_object_without_duplicates,
        )
    except SchemaError:
        raise
    except json.JSONDecodeError as exc:
        raise SchemaError("", f"is not valid JSON ({exc})") from None
    except RecursionError:  # the C parser recurses per nesting level; the stack limit stops it cleanly
        raise SchemaError("", "is nested too deeply") from None
    except ValueError as exc:
        raise SchemaError("", f"is not valid JSON ({str(exc)[:80]})") from None


# ---------------------------------------------------------------------- the bundle's members (format 1)

SIDE = Text(choices=("left", "right"))
SIDE_OR_NONE = Text(choices=("left", "right"), nullable=True)
NUM = Number()
NUM_OR_NONE = Number(nullable=True)
COUNT = Number(lo=0, hi=MAX_REPS, integer=True)
SHORT_TEXT = Text(max_len=200)

# Every field of ``sensorapp.signal.Rep`` (tests/storage/test_bundle_hostile.py checks the two agree).
# Fields without a default are required; a bundle whose reps lack one came from a sensorapp whose
# Rep had other fields, and import derives the reps again from its samples.
REP_FIELDS: dict[str, Node] = {
    "side": SIDE_OR_NONE,
    "index": Number(lo=1, hi=MAX_REPS, integer=True),
    "onset_s": NUM,
    "release_s": NUM,
    "hold_s": NUM,
    "baseline_n": NUM,
    "plateau_n": NUM,
    "peak_n": NUM,
    "mean_n": NUM,
    "impulse_ns": NUM,
    "time_to_peak_s": NUM,
    "rfd_n_per_s": NUM_OR_NONE,
    "steadiness_cv_pct": NUM_OR_NONE,
    "release_duration_s": NUM,
    "target_met": Flag(),
    "gap_bridged": Flag(),
    "hold_start_s": NUM,
    "hold_end_s": NUM,
    "ramp_s": NUM,
    "duration_s": NUM,
    "rate_hz": NUM,
    "max_gap_s": NUM,
    "target_hold_s": NUM,
    "baseline_drift_n_per_min": NUM,
    "closed_by": Text(max_len=64),
}
REP_FIELDS_WITH_DEFAULTS = frozenset({"baseline_drift_n_per_min", "closed_by"})
REP = record("a rep", REP_FIELDS)
REPS = ListOf(REP, max_len=MAX_REPS)

SIDE_SUMMARY = record(
    "a side's summary",
    {
        "reps": COUNT,
        "reps_target_met": COUNT,
        "best_rep_indices": ListOf(Number(lo=0, hi=MAX_REPS, integer=True), max_len=MAX_REPS),
        **{
            k: NUM_OR_NONE
            for k in (
                "mean_hold_s", "plateau_n", "best_peak_n", "mean_plateau_n", "hold_cv_pct", "mean_steadiness_cv_pct",
                "fatigue_index_pct", "fatigue_slope_pct_per_rep", "lever_arm_m", "torque_nm", "plateau_n_per_kg",
                "torque_nm_per_kg",
            )
        },
    },
)  # fmt: skip
SYMMETRY = record(
    "the symmetry",
    {
        "lsi_pct": NUM,
        "asymmetry_pct": NUM,
        "weaker_side": SIDE,
        "stronger_side": SIDE,
        "band": Text(choices=("green", "amber", "red")),
        "uncertain": Flag(),
        "basis": Text(max_len=32),
        "involved_side": SIDE_OR_NONE,
        "lsi_ci95_pct": ListOf(NUM_OR_NONE, length=2, nullable=True),
        "robinson_si_pct": NUM,
        "symmetry_angle_pct": NUM,
    },
    required=("lsi_pct",),  # `sessions` and History index it directly
    nullable=True,
)
SUMMARY = record(
    "a summary",
    {
        "target_hold_s": Number(lo=0, hi=3600, above_lo=True),
        "target_tolerance_s": Number(lo=0, hi=3600),
        "reps": ListOf(REP, max_len=MAX_REPS),  # rounded copies of reps.json; only exported again
        "sides": MapOf(SIDE_SUMMARY, key=Text(choices=("left", "right", "unknown")), max_len=3),
        "symmetry": SYMMETRY,
        "body_mass_kg": NUM_OR_NONE,
    },
    nullable=True,
)
ANALYSIS = record(
    "the analysis note",
    {
        "params": MapOf(PLAIN, max_len=100),
        "analysed_at": Text(max_len=64, nullable=True),
        "app_version": Text(max_len=100, nullable=True),
        "error": Text(max_len=2000, multiline=True, nullable=True),
    },
    nullable=True,
)
_SCALAR_EXTRA = Plain(max_items=0)  # device details are shown as they are: no containers
DEVICE = record(
    "the device",
    {
        **{k: Text(max_len=200) for k in ("kind", "name", "address", "serial", "model", "firmware", "calibration")},
        "capacity_n": NUM_OR_NONE,
        "rate_hz": NUM_OR_NONE,
        "supports_rate_choice": Flag(),
        "supports_tare": Flag(),
    },
    extra=_SCALAR_EXTRA,
)
PATIENT = record(
    "the patient",
    {
        "id": Number(integer=True, nullable=True),  # the exporter's own id: not used
        "uuid": UUID_TEXT,
        "name": Text(max_len=200, non_blank=True),
        "involved_side": SIDE_OR_NONE,
        "body_mass_kg": Number(lo=0, hi=1000, above_lo=True, nullable=True),
        "lever_arm_m": Number(lo=0, hi=10, above_lo=True, nullable=True),
        "created_at": Moment(nullable=True),
        # Format 2 (schema v3): the clinic's details.
        "external_id": Text(max_len=100, non_blank=True, nullable=True),
        "birth_year": Number(lo=1900, hi=2100, integer=True, nullable=True),  # the importer also refuses a future year
        "sex": Text(choices=("female", "male", "other"), nullable=True),
        "notes": Text(max_len=100_000, multiline=True),
        "archived": Flag(),
    },
    required=("uuid", "name"),
    nullable=True,
)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
PAIN = Number(lo=0, hi=10, integer=True, nullable=True)  # the 0-10 numeric rating scale
PRESCRIPTION = record(
    "the prescription",
    {
        "reps_per_side": Number(lo=1, hi=1000, integer=True),
        "hold_s": Number(lo=0, hi=3600, above_lo=True),
        "rest_s": Number(lo=0, hi=3600),
        "first_side": SIDE,
        "target_kind": Text(choices=("percent_of_best", "absolute_n"), nullable=True),
        "target_low": Number(lo=0, hi=10_000, above_lo=True, nullable=True),
        "target_high": Number(lo=0, hi=10_000, above_lo=True, nullable=True),
        "sessions_per_day": Number(lo=1, hi=20, integer=True),
        "start_date": Text(max_len=10, pattern=_ISO_DATE, nullable=True),
        "uuid": Text(max_len=36, pattern=_UUID, nullable=True),
        "created_at": Moment(nullable=True),
    },
    nullable=True,
)
MAX_SAMPLES = 86_400_000  # 24 h at 1 kHz: far beyond a session (minutes), small enough to refuse a zip bomb
SESSION = record(
    "session.json",
    {
        "uuid": UUID_TEXT,
        "started_at": Moment(),
        "ended_at": Moment(),
        "complete": Flag(),
        "end_reason": Text(max_len=500, nullable=True),
        "app_version": Text(max_len=100),
        "device": DEVICE,
        "notes": Text(max_len=100_000, multiline=True),
        "sample_count": Number(lo=0, hi=MAX_SAMPLES, integer=True),
        "samples_sha256": HEX64,
        "patient": PATIENT,
        "summary": SUMMARY,
        "analysis": ANALYSIS,
        # Format 2 (schema v3): what the session was done under, and the pain ratings.
        "prescription": PRESCRIPTION,
        "pain_before": PAIN,
        "pain_after": PAIN,
    },
    required=("uuid", "started_at", "ended_at", "sample_count", "samples_sha256"),
)
PROTOCOL = record(
    "protocol.json",
    {
        "reps_per_side": Number(lo=1, hi=1000, integer=True),
        "hold_s": Number(lo=0, hi=3600, above_lo=True),
        "hold_tolerance_s": Number(lo=0, hi=3600),
        "rest_s": Number(lo=0, hi=86_400),
        "first_side": SIDE,
        "both_sides": Flag(),
        "target_band_pct": ListOf(Number(lo=0, hi=1000, above_lo=True), length=2, nullable=True),
    },
)
CALIBRATION = record(
    "calibration.json",
    {
        "zero_counts": NUM_OR_NONE,
        "newtons_per_count": NUM_OR_NONE,
        "source": Text(max_len=200, nullable=True),
        "note": Text(max_len=2000, multiline=True, nullable=True),
        "created_at": Text(max_len=64, nullable=True),
        "linearity_error_n": NUM_OR_NONE,
        "capacity_n": NUM_OR_NONE,
    },
)
FILE_ENTRY = record("a file entry", {"sha256": HEX64, "bytes": Number(lo=0, hi=2**40, integer=True)}, required=("sha256", "bytes"))
MANIFEST = record(
    "manifest.json",
    {
        "format": Text(max_len=100),
        "format_version": Number(lo=1, hi=2**31, integer=True),
        "app_version": Text(max_len=100),
        "created_at": Text(max_len=64),
        "session_uuid": UUID_TEXT,
        "sample_count": Number(lo=0, hi=MAX_SAMPLES, integer=True),
        "samples_sha256": HEX64,
        "side_codes": ListOf(Text(max_len=10), length=3),
        "files": MapOf(FILE_ENTRY, max_len=16),
        "checksum": record(
            "the checksum",
            {"algorithm": Text(choices=("sha256",)), "of": Text(choices=("files",)), "value": HEX64},
            required=("algorithm", "value"),
        ),
    },
    required=("format", "format_version", "session_uuid", "sample_count", "samples_sha256", "files", "checksum"),
)
