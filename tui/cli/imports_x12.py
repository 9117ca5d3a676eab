"""`claimdesk import 835|999|277ca FILE...`: payments and acknowledgements from payers.

Each file is posted whole or not at all; the exit status is 1 when any file was refused.
With --json: one object per file (a list when several files are given).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from domain.money import format_usd
from importers.remittance_import import import_835, import_acknowledgement
from tui.cli.context import CliError, Context, emit_json, told
from tui.cli.import_group import import_subparsers

Progress = Callable[[str, int, int], None]

# The fields issue 4 promises for each 835 file, in this order.
ERA_FIELDS = ("file", "status", "payment_cents", "claims", "matched", "unmatched",
              "unapplied_cents", "events", "message")


def register(subparsers: Any) -> None:
    sub = import_subparsers(subparsers)
    era = sub.add_parser("835", help="post 835 remittances (payments, adjustments, denials)")
    era.add_argument("files", nargs="+", type=Path, metavar="FILE")
    era.add_argument("--dry-run", action="store_true",
                     help="show, claim by claim, what would be posted; write nothing")
    era.add_argument("--json", action="store_true", help="one JSON object per file")
    era.set_defaults(handler=_import_835)
    for kind, text in (("999", "999 implementation acknowledgements (set accepted/rejected)"),
                       ("277ca", "277CA claim acknowledgements (claim accepted/rejected)")):
        ack = sub.add_parser(kind, help=f"apply {text}")
        ack.add_argument("files", nargs="+", type=Path, metavar="FILE")
        ack.add_argument("--dry-run", action="store_true", help="show the changes; write nothing")
        ack.add_argument("--json", action="store_true", help="one JSON object per file")
        ack.set_defaults(handler=_import_ack, kind="277CA" if kind == "277ca" else kind)


@contextmanager
def _progress_bar(enabled: bool) -> Iterator[Callable[[str], Progress | None]]:
    """A progress bar on stderr for each file, when stderr is a terminal (never under --json)."""
    if not enabled:
        yield lambda name: None
        return
    # Loaded only on a terminal.
    from rich.console import Console  # noqa: PLC0415
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn  # noqa: PLC0415
    from rich.progress import Progress as RichProgress  # noqa: PLC0415

    with RichProgress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        def for_file(name: str) -> Progress | None:
            task = bar.add_task(name, total=None)

            def update(phase: str, done: int, total: int) -> None:
                bar.update(task, description=f"{name}: {phase}", completed=done, total=total)
            return update
        yield for_file


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror or error}") from None


def _import_835(args: argparse.Namespace, context: Context) -> int:
    results = []
    if not args.dry_run:
        # The next report or queue finds the files' payments there already: their events are
        # folded into the read models while pyx12 checks each file, and written once saved.
        context.keep_read_models()
    # The bar redraws on stderr; the summaries go to stdout once it is gone.
    with _progress_bar(not args.json and sys.stderr.isatty()) as progress_for:
        for path in args.files:
            results.append(import_835(context.ledger, _read(path), str(path),
                                      dry_run=args.dry_run, progress=progress_for(path.name)))
    if args.json:
        documents = [_era_json(result, args.dry_run) for result in results]
        emit_json(documents[0] if len(documents) == 1 else documents)
    else:
        for result in results:
            with told(result.status):
                _print_era(result, args.dry_run)
    return 1 if any(result.status == "refused" for result in results) else 0


def _era_json(result: Any, dry_run: bool) -> dict[str, Any]:
    # Not `as_dict()` for every file: it deep-copies every posting (0.5 s at 10,000 claims),
    # and only a dry run prints them.
    doc = {name: getattr(result, name) for name in ERA_FIELDS}
    doc.update(posted_cents=result.posted_cents,
               provider_adjustment_cents=result.provider_adjustment_cents,
               dry_run=dry_run, remittance_ids=result.remittance_ids,
               unapplied=result.unapplied, notes=result.notes)
    if dry_run:
        doc["postings"] = result.as_dict()["postings"]
    return doc


def _print_era(result: Any, dry_run: bool) -> None:
    money = format_usd
    verb = {"posted": "would post" if dry_run else "posted"}.get(result.status, result.status)
    print(f"{result.file}: {verb}: payment {money(result.payment_cents)}, {result.claims} "
          f"claim(s), {result.matched} matched, {result.unmatched} unapplied "
          f"({money(result.unapplied_cents)}), {result.events} event(s)"
          + (" (nothing written)" if dry_run else ""))
    if result.message:
        print(f"  {result.message}")
    if dry_run:
        for posting in result.postings:
            moved = ", ".join(f"to {party} {money(cents)}"
                              for party, cents in posting.transferred.items())
            balances = ", ".join(f"{party} {money(cents)}"
                                 for party, cents in posting.balances.items()) or "none"
            print(f"  claim {posting.claim_id} (CLP02 {posting.status_code}, "
                  f"{posting.outcome}): paid {money(posting.paid_cents)}, written off "
                  f"{money(posting.written_off_cents)}"
                  + (f", {moved}" if moved else "")
                  + (f", denied {money(posting.denied_cents)}" if posting.denied_cents else "")
                  + f"; balances after: {balances}")
    for held in result.unapplied:
        print(f"  claim {held['claim_id']} to suspense, {money(held['paid_cents'])}: "
              f"{held['reason']}")
    if result.provider_adjustment_cents:
        print(f"  provider-level adjustments (PLB) to the payer clearing account: "
              f"{money(result.provider_adjustment_cents)}")
    for note in result.notes:
        print(f"  note: {note}")


def _import_ack(args: argparse.Namespace, context: Context) -> int:
    results = []
    with _progress_bar(not args.json and sys.stderr.isatty()) as progress_for:
        for path in args.files:
            results.append(import_acknowledgement(
                context.ledger, _read(path), str(path), kind=args.kind, dry_run=args.dry_run,
                progress=progress_for(path.name)))
    if args.json:
        documents = [result.as_dict() for result in results]
        emit_json(documents[0] if len(documents) == 1 else documents)
    else:
        for result in results:
            with told(result.status):
                _print_ack(result, args.dry_run)
    return 1 if any(result.status == "refused" for result in results) else 0


def _print_ack(result: Any, dry_run: bool) -> None:
    verb = {"posted": "would record" if dry_run else "recorded"}.get(result.status,
                                                                      result.status)
    print(f"{result.file}: {result.kind or 'acknowledgement'} {verb}: "
          f"{len(result.accepted)} claim(s) accepted, {len(result.rejected)} rejected, "
          f"{len(result.unknown)} unknown, {result.events} event(s)"
          + (" (nothing written)" if dry_run else ""))
    if result.message:
        print(f"  {result.message}")
    for label, ids in (("accepted", result.accepted), ("rejected", result.rejected),
                       ("not in this ledger", result.unknown)):
        if ids:
            print(f"  {label}: {', '.join(ids)}")
    for item in result.unchanged:
        print(f"  unchanged {item.get('claim_id') or item.get('set')}: {item['reason']}")
    for note in result.notes:
        print(f"  note: {note}")
