"""Belt capabilities per model, kept as data in capabilities.json."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class BeltCapabilities:
    model_id: int
    name: str
    adc_bits: int
    rates_hz: tuple[int, ...]
    min_rate_hz: int
    max_rate_hz: int
    default_rate_hz: int
    capacity_n: float
    nominal_newtons_per_count: float
    max_att_mtu: int
    notify_interval_ms: int

    def supports_rate(self, rate_hz: int) -> bool:
        return self.min_rate_hz <= rate_hz <= self.max_rate_hz


@lru_cache(maxsize=1)
def all_models() -> dict[int, BeltCapabilities]:
    doc = json.loads(resources.files(__package__).joinpath("capabilities.json").read_text(encoding="utf-8"))
    if doc.get("format") != "sensorapp-belt-capabilities" or doc.get("version") != 1:
        raise ValueError("capabilities.json: unknown format or version")
    models: dict[int, BeltCapabilities] = {}
    for m in doc["models"]:
        models[m["model_id"]] = BeltCapabilities(
            model_id=m["model_id"],
            name=m["name"],
            adc_bits=m["adc_bits"],
            rates_hz=tuple(m["rates_hz"]),
            min_rate_hz=m["min_rate_hz"],
            max_rate_hz=m["max_rate_hz"],
            default_rate_hz=m["default_rate_hz"],
            capacity_n=float(m["capacity_n"]),
            nominal_newtons_per_count=float(m["nominal_newtons_per_count"]),
            max_att_mtu=m["max_att_mtu"],
            notify_interval_ms=m["notify_interval_ms"],
        )
    return models


def capabilities_for(model_id: int) -> BeltCapabilities:
    """Capabilities of a model; unknown models raise KeyError with a clear message."""
    try:
        return all_models()[model_id]
    except KeyError:
        raise KeyError(f"unknown belt model id {model_id}; known: {sorted(all_models())}") from None
