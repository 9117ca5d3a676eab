"""A patient's account: registration, guarantor, coverage in order, guarantor-level collections."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.base import BillingAggregate, stream_id
from domain.errors import RuleViolation, ValidationError

ORDER_LETTERS = "PSTABCDEFGH"


class PatientAccount(BillingAggregate):
    """One person: a patient, a guarantor of others, or both."""

    @staticmethod
    def create_id(account_no: str) -> UUID:
        return stream_id("account", account_no)

    @event("Registered")
    def __init__(
        self, account_no: str, last_name: str, first_name: str, middle_name: str,
        birth_date: date, sex: str, address: dict[str, str], phone: str,
        reason_for_visit: str, registered_on: date,
    ) -> None:
        self.account_no = account_no
        self.last_name = last_name
        self.first_name = first_name
        self.middle_name = middle_name
        self.birth_date = birth_date
        self.sex = sex
        self.address = dict(address)
        self.phone = phone
        self.reason_for_visit = reason_for_visit
        self.registered_on = registered_on
        self.guarantor_account_no = account_no
        self.guarantor_relationship = "18"
        self.dependents: list[str] = []
        self.policies: dict[str, dict[str, Any]] = {}
        self.coverage_order: list[str] = []
        self.eligibility: dict[str, dict[str, Any]] = {}
        self.discounts: list[dict[str, Any]] = []
        self.encounter_ids: list[str] = []
        self.statements: list[dict[str, Any]] = []
        self.payment_plan: dict[str, Any] | None = None
        self.referral: dict[str, Any] | None = None
        self.refund_requests: dict[str, dict[str, Any]] = {}

    @property
    def display_name(self) -> str:
        return f"{self.last_name}, {self.first_name}" + (
            f" {self.middle_name}" if self.middle_name else "")

    # -- demographics -------------------------------------------------------------------
    def correct_demographics(self, changes: dict[str, Any], reason: str) -> None:
        allowed = {"last_name", "first_name", "middle_name", "birth_date", "sex", "address",
                   "phone", "reason_for_visit"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValidationError(f"cannot correct {', '.join(sorted(unknown))}")
        if not changes:
            raise ValidationError("nothing to correct")
        self._demographics_corrected(changes=changes, reason=reason)

    @event("DemographicsCorrected")
    def _demographics_corrected(self, changes: dict[str, Any], reason: str) -> None:
        for key, value in changes.items():
            setattr(self, key, dict(value) if isinstance(value, dict) else value)

    def set_guarantor(self, guarantor_account_no: str, relationship: str) -> None:
        self._guarantor_set(guarantor_account_no=guarantor_account_no, relationship=relationship)

    @event("GuarantorSet")
    def _guarantor_set(self, guarantor_account_no: str, relationship: str) -> None:
        self.guarantor_account_no = guarantor_account_no
        self.guarantor_relationship = relationship

    def link_dependent(self, account_no: str) -> None:
        if account_no not in self.dependents:
            self._dependent_linked(account_no=account_no)

    @event("DependentLinked")
    def _dependent_linked(self, account_no: str) -> None:
        self.dependents.append(account_no)

    def unlink_dependent(self, account_no: str) -> None:
        if account_no in self.dependents:
            self._dependent_unlinked(account_no=account_no)

    @event("DependentUnlinked")
    def _dependent_unlinked(self, account_no: str) -> None:
        self.dependents.remove(account_no)

    # -- coverage -----------------------------------------------------------------------
    def add_policy(
        self, payer_id: str, plan_id: str, member_id: str, group_number: str,
        subscriber: dict[str, Any], relationship: str, effective_on: date,
        terminates_on: date | None, filing_indicator: str, position: int | None = None,
    ) -> str:
        if not member_id.strip():
            raise ValidationError("member id is required")
        if terminates_on is not None and terminates_on < effective_on:
            raise ValidationError("coverage terminates before it starts")
        for policy in self.policies.values():
            if (policy["payer_id"], policy["member_id"]) == (payer_id, member_id) and (
                    policy["terminated_on"] is None):
                raise RuleViolation(
                    f"{payer_id} member {member_id} is already on account {self.account_no}")
        policy_id = f"{self.account_no}-{len(self.policies) + 1}"
        order = list(self.coverage_order)
        order.insert(len(order) if position is None else max(0, position), policy_id)
        if len(order) > len(ORDER_LETTERS):
            raise RuleViolation("no more than 11 policies can be in coverage order")
        self._policy_added(
            policy_id=policy_id, payer_id=payer_id, plan_id=plan_id, member_id=member_id,
            group_number=group_number, subscriber=subscriber, relationship=relationship,
            effective_on=effective_on, terminates_on=terminates_on,
            filing_indicator=filing_indicator, coverage_order=order)
        return policy_id

    @event("PolicyAdded")
    def _policy_added(
        self, policy_id: str, payer_id: str, plan_id: str, member_id: str, group_number: str,
        subscriber: dict[str, Any], relationship: str, effective_on: date,
        terminates_on: date | None, filing_indicator: str, coverage_order: list[str],
    ) -> None:
        self.policies[policy_id] = {
            "policy_id": policy_id, "payer_id": payer_id, "plan_id": plan_id,
            "member_id": member_id, "group_number": group_number, "subscriber": dict(subscriber),
            "relationship": relationship, "effective_on": effective_on,
            "terminates_on": terminates_on, "terminated_on": None,
            "filing_indicator": filing_indicator,
        }
        self.coverage_order = list(coverage_order)

    def reorder_coverage(self, policy_ids: list[str], reason: str) -> None:
        if sorted(policy_ids) != sorted(self.coverage_order):
            raise ValidationError(
                "the new order must list exactly the policies in coverage: "
                + ", ".join(self.coverage_order))
        if policy_ids == self.coverage_order:
            raise ValidationError("coverage is already in that order")
        self._coverage_reordered(coverage_order=policy_ids, reason=reason)

    @event("CoverageReordered")
    def _coverage_reordered(self, coverage_order: list[str], reason: str) -> None:
        self.coverage_order = list(coverage_order)

    def terminate_policy(self, policy_id: str, terminated_on: date, reason: str) -> None:
        policy = self.policy(policy_id)
        if policy["terminated_on"] is not None:
            raise RuleViolation(f"policy {policy_id} is already terminated")
        if terminated_on < policy["effective_on"]:
            raise ValidationError("termination date is before the policy's effective date")
        self._policy_terminated(policy_id=policy_id, terminated_on=terminated_on, reason=reason)

    @event("PolicyTerminated")
    def _policy_terminated(self, policy_id: str, terminated_on: date, reason: str) -> None:
        self.policies[policy_id]["terminated_on"] = terminated_on

    def policy(self, policy_id: str) -> dict[str, Any]:
        try:
            return self.policies[policy_id]
        except KeyError:
            raise ValidationError(
                f"account {self.account_no} has no policy {policy_id}") from None

    def active_policies(self, on: date) -> list[dict[str, Any]]:
        """Policies in force on a date of service, in coverage order."""
        active = []
        for policy_id in self.coverage_order:
            p = self.policies[policy_id]
            end = min((d for d in (p["terminates_on"], p["terminated_on"]) if d is not None),
                      default=None)
            if p["effective_on"] <= on and (end is None or on <= end):
                active.append(p)
        return active

    def record_eligibility(
        self, policy_id: str, checked_on: date, service_on: date, active: bool,
        copay_cents: int | None, deductible_remaining_cents: int | None,
        coinsurance_percent: int | None, out_of_pocket_remaining_cents: int | None,
        plan_name: str, trace_number: str, source: str, message: str,
    ) -> None:
        self.policy(policy_id)
        self._eligibility_recorded(
            policy_id=policy_id, checked_on=checked_on, service_on=service_on, active=active,
            copay_cents=copay_cents, deductible_remaining_cents=deductible_remaining_cents,
            coinsurance_percent=coinsurance_percent,
            out_of_pocket_remaining_cents=out_of_pocket_remaining_cents, plan_name=plan_name,
            trace_number=trace_number, source=source, message=message)

    @event("EligibilityRecorded")
    def _eligibility_recorded(
        self, policy_id: str, checked_on: date, service_on: date, active: bool,
        copay_cents: int | None, deductible_remaining_cents: int | None,
        coinsurance_percent: int | None, out_of_pocket_remaining_cents: int | None,
        plan_name: str, trace_number: str, source: str, message: str,
    ) -> None:
        self.eligibility[policy_id] = {
            "checked_on": checked_on, "service_on": service_on, "active": active,
            "copay_cents": copay_cents, "deductible_remaining_cents": deductible_remaining_cents,
            "coinsurance_percent": coinsurance_percent,
            "out_of_pocket_remaining_cents": out_of_pocket_remaining_cents,
            "plan_name": plan_name, "trace_number": trace_number, "message": message,
        }

    def grant_discount(
        self, kind: str, percent: int, effective_on: date, ends_on: date | None,
        approved_by: str, reason: str,
    ) -> None:
        if not 0 < percent <= 100:
            raise ValidationError("discount percent must be between 1 and 100")
        if not approved_by:
            raise ValidationError("a discount needs an approver")
        self._discount_granted(kind=kind, percent=percent, effective_on=effective_on,
                               ends_on=ends_on, approved_by=approved_by, reason=reason)

    @event("DiscountGranted")
    def _discount_granted(
        self, kind: str, percent: int, effective_on: date, ends_on: date | None,
        approved_by: str, reason: str,
    ) -> None:
        self.discounts.append({"kind": kind, "percent": percent, "effective_on": effective_on,
                               "ends_on": ends_on, "approved_by": approved_by, "reason": reason})

    def discount_on(self, on: date) -> dict[str, Any] | None:
        found = None
        for d in self.discounts:
            if d["effective_on"] <= on and (d["ends_on"] is None or on <= d["ends_on"]):
                found = d
        return found

    # -- visits -------------------------------------------------------------------------
    def record_visit(self, encounter_id: str, service_date: date) -> None:
        self._visit_recorded(encounter_id=encounter_id, service_date=service_date)

    @event("VisitRecorded")
    def _visit_recorded(self, encounter_id: str, service_date: date) -> None:
        self.encounter_ids.append(encounter_id)

    # -- guarantor-level patient collections ----------------------------------------------
    def issue_statement(
        self, statement_id: str, issued_on: date, dunning_level: int, balance_cents: int,
        due_on: date, lines: list[dict[str, Any]],
    ) -> None:
        if balance_cents <= 0:
            raise RuleViolation("a statement needs a patient balance due")
        self._statement_issued(statement_id=statement_id, issued_on=issued_on,
                               dunning_level=dunning_level, balance_cents=balance_cents,
                               due_on=due_on, lines=lines)

    @event("StatementIssued")
    def _statement_issued(
        self, statement_id: str, issued_on: date, dunning_level: int, balance_cents: int,
        due_on: date, lines: list[dict[str, Any]],
    ) -> None:
        self.statements.append({"statement_id": statement_id, "issued_on": issued_on,
                                "dunning_level": dunning_level, "balance_cents": balance_cents})

    def agree_payment_plan(
        self, plan_id: str, total_cents: int, installment_cents: int, frequency_days: int,
        starts_on: date, autopay_reference: str,
    ) -> None:
        if self.payment_plan is not None and self.payment_plan["status"] == "current":
            raise RuleViolation(f"account {self.account_no} already has a current payment plan")
        if total_cents <= 0 or installment_cents <= 0 or installment_cents > total_cents:
            raise ValidationError("a plan needs a positive total and an installment no larger")
        if frequency_days <= 0:
            raise ValidationError("installment frequency must be a positive number of days")
        self._payment_plan_agreed(plan_id=plan_id, total_cents=total_cents,
                                  installment_cents=installment_cents,
                                  frequency_days=frequency_days, starts_on=starts_on,
                                  autopay_reference=autopay_reference)

    @event("PaymentPlanAgreed")
    def _payment_plan_agreed(
        self, plan_id: str, total_cents: int, installment_cents: int, frequency_days: int,
        starts_on: date, autopay_reference: str,
    ) -> None:
        self.payment_plan = {"plan_id": plan_id, "total_cents": total_cents,
                             "installment_cents": installment_cents,
                             "frequency_days": frequency_days, "starts_on": starts_on,
                             "status": "current", "missed": 0}

    def _current_plan(self) -> dict[str, Any]:
        if self.payment_plan is None or self.payment_plan["status"] != "current":
            raise RuleViolation(f"account {self.account_no} has no current payment plan")
        return self.payment_plan

    def miss_installment(self, due_on: date, missed_limit: int = 2) -> None:
        plan = self._current_plan()
        self._installment_missed(plan_id=plan["plan_id"], due_on=due_on)
        if plan["missed"] >= missed_limit:
            self._payment_plan_defaulted(plan_id=plan["plan_id"], defaulted_on=due_on,
                                         reason=f"{plan['missed']} installments missed")

    @event("InstallmentMissed")
    def _installment_missed(self, plan_id: str, due_on: date) -> None:
        assert self.payment_plan is not None
        self.payment_plan["missed"] += 1

    @event("PaymentPlanDefaulted")
    def _payment_plan_defaulted(self, plan_id: str, defaulted_on: date, reason: str) -> None:
        assert self.payment_plan is not None
        self.payment_plan["status"] = "defaulted"

    def complete_payment_plan(self, completed_on: date) -> None:
        plan = self._current_plan()
        self._payment_plan_completed(plan_id=plan["plan_id"], completed_on=completed_on)

    @event("PaymentPlanCompleted")
    def _payment_plan_completed(self, plan_id: str, completed_on: date) -> None:
        assert self.payment_plan is not None
        self.payment_plan["status"] = "completed"

    @property
    def has_current_plan(self) -> bool:
        return self.payment_plan is not None and self.payment_plan["status"] == "current"

    def refer_to_collections(
        self, referral_id: str, agency: str, referred_on: date, referred_cents: int,
        approved_by: str, lines: list[dict[str, Any]],
    ) -> None:
        if self.referral is not None and self.referral["status"] == "placed":
            raise RuleViolation(
                f"account {self.account_no} is already with {self.referral['agency']}")
        if referred_cents <= 0:
            raise RuleViolation(f"account {self.account_no} has no patient balance to refer")
        self._referred_to_collections(referral_id=referral_id, agency=agency,
                                      referred_on=referred_on, referred_cents=referred_cents,
                                      approved_by=approved_by, lines=lines)

    @event("ReferredToCollections")
    def _referred_to_collections(
        self, referral_id: str, agency: str, referred_on: date, referred_cents: int,
        approved_by: str, lines: list[dict[str, Any]],
    ) -> None:
        # lines: {encounter_id, line_id, amount_cents} written off to bad debt at referral;
        # recoveries and a recall reverse those write-offs line by line, oldest first.
        self.referral = {"referral_id": referral_id, "agency": agency, "referred_on": referred_on,
                         "referred_cents": referred_cents, "recovered_cents": 0,
                         "fee_cents": 0, "recalled_cents": 0, "status": "placed",
                         "lines": [dict(line, remaining_cents=line["amount_cents"])
                                   for line in lines]}

    def _placed(self) -> dict[str, Any]:
        if self.referral is None or self.referral["status"] != "placed":
            raise RuleViolation(f"account {self.account_no} is not with a collection agency")
        return self.referral

    @property
    def at_agency_cents(self) -> int:
        r = self.referral
        if r is None or r["status"] != "placed":
            return 0
        return int(r["referred_cents"] - r["recovered_cents"] - r["recalled_cents"])

    def agency_allocation(self, amount_cents: int) -> list[dict[str, Any]]:
        """Which written-off lines an amount recovered or recalled comes back to."""
        left = amount_cents
        shares = []
        for line in self._placed()["lines"]:
            share = min(line["remaining_cents"], left)
            if share > 0:
                shares.append({"encounter_id": line["encounter_id"],
                               "line_id": line["line_id"], "amount_cents": share})
                left -= share
        return shares

    def record_agency_recovery(self, recovered_cents: int, fee_cents: int,
                               recovered_on: date) -> None:
        referral = self._placed()
        if recovered_cents <= 0:
            raise ValidationError("a recovery must be a positive amount")
        if not 0 <= fee_cents <= recovered_cents:
            raise ValidationError("the agency fee must be between zero and the amount recovered")
        if recovered_cents > self.at_agency_cents:
            raise RuleViolation(
                f"recovery exceeds what is placed with {referral['agency']}")
        self._agency_recovered(referral_id=referral["referral_id"],
                               recovered_cents=recovered_cents, fee_cents=fee_cents,
                               recovered_on=recovered_on)

    @event("AgencyRecovered")
    def _agency_recovered(self, referral_id: str, recovered_cents: int, fee_cents: int,
                          recovered_on: date) -> None:
        assert self.referral is not None
        self.referral["recovered_cents"] += recovered_cents
        self.referral["fee_cents"] += fee_cents
        self._consume(recovered_cents)

    def _consume(self, amount_cents: int) -> None:
        assert self.referral is not None
        for line in self.referral["lines"]:
            share = min(line["remaining_cents"], amount_cents)
            line["remaining_cents"] -= share
            amount_cents -= share

    def recall_from_agency(self, recalled_on: date, reason: str) -> int:
        referral = self._placed()
        remaining = self.at_agency_cents
        self._recalled_from_agency(referral_id=referral["referral_id"], recalled_cents=remaining,
                                   recalled_on=recalled_on, reason=reason)
        return remaining

    @event("RecalledFromAgency")
    def _recalled_from_agency(self, referral_id: str, recalled_cents: int, recalled_on: date,
                              reason: str) -> None:
        assert self.referral is not None
        self.referral["recalled_cents"] += recalled_cents
        self._consume(recalled_cents)
        self.referral["status"] = "recalled"

    # -- refunds need two people ----------------------------------------------------------
    def request_refund(self, request_id: str, amount_cents: int, payee: str,
                       requested_on: date, reason: str, requested_by: str) -> None:
        if amount_cents <= 0:
            raise ValidationError("a refund must be a positive amount")
        self._refund_requested(request_id=request_id, amount_cents=amount_cents, payee=payee,
                               requested_on=requested_on, reason=reason,
                               requested_by=requested_by)

    @event("RefundRequested")
    def _refund_requested(self, request_id: str, amount_cents: int, payee: str,
                          requested_on: date, reason: str, requested_by: str) -> None:
        self.refund_requests[request_id] = {
            "request_id": request_id, "amount_cents": amount_cents, "payee": payee,
            "requested_on": requested_on, "reason": reason, "requested_by": requested_by,
            "status": "requested"}

    def pending_refund(self, request_id: str) -> dict[str, Any]:
        request = self.refund_requests.get(request_id)
        if request is None:
            raise ValidationError(f"no refund request {request_id} on {self.account_no}")
        if request["status"] != "requested":
            raise RuleViolation(f"refund request {request_id} is already {request['status']}")
        return request

    def approve_refund(self, request_id: str, approved_by: str, approved_on: date) -> None:
        request = self.pending_refund(request_id)
        if approved_by == request["requested_by"]:
            raise RuleViolation("the requester cannot approve their own refund")
        self._refund_approved(request_id=request_id, approved_by=approved_by,
                              approved_on=approved_on)

    @event("RefundApproved")
    def _refund_approved(self, request_id: str, approved_by: str, approved_on: date) -> None:
        self.refund_requests[request_id]["status"] = "approved"

    def decline_refund(self, request_id: str, declined_by: str, reason: str) -> None:
        self.pending_refund(request_id)
        self._refund_declined(request_id=request_id, declined_by=declined_by, reason=reason)

    @event("RefundDeclined")
    def _refund_declined(self, request_id: str, declined_by: str, reason: str) -> None:
        self.refund_requests[request_id]["status"] = "declined"
