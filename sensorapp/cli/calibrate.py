"""`sensorapp calibrate`: tare, known masses, a least-squares fit, saved and written to the belt.

Interactively it asks for each step ("hang 2 kg and press Enter"). With
``--yes``, or when stdin is not a terminal, it detects each step by itself: it
waits until the load hangs still and has changed by about the named mass; with
``--simulate`` the virtual bench hangs each mass in turn. Devices that
calibrate themselves (the Progressor) are only zeroed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import threading
from typing import Any

from calibration import CalibrationError, CalibrationStore, CalibrationStoreError
from calibration.wizard import LoadMovingError, WrongLoadError, validate_masses
from sensorapp.devices.base import DeviceError, ForceSource
from sensorapp.session.calibration_run import DEFAULT_SETTLE_TIMEOUT_S, CalibrationRunner, tare_only


def register(sub: Any) -> None:
    from . import positive_float

    p = sub.add_parser(
        "calibrate",
        help="calibrate a belt with known masses (tare, fit, save, write to the belt)",
        description="Tare, hang two or more known masses, fit a line with its linearity error, save it for this belt "
        "and write it to the belt. A Progressor is only zeroed (it calibrates itself).",
    )
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--simulate", action="store_true", help="the simulated belt on a virtual bench that hangs each mass in turn")
    which.add_argument("--device", metavar="ADDRESS", help="the belt or Progressor at this address (see `sensorapp scan`)")
    p.add_argument("--mass", action="append", type=float, default=[], metavar="KG", required=True,
                   help="a known mass in kg (repeat: at least two different masses; the unloaded point is taken first)")
    p.add_argument("--yes", action="store_true", help="do not ask: detect each settled mass and save the fit")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--settle-timeout", type=positive_float, default=DEFAULT_SETTLE_TIMEOUT_S, metavar="S",
                   help=f"without prompts, give up after S s of device time waiting for a load to settle (default {DEFAULT_SETTLE_TIMEOUT_S:g})")
    p.add_argument("--speed", type=positive_float, default=1.0, metavar="X", help="run the simulated belt X times faster than real time")
    p.add_argument("--seed", type=int, default=1, help="random seed of the simulated belt (default 1)")
    from .sessions import add_data_dir_argument

    add_data_dir_argument(p, store=False)  # calibrations live in the data folder, not in the session store
    p.set_defaults(func=run)


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def _prompt(text: str) -> str:
    """One line from the user, without blocking the loop (the stream keeps coming).

    Read in a daemon thread, not the loop's executor: asyncio.run waits for executor threads on
    the way out, so Ctrl-C at a prompt would hang until Enter.
    """
    _say(text)
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str] = loop.create_future()

    def deliver(line: str) -> None:
        if not answer.done():  # cancelled meanwhile (Ctrl-C)
            answer.set_result(line)

    def read() -> None:
        line = sys.stdin.readline()
        with contextlib.suppress(RuntimeError):  # the loop closed while the user typed
            loop.call_soon_threadsafe(deliver, line)

    threading.Thread(target=read, name="calibrate-prompt", daemon=True).start()
    line = await answer
    if not line:
        raise KeyboardInterrupt  # stdin closed: nobody is there to answer
    return line.strip()


async def _open(args: argparse.Namespace) -> tuple[ForceSource, Any]:
    from sensorapp.devices.registry import open_source

    if args.simulate:
        from sensorapp.devices.simulated import SimulationOptions, current_simulation, start_simulation

        source = open_source(start_simulation(SimulationOptions(speed=args.speed, seed=args.seed, hanging_mass=True)))
        return source, current_simulation()
    if args.speed != 1.0:
        raise ValueError("--speed only applies to --simulate; a real belt runs in real time")
    from sensorapp.devices.scan import resolve_address

    return open_source(await resolve_address(args.device)), None


def _store() -> CalibrationStore:
    from sensorapp.devices.belt import CALIBRATION_FILE
    from sensorapp.storage.paths import default_data_dir

    return CalibrationStore(default_data_dir() / CALIBRATION_FILE)


async def _calibrate(args: argparse.Namespace) -> int:
    from . import EXIT_USAGE, fail

    try:
        validate_masses(args.mass)
    except CalibrationError as exc:
        fail(f"--mass: {exc}", EXIT_USAGE)
    interactive = not args.yes and sys.stdin.isatty()
    try:
        source, simulation = await _open(args)
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    except DeviceError as exc:
        fail(str(exc))
    try:
        _say(f"connecting to {source.name}...")
        await source.connect()
        await source.start_stream(None)
        info = source.info
        if not source.supports_calibration:
            _say(f"{source.name} calibrates itself: only zeroing it (the masses are not used). Keep it unloaded and still.")
            if interactive:
                await _prompt("remove every load and press Enter")
            removed = await tare_only(source)
            result: dict[str, Any] = {"device": info.name if info else source.name, "tare_only": True, "removed_n": removed}
            print(json.dumps(result) if args.json else f"tared {result['device']}: {removed:.2f} N removed (tare only)")
            return 0
        try:
            runner = CalibrationRunner(source, args.mass)
        except CalibrationError as exc:
            fail(f"--mass: {exc}", EXIT_USAGE)
        wizard = runner.wizard
        _say(f"connected: {info.name if info else source.name} {info.serial if info else ''}; calibration in use: {info.calibration if info else '?'}")
        for mass in (0.0, *wizard.masses_kg):
            if simulation is not None:
                simulation.hang_mass(mass)  # the virtual bench does what the prompt asks
            what = "let the belt hang unloaded and still" if mass == 0 else f"hang {mass:g} kg"
            while True:
                try:
                    if interactive:
                        await _prompt(f"{what} and press Enter")
                    else:
                        _say(f"{what}: waiting until it hangs still...")
                        await runner.wait_until_ready(args.settle_timeout)
                    point = await runner.capture()
                    break
                except (LoadMovingError, WrongLoadError) as exc:
                    if not interactive:
                        fail(str(exc))
                    _say(str(exc))
            _say(f"captured {mass:g} kg: {point.mean_counts:.1f} counts ({point.n_samples} samples, varied by {point.spread_n:.2f} N)")
        try:
            fit = runner.fit()
        except CalibrationError as exc:
            fail(str(exc))
        if not args.json:
            _print_fit(fit, wizard.points)
        if interactive:
            answer = await _prompt("save this calibration and write it to the belt? [Y/n]")
            if answer.lower() in ("n", "no"):
                _say("not saved; the belt keeps its calibration")
                return 0
        try:
            saved = await runner.save(_store())
        except CalibrationStoreError as exc:
            fail(str(exc))
        runner.close()
        if args.json:
            print(json.dumps(_as_json(fit, wizard.points, saved), indent=2))
        else:
            print(f"saved for belt {saved.serial} in {saved.store_path}")
            if saved.written_to_device:
                held = saved.device_readback
                print(f"written to the belt: zero {held.zero_counts} counts, {held.newtons_per_count:.9g} N/count (read back)")
        return 0
    except DeviceError as exc:
        fail(str(exc))
    finally:
        try:
            await asyncio.wait_for(source.disconnect(), 10.0)
        except (TimeoutError, DeviceError):
            pass


def _print_fit(fit: Any, points: list[Any]) -> None:
    cal = fit.calibration
    print(f"fit: {cal.newtons_per_count:.9g} N/count, zero {cal.zero_counts:.1f} counts, "
          f"linearity error {fit.linearity_error_n:.3f} N ({fit.linearity_error_pct_fs:.3f} % of {fit.full_scale_n:.0f} N), "
          f"R^2 {fit.r_squared:.8f}")
    print("   mass kg   applied N   mean counts   residual N")
    for p, force, residual in zip(points, fit.forces_n, fit.residuals_n, strict=True):
        print(f"  {p.mass_kg:8.3f}  {force:10.3f}  {p.mean_counts:12.1f}  {residual:+11.4f}")


def _as_json(fit: Any, points: list[Any], saved: Any) -> dict[str, Any]:
    cal = fit.calibration
    held = saved.device_readback
    return {
        "serial": saved.serial,
        "newtons_per_count": cal.newtons_per_count,
        "zero_counts": cal.zero_counts,
        "linearity_error_n": fit.linearity_error_n,
        "linearity_error_pct_fs": fit.linearity_error_pct_fs,
        "full_scale_n": fit.full_scale_n,
        "r_squared": fit.r_squared,
        "points": [
            {"mass_kg": p.mass_kg, "applied_n": float(f), "mean_counts": p.mean_counts, "n_samples": p.n_samples,
             "spread_n": p.spread_n, "residual_n": float(r)}
            for p, f, r in zip(points, fit.forces_n, fit.residuals_n, strict=True)
        ],
        "saved_to": str(saved.store_path),
        "written_to_belt": saved.written_to_device,
        "belt_readback": None if held is None else {
            "zero_counts": held.zero_counts, "newtons_per_count": held.newtons_per_count,
            "calibrated_at_unix": held.calibrated_at_unix, "linearity_error_n": held.linearity_error_n,
        },
    }


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_calibrate(args))
