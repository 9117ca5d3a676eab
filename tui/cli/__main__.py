"""`python -m tui.cli`: the same as the `claimdesk` console script."""

import sys

from tui.cli import main

sys.exit(main())
