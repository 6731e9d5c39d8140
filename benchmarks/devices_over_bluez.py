"""The WH-C06 scale, the PitchSix Force Board and a Crimpdeq, streaming at once
through the fake BlueZ and the real bleak, with one link drop each.

    python benchmarks/devices_over_bluez.py [--duration 60] [--drop-at 30] [--drop-for 2]

One private dbus-daemon and fake BlueZ in this process host the three virtual
devices; the app's own sources (picked by the registry from a scan) stream for
``--duration`` s of host time. Each device goes out of range at ``--drop-at``
for ``--drop-for`` s. Reports per device: samples and samples/s, samples the
virtual device produced vs. samples the app decoded (loss), malformed and
duplicate counts, the gaps with their causes, and the link-loss gap
(the scale: silence detected after 2 s; the others: BlueZ disconnects).

No timing target: the figures are for docs/devices.md. Linux only (D-Bus).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from sensorapp.devices.base import SamplesReceived, SourceEvent
from sensorapp.devices.fake_bluez import (
    FakeBlueZ,
    PrivateBus,
    crimpdeq_device,
    forceboard_device,
    whc06_device,
)
from sensorapp.devices.registry import open_source
from sensorapp.devices.scan import scan
from sensorapp.simulation.world import LinkDrop


async def run(duration_s: float, drop: LinkDrop) -> int:
    fake = FakeBlueZ()
    await fake.start(os.environ["DBUS_SYSTEM_BUS_ADDRESS"])
    sent: dict[str, int] = {}

    def count(address: str, _uuid: str, value: bytes, _at: float) -> None:
        sent[address] = sent.get(address, 0) + 1

    fake.send_listener = count
    for make in (whc06_device, forceboard_device, crimpdeq_device):
        fake.add(make(link_drops=(drop,)))
    try:
        found = await scan(1.0)
        sources = [open_source(d) for d in found]
        blocks: dict[str, list] = {d.address: [] for d in found}
        for d, src in zip(found, sources, strict=True):

            def keep(event: SourceEvent, into: list = blocks[d.address]) -> None:
                if isinstance(event, SamplesReceived):
                    into.append(event.block)

            src.subscribe(keep)
            await src.connect()
            await src.start_stream()
        await asyncio.sleep(duration_s)
        for src in sources:
            await src.disconnect()
        print(f"{'device':<18} {'kind':<11} {'samples':>8} {'per s':>7} {'gaps (cause: s)':<40} malformed dup")
        for d, src in zip(found, sources, strict=True):
            t = np.concatenate([b.t_s for b in blocks[d.address]])
            st = src.stats
            rate = (t.size - 1) / (t[-1] - t[0])
            gaps = ", ".join(f"{g.cause}: {g.duration_s:.2f}" for g in st.gaps) or "none"
            print(f"{d.name:<18} {d.kind:<11} {t.size:>8} {rate:>7.2f} {gaps:<40} {st.malformed_packets:>9} {st.duplicate_packets:>3}")
            if d.kind != "whc06":
                print(f"{'':<18} notifications sent {sent.get(d.address.upper(), 0)}, decoded {st.packets}, lost (decoder) {st.lost_packets}")
    finally:
        await fake.stop()
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--drop-at", type=float, default=30.0)
    ap.add_argument("--drop-for", type=float, default=2.0)
    args = ap.parse_args()
    bus = PrivateBus()
    bus.start()
    os.environ.update(bus.environment())
    try:
        return asyncio.run(run(args.duration, LinkDrop(args.drop_at, args.drop_for)))
    finally:
        bus.stop()


if __name__ == "__main__":
    sys.exit(main())
