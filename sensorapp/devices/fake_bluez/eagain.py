"""Opt-in fix for dbus-fast's writer dying on EAGAIN.

When a process sends D-Bus messages faster than dbus-daemon drains its
socket, the kernel buffer fills and ``sock.send`` raises BlockingIOError.
dbus-fast's ``_MessageWriter.write_callback`` (5.x) treats that like any
error and closes the bus (same as python-dbus-next issue 153). bleak never
sends that much, so the app does not need this; the fake BlueZ flooding
notifications does. The patch replaces the method on the class, so it is
process-wide: only ``FakeBlueZ(eagain_fix=True)`` and the stand-alone fake
(``python -m sensorapp.devices.fake_bluez``) install it, never an import.
"""

from __future__ import annotations

import array
import socket
from typing import Any

from dbus_fast.aio import message_bus as _aio_bus

_Writer = _aio_bus._MessageWriter
_original_write_callback = _Writer.write_callback


def _write_callback_waiting_on_eagain(self: Any, remove_writer: bool = True) -> None:
    """Write queued messages; on a full socket keep the rest and wait to be writable."""
    sock = self.sock
    try:
        while True:
            if self.buf is None:
                if not self.messages:
                    if remove_writer:
                        self.loop.remove_writer(self.fd)
                    return
                buf, unix_fds, fut = self.messages.popleft()
                self.unix_fds = unix_fds
                self.buf = memoryview(buf)
                self.offset = 0
                self.fut = fut
            try:
                if self.unix_fds and self.negotiate_unix_fd:
                    ancdata = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", self.unix_fds))]
                    self.offset += sock.sendmsg([self.buf[self.offset :]], ancdata)
                    self.unix_fds = None
                else:
                    self.offset += sock.send(self.buf[self.offset :])
            except BlockingIOError:
                # The fix: the socket is full, not broken. Keep the buffer and
                # let the loop call us again when it is writable.
                self.loop.add_writer(self.fd, self.write_callback)
                return
            if self.offset < len(self.buf):
                self.loop.add_writer(self.fd, self.write_callback)
                return
            self.buf = None
            fut = self.fut
            if fut is not None and not fut.done():
                fut.set_result(None)
    except Exception as exc:  # noqa: BLE001 - like dbus-fast's own writer: any failure goes to the waiting future
        fut = self.fut
        if fut is not None and not fut.done():
            if self.bus._user_disconnect:
                fut.set_result(None)
            else:
                fut.set_exception(exc)
        self.bus._finalize(exc)


def eagain_fix_installed() -> bool:
    return _Writer.write_callback is _write_callback_waiting_on_eagain


def install_eagain_fix() -> None:
    """Patch dbus-fast's writer for this whole process (idempotent)."""
    _Writer.write_callback = _write_callback_waiting_on_eagain  # type: ignore[method-assign]  # a process-wide patch, on purpose


def uninstall_eagain_fix() -> None:
    _Writer.write_callback = _original_write_callback  # type: ignore[method-assign]
