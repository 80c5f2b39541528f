"""`python -m bot ...`: the same command line as the `triage-line` script (`bot/cli.py`)."""

import sys

from bot.cli import main

sys.exit(main(prog_name="python -m bot"))
