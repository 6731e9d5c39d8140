"""Bytes per hour of 1 kHz recording, and the sample layouts the choice was made between.

    python benchmarks/storage_size.py                # the store as built, 1 h at 1 kHz
    python benchmarks/storage_size.py --compare      # plus the alternative layouts (10 min each, scaled to 1 h)

First part: one hour of belt-like samples recorded through ``SessionRecorder``
and finished (compacted); the store file size after close (WAL
checkpointed), bytes per sample, and the size of the session's bundle.

``--compare``: the same samples written straight to SQLite in four layouts,
committing every 500 samples (0.5 s at 1 kHz) with synchronous=FULL, then read
back in full: a row per sample (REAL, REAL, TEXT), and a BLOB row per
500-sample chunk as raw float64, zlib, or byte-shuffled + zlib (what the
store uses, before compaction to 64 ki-sample chunks).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from storage_data import belt_like_recording, dir_bytes, record_into

from sensorapp.storage.bundle import export_bundle
from sensorapp.storage.sample_codec import CODEC_F8, CODEC_F8_SHUFFLE_ZLIB, decode_f8, encode_f8
from sensorapp.storage.store import SessionStore


def store_size(seconds: float) -> None:
    data = belt_like_recording(seconds)
    with tempfile.TemporaryDirectory() as tmp:
        store = SessionStore.open(tmp)
        recorder, _ = record_into(store, data)
        session_id = recorder.finish().id
        bundle = export_bundle(store, session_id, Path(tmp) / "session.sensorapp.zip")
        bundle_bytes = bundle.stat().st_size
        bundle.unlink()
        store.close()
        db_bytes = dir_bytes(Path(tmp))
    scale = 3600.0 / seconds
    print(f"store: {len(data):,} samples -> {db_bytes / 1e6:.1f} MB ({db_bytes / len(data):.2f} B/sample, "
          f"{db_bytes * scale / 1e6:.1f} MB per hour at 1 kHz; raw float64 pairs would be 16 B/sample)")
    print(f"bundle: {bundle_bytes / 1e6:.1f} MB ({bundle_bytes / len(data):.2f} B/sample)")


def _layout(name: str, folder: Path, t: np.ndarray, f: np.ndarray, batch: int) -> tuple[float, float, int]:
    db = folder / f"{name}.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    if name == "row per sample":
        conn.execute("CREATE TABLE s (session_id INTEGER, t_s REAL, force_n REAL, side TEXT)")
        conn.execute("CREATE INDEX s_by_session ON s (session_id, t_s)")
    else:
        conn.execute("CREATE TABLE c (id INTEGER PRIMARY KEY, session_id INTEGER, seq INTEGER, n INTEGER, t_s BLOB, force_n BLOB)")
    codec = {"blob f8": CODEC_F8, "blob shuffle+zlib": CODEC_F8_SHUFFLE_ZLIB}.get(name)
    t0 = time.perf_counter()
    for k, lo in enumerate(range(0, t.size, batch)):
        tt, ff = t[lo : lo + batch], f[lo : lo + batch]
        conn.execute("BEGIN")
        if name == "row per sample":
            conn.executemany("INSERT INTO s VALUES (1, ?, ?, 'left')", zip(tt.tolist(), ff.tolist(), strict=True))
        elif name == "blob zlib (no shuffle)":
            conn.execute("INSERT INTO c (session_id, seq, n, t_s, force_n) VALUES (1, ?, ?, ?, ?)",
                         (k, tt.size, zlib.compress(tt.tobytes(), 1), zlib.compress(ff.tobytes(), 1)))
        else:
            conn.execute("INSERT INTO c (session_id, seq, n, t_s, force_n) VALUES (1, ?, ?, ?, ?)",
                         (k, tt.size, encode_f8(tt, codec), encode_f8(ff, codec)))
        conn.execute("COMMIT")
    write_s = time.perf_counter() - t0
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    t0 = time.perf_counter()
    if name == "row per sample":
        rows = conn.execute("SELECT t_s, force_n FROM s WHERE session_id = 1 ORDER BY t_s").fetchall()
        back = np.array(rows, dtype=np.float64)
        rt, rf = back[:, 0], back[:, 1]
    else:
        rows = conn.execute("SELECT n, t_s, force_n FROM c WHERE session_id = 1 ORDER BY seq").fetchall()
        if name == "blob zlib (no shuffle)":
            rt = np.concatenate([np.frombuffer(zlib.decompress(r[1]), "<f8") for r in rows])
            rf = np.concatenate([np.frombuffer(zlib.decompress(r[2]), "<f8") for r in rows])
        else:
            rt = np.concatenate([decode_f8(r[1], r[0], codec) for r in rows])
            rf = np.concatenate([decode_f8(r[2], r[0], codec) for r in rows])
    read_s = time.perf_counter() - t0
    conn.close()
    assert np.array_equal(rt, t) and np.array_equal(rf, f), name
    return write_s, read_s, dir_bytes(folder)


def compare(seconds: float) -> None:
    data = belt_like_recording(seconds)
    t, f = data.t_s, data.force_n
    scale = 3600.0 / seconds
    print(f"\nlayouts ({seconds:.0f} s at 1 kHz = {t.size:,} samples, commit every 500 samples; figures scaled to 1 h):")
    print(f"{'layout':<24} {'insert k/s':>10} {'B/sample':>9} {'MB/hour':>8} {'read 1 h':>9}")
    for name in ("row per sample", "blob f8", "blob zlib (no shuffle)", "blob shuffle+zlib"):
        with tempfile.TemporaryDirectory() as tmp:
            write_s, read_s, size = _layout(name, Path(tmp), t, f, 500)
        print(f"{name:<24} {t.size / write_s / 1e3:>10,.0f} {size / t.size:>9.2f} {size * scale / 1e6:>8.1f} {read_s * scale:>8.2f}s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3600.0, help="length recorded into the store (default 3600)")
    parser.add_argument("--compare", action="store_true", help="also measure the alternative layouts")
    parser.add_argument("--compare-seconds", type=float, default=600.0)
    args = parser.parse_args(argv)
    store_size(args.seconds)
    if args.compare:
        compare(args.compare_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
