"""Raw samples as BLOBs: one row per chunk of consecutive samples, not one row per sample.

A chunk holds up to ``COMPACT_CHUNK_SAMPLES`` samples of one side: time and
force as little-endian float64 (bit-exact, so a session re-analysed later
sees exactly what the belt delivered). The default codec byte-shuffles each
array (all first bytes, then all second bytes...) and deflates it at level 1:
the high bytes of time and force barely change, so this halves the size for
a few ms per hour of data. docs/storage.md has the figures behind the choice.
"""

from __future__ import annotations

import hashlib
import zlib

import numpy as np

from .errors import StorageError

SIDE_NAMES: tuple[str, ...] = ("", "left", "right")  # code -> label; "" is unknown
SIDE_CODES: dict[str, int] = {name: code for code, name in enumerate(SIDE_NAMES)}

CODEC_F8 = "f8le"  # plain little-endian float64
CODEC_F8_SHUFFLE_ZLIB = "f8le-shuffle-zlib1"
DEFAULT_CODEC = CODEC_F8_SHUFFLE_ZLIB
CODECS: tuple[str, ...] = (CODEC_F8, CODEC_F8_SHUFFLE_ZLIB)

COMPACT_CHUNK_SAMPLES = 65536  # 64 ki samples: ~1 min at 1 kHz, 11 min at 100 Hz


def side_code(side: str | None) -> int:
    """0 unknown, 1 left, 2 right; ValueError for anything else."""
    key = "" if side is None else side
    try:
        return SIDE_CODES[key]
    except KeyError:
        raise ValueError(f"side must be 'left', 'right' or None, got {side!r}") from None


def encode_f8(values: np.ndarray, codec: str = DEFAULT_CODEC) -> bytes:
    """Bytes of a float64 array in ``codec``."""
    le = np.ascontiguousarray(values, dtype="<f8")
    if codec == CODEC_F8:
        return le.tobytes()
    if codec == CODEC_F8_SHUFFLE_ZLIB:
        shuffled = np.ascontiguousarray(le.view(np.uint8).reshape(-1, 8).T)
        return zlib.compress(shuffled.tobytes(), 1)
    raise ValueError(f"unknown sample codec {codec!r}")


def decode_f8(blob: bytes, n: int, codec: str) -> np.ndarray:
    """The float64 array of ``n`` values stored in ``blob``; StorageError if it does not decode to exactly that."""
    if codec == CODEC_F8:
        raw = bytes(blob)
        if len(raw) != 8 * n:
            raise StorageError(f"corrupt sample chunk: {len(raw)} bytes for {n} samples")
        return np.frombuffer(raw, dtype="<f8").astype(np.float64)
    if codec == CODEC_F8_SHUFFLE_ZLIB:
        try:
            raw = zlib.decompress(blob)
        except zlib.error as exc:
            raise StorageError(f"corrupt sample chunk: {exc}") from None
        if len(raw) != 8 * n:
            raise StorageError(f"corrupt sample chunk: {len(raw)} bytes for {n} samples")
        planes = np.frombuffer(raw, dtype=np.uint8).reshape(8, n)
        return np.ascontiguousarray(planes.T).view("<f8").reshape(n).astype(np.float64)
    raise StorageError(f"unknown sample codec {codec!r} (written by a newer sensorapp?)")


def samples_sha256(t_s: np.ndarray, force_n: np.ndarray, side_codes: np.ndarray) -> str:
    """Content hash of a session's samples, independent of how they are chunked."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(t_s, dtype="<f8").tobytes())
    h.update(np.ascontiguousarray(force_n, dtype="<f8").tobytes())
    h.update(np.ascontiguousarray(side_codes, dtype=np.uint8).tobytes())
    return h.hexdigest()
