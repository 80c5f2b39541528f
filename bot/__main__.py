"""`python -m bot ...`: the offline commands (classify, eval, check)."""

import sys

from bot.cli import main

try:
    sys.exit(main())
except BrokenPipeError:  # `python -m bot classify < in | head`: the reader left, not an error
    sys.stderr.close()
    sys.exit(0)
