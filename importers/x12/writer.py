"""Writing X12: segments, free-text cleaning, amounts, the ISA/GS envelope, pyx12 validation.

Every file we write uses ``*`` between elements, ``:`` between components, ``^`` as the
repetition separator and ``~`` (plus a line break, for people) after each segment. A value
that contains one of those characters would silently shift every element after it, so free
text (names, addresses) has them replaced by spaces, and identifiers and codes that contain
one are refused outright: they mean corrupt data, not a typo.
"""

from __future__ import annotations

import io
import json
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from domain.money import Cents, format_x12_amount

ELEMENT = "*"
COMPONENT = ":"
REPETITION = "^"
TERMINATOR = "~"
SEPARATORS = frozenset(ELEMENT + COMPONENT + REPETITION + TERMINATOR)

# X12 basic + extended character set, minus our separators (X12.6 §3.3).
_TEXT_OK = re.compile(r"[^A-Za-z0-9 !\"&'()+,\-./;?=%@\[\]_{}\\|<>#$]")
_SPACES = re.compile(r"\s+")

Element = str | Sequence[str]   # a plain element, or the components of a composite


class X12WriteError(ValueError):
    """Data that cannot be written as X12; the message names the value and why."""


def text(value: str | None, max_length: int = 60) -> str:
    """Free text for a name or address element: ASCII, upper case, separators stripped.

    Accented letters lose their accent ("Peña" -> "PENA"); anything else outside the X12
    character sets, including our four separators, becomes a space.
    """
    if not value:
        return ""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    cleaned = _SPACES.sub(" ", _TEXT_OK.sub(" ", ascii_text)).strip().upper()
    return cleaned[:max_length].rstrip()


def identifier(value: str, what: str) -> str:
    """An id or code written as is; refused when it holds a separator or a control character."""
    if any(ch in SEPARATORS for ch in value) or any(not ch.isprintable() for ch in value):
        raise X12WriteError(f"{what} {value!r} contains an X12 separator or control character")
    return value.strip()


def amount(cents: int) -> str:
    """An X12 'R' amount in minimal form (15000 -> "150", 15050 -> "150.5")."""
    return format_x12_amount(Cents(cents))


def quantity(milli: int) -> str:
    """A quantity kept in thousandths, in minimal decimal form (1500 -> "1.5")."""
    whole, fraction = divmod(milli, 1000)
    return f"{whole}.{fraction:03d}".rstrip("0").rstrip(".") if fraction else str(whole)


def d8(value: Any) -> str:
    """CCYYMMDD."""
    return str(value.strftime("%Y%m%d"))


@dataclass
class SegmentWriter:
    """Segments of one transaction set (or envelope), counted as they are added."""

    segments: list[str] = field(default_factory=list)

    def add(self, segment_id: str, *elements: Element) -> None:
        parts = [segment_id]
        for element in elements:
            if isinstance(element, str):
                parts.append(element)
            else:
                parts.append(COMPONENT.join(element).rstrip(COMPONENT))
        while len(parts) > 1 and parts[-1] == "":
            parts.pop()
        self.segments.append(ELEMENT.join(parts))

    def __len__(self) -> int:
        return len(self.segments)


@dataclass(frozen=True)
class Party:
    """A sender or receiver of an interchange: its id (ISA06/08, GS02/03) and name."""

    id: str
    name: str
    id_qualifier: str = "ZZ"

    def __post_init__(self) -> None:
        identifier(self.id, "interchange id")
        if not 2 <= len(self.id) <= 15:
            raise X12WriteError(f"interchange id {self.id!r} must be 2-15 characters")


def envelope(
    *, sender: Party, receiver: Party, interchange_control: int, group_control: int,
    created_at: datetime, functional_code: str, version: str,
    transactions: Iterable[list[str]], usage: str = "P", line_breaks: bool = True,
) -> str:
    """Wrap transaction sets (each ST..SE, already counted) in one GS and one ISA.

    The ISA is fixed width: ISA06/ISA08 padded to 15 and ISA13 zero-padded to 9 digits, so
    the segment is exactly 106 characters with its terminator.
    """
    if usage not in ("P", "T"):
        raise X12WriteError(f"usage indicator must be P or T, not {usage!r}")
    if not 0 < interchange_control < 10**9:
        raise X12WriteError(f"interchange control number {interchange_control} is not 1-9 digits")
    sets = list(transactions)
    isa = ELEMENT.join([
        "ISA", "00", " " * 10, "00", " " * 10,
        sender.id_qualifier, f"{sender.id:<15}", receiver.id_qualifier, f"{receiver.id:<15}",
        created_at.strftime("%y%m%d"), created_at.strftime("%H%M"), REPETITION, "00501",
        f"{interchange_control:09d}", "0", usage, COMPONENT])
    segments = [isa, ELEMENT.join([
        "GS", functional_code, sender.id, receiver.id, created_at.strftime("%Y%m%d"),
        created_at.strftime("%H%M"), str(group_control), "X", version])]
    for transaction in sets:
        segments.extend(transaction)
    segments.append(f"GE{ELEMENT}{len(sets)}{ELEMENT}{group_control}")
    segments.append(f"IEA{ELEMENT}1{ELEMENT}{interchange_control:09d}")
    joiner = TERMINATOR + ("\n" if line_breaks else "")
    return joiner.join(segments) + joiner


def close_transaction(writer: SegmentWriter, control: str) -> list[str]:
    """Append SE with the count of segments from ST to SE inclusive."""
    writer.add("SE", str(len(writer) + 1), control)
    return writer.segments


@dataclass(frozen=True)
class ValidationResult:
    ok: bool
    errors: tuple[str, ...]
    acknowledgement: str  # the 999 pyx12 generates

    def summary(self) -> str:
        return "OK" if self.ok else "Failure: " + "; ".join(self.errors[:10])


def _errors_in(node: Any, where: str = "") -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        label = where
        if "seg_id" in node:
            label = f"{where} {node.get('seg_id')} (segment {node.get('seg_count', '?')})"
        for error in node.get("errors", []) or []:
            message = error.get("err_str") or error.get("err_cde")
            found.append(f"{label.strip()}: {message}" if label.strip() else str(message))
        for key, value in node.items():
            if key != "errors" and isinstance(value, (list, dict)):
                found.extend(_errors_in(value, label))
    elif isinstance(node, list):
        for item in node:
            found.extend(_errors_in(item, where))
    return found


def validate(path: str | Path) -> ValidationResult:
    """Run pyx12's validator (what ``x12valid`` does) on a file, in process.

    pyx12 logs each error as well; we collect them from its JSON report instead.
    """
    import pyx12.params  # noqa: PLC0415 - loading pyx12 and its maps is only for validation
    import pyx12.x12n_document  # noqa: PLC0415

    logger = logging.getLogger("pyx12")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    report, ack = io.StringIO(), io.StringIO()
    try:
        ok = bool(pyx12.x12n_document.x12n_document(
            param=pyx12.params.params(), src_file=str(path), fd_997=ack, fd_html=None,
            fd_json=report))
    finally:
        logger.setLevel(level)
    try:
        errors = _errors_in(json.loads(report.getvalue() or "{}"))
    except json.JSONDecodeError:
        errors = ["pyx12 wrote no readable report"]
    if not ok and not errors:
        errors = ["pyx12 rejected the file"]
    return ValidationResult(ok and not errors, tuple(errors), ack.getvalue())
