"""The `claimdesk` command line: one JSON document on stdout with --json, errors on stderr.

Each command group lives in its own module with a ``register(subparsers)`` function; the
handlers receive the parsed arguments and a :class:`~tui.cli.context.Context` that opens
the ledger and its read models only when a command needs them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from domain.storage import LedgerUnavailableError
from projections.store import ReadModelVersionError
from tui.cli import (
    accounts,
    admin,
    claims,
    demo,
    events,
    imports_files,
    imports_x12,
    inquiries,
    migrate,
    reports,
    sandbox,
    worklist,
)
from tui.cli.context import CliError, Context, run_handler

# Command groups, in the order `claimdesk --help` lists them. Add yours here.
GROUPS = [demo, accounts, events, admin, migrate, claims, sandbox, imports_x12, imports_files,
          reports, inquiries,  # inquiries adds to claims, sandbox and import: keep it after them
          worklist]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="claimdesk",
        description="The back office of a medical billing service. With no command, starts "
                    "the workstation.")
    parser.add_argument("--db", metavar="PATH_OR_URL",
                        help="ledger: a SQLite file or a postgresql:// URL "
                             "(default: $CLAIMDESK_DB, else ~/.local/share/claimdesk)")
    parser.add_argument("--as-user", metavar="NAME",
                        help="act as another ledger user (admins and single-user ledgers)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in GROUPS:
        group.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    context = Context(db=args.db, as_user=args.as_user)
    try:
        if args.command is None:
            from tui.cli.workstation import start_workstation  # noqa: PLC0415 - Textual loads only here

            return start_workstation(context)
        return run_handler(args, context)
    except CliError as error:
        print(f"claimdesk: {error}", file=sys.stderr)
        return error.exit_code
    except ReadModelVersionError as error:
        print(f"claimdesk: {error}", file=sys.stderr)
        return 1
    except LedgerUnavailableError as error:
        print(f"claimdesk: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `claimdesk ... | head`: the reader left; that is not an error of ours.
        sys.stderr.close()
        return 0
    finally:
        context.close()


if __name__ == "__main__":
    sys.exit(main())
