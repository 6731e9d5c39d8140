"""Run the fake BlueZ by hand (demos, benchmarks):

    python -m sensorapp.devices.fake_bluez --belts 1 --progressors 1

starts a private dbus-daemon (or joins ``--bus ADDRESS``), serves the virtual
devices and prints the lines to paste into another shell, e.g.

    export DBUS_SYSTEM_BUS_ADDRESS='unix:path=/tmp/fake-bluez-abcd/system_bus_socket,guid=...'
    export PATH="/tmp/fake-bluez-abcd/bin:$PATH"

after which ``sensorapp scan`` and ``sensorapp record --device ADDRESS`` talk
to the fake through the real bleak. Ctrl-C stops it (and its dbus-daemon).
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import signal
import sys
from pathlib import Path
from typing import TextIO

from sensorapp.simulation.world import LinkDrop, SimClock, SimulatedWorld

from .bus import PrivateBus
from .peripherals import belt_device, progressor_device
from .server import FakeBlueZ


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m sensorapp.devices.fake_bluez",
        description="Serve a fake org.bluez with virtual GMBelts and Tindeq Progressors on a private D-Bus.",
    )
    p.add_argument("--bus", metavar="ADDRESS", help="join this D-Bus (default: start a private dbus-daemon)")
    p.add_argument("--belts", type=int, default=1, metavar="N", help="virtual belts to serve (default 1)")
    p.add_argument("--progressors", type=int, default=1, metavar="N", help="virtual Progressors to serve (default 1)")
    p.add_argument("--seed", type=int, default=1, help="seed of the virtual patients (device i uses seed + i)")
    p.add_argument("--speed", type=float, default=1.0, help="device time runs X times faster than real time (default 1)")
    p.add_argument("--mtu", type=int, default=247, help="ATT MTU of the belts' links (23..247, default 247)")
    p.add_argument("--link-drop", action="append", default=[], metavar="AT:DURATION", help="every device leaves range at AT s for DURATION s (repeatable)")
    p.add_argument("--fail-connects", type=int, default=0, metavar="N", help="refuse the first N connection attempts to each device")
    p.add_argument("--never-resolve", action="store_true", help="devices connect but never resolve their services")
    p.add_argument("--no-eagain-fix", action="store_true", help="do not patch dbus-fast's writer (see eagain.py)")
    p.add_argument("--send-log", metavar="FILE", help="append 'monotonic_s address uuid hex' for every notification sent")
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds (default: until Ctrl-C)")
    return p


def export_lines(address: str, bin_dir: Path | None) -> list[str]:
    lines = [f"export DBUS_SYSTEM_BUS_ADDRESS={shlex.quote(address)}"]
    if bin_dir is not None:
        lines.append(f'export PATH="{bin_dir}:$PATH"  # a bluetoothctl that answers --version for bleak')
    return lines


async def serve(args: argparse.Namespace, address: str, log_file: TextIO | None) -> FakeBlueZ:
    listener = None
    if log_file is not None:

        def listener(addr: str, uuid: str, value: bytes, sent_at: float) -> None:
            log_file.write(f"{sent_at:.6f} {addr} {uuid} {value.hex()}\n")

    fake = FakeBlueZ(SimulatedWorld(SimClock(args.speed)), eagain_fix=not args.no_eagain_fix, send_listener=listener)
    drops = tuple(LinkDrop.parse(x) for x in args.link_drop)
    common = {"link_drops": drops, "fail_connects": args.fail_connects}
    for i in range(args.belts):
        fake.add(belt_device(0x0001E240 + i, seed=args.seed + i, rssi_dbm=-55 - 3 * i, att_mtu=args.mtu, **common), never_resolve=args.never_resolve)
    for i in range(args.progressors):
        fake.add(progressor_device(0x5EED_0000_3A61 + i, seed=args.seed + 100 + i, rssi_dbm=-65 - 3 * i, **common), never_resolve=args.never_resolve)
    await fake.start(address)
    return fake


async def run(args: argparse.Namespace) -> int:
    bus: PrivateBus | None = None
    if args.bus:
        address, bin_dir = args.bus, None
    else:
        bus = PrivateBus()
        address = bus.start()
        bin_dir = bus.bin_dir
    log_file = open(args.send_log, "a", encoding="ascii", buffering=1 << 16) if args.send_log else None  # noqa: SIM115 - closed in the finally below
    try:
        fake = await serve(args, address, log_file)
        for line in export_lines(address, bin_dir):
            print(line)
        print("# fake BlueZ ready", flush=True)
        for h in fake.devices.values():
            print(f"serving {h.local_name:<16} {h.address}", file=sys.stderr)
        print("Ctrl-C stops the fake BlueZ" + (" and its dbus-daemon" if bus else ""), file=sys.stderr, flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await asyncio.wait_for(stop.wait(), args.duration)
        except TimeoutError:
            pass
        await fake.stop()
    finally:
        if log_file is not None:
            log_file.close()
        if bus is not None:
            bus.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not 23 <= args.mtu <= 247:
        build_parser().error(f"--mtu must be between 23 and 247, got {args.mtu}")
    if args.belts < 0 or args.progressors < 0 or args.belts + args.progressors == 0:
        build_parser().error("serve at least one device (--belts / --progressors)")
    try:
        for text in args.link_drop:
            LinkDrop.parse(text)
    except ValueError as exc:
        build_parser().error(str(exc))
    if not args.speed > 0:
        build_parser().error("--speed must be positive")
    try:
        return asyncio.run(run(args))
    except RuntimeError as exc:  # e.g. dbus-daemon missing, or org.bluez already owned
        print(f"fake BlueZ: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
