"""A practice at scale, built through the aggregates' own commands and saved in big batches.

Nothing here writes events by hand: every fact comes from a command method of an aggregate
(`PatientAccount`, `Encounter.enter_charge`, `Claim.submit`, ...) run as a named user inside
`domain.identity.acting_as`, and payer adjudications go through the ledger's own posting
logic (`ClaimCommands._post_remittance` on a cache of loaded aggregates), so money moves by
exactly the rules an imported 835 follows. What differs from clicking through the app is only
how the events reach the store: about a thousand aggregates per `ledger._save(...)`, one
transaction each, which is the ledger's batched append path.

The mix, per household (a guarantor and sometimes one or two dependants): 85% insured
(three payers, some with a secondary), one to three visits of one to three lines each; a
visit's claim is unbilled, ready, submitted and waiting (the pool the generated 835 pays), or
adjudicated: paid at the contract's fee schedule with CO-45 written off, copay, coinsurance or
deductible transferred to the next payer or the patient, some lines and claims denied (CO-50,
CO-16 to the denial queue; CO-97 written off), and patients paying part or all of what they
owe. Self-pay visits are billed to the patient. One "whale" account gets hundreds of visits,
so the account screen can be timed on an account with about 10,000 events.

Deterministic for a seed: the same seed gives the same accounts, claims and amounts (only the
recorded timestamps differ).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from domain.application import BillingLedger
from domain.base import BillingAggregate
from domain.claim import Claim
from domain.encounter import Encounter
from domain.identity import acting_as
from domain.ledger import PATIENT
from domain.patient_account import ORDER_LETTERS, PatientAccount
from domain.practice import Contract, Provider
from domain.remittance import CasAdjustment, ClaimRemit, ServiceRemit
from domain.scrubber import ScrubContext, scrub

# The generated calendar ends here; "today" for the keypress figure is later than any DOS.
END = date(2026, 6, 30)
PRACTICE_START = date(2020, 1, 1)

BILLING_NPI = "1234567893"
PRACTICE_ADDRESS = {"line1": "1200 PRAIRIE AVE", "line2": "", "city": "SPRINGFIELD",
                    "state": "IL", "zip": "627041234"}
RENDERING_NPIS = ("1558598797", "1497758544", "1023011178", "1245319599")
TIN = "123456789"

# payer id, name, plan id, plan name, filing indicator, fee schedule as a share of our price
PAYERS = (
    ("12345", "ACME HEALTH PLAN", "ACMEPPO", "Acme PPO", "CI", 70),
    ("67890", "BETA MUTUAL", "BETAHMO", "Beta HMO", "HM", 65),
    ("00430", "CENTRAL MEDICARE", "MCRB", "Medicare Part B", "MB", 55),
)
PAYER_WEIGHTS = (55, 27, 18)

# code -> (price per unit in cents, description)
PRICES: dict[str, tuple[int, str]] = {
    "99203": (17_000, "Office visit, new, low"),
    "99204": (25_000, "Office visit, new, moderate"),
    "99212": (9_000, "Office visit, established, straightforward"),
    "99213": (13_000, "Office visit, established, low"),
    "99214": (19_000, "Office visit, established, moderate"),
    "99215": (26_000, "Office visit, established, high"),
    "93000": (6_000, "Electrocardiogram with interpretation"),
    "36415": (2_500, "Routine venipuncture"),
    "85025": (3_500, "Complete blood count with differential"),
    "80053": (5_500, "Comprehensive metabolic panel"),
    "81002": (2_000, "Urinalysis, non-automated"),
    "87880": (3_000, "Strep A antigen test"),
    "71046": (12_000, "Chest X-ray, 2 views"),
    "97110": (9_500, "Therapeutic exercise, 15 min"),
    "96372": (4_000, "Injection, subcutaneous or intramuscular"),
    "J1100": (1_000, "Dexamethasone sodium phosphate, 1 mg"),
}
VISITS = ("99213", "99213", "99214", "99214", "99212", "99215", "99203", "99204")
ANCILLARIES = ("93000", "36415", "85025", "80053", "81002", "87880", "71046", "97110", "96372")
NEEDS_25 = frozenset({"93000", "96372", "97110"})    # a procedure billed with the visit
DIAGNOSES = ("I10", "E11.9", "J06.9", "M54.50", "R07.89", "Z00.00", "E78.5", "K21.9",
             "J45.909", "F41.1", "M25.561", "N39.0", "R51.9", "L30.9", "H10.9")

LAST = ("SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "GARCIA", "MILLER", "DAVIS",
        "RODRIGUEZ", "MARTINEZ", "HERNANDEZ", "LOPEZ", "GONZALEZ", "WILSON", "ANDERSON",
        "THOMAS", "TAYLOR", "MOORE", "JACKSON", "MARTIN", "LEE", "PEREZ", "THOMPSON", "WHITE",
        "HARRIS", "SANCHEZ", "CLARK", "RAMIREZ", "LEWIS", "ROBINSON", "WALKER", "YOUNG")
FIRST_F = ("MARY", "PATRICIA", "JENNIFER", "LINDA", "ELIZABETH", "BARBARA", "SUSAN", "JESSICA",
           "SARAH", "KAREN", "LISA", "NANCY", "BETTY", "SANDRA", "ASHLEY", "EMILY")
FIRST_M = ("JAMES", "ROBERT", "JOHN", "MICHAEL", "DAVID", "WILLIAM", "RICHARD", "JOSEPH",
           "THOMAS", "CHARLES", "DANIEL", "MATTHEW", "ANTHONY", "MARK", "PAUL", "STEVEN")
STREETS = ("OAK AVE", "MAPLE ST", "ELM ST", "PINE RD", "CEDAR LN", "WASHINGTON BLVD",
           "LAKE DR", "HILL ST", "PARK AVE", "MAIN ST")
CITIES = (("SPRINGFIELD", "IL", "62704"), ("PEORIA", "IL", "61602"),
          ("DECATUR", "IL", "62521"), ("CHAMPAIGN", "IL", "61820"), ("URBANA", "IL", "61801"))

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"   # domain.ids': no I, O, 0 or 1


# progress(generated so far, first position of the save, events in it)
Progress = Callable[["Generated", int, int], None]


def _code(number: int, width: int) -> str:
    out = []
    for _ in range(width):
        number, digit = divmod(number, len(_ALPHABET))
        out.append(_ALPHABET[digit])
    return "".join(reversed(out))


@dataclass(frozen=True)
class PendingClaim:
    """A submitted claim the payer has not answered, with the answer the 835 will carry."""

    claim_id: str
    payer_id: str
    patient_last: str
    patient_first: str
    member_id: str
    remit: ClaimRemit     # source "", paid_on END; the 835 writer fills in its own


@dataclass
class Generated:
    """What `generate` built, and how long building and saving took."""

    events: int = 0
    aggregates: int = 0
    households: int = 0
    patients: int = 0
    encounters: int = 0
    claims: int = 0
    adjudicated: int = 0
    denied_claims: int = 0
    patient_payments: int = 0
    saves: int = 0
    build_seconds: float = 0.0     # running the commands: events built in memory
    save_seconds: float = 0.0      # ledger._save(*batch): encode + append in one transaction
    batch_events: list[int] = field(default_factory=list)   # events per save, in order
    pending: list[PendingClaim] = field(default_factory=list)
    payers: dict[str, str] = field(default_factory=dict)
    whales: dict[str, int] = field(default_factory=dict)   # account no -> events of its history
    stopped: str = ""      # why generation stopped short of the patients asked for
    payment_accounts: list[str] = field(default_factory=list)

    @property
    def append_rate(self) -> float:
        return self.events / self.save_seconds if self.save_seconds else 0.0


def set_up_practice(ledger: BillingLedger) -> None:
    """The reference data, through the ledger's commands: providers, payers, contracts, prices."""
    ledger.enroll_provider(BILLING_NPI, "PRAIRIE FAMILY MEDICINE", TIN, "207Q00000X",
                           is_billing=True, is_person=False, address=PRACTICE_ADDRESS)
    for n, npi in enumerate(RENDERING_NPIS):
        ledger.enroll_provider(npi, f"{LAST[n]}, {FIRST_M[n]}", TIN, "207R00000X",
                               address=PRACTICE_ADDRESS)
    ledger.set_prices([(code, cents, text) for code, (cents, text) in PRICES.items()],
                      PRACTICE_START)
    for payer_id, name, plan_id, plan_name, filing, share in PAYERS:
        ledger.register_payer(payer_id, name, filing_indicator=filing, address={
            "line1": f"PO BOX {payer_id}", "line2": "", "city": "HARTFORD", "state": "CT",
            "zip": "06101"})
        ledger.add_plan(payer_id, plan_id, plan_name)
        ledger.sign_contract(
            f"K{payer_id}", payer_id, [plan_id], BILLING_NPI, PRACTICE_START,
            fees=[(code, "", cents * share // 100) for code, (cents, _) in PRICES.items()])


class _Builder:
    """One generation run: the random source, the open batch, the counters."""

    def __init__(self, ledger: BillingLedger, seed: int, batch_size: int,
                 progress: Progress | None,
                 ready_payer: str | None = None) -> None:
        self.ledger = ledger
        self.ready_payer = ready_payer
        self.rng = random.Random(seed)
        self.batch_size = batch_size
        self.progress = progress
        self.out = Generated(payers={p[0]: p[1] for p in PAYERS})
        self.batch: dict[UUID, BillingAggregate] = {}
        self.billing = ledger._get(Provider, BILLING_NPI)
        self.contracts = {p[0]: ledger._get(Contract, f"K{p[0]}") for p in PAYERS}
        self.seq = {"account": 0, "encounter": 0, "claim": 0}
        self.hook_seconds = 0.0   # in `progress`: not the generator's own time

    # -- ids --------------------------------------------------------------------------------
    def next_id(self, kind: str) -> str:
        self.seq[kind] += 1
        n = self.seq[kind]
        if kind == "account":
            return f"A{10_000_000 + n}"
        if kind == "encounter":
            return f"V{_code(n * 7919, 9)}"
        return f"C{_code(n * 104_729, 10)}"

    # -- saving -----------------------------------------------------------------------------
    def keep(self, *aggregates: BillingAggregate) -> None:
        for aggregate in aggregates:
            self.batch[aggregate.id] = aggregate

    def flush(self, force: bool = False) -> None:
        if not self.batch or (len(self.batch) < self.batch_size and not force):
            return
        aggregates = list(self.batch.values())
        events = sum(len(a.pending_events) for a in aggregates)
        started = time.perf_counter()
        self.ledger._save(*aggregates)
        self.out.save_seconds += time.perf_counter() - started
        self.out.events += events
        self.out.aggregates += len(aggregates)
        self.out.saves += 1
        self.out.batch_events.append(events)
        self.batch = {}
        if self.progress is not None:
            started = time.perf_counter()
            # A single writer: the batch's events are the last `events` in the store.
            end = int(self.ledger.recorder.max_notification_id() or 0)
            self.progress(self.out, end - events + 1, events)
            self.hook_seconds += time.perf_counter() - started

    # -- people -----------------------------------------------------------------------------
    def person(self, account_no: str, *, child: bool) -> PatientAccount:
        rng = self.rng
        sex = rng.choice("FM")
        first = rng.choice(FIRST_F if sex == "F" else FIRST_M)
        if child:
            born = date(2008, 1, 1) + timedelta(days=rng.randrange(12 * 365))
        else:
            born = date(1940, 1, 1) + timedelta(days=rng.randrange(62 * 365))
        city, state, zip_code = rng.choice(CITIES)
        address = {"line1": f"{rng.randrange(100, 9999)} {rng.choice(STREETS)}", "line2": "",
                   "city": city, "state": state, "zip": zip_code}
        self.out.patients += 1
        return PatientAccount(
            account_no=account_no, last_name=rng.choice(LAST), first_name=first,
            middle_name="", birth_date=born, sex=sex, address=address,
            phone=f"217555{rng.randrange(10_000):04d}", reason_for_visit="",
            registered_on=PRACTICE_START + timedelta(days=rng.randrange(365 * 5)))

    @staticmethod
    def subscriber_of(account: PatientAccount) -> dict[str, Any]:
        return {"last_name": account.last_name, "first_name": account.first_name,
                "birth_date": account.birth_date.isoformat(), "sex": account.sex,
                "address": account.address}

    def household(self, whale_visits: int = 0) -> None:
        rng = self.rng
        self.out.households += 1
        with acting_as("registrar"):
            guarantor = self.person(self.next_id("account"), child=False)
            members = [guarantor]
            if not whale_visits and rng.random() < 0.2:
                for _ in range(rng.choice((1, 1, 2))):
                    dependent = self.person(self.next_id("account"), child=True)
                    dependent.set_guarantor(guarantor.account_no, "19")
                    guarantor.link_dependent(dependent.account_no)
                    members.append(dependent)
            payers: list[str] = []
            if whale_visits or rng.random() < 0.85:
                payers.append(rng.choices([p[0] for p in PAYERS], PAYER_WEIGHTS)[0])
                if not whale_visits and rng.random() < 0.15:
                    payers.append("67890" if payers[0] != "67890" else "12345")
            for member in members:
                for position, payer_id in enumerate(payers, start=1):
                    plan = next(p for p in PAYERS if p[0] == payer_id)
                    is_self = member is guarantor
                    member.add_policy(
                        payer_id=payer_id, plan_id=plan[2],
                        member_id=f"W{guarantor.account_no[1:]}{position}",
                        group_number=f"GRP{rng.randrange(10_000, 99_999)}",
                        subscriber=self.subscriber_of(guarantor),
                        relationship="18" if is_self else "19",
                        effective_on=PRACTICE_START, terminates_on=None,
                        filing_indicator=plan[4])
        self.keep(*members)
        owes = False
        for member in members:
            visits = whale_visits or rng.choice((1, 1, 1, 1, 1, 1, 1, 1, 2, 3))
            for _ in range(visits):
                owes = self.visit(member) or owes
        if owes and not whale_visits and len(self.out.payment_accounts) < 5000:
            self.out.payment_accounts.append(guarantor.account_no)
        self.flush()

    # -- visits -----------------------------------------------------------------------------
    def visit(self, account: PatientAccount) -> bool:
        """One encounter and whatever happened to it; True when the patient still owes."""
        rng = self.rng
        policies = account.active_policies(END)
        fate = "self-pay"
        if policies:
            roll = rng.random()
            fate = ("unbilled" if roll < 0.06 else "ready" if roll < 0.09
                    else "pending" if roll < 0.31 else "adjudicated")
        back = {"unbilled": (0, 10), "ready": (2, 25), "pending": (5, 40)}.get(fate, (50, 420))
        service_date = END - timedelta(days=rng.randint(*back))
        diagnoses = rng.sample(DIAGNOSES, rng.choice((1, 1, 2, 2, 3)))
        coverage = [{"policy_id": p["policy_id"], "payer_id": p["payer_id"],
                     "plan_id": p["plan_id"], "member_id": p["member_id"],
                     "order": ORDER_LETTERS[i]} for i, p in enumerate(policies)]
        with acting_as("registrar"):
            encounter = Encounter(
                encounter_id=self.next_id("encounter"), account_no=account.account_no,
                guarantor_account_no=account.guarantor_account_no, service_date=service_date,
                place_of_service="11", billing_npi=BILLING_NPI,
                rendering_npi=rng.choice(RENDERING_NPIS), referring_npi="",
                prior_authorization="", diagnoses=diagnoses, coverage=coverage,
                self_pay=not coverage)
            account.record_visit(encounter.encounter_id, service_date)
        self.out.encounters += 1
        self.keep(encounter, account)
        codes = [rng.choice(VISITS), *rng.sample(ANCILLARIES, rng.choice((0, 0, 1, 1, 2)))]
        with acting_as("coder"):
            for code in codes:
                modifiers = ["25"] if code in VISITS and NEEDS_25 & set(codes) else []
                price, text = PRICES[code]
                units = 1000
                if code == "96372" and rng.random() < 0.7:
                    encounter.enter_charge(
                        code="J1100", modifiers=[], units_milli=rng.choice((4, 8, 10)) * 1000,
                        pointers=[1], unit_price_cents=PRICES["J1100"][0],
                        description=PRICES["J1100"][1], posted_on=service_date)
                encounter.enter_charge(
                    code=code, modifiers=modifiers, units_milli=units,
                    pointers=list(range(1, min(len(diagnoses), 2) + 1)), unit_price_cents=price,
                    description=text, posted_on=service_date)
        if fate == "self-pay":
            return self.patient_pays(encounter, service_date + timedelta(days=rng.randint(0, 60)),
                                     chance=0.5)
        if fate == "unbilled":
            return False
        claim = self.claim(account, encounter, service_date)
        if claim is None or fate == "ready":
            return False
        if fate == "pending" and claim.payer_id == self.ready_payer:
            # Left ready: the 835 benchmark sends these through the real 837 batch first.
            self.out.pending.append(self.pending_claim(account, claim, encounter))
            return False
        with acting_as("biller"):
            claim.submit(f"B{_code(service_date.toordinal(), 9)}",
                         service_date + timedelta(days=3), "", "")
        if fate == "pending":
            if self.ready_payer is None:
                self.out.pending.append(self.pending_claim(account, claim, encounter))
            return False
        remit = self.response(claim, encounter)
        paid_on = service_date + timedelta(days=rng.randint(14, 40))
        remit = ClaimRemit(
            claim_id=remit.claim_id, status_code=remit.status_code,
            charge_cents=remit.charge_cents, paid_cents=remit.paid_cents,
            patient_responsibility_cents=remit.patient_responsibility_cents,
            payer_claim_control_number=remit.payer_claim_control_number, paid_on=paid_on,
            source=f"era:bench:{claim.claim_id}:CLP1", services=remit.services)
        loaded: dict[UUID, BillingAggregate] = {claim.id: claim, encounter.id: encounter}
        with acting_as("era-poster"):
            # The ledger's own posting rules: payment, CO-45, PR transfers, denials.
            result = self.ledger._post_remittance(remit, loaded)
        self.out.adjudicated += 1
        self.out.denied_claims += result.outcome == "denied"
        return self.patient_pays(encounter, paid_on + timedelta(days=rng.randint(5, 45)),
                                 chance=0.45)

    def claim(self, account: PatientAccount, encounter: Encounter,
              service_date: date) -> Claim | None:
        coverage = encounter.coverage[0]
        line_ids = list(encounter.lines)
        claim_id = self.next_id("claim")
        created_on = service_date + timedelta(days=2)
        with acting_as("biller"):
            encounter.claim_lines(claim_id, coverage["payer_id"], line_ids)
            claim = Claim(
                claim_id=claim_id, encounter_id=encounter.encounter_id,
                account_no=account.account_no, payer_id=coverage["payer_id"],
                plan_id=coverage["plan_id"], policy_id=coverage["policy_id"],
                coverage_order=coverage["order"], line_ids=line_ids,
                charge_cents=sum(encounter.lines[i]["charge_cents"] for i in line_ids),
                billing_npi=BILLING_NPI, service_date=service_date, created_on=created_on)
            problems = scrub(ScrubContext(claim, encounter, account, self.billing,
                                          self.contracts[claim.payer_id], created_on, True))
            claim.record_scrub(problems, created_on)
        self.out.claims += 1
        self.keep(claim)
        return None if problems else claim

    def pending_claim(self, account: PatientAccount, claim: Claim,
                      encounter: Encounter) -> PendingClaim:
        policy = account.policies[claim.policy_id]
        return PendingClaim(claim.claim_id, claim.payer_id, account.last_name,
                            account.first_name, policy["member_id"],
                            self.response(claim, encounter))

    def response(self, claim: Claim, encounter: Encounter) -> ClaimRemit:
        """What the payer pays: the fee schedule, CO-45 above it, the patient's share as PR."""
        rng = self.rng
        contract = self.contracts[claim.payer_id]
        deny_claim = rng.random() < 0.03
        copay = rng.choice((0, 0, 2000, 2500, 3000, 4000))
        deductible = rng.random() < 0.1
        services = []
        for index, line_id in enumerate(claim.line_ids, start=1):
            line = encounter.lines[line_id]
            charge = line["charge_cents"]
            per_unit = contract.allowed_per_unit(line["code"], line["modifiers"],
                                                 claim.service_date) or 0
            allowed = min(charge, per_unit * line["units_milli"] // 1000)
            adjustments: list[CasAdjustment] = []
            paid = 0
            roll = rng.random()
            if deny_claim:
                adjustments.append(CasAdjustment("CO", "50", charge))
            elif index > 1 and roll < 0.04:
                adjustments.append(CasAdjustment("CO", "97", charge))      # bundled: written off
            elif index > 1 and roll < 0.07:
                adjustments.append(CasAdjustment("CO", "16", charge))      # fix and resend
            else:
                if charge > allowed:
                    adjustments.append(CasAdjustment("CO", "45", charge - allowed))
                patient = 0
                if index == 1 and deductible:
                    patient = allowed
                    adjustments.append(CasAdjustment("PR", "1", patient))
                elif index == 1 and copay:
                    patient = min(copay, allowed)
                    adjustments.append(CasAdjustment("PR", "3", patient))
                elif not copay:
                    patient = allowed // 5
                    if patient:
                        adjustments.append(CasAdjustment("PR", "2", patient))
                paid = allowed - patient
            services.append(ServiceRemit(
                code=line["code"], modifiers=tuple(line["modifiers"]), charge_cents=charge,
                paid_cents=paid, adjustments=tuple(adjustments), line_ref=line_id,
                service_date=line["service_date"], units=_units(line["units_milli"]),
                index=index))
        paid_total = sum(s.paid_cents for s in services)
        return ClaimRemit(
            claim_id=claim.claim_id, status_code="4" if paid_total == 0 else "1",
            charge_cents=claim.charge_cents, paid_cents=paid_total,
            patient_responsibility_cents=sum(a.amount_cents for s in services
                                             for a in s.adjustments if a.group == "PR"),
            payer_claim_control_number=f"{claim.payer_id[:2]}{_code(self.out.claims, 12)}",
            paid_on=END, source="", services=tuple(services))

    def patient_pays(self, encounter: Encounter, paid_on: date, chance: float) -> bool:
        """The patient pays some or all of what they owe, oldest line first."""
        rng = self.rng
        owed = sum(max(encounter.party_balance(i, PATIENT), 0) for i in encounter.lines)
        if owed <= 0:
            return False
        if rng.random() >= chance:
            return True
        amount = owed if rng.random() < 0.7 else max(100, owed // 2 // 100 * 100)
        method = rng.choice(("card", "card", "check", "cash"))
        with acting_as("front-desk"):
            for line_id in encounter.lines:
                share = min(max(encounter.party_balance(line_id, PATIENT), 0), amount)
                if share <= 0:
                    continue
                encounter.post_payment(line_id=line_id, party=PATIENT, amount_cents=share,
                                       effective_on=paid_on, method=method, reference="",
                                       source="user")
                amount -= share
        self.out.patient_payments += 1
        return any(encounter.party_balance(i, PATIENT) > 0 for i in encounter.lines)


def _units(milli: int) -> str:
    whole, fraction = divmod(milli, 1000)
    return f"{whole}.{fraction:03d}".rstrip("0").rstrip(".") if fraction else str(whole)


def generate(
    ledger: BillingLedger, patients: int, *, seed: int = 8, whales: tuple[int, ...] = (),
    batch_size: int = 1000, progress: Progress | None = None,
    ready_payer: str | None = None, max_seconds: float | None = None,
) -> Generated:
    """Fill an empty ledger with about `patients` patients (households until reached).

    Each number in `whales` first adds one account with that many visits (about 14 events
    each): the accounts the account-screen figures read (`Generated.whales`).
    `progress(generated, first, count)` is called after every save with the positions of
    the events it appended. With `ready_payer`, that payer's claims that would be waiting
    for an answer are left ready to send instead (`Generated.pending`), for a real 837
    batch to submit. Past `max_seconds` no new household is started (`Generated.stopped`).
    """
    with acting_as("admin"):
        set_up_practice(ledger)
    builder = _Builder(ledger, seed, batch_size, progress, ready_payer)
    started = time.perf_counter()
    for visits in whales:
        before = builder.out.events
        builder.household(whale_visits=visits)
        builder.flush(force=True)
        builder.out.whales[f"A{10_000_000 + builder.seq['account']}"] = (
            builder.out.events - before)
    while builder.out.patients < patients:
        if max_seconds is not None and time.perf_counter() - started > max_seconds:
            builder.out.stopped = (f"stopped after {max_seconds:.0f}s at "
                                   f"{builder.out.patients:,} of {patients:,} patients")
            break
        builder.household()
    builder.flush(force=True)
    out = builder.out
    out.build_seconds = (time.perf_counter() - started - out.save_seconds
                         - builder.hook_seconds)
    return out
