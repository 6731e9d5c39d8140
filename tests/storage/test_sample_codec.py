"""The sample chunk codecs: bit-exact for every float64, loud on corruption."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sensorapp.storage.errors import StorageError
from sensorapp.storage.sample_codec import (
    CODEC_F8_SHUFFLE_ZLIB,
    CODECS,
    decode_f8,
    encode_f8,
    samples_sha256,
    side_code,
)


@settings(max_examples=200, deadline=None)
@given(values=arrays(np.float64, st.integers(0, 300), elements=st.floats(allow_nan=True, allow_infinity=True)), codec=st.sampled_from(CODECS))
def test_every_float64_round_trips_bit_exactly(values: np.ndarray, codec: str) -> None:
    back = decode_f8(encode_f8(values, codec), values.size, codec)
    assert back.dtype == np.float64 and back.tobytes() == values.astype("<f8").tobytes()


def test_the_default_codec_is_smaller_than_raw_for_belt_like_data() -> None:
    t = np.arange(10_000) / 1000.0
    f = np.round(np.sin(t) * 50 / 2.4e-4) * 2.4e-4
    assert len(encode_f8(t)) < 0.3 * t.nbytes and len(encode_f8(f)) < 0.8 * f.nbytes


@pytest.mark.parametrize(
    ("blob", "n", "message"),
    [
        (b"not deflate", 3, "corrupt sample chunk"),
        (zlib.compress(b"\0" * 16), 3, "16 bytes for 3 samples"),
    ],
)
def test_a_corrupt_chunk_is_an_error_not_garbage(blob: bytes, n: int, message: str) -> None:
    with pytest.raises(StorageError, match=message):
        decode_f8(blob, n, CODEC_F8_SHUFFLE_ZLIB)
    with pytest.raises(StorageError, match="unknown sample codec"):
        decode_f8(blob, n, "f16-future")


def test_the_samples_hash_sees_every_field() -> None:
    t, f, s = np.arange(5.0), np.ones(5), np.ones(5, dtype=np.uint8)
    base = samples_sha256(t, f, s)
    assert samples_sha256(t, f, s) == base
    assert samples_sha256(t + 1e-12, f, s) != base
    assert samples_sha256(t, -f, s) != base
    assert samples_sha256(t, f, s * 2) != base


def test_side_codes() -> None:
    assert (side_code(None), side_code(""), side_code("left"), side_code("right")) == (0, 0, 1, 2)
    with pytest.raises(ValueError, match="side must be"):
        side_code("Left")
