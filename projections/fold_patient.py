"""How a patient account's events fold: registration, coverage, statements, plans, referrals."""

from __future__ import annotations

from projections.rows import META as _META
from projections.rows import Fact, Fold, Row, display_name, iso, keyed, on, plain

# -- patient accounts -----------------------------------------------------------------------

@on("PatientAccount.Registered")
def _registered(fold: Fold, fact: Fact, stream: Row | None) -> None:
    d = fact.data
    no = d["account_no"]
    fold.stream(fact, "account", no, account_no=no)
    fold.put("accounts", no, {
        "account_no": no, "last_name": d["last_name"], "first_name": d["first_name"],
        "middle_name": d["middle_name"],
        "name": display_name(d["last_name"], d["first_name"], d["middle_name"]),
        "birth_date": iso(d["birth_date"]), "sex": d["sex"], "address": plain(d["address"]),
        "phone": d["phone"], "reason_for_visit": d["reason_for_visit"],
        "registered_on": iso(d["registered_on"]), "guarantor_account_no": no,
        "guarantor_relationship": "18", "dependents": [], "policies": {},
        "coverage_order": [], "eligibility": {}, "discounts": [],
        "recorded_at": fold.recorded_at})


def _account(fold: Fold, stream: Row | None) -> Row | None:
    found = keyed(fold, "accounts", stream)
    return None if found is None else found[1]


@on("PatientAccount.DemographicsCorrected", "PatientAccount.GuarantorSet",
    "PatientAccount.DependentLinked", "PatientAccount.DependentUnlinked",
    "PatientAccount.PolicyAdded", "PatientAccount.CoverageReordered",
    "PatientAccount.PolicyTerminated", "PatientAccount.EligibilityRecorded",
    "PatientAccount.DiscountGranted")
def _account_changed(fold: Fold, fact: Fact, stream: Row | None) -> None:
    account = _account(fold, stream)
    if account is None:
        return
    d, event = fact.data, fact.event_type
    if event == "DemographicsCorrected":
        for key, value in d["changes"].items():
            account[key] = plain(value)
        account["name"] = display_name(account["last_name"], account["first_name"],
                                       account["middle_name"])
    elif event == "GuarantorSet":
        account["guarantor_account_no"] = d["guarantor_account_no"]
        account["guarantor_relationship"] = d["relationship"]
    elif event == "DependentLinked":
        account["dependents"] = [*account["dependents"], d["account_no"]]
    elif event == "DependentUnlinked":
        account["dependents"] = [a for a in account["dependents"] if a != d["account_no"]]
    elif event == "PolicyAdded":
        policy = {k: plain(d[k]) for k in (
            "policy_id", "payer_id", "plan_id", "member_id", "group_number", "subscriber",
            "relationship", "effective_on", "terminates_on", "filing_indicator")}
        policy["terminated_on"] = None
        account["policies"] = {**account["policies"], d["policy_id"]: policy}
        account["coverage_order"] = list(d["coverage_order"])
    elif event == "CoverageReordered":
        account["coverage_order"] = list(d["coverage_order"])
    elif event == "PolicyTerminated":
        policies = dict(account["policies"])
        policies[d["policy_id"]] = {**policies[d["policy_id"]],
                                    "terminated_on": iso(d["terminated_on"])}
        account["policies"] = policies
    elif event == "EligibilityRecorded":
        account["eligibility"] = {**account["eligibility"], d["policy_id"]: {
            k: plain(v) for k, v in d.items() if k not in _META and k != "policy_id"}}
    elif event == "DiscountGranted":
        account["discounts"] = [*account["discounts"], {
            k: plain(v) for k, v in d.items() if k not in _META}]
    fold.put("accounts", account["account_no"], account)


@on("PatientAccount.StatementIssued")
def _statement(fold: Fold, fact: Fact, stream: Row | None) -> None:
    if stream is None:
        return
    d = fact.data
    fold.put("statements", d["statement_id"], {
        "statement_id": d["statement_id"], "account_no": stream["key"],
        "issued_on": iso(d["issued_on"]), "dunning_level": d["dunning_level"],
        "balance_cents": d["balance_cents"], "due_on": iso(d["due_on"]),
        "line_count": len(d["lines"]), "recorded_at": fold.recorded_at})
    for line in d["lines"]:
        fold.state.append("statement_lines", {
            "statement_id": d["statement_id"], "line_id": line["line_id"],
            "issued_on": iso(d["issued_on"]), "recorded_at": fold.recorded_at,
            "patient_cents": line.get("patient_cents", 0)})


@on("PatientAccount.PaymentPlanAgreed", "PatientAccount.InstallmentMissed",
    "PatientAccount.PaymentPlanDefaulted", "PatientAccount.PaymentPlanCompleted")
def _payment_plan(fold: Fold, fact: Fact, stream: Row | None) -> None:
    if stream is None:
        return
    d, event = fact.data, fact.event_type
    if event == "PaymentPlanAgreed":
        fold.put("payment_plans", d["plan_id"], {
            "plan_id": d["plan_id"], "account_no": stream["key"],
            "total_cents": d["total_cents"], "installment_cents": d["installment_cents"],
            "frequency_days": d["frequency_days"], "starts_on": iso(d["starts_on"]),
            "status": "current", "missed": 0, "last_missed_on": None, "defaulted_on": None,
            "completed_on": None, "position": fact.position})
        return
    plan = fold.row("payment_plans", d["plan_id"])
    if plan is None:
        return
    if event == "InstallmentMissed":
        plan["missed"] += 1
        plan["last_missed_on"] = iso(d["due_on"])
    elif event == "PaymentPlanDefaulted":
        plan["status"], plan["defaulted_on"] = "defaulted", iso(d["defaulted_on"])
    else:
        plan["status"], plan["completed_on"] = "completed", iso(d["completed_on"])
    fold.put("payment_plans", d["plan_id"], plan)


@on("PatientAccount.ReferredToCollections", "PatientAccount.AgencyRecovered",
    "PatientAccount.RecalledFromAgency")
def _referral(fold: Fold, fact: Fact, stream: Row | None) -> None:
    if stream is None:
        return
    d, event = fact.data, fact.event_type
    if event == "ReferredToCollections":
        fold.put("referrals", d["referral_id"], {
            "referral_id": d["referral_id"], "account_no": stream["key"], "agency": d["agency"],
            "referred_on": iso(d["referred_on"]), "referred_cents": d["referred_cents"],
            "approved_by": d["approved_by"], "recovered_cents": 0, "fee_cents": 0,
            "recalled_cents": 0, "status": "placed", "recalled_on": None,
            "position": fact.position})
        return
    referral = fold.row("referrals", d["referral_id"])
    if referral is None:
        return
    if event == "AgencyRecovered":
        referral["recovered_cents"] += d["recovered_cents"]
        referral["fee_cents"] += d["fee_cents"]
    else:
        referral["recalled_cents"] += d["recalled_cents"]
        referral["status"], referral["recalled_on"] = "recalled", iso(d["recalled_on"])
    fold.put("referrals", d["referral_id"], referral)


@on("PatientAccount.RefundRequested", "PatientAccount.RefundApproved",
    "PatientAccount.RefundDeclined")
def _refund(fold: Fold, fact: Fact, stream: Row | None) -> None:
    if stream is None:
        return
    d, key = fact.data, (stream["key"], fact.data["request_id"])
    if fact.event_type == "RefundRequested":
        fold.put("refunds", key, {
            "account_no": stream["key"], "request_id": d["request_id"],
            "amount_cents": d["amount_cents"], "payee": d["payee"],
            "requested_on": iso(d["requested_on"]), "requested_by": d["requested_by"],
            "reason": d["reason"], "status": "requested", "decided_by": "",
            "decided_on": None})
        return
    refund = fold.row("refunds", key)
    if refund is None:
        return
    if fact.event_type == "RefundApproved":
        refund.update(status="approved", decided_by=d["approved_by"],
                      decided_on=iso(d["approved_on"]))
    else:
        refund.update(status="declined", decided_by=d["declined_by"],
                      decided_on=fold.recorded_at[:10])
    fold.put("refunds", key, refund)
