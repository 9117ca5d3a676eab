"""A visit and its charge lines, with every money movement on those lines.

Money lives here, line by line, because a charge line is where the payer's payment,
its adjustments, the transfer of what is left to the next payer or the patient, and any
refund all meet. See ``domain.ledger`` for how each event moves the line.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.base import BillingAggregate, stream_id
from domain.errors import RuleViolation, ValidationError
from domain.ledger import Category, Posting, postings_of

MAX_DIAGNOSES = 12
MAX_MODIFIERS = 4
MAX_POINTERS = 4


class Encounter(BillingAggregate):
    """One visit on one date of service: diagnoses, charge lines and their money."""

    @staticmethod
    def create_id(encounter_id: str) -> UUID:
        return stream_id("encounter", encounter_id)

    @event("Opened")
    def __init__(
        self, encounter_id: str, account_no: str, guarantor_account_no: str, service_date: date,
        place_of_service: str, billing_npi: str, rendering_npi: str, referring_npi: str,
        prior_authorization: str, diagnoses: list[str], coverage: list[dict[str, Any]],
        self_pay: bool,
    ) -> None:
        self.encounter_id = encounter_id
        self.account_no = account_no
        self.guarantor_account_no = guarantor_account_no
        self.service_date = service_date
        self.place_of_service = place_of_service
        self.billing_npi = billing_npi
        self.rendering_npi = rendering_npi
        self.referring_npi = referring_npi
        self.prior_authorization = prior_authorization
        self.diagnoses = list(diagnoses)
        self.coverage = [dict(c) for c in coverage]
        self.self_pay = self_pay
        self.lines: dict[str, dict[str, Any]] = {}
        self.entries: dict[str, dict[str, Any]] = {}
        self.entry_seq = 0
        self.last_patient_payment_on: date | None = None

    # -- clinical coding ------------------------------------------------------------------
    def correct_diagnoses(self, diagnoses: list[str], reason: str) -> None:
        if not diagnoses or len(diagnoses) > MAX_DIAGNOSES:
            raise ValidationError("an encounter needs 1 to 12 diagnoses")
        for line in self.lines.values():
            if line["reversed"]:
                continue
            if any(p > len(diagnoses) for p in line["pointers"]):
                raise RuleViolation(
                    f"line {line['line_id']} points at a diagnosis that would no longer exist")
        self._diagnoses_corrected(diagnoses=diagnoses, reason=reason)

    @event("DiagnosesCorrected")
    def _diagnoses_corrected(self, diagnoses: list[str], reason: str) -> None:
        self.diagnoses = list(diagnoses)

    def payer_parties(self) -> list[str]:
        return [c["payer_id"] for c in self.coverage]

    def initial_party(self) -> str:
        return "PATIENT" if self.self_pay or not self.coverage else self.coverage[0]["payer_id"]

    def next_party(self, party: str) -> str:
        """Who is responsible after `party` in coverage order: the next payer, else the patient."""
        payers = self.payer_parties()
        if party in payers:
            index = payers.index(party)
            if index + 1 < len(payers):
                return payers[index + 1]
        return "PATIENT"

    def enter_charge(
        self, code: str, modifiers: list[str], units_milli: int, pointers: list[int],
        unit_price_cents: int, description: str, service_date: date | None = None,
        place_of_service: str = "", posted_on: date | None = None,
        charge_cents: int | None = None,
    ) -> str:
        if len(modifiers) > MAX_MODIFIERS:
            raise ValidationError("a charge line takes at most 4 modifiers")
        if not 1 <= len(pointers) <= MAX_POINTERS:
            raise ValidationError("a charge line needs 1 to 4 diagnosis pointers")
        for pointer in pointers:
            if not 1 <= pointer <= len(self.diagnoses):
                raise ValidationError(
                    f"diagnosis pointer {pointer} does not point at one of the "
                    f"{len(self.diagnoses)} diagnoses of encounter {self.encounter_id}")
        if len(set(pointers)) != len(pointers):
            raise ValidationError("diagnosis pointers must not repeat")
        if units_milli <= 0:
            raise ValidationError("units must be positive")
        if charge_cents is None:  # given: the amount another system billed (an EHR's SV102)
            charge_cents = (unit_price_cents * units_milli + 500) // 1000
        if charge_cents <= 0:
            raise ValidationError("a charge must be a positive amount")
        line_id = f"{self.encounter_id}L{len(self.lines) + 1}"
        self._charge_entered(
            line_id=line_id, code=code, modifiers=modifiers, units_milli=units_milli,
            pointers=pointers, unit_price_cents=unit_price_cents, charge_cents=charge_cents,
            description=description, service_date=service_date or self.service_date,
            place_of_service=place_of_service, party=self.initial_party(),
            posted_on=posted_on or service_date or self.service_date)
        return line_id

    @event("ChargeEntered")
    def _charge_entered(
        self, line_id: str, code: str, modifiers: list[str], units_milli: int,
        pointers: list[int], unit_price_cents: int, charge_cents: int, description: str,
        service_date: date, place_of_service: str, party: str, posted_on: date,
    ) -> None:
        self.lines[line_id] = {
            "line_id": line_id, "code": code, "modifiers": list(modifiers),
            "units_milli": units_milli, "pointers": list(pointers),
            "unit_price_cents": unit_price_cents, "charge_cents": charge_cents,
            "description": description, "service_date": service_date,
            "place_of_service": place_of_service, "reversed": False,
            "buckets": {}, "totals": dict.fromkeys(Category, 0), "claims": {},
        }
        self.entries[line_id] = {"name": "ChargeEntered", "reversed": False,
                                 "postings": [p.as_dict() for p in postings_of(
                                     "ChargeEntered", {"line_id": line_id, "party": party,
                                                       "charge_cents": charge_cents})]}
        self._apply_postings(self.entries[line_id]["postings"])

    # -- claims -------------------------------------------------------------------------
    def claim_lines(self, claim_id: str, payer_id: str, line_ids: list[str]) -> None:
        for line_id in line_ids:
            line = self.line(line_id)
            if line["reversed"]:
                raise RuleViolation(f"line {line_id} was reversed and cannot be billed")
            holder = line["claims"].get(payer_id)
            if holder is not None and holder != claim_id:
                raise RuleViolation(
                    f"line {line_id} is already on claim {holder} for payer {payer_id}")
        self._lines_claimed(claim_id=claim_id, payer_id=payer_id, line_ids=line_ids)

    @event("LinesClaimed")
    def _lines_claimed(self, claim_id: str, payer_id: str, line_ids: list[str]) -> None:
        for line_id in line_ids:
            self.lines[line_id]["claims"][payer_id] = claim_id

    def release_lines(self, claim_id: str, payer_id: str, reason: str) -> None:
        line_ids = [i for i, line in self.lines.items() if line["claims"].get(payer_id) == claim_id]
        if line_ids:
            self._lines_released(claim_id=claim_id, payer_id=payer_id, line_ids=line_ids,
                                 reason=reason)

    @event("LinesReleased")
    def _lines_released(self, claim_id: str, payer_id: str, line_ids: list[str],
                        reason: str) -> None:
        for line_id in line_ids:
            self.lines[line_id]["claims"].pop(payer_id, None)

    # -- money --------------------------------------------------------------------------
    def line(self, line_id: str) -> dict[str, Any]:
        try:
            return self.lines[line_id]
        except KeyError:
            raise ValidationError(
                f"encounter {self.encounter_id} has no charge line {line_id}") from None

    def line_balance(self, line_id: str) -> int:
        return sum(self.line(line_id)["buckets"].values())

    def party_balance(self, line_id: str, party: str) -> int:
        return int(self.line(line_id)["buckets"].get(party, 0))

    @property
    def balance_cents(self) -> int:
        return sum(sum(line["buckets"].values()) for line in self.lines.values())

    def balances_by_party(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for line in self.lines.values():
            for party, cents in line["buckets"].items():
                totals[party] = totals.get(party, 0) + cents
        return totals

    def _next_entry_id(self) -> str:
        return f"{self.encounter_id}.{self.entry_seq + 1}"

    def _apply_postings(self, postings: list[dict[str, Any]]) -> None:
        for raw in postings:
            p = Posting.from_dict(raw)
            line = self.lines[p.line_id]
            line["buckets"][p.party] = line["buckets"].get(p.party, 0) + p.bucket_delta
            if line["buckets"][p.party] == 0:
                del line["buckets"][p.party]
            if p.category is not Category.TRANSFER:
                line["totals"][p.category] += p.amount_cents

    def _record_entry(self, entry_id: str, name: str, data: dict[str, Any]) -> None:
        postings = [p.as_dict() for p in postings_of(name, data)]
        self.entries[entry_id] = {"name": name, "reversed": False, "postings": postings,
                                  "kind": data.get("kind", "")}
        self.entry_seq += 1
        self._apply_postings(postings)

    def _check_money(self, line_id: str, amount_cents: int, allow_negative: bool) -> None:
        line = self.line(line_id)
        if line["reversed"]:
            raise RuleViolation(f"line {line_id} was reversed; post to its replacement")
        if amount_cents == 0 or (amount_cents < 0 and not allow_negative):
            raise ValidationError("the amount must be positive")

    def post_payment(
        self, line_id: str, party: str, amount_cents: int, effective_on: date, method: str,
        reference: str, source: str, allow_negative: bool = False,
    ) -> str:
        self._check_money(line_id, amount_cents, allow_negative)
        entry_id = self._next_entry_id()
        self._payment_posted(entry_id=entry_id, line_id=line_id, party=party,
                             amount_cents=amount_cents, effective_on=effective_on, method=method,
                             reference=reference, source=source)
        return entry_id

    @event("PaymentPosted")
    def _payment_posted(
        self, entry_id: str, line_id: str, party: str, amount_cents: int, effective_on: date,
        method: str, reference: str, source: str,
    ) -> None:
        self._record_entry(entry_id, "PaymentPosted", {
            "line_id": line_id, "party": party, "amount_cents": amount_cents})
        if party in ("PATIENT", "AGENCY") and amount_cents > 0 and (
                self.last_patient_payment_on is None
                or effective_on > self.last_patient_payment_on):
            self.last_patient_payment_on = effective_on

    def post_adjustment(
        self, line_id: str, party: str, amount_cents: int, effective_on: date, kind: str,
        group: str, carc: str, rarcs: list[str], reason: str, approved_by: str, source: str,
        allow_negative: bool = False,
    ) -> str:
        self._check_money(line_id, amount_cents, allow_negative)
        entry_id = self._next_entry_id()
        self._adjustment_posted(
            entry_id=entry_id, line_id=line_id, party=party, amount_cents=amount_cents,
            effective_on=effective_on, kind=kind, group=group, carc=carc, rarcs=rarcs,
            reason=reason, approved_by=approved_by, source=source)
        return entry_id

    @event("AdjustmentPosted")
    def _adjustment_posted(
        self, entry_id: str, line_id: str, party: str, amount_cents: int, effective_on: date,
        kind: str, group: str, carc: str, rarcs: list[str], reason: str, approved_by: str,
        source: str,
    ) -> None:
        self._record_entry(entry_id, "AdjustmentPosted", {
            "line_id": line_id, "party": party, "amount_cents": amount_cents, "kind": kind})

    def transfer(
        self, line_id: str, from_party: str, to_party: str, amount_cents: int,
        effective_on: date, reason: str, source: str, allow_negative: bool = False,
    ) -> str:
        self._check_money(line_id, amount_cents, allow_negative)
        if from_party == to_party:
            raise ValidationError("a transfer needs two different parties")
        entry_id = self._next_entry_id()
        self._responsibility_transferred(
            entry_id=entry_id, line_id=line_id, from_party=from_party, to_party=to_party,
            amount_cents=amount_cents, effective_on=effective_on, reason=reason, source=source)
        return entry_id

    @event("ResponsibilityTransferred")
    def _responsibility_transferred(
        self, entry_id: str, line_id: str, from_party: str, to_party: str, amount_cents: int,
        effective_on: date, reason: str, source: str,
    ) -> None:
        self._record_entry(entry_id, "ResponsibilityTransferred", {
            "line_id": line_id, "from_party": from_party, "to_party": to_party,
            "amount_cents": amount_cents})

    def issue_refund(
        self, line_id: str, party: str, amount_cents: int, effective_on: date, payee: str,
        requested_by: str, approved_by: str, request_id: str, source: str,
    ) -> str:
        self._check_money(line_id, amount_cents, allow_negative=False)
        entry_id = self._next_entry_id()
        self._refund_issued(entry_id=entry_id, line_id=line_id, party=party,
                            amount_cents=amount_cents, effective_on=effective_on, payee=payee,
                            requested_by=requested_by, approved_by=approved_by,
                            request_id=request_id, source=source)
        return entry_id

    @event("RefundIssued")
    def _refund_issued(
        self, entry_id: str, line_id: str, party: str, amount_cents: int, effective_on: date,
        payee: str, requested_by: str, approved_by: str, request_id: str, source: str,
    ) -> None:
        self._record_entry(entry_id, "RefundIssued", {
            "line_id": line_id, "party": party, "amount_cents": amount_cents})

    def reverse_entry(self, reverses_entry_id: str, effective_on: date, reason: str,
                      source: str) -> str:
        entry = self.entries.get(reverses_entry_id)
        if entry is None:
            raise ValidationError(
                f"encounter {self.encounter_id} has no entry {reverses_entry_id}")
        if entry["name"] == "EntryReversed":
            raise RuleViolation("a reversal is not reversed; post the entry again instead")
        if entry["reversed"]:
            raise RuleViolation(f"entry {reverses_entry_id} is already reversed")
        if not reason.strip():
            raise ValidationError("a reversal needs a reason")
        if entry["name"] == "ChargeEntered":
            line_id = entry["postings"][0]["line_id"]
            live = [i for i, e in self.entries.items() if i != reverses_entry_id
                    and e["name"] != "EntryReversed" and not e["reversed"]
                    and any(p["line_id"] == line_id for p in e["postings"])]
            if live:
                raise RuleViolation(
                    f"line {line_id} has postings ({', '.join(live)}); reverse them first")
            if self.lines[line_id]["claims"]:
                raise RuleViolation(
                    f"line {line_id} is on a claim; void or correct the claim first")
        postings = [Posting.from_dict(p).negated().as_dict() for p in entry["postings"]]
        entry_id = self._next_entry_id()
        self._entry_reversed(entry_id=entry_id, reverses_entry_id=reverses_entry_id,
                             reversed_event=entry["name"], postings=postings,
                             line_id=postings[0]["line_id"], effective_on=effective_on,
                             reason=reason, source=source, kind=entry.get("kind", ""))
        return entry_id

    @event("EntryReversed")
    def _entry_reversed(
        self, entry_id: str, reverses_entry_id: str, reversed_event: str,
        postings: list[dict[str, Any]], line_id: str, effective_on: date, reason: str,
        source: str, kind: str = "",
    ) -> None:
        # `kind`: the reversed adjustment's kind, so its journal entry hits the same contra
        # account (domain.ledger.journal_entry_for); "" for other entries and older events.
        self.entries[reverses_entry_id]["reversed"] = True
        if reversed_event == "ChargeEntered":
            self.lines[line_id]["reversed"] = True
        self._record_entry(entry_id, "EntryReversed", {"postings": postings})

    # -- write-offs above the supervisor threshold need a second person ---------------------
    def request_write_off(
        self, request_id: str, line_id: str, party: str, amount_cents: int, kind: str,
        reason: str, requested_by: str, requested_on: date,
    ) -> None:
        self._check_money(line_id, amount_cents, allow_negative=False)
        if request_id in self.write_off_requests:
            raise RuleViolation(f"write-off request {request_id} already exists")
        self._write_off_requested(
            request_id=request_id, line_id=line_id, party=party, amount_cents=amount_cents,
            kind=kind, reason=reason, requested_by=requested_by, requested_on=requested_on)

    @event("WriteOffRequested")
    def _write_off_requested(
        self, request_id: str, line_id: str, party: str, amount_cents: int, kind: str,
        reason: str, requested_by: str, requested_on: date,
    ) -> None:
        self.write_off_requests[request_id] = {
            "request_id": request_id, "line_id": line_id, "party": party,
            "amount_cents": amount_cents, "kind": kind, "reason": reason,
            "requested_by": requested_by, "requested_on": requested_on, "status": "requested"}

    @property
    def write_off_requests(self) -> dict[str, dict[str, Any]]:
        # Created lazily: encounters stored before write-off requests existed replay fine.
        requests: dict[str, dict[str, Any]] = self.__dict__.setdefault("_write_off_requests", {})
        return requests

    def pending_write_off(self, request_id: str) -> dict[str, Any]:
        request = self.write_off_requests.get(request_id)
        if request is None:
            raise ValidationError(
                f"encounter {self.encounter_id} has no write-off request {request_id}")
        if request["status"] != "requested":
            raise RuleViolation(f"write-off request {request_id} is already {request['status']}")
        return request

    def approve_write_off(self, request_id: str, approved_by: str, approved_on: date) -> str:
        request = self.pending_write_off(request_id)
        if approved_by == request["requested_by"]:
            raise RuleViolation("the requester cannot approve their own write-off")
        held = self.party_balance(request["line_id"], request["party"])
        if request["amount_cents"] > held:
            raise RuleViolation(
                f"{request['party']} now owes only {held} cents on {request['line_id']}; "
                "decline the request and ask again")
        self._write_off_approved(request_id=request_id, approved_by=approved_by,
                                 approved_on=approved_on)
        return self.post_adjustment(
            line_id=request["line_id"], party=request["party"],
            amount_cents=request["amount_cents"], effective_on=approved_on,
            kind=request["kind"], group="", carc="", rarcs=[], reason=request["reason"],
            approved_by=approved_by, source=f"write-off-request:{request_id}")

    @event("WriteOffApproved")
    def _write_off_approved(self, request_id: str, approved_by: str, approved_on: date) -> None:
        self.write_off_requests[request_id]["status"] = "approved"

    def decline_write_off(self, request_id: str, declined_by: str, reason: str) -> None:
        self.pending_write_off(request_id)
        self._write_off_declined(request_id=request_id, declined_by=declined_by, reason=reason)

    @event("WriteOffDeclined")
    def _write_off_declined(self, request_id: str, declined_by: str, reason: str) -> None:
        self.write_off_requests[request_id]["status"] = "declined"
