"""The claim scrubber: every reason a claim is not fit to send, as messages a biller can act on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from domain.claim import MAX_LINES, Claim
from domain.codes import (
    is_billable_icd10,
    is_valid_modifier,
    is_valid_npi,
    is_valid_procedure_code,
    is_valid_tin,
)
from domain.encounter import MAX_DIAGNOSES, Encounter
from domain.patient_account import PatientAccount
from domain.practice import Contract, Provider


@dataclass(frozen=True)
class ScrubContext:
    claim: Claim
    encounter: Encounter
    account: PatientAccount
    billing: Provider
    contract: Contract | None
    today: date
    primary_adjudicated: bool


def filing_deadline(service_date: date, contract: Contract | None) -> date:
    """DOS + the contract's timely-filing days (a year when no contract says otherwise)."""
    days = contract.timely_filing_days if contract is not None else 365
    return service_date + timedelta(days=days)


def scrub(ctx: ScrubContext) -> list[str]:
    claim, encounter = ctx.claim, ctx.encounter
    problems: list[str] = []
    if not is_valid_npi(ctx.billing.npi):
        problems.append(f"billing provider NPI {ctx.billing.npi} fails its check digit")
    if not is_valid_tin(ctx.billing.tin):
        problems.append(f"billing provider TIN {ctx.billing.tin!r} is not 9 digits")
    if encounter.rendering_npi and not is_valid_npi(encounter.rendering_npi):
        problems.append(f"rendering provider NPI {encounter.rendering_npi} fails its check digit")
    policy: dict[str, Any] | None = ctx.account.policies.get(claim.policy_id)
    if policy is None or not policy["member_id"].strip():
        problems.append("the subscriber's member id is missing")
    if policy is not None:
        active = {p["policy_id"] for p in ctx.account.active_policies(claim.service_date)}
        if claim.policy_id not in active:
            problems.append(f"policy {claim.policy_id} ({claim.payer_id}) is not active on "
                            f"the date of service {claim.service_date}")
        eligibility = ctx.account.eligibility.get(claim.policy_id)
        if eligibility and not eligibility["active"] and (
                eligibility["service_on"] == claim.service_date):
            problems.append(f"eligibility check says {claim.payer_id} coverage is inactive "
                            f"on {claim.service_date}")
    if len(encounter.diagnoses) > MAX_DIAGNOSES:
        problems.append("more than 12 diagnoses on one claim")
    for code in encounter.diagnoses:
        if not is_billable_icd10(code):
            problems.append(f"diagnosis {code} is not a billable ICD-10-CM code")
    if not claim.line_ids:
        problems.append("the claim has no lines")
    if len(claim.line_ids) > MAX_LINES:
        problems.append(f"{len(claim.line_ids)} lines; a claim takes at most 50")
    total = 0
    for line_id in claim.line_ids:
        line = encounter.lines.get(line_id)
        if line is None or line["reversed"]:
            problems.append(f"line {line_id} no longer exists")
            continue
        total += line["charge_cents"]
        if not is_valid_procedure_code(line["code"]):
            problems.append(f"line {line_id}: {line['code']} is not a CPT/HCPCS code")
        if len(line["modifiers"]) > 4 or not all(
                is_valid_modifier(m) for m in line["modifiers"]):
            problems.append(f"line {line_id}: modifiers {line['modifiers']} are not valid")
        for pointer in line["pointers"]:
            if not 1 <= pointer <= len(encounter.diagnoses):
                problems.append(f"line {line_id}: diagnosis pointer {pointer} points nowhere")
    if total != claim.charge_cents:
        problems.append(f"claim total {claim.charge_cents} differs from its lines' {total}")
    if claim.frequency == "1" and not claim.adjudications:
        deadline = filing_deadline(claim.service_date, ctx.contract)
        if ctx.today > deadline and claim.override is None:
            problems.append(f"timely filing deadline {deadline} has passed; a supervisor "
                            "override with a reason is needed")
    if claim.coverage_order != "P" and not ctx.primary_adjudicated:
        problems.append("a secondary claim needs the primary payer's adjudication first")
    return problems
