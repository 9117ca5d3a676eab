"""`claimdesk migrate --to URL`: move a ledger to PostgreSQL (or another SQLite file)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tui.cli.context import CliError, Context, emit_json


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "migrate", help="copy every event, in order, to another store; then verify there")
    parser.add_argument("--to", required=True, metavar="URL_OR_PATH",
                        help="target: postgresql://user:pass@host:port/db or a SQLite path")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(handler=_migrate)


def _migrate(args: argparse.Namespace, context: Context) -> int:
    from domain.migration import MigrationError, copy_events  # noqa: PLC0415
    from domain.services.core import chain_break  # noqa: PLC0415
    from tui.cli.wiring import open_ledger, open_queries  # noqa: PLC0415

    source = context.ledger
    target = open_ledger(args.to, context.as_user)

    def progress(done: int, total: int) -> None:
        if not args.json and sys.stderr.isatty():
            print(f"\rcopied {done}/{total} events", end="", file=sys.stderr)

    try:
        copied = copy_events(source, target, progress)
    except MigrationError as error:
        raise CliError(str(error)) from None
    if not args.json and sys.stderr.isatty():
        print(file=sys.stderr)
    broken = chain_break(target)
    queries = open_queries(target)
    try:
        report = queries.verify()
    finally:
        queries.close()
    ok = broken is None and bool(report.get("ok"))
    document = {"copied": copied, "events": target.events_count(), "chain_ok": broken is None,
                "projections_ok": bool(report.get("ok")), "ok": ok}
    if args.json:
        emit_json(document)
    else:
        print(f"copied {copied} events; target holds {document['events']}; "
              f"chain {'intact' if broken is None else 'BROKEN'}; "
              f"read models {'verified' if report.get('ok') else 'DIFFER'}")
    return 0 if ok else 1
