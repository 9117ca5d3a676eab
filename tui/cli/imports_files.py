"""`claimdesk import patients|fee-schedule|chargemaster|charges|837 FILE...`, `import synthea DIR`.

Each file is imported whole or not at all, once: the same bytes again change nothing ("already
imported"). A refused file names each fault (line and column, or X12 segment) and the exit
status is 1. With --json: one object per file (a list when several are given); for 837 files
it has `file`, `status`, `claims`, `charge_cents` and `events` first.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from domain.errors import BillingError
from domain.import_record import ImportOutcome, ImportRefused
from domain.money import format_usd
from importers.csv_import import FORMATS, IMPORTERS
from importers.synthea import import_synthea, read_directory
from importers.x12.claim_837_in import import_837
from tui.cli.context import CliError, Context, emit_json, told
from tui.cli.import_group import import_subparsers

Progress = Callable[[int, int], None]
Importer = Callable[..., ImportOutcome]

CLAIM_FIELDS = ("file", "status", "claims", "charge_cents", "events")


def register(subparsers: Any) -> None:
    sub = import_subparsers(subparsers)
    for kind, fmt in FORMATS.items():
        parser = sub.add_parser(
            kind, help=f"a {kind} CSV: {fmt.summary} (columns: README, Importing files)",
            description=f"Columns ({', '.join(fmt.required)} required): "
                        + "; ".join(f"{c.name}: {c.help}" for c in fmt.columns))
        parser.add_argument("files", nargs="+", type=Path, metavar="CSV")
        parser.add_argument("--json", action="store_true", help="one JSON object per file")
        parser.set_defaults(handler=_import_files, importer=IMPORTERS[kind])
    claims = sub.add_parser("837", help="837P claims from a practice's EHR, entered as billed")
    claims.add_argument("files", nargs="+", type=Path, metavar="FILE")
    claims.add_argument("--json", action="store_true", help="one JSON object per file")
    claims.set_defaults(handler=_import_files, importer=import_837)
    synthea = sub.add_parser("synthea", help="a Synthea CSV export (patients ... "
                                             "claims_transactions)")
    synthea.add_argument("directory", type=Path, metavar="DIR")
    synthea.add_argument("--json", action="store_true", help="a JSON summary")
    synthea.set_defaults(handler=_import_synthea)


@contextmanager
def _progress_bar(enabled: bool, name: str) -> Iterator[Progress | None]:
    """A bar on stderr while a file is entered, when stderr is a terminal (never with --json)."""
    if not enabled:
        yield None
        return
    from rich.console import Console  # noqa: PLC0415 - loaded only on a terminal
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn  # noqa: PLC0415
    from rich.progress import Progress as RichProgress  # noqa: PLC0415

    with RichProgress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(name, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror or error}") from None


def _run(importer: Callable[[Progress | None], ImportOutcome], name: str,
         show_progress: bool) -> dict[str, Any]:
    with _progress_bar(show_progress, name) as progress:
        try:
            outcome = importer(progress)
        except ImportRefused as refusal:
            return {"file": name, "status": "refused", "events": 0, "problems": refusal.problems}
        except BillingError as error:   # a closed period, a role, a conflict: same outcome
            return {"file": name, "status": "refused", "events": 0,
                    "problems": [f"{error.title}: {error}"]}
    summary = {k: v for k, v in outcome.summary.items() if k not in ("file", "claim_ids")}
    return {"file": name, "status": outcome.status, "events": outcome.events, **summary}


def _with_progress(importer: Importer, ledger: Any, data: bytes, name: str,
                   progress: Progress | None) -> ImportOutcome:
    return importer(ledger, data, name, progress=progress)


def _import_files(args: argparse.Namespace, context: Context) -> int:
    documents = []
    for path in args.files:
        run: Callable[[Progress | None], ImportOutcome] = functools.partial(
            _with_progress, args.importer, context.ledger, _read(path), str(path))
        document = _run(run, str(path), not args.json and sys.stderr.isatty())
        if args.importer is import_837:
            document = {**{k: document.get(k, 0) for k in CLAIM_FIELDS}, **document}
        documents.append(document)
        if not args.json:
            with told(document["status"]):
                _print(document)
    if args.json:
        emit_json(documents[0] if len(documents) == 1 else documents)
    return 1 if any(d["status"] == "refused" for d in documents) else 0


def _import_synthea(args: argparse.Namespace, context: Context) -> int:
    if not args.directory.is_dir():
        raise CliError(f"{args.directory} is not a directory (a Synthea CSV export)")
    try:
        files = read_directory(args.directory)
    except OSError as error:
        raise CliError(f"cannot read {args.directory}: {error.strerror or error}") from None
    document = _run(lambda progress: import_synthea(
        context.ledger, files, str(args.directory), progress=progress), str(args.directory),
        not args.json and sys.stderr.isatty())
    if args.json:
        emit_json(document)
    else:
        with told(document["status"]):
            _print(document)
    return 1 if document["status"] == "refused" else 0


def _print(document: dict[str, Any]) -> None:
    status = document["status"]
    if status == "refused":
        print(f"{document['file']}: refused, nothing was imported:")
        for problem in document["problems"]:
            print(f"  {problem}")
        return
    shown = []
    for key, value in document.items():
        if key in ("file", "status", "events", "imported_on", "imported_as") or not value:
            continue
        label = key.replace("_", " ")
        if key.endswith("_cents"):
            shown.append(f"{label.removesuffix(' cents')} {format_usd(value)}")
        else:
            shown.append(f"{label} {value}")
    when = f" on {document['imported_on']}" if document.get("imported_on") else ""
    print(f"{document['file']}: {status.replace('-', ' ')}{when}: {', '.join(shown) or 'empty'}"
          f"; {document['events']} event(s)")
