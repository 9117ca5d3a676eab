"""Importing 277 claim status answers (005010X212): read, validate, one ledger command per file.

As for 271s (`importers.eligibility_import`): 4010 277s are refused as unsupported, pyx12 runs
with claimdesk's 277 X212 map, and the ledger records every status in one save or nothing. A
277CA (005010X214) is an acknowledgement, imported with `claimdesk import 277ca`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from domain.services.inquiries import InquiryImport
from importers.inquiry_import import Progress, import_answers
from importers.x12.claim_status import parse_277, status_document
from importers.x12.era import ValidationPolicy

POLICY_277 = ValidationPolicy(read={
    "HL": None, "TRN": frozenset({"TRN01", "TRN02"}),
    "NM1": frozenset({"NM101", "NM109"}),
    "STC": frozenset({"STC01", "STC02", "STC04", "STC05", "STC10", "STC11"}),
    "REF": frozenset({"REF01", "REF02"}),
}, loose=frozenset({"DTP", "SVC", "QTY", "AMT", "PER", "DMG"}),
    required=frozenset({"HL", "NM1", "TRN", "STC"}))


def import_277(ledger: Any, raw: bytes, name: str, *, dry_run: bool = False,
               progress: Progress | None = None) -> InquiryImport:
    """Import one 277 into `ledger` (a BillingLedger); never raises for a bad file."""
    parsed = parse_277(raw, name)
    if any("005010X214" in p.message for p in parsed.problems):
        parsed.problems.append(parsed.problems[0].__class__(
            0, "this is a 277CA acknowledgement: import it with `claimdesk import 277ca`"))
    return import_answers(
        parsed, name, "277", POLICY_277,
        lambda **options: ledger.import_claim_statuses(status_document(parsed), **options),
        dry_run=dry_run, progress=progress)


def import_277_file(ledger: Any, path: str | Path, **options: Any) -> InquiryImport:
    path = Path(path)
    return import_277(ledger, path.read_bytes(), str(path), **options)
