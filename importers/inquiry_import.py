"""One runner for the inquiry answers (271, 277): read, validate, then one ledger command.

Everything that can refuse a file happens before the ledger is asked: our reader's problems
and pyx12's findings (with claimdesk's maps, `importers.x12.inquiry_maps`) sorted by the
file kind's policy. A control number that does not match its trailer (SE02, IEA02) is kept as
a warning: the answers are intact and nothing is paid from them. The ledger then records every
answer in one save, or nothing; importing the same answers again records nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from domain.errors import BillingError
from domain.services.inquiries import REFUSED, InquiryImport
from importers.remittance_import import refusal_message
from importers.x12.eligibility import ParsedInquiry
from importers.x12.era import ValidationPolicy
from importers.x12.inquiry_maps import validate_inquiry
from importers.x12.validate import ENVELOPE, ValidationIssue

# (phase, done, total): "validate" (segments) or "post" (answers).
Progress = Callable[[str, int, int], None]


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
        report = validate_inquiry(parsed.segments,
                                  progress=phase(progress, "validate"))
        for issue in report.issues:
            if blocks(policy, issue):
                problems.append(f"pyx12: {issue}")
            else:
                warnings.append(f"pyx12 (accepted): {issue}")
    return problems, warnings


def import_answers(
    parsed: ParsedInquiry, name: str, kind: str, policy: ValidationPolicy,
    record: Callable[..., InquiryImport], *, dry_run: bool = False,
    progress: Progress | None = None,
) -> InquiryImport:
    """Check `parsed`, then hand it to the ledger command `record`; never raises for a bad file.

    `record(progress=..., dry_run=...)` is the ledger command with its document bound.
    """
    problems, warnings = check(parsed, policy, progress)

    def refused(message: str) -> InquiryImport:
        return InquiryImport(file=name, kind=kind, status=REFUSED, answers=len(parsed.items),
                             dry_run=dry_run, notes=warnings,
                             message=f"refused, nothing recorded: {message}")

    if problems:
        return refused(refusal_message(problems))
    try:
        result = record(dry_run=dry_run, progress=phase(progress, "post"))
    except BillingError as error:
        return refused(f"{error.title}: {error}")
    result.notes = warnings + result.notes
    return result


__all__ = ["Progress", "blocks", "check", "import_answers", "phase"]
