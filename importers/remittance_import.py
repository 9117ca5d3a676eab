"""Importing 835, 999 and 277CA files: read, validate (pyx12), balance, then one command per file.

Everything that can refuse a file happens before the ledger is asked to do anything: the
tokenizer, the version check, our parser, pyx12 (whose findings `era.VALIDATION_POLICY` sorts
into refusals and warnings) and the 835 balancing equations. The ledger command then posts the
whole file in one save or not at all. A refused file's message names every fault found, with
its segment number, so a biller can show it to the payer or the clearinghouse.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from domain.errors import BillingError
from domain.services.remittances import (
    REFUSED,
    AcknowledgementImport,
    RemittanceImport,
)
from importers.x12.acks import KIND_277CA, KIND_999, parse_acknowledgement
from importers.x12.era import VALIDATION_POLICY, parse_835
from importers.x12.validate import BackgroundValidation, validate

# (phase, done, total): phase is "validate" (segments) or "post" (claims).
Progress = Callable[[str, int, int], None]

MAX_REASONS = 10


def refusal_message(problems: list[str]) -> str:
    shown = "; ".join(problems[:MAX_REASONS])
    more = len(problems) - MAX_REASONS
    return f"{shown}; and {more} more" if more > 0 else shown


def _phase(progress: Progress | None, phase: str) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(phase, done, total)


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    # Parsing and posting a large file allocate a few objects per segment and free none in
    # cycles; with every loaded aggregate alive, the cyclic GC would rescan them over and over
    # (a fifth of the CPU time at 10,000 claims). It runs again as soon as the file is done.
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


# Files at least this large are validated by pyx12 in a second process while this one parses
# and posts them in memory (below it, the overlap is too short to matter)...
BACKGROUND_MIN_BYTES = 128 * 1024
# ...unless this says otherwise: "inline" (this process only: one core, no child processes
# allowed) or "background" (a second process whatever the size and the machine).
VALIDATE_ENV_VAR = "CLAIMDESK_VALIDATE"


def _two_cores() -> bool:
    """Whether the machine has a second core for pyx12 beside this process.

    Its load does not matter: on the shared 2-core bench machine at a load of 3.3-4.3, a
    1,000-claim file took 0.63x of pyx12 alone's time with the second process against 0.60x
    without (four runs each, alternating) for 4% more CPU. A busy scheduler shares the cores
    out per process, so two of them get more of it, and the child is a fork (no second
    interpreter to start) wherever this process may fork.
    """
    return (os.cpu_count() or 1) >= 2


def _background(raw: bytes, name: str) -> BackgroundValidation | None:
    how = os.environ.get(VALIDATE_ENV_VAR, "auto")
    if how == "inline" or (how != "background" and (
            len(raw) < BACKGROUND_MIN_BYTES or not _two_cores())):
        return None
    try:
        return BackgroundValidation(raw, name)
    except OSError:
        return None


def import_835(ledger: Any, raw: bytes, name: str, *, dry_run: bool = False,
               progress: Progress | None = None) -> RemittanceImport:
    """Import one 835 file into `ledger` (a BillingLedger); never raises for a bad file.

    pyx12's verdict refuses a file exactly as if it had been asked first: the ledger command
    builds the postings in memory, then asks `verdict` before it saves anything.
    """
    with _no_cyclic_gc():
        return _import_835(ledger, raw, name, dry_run=dry_run, progress=progress)


def _import_835(ledger: Any, raw: bytes, name: str, *, dry_run: bool,
                progress: Progress | None) -> RemittanceImport:
    background = _background(raw, name)
    try:
        parsed = parse_835(raw, name)
        problems = [str(p) for p in parsed.problems]
        warnings = list(parsed.warnings)
        validated: list[bool] = []

        def verdict() -> bool:
            """Sort pyx12's findings into problems and warnings (once); True when none blocks."""
            if not validated:
                validated.append(True)
                if parsed.separators is not None and not parsed.version.startswith("004"):
                    report = background.report(_phase(progress, "validate")) if (
                        background is not None) else None
                    if report is None:
                        report = validate(parsed.segments,
                                          progress=_phase(progress, "validate"))
                    for issue in report.issues:
                        if VALIDATION_POLICY.blocks(issue):
                            problems.append(f"pyx12: {issue}")
                        else:
                            warnings.append(f"pyx12 (accepted): {issue}")
            return not problems

        def refused(message: str) -> RemittanceImport:
            return RemittanceImport(
                file=name, status=REFUSED, payment_cents=parsed.payment_cents,
                claims=parsed.claim_count, dry_run=dry_run,
                message=f"refused, nothing posted: {message}", notes=warnings)

        if problems or (background is None and not verdict()):
            verdict()
            return refused(refusal_message(problems))
        try:
            result: RemittanceImport = ledger.import_remittance(
                parsed.document_for(ledger), dry_run=dry_run, progress=_phase(progress, "post"),
                confirm=verdict)
        except BillingError as error:
            if not verdict():
                return refused(refusal_message(problems))
            # A rule of the ledger as a whole (a closed period, the user's role, a conflict
            # that kept recurring): the file is refused like any other, so the next file runs.
            return refused(f"{error.title}: {error}")
        if not verdict():   # whatever the command answered, it saved nothing without it
            return refused(refusal_message(problems))
        result.notes = warnings + result.notes
        return result
    finally:
        if background is not None:
            background.cancel()


def import_acknowledgement(
    ledger: Any, raw: bytes, name: str, *, kind: str | None = None, dry_run: bool = False,
    progress: Progress | None = None,
) -> AcknowledgementImport:
    """Import one 999 or 277CA (`kind` to insist on one) into `ledger`."""
    parsed = parse_acknowledgement(raw, name, expect=kind)
    problems = [str(p) for p in parsed.problems]
    warnings = list(parsed.warnings)
    if parsed.separators is not None and parsed.kind:
        report = validate(parsed.segments,
                          progress=_phase(progress, "validate"))
        for issue in report.issues:
            if parsed.policy.blocks(issue):
                problems.append(f"pyx12: {issue}")
            else:
                warnings.append(f"pyx12 (accepted): {issue}")
    if not parsed.kind and not problems:
        problems.append("no 999 or 277CA transaction set in the file")
    if problems:
        return AcknowledgementImport(
            file=name, kind=parsed.kind or kind or "", status=REFUSED, sets=len(parsed.sets),
            claims=len(parsed.claims), dry_run=dry_run,
            message="refused, nothing recorded: " + refusal_message(problems))
    try:
        result: AcknowledgementImport = ledger.import_acknowledgements(
            parsed.document_for(ledger), dry_run=dry_run)
    except BillingError as error:
        return AcknowledgementImport(
            file=name, kind=parsed.kind, status=REFUSED, sets=len(parsed.sets),
            claims=len(parsed.claims), dry_run=dry_run,
            message=f"refused, nothing recorded: {error.title}: {error}", notes=warnings)
    result.notes = warnings + result.notes
    return result


def import_835_file(ledger: Any, path: str | Path, **options: Any) -> RemittanceImport:
    path = Path(path)
    return import_835(ledger, path.read_bytes(), str(path), **options)


def import_acknowledgement_file(ledger: Any, path: str | Path,
                                **options: Any) -> AcknowledgementImport:
    path = Path(path)
    return import_acknowledgement(ledger, path.read_bytes(), str(path), **options)


__all__ = ["KIND_277CA", "KIND_999", "import_835", "import_835_file", "import_acknowledgement",
           "import_acknowledgement_file", "refusal_message"]
