"""The payer sandbox answers inquiries: a 271 for our 270, a 277 for our 276.

Deterministic: the same request and ledger give the same answer, byte for byte. The sandbox
payer knows what the ledger knows, through the trace numbers our requests were recorded with:

- 271: a trace we never sent gets AAA 75 (subscriber not found), a member id other than the
  policy's AAA 72 (invalid member id). A policy in force on the date asked is active (EB*1)
  with its plan's name and benefits: copay, coinsurance and the yearly deductible and
  out-of-pocket maximum are derived from the payer and plan ids (fixed per plan), and what
  remains of them is the maximum less the deductible (PR-1) and patient shares (PR-1/2/3)
  this payer's adjudications already put on the patient that calendar year. A policy not in
  force is inactive (EB*6).
- 277: a claim the payer never received (unknown, other payer, never submitted) is A4:35 not
  found; a rejected one A3:21; one submitted or accepted and not adjudicated P1:20 pending;
  an adjudicated one F1:65 (paid) or F2:1 (denied) with its charge, payment and ICN.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from domain.claim import ClaimState, Outcome
from domain.errors import BillingError
from importers.x12.claim_status import VERSION as VERSION_277
from importers.x12.claim_status import Inquiry276, parse_276
from importers.x12.eligibility import VERSION as VERSION_271
from importers.x12.eligibility import Inquiry270, parse_270
from importers.x12.writer import (
    Party,
    SegmentWriter,
    amount,
    close_transaction,
    d8,
    envelope,
    identifier,
    text,
)

COPAYS = (0, 1000, 2000, 2500, 3000, 4000)
COINSURANCE = (10, 20, 30)
DEDUCTIBLES = (50_000, 100_000, 150_000, 200_000)
OUT_OF_POCKET = (300_000, 500_000, 600_000)


class InquirySandboxError(ValueError):
    """A request the sandbox cannot answer; the message says where."""


@dataclass(frozen=True)
class PlanBenefits:
    plan_name: str
    copay_cents: int
    coinsurance_percent: int
    deductible_cents: int
    out_of_pocket_cents: int


def plan_benefits(payer_id: str, plan_id: str, plan_name: str) -> PlanBenefits:
    """The sandbox's fixed benefits of a plan."""
    digest = int(hashlib.sha256(f"{payer_id}:{plan_id}".encode()).hexdigest(), 16)
    return PlanBenefits(plan_name, COPAYS[digest % 6], COINSURANCE[(digest // 6) % 3],
                        DEDUCTIBLES[(digest // 18) % 4], OUT_OF_POCKET[(digest // 72) % 3])


def _midday(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, 0, tzinfo=UTC)


def _control(value: str) -> int:
    return int(value) if value.strip().isdigit() and int(value) else int(
        hashlib.sha256(value.encode()).hexdigest(), 16) % 10**9 or 1


def _header(parsed: Any) -> tuple[str, date, str]:
    """(BHT03, BHT04, ISA06) of the request."""
    bht = next((s for s in parsed.segments if s.id == "BHT"), None)
    if bht is None:
        raise InquirySandboxError(f"{parsed.name}: no BHT segment")
    day = bht.get(4)
    return bht.get(3), date(int(day[:4]), int(day[4:6]), int(day[6:8])), parsed.sender


def _refused(parsed: Any) -> None:
    if parsed.problems:
        raise InquirySandboxError("; ".join(str(p) for p in parsed.problems[:5]))


# -- 270 -> 271 -------------------------------------------------------------------------------
class EligibilityBook:
    """The sandbox payer's view of coverage: the ledger's policies and adjudications."""

    def __init__(self, ledger: Any) -> None:
        self.ledger = ledger

    def answer(self, question: Inquiry270) -> dict[str, Any]:
        request = self.ledger.inquiry_trace("270", question.trace)
        if request is None:
            return {"reject": ("75", "C")}
        account = self.ledger.account(request.account_no)
        policy = account.policies.get(request.policy_id)
        if policy is None or policy["payer_id"] != question.payer_id:
            return {"reject": ("75", "C")}
        if question.member_id != policy["member_id"]:
            return {"reject": ("72", "C")}
        on = question.service_on or request.service_on
        payer = self.ledger.payer(policy["payer_id"])
        plan = payer.plans.get(policy["plan_id"], {})
        benefits = plan_benefits(payer.payer_id, policy["plan_id"],
                                 plan.get("name") or policy["plan_id"])
        in_force = any(p["policy_id"] == policy["policy_id"]
                       for p in account.active_policies(on))
        deductible, shares = self._patient_shares(account, payer.payer_id, on)
        return {"active": in_force, "benefits": benefits, "policy": policy,
                "deductible_left": max(0, benefits.deductible_cents - deductible),
                "out_of_pocket_left": max(0, benefits.out_of_pocket_cents - shares)}

    def _patient_shares(self, account: Any, payer_id: str, on: date) -> tuple[int, int]:
        """PR-1 and PR-1/2/3 this payer put on the patient in `on`'s year, through `on`."""
        deductible = shares = 0
        claims: set[str] = set()
        for encounter_id in account.encounter_ids:
            encounter = self.ledger.encounter(encounter_id)
            if encounter.service_date.year != on.year or encounter.service_date > on:
                continue
            for line in encounter.lines.values():
                if line["claims"].get(payer_id):
                    claims.add(line["claims"][payer_id])
        for claim_id in sorted(claims):
            for detail in self.ledger.adjudication_details(claim_id):
                adjustments = [a for line in detail.lines.values() for a in line.adjustments]
                adjustments += [a for _, a in detail.claim_adjustments]
                for a in adjustments:
                    if a.group == "PR" and a.carc in ("1", "2", "3"):
                        shares += a.amount_cents
                        deductible += a.amount_cents if a.carc == "1" else 0
        return deductible, shares


def _eb_segments(w: SegmentWriter, answer: dict[str, Any]) -> None:
    benefits: PlanBenefits = answer["benefits"]
    if not answer["active"]:
        w.add("EB", "6", "IND", "30", "", text(benefits.plan_name, 50))
        return
    w.add("EB", "1", "IND", "30", "", text(benefits.plan_name, 50))
    w.add("EB", "B", "IND", "98", "", "", "27", amount(benefits.copay_cents), "", "", "", "",
          "Y")
    share = (Decimal(benefits.coinsurance_percent) / 100).normalize()
    w.add("EB", "A", "IND", "98", "", "", "27", "", format(share, "f"), "", "", "", "Y")
    w.add("EB", "C", "IND", "30", "", "", "23", amount(benefits.deductible_cents), "", "", "",
          "", "Y")
    w.add("EB", "C", "IND", "30", "", "", "29", amount(answer["deductible_left"]), "", "", "",
          "", "Y")
    w.add("EB", "G", "IND", "30", "", "", "23", amount(benefits.out_of_pocket_cents), "", "",
          "", "", "Y")
    w.add("EB", "G", "IND", "30", "", "", "29", amount(answer["out_of_pocket_left"]), "", "",
          "", "", "Y")


def answer_270(data: bytes, ledger: Any, name: str = "<270>") -> tuple[str, list[dict[str, Any]]]:
    """The 271 the sandbox payer sends for a 270, and what it said to each question."""
    parsed, questions = parse_270(data, name)
    _refused(parsed)
    if not questions:
        raise InquirySandboxError(f"{name}: the 270 asks about no one (no TRN)")
    batch, created_on, requester = _header(parsed)
    book = EligibilityBook(ledger)
    groups: dict[tuple[str, str], list[Inquiry270]] = {}
    for q in questions:
        groups.setdefault((q.payer_id, q.provider_npi), []).append(q)
    summary: list[dict[str, Any]] = []
    transactions = []
    for number, ((payer_id, npi), asked) in enumerate(groups.items(), 1):
        w = SegmentWriter()
        control = f"{number:04d}"
        w.add("ST", "271", control, VERSION_271)
        w.add("BHT", "0022", "11", identifier(batch, "BHT03"), d8(created_on), "1200")
        w.add("HL", "1", "", "20", "1")
        w.add("NM1", "PR", "2", text(asked[0].payer_name, 60) or payer_id, "", "", "", "",
              "PI", identifier(payer_id, "payer id"))
        w.add("HL", "2", "1", "21", "1")
        w.add("NM1", "1P", "2", text(asked[0].provider_name, 60) or npi, "", "", "", "", "XX",
              identifier(npi, "provider NPI"))
        hl = 2
        for q in asked:
            answer = book.answer(q)
            hl += 1
            subscriber_hl = hl
            dependent = q.patient is not None
            w.add("HL", str(hl), "2", "22", "1" if dependent else "0")
            trn = ("TRN", "2", identifier(q.trace, "trace"), q.originator or "9999999999")
            last, first = q.subscriber
            if not dependent:
                w.add(*trn)
            w.add("NM1", "IL", "1", text(last, 60), text(first, 35), "", "", "", "MI",
                  identifier(q.member_id, "member id"))
            if dependent:
                hl += 1
                w.add("HL", str(hl), str(subscriber_hl), "23", "0")
                w.add(*trn)
                assert q.patient is not None
                w.add("NM1", "03", "1", text(q.patient[0], 60), text(q.patient[1], 35))
            if "reject" in answer:
                reason, action = answer["reject"]
                w.add("AAA", "Y", "", reason, action)
                summary.append({"trace": q.trace, "member_id": q.member_id,
                                "answer": f"AAA {reason}"})
                continue
            w.add("DTP", "346", "D8", d8(answer["policy"]["effective_on"]))
            _eb_segments(w, answer)
            benefits = answer["benefits"]
            summary.append({"trace": q.trace, "member_id": q.member_id,
                            "answer": "active" if answer["active"] else "inactive",
                            "plan_name": text(benefits.plan_name, 50),
                            "copay_cents": benefits.copay_cents,
                            "coinsurance_percent": benefits.coinsurance_percent,
                            "deductible_remaining_cents": answer["deductible_left"],
                            "out_of_pocket_remaining_cents": answer["out_of_pocket_left"]})
        transactions.append(close_transaction(w, control))
    control_number = _control(parsed.interchange_control)
    first_payer = questions[0].payer_id or "SANDBOX"
    return envelope(
        sender=Party(first_payer[:15].ljust(2, "0"), ""),
        receiver=Party((requester or "CLAIMDESK")[:15].ljust(2, "0"), ""),
        interchange_control=control_number, group_control=control_number,
        created_at=_midday(created_on), functional_code="HB", version=VERSION_271,
        transactions=transactions, usage="T"), summary


# -- 276 -> 277 -------------------------------------------------------------------------------
def claim_status(ledger: Any, question: Inquiry276) -> dict[str, Any]:
    """What the sandbox payer knows of one claim asked about."""
    claim_id = question.claim_id
    if not claim_id:
        request = ledger.inquiry_trace("276", question.trace)
        claim_id = request.claim_id if request is not None else ""
    claim = None
    if claim_id:
        try:
            claim = ledger.claim(claim_id)
        except BillingError:
            claim = None
    if claim is None or claim.payer_id != question.payer_id or not claim.submissions:
        return {"status": "A4:35", "claim_id": claim_id}
    live = [a for a in claim.adjudications if not a["reversed"]]
    found: dict[str, Any] = {"claim_id": claim_id, "charge_cents": claim.charge_cents,
                             "icn": claim.payer_claim_control_number}
    if claim.state is ClaimState.REJECTED:
        return {**found, "status": "A3:21"}
    if not live:
        return {**found, "status": "P1:20"}
    paid = sum(a["paid_cents"] for a in live)
    denied = live[-1]["outcome"] == Outcome.DENIED
    return {**found, "status": "F2:1" if denied else "F1:65", "paid_cents": paid,
            "adjudicated_on": live[-1]["paid_on"]}


def answer_276(data: bytes, ledger: Any, name: str = "<276>") -> tuple[str, list[dict[str, Any]]]:
    """The 277 the sandbox payer sends for a 276, and what it said of each claim."""
    parsed, questions = parse_276(data, name)
    _refused(parsed)
    if not questions:
        raise InquirySandboxError(f"{name}: the 276 asks about no claim (no TRN)")
    batch, created_on, requester = _header(parsed)
    groups: dict[tuple[str, str, str], list[Inquiry276]] = {}
    for q in questions:
        groups.setdefault((q.payer_id, q.submitter[0], q.provider_npi), []).append(q)
    summary: list[dict[str, Any]] = []
    transactions = []
    for number, ((payer_id, submitter, npi), asked) in enumerate(groups.items(), 1):
        w = SegmentWriter()
        control = f"{number:04d}"
        w.add("ST", "277", control, VERSION_277)
        w.add("BHT", "0010", "08", identifier(batch, "BHT03"), d8(created_on), "1200", "DG")
        w.add("HL", "1", "", "20", "1")
        w.add("NM1", "PR", "2", text(asked[0].payer_name, 60) or payer_id, "", "", "", "",
              "PI", identifier(payer_id, "payer id"))
        w.add("HL", "2", "1", "21", "1")
        w.add("NM1", "41", "2", text(asked[0].submitter[1], 60) or submitter, "", "", "", "",
              "46", identifier(submitter, "submitter id"))
        w.add("HL", "3", "2", "19", "1")
        w.add("NM1", "1P", "2", text(asked[0].provider_name, 60) or npi, "", "", "", "", "XX",
              identifier(npi, "provider NPI"))
        hl = 3
        for q in asked:
            known = claim_status(ledger, q)
            hl += 1
            dependent = q.patient is not None
            w.add("HL", str(hl), "3", "22", "1" if dependent else "0")
            w.add("NM1", "IL", "1", text(q.subscriber[0], 60), text(q.subscriber[1], 35), "",
                  "", "", "MI", identifier(q.member_id or "UNKNOWN", "member id"))
            if dependent:
                assert q.patient is not None
                hl += 1
                w.add("HL", str(hl), str(hl - 1), "23")
                w.add("NM1", "QC", "1", text(q.patient[0], 60), text(q.patient[1], 35))
            w.add("TRN", "2", identifier(q.trace, "trace"))
            charge = known.get("charge_cents", q.charge_cents)
            stc: list[Any] = [known["status"].split(":"), d8(created_on), ""]
            if charge is not None:
                stc.append(amount(charge))
                if "paid_cents" in known:
                    stc += [amount(known["paid_cents"]), d8(known["adjudicated_on"])]
            w.add("STC", *stc)
            if known.get("icn"):
                w.add("REF", "1K", identifier(known["icn"], "payer claim control number"))
            if q.claim_id or known.get("claim_id"):
                w.add("REF", "EJ", identifier(q.claim_id or known["claim_id"], "claim id"))
            if q.service_from is not None and q.service_to is not None:
                if q.service_from == q.service_to:
                    w.add("DTP", "472", "D8", d8(q.service_from))
                else:
                    w.add("DTP", "472", "RD8", f"{d8(q.service_from)}-{d8(q.service_to)}")
            summary.append({"trace": q.trace, "claim_id": known.get("claim_id", ""),
                            "status": known["status"]})
        transactions.append(close_transaction(w, control))
    control_number = _control(parsed.interchange_control)
    first_payer = questions[0].payer_id or "SANDBOX"
    return envelope(
        sender=Party(first_payer[:15].ljust(2, "0"), ""),
        receiver=Party((requester or "CLAIMDESK")[:15].ljust(2, "0"), ""),
        interchange_control=control_number, group_control=control_number,
        created_at=_midday(created_on), functional_code="HN", version=VERSION_277,
        transactions=transactions, usage="T"), summary
