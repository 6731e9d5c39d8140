"""A private D-Bus daemon for the fake BlueZ, and a ``bluetoothctl`` stand-in.

The stock system bus policy forbids owning ``org.bluez``; this daemon runs
with a permissive config (any user may own any name and send anything) in a
temporary directory, so neither root nor the machine's own bus is involved.
Point ``DBUS_SYSTEM_BUS_ADDRESS`` at ``address`` and bleak talks to it.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <!-- Private bus for the fake BlueZ: permissive on purpose, never the machine's bus. -->
  <type>custom</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
"""

BLUETOOTHCTL_VERSION = "5.66"  # what Debian 12 ships; bleak needs 5.55 or newer


class DbusDaemonMissingError(RuntimeError):
    """dbus-daemon is not installed (Debian/Ubuntu: apt-get install dbus-daemon)."""


def dbus_daemon_path() -> str | None:
    return shutil.which("dbus-daemon")


class PrivateBus:
    """A ``dbus-daemon`` of our own; ``start()`` it, read ``address``, ``stop()`` it.

    Usable as a context manager. ``directory`` holds the config, the socket
    and a ``bin/bluetoothctl`` stand-in (see ``write_bluetoothctl_shim``).
    """

    def __init__(self, directory: str | Path | None = None) -> None:
        self._own_dir = directory is None
        self.directory = Path(tempfile.mkdtemp(prefix="fake-bluez-")) if directory is None else Path(directory)
        self.address: str | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def socket_path(self) -> Path:
        return self.directory / "system_bus_socket"

    @property
    def bin_dir(self) -> Path:
        return self.directory / "bin"

    @property
    def pid(self) -> int | None:
        """The dbus-daemon's process id while it runs."""
        return self._proc.pid if self._proc is not None else None

    def start(self, timeout_s: float = 10.0) -> str:
        exe = dbus_daemon_path()
        if exe is None:
            raise DbusDaemonMissingError("dbus-daemon is not installed; on Debian or Ubuntu: apt-get install dbus-daemon")
        self.directory.mkdir(parents=True, exist_ok=True)
        config = self.directory / "bus.conf"
        config.write_text(_CONFIG.format(socket=self.socket_path), encoding="utf-8")
        self._proc = subprocess.Popen(
            [exe, f"--config-file={config}", "--print-address=1", "--nofork", "--nopidfile", "--nosyslog"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent(),
        )
        assert self._proc.stdout is not None
        # The daemon prints its address once it listens; a bad config makes it exit instead.
        line = _readline_with_timeout(self._proc, timeout_s)
        if not line:
            err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
            self.stop()
            raise RuntimeError(f"dbus-daemon did not start: {err.strip() or 'no address printed'}")
        self.address = line.strip()
        write_bluetoothctl_shim(self.bin_dir)
        return self.address

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for stream in (proc.stdout, proc.stderr) if proc is not None else ():
            if stream is not None:
                stream.close()
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)

    def environment(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """``base`` (default: this process's) with the bus address and the shim on PATH."""
        env = dict(os.environ if base is None else base)
        assert self.address is not None, "start() the bus first"
        env["DBUS_SYSTEM_BUS_ADDRESS"] = self.address
        env["PATH"] = f"{self.bin_dir}{os.pathsep}{env.get('PATH', '')}"
        return env

    def __enter__(self) -> PrivateBus:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _die_with_parent() -> Callable[[], None] | None:
    """On Linux, a function for the child that asks the kernel to SIGTERM it when
    we die: a test run killed before its teardown must not leave daemons behind."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here, not in the forked child
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def arm() -> None:
        prctl(pr_set_pdeathsig, signal.SIGTERM)

    return arm


def _readline_with_timeout(proc: subprocess.Popen[bytes], timeout_s: float) -> str:
    import selectors

    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout_s):
            return ""
    return proc.stdout.readline().decode()


def write_bluetoothctl_shim(bin_dir: Path) -> Path:
    """A ``bluetoothctl`` that only answers ``--version``: bleak runs it once
    to check the BlueZ version (without it bleak logs a warning and assumes 5.55+)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    shim = bin_dir / "bluetoothctl"
    shim.write_text(f'#!/bin/sh\n# stand-in for BlueZ\'s bluetoothctl (fake BlueZ harness)\necho "bluetoothctl: {BLUETOOTHCTL_VERSION}"\n', encoding="utf-8")
    shim.chmod(0o755)
    return shim
