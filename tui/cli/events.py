"""`claimdesk events ...`: facts about the event store itself."""

from __future__ import annotations

import argparse
from typing import Any

from tui.cli.context import Context, emit_json


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("events", help="the event store")
    sub = parser.add_subparsers(dest="events_command", metavar="SUBCOMMAND")
    count = sub.add_parser("count", help="how many events the ledger holds")
    count.add_argument("--json", action="store_true", help="print {\"events\": N}")
    count.set_defaults(handler=_count)


def _count(args: argparse.Namespace, context: Context) -> int:
    n = context.ledger.events_count()
    if args.json:
        emit_json({"events": n})
    else:
        print(n)
    return 0
