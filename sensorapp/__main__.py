"""`python -m sensorapp` is the `sensorapp` command."""

import sys

from sensorapp.cli import main

sys.exit(main())
