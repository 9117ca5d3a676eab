"""`claimdesk` with no command: the Textual workstation, on this terminal (or over SSH).

Auditors get a read-only workstation with CLAIMDESK_READ_ONLY=1 (set it in their
ForceCommand): every action that records something is hidden and refused.
"""

from __future__ import annotations

import os

from tui.cli.context import Context

READ_ONLY_ENV = "CLAIMDESK_READ_ONLY"


def read_only_requested(environ: dict[str, str] | None = None) -> bool:
    value = (environ if environ is not None else os.environ).get(READ_ONLY_ENV, "")
    return value.strip().lower() in {"1", "true", "yes", "on"}


def start_workstation(context: Context) -> int:
    from tui.app import BillingApp  # noqa: PLC0415 - Textual loads only for the workstation

    ledger = context.ledger
    app = BillingApp(ledger, context.queries, read_only=read_only_requested(),
                     user=str(getattr(ledger, "acting_user", "") or ""))
    app.run()
    return int(app.return_code or 0)
