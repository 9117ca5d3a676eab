"""Imported files as facts: which file (by SHA-256) was imported, by whom, with what result.

An `ImportRecord` stream is keyed by the kind of file and the SHA-256 of its bytes, and it
is saved in the same transaction as everything the file created, so a file is either wholly
in the ledger with its record or not at all; importing the same bytes again finds the record
and records nothing. `SourceKeys` remembers which ledger record each row key of another
system became (a charge row key -> our line id), so a later file repeating a row adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.base import BillingAggregate, stream_id
from domain.errors import ValidationError


class ImportRefused(ValidationError):
    """A file that cannot be imported; `problems` name each fault (line, column, segment)."""

    title = "File refused"

    def __init__(self, file_name: str, problems: list[str]) -> None:
        shown = problems[:20]
        more = f"\n  ... and {len(problems) - len(shown)} more" if len(problems) > 20 else ""
        super().__init__(f"{file_name}: " + "\n  ".join(["nothing was imported:", *shown])
                         + more)
        self.file_name = file_name
        self.problems = list(problems)


@dataclass(frozen=True)
class ImportOutcome:
    """What one import did: `status` is "imported" or "already-imported" (then events == 0)."""

    kind: str
    file_name: str
    sha256: str
    status: str
    events: int
    summary: dict[str, Any] = field(default_factory=dict)
    # What the importer knows beyond the stored summary (e.g. which lines each source claim
    # became); only for the run that imported the file.
    details: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


class ImportRecord(BillingAggregate):
    """One imported file."""

    @staticmethod
    def create_id(kind: str, sha256: str) -> UUID:
        return stream_id("import", f"{kind}:{sha256}")

    @event("Imported")
    def __init__(self, kind: str, sha256: str, file_name: str, imported_on: date,
                 summary: dict[str, Any]) -> None:
        self.kind = kind
        self.sha256 = sha256
        self.file_name = file_name
        self.imported_on = imported_on
        self.summary = dict(summary)


class SourceKeys(BillingAggregate):
    """Row keys of another system and the ledger records they became, for one scope."""

    @staticmethod
    def create_id(scope: str) -> UUID:
        return stream_id("source-keys", scope)

    @event("Opened")
    def __init__(self, scope: str) -> None:
        self.scope = scope
        self.keys: dict[str, str] = {}

    def record(self, keys: dict[str, str], source: str) -> None:
        taken = sorted(k for k, v in keys.items() if self.keys.get(k, v) != v)
        if taken:
            raise ValidationError(
                f"{self.scope}: row keys {', '.join(taken)} already stand for other records")
        new = {k: v for k, v in keys.items() if k not in self.keys}
        if new:
            self._keys_recorded(keys=new, source=source)

    @event("KeysRecorded")
    def _keys_recorded(self, keys: dict[str, str], source: str) -> None:
        self.keys.update(keys)
