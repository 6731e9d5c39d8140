"""`sensorapp scan`: list the belts and Progressors in range."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from sensorapp.devices.base import DeviceDescriptor, DeviceError

BLUETOOTH_SCAN_S = 5.0
# The simulated radio advertises every 0.1 s and needs no time to find anything: a few intervals will do.
SIMULATED_SCAN_S = 0.35


def scan_timeout_s(args: argparse.Namespace) -> float:
    """How long this scan listens: --timeout, else a real radio's few seconds or a few simulated intervals."""
    if args.timeout is not None:
        return float(args.timeout)
    return SIMULATED_SCAN_S if args.simulate else BLUETOOTH_SCAN_S


def register(sub: Any) -> None:
    from . import positive_float

    p = sub.add_parser("scan", help="list belts and Progressors in range", description="Scan for supported force devices.")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    p.add_argument(
        "--timeout", type=positive_float, metavar="S",
        help=f"scan for S seconds (default {BLUETOOTH_SCAN_S:g}; {SIMULATED_SCAN_S:g} with --simulate)",
    )
    p.add_argument("--belts-only", action="store_true", help="let the OS filter by the belt's service UUID")
    p.add_argument("--simulate", action="store_true", help="scan the simulated radio (a simulated belt) instead of Bluetooth")
    p.set_defaults(func=run)


async def _scan(args: argparse.Namespace) -> list[DeviceDescriptor]:
    from sensorapp.devices.scan import scan

    backend = None
    if args.simulate:
        from sensorapp.devices.sim_backend import SimulatedBleakScanner
        from sensorapp.devices.simulated import SimulationOptions, start_simulation

        start_simulation(SimulationOptions())
        backend = SimulatedBleakScanner
    found = await scan(scan_timeout_s(args), belts_only=args.belts_only, backend=backend)
    if args.simulate:
        found = [DeviceDescriptor("simulated", d.address, d.name, d.rssi, d.details) for d in found]
    return found


def run(args: argparse.Namespace) -> int:
    from . import fail

    try:
        found = asyncio.run(_scan(args))
    except DeviceError as exc:
        hint = "" if args.simulate else " (try `sensorapp scan --simulate` for the simulated belt)"
        fail(f"{exc}{hint}")
    if args.json:
        print(json.dumps([d.as_dict() for d in found], indent=2))
        return 0
    if not found:
        print("No belts or Progressors found. Is the device switched on and near?")
        return 0
    print(f"{'NAME':<22} {'ADDRESS':<20} {'RSSI':>5}  KIND")
    for d in found:
        rssi = f"{d.rssi}" if d.rssi is not None else "?"
        print(f"{d.name:<22} {d.address:<20} {rssi:>5}  {d.kind}")
    return 0
