"""Imported X12 files as ledger facts: 835 payments, 999/277CA acknowledgements, raw evidence.

An 835 transaction set is one payment (BPR02) under one trace number (TRN02). Its
`RemittanceFile` stream is keyed by payer + trace number + SHA-256 of the set's normalized
ST..SE text, so importing the same payment again collides in the store; a `PaymentTrace`
stream keyed by payer + trace number alone catches the same trace number arriving with other
content (held for review, DOMAIN.md §4 step 1). The raw bytes are kept once, content-addressed
by their SHA-256, in a `SourceFile` stream, and every posting names its source as
``era:<raw sha256>:<ST02>:CLP<n>[:SVC<m>]``.

Money that is not a claim's stays on the remittance: PLB provider-level adjustments post to the
payer's clearing account, and claims we cannot match wait in its unapplied (suspense) list with
every amount the payer sent until a biller applies them, so for each payment
``posted + unapplied = BPR02 + ΣPLB``.

The importer fills the dataclasses below from X12; the domain never reads X12 itself.
"""

from __future__ import annotations

import base64
import zlib
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.base import BillingAggregate, stream_id
from domain.errors import RuleViolation
from domain.remittance import CasAdjustment, ClaimRemit, ServiceRemit

# -- what an importer hands to the ledger ----------------------------------------------------


@dataclass(frozen=True)
class ProviderAdjustment:
    """One PLB reason/amount pair: positive amounts reduce the payment, negative increase it."""

    provider_id: str            # PLB01
    fiscal_period_date: date | None  # PLB02
    reason: str                 # PLB03-1, e.g. WO, 72, FB, L6, CS
    reference: str              # PLB03-2, e.g. the claim or the overpayment it recovers
    amount_cents: int           # PLB04
    segment: int = 0            # where in the file, for the posting's source


@dataclass(frozen=True)
class RemittedClaim:
    """One CLP loop with what identifies it to a biller when it cannot be matched."""

    remit: ClaimRemit
    segment: int = 0
    patient_name: str = ""       # NM1*QC
    member_id: str = ""          # NM1*QC NM109
    crossover_carrier: str = ""  # NM1*TT: the next payer the claim was forwarded to (19-21)


@dataclass(frozen=True)
class RemittanceAdvice:
    """One 835 transaction set: one payment, its claims and its provider-level adjustments."""

    payer_id: str               # TRN03 (else N1*PR N104, else the payer's name)
    payer_name: str
    trace_number: str           # TRN02: check or EFT trace number
    content_sha256: str         # of the normalized ST..SE text
    control_number: str         # ST02
    interchange_control: str    # ISA13
    payment_cents: int          # BPR02
    handling_code: str          # BPR01
    credit_debit: str           # BPR03
    payment_method: str         # BPR04
    paid_on: date               # BPR16 (else DTM*405, else GS04)
    payee_id: str = ""
    payee_name: str = ""
    claims: tuple[RemittedClaim, ...] = ()
    provider_adjustments: tuple[ProviderAdjustment, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.payer_id}:{self.trace_number}"


@dataclass(frozen=True)
class RemittanceDocument:
    """An 835 file: its raw bytes and its payments, in file order."""

    name: str
    raw: bytes = field(repr=False)
    raw_sha256: str
    advices: tuple[RemittanceAdvice, ...]


# 999 IK5/AK9 and 277CA STC category codes, by what they do to a claim (DOMAIN.md §6).
SET_ACCEPTED = frozenset({"A", "E"})            # E: accepted with errors
SET_REJECTED = frozenset({"R", "M", "W", "X"})  # M/W/X: rejected for security reasons
CLAIM_ACCEPTED = frozenset({"A2", "A5"})        # A5: accepted and split by the payer
CLAIM_REJECTED = frozenset({"A3", "A6", "A7", "A8"})
CLAIM_RECEIVED = "A1"                           # received, not yet accepted: no change
CLAIM_NOT_FOUND = "A4"


@dataclass(frozen=True)
class SetAcknowledgement:
    """A 999's verdict on one 837 transaction set (AK2..IK5), or a whole group (AK9 alone)."""

    functional_id: str          # AK101: HC for our 837s
    group_control: str          # AK102: our GS06
    transaction_control: str    # AK202: our ST02 ("" when the AK9 speaks for the group)
    code: str                   # IK501 (or AK901)
    reasons: tuple[str, ...] = ()
    segment: int = 0

    @property
    def verdict(self) -> str:
        if self.code in SET_ACCEPTED:
            return "accepted"
        if self.code in SET_REJECTED:
            return "rejected"
        return "partial" if self.code == "P" else "unknown"


@dataclass(frozen=True)
class ClaimAcknowledgement:
    """A 277CA's status of one claim (2200D, TRN02 = CLM01) or of a whole batch (2200B)."""

    claim_id: str               # 2200D TRN02; "" for a batch-level status
    batch_id: str               # 2200B TRN02: our BHT03
    statuses: tuple[str, ...]   # STC01/STC10/STC11 composites, e.g. "A7:562:85"
    payer_claim_control_number: str = ""   # REF*1K
    effective_on: date | None = None       # STC02
    segment: int = 0

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(s.split(":")[0] for s in self.statuses)

    @property
    def verdict(self) -> str:
        categories = set(self.categories)
        if categories & CLAIM_REJECTED:
            return "rejected"
        if categories & CLAIM_ACCEPTED:
            return "accepted"
        if CLAIM_NOT_FOUND in categories:
            return "not-found"
        return "received" if CLAIM_RECEIVED in categories else "unknown"


@dataclass(frozen=True)
class AcknowledgementDocument:
    """A 999 or 277CA file."""

    kind: str                   # "999" or "277CA"
    name: str
    raw: bytes = field(repr=False)
    raw_sha256: str
    content_sha256: str         # of its normalized ST..SE texts
    sender: str                 # ISA06
    interchange_control: str    # ISA13
    received_on: date | None = None
    sets: tuple[SetAcknowledgement, ...] = ()
    claims: tuple[ClaimAcknowledgement, ...] = ()


def remit_as_dict(remit: ClaimRemit) -> dict[str, Any]:
    return asdict(remit)


def remit_from_dict(data: dict[str, Any], claim_id: str | None = None) -> ClaimRemit:
    """Rebuild a stored ClaimRemit (optionally for another claim id, when a biller applies it)."""

    def cas(items: list[dict[str, Any]]) -> tuple[CasAdjustment, ...]:
        return tuple(CasAdjustment(**item) for item in items)

    services = tuple(
        ServiceRemit(**{**svc, "modifiers": tuple(svc["modifiers"]),
                        "adjustments": cas(svc["adjustments"]), "rarcs": tuple(svc["rarcs"])})
        for svc in data["services"])
    return ClaimRemit(**{
        **data, "claim_id": claim_id or data["claim_id"], "services": services,
        "claim_adjustments": cas(data["claim_adjustments"]),
        "claim_rarcs": tuple(data["claim_rarcs"])})


def clearing_account(payer_id: str) -> str:
    """The payer clearing account PLB amounts post to."""
    return f"CLEARING:{payer_id}"


# -- aggregates ---------------------------------------------------------------------------------


class SourceFile(BillingAggregate):
    """The raw bytes of an imported file, kept as evidence, addressed by their SHA-256."""

    @staticmethod
    def create_id(sha256: str) -> UUID:
        return stream_id("source-file", sha256)

    @classmethod
    def keep(cls, raw: bytes, sha256: str, name: str, kind: str, received_on: date) -> SourceFile:
        # zlib shrinks X12 roughly tenfold; base64 keeps the payload JSON text on any store.
        content = base64.b64encode(zlib.compress(raw, 6)).decode("ascii")
        return cls(sha256=sha256, name=name, kind=kind, size=len(raw),
                   encoding="zlib+base64", content=content, received_on=received_on)

    @event("Received")
    def __init__(self, sha256: str, name: str, kind: str, size: int, encoding: str,
                 content: str, received_on: date) -> None:
        self.sha256 = sha256
        self.name = name
        self.kind = kind
        self.size = size
        self.encoding = encoding
        self.content = content
        self.received_on = received_on

    def raw(self) -> bytes:
        assert self.encoding == "zlib+base64", self.encoding
        return zlib.decompress(base64.b64decode(self.content))


class PaymentTrace(BillingAggregate):
    """Which content a payer's trace number (TRN02) was first imported with."""

    @staticmethod
    def create_id(payer_id: str, trace_number: str) -> UUID:
        return stream_id("payment-trace", f"{payer_id}:{trace_number}")

    @event("Claimed")
    def __init__(self, payer_id: str, trace_number: str, content_sha256: str,
                 remittance_id: str) -> None:
        self.payer_id = payer_id
        self.trace_number = trace_number
        self.content_sha256 = content_sha256
        self.remittance_id = remittance_id


class RemittanceFile(BillingAggregate):
    """One imported 835 payment: what posted, to the clearing account, and to suspense."""

    @staticmethod
    def create_id(payer_id: str, trace_number: str, content_sha256: str) -> UUID:
        return stream_id("remittance", f"{payer_id}:{trace_number}:{content_sha256}")

    @event("Imported")
    def __init__(
        self, payer_id: str, payer_name: str, trace_number: str, content_sha256: str,
        raw_sha256: str, file_name: str, control_number: str, interchange_control: str,
        payment_cents: int, handling_code: str, credit_debit: str, payment_method: str,
        paid_on: date, payee_id: str, payee_name: str, received_on: date,
        claims: list[dict[str, Any]], posted_cents: int,
    ) -> None:
        self.payer_id = payer_id
        self.payer_name = payer_name
        self.trace_number = trace_number
        self.content_sha256 = content_sha256
        self.raw_sha256 = raw_sha256
        self.file_name = file_name
        self.control_number = control_number
        self.interchange_control = interchange_control
        self.payment_cents = payment_cents
        self.paid_on = paid_on
        self.received_on = received_on
        self.claims = [dict(c) for c in claims]
        self.posted_cents = posted_cents
        self.provider_adjustments: list[dict[str, Any]] = []
        self.unapplied: dict[int, dict[str, Any]] = {}

    @property
    def clearing_account(self) -> str:
        return clearing_account(self.payer_id)

    @property
    def provider_adjustment_cents(self) -> int:
        return sum(p["amount_cents"] for p in self.provider_adjustments)

    @property
    def unapplied_cents(self) -> int:
        """Money still in suspense (applied claims have left it)."""
        return sum(u["paid_cents"] for u in self.unapplied.values() if not u["applied_to"])

    def post_provider_adjustment(self, adjustment: ProviderAdjustment, source: str) -> None:
        self._provider_adjustment_posted(
            index=len(self.provider_adjustments) + 1, provider_id=adjustment.provider_id,
            fiscal_period_date=adjustment.fiscal_period_date, reason=adjustment.reason,
            reference=adjustment.reference, amount_cents=adjustment.amount_cents,
            account=self.clearing_account, effective_on=self.paid_on, source=source)

    @event("ProviderAdjustmentPosted")
    def _provider_adjustment_posted(
        self, index: int, provider_id: str, fiscal_period_date: date | None, reason: str,
        reference: str, amount_cents: int, account: str, effective_on: date, source: str,
    ) -> None:
        self.provider_adjustments.append({
            "index": index, "provider_id": provider_id, "reason": reason,
            "reference": reference, "amount_cents": amount_cents, "account": account,
            "source": source})

    def hold_unapplied(self, index: int, claim: RemittedClaim, reason: str) -> None:
        remit = claim.remit
        self._claim_unapplied(
            index=index, claim_id=remit.claim_id, status_code=remit.status_code,
            charge_cents=remit.charge_cents, paid_cents=remit.paid_cents,
            patient_responsibility_cents=remit.patient_responsibility_cents,
            payer_claim_control_number=remit.payer_claim_control_number,
            patient_name=claim.patient_name, member_id=claim.member_id, reason=reason,
            remit=remit_as_dict(remit), source=remit.source)

    @event("ClaimUnapplied")
    def _claim_unapplied(
        self, index: int, claim_id: str, status_code: str, charge_cents: int, paid_cents: int,
        patient_responsibility_cents: int, payer_claim_control_number: str, patient_name: str,
        member_id: str, reason: str, remit: dict[str, Any], source: str,
    ) -> None:
        self.unapplied[index] = {
            "index": index, "claim_id": claim_id, "status_code": status_code,
            "charge_cents": charge_cents, "paid_cents": paid_cents,
            "patient_name": patient_name, "member_id": member_id, "reason": reason,
            "remit": remit, "applied_to": ""}

    def unapplied_remit(self, index: int, claim_id: str) -> ClaimRemit:
        held = self.unapplied.get(index)
        if held is None:
            raise RuleViolation(f"remittance {self.trace_number} has no unapplied claim {index}")
        if held["applied_to"]:
            raise RuleViolation(
                f"unapplied claim {index} of remittance {self.trace_number} was already "
                f"applied to claim {held['applied_to']}")
        return remit_from_dict(held["remit"], claim_id)

    def mark_applied(self, index: int, claim_id: str, applied_on: date, note: str) -> None:
        self.unapplied_remit(index, claim_id)  # the checks
        self._unapplied_applied(index=index, claim_id=claim_id, applied_on=applied_on,
                                note=note)

    @event("UnappliedApplied")
    def _unapplied_applied(self, index: int, claim_id: str, applied_on: date, note: str) -> None:
        self.unapplied[index]["applied_to"] = claim_id


class AcknowledgementFile(BillingAggregate):
    """An imported 999 or 277CA: what it said about which of our claims."""

    @staticmethod
    def create_id(kind: str, content_sha256: str) -> UUID:
        return stream_id("acknowledgement", f"{kind}:{content_sha256}")

    @event("Imported")
    def __init__(self, kind: str, content_sha256: str, raw_sha256: str, file_name: str,
                 sender: str, interchange_control: str, received_on: date,
                 outcomes: list[dict[str, Any]]) -> None:
        self.kind = kind
        self.content_sha256 = content_sha256
        self.raw_sha256 = raw_sha256
        self.file_name = file_name
        self.sender = sender
        self.interchange_control = interchange_control
        self.received_on = received_on
        self.outcomes = [dict(o) for o in outcomes]
