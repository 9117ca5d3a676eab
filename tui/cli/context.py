"""What a CLI command gets: the ledger, the read models, and how to print its answer."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from datetime import date, datetime
from typing import Any

from domain.clock import in_range, read_date
from domain.errors import BillingError


class CliError(Exception):
    """Print the message on stderr and exit with `exit_code`."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def parse_date(text: str) -> date:
    try:
        return read_date(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def parse_datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date-time (YYYY-MM-DDTHH:MM[:SS][+HH:MM])") from None
    try:
        in_range(text, value.date())   # before astimezone, which overflows at year 1
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return value if value.tzinfo else value.astimezone()


def _default(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if hasattr(value, "as_dict"):
        return value.as_dict()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


@contextmanager
def told(status: str) -> Iterator[None]:
    """Where a file's plain-text summary goes: stderr when the file was refused (a script
    reading stdout sees only what was done), stdout otherwise."""
    if status != "refused":
        yield
        return
    sys.stdout.flush()
    with redirect_stdout(sys.stderr):
        yield


def emit_json(document: Any) -> None:
    json.dump(document, sys.stdout, default=_default, indent=2, sort_keys=False)
    sys.stdout.write("\n")


class Context:
    """Opens the ledger lazily so `claimdesk --help` and bad arguments cost nothing."""

    def __init__(self, db: str | None, as_user: str | None) -> None:
        self.db = db
        self.as_user = as_user
        self._ledger: Any = None
        self._queries: Any = None
        self._following = False   # the ledger's save hooks keep the read models level

    @property
    def ledger(self) -> Any:
        if self._ledger is None:
            from tui.cli.wiring import open_ledger  # noqa: PLC0415

            self._ledger = open_ledger(self.db, self.as_user)
        return self._ledger

    @property
    def queries(self) -> Any:
        """The read models, caught up now and kept level with what this command saves."""
        if self._queries is None:
            from tui.cli.wiring import open_queries  # noqa: PLC0415

            self.keep_read_models()
            self._queries = open_queries(self.ledger, follow_saves=False)
        return self._queries

    def keep_read_models(self) -> None:
        """Keep the read models level with what this command saves, opening them only when
        its first save is prepared: an import forks pyx12 first (opening them takes ~0.1 s),
        and the read models catch up to just before the file's events while pyx12 runs."""
        if self._following:
            return
        from tui.cli.wiring import follow  # noqa: PLC0415

        follow(self.ledger, self._read_models)
        self._following = True

    def _read_models(self) -> Any:
        if self._queries is None:
            from tui.cli.wiring import open_queries  # noqa: PLC0415

            self._queries = open_queries(self.ledger, catch_up=False, follow_saves=False)
        return self._queries

    def close(self) -> None:
        for thing in (self._queries, self._ledger):
            closer = getattr(thing, "close", None)
            if callable(closer):
                closer()


def run_handler(args: argparse.Namespace, context: Context) -> int:
    handler = getattr(args, "handler", None)
    if handler is None:
        raise CliError(f"{args.command}: give a subcommand (see claimdesk {args.command} --help)")
    try:
        result = handler(args, context)
    except BillingError as error:
        raise CliError(f"{error.title}: {error}") from None
    return int(result or 0)
