"""Synthea's CSV export in: synthetic patients, their payers, visits, claims and claim transactions.

`read_synthea` reads an export directory (patients, payers, payer_transitions, organizations,
encounters, claims, claims_transactions) into plain records and checks it whole, naming file,
line and column of each fault. `import_synthea` enters it through the ledger's use cases in
one all-or-nothing save keyed by the export's SHA-256:

- a patient per Synthea patient (account number derived from its id), one policy per payer
  they ever had (payer_transitions periods merged; the member id is the latest period's);
- a payer per Synthea payer except NO_INSURANCE (self-pay), a billing provider per
  organization (Synthea has no NPIs: each gets a synthetic one, valid check digit, derived
  from its id);
- an encounter per Synthea encounter, with the diagnoses of its claims and one line per
  CHARGE at Synthea's amount; a claim per payer of each insured Synthea claim (primary, and
  secondary when it has one), scrubbed (SNOMED, RxNorm and CVX codes are not CPT/HCPCS or
  ICD-10-CM: the scrubber lists them, the codes stay as given) and closed when Synthea says
  CLOSED;
- every transaction, in Synthea's order (CHARGEID): PAYMENT by whoever holds the line then
  (a COPAY is the patient's: the copay's worth of the line moves to the patient first),
  ADJUSTMENT likewise, TRANSFERIN moving the line to the patient ("p") or the secondary
  ("2") payer.

Each Synthea claim's balance then equals its charges - payments - adjustments in the file,
to the cent. Where a patient paid more than was left (Synthea's 190 copays above the charge,
e.g. 80.00 on 77.49, which it reports as OUTSTANDING 0) the line shows a patient credit, the
refund queue's business, instead of vanishing.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from domain.application import BillingLedger
from domain.codes import is_valid_npi, is_valid_procedure_code
from domain.errors import BillingError, NotFoundError
from domain.import_record import ImportOutcome, ImportRefused
from domain.ledger import PATIENT, AdjustmentKind
from domain.money import AmountError, cents_from_text
from domain.services.bulk import SourceEntry
from importers.csv_import import already_imported, stable_id

KIND = "synthea"
NO_INSURANCE = "NO_INSURANCE"
NO_PAYER = "0"
PLAN_ID = "SYNTHEA"

Progress = Callable[[int, int], None]

# The columns read from each file; others (costs, coordinates, ...) are ignored.
COLUMNS: dict[str, tuple[str, ...]] = {
    "patients.csv": ("Id", "BIRTHDATE", "FIRST", "LAST", "GENDER", "ADDRESS", "CITY", "STATE",
                     "ZIP"),
    "payers.csv": ("Id", "NAME", "ADDRESS", "CITY", "STATE_HEADQUARTERED", "ZIP"),
    "payer_transitions.csv": ("PATIENT", "MEMBERID", "START_YEAR", "END_YEAR", "PAYER",
                              "SECONDARY_PAYER", "OWNERSHIP", "OWNERNAME"),
    "organizations.csv": ("Id", "NAME", "ADDRESS", "CITY", "STATE", "ZIP"),
    "encounters.csv": ("Id", "START", "PATIENT", "ORGANIZATION", "ENCOUNTERCLASS"),
    "claims.csv": ("Id", "PATIENTID", "PRIMARYPATIENTINSURANCEID", "SECONDARYPATIENTINSURANCEID",
                   *(f"DIAGNOSIS{i}" for i in range(1, 9)), "APPOINTMENTID", "SERVICEDATE",
                   "STATUS1", "STATUS2"),
    "claims_transactions.csv": ("ID", "CLAIMID", "CHARGEID", "TYPE", "AMOUNT", "METHOD",
                                "FROMDATE", "PROCEDURECODE", "DIAGNOSISREF1", "DIAGNOSISREF2",
                                "DIAGNOSISREF3", "DIAGNOSISREF4", "UNITS", "NOTES",
                                "TRANSFERTYPE", "PAYMENTS", "ADJUSTMENTS", "TRANSFERS"),
}

PLACE_OF_SERVICE = {"ambulatory": "11", "wellness": "11", "outpatient": "22",
                    "emergency": "23", "inpatient": "21", "urgentcare": "20", "home": "12",
                    "virtual": "02", "snf": "31", "hospice": "34"}
PAYMENT_METHODS = {"CASH": "cash", "CHECK": "check", "ECHECK": "ach", "CC": "card",
                   "COPAY": "other"}
RELATIONSHIPS = {"Self": "18", "": "18", "Guardian": "19", "Spouse": "01"}
FILING = {"Medicare": "MB", "Medicaid": "MC", "Dual Eligible": "MC"}
TYPES = ("CHARGE", "PAYMENT", "ADJUSTMENT", "TRANSFERIN", "TRANSFEROUT")

STATES = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA",
    "Colorado": "CO", "Connecticut": "CT", "Delaware": "DE", "District of Columbia": "DC",
    "Florida": "FL", "Georgia": "GA", "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL",
    "Indiana": "IN", "Iowa": "IA", "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA",
    "Maine": "ME", "Maryland": "MD", "Massachusetts": "MA", "Michigan": "MI",
    "Minnesota": "MN", "Mississippi": "MS", "Missouri": "MO", "Montana": "MT",
    "Nebraska": "NE", "Nevada": "NV", "New Hampshire": "NH", "New Jersey": "NJ",
    "New Mexico": "NM", "New York": "NY", "North Carolina": "NC", "North Dakota": "ND",
    "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR", "Pennsylvania": "PA",
    "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD", "Tennessee": "TN",
    "Texas": "TX", "Utah": "UT", "Vermont": "VT", "Virginia": "VA", "Washington": "WA",
    "West Virginia": "WV", "Wisconsin": "WI", "Wyoming": "WY", "Puerto Rico": "PR",
    "Guam": "GU", "Virgin Islands": "VI", "American Samoa": "AS",
    "Northern Mariana Islands": "MP",
}


@dataclass(frozen=True)
class Row:
    file: str
    line: int
    values: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.values.get(column, "").strip()


@dataclass
class Transaction:
    row: Row
    kind: str
    sequence: int
    amount_cents: int
    on: date


@dataclass
class SyntheaClaim:
    row: Row
    claim_id: str
    patient_id: str
    encounter_id: str
    primary: str                       # Synthea payer id or "0"
    secondary: str
    diagnoses: list[str]
    transactions: list[Transaction] = field(default_factory=list)

    @property
    def insured(self) -> bool:
        return self.primary != NO_PAYER


@dataclass
class SyntheaExport:
    name: str
    sha256: str
    rows: dict[str, list[Row]]
    claims: list[SyntheaClaim]
    problems: list[str]

    def by_id(self, file: str, column: str = "Id") -> dict[str, Row]:
        return {row[column]: row for row in self.rows[file]}


def export_sha256(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(f"{name}\0{hashlib.sha256(files[name]).hexdigest()}\n".encode())
    return digest.hexdigest()


def read_directory(directory: Path) -> dict[str, bytes]:
    return {name: (directory / name).read_bytes() for name in COLUMNS
            if (directory / name).is_file()}


def read_synthea(files: dict[str, bytes], name: str = "synthea") -> SyntheaExport:
    """Parse and check an export given as {file name: bytes}."""
    export = SyntheaExport(name, export_sha256(files), {}, [], [])
    problems = export.problems
    missing = [f for f in COLUMNS if f not in files]
    if missing:
        problems.append(f"missing file {', '.join(missing)} (a Synthea v3 CSV export has them)")
        return export
    for file, needed in COLUMNS.items():
        export.rows[file] = _read(file, files[file], needed, problems)
    if problems:
        return export
    _check(export)
    return export


def _read(file: str, data: bytes, needed: tuple[str, ...], problems: list[str]) -> list[Row]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        problems.append(f"{file}: byte {error.start} is not UTF-8 text")
        return []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    absent = [c for c in needed if c not in header]
    if absent:
        problems.append(f"{file} line 1: missing column {', '.join(absent)}")
        return []
    rows = []
    try:
        for values in reader:
            if None in values:
                problems.append(f"{file} line {reader.line_num}: more fields than the header")
            rows.append(Row(file, reader.line_num, {k: v or "" for k, v in values.items()
                                                    if k is not None}))
    except csv.Error as error:
        problems.append(f"{file} line {reader.line_num}: {error}")
    return rows


def _fault(row: Row, column: str | None, message: str) -> str:
    return f"{row.file} line {row.line}" + (f", column {column}" if column else "") + (
        f": {message}")


def _date(row: Row, column: str, problems: list[str]) -> date | None:
    text = row[column]
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        problems.append(_fault(row, column, f"{text!r} is not a date"))
        return None


def _cents(row: Row, column: str, problems: list[str]) -> int | None:
    text = row[column] or "0"
    try:
        cents = cents_from_text(text)
    except AmountError as error:
        problems.append(_fault(row, column, str(error)))
        return None
    if cents < 0:
        problems.append(_fault(row, column, f"{text} is negative"))
        return None
    return cents


def _check(export: SyntheaExport) -> None:
    problems = export.problems
    patients = export.by_id("patients.csv")
    payers = export.by_id("payers.csv")
    organizations = export.by_id("organizations.csv")
    encounters = export.by_id("encounters.csv")
    for row in patients.values():
        _date(row, "BIRTHDATE", problems)
        if row["GENDER"] not in ("F", "M"):
            problems.append(_fault(row, "GENDER", f"{row['GENDER']!r} is not F or M"))
        if row["STATE"] and row["STATE"] not in STATES and row["STATE"] not in STATES.values():
            problems.append(_fault(row, "STATE", f"{row['STATE']!r} is not a US state"))
        if not (row["FIRST"] and row["LAST"]):
            problems.append(_fault(row, "LAST", "a patient needs a first and last name"))
    for row in export.rows["payer_transitions.csv"]:
        if row["PATIENT"] not in patients:
            problems.append(_fault(row, "PATIENT", f"no patient {row['PATIENT']}"))
        for column in ("PAYER", "SECONDARY_PAYER"):
            if row[column] and row[column] not in payers:
                problems.append(_fault(row, column, f"no payer {row[column]}"))
        _date(row, "START_YEAR", problems)
        _date(row, "END_YEAR", problems)
    for row in encounters.values():
        _date(row, "START", problems)
        if row["ORGANIZATION"] not in organizations:
            problems.append(_fault(row, "ORGANIZATION", f"no organization {row['ORGANIZATION']}"))
        if row["PATIENT"] not in patients:
            problems.append(_fault(row, "PATIENT", f"no patient {row['PATIENT']}"))
    claims: dict[str, SyntheaClaim] = {}
    for row in export.rows["claims.csv"]:
        for column in ("PRIMARYPATIENTINSURANCEID", "SECONDARYPATIENTINSURANCEID"):
            if row[column] not in (NO_PAYER, "") and row[column] not in payers:
                problems.append(_fault(row, column, f"no payer {row[column]}"))
        if row["APPOINTMENTID"] not in encounters:
            problems.append(_fault(row, "APPOINTMENTID", f"no encounter {row['APPOINTMENTID']}"))
        elif encounters[row["APPOINTMENTID"]]["PATIENT"] != row["PATIENTID"]:
            problems.append(_fault(row, "PATIENTID", "differs from the encounter's patient"))
        diagnoses = [row[f"DIAGNOSIS{i}"] for i in range(1, 9)]
        if not any(diagnoses):
            problems.append(_fault(row, "DIAGNOSIS1", "a claim needs a diagnosis"))
        claims[row["Id"]] = SyntheaClaim(
            row, row["Id"], row["PATIENTID"], row["APPOINTMENTID"],
            row["PRIMARYPATIENTINSURANCEID"] or NO_PAYER,
            row["SECONDARYPATIENTINSURANCEID"] or NO_PAYER, diagnoses)
    for row in export.rows["claims_transactions.csv"]:
        claim = claims.get(row["CLAIMID"])
        if claim is None:
            problems.append(_fault(row, "CLAIMID", f"no claim {row['CLAIMID']}"))
            continue
        if row["TYPE"] not in TYPES:
            problems.append(_fault(row, "TYPE",
                                   f"{row['TYPE']!r} is not one of {', '.join(TYPES)}"))
            continue
        if not row["CHARGEID"].isdigit():
            problems.append(_fault(row, "CHARGEID", f"{row['CHARGEID']!r} is not a number"))
            continue
        column = {"CHARGE": "AMOUNT", "PAYMENT": "PAYMENTS", "ADJUSTMENT": "ADJUSTMENTS",
                  "TRANSFERIN": "AMOUNT", "TRANSFEROUT": "TRANSFERS"}[row["TYPE"]]
        amount = _cents(row, column, problems)
        if row["TYPE"] == "TRANSFERIN" and not row["AMOUNT"]:
            amount = _cents(row, "TRANSFERS", problems)
        if row["TYPE"] == "TRANSFERIN" and row["TRANSFERTYPE"] not in ("p", "1", "2"):
            problems.append(_fault(row, "TRANSFERTYPE", f"{row['TRANSFERTYPE']!r} is not p, 1 "
                                   "or 2"))
        if row["TYPE"] == "PAYMENT" and row["METHOD"] not in PAYMENT_METHODS:
            problems.append(_fault(row, "METHOD", f"{row['METHOD']!r} is not one of "
                                   f"{', '.join(PAYMENT_METHODS)}"))
        on = _date(row, "FROMDATE", problems)
        if on is not None and amount is not None:
            claim.transactions.append(Transaction(row, row["TYPE"], int(row["CHARGEID"]),
                                                  amount, on))
    if problems:
        return      # a claim's shape is judged only once each of its rows reads correctly
    for claim in claims.values():
        claim.transactions.sort(key=lambda t: t.sequence)
        if claim.transactions and claim.transactions[0].kind != "CHARGE":
            problems.append(_fault(claim.transactions[0].row, "TYPE",
                                   "the claim's first transaction is not a CHARGE"))
        charge = None
        for transaction in claim.transactions:
            if transaction.kind == "CHARGE":
                charge = transaction
            elif charge is not None and charge.amount_cents == 0 and transaction.amount_cents:
                problems.append(_fault(transaction.row, None, "money moves on a charge of 0.00 "
                                       f"(line {charge.row.line})"))
        if not any(t.kind == "CHARGE" for t in claim.transactions):
            problems.append(_fault(claim.row, None, "the claim has no CHARGE transaction"))
        if claim.secondary != NO_PAYER and not claim.insured:
            problems.append(_fault(claim.row, "SECONDARYPATIENTINSURANCEID",
                                   "a secondary payer without a primary"))
    export.claims = list(claims.values())


# -- identities ------------------------------------------------------------------------------

def account_no_for(patient_id: str) -> str:
    return stable_id("S", 9, KIND, patient_id)


def encounter_id_for(synthea_encounter_id: str) -> str:
    return stable_id("V", 9, KIND, synthea_encounter_id)


def claim_id_for(synthea_claim_id: str, order: str) -> str:
    return stable_id("Y", 10, KIND, synthea_claim_id, order)


def payer_id_for(name: str) -> str:
    """SY + the payer's name: readable, and the same for every export of the same payer."""
    return ("SY" + "".join(c for c in name.upper() if c.isalnum()))[:20]


def npi_for(organization_id: str) -> str:
    """A synthetic NPI (Synthea has none), with a valid check digit, derived from the id."""
    digits = str(int(hashlib.sha256(organization_id.encode()).hexdigest(), 16))[-8:]
    stem = "1" + digits
    return next(stem + d for d in "0123456789" if is_valid_npi(stem + d))


def tin_for(organization_id: str) -> str:
    digits = str(int(hashlib.sha256(f"tin:{organization_id}".encode()).hexdigest(), 16))
    return "9" + digits[-8:]


# -- entering an export ---------------------------------------------------------------------

def import_synthea(ledger: BillingLedger, files: dict[str, bytes], name: str = "synthea", *,
                   progress: Progress | None = None) -> ImportOutcome:
    """Enter a Synthea export ({file name: bytes}); all of it or, on any fault, none."""
    sha = export_sha256(files)
    if (again := already_imported(ledger, KIND, sha, name)) is not None:
        return again
    export = read_synthea(files, name)
    if export.problems:
        raise ImportRefused(name, export.problems)
    runs: list[_Entering] = []

    def apply() -> dict[str, Any]:
        runs.append(_Entering(ledger, export, progress))
        return runs[-1].run()

    outcome = ledger.record_import(KIND, sha, name, apply)
    return replace(outcome, details={"claim_lines": runs[-1].claim_lines})


class _Entering:
    """One run of entering an export (run again from scratch after a write conflict)."""

    def __init__(self, ledger: BillingLedger, export: SyntheaExport,
                 progress: Progress | None) -> None:
        self.ledger = ledger
        self.export = export
        self.progress = progress
        self.payers = export.by_id("payers.csv")
        self.counts: dict[str, int] = dict.fromkeys((
            "patients", "payers", "providers", "policies", "encounters", "claims",
            "self_pay_claims", "zero_charge_claims", "lines", "zero_charge_lines",
            "non_billable_lines", "charge_cents", "payments",
            "payment_cents", "adjustments", "adjustment_cents", "transfers", "credit_claims",
            "credit_cents"), 0)
        # Synthea claim id -> our line ids, for the balance checks of tests and reports.
        self.claim_lines: dict[str, list[str]] = {}

    def payer(self, synthea_payer_id: str) -> str:
        return payer_id_for(self.payers[synthea_payer_id]["NAME"])

    def run(self) -> dict[str, Any]:
        export = self.export
        try:
            self.reference_data()
            by_encounter: dict[str, list[SyntheaClaim]] = {}
            for claim in export.claims:
                by_encounter.setdefault(claim.encounter_id, []).append(claim)
            encounters = export.by_id("encounters.csv")
            done = 0
            for synthea_id, claims in by_encounter.items():
                try:
                    self.encounter(encounters[synthea_id], claims)
                except BillingError as error:
                    row = encounters[synthea_id]
                    raise ImportRefused(export.name, [_fault(
                        row, None, f"encounter {synthea_id}: {error}")]) from None
                done += len(claims)
                if self.progress is not None:
                    self.progress(done, len(export.claims))
        except BillingError as error:
            raise ImportRefused(export.name, [str(error)]) from None
        return {"file": export.name, **self.counts}

    # -- payers, providers, patients and their coverage -----------------------------------
    def reference_data(self) -> None:
        ledger = self.ledger
        ids: dict[str, str] = {}
        for row in self.payers.values():
            if row["NAME"] == NO_INSURANCE:
                continue
            payer_id = payer_id_for(row["NAME"])
            if ids.setdefault(payer_id, row["Id"]) != row["Id"]:
                raise ImportRefused(self.export.name, [_fault(
                    row, "NAME", f"two payers are named {row['NAME']!r}")])
            try:
                ledger.payer(payer_id)
            except NotFoundError:
                ledger.register_payer(
                    payer_id, row["NAME"], filing_indicator=FILING.get(row["NAME"], "CI"),
                    address={"line1": row["ADDRESS"], "city": row["CITY"],
                             "state": row["STATE_HEADQUARTERED"], "zip": row["ZIP"]})
                ledger.add_plan(payer_id, PLAN_ID, f"{row['NAME']} (Synthea)")
                self.counts["payers"] += 1
        used = {row["ORGANIZATION"] for row in self.export.rows["encounters.csv"]}
        for row in self.export.rows["organizations.csv"]:
            if row["Id"] not in used:
                continue
            npi = npi_for(row["Id"])
            try:
                ledger.provider(npi)
            except NotFoundError:
                ledger.enroll_provider(
                    npi, row["NAME"], tin_for(row["Id"]), is_billing=True, is_person=False,
                    address={"line1": row["ADDRESS"], "city": row["CITY"],
                             "state": row["STATE"], "zip": row["ZIP"]})
                self.counts["providers"] += 1
        transitions: dict[str, list[Row]] = {}
        for row in self.export.rows["payer_transitions.csv"]:
            transitions.setdefault(row["PATIENT"], []).append(row)
        for row in self.export.rows["patients.csv"]:
            self.patient(row, transitions.get(row["Id"], []))

    def patient(self, row: Row, transitions: list[Row]) -> None:
        ledger = self.ledger
        account_no = account_no_for(row["Id"])
        try:
            account = ledger.account(account_no)
        except NotFoundError:
            state = STATES.get(row["STATE"], row["STATE"])
            ledger.register_patient(
                row["LAST"], row["FIRST"], date.fromisoformat(row["BIRTHDATE"][:10]),
                row["GENDER"], account_no=account_no,
                address={"line1": row["ADDRESS"], "city": row["CITY"], "state": state,
                         "zip": row["ZIP"]})
            self.counts["patients"] += 1
            account = ledger.account(account_no)
        # One policy per payer: Synthea renews each year under a new member id, more
        # periods than a coverage order holds; the latest period gives the member id.
        periods: dict[str, list[Row]] = {}
        for transition in sorted(transitions, key=lambda r: r["START_YEAR"]):
            for column in ("PAYER", "SECONDARY_PAYER"):
                payer = transition[column]
                if payer and self.payers[payer]["NAME"] != NO_INSURANCE:
                    periods.setdefault(payer, []).append(transition)
        held = {p["payer_id"] for p in account.policies.values()}
        for synthea_payer, rows in periods.items():
            payer_id = self.payer(synthea_payer)
            if payer_id in held:
                continue
            latest = rows[-1]
            relationship = RELATIONSHIPS.get(latest["OWNERSHIP"], "21")
            owner = latest["OWNERNAME"].split(" ", 1)
            subscriber = None if relationship == "18" else {
                "first_name": owner[0], "last_name": owner[-1] or owner[0], "birth_date": "",
                "sex": "", "address": {}}
            ledger.add_coverage(
                account_no, payer_id, PLAN_ID, latest["MEMBERID"], relationship=relationship,
                subscriber=subscriber,
                effective_on=min(date.fromisoformat(r["START_YEAR"][:10]) for r in rows),
                terminates_on=max(date.fromisoformat(r["END_YEAR"][:10]) for r in rows))
            self.counts["policies"] += 1

    # -- a visit, its lines, claims and money ----------------------------------------------
    def encounter(self, row: Row, claims: list[SyntheaClaim]) -> None:
        ledger = self.ledger
        encounter_id = encounter_id_for(row["Id"])
        if _exists(ledger, encounter_id):
            return                        # entered by an earlier export of the same visits
        diagnoses: list[str] = []
        for claim in claims:
            for code in claim.diagnoses:
                if code and code not in diagnoses:
                    diagnoses.append(code)
        first = claims[0]
        secondaries = sorted({self.payer(c.secondary) for c in claims if c.secondary != NO_PAYER})
        payers = [self.payer(first.primary), *secondaries] if first.insured else []
        ledger.open_encounter_as_billed(
            account_no_for(row["PATIENT"]), date.fromisoformat(row["START"][:10]),
            billing_npi=npi_for(row["ORGANIZATION"]),
            place_of_service=PLACE_OF_SERVICE.get(row["ENCOUNTERCLASS"], "11"),
            diagnoses=diagnoses, payers=payers, encounter_id=encounter_id)
        self.counts["encounters"] += 1
        entries: list[SourceEntry] = []
        created: list[tuple[str, str]] = []
        for claim in claims:
            lines = self.lines(encounter_id, claim, diagnoses)
            self.claim_lines[claim.claim_id] = list(lines.values())
            entries += self.money(claim, lines, payers)
            if not claim.insured:
                self.counts["self_pay_claims"] += 1
                continue
            if not lines:
                self.counts["zero_charge_claims"] += 1     # nothing to bill a payer for
                continue
            for order, payer, status in (("1", claim.primary, claim.row["STATUS1"]),
                                         ("2", claim.secondary, claim.row["STATUS2"])):
                if payer == NO_PAYER:
                    continue
                claim_id = claim_id_for(claim.claim_id, order)
                ledger.create_claim(encounter_id, self.payer(payer),
                                    line_ids=list(lines.values()), claim_id=claim_id)
                self.counts["claims"] += 1
                created.append((claim_id, status))
        if entries:
            ledger.post_entries(encounter_id, entries)
        for claim_id, status in created:
            ledger.scrub_claim(claim_id)    # its findings stay in the claim's history
            if status == "CLOSED":
                ledger.close_claim(claim_id, "closed in the Synthea export")
        encounter = ledger.encounter(encounter_id)
        for claim in claims:
            balance = sum(encounter.line_balance(i) for i in self.claim_lines[claim.claim_id])
            if balance < 0:
                self.counts["credit_claims"] += 1
                self.counts["credit_cents"] -= balance

    def lines(self, encounter_id: str, claim: SyntheaClaim,
              diagnoses: list[str]) -> dict[int, str]:
        """Enter the claim's CHARGEs; returns CHARGEID -> our line id."""
        lines: dict[int, str] = {}
        for transaction in claim.transactions:
            if transaction.kind != "CHARGE":
                continue
            if transaction.amount_cents == 0:
                # A free screening or a $0 drug: no money, and a line must charge something.
                self.counts["zero_charge_lines"] += 1
                continue
            row = transaction.row
            pointers: list[int] = []
            for column in ("DIAGNOSISREF1", "DIAGNOSISREF2", "DIAGNOSISREF3", "DIAGNOSISREF4"):
                ref = row[column]
                if ref.isdigit() and 1 <= int(ref) <= 8 and claim.diagnoses[int(ref) - 1]:
                    pointer = diagnoses.index(claim.diagnoses[int(ref) - 1]) + 1
                    if pointer not in pointers:
                        pointers.append(pointer)
            code = row["PROCEDURECODE"]
            lines[transaction.sequence] = self.ledger.enter_charge_priced(
                encounter_id, code, charge_cents=transaction.amount_cents,
                units=row["UNITS"] or "1", pointers=pointers or [1],
                service_date=transaction.on, description=row["NOTES"][:80],
                posted_on=transaction.on)
            self.counts["lines"] += 1
            self.counts["charge_cents"] += transaction.amount_cents
            if not is_valid_procedure_code(code):
                self.counts["non_billable_lines"] += 1
        return lines

    def money(self, claim: SyntheaClaim, lines: dict[int, str],
              payers: list[str]) -> list[SourceEntry]:
        """The claim's payments, adjustments and transfers, each by whoever holds its line."""
        primary = payers[0] if payers else PATIENT
        parties = {"p": PATIENT, "1": primary,
                   "2": self.payer(claim.secondary) if claim.secondary != NO_PAYER else PATIENT}
        source = f"synthea:{self.export.sha256[:16]}"
        entries: list[SourceEntry] = []
        holder: dict[str, str] = {}
        line_id = ""
        for transaction in claim.transactions:
            row, amount, on = transaction.row, transaction.amount_cents, transaction.on
            ref = f"{source}:{row['ID']}"
            if transaction.kind == "CHARGE":
                line_id = lines.get(transaction.sequence, "")
                if not line_id:
                    continue                # a zero charge: no line, and nothing follows it
                holder[line_id] = primary
                wanted = parties.get(row["TRANSFERTYPE"], primary)
                if wanted != primary:
                    entries.append(SourceEntry("transfer", line_id, primary, amount, on, ref,
                                               to_party=wanted, reason="billed to in Synthea"))
                    holder[line_id] = wanted
                continue
            if transaction.kind == "TRANSFEROUT" or amount == 0:
                continue
            held_by = holder[line_id]
            if transaction.kind == "TRANSFERIN":
                wanted = parties[row["TRANSFERTYPE"]]
                if wanted != held_by:
                    entries.append(SourceEntry(
                        "transfer", line_id, held_by, amount, on, ref, to_party=wanted,
                        reason="transferred in Synthea", up_to_held=True))
                    holder[line_id] = wanted
                    self.counts["transfers"] += 1
            elif transaction.kind == "PAYMENT":
                party = held_by
                if row["METHOD"] == "COPAY":
                    party = PATIENT
                    if held_by != PATIENT:
                        entries.append(SourceEntry(
                            "transfer", line_id, held_by, amount, on, ref, to_party=PATIENT,
                            reason="copay collected at the visit", up_to_held=True))
                entries.append(SourceEntry(
                    "payment", line_id, party, amount, on, ref,
                    method=PAYMENT_METHODS[row["METHOD"]], reference=row["METHOD"]))
                self.counts["payments"] += 1
                self.counts["payment_cents"] += amount
            else:
                entries.append(SourceEntry(
                    "adjustment", line_id, held_by, amount, on, ref,
                    reason="Synthea adjustment",
                    adjustment_kind=AdjustmentKind.PAYER if held_by != PATIENT
                    else AdjustmentKind.ADMINISTRATIVE))
                self.counts["adjustments"] += 1
                self.counts["adjustment_cents"] += amount
        return entries


def _exists(ledger: BillingLedger, encounter_id: str) -> bool:
    try:
        ledger.encounter(encounter_id)
    except NotFoundError:
        return False
    return True
