"""Entry script of the frozen app (PyInstaller). Kept outside the package: a script inside
sensorapp/ would put that folder on sys.path, where sensorapp/signal would shadow the stdlib."""

import sys

from sensorapp.cli import main

if __name__ == "__main__":
    sys.exit(main())
