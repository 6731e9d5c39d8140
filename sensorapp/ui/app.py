"""Start the app window on a qasync event loop (asyncio inside Qt, for bleak)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import qasync
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from . import theme
from .controller import AppController
from .main_window import MainWindow


def run_app(args: argparse.Namespace) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("sensorapp")
    app.setOrganizationName("sensorapp")
    theme.apply(app)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    controller = AppController(QSettings(), simulation_speed=args.speed, simulation_seed=args.seed)
    window = MainWindow(controller)
    window.resize(1280, 820)
    window.show()
    exit_code = 0
    screenshot = Path(args.screenshot) if args.screenshot else None

    def save_screenshot() -> None:
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            if not window.grab().save(str(screenshot)):
                print(f"sensorapp: error: could not save the screenshot to {screenshot}", file=sys.stderr)

    closed = asyncio.Event()
    app.lastWindowClosed.connect(closed.set)
    if args.simulate:
        controller.run(window.start_simulated(), "Connecting the simulated belt")
    if args.exit_after:

        def finish() -> None:
            save_screenshot()
            window.close()

        QTimer.singleShot(int(args.exit_after * 1000), finish)
    elif screenshot is not None:
        app.aboutToQuit.connect(save_screenshot)
    with loop:
        loop.run_until_complete(closed.wait())
    return exit_code
