"""The 837P writer: a planned batch of ready claims as one 005010X222A1 interchange.

Layout (DOMAIN.md §5): one ISA/GS; one ST per payer (split past 5000 claims); in each, the
submitter and receiver, then per billing provider an ``HL*20``, and per claim an ``HL*22``
subscriber level with the payer, plus an ``HL*23`` patient level only when the patient is
not the subscriber. A claim carries its diagnoses without the decimal point, ``REF*F8``
with the payer's claim control number when it replaces (7) or voids (8) an adjudicated
claim, and on every line ``REF*6R`` with our line id, which the payer's 835 echoes back.

A secondary (or later) claim reports what each earlier payer did: loop 2320/2330 with that
payer's claim-level adjustments and ``AMT*D`` paid, and per line loop 2430 with ``SVD``
paid, the line's ``CAS`` and ``DTP*573``; so that ``SV102 = SVD02 + ΣCAS`` on every line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.codes import normalize_icd10
from domain.services.submission import Adjustment, BatchPlan, ClaimBundle, PriorPayer
from importers.x12.writer import (
    Party,
    SegmentWriter,
    X12WriteError,
    amount,
    close_transaction,
    d8,
    envelope,
    identifier,
    quantity,
    text,
)

VERSION = "005010X222A1"
MAX_CAS_TRIPLETS = 6


@dataclass(frozen=True)
class Submitter:
    """Loop 1000A: who sends the claims (the billing service) and whom to call about them."""

    party: Party
    contact: str = "BILLING OFFICE"
    phone: str = ""
    email: str = ""


DEFAULT_SUBMITTER = Submitter(Party("CLAIMDESK", "CLAIMDESK BILLING SERVICE"),
                              email="edi@claimdesk.invalid")
DEFAULT_RECEIVER = Party("CLEARINGHOUSE", "CLEARINGHOUSE")


def _person_name(name: str) -> tuple[str, str]:
    """A provider's "LAST, FIRST" (or "First Last") as NM103/NM104."""
    if "," in name:
        last, first = name.split(",", 1)
        return last.strip(), first.strip()
    parts = name.split()
    return (parts[-1], " ".join(parts[:-1])) if len(parts) > 1 else (name, "")


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


class _ClaimWriter:
    """Writes the loops of one claim, noting every required value that is missing."""

    def __init__(self, w: SegmentWriter, bundle: ClaimBundle) -> None:
        self.w = w
        self.b = bundle
        self.problems: list[str] = []

    def need(self, value: Any, what: str) -> bool:
        if value is None or (not value and not isinstance(value, int)):
            self.problems.append(f"{what} is missing")
            return False
        return True

    def ident(self, value: str, what: str) -> str:
        try:
            return identifier(value, what)
        except X12WriteError as error:
            self.problems.append(str(error))
            return "X"

    def address(self, address: dict[str, str], whose: str, required: bool) -> None:
        line1, city = text(address.get("line1"), 55), text(address.get("city"), 30)
        if not required and not (line1 and city):
            return
        if not (self.need(line1, f"{whose} street address")
                and self.need(city, f"{whose} city")):
            return
        self.w.add("N3", line1, text(address.get("line2"), 55))
        zip_code = "".join(ch for ch in str(address.get("zip", "")) if ch.isdigit())
        self.w.add("N4", city, text(address.get("state"), 2), zip_code)

    def demographics(self, birth: Any, sex: str, whose: str) -> None:
        born = _as_date(birth)
        if self.need(born, f"{whose} birth date") and self.need(sex, f"{whose} sex"):
            assert born is not None
            self.w.add("DMG", "D8", d8(born), sex if sex in ("F", "M") else "U")

    # -- loops 2000B .. 2010BB (and 2000C/2010CA) -----------------------------------------------
    def subscriber(self, hl: int, parent: int) -> int:
        """Returns the number of HL segments written."""
        b, w = self.b, self.w
        policy, account = b.policy, b.account
        is_self = policy["relationship"] == "18"
        w.add("HL", str(hl), str(parent), "22", "0" if is_self else "1")
        w.add("SBR", b.claim.coverage_order, "18" if is_self else "",
              self.ident(policy.get("group_number", ""), "group number"), "", "", "", "", "",
              self.ident(policy.get("filing_indicator") or b.payer.filing_indicator or "CI",
                         "claim filing indicator"))
        subscriber = policy.get("subscriber") or {}
        last = text(subscriber.get("last_name") or (account.last_name if is_self else ""), 60)
        self.need(last, "subscriber last name")
        member = self.ident(policy.get("member_id", ""), "member id")
        self.need(member, "member id")
        w.add("NM1", "IL", "1", last or "X", text(subscriber.get("first_name"), 35),
              text(subscriber.get("middle_name"), 25), "", "", "MI", member)
        if is_self:
            self.address(account.address, "patient", required=True)
            self.demographics(account.birth_date, account.sex, "patient")
        else:
            self.address(subscriber.get("address") or {}, "subscriber", required=False)
            if _as_date(subscriber.get("birth_date")) and subscriber.get("sex"):
                self.demographics(subscriber["birth_date"], subscriber["sex"], "subscriber")
        w.add("NM1", "PR", "2", text(b.payer.name, 60), "", "", "", "", "PI",
              self.ident(b.payer.payer_id, "payer id"))
        if is_self:
            return 1
        w.add("HL", str(hl + 1), str(hl), "23", "0")
        w.add("PAT", self.ident(policy["relationship"], "relationship"))
        w.add("NM1", "QC", "1", text(account.last_name, 60), text(account.first_name, 35),
              text(account.middle_name, 25))
        self.address(account.address, "patient", required=True)
        self.demographics(account.birth_date, account.sex, "patient")
        return 2

    # -- loop 2300 and below ---------------------------------------------------------------------
    def claim(self) -> None:
        b, w, claim, encounter = self.b, self.w, self.b.claim, self.b.encounter
        total = sum(line["charge_cents"] for line in b.lines)
        if total != claim.charge_cents:
            self.problems.append(f"claim total {claim.charge_cents} differs from its lines' "
                                 f"{total}")
        w.add("CLM", self.ident(claim.claim_id, "claim id"), amount(claim.charge_cents), "", "",
              (self.ident(encounter.place_of_service, "place of service"), "B",
               claim.frequency), "Y", "A", "Y", "Y")
        if encounter.prior_authorization:
            w.add("REF", "G1", self.ident(encounter.prior_authorization, "prior authorization"))
        if claim.frequency in ("7", "8"):
            icn = claim.payer_claim_control_number
            if self.need(icn, "the payer claim control number a correction (REF*F8) needs"):
                w.add("REF", "F8", self.ident(icn, "payer claim control number"))
        diagnoses = [self.ident(normalize_icd10(d), "diagnosis") for d in encounter.diagnoses]
        if self.need(diagnoses, "a diagnosis"):
            w.add("HI", *[("ABK" if i == 0 else "ABF", code)
                          for i, code in enumerate(diagnoses[:12])])
        if b.referring is not None:
            self.provider("DN", b.referring, taxonomy=False)
        if b.rendering is not None:
            self.provider("82", b.rendering, taxonomy=True)
        for prior in b.prior_payers:
            self.other_payer(prior)
        for number, line in enumerate(b.lines, start=1):
            self.service_line(number, line)

    def provider(self, entity: str, provider: Any, taxonomy: bool) -> None:
        person = bool(provider.is_person)
        last, first = _person_name(provider.name) if person else (provider.name, "")
        self.w.add("NM1", entity, "1" if person or entity == "DN" else "2", text(last, 60),
                   text(first, 35), "", "", "", "XX", self.ident(provider.npi, "NPI"))
        if taxonomy and provider.taxonomy:
            self.w.add("PRV", "PE", "PXC", self.ident(provider.taxonomy, "taxonomy"))

    def cas(self, adjustments: Iterable[Adjustment]) -> None:
        """CAS segments: one per group, up to 6 (reason, amount) triplets each, no zeros."""
        by_group: dict[str, dict[str, int]] = {}
        for a in adjustments:
            reasons = by_group.setdefault(a.group, {})
            reasons[a.carc] = reasons.get(a.carc, 0) + a.amount_cents
        for group, reasons in by_group.items():
            triplets = [(carc, cents) for carc, cents in reasons.items() if cents]
            for start in range(0, len(triplets), MAX_CAS_TRIPLETS):
                elements: list[str] = [group]
                for carc, cents in triplets[start:start + MAX_CAS_TRIPLETS]:
                    elements += [self.ident(carc, "adjustment reason"), amount(cents), ""]
                self.w.add("CAS", *elements)

    def other_payer(self, prior: PriorPayer) -> None:
        w, detail, policy = self.w, prior.adjudication, prior.policy
        w.add("SBR", prior.order, self.ident(policy["relationship"], "relationship"),
              self.ident(policy.get("group_number", ""), "group number"), "", "", "", "", "",
              self.ident(policy.get("filing_indicator") or prior.payer.filing_indicator or "CI",
                         "claim filing indicator"))
        self.cas(a for _, a in detail.claim_adjustments)
        w.add("AMT", "D", amount(detail.paid_cents))
        liability = detail.patient_responsibility_cents()
        if liability:
            w.add("AMT", "EAF", amount(liability))
        w.add("OI", "", "", "Y", "", "", "Y")
        subscriber = policy.get("subscriber") or {}
        w.add("NM1", "IL", "1", text(subscriber.get("last_name"), 60) or "X",
              text(subscriber.get("first_name"), 35), "", "", "", "MI",
              self.ident(policy.get("member_id", ""), "member id"))
        w.add("NM1", "PR", "2", text(prior.payer.name, 60), "", "", "", "", "PI",
              self.ident(prior.payer.payer_id, "payer id"))

    def service_line(self, number: int, line: dict[str, Any]) -> None:
        w, encounter = self.w, self.b.encounter
        procedure = ["HC", self.ident(line["code"], "procedure code")] + [
            self.ident(m, "modifier") for m in line["modifiers"]]
        pos = line.get("place_of_service") or ""
        w.add("LX", str(number))
        w.add("SV1", procedure, amount(line["charge_cents"]), "UN",
              quantity(line["units_milli"]),
              self.ident(pos, "place of service") if pos != encounter.place_of_service else "",
              "", [str(p) for p in line["pointers"]])
        w.add("DTP", "472", "D8", d8(line["service_date"]))
        w.add("REF", "6R", self.ident(line["line_id"], "line id"))
        for prior in self.b.prior_payers:
            adjudication = prior.adjudication.lines[line["line_id"]]
            w.add("SVD", self.ident(prior.payer.payer_id, "payer id"),
                  amount(adjudication.paid_cents), procedure, "",
                  quantity(line["units_milli"]))
            self.cas(adjudication.adjustments)
            w.add("DTP", "573", "D8", d8(prior.adjudication.paid_on))


def preflight(bundle: ClaimBundle) -> list[str]:
    """What would make this claim's 837P invalid: missing required data, unwritable values."""
    problems = []
    try:
        _billing_provider(SegmentWriter(), 1, bundle)
    except X12WriteError as error:
        problems.append(str(error))
    writer = _ClaimWriter(SegmentWriter(), bundle)
    writer.subscriber(2, 1)
    writer.claim()
    return problems + writer.problems


def _billing_provider(w: SegmentWriter, hl: int, bundle: ClaimBundle) -> None:
    billing = bundle.billing
    checker = _ClaimWriter(w, bundle)
    w.add("HL", str(hl), "", "20", "1")
    if billing.taxonomy:
        w.add("PRV", "BI", "PXC", checker.ident(billing.taxonomy, "taxonomy"))
    if billing.is_person:
        last, first = _person_name(billing.name)
        w.add("NM1", "85", "1", text(last, 60), text(first, 35), "", "", "", "XX",
              checker.ident(billing.npi, "billing NPI"))
    else:
        w.add("NM1", "85", "2", text(billing.name, 60), "", "", "", "", "XX",
              checker.ident(billing.npi, "billing NPI"))
    checker.address(billing.address, f"billing provider {billing.npi}", required=True)
    w.add("REF", "EI", checker.ident(billing.tin, "billing TIN"))
    if checker.problems:
        raise X12WriteError("; ".join(checker.problems))


def transaction_set(plan: BatchPlan, index: int, submitter: Submitter,
                    receiver: Party) -> list[str]:
    """One ST..SE: the claims of one payer."""
    transaction = plan.transactions[index]
    created = plan.created_at
    w = SegmentWriter()
    w.add("ST", "837", transaction.control, VERSION)
    w.add("BHT", "0019", "00", f"{plan.batch_id}{transaction.control}", created.strftime("%Y%m%d"),
          created.strftime("%H%M"), "CH")
    w.add("NM1", "41", "2", text(submitter.party.name, 60), "", "", "", "", "46",
          submitter.party.id)
    if submitter.phone:
        w.add("PER", "IC", text(submitter.contact, 60), "TE", identifier(submitter.phone, "phone"))
    else:
        w.add("PER", "IC", text(submitter.contact, 60), "EM", identifier(submitter.email, "email"))
    w.add("NM1", "40", "2", text(receiver.name, 60), "", "", "", "", "46", receiver.id)
    hl = 0
    billing_hl = 0
    current_npi = None
    for bundle in transaction.claims:
        if bundle.billing.npi != current_npi:
            hl += 1
            billing_hl, current_npi = hl, bundle.billing.npi
            _billing_provider(w, hl, bundle)
        claim_writer = _ClaimWriter(w, bundle)
        hl += claim_writer.subscriber(hl + 1, billing_hl)
        claim_writer.claim()
        if claim_writer.problems:
            raise X12WriteError(f"claim {bundle.claim.claim_id}: "
                                + "; ".join(claim_writer.problems))
    return close_transaction(w, transaction.control)


def write_837(plan: BatchPlan, *, submitter: Submitter = DEFAULT_SUBMITTER,
              receiver: Party = DEFAULT_RECEIVER, usage: str = "P") -> str:
    """The batch as X12 text. Raises X12WriteError for a claim `preflight` would have held."""
    if not plan.transactions:
        raise X12WriteError("the batch has no claims")
    return envelope(
        sender=submitter.party, receiver=receiver,
        interchange_control=plan.interchange_control, group_control=plan.interchange_control,
        created_at=plan.created_at, functional_code="HC", version=VERSION,
        transactions=[transaction_set(plan, i, submitter, receiver)
                      for i in range(len(plan.transactions))], usage=usage)
