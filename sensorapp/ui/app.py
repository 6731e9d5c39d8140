"""Start the app window on a qasync event loop (asyncio inside Qt, for bleak)."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path

import qasync
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from . import theme
from .controller import AppController
from .main_window import MainWindow


def run_app(args: argparse.Namespace) -> int:
    from .console import display_available

    headless = not display_available()
    if headless:
        if not args.simulate:
            print(
                "sensorapp: error: no display here, so the app window cannot open; "
                "run `sensorapp --simulate` to watch a simulated session in the terminal, or see `sensorapp record --help`",
                file=sys.stderr,
            )
            return 2
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        if not args.screenshot:
            args.screenshot = "sensorapp-window.png"
        print(
            f"No display found: running the app offscreen and narrating the simulated session here "
            f"(the window is saved to {args.screenshot} at the end).",
            file=sys.stderr,
        )
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("sensorapp")
    app.setOrganizationName("sensorapp")
    theme.apply(app)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    controller = AppController(QSettings(), simulation_speed=args.speed, simulation_seed=args.seed)
    if headless or args.exit_after:
        controller.pain_prompts = False  # nobody there to answer: a narrated or timed run must not wait on the question
    recovered = controller.open_store()
    window = MainWindow(controller)
    controller.announce_store(recovered)
    window.fit_to_screen()
    window.show()
    exit_code = 0
    screenshot = Path(args.screenshot) if args.screenshot else None

    saved = False

    def save_screenshot() -> None:
        nonlocal saved
        if screenshot is not None and not saved:
            saved = True
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            if not window.grab().save(str(screenshot)):
                print(f"sensorapp: error: could not save the screenshot to {screenshot}", file=sys.stderr)

    closed = asyncio.Event()
    app.lastWindowClosed.connect(closed.set)
    # Ctrl-C / SIGTERM close the window the normal way: the session is finished
    # (marked stopped) and the belt released, rather than left for crash recovery.
    # The qasync loop runs Python often enough for the handler to fire promptly.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: QTimer.singleShot(0, window.close))
    if headless:
        from .console import ConsoleNarrator

        narrator = ConsoleNarrator(controller)

        def session_over() -> None:
            narrator.poll()
            narrator.summary()

            def save_and_close() -> None:
                save_screenshot()
                window.close()

            QTimer.singleShot(300, save_and_close)

        controller.session_finished.connect(session_over)
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
