from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

pytest.importorskip("PySide6", reason="the GUI tests need PySide6 (in requirements/dev.lock)")


@pytest.fixture
def qasync_loop(qapp: object) -> Iterator[asyncio.AbstractEventLoop]:
    """A qasync loop on the test's QApplication: asyncio inside Qt, as the app runs."""
    import qasync

    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        loop.close()
        asyncio.set_event_loop(None)
