"""Readable builders for ledger tests: a tiny practice, patients, visits, claims and remittances.

Everything goes through `BillingLedger` commands, so the events the builders leave behind
are shaped exactly like real ones (STYLE.md §7). Defaults follow DOMAIN.md §4's worked
example: a 99214-25 at $150 and a 93000 at $50 on 2025-01-10, billed to payer 12345.

    practice = set_up_practice(ledger)
    account = register_patient(ledger, practice)                  # primary coverage only
    visit = open_visit(ledger, account)                           # two lines, 150 + 50
    claim_id = submitted_claim(ledger, visit.encounter_id)
    ledger.post_remittance(remit(claim_id,
        svc("99214", 15_000, 8_000, cas("CO-45", 5_000), cas("PR-2", 2_000), modifiers=("25",)),
        svc("93000", 5_000, 0, cas("CO-45", 2_000), cas("PR-1", 3_000))))

All amounts are integer cents. No real patient data: names and ids are invented.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from domain.application import BillingLedger
from domain.codes import is_valid_npi
from domain.ledger import Category, event_postings
from domain.remittance import CasAdjustment, ClaimRemit, ServiceRemit

# ---------------------------------------------------------------- the calendar of a test

TODAY = date(2025, 3, 10)          # what the `ledger` fixture freezes "today" to
SERVICE_DATE = date(2025, 1, 10)   # DOS of the worked example
SUBMITTED_ON = date(2025, 1, 15)
PAID_ON = date(2025, 2, 1)
EFFECTIVE = date(2024, 1, 1)       # contracts, prices and coverage start here

# ---------------------------------------------------------------- the tiny practice

BILLING_NPI = "1234567893"         # the CMS example NPI (valid check digit)
RENDERING_NPI = "1558598797"
TIN = "123456789"
PRIMARY = "12345"                  # ACME HEALTH PLAN, plan ACMEPPO
PRIMARY_PLAN = "ACMEPPO"
SECONDARY = "67890"                # BETA MUTUAL, plan BETASUP
SECONDARY_PLAN = "BETASUP"
CONTRACT = "K1"

# code -> (price per unit in cents, description); the chargemaster.
PRICES: dict[str, tuple[int, str]] = {
    "99213": (10_000, "Office visit, established, low"),
    "99214": (15_000, "Office visit, established, moderate"),
    "93000": (5_000, "Electrocardiogram with interpretation"),
    "36415": (2_500, "Routine venipuncture"),
    "J1100": (1_000, "Dexamethasone injection, 1 mg"),
}
# code -> allowed cents per unit on PRIMARY's contract (the fee schedule).
FEES: dict[str, int] = {"99213": 7_000, "99214": 10_000, "93000": 3_000, "36415": 1_000}

DIAGNOSES = ("I10", "R07.89")      # hypertension; other chest pain (both billable)


def valid_npi(nine_digits: str) -> str:
    """A valid NPI made from nine digits by appending its Luhn (80840) check digit."""
    for check in "0123456789":
        if is_valid_npi(nine_digits + check):
            return nine_digits + check
    raise AssertionError("every nine digits have exactly one check digit")


@dataclass(frozen=True)
class Practice:
    """The ids of what `set_up_practice` created."""

    billing_npi: str = BILLING_NPI
    rendering_npi: str = RENDERING_NPI
    primary: str = PRIMARY
    primary_plan: str = PRIMARY_PLAN
    secondary: str = SECONDARY
    secondary_plan: str = SECONDARY_PLAN
    contract_id: str = CONTRACT


def set_up_practice(ledger: BillingLedger, *, timely_filing_days: int = 365) -> Practice:
    """A group practice (billing NPI) with one physician, two payers and a chargemaster.

    PRIMARY has a contract with the fee schedule `FEES`; SECONDARY (a supplement) has none.
    """
    ledger.enroll_provider(BILLING_NPI, "ACME MEDICAL GROUP", TIN, "207Q00000X",
                           is_billing=True, is_person=False,
                           address={"line1": "100 MAIN ST", "city": "SPRINGFIELD",
                                    "state": "IL", "zip": "627011234"})
    ledger.enroll_provider(RENDERING_NPI, "WELBY MARCUS", TIN, "207R00000X")
    ledger.register_payer(PRIMARY, "ACME HEALTH PLAN")
    ledger.add_plan(PRIMARY, PRIMARY_PLAN, "Acme PPO")
    ledger.register_payer(SECONDARY, "BETA MUTUAL", filing_indicator="CI")
    ledger.add_plan(SECONDARY, SECONDARY_PLAN, "Beta supplement", product="SUPP")
    ledger.sign_contract(CONTRACT, PRIMARY, [PRIMARY_PLAN], BILLING_NPI, EFFECTIVE,
                         timely_filing_days=timely_filing_days,
                         fees=[(code, "", cents) for code, cents in FEES.items()])
    ledger.set_prices([(code, cents, text) for code, (cents, text) in PRICES.items()],
                      EFFECTIVE)
    return Practice()


def register_patient(
    ledger: BillingLedger, *, last_name: str = "DOE", first_name: str = "JOHN",
    birth_date: date = date(1980, 1, 1), sex: str = "M", coverage: Sequence[str] = (PRIMARY,),
    guarantor: str | None = None, account_no: str | None = None,
) -> str:
    """Register a patient covered, in order, by `coverage` (payer ids; () for self-pay).

    Plans are PRIMARY_PLAN / SECONDARY_PLAN; each member id is "W" + account + position.
    With `guarantor`, that account becomes the patient's guarantor (relationship 19, child)
    and every policy names the guarantor as subscriber.
    """
    account = ledger.register_patient(
        last_name, first_name, birth_date, sex, account_no=account_no,
        address={"line1": "200 OAK AVE", "city": "SPRINGFIELD", "state": "IL", "zip": "62704"})
    plans = {PRIMARY: PRIMARY_PLAN, SECONDARY: SECONDARY_PLAN}
    subscriber = None
    if guarantor is not None:
        ledger.set_guarantor(account, guarantor, "19")
        parent = ledger.account(guarantor)
        subscriber = {"last_name": parent.last_name, "first_name": parent.first_name,
                      "birth_date": parent.birth_date.isoformat(), "sex": parent.sex}
    for position, payer_id in enumerate(coverage, start=1):
        ledger.add_coverage(
            account, payer_id, plans[payer_id], f"W{account}{position}",
            group_number="GRP12345", effective_on=EFFECTIVE,
            relationship="18" if guarantor is None else "19", subscriber=subscriber)
    return account


Charge = str | tuple[str, Sequence[str]]   # "93000" or ("99214", ("25",))


@dataclass(frozen=True)
class Visit:
    """An encounter and its charge lines, in the order they were entered."""

    account_no: str
    encounter_id: str
    line_ids: tuple[str, ...]


def open_visit(
    ledger: BillingLedger, account_no: str, *,
    charges: Iterable[Charge] = (("99214", ("25",)), "93000"),
    service_date: date = SERVICE_DATE, diagnoses: Sequence[str] = DIAGNOSES,
    self_pay: bool = False, billing_npi: str = BILLING_NPI,
    rendering_npi: str = RENDERING_NPI,
) -> Visit:
    """Open an encounter and enter its charges (one unit, pointer 1 each), priced from the CDM."""
    encounter_id = ledger.open_encounter(
        account_no, service_date, billing_npi=billing_npi, rendering_npi=rendering_npi,
        diagnoses=list(diagnoses), self_pay=self_pay)
    line_ids = []
    for charge in charges:
        code, modifiers = (charge, ()) if isinstance(charge, str) else charge
        line_ids.append(ledger.enter_charge(encounter_id, code, modifiers=list(modifiers)))
    return Visit(account_no, encounter_id, tuple(line_ids))


def submitted_claim(
    ledger: BillingLedger, encounter_id: str, payer_id: str | None = None, *,
    submitted_on: date = SUBMITTED_ON, batch_id: str = "B1", claim_id: str | None = None,
) -> str:
    """Create, scrub and submit a claim (to the primary by default); fails if the scrub does."""
    claim_id = ledger.create_claim(encounter_id, payer_id, claim_id=claim_id)
    problems = ledger.scrub_claim(claim_id)
    assert problems == [], problems
    ledger.mark_submitted([claim_id], batch_id=batch_id, submitted_on=submitted_on)
    return claim_id


# ---------------------------------------------------------------- remittances (835 CLP loops)

def cas(group_and_carc: str, amount_cents: int) -> CasAdjustment:
    """One CAS triplet: cas("CO-45", 5_000)."""
    group, carc = group_and_carc.split("-", 1)
    return CasAdjustment(group, carc, amount_cents)


def svc(code: str, charge_cents: int, paid_cents: int, *adjustments: CasAdjustment,
        modifiers: Sequence[str] = (), line_ref: str = "", rarcs: Sequence[str] = ()
        ) -> ServiceRemit:
    """One SVC loop; it must balance, charge - sum of CAS = paid (asserted, as importers do)."""
    assert charge_cents - sum(a.amount_cents for a in adjustments) == paid_cents, (
        f"SVC {code} does not balance")
    return ServiceRemit(code, tuple(modifiers), charge_cents, paid_cents, tuple(adjustments),
                        rarcs=tuple(rarcs), line_ref=line_ref)


def remit(
    claim_id: str, *services: ServiceRemit, paid_on: date = PAID_ON, status_code: str = "1",
    icn: str = "PAYERCLM0001", source: str | None = None,
    claim_adjustments: Sequence[CasAdjustment] = (), paid_cents: int | None = None,
) -> ClaimRemit:
    """A CLP loop whose totals (CLP03/04/05) are summed from its services.

    `source` (the adjudication id) defaults to one unique per claim, CLP07 and CLP02.
    `paid_cents` overrides CLP04 for a claim-level-only remittance (no services).
    """
    charge = sum(s.charge_cents for s in services)
    paid = sum(s.paid_cents for s in services) if paid_cents is None else paid_cents
    patient = sum(a.amount_cents for s in services for a in s.adjustments if a.group == "PR")
    patient += sum(a.amount_cents for a in claim_adjustments if a.group == "PR")
    return ClaimRemit(
        claim_id=claim_id, status_code=status_code, charge_cents=charge, paid_cents=paid,
        patient_responsibility_cents=patient, payer_claim_control_number=icn, paid_on=paid_on,
        source=source or f"era:test:{claim_id}:{icn}:{status_code}",
        claim_adjustments=tuple(claim_adjustments), services=services)


def reversal_of(original: ClaimRemit, *, paid_on: date, source: str | None = None) -> ClaimRemit:
    """The CLP02=22 reversal of `original`: every amount negated, original group codes kept."""

    def negate(adjustments: Iterable[CasAdjustment]) -> tuple[CasAdjustment, ...]:
        return tuple(CasAdjustment(a.group, a.carc, -a.amount_cents) for a in adjustments)

    services = tuple(
        ServiceRemit(s.code, s.modifiers, -s.charge_cents, -s.paid_cents,
                     negate(s.adjustments), rarcs=s.rarcs, line_ref=s.line_ref)
        for s in original.services)
    icn = original.payer_claim_control_number
    return ClaimRemit(
        claim_id=original.claim_id, status_code="22", charge_cents=-original.charge_cents,
        paid_cents=-original.paid_cents,
        patient_responsibility_cents=-original.patient_responsibility_cents,
        payer_claim_control_number=icn, paid_on=paid_on,
        source=source or f"era:test:{original.claim_id}:{icn}:22",
        claim_adjustments=negate(original.claim_adjustments), services=services)


def worked_example_remit(claim_id: str, *, paid_on: date = PAID_ON) -> ClaimRemit:
    """DOMAIN.md §4's first CLP: paid 80, CO-45 50 + 20, PR-2 20, PR-1 30 (PAYERCLM0001)."""
    return remit(
        claim_id,
        svc("99214", 15_000, 8_000, cas("CO-45", 5_000), cas("PR-2", 2_000), modifiers=("25",)),
        svc("93000", 5_000, 0, cas("CO-45", 2_000), cas("PR-1", 3_000)),
        paid_on=paid_on, icn="PAYERCLM0001")


def worked_example_correction(claim_id: str, *, paid_on: date) -> ClaimRemit:
    """DOMAIN.md §4's corrected CLP after the reversal: 99214 paid 88, CO-45 40, PR-2 22."""
    return remit(
        claim_id,
        svc("99214", 15_000, 8_800, cas("CO-45", 4_000), cas("PR-2", 2_200), modifiers=("25",)),
        svc("93000", 5_000, 0, cas("CO-45", 2_000), cas("PR-1", 3_000)),
        paid_on=paid_on, icn="PAYERCLM0002")


# ---------------------------------------------------------------- reading what was recorded

def recorded_since(ledger: BillingLedger, position: int) -> list[Any]:
    """The domain events stored after notification `position` (from `ledger.events_count()`)."""
    return [ledger.mapper.to_domain_event(n)
            for n in ledger.iter_notifications(start=position + 1)]


@contextmanager
def refused(ledger: BillingLedger, error: type[BaseException],
            match: str | None = None) -> Iterator[pytest.ExceptionInfo[Any]]:
    """Expect `error` (message matching `match`) and that nothing at all was recorded."""
    before = ledger.events_count()
    with pytest.raises(error, match=match) as info:
        yield info
    assert ledger.events_count() == before, "a refused command recorded events"


def names(events: Iterable[Any]) -> list[str]:
    """Event class names, e.g. ["Encounter.PaymentPosted", ...] shortened to "PaymentPosted"."""
    return [type(e).__name__ for e in events]


@dataclass
class LineMoney:
    """A line's money as folded from its stored events (independent of the aggregate's state)."""

    charges: int = 0
    payments: int = 0
    adjustments: int = 0
    refunds: int = 0
    buckets: dict[str, int] = field(default_factory=dict)

    @property
    def balance(self) -> int:
        return self.charges - self.payments - self.adjustments + self.refunds


def fold_lines(events: Iterable[Any]) -> dict[str, LineMoney]:
    """Fold stored money events into per-line totals with `domain.ledger.event_postings`."""
    lines: dict[str, LineMoney] = {}
    for event in events:
        for posting in event_postings(event):
            line = lines.setdefault(posting.line_id, LineMoney())
            line.buckets[posting.party] = line.buckets.get(posting.party, 0) + posting.bucket_delta
            if posting.category is Category.CHARGE:
                line.charges += posting.amount_cents
            elif posting.category is Category.PAYMENT:
                line.payments += posting.amount_cents
            elif posting.category is Category.ADJUSTMENT:
                line.adjustments += posting.amount_cents
            elif posting.category is Category.REFUND:
                line.refunds += posting.amount_cents
    for line in lines.values():
        line.buckets = {party: cents for party, cents in line.buckets.items() if cents}
    return lines
