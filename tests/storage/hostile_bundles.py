"""Hostile session bundles, crafted as a user who can recompute every hash would, and what import makes of them.

Used by tests/storage/test_bundle_hostile.py, and runnable to measure any checkout (before/after figures):

    PYTHONPATH=/tmp/before .venv/bin/python tests/storage/hostile_bundles.py     # the code at /tmp/before
    .venv/bin/python tests/storage/hostile_bundles.py                            # this checkout

It prints, per crafted bundle, one of: ``traceback`` (import raised something
else than the app's one-line error), ``refused`` (one-line error, store
unchanged), ``refused-but-written`` (error, yet the store changed),
``accepted-then-broken`` (imported, then `sessions`, `sessions --json`,
`export` csv/json/bundle, re-importing that export, or the History reads
fail) or ``accepted-fine``; the counts; and the peak memory (ru_maxrss) of
importing a bundle that holds a 4 GiB zero-filled array (a few MB on disk).
Only APIs that exist since the first bundle format are used.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import resource
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

JSON_MEMBERS = ("manifest.json", "session.json", "protocol.json", "calibration.json", "reps.json")
ARRAY_MEMBERS = ("samples/t_s.npy", "samples/force_n.npy", "samples/side.npy")
MEMBER_ORDER = ("manifest.json", "session.json", "protocol.json", "calibration.json", "reps.json", *ARRAY_MEMBERS)
_ZIP64_LIMIT = 0xFFFFFFFF


# ---------------------------------------------------------------------- a zip writer that can lie


@dataclass
class ZipEntry:
    """One member as written; the fields after ``data`` let a case lie about it."""

    name: str
    data: bytes = b""
    deflated: bytes | None = None  # a ready raw-deflate stream instead of deflating ``data``
    crc: int | None = None
    size: int | None = None  # uncompressed size; with ``deflated``, what it inflates to
    declared_size: int | None = None  # what the headers claim (default: the true size)
    unix_mode: int = 0o100644
    method: int = 8  # 8 deflate, 0 stored
    flags: int = 0


def write_zip(path: Path, entries: list[ZipEntry]) -> Path:
    """A plain zip (zip64 extras where a size needs them), written by hand so any header can be made to lie."""
    out = bytearray()
    central = bytearray()
    for e in entries:
        if e.deflated is not None:
            payload, crc, size = e.deflated, int(e.crc or 0), int(e.size or 0)
        else:
            size, crc = len(e.data), zlib.crc32(e.data)
            if e.method == 8:
                comp = zlib.compressobj(6, zlib.DEFLATED, -15)
                payload = comp.compress(e.data) + comp.flush()
            else:
                payload = e.data
        if e.crc is not None:
            crc = e.crc
        usize = size if e.declared_size is None else e.declared_size
        name = e.name.encode("utf-8")
        big = usize >= _ZIP64_LIMIT or len(payload) >= _ZIP64_LIMIT
        extra = struct.pack("<HHQQ", 1, 16, usize, len(payload)) if big else b""
        u32, c32 = (_ZIP64_LIMIT, _ZIP64_LIMIT) if big else (usize, len(payload))
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, e.flags, e.method, 0, 0x21, crc, c32, u32, len(name), len(extra))
        out += name + extra + payload
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, (3 << 8) | 45, 45, e.flags, e.method, 0, 0x21, crc, c32, u32,
            len(name), len(extra), 0, 0, 0, e.unix_mode << 16, offset,
        )  # fmt: skip
        central += name + extra
    cd_offset = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), cd_offset, 0)
    path.write_bytes(bytes(out))
    return path


# ---------------------------------------------------------------------- a bundle taken apart and put together


def npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=True)  # object arrays too: a hostile bundle may pickle
    return buf.getvalue()


def samples_sha256(t: np.ndarray, f: np.ndarray, side: np.ndarray) -> str:
    h = hashlib.sha256()
    for a, dtype in ((t, "<f8"), (f, "<f8"), (side, np.uint8)):
        h.update(np.ascontiguousarray(a, dtype=dtype).tobytes())
    return h.hexdigest()


def files_checksum(files: dict[str, Any]) -> str:
    canonical = json.dumps({k: dict(v) for k, v in files.items()}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass
class BundleParts:
    """A bundle's members decoded, to be edited and written again with every hash recomputed."""

    docs: dict[str, Any]  # JSON members, decoded
    arrays: dict[str, np.ndarray]
    raw: dict[str, bytes] = field(default_factory=dict)  # members replaced by raw bytes

    @classmethod
    def read(cls, path: Path) -> BundleParts:
        with zipfile.ZipFile(path) as zf:
            docs = {m: json.loads(zf.read(m)) for m in JSON_MEMBERS}
            arrays = {m: np.load(io.BytesIO(zf.read(m)), allow_pickle=False) for m in ARRAY_MEMBERS}
        return cls(docs, arrays)

    def copy(self) -> BundleParts:
        return BundleParts(copy.deepcopy(self.docs), {k: v.copy() for k, v in self.arrays.items()}, dict(self.raw))


def fix_sample_fields(parts: BundleParts) -> None:
    """Make the samples' hash and count in session.json and the manifest match the arrays (a hostile user would)."""
    try:
        t, f, s = (parts.arrays[m] for m in ARRAY_MEMBERS)
        digest = samples_sha256(t, f, s)
        count = len(t)
    except (TypeError, ValueError):
        return
    for doc in (parts.docs["session.json"], parts.docs["manifest.json"]):
        if isinstance(doc, dict):
            doc["samples_sha256"], doc["sample_count"] = digest, count


def member_bytes(parts: BundleParts) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for m in MEMBER_ORDER:
        if m == "manifest.json":
            continue
        if m in parts.raw:
            out[m] = parts.raw[m]
        elif m in parts.docs:
            out[m] = json.dumps(parts.docs[m], indent=2).encode("utf-8")  # NaN passes: it is meant to reach the validator
        else:
            out[m] = npy_bytes(parts.arrays[m])
    return out


def rehash_manifest(parts: BundleParts, members: dict[str, bytes]) -> bytes:
    """The manifest with its file table and checksum recomputed for ``members`` (unless it is no longer a table)."""
    if "manifest.json" in parts.raw:
        return parts.raw["manifest.json"]
    manifest = parts.docs["manifest.json"]
    if isinstance(manifest, dict) and isinstance(manifest.get("files"), dict):
        manifest["files"] = {m: {"sha256": hashlib.sha256(d).hexdigest(), "bytes": len(d)} for m, d in members.items()}
        if isinstance(manifest.get("checksum"), dict):
            manifest["checksum"]["value"] = files_checksum(manifest["files"])
    return json.dumps(manifest, indent=2).encode("utf-8")


def write_bundle(parts: BundleParts, path: Path, *, zip_edit: Callable[[list[ZipEntry]], None] | None = None) -> Path:
    members = member_bytes(parts)
    entries = [ZipEntry("manifest.json", rehash_manifest(parts, members))]
    entries += [ZipEntry(m, d) for m, d in members.items()]
    if zip_edit is not None:
        zip_edit(entries)
    return write_zip(path, entries)


def deep_json(levels: int) -> str:
    return "[" * levels + "]" * levels


# ---------------------------------------------------------------------- the crafted cases


@dataclass(frozen=True)
class Case:
    name: str
    arrays: Callable[[BundleParts], None] | None = None  # runs first; sample hash and count are then fixed
    docs: Callable[[BundleParts], None] | None = None  # then the JSON edits (may break the hash on purpose)
    zip_edit: Callable[[list[ZipEntry]], None] | None = None


def _set(member: str, *path: Any, value: Any = None, delete: bool = False) -> Callable[[BundleParts], None]:
    def edit(parts: BundleParts) -> None:
        target = parts.docs[member]
        for key in path[:-1]:
            target = target[key]
        if delete:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return edit


def _raw(member: str, data: bytes) -> Callable[[BundleParts], None]:
    return lambda parts: parts.raw.__setitem__(member, data)


def _array(member: str, make: Callable[[np.ndarray], np.ndarray]) -> Callable[[BundleParts], None]:
    def edit(parts: BundleParts) -> None:
        parts.arrays[member] = make(parts.arrays[member])

    return edit


def _zip(fn: Callable[[list[ZipEntry]], None]) -> Callable[[list[ZipEntry]], None]:
    return fn


def _entry(name: str, **changes: Any) -> Callable[[list[ZipEntry]], None]:
    def edit(entries: list[ZipEntry]) -> None:
        for e in entries:
            if e.name == name:
                for k, v in changes.items():
                    setattr(e, k, v)

    return edit


NAN = float("nan")
S, P, R, C, M = "session.json", "protocol.json", "reps.json", "calibration.json", "manifest.json"
T, F, SIDE = ARRAY_MEMBERS

CASES: tuple[Case, ...] = (
    # reps
    Case("reps are numbers", docs=_set(R, slice(None), value=[1, 2, 3])),
    Case("a rep's hold is a string", docs=_set(R, 0, "hold_s", value="6.0")),
    Case("a rep's plateau is NaN", docs=_set(R, 0, "plateau_n", value=NAN)),
    Case("a rep's side is 'up'", docs=_set(R, 0, "side", value="up")),
    Case("a rep's index is 1e300", docs=_set(R, 0, "index", value=1e300)),
    Case("a rep's target_met is 'yes'", docs=_set(R, 0, "target_met", value="yes")),
    Case("a rep field is null", docs=_set(R, 0, "onset_s", value=None)),
    Case("reps.json is an object", docs=lambda p: p.docs.__setitem__(R, {"reps": p.docs[R]})),
    Case("reps.json nested 100000 deep", docs=_raw(R, deep_json(100_000).encode())),
    Case("reps.json holds a 5000-digit integer", docs=_raw(R, b"[" + b"7" * 5000 + b"]")),
    Case("3000 reps", docs=lambda p: p.docs.__setitem__(R, [p.docs[R][0]] * 3000)),
    Case("reps.json of 5 MiB", docs=_raw(R, b"[" + b" " * (5 << 20) + b"]")),
    # session times
    Case("started_at in year 9999 at -05:00", docs=_set(S, "started_at", value="9999-12-31T23:59:59-05:00")),
    Case("started_at in year 1 at +05:00", docs=_set(S, "started_at", value="0001-01-01T00:00:00+05:00")),
    Case("started_at is a number", docs=_set(S, "started_at", value=12345)),
    Case("started_at has no time zone", docs=_set(S, "started_at", value="2026-01-01T09:00:00")),
    Case("started_at is 'yesterday'", docs=_set(S, "started_at", value="yesterday")),
    Case("ended_at before started_at", docs=_set(S, "ended_at", value="2001-01-01T00:00:00+00:00")),
    Case("patient created_at is a list", docs=_set(S, "patient", "created_at", value=[1])),
    # summary
    Case("summary is a list", docs=_set(S, "summary", value=[1, 2])),
    Case("summary is a string", docs=_set(S, "summary", value="great session")),
    Case("summary.sides is a list", docs=_set(S, "summary", "sides", value=[1])),
    Case("a side's plateau is a string", docs=_set(S, "summary", "sides", "left", "plateau_n", value="high")),
    Case("a side's reps is 'many'", docs=_set(S, "summary", "sides", "left", "reps", value="many")),
    Case("a side is a number", docs=_set(S, "summary", "sides", "left", value=3)),
    Case("LSI is NaN", docs=_set(S, "summary", "symmetry", "lsi_pct", value=NAN)),
    Case("LSI is missing", docs=_set(S, "summary", "symmetry", "lsi_pct", delete=True)),
    Case("LSI is a string", docs=_set(S, "summary", "symmetry", "lsi_pct", value="90")),
    Case("symmetry is a list", docs=_set(S, "summary", "symmetry", value=[90])),
    Case("LSI CI is a number", docs=_set(S, "summary", "symmetry", "lsi_ci95_pct", value=5)),
    Case("LSI CI holds strings", docs=_set(S, "summary", "symmetry", "lsi_ci95_pct", value=["a", "b"])),
    # analysis, device, other session fields
    Case("analysis is a list", docs=_set(S, "analysis", value=[1])),
    Case("analysis params hold NaN", docs=_set(S, "analysis", "params", "onset_k_sigma", value=NAN)),
    Case("device is a list", docs=_set(S, "device", value=["belt"])),
    Case("device rate is Infinity", docs=_set(S, "device", "rate_hz", value=float("inf"))),
    Case("notes is a number", docs=_set(S, "notes", value=42)),
    Case("end_reason is an object", docs=_set(S, "end_reason", value={"why": 1})),
    Case("complete is 'no'", docs=_set(S, "complete", value="no")),
    Case("session uuid is not a UUID", docs=_set(S, "uuid", value="not-a-uuid")),
    # patient
    Case("patient is a list", docs=_set(S, "patient", value=["Anna"])),
    Case("patient name of 10000 characters", docs=_set(S, "patient", "name", value="A" * 10_000)),
    Case("patient body mass is 'heavy'", docs=_set(S, "patient", "body_mass_kg", value="heavy")),
    Case("patient body mass is NaN", docs=_set(S, "patient", "body_mass_kg", value=NAN)),
    Case("patient uuid is a number", docs=_set(S, "patient", "uuid", value=7)),
    Case("patient name is a lone surrogate", docs=_set(S, "patient", "name", value="\ud800")),
    Case("patient name clears the terminal", docs=_set(S, "patient", "name", value="\x1b[2J\x1b[31mEve")),
    # format 2: the patient's clinic details, the prescription snapshot, pain
    Case("patient external id is blank", docs=_set(S, "patient", "external_id", value="   ")),
    Case("patient external id is a number", docs=_set(S, "patient", "external_id", value=42)),
    Case("patient external id rings the bell", docs=_set(S, "patient", "external_id", value="MRN\x07")),
    Case("patient born in 1850", docs=_set(S, "patient", "birth_year", value=1850)),
    Case("patient born in 2099", docs=_set(S, "patient", "birth_year", value=2099)),
    Case("patient birth year is 1970.5", docs=_set(S, "patient", "birth_year", value=1970.5)),
    Case("patient sex is 'F'", docs=_set(S, "patient", "sex", value="F")),
    Case("patient notes is a list", docs=_set(S, "patient", "notes", value=["a"])),
    Case("patient archived is 'yes'", docs=_set(S, "patient", "archived", value="yes")),
    Case("pain before is 11", docs=_set(S, "pain_before", value=11)),
    Case("pain after is -1", docs=_set(S, "pain_after", value=-1)),
    Case("pain before is 2.5", docs=_set(S, "pain_before", value=2.5)),
    Case("pain after is '3'", docs=_set(S, "pain_after", value="3")),
    Case("pain before is true", docs=_set(S, "pain_before", value=True)),
    Case("prescription is a list", docs=_set(S, "prescription", value=[7, 6])),
    Case("prescription hold is 0", docs=_set(S, "prescription", "hold_s", value=0)),
    Case("prescription hold is NaN", docs=_set(S, "prescription", "hold_s", value=NAN)),
    Case("prescription reps is 7.5", docs=_set(S, "prescription", "reps_per_side", value=7.5)),
    Case("prescription first side is 'both'", docs=_set(S, "prescription", "first_side", value="both")),
    Case("prescription 0 sessions a day", docs=_set(S, "prescription", "sessions_per_day", value=0)),
    Case("prescription target kind is 'kg'", docs=_set(S, "prescription", "target_kind", value="kg")),
    Case("prescription band low above high", docs=_set(S, "prescription", "target_low", value=95)),
    Case("prescription band with no kind", docs=_set(S, "prescription", "target_kind", value=None)),
    Case("prescription start is 'yesterday'", docs=_set(S, "prescription", "start_date", value="yesterday")),
    Case("prescription start is 2026-02-30", docs=_set(S, "prescription", "start_date", value="2026-02-30")),
    Case("prescription created_at has no zone", docs=_set(S, "prescription", "created_at", value="2026-01-01T09:00:00")),
    Case("prescription uuid is not a UUID", docs=_set(S, "prescription", "uuid", value="rx-1")),
    # protocol, calibration
    Case("protocol hold_s is 'six'", docs=_set(P, "hold_s", value="six")),
    Case("protocol hold_s is NaN", docs=_set(P, "hold_s", value=NAN)),
    Case("protocol hold_s is 1e300", docs=_set(P, "hold_s", value=1e300)),
    Case("protocol reps_per_side is -1", docs=_set(P, "reps_per_side", value=-1)),
    Case("protocol is a list", docs=lambda p: p.docs.__setitem__(P, [6])),
    Case("calibration gain is NaN", docs=_set(C, "newtons_per_count", value=NAN)),
    Case("calibration nested 100 deep", docs=_set(C, "note", value=json.loads(deep_json(100)))),
    # manifest
    Case("manifest sample_count is a string", docs=_set(M, "sample_count", value="6000")),
    Case("manifest checksum is a list", docs=_set(M, "checksum", value=["sha256"])),
    Case("manifest has duplicate keys", docs=_raw(M, b'{"format": "x", "format": "sensorapp-session-bundle"}')),
    # samples
    Case("a time is NaN", arrays=_array(T, lambda a: np.where(np.arange(a.size) == 5, np.nan, a))),
    Case("times decrease", arrays=_array(T, lambda a: a[::-1].copy())),
    Case("a side code is 7", arrays=_array(SIDE, lambda a: np.where(np.arange(a.size) == 3, 7, a).astype(np.uint8))),
    Case("force shorter than time", arrays=_array(F, lambda a: a[:-10].copy())),
    Case("times are float32", arrays=_array(T, lambda a: a.astype(np.float32))),
    Case("times are 2-D", arrays=_array(T, lambda a: a.reshape(-1, 2) if a.size % 2 == 0 else a[:-1].reshape(-1, 2))),
    Case("times are pickled objects", arrays=_array(T, lambda a: a.astype(object))),
    Case("times span -1e308..1e308", arrays=_array(T, lambda a: np.linspace(-1.0, 1.0, a.size) * 1.7e308)),
    Case("forces of 1e300 N", arrays=_array(F, lambda a: a * 0 + 1e300)),
    # zip structure
    Case("zip slip", zip_edit=_zip(lambda es: es.append(ZipEntry("../../evil.sh", b"rm -rf ~")))),
    Case("a symlink member", zip_edit=_entry("calibration.json", unix_mode=0o120777)),
    Case("a duplicate member", zip_edit=_zip(lambda es: es.append(ZipEntry("reps.json", b"[]")))),
    Case("unknown compression method", zip_edit=_entry("reps.json", method=99)),
    Case("an 'encrypted' member", zip_edit=_entry("reps.json", flags=1)),
    Case("a zip header that lies about a size", zip_edit=lambda es: _entry("session.json", declared_size=len(es[1].data) - 10)(es)),
    Case("session.json not UTF-8", docs=_raw(S, b"\xff\xfe{}")),
)


# ---------------------------------------------------------------------- the 4 GiB zero-filled array


def zero_bomb(source: BundleParts, path: Path, *, gib: int = 4, exact: bool = True, lie: bool = False) -> Path:
    """force_n.npy declares and holds ``gib`` GiB of zeros (about 4 MB deflated); hashes recomputed.

    ``lie``: the zip headers and the manifest give the size an array of the session's real
    length would have, so only the .npy header (or inflating) tells.

    The deflate stream is one 1 MiB block of zeros, fully flushed (byte-aligned, no reference back),
    repeated: built in milliseconds. ``exact`` computes the true CRC and SHA-256 of the inflated
    member (seconds); without it they are wrong, which only an importer that inflates everything sees.
    """
    parts = source.copy()
    n = gib * (1 << 30) // 8
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (n,)})
    head = header.getvalue()
    zeros = bytes(1 << 20)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = comp.compress(head) + comp.flush(zlib.Z_FULL_FLUSH)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    blocks = n * 8 // len(zeros)
    deflated = first + block * blocks + b"\x03\x00"  # an empty final block ends the stream
    size = len(head) + n * 8
    crc, sha = 0, hashlib.sha256()
    if exact:
        crc = zlib.crc32(head)
        sha.update(head)
        for _ in range(blocks):
            crc = zlib.crc32(zeros, crc)
            sha.update(zeros)
    members = member_bytes(parts)
    members[F] = b""  # placeholder: replaced below by the deflated stream
    manifest = parts.docs[M]
    manifest["files"] = {m: {"sha256": hashlib.sha256(d).hexdigest(), "bytes": len(d)} for m, d in members.items()}
    if lie:
        size = len(npy_bytes(parts.arrays[F]))
    manifest["files"][F] = {"sha256": sha.hexdigest(), "bytes": size}
    manifest["checksum"]["value"] = files_checksum(manifest["files"])
    entries = [ZipEntry(M, json.dumps(manifest).encode())]
    for m, d in members.items():
        entries.append(ZipEntry(m, deflated=deflated, crc=crc, size=size) if m == F else ZipEntry(m, d))
    return write_zip(path, entries)


def peak_rss_of_import(bundle: Path, data_dir: Path, *, limit_bytes: int = 16 << 30) -> tuple[int, int, str]:
    """(peak resident memory, that before the import, in bytes; the outcome's first line) of importing ``bundle`` in a fresh process."""
    code = f"""
import resource, sys

def peak_bytes():
    # VmHWM: this process's own high-water mark (ru_maxrss would carry the parent's over fork and exec)
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

resource.setrlimit(resource.RLIMIT_AS, ({limit_bytes}, {limit_bytes}))
from sensorapp.storage.store import SessionStore
from sensorapp.storage.bundle import import_bundle
store = SessionStore.open({str(data_dir)!r})
base = peak_bytes()
try:
    import_bundle(store, {str(bundle)!r})
    outcome = "accepted"
except MemoryError:
    outcome = "MemoryError"
except Exception as exc:
    outcome = type(exc).__name__ + ": " + str(exc).splitlines()[0][:150]
print(peak_bytes(), base)
print(outcome)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    lines = proc.stdout.splitlines()
    if len(lines) < 2:
        return -1, -1, f"process ended with {proc.returncode}: {proc.stderr.strip().splitlines()[-1:] or ''}"
    peak, base = (int(v) for v in lines[0].split())
    return peak, base, lines[1]


# ---------------------------------------------------------------------- outcomes


def cli_output(*argv: str) -> tuple[int, str, str]:
    """`sensorapp ARGV` in this process: (exit code, stdout, stderr); exceptions other than SystemExit propagate."""
    from sensorapp.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def cli(*argv: str) -> int:
    return cli_output(*argv)[0]


def store_dump(data_dir: Path) -> list[Any]:
    """Every row of every table, in order: equal dumps mean an unchanged store."""
    import sqlite3

    path = data_dir / "sensorapp.db"
    if not path.exists():
        return []
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return [(t, conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall()) for t in tables]
    finally:
        conn.close()


def reads_after_import(data_dir: Path, work: Path, session: str = "1") -> list[str]:
    """What fails among the later reads of the imported session (empty: all work)."""
    failures = []
    work.mkdir(parents=True, exist_ok=True)
    checks: list[tuple[str, Callable[[], int]]] = [
        ("sessions", lambda: cli("sessions", "--data-dir", str(data_dir))),
        ("sessions --json", lambda: cli("sessions", "--json", "--data-dir", str(data_dir))),
        ("export csv", lambda: cli("export", session, "--format", "csv", "--out", str(work / "x.csv"), "--data-dir", str(data_dir))),
        ("export json", lambda: cli("export", session, "--format", "json", "--out", str(work / "x.json"), "--data-dir", str(data_dir))),
        ("export bundle", lambda: cli("export", session, "--format", "bundle", "--out", str(work / "x.zip"), "--data-dir", str(data_dir))),
        ("import the export", lambda: cli("import", str(work / "x.zip"), "--data-dir", str(work / "again"))),
        ("history", lambda: _history(data_dir)),
    ]
    for label, run in checks:
        try:
            code = run()
        except Exception as exc:  # noqa: BLE001 (any exception here is the finding being counted)
            failures.append(f"{label}: {type(exc).__name__}: {str(exc)[:100]}")
            continue
        if code != 0:
            failures.append(f"{label}: exit {code}")
    return failures


def _history(data_dir: Path) -> int:
    from sensorapp.storage.history import adherence, patient_trend
    from sensorapp.storage.store import SessionStore

    store = SessionStore.open(data_dir)
    try:
        trend = patient_trend(store, None)
        trend.side("left")
        _ = trend.lsi
        json.dumps(trend.to_dict(), allow_nan=False)
        adherence(store, None)
    finally:
        store.close()
    return 0


def outcome(bundle: Path, work: Path) -> tuple[str, str]:
    """(outcome, detail) of `sensorapp import BUNDLE` into a fresh store under ``work``."""
    from sensorapp.storage.store import SessionStore

    data_dir = work / "store"
    SessionStore.open(data_dir).close()
    before = store_dump(data_dir)
    try:
        code, _, err = cli_output("import", str(bundle), "--data-dir", str(data_dir))
    except Exception as exc:  # noqa: BLE001 (a traceback is the outcome being counted)
        return "traceback", f"{type(exc).__name__}: {str(exc)[:120]}"
    if code != 0:
        return ("refused" if store_dump(data_dir) == before else "refused-but-written"), err.strip()[:160]
    failures = reads_after_import(data_dir, work)
    return ("accepted-then-broken", "; ".join(failures)) if failures else ("accepted-fine", "")


def valid_parts(work: Path) -> BundleParts:
    """A real session (virtual patient, 2 reps a side at 100 Hz) exported by the code under test."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from storage_helpers import record_session

    from sensorapp.storage.bundle import export_bundle
    from sensorapp.storage.store import SessionStore

    store = SessionStore.open(work / "source")
    patient = add_caseload_patient(store)
    record = record_session(store, patient_id=patient.id, reps_per_side=2, prescription=store.prescription(patient.id))
    store.set_pain(record.id, before=2, after=3)
    path = export_bundle(store, record.id, work / "valid.sensorapp.zip")
    store.close()
    return BundleParts.read(path)


def add_caseload_patient(store: Any) -> Any:
    """Anna with every detail schema v3 stores, and a prescription (set before her sessions, so they carry it)."""
    from sensorapp.clinic.prescription import Prescription

    patient = store.add_patient(
        "Anna", external_id="MRN-0001", birth_year=1968, sex="female", involved_side="left",
        body_mass_kg=62.0, lever_arm_m=0.82, notes="right THA 2025",
    )
    store.set_prescription(patient.id, Prescription(target_kind="percent_of_best", target_low=70, target_high=90))
    return patient


def craft(case: Case, source: BundleParts, path: Path) -> Path:
    parts = source.copy()
    if case.arrays is not None:
        case.arrays(parts)
    fix_sample_fields(parts)
    if case.docs is not None:
        case.docs(parts)
    return write_bundle(parts, path, zip_edit=case.zip_edit)


@contextlib.contextmanager
def _workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="hostile-bundles-") as d:
        yield Path(d)


def main() -> int:
    import sensorapp

    print(f"sensorapp from {Path(sensorapp.__file__).parent}")
    counts: dict[str, int] = {}
    with _workdir() as work:
        source = valid_parts(work)
        for i, case in enumerate(CASES):
            case_dir = work / f"case{i}"
            case_dir.mkdir()
            result, detail = outcome(craft(case, source, case_dir / "bundle.zip"), case_dir)
            counts[result] = counts.get(result, 0) + 1
            print(f"{result:21} {case.name:42} {detail}")
        ok_dir = work / "valid"
        ok_dir.mkdir()
        print(f"{'(the valid bundle)':21} {outcome(write_bundle(source.copy(), ok_dir / 'ok.zip'), ok_dir)[0]}")
        print(f"\n{len(CASES)} hostile bundles: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        bomb = zero_bomb(source, work / "bomb.zip", exact="--fast" not in sys.argv)
        peak, base, result = peak_rss_of_import(bomb, work / "bomb-store")
        print(
            f"4 GiB zero-filled force_n.npy ({bomb.stat().st_size / 1e6:.1f} MB on disk): peak RSS {peak / 1e6:.0f} MB"
            f" ({base / 1e6:.0f} MB before the import); {result}"
        )
    return 0


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    sys.exit(main())
