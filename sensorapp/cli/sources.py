"""Options shared by commands that open a force source (record, the GUI)."""

from __future__ import annotations

import argparse
from typing import Any

from sensorapp.devices.base import DeviceDescriptor, DeviceError, ForceSource


def add_source_arguments(parser: argparse.ArgumentParser, *, required: bool) -> None:
    from . import positive_float

    which = parser.add_mutually_exclusive_group(required=required)
    which.add_argument("--simulate", action="store_true", help="use the simulated belt (a virtual patient does the exercise)")
    which.add_argument("--device", metavar="ADDRESS", help="connect to this belt or Progressor (see `sensorapp scan`)")
    which.add_argument("--replay", metavar="FILE.csv", help="replay a recorded samples CSV")
    parser.add_argument("--speed", type=positive_float, default=1.0, metavar="X", help="run the simulated belt or replay X times faster than real time")
    sim = parser.add_argument_group("simulated belt")
    sim.add_argument("--seed", type=int, default=1, help="random seed of the virtual patient and belt (default 1)")
    sim.add_argument("--packet-loss", type=float, default=0.0, metavar="P", help="probability that a notification is lost (0..0.5)")
    sim.add_argument("--link-drop", action="append", default=[], metavar="AT:DURATION", help="drop the link at AT s for DURATION s of device time (repeatable)")
    sim.add_argument("--mtu", type=int, default=247, help="ATT MTU of the simulated link (23..247, default 247)")
    sim.add_argument(
        "--virtual-clock",
        type=positive_float,
        default=None,
        metavar="STEP_S",
        help="let device time advance by at most STEP_S host seconds (times --speed) per reading: a busy machine then slows the simulation instead of skipping ahead (tests, demos)",
    )


async def source_from_args(args: argparse.Namespace, *, patient_profile: Any = None) -> ForceSource:
    """Open (but do not connect) the source the arguments ask for.

    ``patient_profile`` (a ``PatientProfile``) replaces the simulated belt's default virtual patient.

    Raises DeviceError or ValueError with a user-facing message.
    """
    from sensorapp.devices.registry import open_source

    if args.simulate:
        from sensorapp.devices.simulated import SimulationOptions, start_simulation
        from sensorapp.simulation.world import LinkDrop

        if not 0.0 <= args.packet_loss <= 0.5:
            raise ValueError(f"--packet-loss must be between 0 and 0.5, got {args.packet_loss}")
        from firmware_protocol import gatt

        # The belt accepts an MTU exchange up to 247 (SPEC section 2); BLE allows 517, the belt does not.
        if not gatt.DEFAULT_ATT_MTU <= args.mtu <= gatt.PREFERRED_ATT_MTU:
            raise ValueError(f"--mtu must be between {gatt.DEFAULT_ATT_MTU} and {gatt.PREFERRED_ATT_MTU} (the belt's largest), got {args.mtu}")
        options = SimulationOptions(
            speed=args.speed,
            seed=args.seed,
            packet_loss=args.packet_loss,
            link_drops=tuple(LinkDrop.parse(x) for x in args.link_drop),
            att_mtu=args.mtu,
            patient=patient_profile,
            max_step_s=getattr(args, "virtual_clock", None),
        )
        return open_source(start_simulation(options))
    if getattr(args, "virtual_clock", None) is not None:
        raise ValueError("--virtual-clock only applies to --simulate")
    if args.speed != 1.0 and not args.replay:
        raise ValueError("--speed only applies to --simulate and --replay; a real belt runs in real time")
    if args.replay:
        return open_source(DeviceDescriptor("replay", args.replay, args.replay), speed=args.speed)
    if args.device:
        from sensorapp.devices.scan import resolve_address

        return open_source(await resolve_address(args.device))
    raise DeviceError("choose a source: --simulate, --device ADDRESS or --replay FILE.csv")
