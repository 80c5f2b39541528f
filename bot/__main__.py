"""`python -m bot ...`: the offline commands (classify, eval, check)."""

import sys

from bot.cli import main

sys.exit(main())
