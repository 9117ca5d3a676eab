"""Importing 271 eligibility answers: read, validate (pyx12), then one ledger command per file.

Everything that can refuse a file happens before the ledger is asked: the version check (4010
271s are refused as unsupported), the tokenizer, our reader and pyx12 with claimdesk's 271 map
(`importers.x12.inquiry_maps`). A control number that does not match its trailer (SE02, IEA02)
is kept as a warning: the answers are intact and nothing is paid from them. The ledger then
records every answer in one save, or nothing; importing the same answers again records nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from domain.errors import BillingError
from domain.services.inquiries import REFUSED, InquiryImport
from importers.remittance_import import refusal_message
from importers.x12.eligibility import ParsedInquiry, eligibility_document, parse_271
from importers.x12.era import ValidationPolicy
from importers.x12.inquiry_maps import validate_inquiry
from importers.x12.validate import ENVELOPE, ValidationIssue

# (phase, done, total): "validate" (segments) or "post" (answers).
Progress = Callable[[str, int, int], None]

POLICY_271 = ValidationPolicy(read={
    "HL": None, "TRN": frozenset({"TRN01", "TRN02"}),
    "NM1": frozenset({"NM101", "NM108", "NM109"}),
    "AAA": frozenset({"AAA01", "AAA03", "AAA04"}),
    "EB": frozenset({"EB01", "EB02", "EB03", "EB05", "EB06", "EB07", "EB08", "EB12"}),
    "LS": None, "LE": None,
}, loose=frozenset({"N3", "N4", "DMG", "DTP", "REF", "PER", "PRV", "INS", "HI", "MSG", "III",
                    "HSD", "MPI"}), required=frozenset({"HL", "NM1"}))


def blocks(policy: ValidationPolicy, issue: ValidationIssue) -> bool:
    """A trailer's control number that differs from its header's loses nothing we read."""
    if issue.level == ENVELOPE and "does not match" in issue.message:
        return False
    return policy.blocks(issue)


def phase(progress: Progress | None, name: str) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(name, done, total)


def check(parsed: ParsedInquiry, policy: ValidationPolicy,
          progress: Progress | None) -> tuple[list[str], list[str]]:
    """(refusals, warnings): our reader's problems plus pyx12's findings sorted by `policy`."""
    problems = [str(p) for p in parsed.problems]
    warnings = list(parsed.warnings)
    if parsed.separators is not None and not problems:
        report = validate_inquiry(parsed.separators, parsed.segments,
                                  progress=phase(progress, "validate"))
        for issue in report.issues:
            if blocks(policy, issue):
                problems.append(f"pyx12: {issue}")
            else:
                warnings.append(f"pyx12 (accepted): {issue}")
    return problems, warnings


def import_271(ledger: Any, raw: bytes, name: str, *, dry_run: bool = False,
               progress: Progress | None = None) -> InquiryImport:
    """Import one 271 into `ledger` (a BillingLedger); never raises for a bad file."""
    parsed = parse_271(raw, name)
    problems, warnings = check(parsed, POLICY_271, progress)
    if problems:
        return InquiryImport(file=name, kind="271", status=REFUSED, answers=len(parsed.items),
                             dry_run=dry_run, notes=warnings,
                             message="refused, nothing recorded: " + refusal_message(problems))
    try:
        result: InquiryImport = ledger.import_eligibility_responses(
            eligibility_document(parsed), dry_run=dry_run, progress=phase(progress, "post"))
    except BillingError as error:
        return InquiryImport(file=name, kind="271", status=REFUSED, answers=len(parsed.items),
                             dry_run=dry_run, notes=warnings,
                             message=f"refused, nothing recorded: {error.title}: {error}")
    result.notes = warnings + result.notes
    return result


def import_271_file(ledger: Any, path: str | Path, **options: Any) -> InquiryImport:
    path = Path(path)
    return import_271(ledger, path.read_bytes(), str(path), **options)
