"""837P in: claims a practice's EHR sends us, read from X12 and entered as billed.

`parse_837` reads a file into plain records (`ClaimIn`, one per CLM) and the problems that
refuse it; it never touches the ledger. `import_837` then enters a valid file through the
ledger's use cases in one all-or-nothing save (`BillingLedger.record_import`, keyed by the
file's SHA-256): payers (NM1*PR), providers (NM1*85 billing, NM1*82 rendering), patients
(matched by name and birth date), their coverage (SBR + NM1*IL, other payers from 2320/2330)
and, per claim, a visit whose lines carry the EHR's own charges, so each claim's charge is
CLM02 and equals the sum of its SV102s, to the cent. Every new claim is scrubbed at once:
what the EHR coded that a payer will not take (an ICD-9 diagnosis, a non-CPT code, a passed
filing deadline) is listed on the claim for a biller to fix.

Refused, naming the fault and recording nothing: 837I (institutional claims are out of
scope), versions other than 5010 (005010X222), broken envelopes (SE/GE/IEA counts and
control numbers), a CLM02 that differs from its lines, an NPI that fails its check digit
(we do not enroll providers under invalid NPIs), replacement or void claims (frequency 7/8),
and anything missing that a claim cannot be entered without.

A claim is known by its billing NPI and CLM01; the ledger's claim id is derived from that
pair, so a claim the EHR sends again in another file is reported as a duplicate, not
entered twice. The primary payer's adjudication that a secondary claim carries (2320 AMT,
2430 SVD/CAS) is not posted; the scrubber holds such a claim until the primary's is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from domain.application import BillingLedger
from domain.codes import (
    ClaimFilingIndicator,
    Relationship,
    is_valid_modifier,
    is_valid_npi,
    is_valid_pos,
    normalize_tin,
)
from domain.errors import BillingError, NotFoundError, RuleViolation
from domain.import_record import ImportOutcome, ImportRefused
from domain.money import AmountError, cents_from_x12
from domain.patient_account import ORDER_LETTERS
from domain.services.charges import parse_units
from importers.csv_import import already_imported, sha256_of, stable_id
from importers.x12.segments import (
    Segment,
    Separators,
    X12SyntaxError,
    decode,
    iter_transactions,
    tokenize,
)

KIND = "837"
SUPPORTED_VERSION = "005010X222"     # 837P, with the A1 and A2 errata
INSTITUTIONAL = ("X223", "X096")     # 837I in 5010 and 4010
PAYER_ID = re.compile(r"^[A-Z0-9]{2,20}$")
DIAGNOSIS_QUALIFIERS = {"ABK": "ICD-10-CM", "ABF": "ICD-10-CM", "BK": "ICD-9-CM", "BF": "ICD-9-CM"}
FILING_INDICATORS = frozenset(f.value for f in ClaimFilingIndicator)
RELATIONSHIPS = frozenset(r.value for r in Relationship)

Progress = Callable[[int, int], None]


@dataclass
class PersonIn:
    last_name: str = ""
    first_name: str = ""
    middle_name: str = ""
    is_person: bool = True
    identifier: str = ""            # NM109: member id, NPI
    birth_date: date | None = None
    sex: str = ""
    address: dict[str, str] = field(default_factory=dict)
    where: str = ""

    @property
    def name(self) -> str:
        return ", ".join(p for p in (self.last_name, self.first_name) if p)


@dataclass
class ProviderIn:
    npi: str
    person: PersonIn
    tin: str = ""
    taxonomy: str = ""
    where: str = ""


@dataclass
class CoverageIn:
    order: str = ""                 # SBR01
    relationship: str = ""          # patient to subscriber: SBR02 (18) or PAT01
    group_number: str = ""
    filing_indicator: str = ""
    subscriber: PersonIn = field(default_factory=PersonIn)
    payer_id: str = ""
    payer_name: str = ""
    where: str = ""


@dataclass
class LineIn:
    code: str
    modifiers: list[str]
    description: str
    charge_cents: int
    units: str
    place_of_service: str
    pointers: list[int]
    service_date: date | None
    where: str


@dataclass
class ClaimIn:
    pcn: str
    charge_cents: int
    place_of_service: str
    frequency: str
    billing: ProviderIn
    coverage: CoverageIn
    patient: PersonIn
    where: str
    diagnoses: list[str] = field(default_factory=list)
    diagnosis_systems: set[str] = field(default_factory=set)
    prior_authorization: str = ""
    rendering: ProviderIn | None = None
    referring_npi: str = ""
    other_coverage: list[CoverageIn] = field(default_factory=list)
    lines: list[LineIn] = field(default_factory=list)

    @property
    def service_date(self) -> date:
        return min(line.service_date for line in self.lines if line.service_date)

    @property
    def key(self) -> tuple[str, str]:
        return self.billing.npi, self.pcn


@dataclass
class Parsed837:
    name: str
    sha256: str
    claims: list[ClaimIn]
    problems: list[str]
    transactions: int = 0


def where(segment: Segment) -> str:
    return f"segment {segment.index} {segment.id} (line {segment.line})"


def parse_837(data: bytes, name: str = "<input>") -> Parsed837:
    """Read an 837P file into claims; `problems` lists every reason to refuse it."""
    parsed = Parsed837(name, sha256_of(data), [], [])
    try:
        separators, segments = tokenize(decode(data, name), name)
    except X12SyntaxError as error:
        parsed.problems.append(str(error).removeprefix(f"{name}: "))
        return parsed
    try:
        transactions = list(iter_transactions(segments))
    except X12SyntaxError as error:
        parsed.problems.append(str(error))
        return parsed
    for _isa, gs, transaction in transactions:
        parsed.transactions += 1
        st = transaction[0]
        if st.get(1) != "837":
            parsed.problems.append(f"{where(st)}: transaction set {st.get(1)} is not an 837")
            continue
        version = st.get(3) or gs.get(8)
        if any(mark in version for mark in INSTITUTIONAL):
            parsed.problems.append(
                f"{where(st)}: 837I (institutional) is out of scope ({version}); claimdesk "
                "bills professional claims (837P)")
            continue
        if not version.startswith(SUPPORTED_VERSION):
            parsed.problems.append(
                f"{where(st)}: unsupported version {version or '(none)'}; only 5010 837P "
                f"({SUPPORTED_VERSION}A1/A2) is imported")
            continue
        reader = _TransactionReader(separators)
        for segment in transaction[1:-1]:
            reader.read(segment)
        reader.finish()
        parsed.claims += reader.claims
        parsed.problems += reader.problems
    # What the file is comes first in the message; then whether its envelope holds together.
    parsed.problems += _envelope_problems(segments)
    if not parsed.problems and not parsed.claims:
        parsed.problems.append("the file has no claims (no CLM segment)")
    parsed.problems += _claim_problems(parsed.claims)
    return parsed


def _envelope_problems(segments: list[Segment]) -> list[str]:
    problems: list[str] = []
    isa = gs = st = None
    groups = transactions = count = 0
    for segment in segments:
        count += 1
        if segment.id == "ISA":
            isa, groups = segment, 0
        elif segment.id == "GS":
            gs, transactions = segment, 0
            groups += 1
        elif segment.id == "ST":
            st, count = segment, 1
            transactions += 1
        elif segment.id == "SE" and st is not None:
            if segment.get(1) != str(count):
                problems.append(f"{where(segment)}: SE01 says {segment.get(1)} segments but the "
                                f"transaction set has {count}")
            if segment.get(2) != st.get(2):
                problems.append(f"{where(segment)}: SE02 {segment.get(2)} differs from ST02 "
                                f"{st.get(2)}")
            st = None
        elif segment.id == "GE" and gs is not None:
            if segment.get(1) != str(transactions):
                problems.append(f"{where(segment)}: GE01 says {segment.get(1)} transaction sets "
                                f"but the group has {transactions}")
            if segment.get(2) != gs.get(6):
                problems.append(f"{where(segment)}: GE02 {segment.get(2)} differs from GS06 "
                                f"{gs.get(6)}")
            gs = None
        elif segment.id == "IEA" and isa is not None:
            if segment.get(1) != str(groups):
                problems.append(f"{where(segment)}: IEA01 says {segment.get(1)} groups but the "
                                f"interchange has {groups}")
            if segment.get(2) != isa.get(13):
                problems.append(f"{where(segment)}: IEA02 {segment.get(2)} differs from ISA13 "
                                f"{isa.get(13)}")
            isa = None
    if st is not None:
        problems.append(f"{where(st)}: transaction set {st.get(2)} has no SE")
    return problems


def _x12_date(text: str) -> date | None:
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


class _TransactionReader:
    """Walks one ST..SE in order, keeping the loop it is in (HL level, claim, other payer, line)."""

    def __init__(self, separators: Separators) -> None:
        self.separators = separators
        self.claims: list[ClaimIn] = []
        self.problems: list[str] = []
        self.billing: ProviderIn | None = None
        self.coverage: CoverageIn | None = None
        self.patient: PersonIn | None = None
        self.claim: ClaimIn | None = None
        self.section = ""            # "claim" (2300/2310), "other" (2320/2330), "line" (2400+)
        self.target: PersonIn | None = None   # whose N3/N4/DMG come next
        self.line: LineIn | None = None
        self.warned_separator = False

    def problem(self, segment: Segment, message: str) -> None:
        self.problems.append(f"{where(segment)}: {message}")

    def components(self, segment: Segment, position: int) -> list[str]:
        parts = segment.components(position, self.separators)
        stray = sorted({c for c in parts[0] if c in ":>^`|\\<"})
        if len(parts) == 1 and stray and not self.warned_separator:
            self.warned_separator = True
            self.problem(segment, f"{segment.id}{position:02d} {parts[0]!r} is not split by the "
                         f"component separator {self.separators.component!r} that ISA16 "
                         f"declares (it contains {''.join(stray)!r})")
        return parts

    def person(self, segment: Segment) -> PersonIn:
        return PersonIn(last_name=segment.get(3), first_name=segment.get(4),
                        middle_name=segment.get(5), is_person=segment.get(2) == "1",
                        identifier=segment.get(9), where=where(segment))

    def read(self, segment: Segment) -> None:
        handler = getattr(self, f"_{segment.id.lower()}", None)
        if handler is not None:
            handler(segment)

    def finish(self) -> None:
        self._close_claim()

    # -- hierarchy --------------------------------------------------------------------------
    def _hl(self, segment: Segment) -> None:
        self._close_claim()
        level = segment.get(3)
        self.target = None
        if level == "20":
            self.billing, self.coverage, self.patient = None, None, None
        elif level == "22":
            self.coverage, self.patient = CoverageIn(where=where(segment)), None
        elif level == "23" and self.coverage is not None:
            # Each patient of a subscriber has their own relationship (PAT01) to them.
            self.coverage = replace(self.coverage)
            self.patient = PersonIn(where=where(segment))

    def _prv(self, segment: Segment) -> None:
        if segment.get(1) == "BI" and self.billing is not None:
            self.billing.taxonomy = segment.get(3)

    def _sbr(self, segment: Segment) -> None:
        coverage = CoverageIn(order=segment.get(1), relationship=segment.get(2),
                              group_number=segment.get(3), filing_indicator=segment.get(9),
                              where=where(segment))
        if self.claim is not None:       # 2320: another payer of this claim
            self.section = "other"
            self.claim.other_coverage.append(coverage)
        elif self.coverage is not None:
            self.coverage = coverage
        else:
            self.problem(segment, "SBR outside a subscriber (HL*22) loop")

    def _pat(self, segment: Segment) -> None:
        if self.coverage is not None:
            self.coverage.relationship = segment.get(1)

    def _nm1(self, segment: Segment) -> None:
        entity, section = segment.get(1), self.section
        self.target = None
        if section == "other" and self.claim is not None:
            other = self.claim.other_coverage[-1]
            if entity == "IL":
                other.subscriber = self.person(segment)
            elif entity == "PR":
                other.payer_id, other.payer_name = segment.get(9), segment.get(3)
            return
        if section == "line":
            return                       # line-level providers are not kept
        if section == "claim" and self.claim is not None:
            if entity == "82":
                self.claim.rendering = ProviderIn(segment.get(9), self.person(segment),
                                                  where=where(segment))
            elif entity == "DN":
                self.claim.referring_npi = segment.get(9)
            return
        if entity == "85":
            self.billing = ProviderIn(segment.get(9), self.person(segment), where=where(segment))
            self.target = self.billing.person
        elif entity == "IL" and self.coverage is not None:
            self.coverage.subscriber = self.person(segment)
            self.target = self.coverage.subscriber
        elif entity == "PR" and self.coverage is not None:
            self.coverage.payer_id, self.coverage.payer_name = segment.get(9), segment.get(3)
        elif entity == "QC" and self.patient is not None:
            self.patient = self.person(segment)
            self.target = self.patient

    def _n3(self, segment: Segment) -> None:
        if self.target is not None:
            self.target.address.update(line1=segment.get(1), line2=segment.get(2))

    def _n4(self, segment: Segment) -> None:
        if self.target is not None:
            self.target.address.update(city=segment.get(1), state=segment.get(2),
                                       zip=segment.get(3))

    def _dmg(self, segment: Segment) -> None:
        if self.target is None:
            return
        if segment.get(1) != "D8" or _x12_date(segment.get(2)) is None:
            self.problem(segment, f"birth date {segment.get(2)!r} is not a D8 date (CCYYMMDD)")
            return
        self.target.birth_date = _x12_date(segment.get(2))
        self.target.sex = segment.get(3)

    def _ref(self, segment: Segment) -> None:
        qualifier = segment.get(1)
        if qualifier in ("EI", "SY") and self.claim is None and self.billing is not None and (
                self.coverage is None):
            self.billing.tin = segment.get(2)
        elif qualifier == "G1" and self.claim is not None and self.section == "claim":
            self.claim.prior_authorization = segment.get(2)

    # -- claims -----------------------------------------------------------------------------
    def _clm(self, segment: Segment) -> None:
        self._close_claim()
        if self.billing is None or self.coverage is None:
            self.problem(segment, "CLM outside a billing provider and subscriber hierarchy")
            return
        charge = 0
        try:
            charge = cents_from_x12(segment.get(2))
        except AmountError as error:
            self.problem(segment, f"CLM02 {error}")
        facility = self.components(segment, 5)
        patient = self.patient if self.patient is not None else self.coverage.subscriber
        self.claim = ClaimIn(
            pcn=segment.get(1), charge_cents=charge, place_of_service=facility[0],
            frequency=facility[2] if len(facility) > 2 else "", billing=self.billing,
            coverage=self.coverage, patient=patient, where=where(segment))
        self.section = "claim"

    def _hi(self, segment: Segment) -> None:
        if self.claim is None:
            return
        for position in range(1, len(segment.elements)):
            parts = self.components(segment, position)
            system = DIAGNOSIS_QUALIFIERS.get(parts[0])
            if system is not None and len(parts) > 1 and parts[1]:
                self.claim.diagnoses.append(parts[1])
                self.claim.diagnosis_systems.add(system)

    def _lx(self, segment: Segment) -> None:
        if self.claim is None:
            self.problem(segment, "LX outside a claim")
            return
        self.section = "line"
        self.line = None

    def _sv1(self, segment: Segment) -> None:
        if self.claim is None or self.section != "line":
            self.problem(segment, "SV1 outside a service line (LX)")
            return
        procedure = self.components(segment, 1)
        charge = 0
        try:
            charge = cents_from_x12(segment.get(2))
        except AmountError as error:
            self.problem(segment, f"SV102 {error}")
        pointers: list[int] = []
        for text in self.components(segment, 7):
            if text:
                if not text.isdigit():
                    self.problem(segment, f"SV107 pointer {text!r} is not a number")
                    continue
                pointers.append(int(text))
        self.line = LineIn(
            code=procedure[1] if len(procedure) > 1 else "",
            modifiers=[m for m in procedure[2:6] if m],
            description=procedure[6] if len(procedure) > 6 else "", charge_cents=charge,
            units=segment.get(4), place_of_service=segment.get(5), pointers=pointers,
            service_date=None, where=where(segment))
        self.claim.lines.append(self.line)

    def _dtp(self, segment: Segment) -> None:
        if segment.get(1) != "472" or self.line is None or self.section != "line":
            return
        text = segment.get(3)
        first = text.split("-")[0] if segment.get(2) == "RD8" else text
        self.line.service_date = _x12_date(first)
        if self.line.service_date is None:
            self.problem(segment, f"service date {text!r} is not a date (CCYYMMDD)")

    def _close_claim(self) -> None:
        if self.claim is not None:
            self.claims.append(self.claim)
        self.claim, self.line, self.section = None, None, ""


# -- what refuses a claim ----------------------------------------------------------------------

def _claim_problems(claims: list[ClaimIn]) -> list[str]:
    problems: list[str] = []
    seen: dict[tuple[str, str], str] = {}
    for claim in claims:
        at = f"claim {claim.pcn or '(no CLM01)'} at {claim.where}"
        problems.extend(f"{at}: {p}" for p in _one_claim_problems(claim, seen))
        seen.setdefault(claim.key, claim.where)
    return problems


def _one_claim_problems(claim: ClaimIn, seen: dict[tuple[str, str], str]) -> list[str]:
    found: list[str] = []
    if claim.key in seen:
        found.append(f"billing NPI {claim.billing.npi} sent CLM01 {claim.pcn} twice "
                     f"(first at {seen[claim.key]})")
    if not claim.pcn:
        found.append("CLM01 (patient control number) is empty")
    if claim.frequency in ("7", "8"):
        found.append(f"frequency {claim.frequency} (replacement/void of a claim sent before) is "
                     "not imported; correct the claim in claimdesk instead")
    if not is_valid_pos(claim.place_of_service):
        found.append(
            f"CLM05-1 place of service {claim.place_of_service!r} is not a CMS POS code")
    found += _provider_problems(claim.billing, "billing")
    if claim.rendering is not None:
        found += _provider_problems(claim.rendering, "rendering", needs_tin=False)
    if claim.referring_npi and not is_valid_npi(claim.referring_npi):
        found.append(f"referring provider NPI {claim.referring_npi} fails the check digit")
    found += _coverage_problems(claim.coverage, "")
    for other in claim.other_coverage:
        found += _coverage_problems(other, "other ")
    found += _patient_problems(claim)
    if not 1 <= len(claim.diagnoses) <= 12:
        found.append(f"{len(claim.diagnoses)} diagnoses (HI); a claim carries 1 to 12")
    if not 1 <= len(claim.lines) <= 50:
        found.append(f"{len(claim.lines)} service lines; a claim carries 1 to 50")
    for line in claim.lines:
        found += [f"line at {line.where}: {p}"
                  for p in _line_problems(line, len(claim.diagnoses))]
    total = sum(line.charge_cents for line in claim.lines)
    if claim.lines and total != claim.charge_cents:
        found.append(f"CLM02 {_dollars(claim.charge_cents)} differs from the sum of its lines' "
                     f"SV102, {_dollars(total)}")
    return found


def _dollars(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _provider_problems(provider: ProviderIn, role: str, *, needs_tin: bool = True) -> list[str]:
    problems = []
    if not is_valid_npi(provider.npi):
        problems.append(f"{role} provider NPI {provider.npi or '(none)'} at {provider.where} "
                        "fails the NPI check digit; claimdesk enrolls providers only under a "
                        "valid NPI")
    if not provider.person.last_name:
        problems.append(f"{role} provider at {provider.where} has no name")
    if needs_tin:
        try:
            normalize_tin(provider.tin)
        except ValueError:
            problems.append(f"{role} provider {provider.npi} has no valid TIN (REF*EI/SY): "
                            f"{provider.tin!r}")
    return problems


def _coverage_problems(coverage: CoverageIn, other: str) -> list[str]:
    problems = []
    if coverage.order not in ORDER_LETTERS:
        problems.append(f"{other}payer order SBR01 {coverage.order!r} at {coverage.where} is not "
                        "P, S, T or A-H")
    if not PAYER_ID.match(coverage.payer_id):
        problems.append(f"{other}payer id {coverage.payer_id!r} (NM1*PR) must be 2-20 letters "
                        "or digits")
    if not coverage.subscriber.identifier.strip():
        problems.append(f"{other}subscriber has no member id (NM1*IL NM109)")
    if not coverage.subscriber.last_name:
        problems.append(f"{other}subscriber has no name (NM1*IL)")
    return problems


def _patient_problems(claim: ClaimIn) -> list[str]:
    problems = []
    patient = claim.patient
    if not (patient.last_name and patient.first_name):
        problems.append(f"the patient has no last and first name (NM1*QC/IL at "
                        f"{patient.where or claim.coverage.where})")
    if patient.birth_date is None:
        problems.append(f"the patient {patient.name} has no birth date (DMG)")
    if patient.sex not in ("F", "M", "U"):
        problems.append(f"the patient's sex (DMG03) {patient.sex!r} is not F, M or U")
    relationship = claim.coverage.relationship or "18"
    if relationship not in RELATIONSHIPS:
        problems.append(f"relationship to the subscriber {relationship!r} (SBR02/PAT01) is not "
                        "a 5010 code")
    state = patient.address.get("state", "")
    zip_code = patient.address.get("zip", "").replace("-", "")
    if state and not (len(state) == 2 and state.isalpha()):
        problems.append(f"the patient's state {state!r} (N4) is not a 2-letter code")
    if zip_code and not (zip_code.isdigit() and len(zip_code) in (5, 9)):
        problems.append(f"the patient's ZIP {zip_code!r} (N4) is not 5 or 9 digits")
    return problems


def _line_problems(line: LineIn, diagnoses: int) -> list[str]:
    problems = []
    if not line.code:
        problems.append("SV101-2 procedure code is empty")
    bad = [m for m in line.modifiers if not is_valid_modifier(m.upper())]
    if bad:
        problems.append(f"modifiers {', '.join(bad)} are not 2 letters or digits")
    if line.charge_cents <= 0:
        problems.append(f"SV102 charge {_dollars(line.charge_cents)} must be positive")
    if line.service_date is None:
        problems.append("no DTP*472 service date")
    if line.place_of_service and not is_valid_pos(line.place_of_service):
        problems.append(f"SV105 place of service {line.place_of_service!r} is not a CMS POS code")
    if not 1 <= len(line.pointers) <= 4 or len(set(line.pointers)) != len(line.pointers) or not (
            all(1 <= p <= diagnoses for p in line.pointers)):
        problems.append(f"SV107 pointers {line.pointers} must be 1 to 4 different numbers "
                        f"pointing at the claim's {diagnoses} diagnoses")
    try:
        parse_units(line.units or "0")
    except BillingError:
        problems.append(f"SV104 units {line.units!r} must be positive with at most 3 decimals")
    return problems


# -- entering a file ---------------------------------------------------------------------------

def claim_id_for(billing_npi: str, pcn: str) -> str:
    """The ledger's claim id for an EHR claim: the same one whichever file brings it."""
    return stable_id("E", 10, "837", billing_npi, pcn)


def account_no_for(patient: PersonIn) -> str:
    """A patient is matched by name and birth date (an 837 carries no MRN)."""
    birth = patient.birth_date.isoformat() if patient.birth_date else ""
    return stable_id("P", 9, "837", patient.last_name.strip().upper(),
                     patient.first_name.strip().upper(), birth)


def import_837(ledger: BillingLedger, data: bytes, name: str = "<input>", *,
               progress: Progress | None = None) -> ImportOutcome:
    """Enter every claim of an 837P file, or none (ImportRefused names each fault)."""
    sha = sha256_of(data)
    if (again := already_imported(ledger, KIND, sha, name)) is not None:
        return again
    parsed = parse_837(data, name)
    if parsed.problems:
        raise ImportRefused(name, parsed.problems)
    return ledger.record_import(KIND, sha, name, lambda: _Entering(ledger, parsed, progress).run())


class _Entering:
    """One run of entering a parsed file (run again from scratch after a write conflict)."""

    def __init__(self, ledger: BillingLedger, parsed: Parsed837,
                 progress: Progress | None) -> None:
        self.ledger = ledger
        self.parsed = parsed
        self.progress = progress
        self.counts = dict.fromkeys(("claims", "charge_cents", "duplicates", "patients",
                                     "providers", "payers", "ready", "with_problems"), 0)
        self.claim_ids: list[list[str]] = []
        # A policy starts at the earliest date of service it is billed for in this file.
        self.first_service: dict[tuple[str, str, str], date] = {}

    def run(self) -> dict[str, Any]:
        claims = self.parsed.claims
        for claim in claims:
            account_no = account_no_for(claim.patient)
            for coverage in (claim.coverage, *claim.other_coverage):
                key = (account_no, coverage.payer_id, coverage.subscriber.identifier)
                self.first_service[key] = min(self.first_service.get(key, claim.service_date),
                                              claim.service_date)
        for done, claim in enumerate(claims, start=1):
            try:
                self.enter(claim)
            except BillingError as error:
                raise ImportRefused(self.parsed.name, [
                    f"claim {claim.pcn} at {claim.where}: {error}"]) from None
            if self.progress is not None:
                self.progress(done, len(claims))
        return {"file": self.parsed.name, **self.counts, "claim_ids": self.claim_ids}

    def enter(self, claim: ClaimIn) -> None:
        ledger = self.ledger
        claim_id = claim_id_for(*claim.key)
        account_no = account_no_for(claim.patient)
        if _has_claim(ledger, claim_id):
            existing = ledger.claim(claim_id)
            if existing.charge_cents != claim.charge_cents or existing.account_no != account_no:
                raise RuleViolation(
                    f"CLM01 {claim.pcn} of billing NPI {claim.billing.npi} was imported before "
                    f"as claim {claim_id} with other content; correct that claim instead")
            self.counts["duplicates"] += 1
            return
        self.provider(claim.billing, billing=True)
        if claim.rendering is not None:
            self.provider(claim.rendering, billing=False, tin=claim.billing.tin)
        coverages = sorted([claim.coverage, *claim.other_coverage],
                           key=lambda c: ORDER_LETTERS.index(c.order))
        for coverage in coverages:
            self.payer(coverage)
        self.patient(claim, account_no)
        for coverage in coverages:
            self.policy(claim, account_no, coverage)
        encounter_id = stable_id("V", 9, "837", *claim.key)
        ledger.open_encounter_as_billed(
            account_no, claim.service_date, billing_npi=claim.billing.npi,
            place_of_service=claim.place_of_service, diagnoses=claim.diagnoses,
            payers=[c.payer_id for c in coverages], encounter_id=encounter_id,
            rendering_npi=claim.rendering.npi if claim.rendering else "",
            referring_npi=claim.referring_npi,
            prior_authorization=claim.prior_authorization)
        line_ids = [
            ledger.enter_charge_priced(
                encounter_id, line.code, charge_cents=line.charge_cents, units=line.units,
                modifiers=line.modifiers, pointers=line.pointers, service_date=line.service_date,
                place_of_service=line.place_of_service, description=line.description)
            for line in claim.lines]
        ledger.create_claim(encounter_id, claim.coverage.payer_id, line_ids=line_ids,
                            claim_id=claim_id)
        problems = ledger.scrub_claim(claim_id)
        self.counts["ready" if not problems else "with_problems"] += 1
        self.counts["claims"] += 1
        self.counts["charge_cents"] += claim.charge_cents
        self.claim_ids.append([claim.pcn, claim_id])

    def provider(self, provider: ProviderIn, *, billing: bool, tin: str = "") -> None:
        try:
            enrolled = self.ledger.provider(provider.npi)
        except NotFoundError:
            person = provider.person
            name = person.last_name if not person.is_person else " ".join(
                p for p in (person.last_name, person.first_name) if p)
            self.ledger.enroll_provider(
                provider.npi, name, provider.tin or tin, provider.taxonomy,
                is_billing=billing, is_person=person.is_person,
                address=_address(person.address))
            self.counts["providers"] += 1
            return
        if billing and not enrolled.is_billing:
            raise RuleViolation(f"provider {provider.npi} is enrolled, but not as a billing "
                                "provider")

    def payer(self, coverage: CoverageIn) -> None:
        indicator = coverage.filing_indicator if coverage.filing_indicator in (
            FILING_INDICATORS) else "ZZ"
        try:
            payer = self.ledger.payer(coverage.payer_id)
        except NotFoundError:
            self.ledger.register_payer(coverage.payer_id, coverage.payer_name or coverage.payer_id,
                                       filing_indicator=indicator)
            self.counts["payers"] += 1
            payer = self.ledger.payer(coverage.payer_id)
        if indicator not in payer.plans:
            self.ledger.add_plan(coverage.payer_id, indicator,
                                 f"{payer.name} ({ClaimFilingIndicator(indicator).name})",
                                 product=indicator)

    def patient(self, claim: ClaimIn, account_no: str) -> None:
        try:
            self.ledger.account(account_no)
        except NotFoundError:
            person = claim.patient
            assert person.birth_date is not None
            self.ledger.register_patient(
                person.last_name, person.first_name, person.birth_date, person.sex,
                middle_name=person.middle_name, address=_address(person.address),
                account_no=account_no)
            self.counts["patients"] += 1

    def policy(self, claim: ClaimIn, account_no: str, coverage: CoverageIn) -> None:
        member_id = coverage.subscriber.identifier.strip()
        account = self.ledger.account(account_no)
        if any(p["payer_id"] == coverage.payer_id and p["member_id"] == member_id
               and p["terminated_on"] is None for p in account.policies.values()):
            return
        relationship = (coverage.relationship or "18") if coverage is claim.coverage else (
            coverage.relationship or "21")
        if relationship not in RELATIONSHIPS:
            relationship = "21"
        subscriber = coverage.subscriber
        indicator = coverage.filing_indicator if coverage.filing_indicator in (
            FILING_INDICATORS) else "ZZ"
        self.ledger.add_coverage(
            account_no, coverage.payer_id, indicator, member_id,
            group_number=coverage.group_number, relationship=relationship,
            subscriber={"last_name": subscriber.last_name, "first_name": subscriber.first_name,
                        "birth_date": subscriber.birth_date.isoformat()
                        if subscriber.birth_date else "", "sex": subscriber.sex,
                        "address": _address(subscriber.address)},
            effective_on=self.first_service[(account_no, coverage.payer_id, member_id)],
            order=coverage.order)


def _has_claim(ledger: BillingLedger, claim_id: str) -> bool:
    try:
        ledger.claim(claim_id)
    except NotFoundError:
        return False
    return True


def _address(address: dict[str, str]) -> dict[str, str]:
    zip_code = address.get("zip", "").replace("-", "")
    return {"line1": address.get("line1", ""), "line2": address.get("line2", ""),
            "city": address.get("city", ""), "state": address.get("state", "").upper(),
            "zip": zip_code}
