"""Forces as the user chose to see them (N, kgf or lbf; Settings). Values stay in newtons
everywhere; only the text and the plots' axis ticks change (calibration/units.py converts)."""

from __future__ import annotations

from typing import Any

from calibration.units import Unit, convert


def decimals_for(unit: Unit) -> int:
    """Newtons read well as whole numbers; a kgf or lbf is 4-10 N, so those get one decimal."""
    return 0 if unit is Unit.N else 1


def force_number(value_n: float, unit: Unit, decimals: int | None = None) -> str:
    """The number alone, in ``unit`` ("12", "1.2")."""
    places = decimals_for(unit) if decimals is None else decimals
    return f"{float(convert(float(value_n), Unit.N, unit)):.{places}f}"


def force_text(value_n: float, unit: Unit, decimals: int | None = None) -> str:
    """The number with its unit ("12 N", "1.2 kgf")."""
    return f"{force_number(value_n, unit, decimals)} {unit.label}"


def set_force_axis(plot_item: Any, unit: Unit, axis: str = "left", title: str = "force") -> None:
    """A pyqtgraph axis that labels newton data in ``unit``: the ticks are scaled, the data is not."""
    ax = plot_item.getAxis(axis)
    ax.enableAutoSIPrefix(False)  # "kkgf" is not a unit
    ax.setScale(1.0 / unit.newtons_per_unit)
    plot_item.setLabel(axis, title, units=unit.label)
