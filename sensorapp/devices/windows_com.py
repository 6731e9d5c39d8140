"""Windows: let bleak's WinRT backend run on the Qt main thread.

Qt initialises COM as a single-threaded apartment (STA) on the thread that creates the
QApplication, and bleak's WinRT backend refuses (or hangs) on an STA thread unless a Windows
message loop integrated with asyncio is running. qasync runs asyncio on Qt's event loop, which is
such a loop, so bleak's documented remedy is `bleak.backends.winrt.util.allow_sta()`. The command
line (scan, record) runs plain asyncio on an MTA thread and needs nothing.
"""

from __future__ import annotations

import sys


def allow_ble_on_qt_thread() -> bool:
    """Tell bleak the GUI thread's STA is served by a message loop; True when that was needed (Windows)."""
    if sys.platform != "win32":
        return False
    from bleak.backends.winrt.util import allow_sta

    allow_sta()
    return True
