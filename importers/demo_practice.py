"""A realistic demo practice, simulated day by day through BillingLedger's public commands.

`build_demo` plays a year of a small primary-care practice: reference data on the first day,
then every visit, claim, 277CA acknowledgement, 835 posting, statement, patient payment,
refund and collection referral on the day it happens. Nothing touches events directly; the
generator is one more client of the write API, like the TUI and the importers.

"Today" during the simulation is each simulated day: `domain.clock` reads the date through
freezegun, so the commands that only know "today" (claim creation, scrubbing for timely
filing, refund approval) see the simulated date, and every event's recorded timestamp tells
the simulated story. Business dates are passed explicitly wherever a command takes one.

Deterministic for a seed: all choices come from `random.Random(seed)`, and the ledger should
be built with the same `seed=` so its account, encounter and claim ids repeat too. Work in
the last weeks is left unfinished on purpose (unbilled visits, claims awaiting the payer,
open denials, unpaid statements) so the work queues have something in them. Each story
(denial kinds, reversal, refund, referral and recovery, payment plan...) is played the first
time it is feasible and then at a realistic rate, so a demo of a dozen patients has them all.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from domain import clock
from domain.application import BillingLedger
from domain.codes import is_billable_icd10, is_valid_npi
from domain.errors import BillingError, RuleViolation
from domain.identity import acting_as
from domain.ledger import PATIENT
from domain.money import Cents
from domain.remittance import CasAdjustment, ClaimRemit, ServiceRemit

# Who does what in the simulated office, recorded as each event's actor: the demo users the
# ledger seeds, one per role (`seed_role_users`), so each command runs in a role allowed it.
FRONT_DESK = "registrar"
BILLER = "biller"
SUPERVISOR = "supervisor"
AGENCY_NAME = "Summit Recovery Services"

# -------------------------------------------------------------------- reference data

PRACTICE_ADDRESS = {"line1": "1200 RIVER RD", "city": "RIVERSIDE", "state": "OH",
                    "zip": "45431"}

# (code, price in cents, description): the chargemaster.
CHARGEMASTER: list[tuple[str, int, str]] = [
    ("99202", 11000, "Office visit, new patient, straightforward"),
    ("99203", 17000, "Office visit, new patient, low complexity"),
    ("99204", 26000, "Office visit, new patient, moderate complexity"),
    ("99205", 34000, "Office visit, new patient, high complexity"),
    ("99211", 4500, "Office visit, established patient, minimal"),
    ("99212", 9000, "Office visit, established patient, straightforward"),
    ("99213", 13500, "Office visit, established patient, low complexity"),
    ("99214", 19500, "Office visit, established patient, moderate complexity"),
    ("99215", 27000, "Office visit, established patient, high complexity"),
    ("99385", 24000, "Preventive visit, new patient, 18-39"),
    ("99386", 27000, "Preventive visit, new patient, 40-64"),
    ("99387", 29000, "Preventive visit, new patient, 65+"),
    ("99392", 17500, "Preventive visit, established, 1-4"),
    ("99393", 17500, "Preventive visit, established, 5-11"),
    ("99394", 19000, "Preventive visit, established, 12-17"),
    ("99395", 21500, "Preventive visit, established, 18-39"),
    ("99396", 23500, "Preventive visit, established, 40-64"),
    ("99397", 25000, "Preventive visit, established, 65+"),
    ("G0438", 25500, "Annual wellness visit, initial"),
    ("G0439", 18500, "Annual wellness visit, subsequent"),
    ("G0008", 3000, "Administration of influenza vaccine (Medicare)"),
    ("90471", 3000, "Immunization administration, one vaccine"),
    ("90686", 3800, "Influenza vaccine, quadrivalent, preservative free"),
    ("90715", 5500, "Tdap vaccine, 7 years and older"),
    ("36415", 1500, "Routine venipuncture"),
    ("80053", 3800, "Comprehensive metabolic panel"),
    ("80061", 4200, "Lipid panel"),
    ("83036", 3200, "Hemoglobin A1c"),
    ("84443", 4600, "Thyroid stimulating hormone"),
    ("85025", 2800, "Complete blood count with differential"),
    ("82947", 1200, "Glucose, quantitative"),
    ("81002", 1200, "Urinalysis, non-automated, without microscopy"),
    ("87086", 3200, "Urine culture, colony count"),
    ("87880", 3200, "Strep A antigen, rapid"),
    ("87804", 3600, "Influenza antigen, rapid"),
    ("87635", 9500, "SARS-CoV-2 amplified probe"),
    ("93000", 6500, "Electrocardiogram, complete"),
    ("94010", 7200, "Spirometry"),
    ("96127", 1600, "Brief emotional/behavioral assessment"),
    ("96372", 3800, "Therapeutic injection, IM or SC"),
    ("99406", 3200, "Smoking cessation counseling, 3-10 minutes"),
    ("11102", 18500, "Tangential biopsy of skin, single lesion"),
    ("17110", 16000, "Destruction of benign lesions, up to 14"),
    ("69210", 8800, "Removal of impacted cerumen, instrumentation, unilateral"),
    ("12001", 21000, "Simple repair of superficial wound, 2.5 cm or less"),
    ("20610", 17500, "Arthrocentesis, major joint"),
    ("71046", 9800, "Chest X-ray, 2 views"),
    ("73562", 9200, "Knee X-ray, 3 views"),
    ("73610", 8800, "Ankle X-ray, complete"),
    ("J1885", 1200, "Ketorolac tromethamine, per 15 mg"),
    ("J3301", 1300, "Triamcinolone acetonide, per 10 mg"),
]
PRICES = {code: cents for code, cents, _ in CHARGEMASTER}
PREVENTIVE = frozenset({"99385", "99386", "99387", "99392", "99393", "99394", "99395",
                        "99396", "99397", "G0438", "G0439", "G0008", "90471", "90686",
                        "90715"})
PROCEDURES_NEEDING_AUTH = ("20610", "71046", "73562", "73610", "11102", "94010")


@dataclass(frozen=True)
class PayerSpec:
    payer_id: str
    name: str
    filing_indicator: str
    response_days: int
    fee_factor: float          # contracted allowed as a share of our charge
    timely_filing_days: int
    icn_prefix: str
    # plan id -> (name, product, copay cents, deductible cents, coinsurance %)
    plans: dict[str, tuple[str, str, int, int, int]]


PAYERS: list[PayerSpec] = [
    PayerSpec("MEDCR", "Medicare Part B", "MB", 14, 0.52, 365, "MB", {
        "PARTB": ("Medicare Part B", "Medicare", 0, 25700, 20)}),
    PayerSpec("MCDOH", "Ohio Medicaid", "MC", 30, 0.42, 180, "MD", {
        "MCDFFS": ("Medicaid Fee-for-Service", "Medicaid", 0, 0, 0),
        "CHIP": ("Children's Health Insurance Program", "Medicaid", 0, 0, 0)}),
    PayerSpec("BHBCB", "Blue Horizon BlueCross BlueShield", "BL", 21, 0.68, 180, "BH", {
        "PPOGOLD": ("PPO Gold", "PPO", 2500, 50000, 10),
        "PPOSLV": ("PPO Silver", "PPO", 3500, 150000, 20),
        "PPOBRZ": ("PPO Bronze", "PPO", 5000, 300000, 30),
        "HMOSEL": ("HMO Select", "HMO", 2000, 0, 0),
        "HMOPLS": ("HMO Plus", "HMO", 1500, 0, 0),
        "EPO": ("Blue EPO", "EPO", 3000, 100000, 20),
        "HSABRZ": ("HSA Bronze", "HDHP", 0, 350000, 20),
        "HSASLV": ("HSA Silver", "HDHP", 0, 200000, 20),
        "POS": ("Blue Point of Service", "POS", 3000, 75000, 20),
        "FEP": ("Federal Employee Program", "PPO", 2500, 35000, 15),
        "EXCHSLV": ("Marketplace Silver", "HMO", 4000, 250000, 30),
        "EXCHGLD": ("Marketplace Gold", "PPO", 3000, 100000, 20),
        "STUDENT": ("Student Health", "PPO", 2000, 50000, 20),
        "MSUPG": ("Medicare Supplement Plan G", "Medigap", 0, 0, 0),
        "MSUPN": ("Medicare Supplement Plan N", "Medigap", 0, 0, 0)}),
    PayerSpec("UNITY", "Unity Health Plan", "CI", 28, 0.72, 90, "UN", {
        "CHOICE": ("Choice PPO", "PPO", 3000, 100000, 20),
        "OPEN": ("Open Access", "PPO", 2500, 50000, 20),
        "HDHP": ("High Deductible Health Plan", "HDHP", 0, 350000, 20)}),
    PayerSpec("CSCDH", "Cascade Health HMO", "HM", 25, 0.62, 120, "CH", {
        "BASIC": ("Basic HMO", "HMO", 1500, 0, 0),
        "PREMIER": ("Premier HMO", "HMO", 2500, 0, 0),
        "VALUE": ("Value HMO", "HMO", 2000, 25000, 10)}),
    PayerSpec("TRIWS", "Frontier Military Health", "CH", 30, 0.55, 365, "TW", {
        "PRIME": ("Prime", "HMO", 0, 0, 0),
        "SELECT": ("Select", "PPO", 2000, 15000, 20)}),
]
PAYER_BY_ID = {p.payer_id: p for p in PAYERS}
COMMERCIAL = ("BHBCB", "UNITY", "CSCDH")
MEDIGAP = ("MSUPG", "MSUPN")

# (template, weight for <18 / 18-64 / 65+, diagnoses choices, optional extra dx,
#  E/M codes, extra lines: (codes with units, probability)).
# code, modifiers, units, diagnosis pointers: what enter_charges takes
ChargeLine = tuple[str, list[str], str | int | Decimal, list[int]]
VisitTemplate = tuple[str, tuple[int, int, int], list[list[str]], list[str], list[str],
                      list[tuple[list[tuple[str, int]], float]]]
VISITS: list[VisitTemplate] = [
    ("Hypertension follow-up", (0, 14, 18), [["I10"]], ["E78.5", "E66.9"],
     ["99213", "99214"], [([("36415", 1), ("80053", 1)], 0.4)]),
    ("Diabetes follow-up", (0, 8, 12), [["E11.65", "I10"], ["E11.9"]], ["Z79.4", "E78.5"],
     ["99214"], [([("83036", 1), ("36415", 1)], 0.9), ([("80061", 1)], 0.3)]),
    ("High cholesterol", (0, 6, 6), [["E78.5"]], ["E66.9"], ["99213"],
     [([("80061", 1), ("36415", 1)], 0.8)]),
    ("Sore throat", (12, 6, 2), [["J02.9"], ["J02.0"]], [], ["99212", "99213"],
     [([("87880", 1)], 0.8)]),
    ("Upper respiratory infection", (14, 8, 4), [["J06.9"]], ["R05.9"], ["99212", "99213"],
     [([("87635", 1)], 0.3)]),
    ("Influenza", (6, 4, 3), [["J11.1"]], [], ["99213"], [([("87804", 1)], 0.8)]),
    ("Urinary tract infection", (2, 6, 5), [["N39.0"], ["N30.00"]], [], ["99213"],
     [([("81002", 1)], 0.9), ([("87086", 1)], 0.5)]),
    ("Low back pain", (0, 8, 5), [["M54.50"]], [], ["99213", "99214"],
     [([("96372", 1), ("J1885", 2)], 0.4)]),
    ("Knee pain", (0, 4, 6), [["M17.11"], ["M25.561"]], [], ["99214"],
     [([("20610", 1), ("J3301", 4)], 0.6), ([("73562", 1)], 0.3)]),
    ("Depression follow-up", (1, 6, 2), [["F32.9"], ["F32.A"]], ["F41.1"], ["99214"],
     [([("96127", 2)], 0.8)]),
    ("Anxiety", (2, 5, 1), [["F41.1"]], [], ["99213"], [([("96127", 1)], 0.6)]),
    ("Asthma", (6, 4, 2), [["J45.909"]], ["J30.9"], ["99214"], [([("94010", 1)], 0.5)]),
    ("Skin lesion", (0, 3, 5), [["D48.5"], ["L82.1"]], [], ["99213"],
     [([("11102", 1)], 0.8)]),
    ("Common warts", (4, 2, 1), [["B07.9"]], [], ["99212"], [([("17110", 1)], 0.9)]),
    ("Ear wax", (2, 2, 4), [["H61.21"]], [], ["99212"], [([("69210", 1)], 1.0)]),
    ("Hand laceration", (3, 2, 1), [["S61.411A"]], [], ["99213"], [([("12001", 1)], 1.0)]),
    ("Chest pain", (0, 3, 5), [["R07.89"]], ["I10"], ["99214"],
     [([("93000", 1)], 0.9), ([("71046", 1)], 0.3)]),
    ("Hypothyroidism", (0, 4, 5), [["E03.9"]], [], ["99213"],
     [([("84443", 1), ("36415", 1)], 0.8)]),
    ("Ankle sprain", (4, 3, 1), [["S93.401A"]], [], ["99213"], [([("73610", 1)], 0.7)]),
    ("Cough", (4, 4, 4), [["R05.9"]], [], ["99213"], [([("71046", 1)], 0.4)]),
    ("Tobacco use", (0, 3, 1), [["F17.210"]], [], ["99213"], [([("99406", 1)], 0.8)]),
    ("Heartburn", (0, 3, 3), [["K21.9"]], [], ["99213"], []),
    ("Migraine", (1, 3, 1), [["G43.909"]], [], ["99213"],
     [([("96372", 1), ("J1885", 2)], 0.3)]),
    ("Coronary artery disease", (0, 1, 6), [["I25.10", "I10"]], ["E78.5"], ["99214"],
     [([("93000", 1)], 0.5)]),
    ("COVID-19 exposure", (3, 3, 2), [["Z20.822"]], [], ["99212"], [([("87635", 1)], 1.0)]),
]
# Diagnoses a coder adds when a payer asks for a more complete picture (CO-16 / M76).
ADDED_DIAGNOSES = ["E66.9", "Z71.3", "E55.9", "Z68.30"]

FIRST_NAMES = {
    "F": ["MARIA", "JENNIFER", "LINDA", "ELIZABETH", "SUSAN", "JESSICA", "SARAH", "KAREN",
          "NANCY", "LISA", "BETTY", "SANDRA", "ASHLEY", "EMILY", "DONNA", "MICHELLE", "CAROL",
          "AMANDA", "MELISSA", "DEBORAH", "LAURA", "REBECCA", "SHARON", "CYNTHIA", "AMY",
          "ANGELA", "HELEN", "ANNA", "BRENDA", "PAMELA", "NICOLE", "EMMA", "OLIVIA", "AVA",
          "SOPHIA", "MIA", "GRACE", "CHLOE", "ZOE", "PRIYA"],
    "M": ["JAMES", "ROBERT", "JOHN", "MICHAEL", "DAVID", "WILLIAM", "RICHARD", "JOSEPH",
          "THOMAS", "CHARLES", "DANIEL", "MATTHEW", "ANTHONY", "MARK", "DONALD", "STEVEN",
          "PAUL", "ANDREW", "JOSHUA", "KENNETH", "KEVIN", "BRIAN", "GEORGE", "TIMOTHY",
          "RONALD", "JASON", "EDWARD", "JEFFREY", "RYAN", "JACOB", "LIAM", "NOAH", "ETHAN",
          "LUCAS", "MASON", "LOGAN", "CARLOS", "WEI", "OMAR", "ANDRE"],
}
LAST_NAMES = ["SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "GARCIA", "MILLER", "DAVIS",
              "RODRIGUEZ", "MARTINEZ", "HERNANDEZ", "LOPEZ", "GONZALEZ", "WILSON", "ANDERSON",
              "THOMAS", "TAYLOR", "MOORE", "JACKSON", "MARTIN", "LEE", "PEREZ", "THOMPSON",
              "WHITE", "HARRIS", "SANCHEZ", "CLARK", "RAMIREZ", "LEWIS", "ROBINSON", "WALKER",
              "YOUNG", "ALLEN", "KING", "WRIGHT", "SCOTT", "TORRES", "NGUYEN", "HILL", "FLORES",
              "GREEN", "ADAMS", "NELSON", "BAKER", "HALL", "RIVERA", "CAMPBELL", "MITCHELL",
              "CARTER", "ROBERTS", "PATEL", "OKAFOR", "KOWALSKI", "SCHMIDT", "MURPHY"]
STREETS = ["OAK AVE", "MAPLE ST", "ELM ST", "CEDAR LN", "PINE ST", "WALNUT DR", "HIGH ST",
           "MAIN ST", "LINCOLN AVE", "PARK PL", "RIDGE RD", "LAKEVIEW DR", "MILL ST",
           "CHURCH ST", "SPRING ST", "WASHINGTON BLVD"]
CITIES = [("RIVERSIDE", "45431"), ("FAIRBORN", "45324"), ("KETTERING", "45429"),
          ("BEAVERCREEK", "45440"), ("XENIA", "45385"), ("HUBER HEIGHTS", "45424")]


def npi_with_check_digit(base9: str) -> str:
    """The valid NPI for nine leading digits: the Luhn digit of 80840 + base (CMS)."""
    digits = "80840" + base9
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:  # doubled: the check digit will sit to the right of these
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    npi = base9 + str((10 - total % 10) % 10)
    assert is_valid_npi(npi), npi
    return npi


GROUP_NPI = npi_with_check_digit("124578930")
SOLO_NPI = npi_with_check_digit("193847561")
# (NPI, name, taxonomy) of the group's rendering clinicians.
CLINICIANS = [
    (npi_with_check_digit("138294756"), "ADAEZE OKAFOR MD", "207Q00000X"),
    (npi_with_check_digit("157392846"), "DANIEL KIM MD", "207R00000X"),
    (npi_with_check_digit("164820395"), "SARAH LINDQVIST DO", "207Q00000X"),
    (npi_with_check_digit("172639485"), "MARCUS BELL FNP", "363LF0000X"),
]


# -------------------------------------------------------------------- simulation state

@dataclass(eq=False)
class Person:
    index: int
    household: int
    last_name: str
    first_name: str
    sex: str
    birth_date: date
    address: dict[str, str]
    relationship: str = "18"              # to the guarantor
    policies: list[dict[str, Any]] = field(default_factory=list)
    discount: tuple[str, int] | None = None
    visits: list[date] = field(default_factory=list)
    templates: list[int] = field(default_factory=list)
    account_no: str = ""
    policy_ids: list[str] = field(default_factory=list)
    eligibility_years: set[int] = field(default_factory=set)
    seen: bool = False

    def age_on(self, day: date) -> int:
        return day.year - self.birth_date.year - (
            (day.month, day.day) < (self.birth_date.month, self.birth_date.day))

    def policies_on(self, day: date) -> list[dict[str, Any]]:
        return [p for p in self.policies if p["effective_on"] <= day
                and (p.get("ends_on") is None or day <= p["ends_on"])]


@dataclass(eq=False)
class Household:
    index: int
    members: list[Person]
    behavior: str                         # how the guarantor answers statements
    cycle_day: int                        # statement cycle day of month
    registered_on: date | None = None     # None: registered at the first visit
    guarantor_no: str = ""
    statements_unpaid: int = 0
    placed: bool = False
    plan_agreed: bool = False
    duplicate_done: bool = False
    dirty: bool = True
    owed: int = 0
    credit: int = 0


@dataclass(eq=False)
class ClaimInfo:
    claim_id: str
    encounter_id: str
    household: Household
    payer_id: str
    plan_id: str
    order: str
    icn: str = ""
    story: str = ""                       # a denial or correction this claim will play
    shares: dict[str, dict[str, int]] = field(default_factory=dict)  # primary PR by line
    remits: list[ClaimRemit] = field(default_factory=list)
    rejected: bool = False


@dataclass(order=True)
class _Task:
    day: date
    phase: int
    seq: int
    role: str = field(compare=False)
    action: Callable[[], None] = field(compare=False)


# Within a day: the front desk registers and sees patients, the biller then creates and sends
# claims, acknowledgements and remittances come in, and patient accounts are worked last.
SETUP, FRONT, CLINIC, BILLING, SUBMIT, ACK, ERA, FOLLOW_UP, ACCOUNTS = range(9)


class SimulatedClock:
    """Sets what `domain.clock` (and the events' recorded time) say "now" is.

    freezegun is the hook: the domain reads the clock in exactly one place, which freezegun
    controls; one freezer is started and moved from moment to moment (cheap), rather than a
    `freeze_time` per day (each start re-scans every loaded module).
    """

    def __init__(self) -> None:
        self._frozen: Any = None

    @contextmanager
    def running(self, start: datetime) -> Iterator[SimulatedClock]:
        try:
            from freezegun import freeze_time  # noqa: PLC0415 - only the demo needs it
        except ImportError as error:  # pragma: no cover - freezegun ships with the dev extras
            raise RuleViolation(
                "the demo simulates a year of office days and needs freezegun "
                "(pip install freezegun)") from error
        freezer = freeze_time(start, tick=False)
        self._frozen = freezer.start()
        try:
            yield self
        finally:
            freezer.stop()
            self._frozen = None

    def set(self, moment: datetime) -> None:
        self._frozen.move_to(moment)


class DemoPractice:
    """The simulation: a priority queue of dated tasks, each one ledger command (or a few)."""

    def __init__(self, ledger: BillingLedger, patients: int, seed: int, through: date) -> None:
        if patients < 1:
            raise ValueError("the demo needs at least one patient")
        self.ledger = ledger
        self.n_patients = patients
        self.rng = random.Random(seed)
        self.through = through
        self.start = through - timedelta(days=365)
        self.setup_day = self.start - timedelta(days=30)
        self.new_year = date(self.start.year + 1, 1, 1)  # fee and price updates
        self.late_fees_until = self.new_year + timedelta(days=45)
        self.clock = SimulatedClock()
        self.queue: list[_Task] = []
        self.seq = itertools.count()
        self.day = self.setup_day
        self.moment = 0
        self.households: list[Household] = []
        self.people: list[Person] = []
        self.claims: dict[str, ClaimInfo] = {}
        self.for_collections: list[Household] = []
        self.claims_created = 0
        self.outbox: dict[date, list[str]] = {}
        self.fees: dict[str, dict[str, list[tuple[date, int]]]] = {}
        self.deductible_met: dict[tuple[str, int], int] = {}
        self.stories: dict[str, int] = {}
        self.icn_seq = itertools.count(1)
        self.trace_seq = itertools.count(1)
        self._supervisor_ledger: BillingLedger | None = None

    # -- scheduling ------------------------------------------------------------------------
    def at(self, day: date, phase: int, role: str, action: Callable[[], None]) -> None:
        """Do `action` as `role` on `day`; work that would fall after `through` never happens."""
        if day > self.through:
            return
        day = max(day, self.day)
        heapq.heappush(self.queue, _Task(day, phase, next(self.seq), role, action))

    def want(self, story: str, rate: float, feasible: bool = True) -> bool:
        """Play a story at `rate`, and surely the first time it is feasible (small demos)."""
        if not feasible:
            return False
        if self.stories.get(story, 0) == 0 or self.rng.random() < rate:
            self.stories[story] = self.stories.get(story, 0) + 1
            return True
        return False

    def run(self) -> dict[str, int]:
        if self.ledger.events_count():
            raise RuleViolation(
                f"the ledger already holds {self.ledger.events_count()} events; the demo "
                "practice is built only into an empty ledger")
        self.plan_population()
        with self.clock.running(datetime.combine(self.setup_day, datetime.min.time(), UTC)):
            # Open demo ledger with one user per role, as the team notes ask of demo ledgers.
            with acting_as("admin"):
                self.ledger.seed_role_users()
            self.at(self.setup_day, SETUP, SUPERVISOR, self.set_up_practice)
            self.schedule_population()
            self.schedule_office_routines()
            while self.queue:
                task = heapq.heappop(self.queue)
                if task.day != self.day:
                    self.day, self.moment = task.day, 0
                self.moment += 1
                # Office hours from 07:30, 20 seconds per recorded action.
                self.clock.set(datetime.combine(task.day, datetime.min.time(), UTC)
                               + timedelta(hours=7, minutes=30, seconds=20 * self.moment))
                with self.as_user(task.role):
                    task.action()
        if self._supervisor_ledger is not None:
            self._supervisor_ledger.close()
        return {"patients": len(self.people), "claims": self.claims_created,
                "events": self.ledger.events_count()}

    def as_user(self, role: str) -> Any:
        # A ledger opened for a fixed user (--as-user) records that user for everything.
        fixed = self.ledger.actor is not None or self.ledger.as_user is not None
        return nullcontext() if fixed else acting_as(role)

    def supervisor(self) -> BillingLedger:
        """The ledger as the billing supervisor: a refund needs a second person to approve it."""
        fixed = self.ledger.as_user or self.ledger.actor
        if fixed is None:
            return self.ledger
        if self._supervisor_ledger is None:
            name = SUPERVISOR if fixed != SUPERVISOR else f"{SUPERVISOR}2"
            self._supervisor_ledger = BillingLedger(env=self.ledger.env, actor=name)
        return self._supervisor_ledger

    # -- reference data ----------------------------------------------------------------------
    def set_up_practice(self) -> None:
        led = self.ledger
        led.enroll_provider(GROUP_NPI, "RIVERSIDE FAMILY MEDICINE PC", "46-2817395",
                            "261QP2300X", is_billing=True, is_person=False,
                            address=PRACTICE_ADDRESS)
        led.enroll_provider(SOLO_NPI, "HELEN VARGA MD", "31-4820957", "207Q00000X",
                            is_billing=True, is_person=True, address=PRACTICE_ADDRESS)
        for npi, name, taxonomy in CLINICIANS:
            led.enroll_provider(npi, name, "46-2817395", taxonomy)
        led.set_prices(CHARGEMASTER, effective_on=date(self.setup_day.year, 1, 1))
        contract_start = date(self.setup_day.year - 1, 1, 1)
        for spec in PAYERS:
            led.register_payer(spec.payer_id, spec.name, spec.filing_indicator,
                               expected_response_days=spec.response_days)
            for plan_id, (name, product, *_) in spec.plans.items():
                led.add_plan(spec.payer_id, plan_id, name, product)
            # One contract per plan family; the solo physician alone serves military health.
            billing = SOLO_NPI if spec.payer_id == "TRIWS" else GROUP_NPI
            groups = ([[p for p in spec.plans if p not in MEDIGAP], list(MEDIGAP)]
                      if spec.payer_id == "BHBCB" else [list(spec.plans)])
            for n, plan_ids in enumerate(groups, 1):
                contract_id = f"K{spec.payer_id}{n}"
                fees = [(code, "", self.contracted_fee(spec, code)) for code in PRICES]
                led.sign_contract(contract_id, spec.payer_id, plan_ids, billing, contract_start,
                                  timely_filing_days=spec.timely_filing_days,
                                  appeal_days=120 if spec.payer_id == "MEDCR" else 180,
                                  fees=fees)
                self.fees[contract_id] = {code: [(contract_start, cents)]
                                          for code, _, cents in fees}
        # The yearly updates: Medicare's fee schedule and our own prices, from January 1.
        new_year = self.new_year
        self.at(new_year - timedelta(days=12), SETUP, SUPERVISOR,
                lambda: self.update_medicare_fees(new_year))
        self.at(new_year - timedelta(days=10), SETUP, SUPERVISOR,
                lambda: self.update_prices(new_year))

    def contracted_fee(self, spec: PayerSpec, code: str) -> int:
        return int(PRICES[code] * spec.fee_factor * self.rng.uniform(0.92, 1.06))

    def update_medicare_fees(self, effective_on: date) -> None:
        contract_id = "KMEDCR1"
        for code in PRICES:
            old = self.fees[contract_id][code][-1][1]
            new = old + old * 29 // 1000  # +2.9%
            self.ledger.set_fee(contract_id, code, "", new, effective_on)
            self.fees[contract_id][code].append((effective_on, new))

    def update_prices(self, effective_on: date) -> None:
        raised = [(code, cents + cents * 3 // 100, desc) for code, cents, desc in CHARGEMASTER
                  if code.startswith("992")]
        self.ledger.set_prices(raised, effective_on)

    def allowed_per_unit(self, payer_id: str, plan_id: str, code: str, on: date) -> int:
        contract_id = (f"K{payer_id}2" if plan_id in MEDIGAP else f"K{payer_id}1")
        cents = self.fees[contract_id][code][0][1]
        for start, amount in self.fees[contract_id][code]:
            if start <= on:
                cents = amount
        return cents

    # -- the population ----------------------------------------------------------------------
    def plan_population(self) -> None:
        rng = self.rng
        while len(self.people) < self.n_patients:
            h = len(self.households)
            forced = {0: "nonpayer", 1: "plan", 2: "duplicate"}.get(h)
            behavior = forced or rng.choices(
                ["prompt", "partial", "slow", "nonpayer", "plan", "duplicate"],
                [62, 12, 12, 8, 4, 2])[0]
            city, zip_code = rng.choice(CITIES)
            address = {"line1": f"{rng.randrange(100, 9900)} {rng.choice(STREETS)}",
                       "city": city, "state": "OH", "zip": zip_code}
            last = rng.choice(LAST_NAMES)
            room = self.n_patients - len(self.people)
            size = 1 if forced or room == 1 or rng.random() > 0.22 else min(
                room, rng.choice([2, 2, 3, 3, 4]))
            if h == 3 and room > 1:
                size = min(room, 3)  # at least one family with one guarantor
            head_age = rng.choices([rng.randrange(19, 64), rng.randrange(65, 90)],
                                   [75, 25])[0] if size == 1 else rng.randrange(26, 58)
            if forced:
                head_age = min(head_age, 60)  # self-pay stories: not yet on Medicare
            members = [self.new_person(h, last, head_age, address)]
            if size > 1 and rng.random() < 0.6:
                spouse = self.new_person(h, last, head_age + rng.randrange(-5, 6), address)
                spouse.relationship = "01"
                members.append(spouse)
            while len(members) < size:
                child = self.new_person(h, last, rng.randrange(1, min(18, head_age - 17)),
                                        address)
                child.relationship = "19"
                members.append(child)
            household = Household(
                index=h, members=members, behavior=behavior, cycle_day=h % 28 + 1,
                registered_on=None if rng.random() < 0.3 and not forced else self.setup_day)
            self.households.append(household)
            self.people.extend(members)
            self.assign_coverage(household, forced)
            for person in members:
                self.plan_visits(person, early=bool(forced))

    def new_person(self, household: int, last_name: str, age: int, address: dict[str, str],
                   ) -> Person:
        rng = self.rng
        sex = rng.choice("FM")
        birth = self.start - timedelta(days=age * 365 + rng.randrange(0, 365))
        return Person(index=len(self.people), household=household, last_name=last_name,
                      first_name=rng.choice(FIRST_NAMES[sex]), sex=sex, birth_date=birth,
                      address=dict(address))

    def policy(self, payer_id: str, plan_id: str, person: Person, subscriber: Person,
               relationship: str) -> dict[str, Any]:
        rng = self.rng
        member = {"MEDCR": lambda: f"{rng.randrange(1, 9)}EG{rng.randrange(1000, 9999)}"
                                   f"MK{rng.randrange(10, 99)}",
                  "MCDOH": lambda: f"{rng.randrange(10**11, 10**12)}",
                  "TRIWS": lambda: f"{rng.randrange(10**10, 10**11)}"}.get(
            payer_id, lambda: f"{payer_id[:3]}{rng.randrange(10**8, 10**9)}")()
        if subscriber is not person:
            member = f"{member}0{person.index % 9 + 1}" if payer_id in COMMERCIAL else member
        group = (f"G{rng.randrange(10000, 99999)}" if payer_id in COMMERCIAL
                 and plan_id not in MEDIGAP else "")
        effective = max(person.birth_date,
                        date(self.start.year - rng.randrange(1, 6), rng.choice([1, 1, 4, 7]), 1))
        return {"payer_id": payer_id, "plan_id": plan_id, "member_id": member,
                "group_number": group, "relationship": relationship,
                "subscriber": subscriber, "effective_on": effective, "ends_on": None}

    def commercial_plan(self) -> tuple[str, str]:
        payer_id = self.rng.choices(COMMERCIAL, [55, 25, 20])[0]
        plans = [p for p in PAYER_BY_ID[payer_id].plans if p not in MEDIGAP]
        return payer_id, self.rng.choice(plans)

    def assign_coverage(self, household: Household, forced: str | None) -> None:
        rng = self.rng
        head = household.members[0]
        age = head.age_on(self.start)
        # 60% primary only, 25% primary + secondary, 15% self-pay (the forced stories are
        # self-pay: their balances are the patient's from the first visit).
        kind = "self" if forced else rng.choices(["one", "two", "self"], [60, 25, 15])[0]
        if age >= 65:
            kind = "two" if kind == "self" or rng.random() < 0.55 else kind
            head.policies.append(self.policy("MEDCR", "PARTB", head, head, "18"))
            if kind == "two":
                payer, plan = ("MCDOH", "MCDFFS") if rng.random() < 0.3 else (
                    "BHBCB", rng.choice(MEDIGAP))
                head.policies.append(self.policy(payer, plan, head, head, "18"))
            for person in household.members[1:]:
                person.policies.append(self.policy("MEDCR", "PARTB", person, person, "18"))
            return
        if kind == "self":
            discount = {"nonpayer": ("self-pay", 30), "plan": ("sliding-scale", 40),
                        "duplicate": ("prompt-pay", 15)}.get(forced or "") or rng.choice(
                [("self-pay", 30), ("self-pay", 30), ("sliding-scale", 50),
                 ("financial-assistance", 75)])
            for person in household.members:
                if person.age_on(self.start) < 18 and not forced:
                    person.policies.append(self.policy("MCDOH", "CHIP", person, person, "18"))
                else:
                    person.discount = discount
            return
        roll = rng.random()
        if roll < 0.12:
            primary = ("MCDOH", "MCDFFS")
        elif roll < 0.18:
            primary = ("TRIWS", rng.choice(["PRIME", "SELECT"]))
        else:
            primary = self.commercial_plan()
        second = self.commercial_plan() if kind == "two" else None
        if second is not None and second[0] == primary[0]:
            second = None if primary[0] != "BHBCB" else ("UNITY", "CHOICE")
        other_parent = Person(index=-1, household=household.index, last_name=head.last_name,
                              first_name=rng.choice(FIRST_NAMES["F" if head.sex == "M" else "M"]),
                              sex="F" if head.sex == "M" else "M",
                              birth_date=head.birth_date + timedelta(days=rng.randrange(-900, 900)),
                              address=head.address)
        spouse = next((m for m in household.members if m.relationship == "01"), other_parent)
        for person in household.members:
            rel = {"18": "18", "01": "01", "19": "19"}[person.relationship]
            if primary[0] == "MCDOH":
                person.policies.append(self.policy(*primary, person, person, "18"))
            else:
                person.policies.append(self.policy(*primary, person, head, rel))
            if second is not None:
                subscriber = person if person is spouse else spouse
                rel2 = "18" if person is spouse else ("01" if person is head else "19")
                person.policies.append(self.policy(*second, person, subscriber, rel2))
        if (len(household.members) == 1 and primary[0] in COMMERCIAL and second is None
                and rng.random() < 0.08):
            # A job change: the old plan ends, a new one starts.
            change = self.start + timedelta(days=rng.randrange(120, 300))
            head.policies[0]["ends_on"] = change - timedelta(days=1)
            new = self.policy(*self.commercial_plan(), head, head, "18")
            new["effective_on"] = change
            new["replaces"] = 0
            head.policies.append(new)

    def plan_visits(self, person: Person, early: bool) -> None:
        rng = self.rng
        age = person.age_on(self.start)
        band = 0 if age < 18 else (1 if age < 65 else 2)
        chronic = rng.random() < (0.15, 0.4, 0.7)[band]
        count = rng.randrange(3, 7) if chronic else rng.choices([1, 2, 3], [45, 35, 20])[0]
        weights = [t[1][band] for t in VISITS]
        main = rng.choices(range(len(VISITS)), weights)[0]
        days: list[date] = []
        if early:
            days.append(self.start + timedelta(days=rng.randrange(1, 20)))
        while len(days) < count:
            day = self.start + timedelta(days=rng.randrange(1, 366))
            if day.weekday() < 5 and day not in days:
                days.append(day)
        days.sort()
        person.visits = days
        preventive = rng.randrange(len(days)) if rng.random() < 0.5 else -1
        for n, day in enumerate(days):
            if n == preventive:
                person.templates.append(-1)
            elif (day.month >= 9 or day.month == 1) and rng.random() < 0.2:
                person.templates.append(-2)  # flu shot season
            else:
                person.templates.append(main if chronic and rng.random() < 0.7
                                        else rng.choices(range(len(VISITS)), weights)[0])

    def schedule_population(self) -> None:
        for household in self.households:
            first = min(v for m in household.members for v in m.visits)
            day = household.registered_on or first
            self.at(day, FRONT, FRONT_DESK, partial(self.register, household))
            for person in household.members:
                for n, visit in enumerate(person.visits):
                    self.at(visit, CLINIC, FRONT_DESK,
                            partial(self.see_patient, person, n))
                for policy in person.policies:
                    if "replaces" in policy:
                        self.at(policy["effective_on"], FRONT, FRONT_DESK,
                                partial(self.change_coverage, person, policy))

    def schedule_office_routines(self) -> None:
        day = self.start
        while day <= self.through:
            self.at(day, ACCOUNTS, BILLER, partial(self.statement_run, day))
            if day.day == 1 and day.month in (1, 4, 7, 10):
                self.at(day, ACCOUNTS, SUPERVISOR, self.collection_review)
            day += timedelta(days=1)

    # -- front desk --------------------------------------------------------------------------
    def register(self, household: Household) -> None:
        led = self.ledger
        registered_on = household.registered_on or self.day
        if household.registered_on is not None:
            # Established patients come over from the previous system with their history.
            registered_on = self.start - timedelta(days=self.rng.randrange(200, 2500))
        for person in household.members:
            registered_on = max(registered_on, person.birth_date)
            person.account_no = led.register_patient(
                person.last_name, person.first_name, person.birth_date, person.sex,
                address=person.address, phone=f"937-555-{self.rng.randrange(100, 199):04d}",
                reason_for_visit="new patient" if household.registered_on is None else "",
                registered_on=registered_on)
            if person is not household.members[0]:
                led.set_guarantor(person.account_no, household.members[0].account_no,
                                  person.relationship)
            for policy in person.policies:
                if "replaces" in policy:
                    continue
                person.policy_ids.append(self.add_policy(person, policy))
            if person.discount is not None:
                kind, percent = person.discount
                with self.as_user(SUPERVISOR):
                    led.grant_discount(
                        person.account_no, kind, percent, effective_on=registered_on,
                        reason={"self-pay": "uninsured self-pay rate",
                                "prompt-pay": "pays at time of service",
                                }.get(kind, "income below 200% of poverty level"))
        household.guarantor_no = household.members[0].account_no

    def add_policy(self, person: Person, policy: dict[str, Any]) -> str:
        subscriber: Person = policy["subscriber"]
        return self.ledger.add_coverage(
            person.account_no, policy["payer_id"], policy["plan_id"], policy["member_id"],
            group_number=policy["group_number"], relationship=policy["relationship"],
            subscriber=None if policy["relationship"] == "18" else {
                "last_name": subscriber.last_name, "first_name": subscriber.first_name,
                "birth_date": subscriber.birth_date.isoformat(), "sex": subscriber.sex,
                "address": subscriber.address},
            effective_on=policy["effective_on"])

    def change_coverage(self, person: Person, policy: dict[str, Any]) -> None:
        old = person.policies[policy["replaces"]]
        self.ledger.terminate_coverage(person.account_no, person.policy_ids[0],
                                       old["ends_on"], reason="left employer")
        person.policy_ids.append(self.add_policy(person, policy))

    def see_patient(self, person: Person, n: int) -> None:
        led, day = self.ledger, self.day
        household = self.households[person.household]
        policies = person.policies_on(day)
        template = person.templates[n]
        # One visit with a procedure that needs prior authorization, so the demo surely has
        # the CO-197 story however few patients it has.
        needs_auth = bool(policies) and template >= 0 and self.want(
            "auth-procedure", 0.0, feasible=day > self.start + timedelta(days=25))
        if needs_auth:
            template = next(i for i, v in enumerate(VISITS) if v[0] == "Knee pain")
        new_patient = not person.seen and household.registered_on is None
        diagnoses, lines = self.code_visit(person, template, policies, new_patient, needs_auth)
        person.seen = True
        billing = SOLO_NPI if policies and policies[0]["payer_id"] == "TRIWS" else GROUP_NPI
        rendering = (SOLO_NPI if billing == SOLO_NPI
                     else CLINICIANS[(person.index + n) % len(CLINICIANS)][0])
        if policies and day.year not in person.eligibility_years:
            person.eligibility_years.add(day.year)
            self.check_eligibility(person, policies[0], day)
        encounter_id = led.open_encounter(
            person.account_no, day, billing_npi=billing, rendering_npi=rendering,
            place_of_service="11", diagnoses=diagnoses, self_pay=not policies)
        with self.as_user(BILLER):
            self.charge_visit(household, encounter_id, lines, policies, may_be_late=not needs_auth)

    def charge_visit(self, household: Household, encounter_id: str, lines: list[ChargeLine],
                     policies: list[dict[str, Any]], may_be_late: bool) -> None:
        """The coder enters the lines; what the patient pays at checkout is posted."""
        led, rng, day = self.ledger, self.rng, self.day
        led.enter_charges(encounter_id, lines)
        if policies and self.want("charge-reversed", 0.005):
            # Keyed twice by mistake: the duplicate is reversed, never deleted.
            code, modifiers, units, pointers = lines[-1]
            duplicate = led.enter_charge(encounter_id, code, modifiers=modifiers, units=units,
                                         pointers=pointers)
            led.reverse_charge(encounter_id, duplicate, "entered twice by mistake",
                               effective_on=day)
        household.dirty = True
        if not policies:
            if rng.random() < 0.55 and household.behavior in ("prompt", "partial", "slow"):
                due = led.encounter(encounter_id).balances_by_party().get(PATIENT, 0)
                if due > 0:
                    led.post_patient_payment(household.guarantor_no, due, paid_on=day,
                                             method=rng.choice(["card", "cash"]),
                                             reference="paid at checkout")
            return
        plan = PAYER_BY_ID[policies[0]["payer_id"]].plans[policies[0]["plan_id"]]
        copay = plan[2]
        if copay and lines[0][0].startswith("992") and rng.random() < 0.7:
            led.post_patient_payment(household.guarantor_no, copay, paid_on=day,
                                     method="card", reference="copay at check-in")
        # Claims go out after coding review: usually in a few days, sometimes held.
        lag = rng.choice([1, 1, 2, 2, 3, 4])
        filing_days = PAYER_BY_ID[policies[0]["payer_id"]].timely_filing_days
        late = self.want("late-filing", 0.0, feasible=(
            may_be_late and day + timedelta(days=filing_days + 60) <= self.through))
        if late:
            lag = filing_days + 4
        elif (self.through - day).days < 21 and rng.random() < 0.25:
            lag += rng.randrange(7, 30)  # coding query: the claim waits
        self.at(day + timedelta(days=lag), BILLING, BILLER,
                lambda: self.bill_primary(encounter_id, household, late))

    def code_visit(self, person: Person, template: int, policies: list[dict[str, Any]],
                   new_patient: bool, every_extra: bool = False,
                   ) -> tuple[list[str], list[ChargeLine]]:
        rng, day = self.rng, self.day
        age = person.age_on(day)
        medicare = bool(policies) and policies[0]["payer_id"] == "MEDCR"
        lines: list[ChargeLine] = []
        if template == -1:  # preventive visit
            if age < 18:
                code, diagnoses = ("99392" if age < 5 else "99393" if age < 12 else "99394",
                                   ["Z00.129"])
            elif medicare:
                code, diagnoses = ("G0438" if new_patient else "G0439"), ["Z00.00"]
            else:
                band = 0 if age < 40 else (1 if age < 65 else 2)
                code = (("99385", "99386", "99387") if new_patient else
                        ("99395", "99396", "99397"))[band]
                diagnoses = [rng.choice(["Z00.00", "Z00.01"])]
            lines.append((code, [], 1, [1]))
            for extra, p in (("36415", 0.6), ("80053", 0.4), ("80061", 0.4), ("85025", 0.3)):
                if age >= 18 and rng.random() < p and len(lines) < 4:
                    lines.append((extra, [], 1, [1]))
            return diagnoses, lines
        if template == -2:  # flu shot, no office visit
            return ["Z23"], [("90686", [], 1, [1]), ("G0008" if medicare else "90471", [], 1,
                                                          [1])]
        _, _, dx_choices, optional, em_codes, extras = VISITS[template]
        diagnoses = list(rng.choice(dx_choices))
        for code in optional:
            if rng.random() < 0.35:
                diagnoses.append(code)
        em = rng.choice(em_codes)
        if new_patient:
            em = {"99212": "99202", "99213": "99203", "99214": "99204"}.get(em, em)
        pointers = list(range(1, min(len(diagnoses), 4) + 1))
        lines.append((em, [], 1, pointers))
        for group, p in extras:
            if (every_extra or rng.random() < p) and len(lines) + len(group) <= 4:
                for code, units in group:
                    lines.append((code, [], units, [1]))
        if any(code in ("11102", "17110", "69210", "12001", "20610") for code, *_ in lines):
            lines[0] = (em, ["25"], 1, pointers)  # separately identifiable E/M
        return diagnoses, lines

    def check_eligibility(self, person: Person, policy: dict[str, Any], day: date) -> None:
        _, _, copay, deductible, coinsurance = PAYER_BY_ID[policy["payer_id"]].plans[
            policy["plan_id"]]
        index = next(i for i, p in enumerate(person.policies) if p is policy)
        policy_id = person.policy_ids[min(index, len(person.policy_ids) - 1)]
        met = self.deductible_met.get((policy_id, day.year), 0)
        self.ledger.record_eligibility(
            person.account_no, policy_id, active=True, service_on=day, checked_on=day,
            copay_cents=copay, deductible_remaining_cents=max(deductible - met, 0),
            coinsurance_percent=coinsurance,
            trace_number=f"T{day:%y%m%d}{person.index:05d}", source="271")

    # -- billing -----------------------------------------------------------------------------
    def bill_primary(self, encounter_id: str, household: Household, late: bool) -> None:
        led = self.ledger
        claim_id = led.create_claim(encounter_id)
        self.claims_created += 1
        claim = led.claim(claim_id)
        info = ClaimInfo(claim_id, encounter_id, household, claim.payer_id, claim.plan_id, "P")
        self.claims[claim_id] = info
        problems = led.scrub_claim(claim_id)
        if problems and late:
            info.story = "CO-29"
            self.at(self.day + timedelta(days=2), FOLLOW_UP, SUPERVISOR,
                    lambda: self.override_late_claim(info))
            return
        if problems:
            raise AssertionError(f"demo claim {claim_id} failed scrubbing: {problems}")
        self.send(claim_id)

    def override_late_claim(self, info: ClaimInfo) -> None:
        self.ledger.override_filing_limit(
            info.claim_id, "held for a coding query past the filing limit; payer may deny")
        with self.as_user(BILLER):
            if self.ledger.scrub_claim(info.claim_id):
                raise AssertionError(f"claim {info.claim_id} still fails scrubbing")
            self.send(info.claim_id)

    def bill_secondary(self, encounter_id: str, primary: ClaimInfo, payer_id: str) -> None:
        led = self.ledger
        claim_id = led.create_claim(encounter_id, payer_id)
        self.claims_created += 1
        claim = led.claim(claim_id)
        info = ClaimInfo(claim_id, encounter_id, primary.household, payer_id, claim.plan_id,
                         claim.coverage_order, shares=primary.shares)
        self.claims[claim_id] = info
        problems = led.scrub_claim(claim_id)
        if problems:
            raise AssertionError(f"demo claim {claim_id} failed scrubbing: {problems}")
        self.send(claim_id)

    def send(self, claim_id: str) -> None:
        """Queue a ready claim for the next 837 batch, which goes out the next morning."""
        day = self.day + timedelta(days=1)
        if day not in self.outbox:
            self.outbox[day] = []
            self.at(day, SUBMIT, BILLER, partial(self.submit_batch, day))
        self.outbox[day].append(claim_id)

    def submit_batch(self, day: date) -> None:
        claim_ids = self.outbox.pop(day)
        batch = f"B{day:%y%m%d}"
        self.ledger.mark_submitted(claim_ids, batch_id=batch, submitted_on=day,
                                   interchange_control=f"{day:%y%j}{self.moment:04d}",
                                   transaction_controls={c: f"{i + 1:04d}"
                                                         for i, c in enumerate(claim_ids)})
        for claim_id in claim_ids:
            info = self.claims[claim_id]
            self.at(day + timedelta(days=self.rng.randrange(1, 3)), ACK, BILLER,
                    partial(self.acknowledge, info))

    def acknowledge(self, info: ClaimInfo) -> None:
        """The payer's 277CA: accepted into adjudication, or (rarely) rejected."""
        led, day = self.ledger, self.day
        if not info.rejected and info.order == "P" and not info.story and self.want(
                "rejection", 0.02):
            info.rejected = True
            led.reject_claim(info.claim_id, level="277CA", source=f"277ca:{day:%Y%m%d}",
                             reasons=["A7:21 patient address is incomplete (N3/N4)"],
                             rejected_on=day)
            backlog = (self.through - day).days < 30 and self.rng.random() < 0.6
            self.at(day + timedelta(days=self.rng.randrange(30, 60) if backlog else 1),
                    FOLLOW_UP, FRONT_DESK, lambda: self.fix_rejection(info))
            return
        if not info.icn:
            info.icn = (f"{PAYER_BY_ID[info.payer_id].icn_prefix}{day:%y%j}"
                        f"{next(self.icn_seq):06d}")
        led.accept_claim(info.claim_id, level="277CA", source=f"277ca:{day:%Y%m%d}",
                         accepted_on=day, payer_claim_control_number=info.icn)
        spec = PAYER_BY_ID[info.payer_id]
        wait = max(5, spec.response_days + self.rng.randrange(-6, 10))
        self.at(day + timedelta(days=wait), ERA, BILLER, lambda: self.adjudicate(info))

    def fix_rejection(self, info: ClaimInfo) -> None:
        led = self.ledger
        account_no = led.claim(info.claim_id).account_no
        address = dict(led.account(account_no).address)
        address["zip"] = address["zip"][:5] + "1234"
        led.correct_demographics(account_no, "ZIP+4 added after a 277CA rejection",
                                 address=address)
        with self.as_user(BILLER):
            if led.resend_rejected(info.claim_id, "address corrected"):
                raise AssertionError(f"claim {info.claim_id} fails scrubbing after the fix")
            self.send(info.claim_id)

    # -- the payer's side: 835 adjudications -----------------------------------------------
    def era_source(self, info: ClaimInfo) -> str:
        return f"era:demo:{info.payer_id}:{self.day:%Y%m%d}:{next(self.trace_seq):06d}:CLP1"

    def adjudicate(self, info: ClaimInfo) -> None:
        if info.order != "P":
            self.adjudicate_secondary(info)
            return
        led, rng = self.ledger, self.rng
        encounter = led.encounter(info.encounter_id)
        claim = led.claim(info.claim_id)
        lines = [encounter.line(i) for i in claim.line_ids]
        story = info.story
        if not story and claim.frequency == "1":
            # About 8% of first submissions are denied; each kind at least once.
            kinds = {"CO-197": 20, "CO-97": 25, "CO-16": 30, "CO-50": 25}  # pickiest first
            if len(lines) < 2:
                del kinds["CO-97"]
            if not any(line["code"] in PROCEDURES_NEEDING_AUTH for line in lines[1:]):
                del kinds["CO-197"]
            missing = [k for k in kinds if not self.stories.get(k)]
            if self.day > self.start + timedelta(days=20) and (missing or rng.random() < 0.09):
                story = missing[0] if missing else rng.choices(list(kinds), list(kinds.values()))[0]
                self.stories[story] = self.stories.get(story, 0) + 1
                info.story = story
        remit = self.primary_remit(info, claim.policy_id, lines, story)
        result = led.post_remittance(remit)
        info.remits.append(remit)
        info.household.dirty = True

        def later(days: int) -> date:
            return self.day + timedelta(days=days)

        def work(days: int) -> date:
            # Denials of the last weeks wait in the biller's queue.
            backlog = (self.through - self.day).days < 45 and rng.random() < 0.7
            return later(rng.randrange(45, 90) if backlog else days)

        if story == "CO-16" and claim.frequency == "1":
            self.at(work(rng.randrange(4, 12)), FOLLOW_UP, BILLER,
                    lambda: self.correct_and_replace(info))
        elif story == "CO-50":
            self.at(work(rng.randrange(3, 10)), FOLLOW_UP, BILLER, lambda: self.appeal(info))
        elif story in ("CO-197", "CO-29"):
            self.at(work(rng.randrange(2, 8)), FOLLOW_UP, BILLER,
                    lambda: self.write_off_denial(info))
        elif not story and claim.frequency == "1" and len(encounter.coverage) == 1 and self.want(
                "reversal", 0.01, feasible=self.day > self.start + timedelta(days=60)):
            info.story = "reversal"
            self.at(later(rng.randrange(20, 40)), ERA, BILLER,
                    lambda: self.reverse_and_correct(info))
        secondary = [c["payer_id"] for c in encounter.coverage[1:2]]
        if secondary and result.transferred.get(secondary[0], 0) > 0:
            self.at(later(rng.randrange(1, 4)), BILLING, BILLER,
                    lambda: self.bill_secondary(info.encounter_id, info, secondary[0]))

    def primary_remit(self, info: ClaimInfo, policy_id: str, lines: list[dict[str, Any]],
                      story: str) -> ClaimRemit:
        _, _, copay, deductible, coinsurance = PAYER_BY_ID[info.payer_id].plans[info.plan_id]
        year_key = (policy_id, lines[0]["service_date"].year)
        denied: dict[str, tuple[str, tuple[str, ...]]] = {}
        if story in ("CO-16", "CO-29"):
            denied = {line["line_id"]: (story[3:], ("M76",) if story == "CO-16" else ())
                      for line in lines}
        elif story == "CO-97":
            denied = {lines[-1]["line_id"]: ("97", ())}
        elif story in ("CO-50", "CO-197"):
            target = next((line for line in lines[1:]
                           if line["code"] in PROCEDURES_NEEDING_AUTH), lines[-1])
            carc = story[3:]
            denied = {target["line_id"]: (carc, ("N115",) if carc == "50" else ("N54",))}
        services = []
        copay_left = copay
        for n, line in enumerate(lines, 1):
            charge = line["charge_cents"]
            if line["line_id"] in denied:
                carc, rarcs = denied[line["line_id"]]
                services.append(self.service(line, n, 0, [("CO", carc, charge)], rarcs))
                continue
            fee_date = line["service_date"]
            if info.payer_id == "MEDCR" and self.new_year <= self.day < self.late_fees_until:
                # Medicare's contractor loads the new year's fees late: these lines are
                # priced at last year's fee and land in the underpaid queue.
                fee_date = self.new_year - timedelta(days=1)
            fee = self.allowed_per_unit(info.payer_id, info.plan_id, line["code"], fee_date)
            allowed = min(charge, fee * line["units_milli"] // 1000)
            share = {"copay": 0, "deductible": 0, "coinsurance": 0}
            if line["code"] not in PREVENTIVE:
                if copay_left and line["code"].startswith("992"):
                    share["copay"] = min(copay_left, allowed)
                    copay_left = 0
                rest = allowed - share["copay"]
                met = self.deductible_met.get(year_key, 0)
                share["deductible"] = min(rest, max(deductible - met, 0))
                self.deductible_met[year_key] = met + share["deductible"]
                share["coinsurance"] = (rest - share["deductible"]) * coinsurance // 100
            info.shares[line["line_id"]] = share
            paid = allowed - sum(share.values())
            cas = [("CO", "45", charge - allowed), ("PR", "3", share["copay"]),
                   ("PR", "1", share["deductible"]), ("PR", "2", share["coinsurance"])]
            services.append(self.service(line, n, paid, cas, ()))
        return self.claim_remit(info, "4" if all(s.paid_cents == 0 for s in services)
                                and denied else "1", services)

    @staticmethod
    def service(line: dict[str, Any], n: int, paid: int, cas: list[tuple[str, str, int]],
                rarcs: tuple[str, ...]) -> ServiceRemit:
        return ServiceRemit(
            code=line["code"], modifiers=tuple(line["modifiers"]),
            charge_cents=line["charge_cents"], paid_cents=paid,
            adjustments=tuple(CasAdjustment(g, c, a) for g, c, a in cas if a),
            rarcs=rarcs, line_ref=line["line_id"], service_date=line["service_date"],
            units=str(line["units_milli"] // 1000), index=n)

    def claim_remit(self, info: ClaimInfo, status: str, services: list[ServiceRemit],
                    icn: str | None = None) -> ClaimRemit:
        return ClaimRemit(
            claim_id=info.claim_id, status_code=status,
            charge_cents=sum(s.charge_cents for s in services),
            paid_cents=Cents(sum(s.paid_cents for s in services)),
            patient_responsibility_cents=sum(a.amount_cents for s in services
                                             for a in s.adjustments if a.group == "PR"),
            payer_claim_control_number=icn or info.icn, paid_on=self.day,
            source=self.era_source(info), services=tuple(services))

    def adjudicate_secondary(self, info: ClaimInfo) -> None:
        led = self.ledger
        encounter = led.encounter(info.encounter_id)
        claim = led.claim(info.claim_id)
        services = []
        for n, line_id in enumerate(claim.line_ids, 1):
            line = encounter.line(line_id)
            held = encounter.party_balance(line_id, info.payer_id)
            share = info.shares.get(line_id, {"deductible": 0})
            if info.payer_id == "MCDOH":
                patient = 0                       # Medicaid leaves nothing to the patient
            elif info.plan_id in MEDIGAP:
                patient = min(share["deductible"], held) if info.plan_id == "MSUPN" else 0
            else:
                patient = held // 5               # the other plan's own 20% coinsurance
            cas = [("OA", "23", line["charge_cents"] - held), ("PR", "2", patient)]
            services.append(self.service(line, n, held - patient, cas, ()))
        led.post_remittance(self.claim_remit(info, "2", services))
        info.household.dirty = True

    def correct_and_replace(self, info: ClaimInfo) -> None:
        """CO-16 with M76: the coder completes the diagnoses; a replacement claim goes out."""
        led = self.ledger
        encounter = led.encounter(info.encounter_id)
        added = next(c for c in ADDED_DIAGNOSES
                     if c.replace(".", "") not in encounter.diagnoses)
        if len(encounter.diagnoses) < 12:
            led.correct_diagnoses(info.encounter_id, [*encounter.diagnoses, added],
                                  "payer asked for complete diagnoses (CO-16, M76)")
        for line_id in led.claim(info.claim_id).open_denials:
            led.work_denial(info.claim_id, line_id, "corrected", "diagnoses completed")
        if led.start_replacement(info.claim_id, "diagnoses completed per RARC M76"):
            raise AssertionError(f"replacement of {info.claim_id} fails scrubbing")
        info.story = "replaced"
        self.send(info.claim_id)

    def appeal(self, info: ClaimInfo) -> None:
        led = self.ledger
        line_ids = list(led.claim(info.claim_id).open_denials)
        for line_id in line_ids:
            led.work_denial(info.claim_id, line_id, "appealed",
                            "records sent: medically necessary")
        overturned = self.want("appeal-won", 0.5)
        self.at(self.day + timedelta(days=self.rng.randrange(25, 45)), ERA, BILLER,
                lambda: self.answer_appeal(info, line_ids, overturned))

    def answer_appeal(self, info: ClaimInfo, line_ids: list[str], overturned: bool) -> None:
        led = self.ledger
        if not overturned:
            for line_id in line_ids:
                self.write_off_with_approval(
                    info, line_id, "denial-write-off",
                    "CO-50 upheld on appeal; not billable to patient")
            info.household.dirty = True
            return
        encounter = led.encounter(info.encounter_id)
        services = []
        for n, line_id in enumerate(line_ids, 1):
            line = encounter.line(line_id)
            fee = self.allowed_per_unit(info.payer_id, info.plan_id, line["code"],
                                        line["service_date"])
            allowed = min(line["charge_cents"], fee * line["units_milli"] // 1000)
            coinsurance = allowed * PAYER_BY_ID[info.payer_id].plans[info.plan_id][4] // 100
            services.append(self.service(line, n, allowed - coinsurance, [
                ("CO", "45", line["charge_cents"] - allowed), ("PR", "2", coinsurance)], ()))
        led.post_remittance(self.claim_remit(info, "1", services))
        info.household.dirty = True

    def write_off_denial(self, info: ClaimInfo) -> None:
        led = self.ledger
        reason, kind = (("no proof of timely filing; not billable to patient", "timely-filing")
                        if info.story == "CO-29" else
                        ("no prior authorization on file; not billable to patient",
                         "denial-write-off"))
        for line_id in list(led.claim(info.claim_id).open_denials):
            led.work_denial(info.claim_id, line_id, "WO", reason)
            self.write_off_with_approval(info, line_id, kind, reason)

    def write_off_with_approval(self, info: ClaimInfo, line_id: str, kind: str,
                                reason: str) -> None:
        """Above the biller's limit: the biller asks, a supervisor (someone else) approves."""
        led = self.ledger
        with self.as_user(BILLER):
            request = led.request_write_off(info.encounter_id, line_id, info.payer_id,
                                            kind=kind, reason=reason)
        with self.as_user(SUPERVISOR):
            self.supervisor().approve_write_off(info.encounter_id, request)

    def reverse_and_correct(self, info: ClaimInfo) -> None:
        """CLP02=22 takes back the first payment; the corrected CLP pays the new fee."""
        original = info.remits[0]
        reversal = ClaimRemit(
            claim_id=info.claim_id, status_code="22", charge_cents=-original.charge_cents,
            paid_cents=Cents(-original.paid_cents),
            patient_responsibility_cents=-original.patient_responsibility_cents,
            payer_claim_control_number=original.payer_claim_control_number, paid_on=self.day,
            source=self.era_source(info), services=tuple(
                ServiceRemit(s.code, s.modifiers, -s.charge_cents, -s.paid_cents, tuple(
                    CasAdjustment(a.group, a.carc, -a.amount_cents) for a in s.adjustments),
                    line_ref=s.line_ref, service_date=s.service_date, units=s.units,
                    index=s.index) for s in original.services))
        self.ledger.post_remittance(reversal)
        corrected = []
        for s in original.services:
            contractual = sum(a.amount_cents for a in s.adjustments if a.group == "CO")
            raise_by = min(contractual, s.charge_cents * 4 // 100)  # a fee loaded too low
            adjustments = tuple(
                CasAdjustment(a.group, a.carc, a.amount_cents - raise_by)
                if a.group == "CO" else a for a in s.adjustments)
            corrected.append(ServiceRemit(
                s.code, s.modifiers, s.charge_cents, s.paid_cents + raise_by,
                tuple(a for a in adjustments if a.amount_cents), line_ref=s.line_ref,
                service_date=s.service_date, units=s.units, index=s.index))
        icn = f"{PAYER_BY_ID[info.payer_id].icn_prefix}{self.day:%y%j}{next(self.icn_seq):06d}"
        info.icn = icn
        self.ledger.post_remittance(self.claim_remit(info, "1", corrected, icn))
        info.household.dirty = True

    # -- patient accounts ------------------------------------------------------------------
    def balance(self, household: Household) -> tuple[int, int]:
        """(what the guarantor owes, their credit), recomputed only after something changed."""
        if household.dirty:
            shares = [encounter.party_balance(line_id, PATIENT)
                      for encounter in self.ledger.family_encounters(household.guarantor_no)
                      for line_id in encounter.lines]
            household.owed = sum(cents for cents in shares if cents > 0)
            household.credit = -sum(cents for cents in shares if cents < 0)
            household.dirty = False
        return household.owed, household.credit

    def statement_run(self, day: date) -> None:
        """Cycle billing: each guarantor's statement day comes once a month."""
        for household in self.households:
            if household.cycle_day != day.day or not household.guarantor_no:
                continue
            owed, credit = self.balance(household)
            if owed - credit <= 0:
                continue
            if credit == 0 and owed < 500:
                self.write_off_small(household)
            elif owed - credit < 500:
                continue  # a few dollars against a credit: let the claims settle first
            elif household.behavior == "nonpayer" and household.statements_unpaid >= 4:
                # Final notice sent; the supervisor's quarterly review decides on referral.
                if not household.placed and household not in self.for_collections:
                    self.for_collections.append(household)
            else:
                self.ledger.issue_statement(household.guarantor_no, issued_on=day)
                household.statements_unpaid += 1
                amount = owed - credit
                self.at(day + timedelta(days=self.rng.randrange(6, 25)), ACCOUNTS, BILLER,
                        partial(self.answer_statement, household, amount))

    def write_off_small(self, household: Household) -> None:
        with self.as_user(BILLER):
            for encounter, line_id, _ in self.ledger.patient_lines(household.guarantor_no):
                self.ledger.write_off(encounter.encounter_id, line_id, PATIENT,
                                      kind="small-balance", reason="balance under $5.00",
                                      approved_by=SUPERVISOR, effective_on=self.day)
        self.stories["small-balance"] = self.stories.get("small-balance", 0) + 1
        household.dirty = True

    def pay(self, household: Household, amount: int, method: str, reference: str = "") -> None:
        if amount > 0:
            self.ledger.post_patient_payment(household.guarantor_no, amount, paid_on=self.day,
                                             method=method, reference=reference)
            household.statements_unpaid = 0
            household.dirty = True

    def answer_statement(self, household: Household, amount: int) -> None:
        rng = self.rng
        method = rng.choice(["check", "card", "card", "ach"])
        behavior = household.behavior
        if behavior == "plan" and not household.plan_agreed:
            self.agree_plan(household)
        elif behavior == "duplicate" and not household.duplicate_done:
            household.duplicate_done = True
            self.pay(household, amount, "check", "statement stub")
            self.pay(household, amount, "card", "paid online as well")
            self.at(self.day + timedelta(days=rng.randrange(5, 12)), FOLLOW_UP, BILLER,
                    lambda: self.request_refund(household))
        elif behavior in ("prompt", "duplicate", "plan"):
            short = rng.randrange(1, 400) if self.want("short-pay", 0.1) else 0
            self.pay(household, amount - short, method)
        elif behavior == "partial":
            self.pay(household, max(1000, amount * rng.randrange(30, 60) // 100), method)
        elif behavior == "slow" and household.statements_unpaid >= 2:
            self.pay(household, amount, method)

    def agree_plan(self, household: Household) -> None:
        owed, _ = self.balance(household)
        if owed <= 0:
            return
        household.plan_agreed = True
        installment = min(owed, max(2500, owed // 5 // 100 * 100))
        with self.as_user(BILLER):
            self.ledger.agree_payment_plan(household.guarantor_no, installment,
                                           starts_on=self.day + timedelta(days=5),
                                           autopay_reference="card on file")
        self.at(self.day + timedelta(days=5), ACCOUNTS, BILLER,
                lambda: self.installment(household, installment, 1))

    def installment(self, household: Household, installment: int, n: int) -> None:
        household.dirty = True
        owed, _ = self.balance(household)
        if owed <= 0:
            with self.as_user(BILLER):
                self.ledger.complete_payment_plan(household.guarantor_no)
            return
        if n == 2 and self.want("missed-installment", 0.2):
            with self.as_user(BILLER):
                self.ledger.miss_installment(household.guarantor_no, due_on=self.day)
        else:
            self.pay(household, min(installment, owed), "card", f"installment {n}")
        self.at(self.day + timedelta(days=30), ACCOUNTS, BILLER,
                lambda: self.installment(household, installment, n + 1))

    def request_refund(self, household: Household) -> None:
        household.dirty = True
        _, credit = self.balance(household)
        if credit <= 0:
            return
        request_id = self.ledger.request_refund(household.guarantor_no, credit,
                                                reason="paid the same statement twice")
        self.at(self.day + timedelta(days=self.rng.randrange(1, 5)), FOLLOW_UP, SUPERVISOR,
                lambda: self.approve_refund(household, request_id))

    def approve_refund(self, household: Household, request_id: str) -> None:
        supervisor = self.supervisor()
        try:
            supervisor.approve_refund(household.guarantor_no, request_id)
        except BillingError:
            # The credit shrank since the request (a new balance absorbed it): decline it.
            supervisor.decline_refund(household.guarantor_no, request_id,
                                      "credit applied to a newer balance")
        household.dirty = True

    def collection_review(self) -> None:
        """Quarterly: refer the final-noticed accounts that still owe (the rest wait)."""
        waiting, self.for_collections = self.for_collections, []
        for household in waiting:
            owed, credit = self.balance(household)
            if owed - credit >= 2500 and not household.placed:
                self.refer(household)

    def refer(self, household: Household) -> None:
        led = self.ledger
        if led.account(household.guarantor_no).has_current_plan:
            return
        with self.as_user(SUPERVISOR):
            led.refer_to_collections(household.guarantor_no, AGENCY_NAME, referred_on=self.day)
        household.placed = True
        household.statements_unpaid = 0
        household.dirty = True
        if self.want("recovery", 0.6):
            self.at(self.day + timedelta(days=self.rng.randrange(35, 75)), ACCOUNTS, BILLER,
                    lambda: self.agency_recovery(household))

    def agency_recovery(self, household: Household) -> None:
        placed = self.ledger.account(household.guarantor_no).at_agency_cents
        if placed <= 0:
            return
        recovered = max(1, placed * self.rng.randrange(40, 101) // 100)
        self.ledger.record_agency_recovery(household.guarantor_no, recovered,
                                           fee_cents=recovered * 30 // 100,
                                           recovered_on=self.day)


def build_demo(ledger: BillingLedger, patients: int = 200, seed: int = 0,
               through: date | None = None) -> dict[str, int]:
    """Play a year of a primary-care practice into an empty ledger, ending on `through`.

    Returns {"patients", "claims", "events"}. Build the ledger with the same `seed=` for
    identical ids; `through` defaults to today.
    """
    for _, _, dx_choices, optional, _, _ in VISITS:
        bad = [c for group in dx_choices for c in group + optional if not is_billable_icd10(c)]
        assert not bad, f"demo diagnoses are not billable ICD-10-CM codes: {bad}"
    practice = DemoPractice(ledger, patients, seed, through or clock.today())
    return practice.run()
