"""`claimdesk` with no command: the Textual workstation (the TUI issue fills it in)."""

from __future__ import annotations

import sys

from tui.cli.context import Context


def start_workstation(context: Context) -> int:
    print("claimdesk: the workstation is not built yet; see `claimdesk --help` for the "
          "commands available.", file=sys.stderr)
    return 0
