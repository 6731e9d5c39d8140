"""The guided exercise session: plain Python, driven by detector events and
device time, so the GUI, the tests and a replay all run the same logic."""
