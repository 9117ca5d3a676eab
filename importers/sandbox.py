"""The payer sandbox: adjudicates an 837P as a payer would and writes the 835 it would send.

Deterministic: the same 837, ledger and seed give the same 835, byte for byte. Each line is
priced by the contract's fee schedule (allowed = min(charge, fee x units), CO-45 for the
rest); the patient's share comes from the coverage's last eligibility check (copay PR-3 on the
first line, then deductible PR-1 and coinsurance PR-2), or 20 % coinsurance without one. A
seeded share of claims is denied with the CARCs billers meet most (CO-16 with M51 or MA130,
CO-50, CO-97, CO-197, CO-29); a claim sent past the contract's filing limit always gets
CO-29. A secondary claim is paid from what its 2430 loops say the primary left to the
patient (OA-23 for the rest). A replacement (7) first reverses each standing adjudication
(CLP02=22, as the ledger recorded it), a void (8) only reverses them. Every 835 balances at
line, claim and transaction level (a net negative is carried as a negative ``PLB*WO``).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Protocol

from domain.errors import BillingError
from domain.money import Cents, apply_rate, cents_from_x12
from domain.services.submission import AdjudicationDetail, Adjustment
from importers.x12.segments import Segment, X12SyntaxError, tokenize
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

VERSION_835 = "005010X221A1"
DEFAULT_COINSURANCE_PERCENT = 20
NO_CONTRACT_RATE = Decimal("0.70")   # without a fee schedule the sandbox allows 70 % of charge
# (carc, rarcs, scope): "claim" denies every line, "line" one line.
DENIALS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("16", ("M51",), "line"),
    ("16", ("MA130",), "claim"),
    ("50", (), "line"),
    ("97", (), "line"),
    ("197", (), "claim"),
    ("29", (), "claim"),
)
# CLP06 takes fewer codes than SBR09; commercial, BCBS, FEHB and "other" map to 12 (PPO).
CLP06_CODES = frozenset([
    "12", "13", "14", "15", "16", "17", "AM", "CH", "DS", "HM", "LM", "MA", "MB", "MC", "OF",
    "TV", "VA", "WC", "ZZ"])
STATUS_BY_ORDER = {"P": "1", "S": "2"}


class SandboxError(ValueError):
    """An 837 the sandbox cannot adjudicate; the message says where."""


# -- the 837 as the payer reads it --------------------------------------------------------------
@dataclass
class PriorLine:
    payer_id: str
    paid_cents: int
    adjustments: list[Adjustment] = field(default_factory=list)


@dataclass
class LineIn:
    code: str
    modifiers: list[str]
    charge_cents: int
    units: str
    service_date: date
    line_ref: str = ""
    priors: list[PriorLine] = field(default_factory=list)

    @property
    def units_milli(self) -> int:
        return int(Decimal(self.units or "1") * 1000)


@dataclass
class ClaimIn:
    claim_id: str
    charge_cents: int
    place_of_service: str
    frequency: str
    payer_id: str
    payer_name: str
    coverage_order: str
    filing_indicator: str
    billing_npi: str
    billing_name: str
    subscriber: tuple[str, str, str]          # last, first, member id
    patient: tuple[str, str] | None           # last, first when not the subscriber
    payer_claim_control_number: str = ""      # REF*F8
    lines: list[LineIn] = field(default_factory=list)


@dataclass
class Submission:
    sender_id: str
    receiver_id: str
    interchange_control: str
    created_on: date
    claims: list[ClaimIn]


def _date(value: str) -> date:
    return date(int(value[:4]), int(value[4:6]), int(value[6:8]))


def read_837(data: str, name: str = "<837>") -> Submission:
    """The claims of an 837P, as much of them as a payer needs to adjudicate."""
    try:
        separators, segments = tokenize(data, name)
    except X12SyntaxError as error:
        raise SandboxError(str(error)) from None
    component = separators.component
    isa = segments[0]
    created_on: date | None = None
    claims: list[ClaimIn] = []
    billing = ("", "")
    subscriber: dict[str, Any] = {}
    claim: ClaimIn | None = None
    line: LineIn | None = None
    prior_line: PriorLine | None = None
    in_other_payer = False

    def need(seg: Segment, position: int) -> str:
        value = seg.get(position)
        if not value:
            raise SandboxError(f"{name}: segment {seg.index} ({seg.id}) lacks element "
                               f"{position}")
        return value

    for seg in segments:
        sid = seg.id
        if sid == "GS" and seg.get(8) != "005010X222A1":
            raise SandboxError(f"{name}: GS08 {seg.get(8)!r} is not an 837P (005010X222A1)")
        if sid == "BHT":
            created_on = _date(need(seg, 4))
        elif sid == "HL":
            claim = line = prior_line = None
            in_other_payer = False
            if seg.get(3) == "22":
                subscriber = {}
        elif sid == "NM1" and seg.get(1) == "85":
            billing = (need(seg, 9), seg.get(3))
        elif sid == "SBR" and claim is None:
            subscriber.update(order=need(seg, 1), filing=seg.get(9))
        elif sid == "SBR":
            in_other_payer = True
        elif sid == "NM1" and seg.get(1) == "IL" and claim is None:
            subscriber.update(name=(seg.get(3), seg.get(4), seg.get(9)))
        elif sid == "NM1" and seg.get(1) == "PR" and claim is None:
            subscriber.update(payer=(need(seg, 9), seg.get(3)))
        elif sid == "NM1" and seg.get(1) == "QC":
            subscriber.update(patient=(seg.get(3), seg.get(4)))
        elif sid == "CLM":
            pos, _, frequency = [*need(seg, 5).split(component), "", "", ""][:3]
            if "payer" not in subscriber or "name" not in subscriber:
                raise SandboxError(f"{name}: claim {seg.get(1)} has no subscriber or payer")
            claim = ClaimIn(
                claim_id=need(seg, 1), charge_cents=cents_from_x12(need(seg, 2)),
                place_of_service=pos, frequency=frequency or "1",
                payer_id=subscriber["payer"][0], payer_name=subscriber["payer"][1],
                coverage_order=subscriber.get("order", "P"),
                filing_indicator=subscriber.get("filing", ""), billing_npi=billing[0],
                billing_name=billing[1], subscriber=subscriber["name"],
                patient=subscriber.get("patient"))
            claims.append(claim)
            line = prior_line = None
            in_other_payer = False
        elif claim is None:
            continue
        elif sid == "REF" and seg.get(1) == "F8" and not in_other_payer and line is None:
            claim.payer_claim_control_number = need(seg, 2)
        elif sid == "LX":
            line = None
            prior_line = None
        elif sid == "SV1":
            procedure = need(seg, 1).split(component)
            line = LineIn(code=procedure[1], modifiers=[m for m in procedure[2:6] if m],
                          charge_cents=cents_from_x12(need(seg, 2)), units=seg.get(4) or "1",
                          service_date=created_on or date.min)
            claim.lines.append(line)
        elif line is None:
            continue
        elif sid == "DTP" and seg.get(1) == "472":
            line.service_date = _date(need(seg, 3)[:8])
        elif sid == "REF" and seg.get(1) == "6R":
            line.line_ref = need(seg, 2)
        elif sid == "SVD":
            prior_line = PriorLine(need(seg, 1), cents_from_x12(need(seg, 2)))
            line.priors.append(prior_line)
        elif sid == "CAS" and prior_line is not None:
            for i in range(2, len(seg.elements), 3):
                if seg.get(i):
                    prior_line.adjustments.append(
                        Adjustment(seg.get(1), seg.get(i), cents_from_x12(need(seg, i + 1))))
    if created_on is None:
        raise SandboxError(f"{name}: no BHT segment")
    if not claims:
        raise SandboxError(f"{name}: no claims")
    return Submission(sender_id=isa.get(6).strip(), receiver_id=isa.get(8).strip(),
                      interchange_control=isa.get(13), created_on=created_on, claims=claims)


# -- what the payer knows ---------------------------------------------------------------------
@dataclass(frozen=True)
class Benefits:
    copay_cents: int = 0
    deductible_remaining_cents: int = 0
    coinsurance_percent: int = DEFAULT_COINSURANCE_PERCENT


class PayerBook(Protocol):
    """The payer's side of the contract and the member's benefits."""

    def allowed_per_unit(self, claim: ClaimIn, line: LineIn) -> int | None: ...
    def timely_filing_days(self, claim: ClaimIn) -> int | None: ...
    def benefits(self, claim: ClaimIn) -> Benefits: ...
    def live_adjudications(self, claim: ClaimIn) -> list[AdjudicationDetail]: ...
    def line(self, claim: ClaimIn, line_id: str) -> dict[str, Any] | None: ...
    def payer_address(self, payer_id: str) -> dict[str, str]: ...


class LedgerBook:
    """A PayerBook read from our own ledger: its contracts, eligibility and postings."""

    def __init__(self, ledger: Any) -> None:
        self.ledger = ledger
        self._claims: dict[str, Any] = {}

    def _claim(self, claim: ClaimIn) -> Any:
        if claim.claim_id not in self._claims:
            try:
                found = self.ledger.claim(claim.claim_id)
            except BillingError:
                found = None
            self._claims[claim.claim_id] = found if (
                found is not None and found.payer_id == claim.payer_id) else None
        return self._claims[claim.claim_id]

    def _contract(self, claim: ClaimIn, on: date) -> Any:
        ours = self._claim(claim)
        try:
            plans = [ours.plan_id] if ours is not None else list(
                self.ledger.payer(claim.payer_id).plans)
            for plan_id in plans:
                contract = self.ledger.contract_for(claim.payer_id, plan_id, on)
                if contract is not None:
                    return contract
        except BillingError:
            return None
        return None

    def allowed_per_unit(self, claim: ClaimIn, line: LineIn) -> int | None:
        contract = self._contract(claim, line.service_date)
        if contract is None:
            return None
        cents = contract.allowed_per_unit(line.code, line.modifiers, line.service_date)
        return None if cents is None else int(cents)

    def timely_filing_days(self, claim: ClaimIn) -> int | None:
        if not claim.lines:
            return None
        contract = self._contract(claim, min(line.service_date for line in claim.lines))
        return None if contract is None else int(contract.timely_filing_days)

    def benefits(self, claim: ClaimIn) -> Benefits:
        ours = self._claim(claim)
        if ours is None:
            return Benefits()
        eligibility = self.ledger.account(ours.account_no).eligibility.get(ours.policy_id)
        if not eligibility or not eligibility["active"]:
            return Benefits()
        percent = eligibility["coinsurance_percent"]
        return Benefits(
            copay_cents=eligibility["copay_cents"] or 0,
            deductible_remaining_cents=eligibility["deductible_remaining_cents"] or 0,
            coinsurance_percent=DEFAULT_COINSURANCE_PERCENT if percent is None else percent)

    def live_adjudications(self, claim: ClaimIn) -> list[AdjudicationDetail]:
        if self._claim(claim) is None:
            return []
        details: list[AdjudicationDetail] = self.ledger.adjudication_details(claim.claim_id)
        return details

    def line(self, claim: ClaimIn, line_id: str) -> dict[str, Any] | None:
        ours = self._claim(claim)
        if ours is None:
            return None
        found: dict[str, Any] | None = self.ledger.encounter(ours.encounter_id).lines.get(line_id)
        return found

    def payer_address(self, payer_id: str) -> dict[str, str]:
        try:
            return dict(self.ledger.payer(payer_id).address)
        except BillingError:
            return {}


# -- adjudication ---------------------------------------------------------------------------
@dataclass
class LineOut:
    code: str
    modifiers: list[str]
    charge_cents: int
    paid_cents: int
    units: str
    service_date: date
    line_ref: str
    adjustments: list[Adjustment] = field(default_factory=list)
    rarcs: tuple[str, ...] = ()
    allowed_cents: int | None = None


@dataclass
class ClaimOut:
    claim: ClaimIn
    status: str
    payer_claim_control_number: str
    lines: list[LineOut]
    claim_adjustments: list[Adjustment] = field(default_factory=list)

    @property
    def sign(self) -> int:
        return -1 if self.status == "22" else 1

    @property
    def charge_cents(self) -> int:
        return sum(line.charge_cents for line in self.lines)

    @property
    def paid_cents(self) -> int:
        """CLP04: the lines' payments less any claim-level adjustment."""
        return sum(line.paid_cents for line in self.lines) - sum(
            a.amount_cents for a in self.claim_adjustments)

    @property
    def patient_responsibility_cents(self) -> int:
        return sum(a.amount_cents for line in self.lines for a in line.adjustments
                   if a.group == "PR") + sum(
            a.amount_cents for a in self.claim_adjustments if a.group == "PR")


def _digest(*parts: object) -> str:
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()


class Adjudicator:
    """One run over one 837: deductibles met by earlier claims stay met for later ones."""

    def __init__(self, book: PayerBook, *, denial_rate: float = 0.0, seed: int = 0) -> None:
        if not 0.0 <= denial_rate <= 1.0:
            raise SandboxError(f"denial rate {denial_rate} is not between 0 and 1")
        self.book = book
        self.denial_rate = denial_rate
        self.seed = seed
        self.deductible_left: dict[tuple[str, str], int] = {}

    def adjudicate(self, submission: Submission) -> list[ClaimOut]:
        out: list[ClaimOut] = []
        for index, claim in enumerate(submission.claims):
            if claim.frequency in ("7", "8"):
                out.extend(self._reversals(claim))
                if claim.frequency == "8":
                    continue
            icn = "SBX" + str(int(_digest(self.seed, submission.interchange_control, index,
                                          claim.claim_id, claim.frequency), 16) % 10**12).zfill(12)
            out.append(self._claim(submission, claim, icn))
        return out

    def _denial(self, submission: Submission, claim: ClaimIn) -> tuple[str, tuple[str, ...],
                                                                       int | None] | None:
        """(carc, rarcs, line index or None for all lines), or None when not denied."""
        days = self.book.timely_filing_days(claim)
        first_dos = min(line.service_date for line in claim.lines)
        if claim.frequency == "1" and days is not None and (
                (submission.created_on - first_dos).days > days):
            return "29", (), None
        rng = random.Random(_digest(self.seed, claim.claim_id, claim.frequency,
                                    claim.charge_cents))
        if rng.random() >= self.denial_rate:
            return None
        carc, rarcs, scope = rng.choice(DENIALS)
        if scope == "claim":
            return carc, rarcs, None
        if carc == "97" and len(claim.lines) < 2:
            carc = "50"     # nothing to bundle a lone service into
        index = len(claim.lines) - 1 if carc == "97" else rng.randrange(len(claim.lines))
        return carc, rarcs, index

    def _claim(self, submission: Submission, claim: ClaimIn, icn: str) -> ClaimOut:
        if not claim.lines:
            raise SandboxError(f"claim {claim.claim_id} has no service lines")
        denial = self._denial(submission, claim)
        benefits = self.book.benefits(claim)
        key = (claim.payer_id, claim.subscriber[2])
        self.deductible_left.setdefault(key, benefits.deductible_remaining_cents)
        copay_left = benefits.copay_cents
        secondary = claim.coverage_order != "P" and any(line.priors for line in claim.lines)
        lines = []
        for index, line in enumerate(claim.lines):
            out = LineOut(line.code, line.modifiers, line.charge_cents, 0, line.units,
                          line.service_date, line.line_ref)
            denied = denial is not None and denial[2] in (None, index)
            prior_pr = prior_rest = 0
            if secondary:
                prior = line.priors[-1]
                prior_pr = sum(a.amount_cents for a in prior.adjustments if a.group == "PR")
                prior_rest = line.charge_cents - prior_pr
                if prior_rest:
                    out.adjustments.append(Adjustment("OA", "23", prior_rest))
            if denied:
                assert denial is not None
                carc, out.rarcs = denial[0], denial[1]
                left = prior_pr if secondary else line.charge_cents
                if left:
                    out.adjustments.append(Adjustment("CO", carc, left))
            elif secondary:
                self._price_secondary(claim, line, out, prior_pr)
            else:
                copay_left = self._price_primary(claim, line, out, benefits, key, copay_left)
            lines.append(out)
        status = STATUS_BY_ORDER.get(claim.coverage_order, "3")
        return ClaimOut(claim, status, icn, lines)

    def _allowed(self, claim: ClaimIn, line: LineIn) -> int:
        fee = self.book.allowed_per_unit(claim, line)
        if fee is None:
            return int(apply_rate(Cents(line.charge_cents), NO_CONTRACT_RATE))
        return min(line.charge_cents, (fee * line.units_milli + 500) // 1000)

    def _price_primary(self, claim: ClaimIn, line: LineIn, out: LineOut, benefits: Benefits,
                       key: tuple[str, str], copay_left: int) -> int:
        allowed = self._allowed(claim, line)
        out.allowed_cents = allowed
        if line.charge_cents > allowed:
            out.adjustments.append(Adjustment("CO", "45", line.charge_cents - allowed))
        patient = []
        if copay_left and allowed:
            copay = min(copay_left, allowed)
            copay_left -= copay
            patient.append(Adjustment("PR", "3", copay))
        else:
            deductible = min(self.deductible_left[key], allowed)
            self.deductible_left[key] -= deductible
            coinsurance = int(apply_rate(Cents(allowed - deductible),
                                         Decimal(benefits.coinsurance_percent) / 100))
            patient += [Adjustment("PR", "1", deductible), Adjustment("PR", "2", coinsurance)]
        out.adjustments += [a for a in patient if a.amount_cents]
        out.paid_cents = allowed - sum(a.amount_cents for a in patient)
        return copay_left

    def _price_secondary(self, claim: ClaimIn, line: LineIn, out: LineOut,
                         prior_pr: int) -> None:
        """Pay what the earlier payers left the patient, up to this payer's allowed amount."""
        prior_paid = sum(prior.paid_cents for prior in line.priors)
        allowed = self._allowed(claim, line)
        out.allowed_cents = allowed
        budget = min(prior_pr, max(0, allowed - prior_paid))
        out.paid_cents = budget
        # What this payer does not pay stays the patient's, under the primary's reasons.
        for adjustment in (a for a in line.priors[-1].adjustments if a.group == "PR"):
            covered = min(budget, adjustment.amount_cents)
            budget -= covered
            if adjustment.amount_cents - covered:
                out.adjustments.append(
                    Adjustment("PR", adjustment.carc, adjustment.amount_cents - covered))

    def _reversals(self, claim: ClaimIn) -> list[ClaimOut]:
        """A CLP02=22 for each adjudication still standing, newest first, as the payer (the
        ledger) recorded it; a correction replaces all of them."""
        outs = []
        for detail in reversed(self.book.live_adjudications(claim)):
            out = self._reversal(claim, detail)
            if out is not None:
                outs.append(out)
        return outs

    def _reversal(self, claim: ClaimIn, detail: AdjudicationDetail) -> ClaimOut | None:
        lines = []
        for line_id, adjudication in detail.lines.items():
            if not adjudication.paid_cents and not adjudication.adjustments:
                continue
            info = self.book.line(claim, line_id)
            if info is None:
                return None
            adjustments = [Adjustment(a.group, a.carc, -a.amount_cents)
                           for a in adjudication.adjustments]
            gap = info["charge_cents"] - adjudication.accounted_cents
            if gap:
                adjustments.append(Adjustment("OA", "23", -gap))
            lines.append(LineOut(
                info["code"], list(info["modifiers"]), -info["charge_cents"],
                -adjudication.paid_cents, "", info["service_date"], line_id, adjustments))
        if not lines:
            return None
        return ClaimOut(claim, "22", detail.payer_claim_control_number, lines,
                        [Adjustment(a.group, a.carc, -a.amount_cents)
                         for _, a in detail.claim_adjustments])


# -- the 835 --------------------------------------------------------------------------------
def _cas(w: SegmentWriter, adjustments: list[Adjustment]) -> None:
    by_group: dict[str, list[Adjustment]] = {}
    for a in adjustments:
        if a.amount_cents:
            by_group.setdefault(a.group, []).append(a)
    for group, items in by_group.items():
        for start in range(0, len(items), 6):
            elements = [group]
            for a in items[start:start + 6]:
                elements += [a.carc, amount(a.amount_cents), ""]
            w.add("CAS", *elements)


def _payer_trn03(payer_id: str) -> str:
    return "1" + str(int(_digest("payer", payer_id), 16) % 10**9).zfill(9)


def _transaction(control: str, payer_id: str, claims: list[ClaimOut], *, book: PayerBook,
                 paid_on: date, trace: str) -> list[str]:
    first = claims[0].claim
    w = SegmentWriter()
    w.add("ST", "835", control)
    total = sum(c.paid_cents for c in claims)
    if total > 0:
        w.add("BPR", "I", amount(total), "C", "CHK", *[""] * 11, d8(paid_on))
    else:
        w.add("BPR", "H", "0", "C", "NON", *[""] * 11, d8(paid_on))
    w.add("TRN", "1", trace, _payer_trn03(payer_id))
    w.add("DTM", "405", d8(paid_on))
    w.add("N1", "PR", text(first.payer_name, 60) or payer_id)
    address = book.payer_address(payer_id)
    w.add("N3", text(address.get("line1"), 55) or "1 SANDBOX WAY")
    w.add("N4", text(address.get("city"), 30) or "SANDBOX", text(address.get("state"), 2)
          or "CT", "".join(ch for ch in address.get("zip", "") if ch.isdigit()) or "06101")
    w.add("PER", "BL", "CLAIMDESK PAYER SANDBOX", "EM", "sandbox@claimdesk.invalid")
    w.add("N1", "PE", text(first.billing_name, 60) or first.billing_npi, "XX",
          identifier(first.billing_npi, "billing NPI"))
    w.add("LX", "1")
    for out in claims:
        claim = out.claim
        filing = claim.filing_indicator if claim.filing_indicator in CLP06_CODES else "12"
        pr = out.patient_responsibility_cents
        w.add("CLP", identifier(claim.claim_id, "claim id"), out.status,
              amount(out.charge_cents), amount(out.paid_cents), amount(pr) if pr else "",
              filing, identifier(out.payer_claim_control_number, "claim control number"),
              claim.place_of_service or "11", claim.frequency if out.status != "22" else "1")
        _cas(w, out.claim_adjustments)
        last, first_name, member = claim.subscriber
        if claim.patient is None:
            w.add("NM1", "QC", "1", text(last, 60), text(first_name, 35), "", "", "", "MI",
                  identifier(member, "member id"))
        else:
            w.add("NM1", "QC", "1", text(claim.patient[0], 60), text(claim.patient[1], 35))
            w.add("NM1", "IL", "1", text(last, 60), text(first_name, 35), "", "", "", "MI",
                  identifier(member, "member id"))
        for line in out.lines:
            procedure = ["HC", line.code, *line.modifiers]
            w.add("SVC", procedure, amount(line.charge_cents), amount(line.paid_cents), "",
                  line.units)
            w.add("DTM", "472", d8(line.service_date))
            _cas(w, line.adjustments)
            if line.line_ref:
                w.add("REF", "6R", identifier(line.line_ref, "line id"))
            if line.allowed_cents is not None and out.status != "22":
                w.add("AMT", "B6", amount(line.allowed_cents))
            for rarc in line.rarcs:
                w.add("LQ", "HE", rarc)
    if total < 0:
        # The payer takes back more than it pays: the debt is carried to a later 835.
        w.add("PLB", identifier(first.billing_npi, "billing NPI"),
              f"{paid_on.year}1231", ("WO", trace[:30]), amount(total))
    return close_transaction(w, control)


def write_835(submission: Submission, claims: list[ClaimOut], *, book: PayerBook,
              paid_on: date | None = None, seed: int = 0) -> str:
    """One interchange: an ST per (payer, billing provider), each balanced on its own."""
    paid_on = paid_on or submission.created_on
    groups: dict[tuple[str, str], list[ClaimOut]] = {}
    for out in claims:
        groups.setdefault((out.claim.payer_id, out.claim.billing_npi), []).append(out)
    control = int(submission.interchange_control) if submission.interchange_control.isdigit() \
        else int(_digest(submission.interchange_control), 16) % 10**9 or 1
    transactions = []
    for number, ((payer_id, _npi), outs) in enumerate(groups.items(), start=1):
        trace = f"SBX{control:09d}{number:03d}S{seed}"
        transactions.append(_transaction(f"{number:04d}", payer_id, outs, book=book,
                                         paid_on=paid_on, trace=trace))
    first_payer = claims[0].claim.payer_id if claims else "SANDBOX"
    created = submission.created_on
    return envelope(
        sender=Party(first_payer[:15], ""), receiver=Party(submission.sender_id[:15] or "CLAIMDESK",
                                                           ""),
        interchange_control=control, group_control=control,
        created_at=_midday(created), functional_code="HP", version=VERSION_835,
        transactions=transactions, usage="T")


def _midday(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, 0, tzinfo=UTC)


def adjudicate_file(data: str, book: PayerBook, *, denial_rate: float = 0.0, seed: int = 0,
                    paid_on: date | None = None, name: str = "<837>") -> tuple[str,
                                                                                 list[ClaimOut]]:
    """Read an 837P, adjudicate it, and return the 835 text with what was decided."""
    submission = read_837(data, name)
    claims = Adjudicator(book, denial_rate=denial_rate, seed=seed).adjudicate(submission)
    if not claims:
        raise SandboxError(f"{name}: nothing to adjudicate (voids of claims never paid?)")
    return write_835(submission, claims, book=book, paid_on=paid_on, seed=seed), claims
