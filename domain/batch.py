"""The submission counter: every 837 batch sent, with the X12 control numbers it took.

ISA13, GS06 and ST02 must not repeat: a clearinghouse refuses a duplicate interchange, and a
999 names the GS06/ST02 it acknowledges, which is how we find the claims it speaks of. One
stream holds the counter, so two billers submitting at once both try to append the same
version; the store refuses the second, whose batch is then planned again with new numbers.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.base import BillingAggregate, stream_id
from domain.errors import ConcurrencyError, RuleViolation

MAX_CONTROL = 999_999_999  # ISA13 is 9 digits; GS06 and ST02 fit the same range


def _after(number: int) -> int:
    return number % MAX_CONTROL + 1


class SubmissionCounter(BillingAggregate):
    """The ledger's one sequence of interchange and transaction-set control numbers."""

    @staticmethod
    def create_id() -> UUID:
        return stream_id("submission-counter", "main")

    @event("Opened")
    def __init__(self) -> None:
        self.last_interchange = 0
        self.last_transaction = 0
        self.batches: dict[str, dict[str, Any]] = {}

    @property
    def next_interchange(self) -> int:
        return _after(self.last_interchange)

    def next_transactions(self, count: int) -> list[int]:
        numbers, last = [], self.last_transaction
        for _ in range(count):
            last = _after(last)
            numbers.append(last)
        return numbers

    def record_batch(
        self, batch_id: str, interchange_control: int, transactions: dict[str, list[str]],
        payer_id: str, charge_cents: int, file_name: str, submitted_on: date,
    ) -> None:
        """`transactions` maps each ST02 to the claim ids it carries, in file order."""
        if batch_id in self.batches:
            raise RuleViolation(f"batch {batch_id} was already submitted")
        expected = self.next_transactions(len(transactions))
        if interchange_control != self.next_interchange or [
                int(control) for control in transactions] != expected:
            raise ConcurrencyError(
                f"batch {batch_id} was numbered from interchange {interchange_control}, but "
                f"another batch took that number first (next is {self.next_interchange}); "
                "submit again")
        self._batch_recorded(
            batch_id=batch_id, interchange_control=interchange_control,
            transactions={k: list(v) for k, v in transactions.items()}, payer_id=payer_id,
            charge_cents=charge_cents, file_name=file_name, submitted_on=submitted_on)

    @event("BatchRecorded")
    def _batch_recorded(
        self, batch_id: str, interchange_control: int, transactions: dict[str, list[str]],
        payer_id: str, charge_cents: int, file_name: str, submitted_on: date,
    ) -> None:
        self.last_interchange = interchange_control
        if transactions:
            self.last_transaction = int(list(transactions)[-1])
        self.batches[batch_id] = {
            "batch_id": batch_id, "interchange_control": interchange_control,
            "transactions": {k: list(v) for k, v in transactions.items()},
            "payer_id": payer_id, "charge_cents": charge_cents, "file_name": file_name,
            "submitted_on": submitted_on}
