"""A claim to one payer for lines of one encounter, through its life from draft to closed.

The claim id (CLM01) is at most 17 characters ``[A-Z0-9]`` and stays the same across
corrections; each correction is a new *version* (frequency 7 replacement or 8 void)
recorded on the same stream. The money of an adjudication is posted on the encounter's
lines; the claim keeps which entries each adjudication created so a reversal (CLP02=22)
can negate exactly those.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.base import BillingAggregate, stream_id
from domain.errors import RuleViolation, ValidationError

CLAIM_ID = re.compile(r"^[A-Z0-9]{1,17}$")
MAX_LINES = 50


class ClaimState(StrEnum):
    DRAFT = "draft"
    READY = "ready"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    ADJUDICATED = "adjudicated"
    VOIDED = "voided"
    CLOSED = "closed"


class Outcome(StrEnum):
    PAID = "paid"
    PARTIALLY_PAID = "partially-paid"
    DENIED = "denied"


class Claim(BillingAggregate):
    """A bill to one payer, whose versions share one claim id."""

    @staticmethod
    def create_id(claim_id: str) -> UUID:
        return stream_id("claim", claim_id)

    @event("Created")
    def __init__(
        self, claim_id: str, encounter_id: str, account_no: str, payer_id: str, plan_id: str,
        policy_id: str, coverage_order: str, line_ids: list[str], charge_cents: int,
        billing_npi: str, service_date: date, created_on: date,
    ) -> None:
        self.claim_id = claim_id
        self.encounter_id = encounter_id
        self.account_no = account_no
        self.payer_id = payer_id
        self.plan_id = plan_id
        self.policy_id = policy_id
        self.coverage_order = coverage_order
        self.line_ids = list(line_ids)
        self.charge_cents = charge_cents
        self.billing_npi = billing_npi
        self.service_date = service_date
        self.opened_on = created_on
        self.state = ClaimState.DRAFT
        self.frequency = "1"
        self.claim_version = 1
        self.problems: list[str] = []
        self.submissions: list[dict[str, Any]] = []
        self.payer_claim_control_number = ""
        self.adjudications: list[dict[str, Any]] = []
        self.outcome: str | None = None
        self.open_denials: dict[str, list[dict[str, Any]]] = {}
        self.rejection: dict[str, Any] | None = None
        self.override: dict[str, Any] | None = None

    @staticmethod
    def validate_id(claim_id: str) -> None:
        if not CLAIM_ID.match(claim_id):
            raise ValidationError(
                f"claim id {claim_id!r} must be 1-17 characters A-Z or 0-9")

    # -- scrubbing --------------------------------------------------------------------------
    def _require(self, *states: ClaimState) -> None:
        if self.state not in states:
            allowed = " or ".join(s.value for s in states)
            raise RuleViolation(
                f"claim {self.claim_id} is {self.state.value}; it must be {allowed}")

    def record_scrub(self, problems: list[str], scrubbed_on: date) -> None:
        self._require(ClaimState.DRAFT, ClaimState.READY, ClaimState.REJECTED)
        if problems:
            self._scrub_failed(problems=problems, scrubbed_on=scrubbed_on)
        else:
            self._marked_ready(scrubbed_on=scrubbed_on)

    @event("ScrubFailed")
    def _scrub_failed(self, problems: list[str], scrubbed_on: date) -> None:
        self.problems = list(problems)
        self.state = ClaimState.DRAFT

    @event("MarkedReady")
    def _marked_ready(self, scrubbed_on: date) -> None:
        self.problems = []
        self.state = ClaimState.READY

    def override_filing_limit(self, approved_by: str, reason: str) -> None:
        if not reason.strip():
            raise ValidationError("an override needs a reason")
        self._filing_limit_overridden(approved_by=approved_by, reason=reason)

    @event("FilingLimitOverridden")
    def _filing_limit_overridden(self, approved_by: str, reason: str) -> None:
        self.override = {"approved_by": approved_by, "reason": reason}

    # -- submission and acknowledgement -------------------------------------------------------
    def submit(self, batch_id: str, submitted_on: date, interchange_control: str,
               transaction_control: str) -> None:
        self._require(ClaimState.READY)
        self._submitted(batch_id=batch_id, submitted_on=submitted_on, frequency=self.frequency,
                        claim_version=self.claim_version, interchange_control=interchange_control,
                        transaction_control=transaction_control)

    @event("Submitted")
    def _submitted(self, batch_id: str, submitted_on: date, frequency: str, claim_version: int,
                   interchange_control: str, transaction_control: str) -> None:
        self.state = ClaimState.SUBMITTED
        self.rejection = None
        self.submissions.append({"batch_id": batch_id, "submitted_on": submitted_on,
                                 "frequency": frequency, "claim_version": claim_version,
                                 "interchange_control": interchange_control,
                                 "transaction_control": transaction_control})

    @property
    def first_submitted_on(self) -> date | None:
        return self.submissions[0]["submitted_on"] if self.submissions else None

    def accept(self, accepted_on: date, level: str, source: str,
               payer_claim_control_number: str = "") -> None:
        self._require(ClaimState.SUBMITTED, ClaimState.ACCEPTED)
        self._accepted(accepted_on=accepted_on, level=level, source=source,
                       payer_claim_control_number=payer_claim_control_number)

    @event("Accepted")
    def _accepted(self, accepted_on: date, level: str, source: str,
                  payer_claim_control_number: str) -> None:
        self.state = ClaimState.ACCEPTED
        if payer_claim_control_number:
            self.payer_claim_control_number = payer_claim_control_number

    def reject(self, rejected_on: date, level: str, reasons: list[str], source: str) -> None:
        self._require(ClaimState.SUBMITTED, ClaimState.ACCEPTED)
        self._rejected(rejected_on=rejected_on, level=level, reasons=reasons, source=source)

    @event("Rejected")
    def _rejected(self, rejected_on: date, level: str, reasons: list[str], source: str) -> None:
        # Rejected claims never reached adjudication: they go back as new originals.
        self.state = ClaimState.REJECTED
        self.rejection = {"rejected_on": rejected_on, "level": level, "reasons": list(reasons)}
        if not self.adjudications:
            self.frequency = "1"

    # -- adjudication --------------------------------------------------------------------------
    def record_adjudication(
        self, adjudication_id: str, status_code: str, payer_claim_control_number: str,
        charge_cents: int, paid_cents: int, patient_responsibility_cents: int, outcome: str,
        entry_ids: list[str], denials: list[dict[str, Any]], paid_on: date, source: str,
    ) -> None:
        if any(a["adjudication_id"] == adjudication_id for a in self.adjudications):
            raise RuleViolation(f"adjudication {adjudication_id} is already posted")
        self._adjudicated(
            adjudication_id=adjudication_id, status_code=status_code,
            payer_claim_control_number=payer_claim_control_number, charge_cents=charge_cents,
            paid_cents=paid_cents, patient_responsibility_cents=patient_responsibility_cents,
            outcome=outcome, entry_ids=entry_ids, denials=denials, paid_on=paid_on,
            source=source)

    @event("Adjudicated")
    def _adjudicated(
        self, adjudication_id: str, status_code: str, payer_claim_control_number: str,
        charge_cents: int, paid_cents: int, patient_responsibility_cents: int, outcome: str,
        entry_ids: list[str], denials: list[dict[str, Any]], paid_on: date, source: str,
    ) -> None:
        self.state = ClaimState.ADJUDICATED
        self.outcome = outcome
        self.rejection = None
        if payer_claim_control_number:
            self.payer_claim_control_number = payer_claim_control_number
        self.adjudications.append({
            "adjudication_id": adjudication_id, "status_code": status_code,
            "payer_claim_control_number": payer_claim_control_number,
            "paid_cents": paid_cents, "entry_ids": list(entry_ids), "reversed": False,
            "paid_on": paid_on, "outcome": outcome})
        self.open_denials = {}
        for denial in denials:
            self.open_denials.setdefault(denial["line_id"], []).append(dict(denial))

    def adjudication_to_reverse(self, payer_claim_control_number: str) -> dict[str, Any]:
        """The latest live adjudication a CLP02=22 reversal refers to (matched on CLP07)."""
        # Declared: mypy types the items of reversed() over dict[str, Any] items as Any.
        adjudication: dict[str, Any]
        for adjudication in reversed(self.adjudications):
            if adjudication["reversed"]:
                continue
            if (not payer_claim_control_number or adjudication["payer_claim_control_number"]
                    in ("", payer_claim_control_number)):
                return adjudication
        raise RuleViolation(
            f"claim {self.claim_id} has no posted adjudication "
            f"{payer_claim_control_number or ''} to reverse".replace("  ", " "))

    def reverse_adjudication(self, adjudication_id: str, reversal_entry_ids: list[str],
                             reversed_on: date, source: str) -> None:
        self._adjudication_reversed(adjudication_id=adjudication_id,
                                    reversal_entry_ids=reversal_entry_ids,
                                    reversed_on=reversed_on, source=source)

    @event("AdjudicationReversed")
    def _adjudication_reversed(self, adjudication_id: str, reversal_entry_ids: list[str],
                               reversed_on: date, source: str) -> None:
        for adjudication in self.adjudications:
            if adjudication["adjudication_id"] == adjudication_id:
                adjudication["reversed"] = True
        live = [a for a in self.adjudications if not a["reversed"]]
        self.outcome = live[-1]["outcome"] if live else None
        self.open_denials = {}
        # With nothing left standing the payer owns the claim again until the correction posts.
        self.state = ClaimState.ADJUDICATED if live else ClaimState.ACCEPTED

    def work_denial(self, line_id: str, action: str, note: str, worked_on: date) -> None:
        if line_id not in self.open_denials:
            raise RuleViolation(f"line {line_id} of claim {self.claim_id} has no open denial")
        self._denial_worked(line_id=line_id, action=action, note=note, worked_on=worked_on)

    @event("DenialWorked")
    def _denial_worked(self, line_id: str, action: str, note: str, worked_on: date) -> None:
        self.open_denials.pop(line_id, None)

    # -- corrections ----------------------------------------------------------------------------
    def start_replacement(self, reason: str, line_ids: list[str], charge_cents: int) -> None:
        self._require(ClaimState.ADJUDICATED, ClaimState.ACCEPTED)
        if not self.payer_claim_control_number:
            raise RuleViolation(
                f"claim {self.claim_id} has no payer claim control number; a replacement "
                "needs the ICN from the payer's remittance")
        if not reason.strip():
            raise ValidationError("a corrected claim needs a reason")
        self._replacement_started(reason=reason, line_ids=line_ids, charge_cents=charge_cents,
                                  replaces_control_number=self.payer_claim_control_number)

    @event("ReplacementStarted")
    def _replacement_started(self, reason: str, line_ids: list[str], charge_cents: int,
                             replaces_control_number: str) -> None:
        self.frequency = "7"
        self.claim_version += 1
        self.line_ids = list(line_ids)
        self.charge_cents = charge_cents
        self.state = ClaimState.DRAFT
        self.problems = []

    def start_void(self, reason: str) -> None:
        self._require(ClaimState.ADJUDICATED, ClaimState.ACCEPTED)
        if not self.payer_claim_control_number:
            raise RuleViolation(
                f"claim {self.claim_id} has no payer claim control number to void")
        if not reason.strip():
            raise ValidationError("a void needs a reason")
        self._void_started(reason=reason, replaces_control_number=self.payer_claim_control_number)

    @event("VoidStarted")
    def _void_started(self, reason: str, replaces_control_number: str) -> None:
        self.frequency = "8"
        self.claim_version += 1
        self.state = ClaimState.READY

    def resend_as_original(self, reason: str) -> None:
        """A rejected claim, once corrected, goes back out as a new original (frequency 1)."""
        self._require(ClaimState.REJECTED)
        self._resend_started(reason=reason)

    @event("ResendStarted")
    def _resend_started(self, reason: str) -> None:
        self.state = ClaimState.DRAFT
        self.problems = []

    def confirm_void(self, voided_on: date, source: str) -> None:
        if self.frequency != "8":
            raise RuleViolation(f"claim {self.claim_id} was not sent as a void")
        self._voided(voided_on=voided_on, source=source)

    @event("Voided")
    def _voided(self, voided_on: date, source: str) -> None:
        self.state = ClaimState.VOIDED

    def close(self, closed_on: date, reason: str) -> None:
        if self.state in (ClaimState.CLOSED,):
            raise RuleViolation(f"claim {self.claim_id} is already closed")
        self._closed(closed_on=closed_on, reason=reason)

    @event("Closed")
    def _closed(self, closed_on: date, reason: str) -> None:
        self.state = ClaimState.CLOSED

    # -- claim status answers (277) -------------------------------------------------------------
    def report_status(self, reported_on: date, category: str, status: str, statuses: list[str],
                      payer_claim_control_number: str, trace_number: str, source: str) -> None:
        """What a payer's 277 said of the claim; state changes are separate commands."""
        self._status_reported(
            reported_on=reported_on, category=category, status=status, statuses=statuses,
            payer_claim_control_number=payer_claim_control_number, trace_number=trace_number,
            source=source)

    @event("StatusReported")
    def _status_reported(self, reported_on: date, category: str, status: str,
                         statuses: list[str], payer_claim_control_number: str,
                         trace_number: str, source: str) -> None:
        self.status_reports = [*getattr(self, "status_reports", []), {
            "reported_on": reported_on, "category": category, "status": status,
            "statuses": list(statuses), "trace_number": trace_number}]
        if payer_claim_control_number and not self.payer_claim_control_number:
            self.payer_claim_control_number = payer_claim_control_number

    @property
    def last_status(self) -> dict[str, Any] | None:
        reports = getattr(self, "status_reports", [])
        return reports[-1] if reports else None

    @property
    def status_traces(self) -> set[str]:
        return {r["trace_number"] for r in getattr(self, "status_reports", []) if r["trace_number"]}
