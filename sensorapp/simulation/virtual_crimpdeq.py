"""A virtual Crimpdeq: the open-source Progressor clone (anchors.md 1.4, 1.5).

The same protocol as ``VirtualProgressor`` under its own advertised name, one
sample per notification at 80 Hz (the clone firmware's ``DataPoint``).
"""

from __future__ import annotations

from .virtual_progressor import ForceFunction, VirtualProgressor, VirtualProgressorConfig

CRIMPDEQ_NAME = "Crimpdeq"


class VirtualCrimpdeq(VirtualProgressor):
    advertised_name = CRIMPDEQ_NAME

    @property
    def name(self) -> str:
        return self.advertised_name


def crimpdeq_config(**fields: object) -> VirtualProgressorConfig:
    """A Progressor config with the clone's timing: one sample per notification, one per 12.5 ms."""
    fields.setdefault("samples_per_frame", 1)
    fields.setdefault("slot_us", 6_250)  # the Progressor model leaves one empty slot after each notification
    return VirtualProgressorConfig(**fields)  # type: ignore[arg-type]


def virtual_crimpdeq(force_fn: ForceFunction, name: str = CRIMPDEQ_NAME, **fields: object) -> VirtualCrimpdeq:
    unit = VirtualCrimpdeq(crimpdeq_config(**fields), force_fn=force_fn)
    unit.advertised_name = name
    return unit
