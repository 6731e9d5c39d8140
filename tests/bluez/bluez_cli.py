"""Run the `sensorapp` command line in a subprocess against the fake BlueZ of the test (its bus
address and the bluetoothctl stand-in come from the ``fake_bluez`` fixture's environment)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path


async def sensorapp(tmp_path: Path, *args: str, timeout: float = 60) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``sensorapp ARGS`` run in ``tmp_path`` with its own data folder."""
    env = dict(os.environ, SENSORAPP_DATA_DIR=str(tmp_path / "data"))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sensorapp", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env, cwd=tmp_path
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()
