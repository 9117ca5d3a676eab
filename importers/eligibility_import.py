"""Importing 271 eligibility answers: read, validate (pyx12), then one ledger command per file.

Everything that can refuse a file happens before the ledger is asked: the version check (4010
271s are refused as unsupported), the tokenizer, our reader and pyx12 with claimdesk's 271 map
(`importers.x12.inquiry_maps`). A control number that does not match its trailer (SE02, IEA02)
is kept as a warning: the answers are intact and nothing is paid from them. The ledger then
records every answer in one save, or nothing; importing the same answers again records nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from domain.services.inquiries import InquiryImport
from importers.inquiry_import import Progress, import_answers
from importers.x12.eligibility import eligibility_document, parse_271
from importers.x12.era import ValidationPolicy

POLICY_271 = ValidationPolicy(read={
    "HL": None, "TRN": frozenset({"TRN01", "TRN02"}),
    "NM1": frozenset({"NM101", "NM108", "NM109"}),
    "AAA": frozenset({"AAA01", "AAA03", "AAA04"}),
    "EB": frozenset({"EB01", "EB02", "EB03", "EB05", "EB06", "EB07", "EB08", "EB12"}),
    "LS": None, "LE": None,
}, loose=frozenset({"N3", "N4", "DMG", "DTP", "REF", "PER", "PRV", "INS", "HI", "MSG", "III",
                    "HSD", "MPI"}), required=frozenset({"HL", "NM1"}))


def import_271(ledger: Any, raw: bytes, name: str, *, dry_run: bool = False,
               progress: Progress | None = None) -> InquiryImport:
    """Import one 271 into `ledger` (a BillingLedger); never raises for a bad file."""
    parsed = parse_271(raw, name)
    return import_answers(
        parsed, name, "271", POLICY_271,
        lambda **options: ledger.import_eligibility_responses(
            eligibility_document(parsed), **options),
        dry_run=dry_run, progress=progress)


def import_271_file(ledger: Any, path: str | Path, **options: Any) -> InquiryImport:
    path = Path(path)
    return import_271(ledger, path.read_bytes(), str(path), **options)
