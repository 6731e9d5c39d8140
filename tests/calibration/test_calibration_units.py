"""Units: exact factors, conversions, parsing and labels."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from calibration import (
    LBF_IN_N,
    STANDARD_GRAVITY,
    Unit,
    UnitError,
    convert,
    format_force,
    parse_unit,
    unit_label,
)


def test_exact_constants():
    assert STANDARD_GRAVITY == 9.80665
    assert LBF_IN_N == 4.4482216152605
    assert pytest.approx(0.45359237 * STANDARD_GRAVITY, rel=1e-15) == LBF_IN_N


def test_known_values():
    assert convert(1.0, Unit.KGF, Unit.N) == 9.80665
    assert convert(1.0, Unit.LBF, Unit.N) == 4.4482216152605
    assert convert(9.80665, "N", "kgf") == pytest.approx(1.0, rel=1e-15)
    assert convert(4.4482216152605, "N", "lbf") == pytest.approx(1.0, rel=1e-15)
    assert convert(1.0, Unit.KGF, Unit.LBF) == pytest.approx(1 / 0.45359237, rel=1e-14)  # 2.2046... lbf
    assert convert(100.0, Unit.N, Unit.N) == 100.0


def test_array_conversion_returns_float64_copy():
    src = np.array([0, 1, 2], dtype=np.int32)
    out = convert(src, Unit.KGF, Unit.N)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, [0.0, 9.80665, 19.6133])
    f = np.array([1.0, 2.0])
    same = convert(f, "N", "N")
    same[0] = 99.0  # a same-unit conversion must not alias the caller's buffer
    assert f[0] == 1.0


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=20), st.sampled_from(list(Unit)), st.sampled_from(list(Unit)))
def test_round_trip(values, a, b):
    v = np.asarray(values)
    np.testing.assert_allclose(convert(convert(v, a, b), b, a), v, rtol=1e-14, atol=1e-9)


@pytest.mark.parametrize(
    "name, unit",
    [
        ("N", Unit.N), ("n", Unit.N), (" newtons ", Unit.N),
        ("kgf", Unit.KGF), ("KGF", Unit.KGF), ("kg", Unit.KGF), ("kilogram-force", Unit.KGF),
        ("lbf", Unit.LBF), ("lb", Unit.LBF), ("LBS", Unit.LBF), ("pound-force", Unit.LBF),
        (Unit.LBF, Unit.LBF),
    ],
)
def test_parse_unit(name, unit):
    assert parse_unit(name) is unit


@pytest.mark.parametrize("bad", ["", "kN", "g", "ozf", "newton meter", 3])
def test_unknown_unit_lists_accepted_names(bad):
    with pytest.raises(UnitError) as exc:
        parse_unit(bad)
    if isinstance(bad, str):
        msg = str(exc.value)
        assert repr(bad) in msg
        for name in ("n", "kgf", "kg", "lbf", "lb"):
            assert f" {name}," in msg or msg.endswith(f" {name}")


def test_convert_rejects_unknown_unit_names():
    with pytest.raises(UnitError):
        convert(1.0, "stone", "N")


def test_labels():
    assert [unit_label(u) for u in Unit] == ["N", "kgf", "lbf"]
    assert unit_label("lb") == "lbf"
    assert Unit.KGF.label == "kgf"
    assert format_force(98.0665, Unit.KGF) == "10.0 kgf"
    assert format_force(44.482216152605, "lbf", decimals=2) == "10.00 lbf"
    assert format_force(12.345) == "12.3 N"
