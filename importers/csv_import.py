"""CSV imports: patients, fee schedule, chargemaster and charges, each file all-or-nothing.

Every file is read and validated whole before anything is recorded; the faults come back
together, each naming its line and column. A valid file is then applied through the
ledger's use cases inside `BillingLedger.record_import`, which saves it in one transaction
with a record of the file (SHA-256): a rule broken half-way leaves the ledger unchanged, and
the same bytes imported twice record nothing the second time. Natural keys make a *new*
file that repeats rows add nothing either: patients by account number (the practice's MRN),
fee schedule rows by contract + code + modifier + dates, prices by code + date, charges by
their row key within a visit (`encounter_ref`). The headers are documented in README.md
("Importing files") and in `FORMATS` below.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.application import BillingLedger
from domain.codes import (
    is_billable_icd10,
    is_valid_modifier,
    is_valid_npi,
    is_valid_pos,
    is_valid_procedure_code,
    normalize_icd10,
)
from domain.errors import BillingError, NotFoundError, RuleViolation
from domain.import_record import ImportOutcome, ImportRefused
from domain.money import AmountError, cents_from_text
from domain.services.charges import parse_units
from domain.text import control_character

Progress = Callable[[int, int], None]
Row = dict[str, str]

# Same alphabet as domain.ids: no I, O, 0 or 1, since billers read these ids aloud.
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def stable_id(prefix: str, length: int, *parts: str) -> str:
    """An id derived from a natural key, so the same source record always maps to it."""
    number = int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest(), "big")
    chars = []
    for _ in range(length):
        number, digit = divmod(number, len(_ALPHABET))
        chars.append(_ALPHABET[digit])
    return prefix + "".join(chars)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    help: str


@dataclass(frozen=True)
class CsvFormat:
    kind: str
    summary: str
    columns: tuple[Column, ...]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


def _columns(*specs: tuple[str, bool, str]) -> tuple[Column, ...]:
    return tuple(Column(*spec) for spec in specs)


FORMATS: dict[str, CsvFormat] = {
    "patients": CsvFormat("patients", "one patient per row, keyed by the practice's MRN", _columns(
        ("account_no", True, "the practice's MRN: 1-20 letters or digits; the natural key"),
        ("last_name", True, "legal last name"),
        ("first_name", True, "legal first name"),
        ("middle_name", False, "middle name or initial"),
        ("birth_date", True, "YYYY-MM-DD"),
        ("sex", True, "F, M or U"),
        ("address_line1", False, "street"),
        ("address_line2", False, "suite, apartment"),
        ("city", False, "city"),
        ("state", False, "2-letter state code"),
        ("zip", False, "5 or 9 digits (12345-6789 accepted)"),
        ("phone", False, "phone number"),
        ("payer_id", False, "primary coverage: a registered payer id (with plan_id, member_id)"),
        ("plan_id", False, "the payer's plan"),
        ("member_id", False, "subscriber member id (the patient is the subscriber)"),
        ("group_number", False, "group number"),
        ("coverage_effective_on", False, "YYYY-MM-DD; required with payer_id"),
    )),
    "fee-schedule": CsvFormat("fee-schedule", "allowed amounts on an existing contract", _columns(
        ("contract_id", True, "a contract signed in claimdesk"),
        ("code", True, "CPT/HCPCS code"),
        ("modifier", False, "pricing modifier (2 characters) or empty"),
        ("allowed", True, "allowed amount per unit in dollars, e.g. 100.00"),
        ("effective_on", True, "YYYY-MM-DD"),
        ("ends_on", False, "YYYY-MM-DD or empty"),
    )),
    "chargemaster": CsvFormat("chargemaster", "the practice's price per code and date", _columns(
        ("code", True, "CPT/HCPCS code"),
        ("price", True, "charge per unit in dollars, e.g. 150.00"),
        ("effective_on", True, "YYYY-MM-DD: the price applies to services from this date"),
        ("description", False, "what the code is, as shown on statements"),
    )),
    "charges": CsvFormat("charges", "charge lines, grouped into visits by encounter_ref", _columns(
        ("row_key", True, "the source system's id of this charge line; unique per visit"),
        ("encounter_ref", True, "the source system's visit id: rows sharing it are one visit"),
        ("account_no", True, "a registered account (MRN)"),
        ("service_date", True, "YYYY-MM-DD, the date of service"),
        ("billing_npi", True, "an enrolled billing provider"),
        ("rendering_npi", False, "an enrolled rendering provider"),
        ("place_of_service", False, "CMS POS code, default 11 (office)"),
        ("diagnoses", True, "ICD-10-CM codes separated by ';', principal first"),
        ("code", True, "CPT/HCPCS code, priced from the chargemaster on the date of service"),
        ("modifiers", False, "up to 4, separated by ';'"),
        ("units", False, "default 1; up to 3 decimals"),
        ("pointers", False, "diagnosis pointers 1-12 separated by ';', default 1"),
    )),
}


@dataclass(frozen=True)
class CsvRow:
    line: int
    values: Row

    def __getitem__(self, column: str) -> str:
        return self.values.get(column, "")


class Problems:
    """Faults found while validating a file, each naming where it is."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, line: int, column: str | None, message: str) -> None:
        where = f"line {line}" + (f", column {column}" if column else "")
        self.items.append(f"{where}: {message}")

    def __bool__(self) -> bool:
        return bool(self.items)


def read_rows(name: str, data: bytes, fmt: CsvFormat) -> list[CsvRow]:
    """The rows of a CSV file with a valid header, or ImportRefused naming what is wrong."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportRefused(name, [f"byte {error.start} is not UTF-8 text"]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise ImportRefused(name, ["the file is empty (expected a header line)"]) from None
    except csv.Error as error:
        raise ImportRefused(name, [f"line 1: {error}"]) from None
    problems = Problems()
    unknown = [h for h in header if h not in fmt.names]
    if unknown:
        problems.add(1, None, f"unknown column {', '.join(map(repr, unknown))} (the "
                     f"{fmt.kind} columns are: {', '.join(fmt.names)})")
    missing = [c for c in fmt.required if c not in header]
    if missing:
        problems.add(1, None, f"missing required column {', '.join(missing)}")
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        problems.add(1, None, f"column {', '.join(twice)} appears twice")
    if problems:
        raise ImportRefused(name, problems.items)
    rows = []
    try:
        for fields in reader:
            line = reader.line_num
            if not any(f.strip() for f in fields):
                continue
            if len(fields) != len(header):
                problems.add(line, None, f"{len(fields)} fields, but the header has "
                             f"{len(header)}")
                continue
            rows.append(CsvRow(line, {h: f.strip() for h, f in zip(header, fields, strict=True)}))
    except csv.Error as error:
        problems.add(reader.line_num, None, str(error))
    if problems:
        raise ImportRefused(name, problems.items)
    if not rows:
        raise ImportRefused(name, ["the file has a header but no rows"])
    return rows


# -- field parsers: each returns None after recording a problem -----------------------------

def _date(row: CsvRow, column: str, problems: Problems) -> date | None:
    text = row[column]
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.add(row.line, column, f"{text!r} is not a date (YYYY-MM-DD)")
        return None


def _cents(row: CsvRow, column: str, problems: Problems, *, positive: bool) -> int | None:
    try:
        cents = cents_from_text(row[column])
    except AmountError as error:
        problems.add(row.line, column, str(error))
        return None
    if cents < 0 or (positive and cents == 0):
        problems.add(row.line, column, f"{row[column]} must be {'positive' if positive else '≥ 0'}")
        return None
    return cents


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(";") if part.strip()]


def _code(row: CsvRow, column: str, problems: Problems) -> str:
    code = row[column].upper()
    if not is_valid_procedure_code(code):
        problems.add(row.line, column, f"{row[column]!r} is not a CPT (5 digits, or 4 digits + "
                     "F/T/U) or HCPCS (letter + 4 digits) code")
    return code


def _modifiers(row: CsvRow, column: str, problems: Problems) -> list[str]:
    modifiers = [m.upper() for m in _list(row[column])]
    bad = [m for m in modifiers if not is_valid_modifier(m)]
    if bad:
        problems.add(row.line, column, f"modifiers must be 2 letters or digits: {', '.join(bad)}")
    if len(modifiers) > 4:
        problems.add(row.line, column, "at most 4 modifiers")
    return modifiers


def _require(row: CsvRow, columns: Iterable[str], problems: Problems) -> bool:
    empty = [c for c in columns if not row[c]]
    for column in empty:
        problems.add(row.line, column, "is required")
    return not empty


def _unique(rows: list[CsvRow], key: Callable[[CsvRow], Any], what: str,
            problems: Problems) -> None:
    seen: dict[Any, int] = {}
    for row in rows:
        k = key(row)
        if k in seen:
            problems.add(row.line, None, f"{what} repeats line {seen[k]}")
        else:
            seen[k] = row.line


# -- running an import ----------------------------------------------------------------------

Applier = Callable[[CsvRow], None]


def already_imported(ledger: BillingLedger, kind: str, sha: str,
                     name: str) -> ImportOutcome | None:
    """The outcome of importing a file again: nothing, and when it was first imported."""
    record = ledger.import_record(kind, sha)
    if record is None:
        return None
    return ImportOutcome(kind, name, sha, "already-imported", 0,
                         {**record.summary, "imported_on": record.imported_on.isoformat(),
                          "imported_as": record.file_name})


def _run(ledger: BillingLedger, kind: str, name: str, data: bytes,
         validate: Callable[[list[CsvRow], Problems], Callable[[], dict[str, Any]]],
         ) -> ImportOutcome:
    sha = sha256_of(data)
    if (again := already_imported(ledger, kind, sha, name)) is not None:
        return again
    rows = read_rows(name, data, FORMATS[kind])
    problems = Problems()
    apply = validate(rows, problems)
    if problems:
        raise ImportRefused(name, problems.items)
    return ledger.record_import(kind, sha, name, apply)


def _applying(name: str, rows: list[CsvRow], step: Callable[[CsvRow, dict[str, int]], None],
              counters: tuple[str, ...], progress: Progress | None,
              finish: Callable[[], None] | None = None) -> Callable[[], dict[str, Any]]:
    """The apply function of a file: one step per row, counted; a refusal names its line.

    It may run twice (after a conflict with another writer), so it starts from nothing.
    """

    def apply() -> dict[str, Any]:
        counts = dict.fromkeys(counters, 0)
        for done, row in enumerate(rows, start=1):
            try:
                step(row, counts)
            except BillingError as error:
                message = str(error)
                where = "" if message.startswith(f"line {row.line}:") else f"line {row.line}: "
                raise ImportRefused(name, [where + message]) from None
            if progress is not None:
                progress(done, len(rows))
        if finish is not None:
            try:
                finish()
            except BillingError as error:
                raise ImportRefused(name, [str(error)]) from None
        return {"file": name, "rows": len(rows), **counts}

    return apply


def _account(ledger: BillingLedger, account_no: str) -> Any:
    try:
        return ledger.account(account_no)
    except NotFoundError:
        return None


# -- patients ---------------------------------------------------------------------------------

def import_patients(ledger: BillingLedger, data: bytes, name: str = "patients.csv", *,
                    progress: Progress | None = None) -> ImportOutcome:
    def validate(rows: list[CsvRow], problems: Problems) -> Callable[[], dict[str, Any]]:
        _unique(rows, lambda r: r["account_no"].upper(), "account_no", problems)
        parsed: dict[int, dict[str, Any]] = {}
        for row in rows:
            if not _require(row, ("account_no", "last_name", "first_name", "birth_date", "sex"),
                            problems):
                continue
            # Every patient column is one line of text: refused here to name line and column.
            for column in FORMATS["patients"].names:
                if (found := control_character(row[column])) is not None:
                    problems.add(row.line, column, f"contains a control character ({found})")
            record: dict[str, Any] = {"account_no": row["account_no"].upper()}
            if not (record["account_no"].isalnum() and record["account_no"].isascii()
                    and len(record["account_no"]) <= 20):
                problems.add(row.line, "account_no", "must be 1-20 letters or digits")
            record["birth_date"] = _date(row, "birth_date", problems)
            if record["birth_date"] and not (
                    date(1900, 1, 1) <= record["birth_date"] <= ledger.today()):
                problems.add(row.line, "birth_date", f"{record['birth_date']} is not plausible")
            if row["sex"].upper() not in ("F", "M", "U"):
                problems.add(row.line, "sex", f"{row['sex']!r} must be F, M or U")
            state, zip_code = row["state"].upper(), row["zip"].replace("-", "")
            if state and not (len(state) == 2 and state.isalpha()):
                problems.add(row.line, "state", f"{row['state']!r} must be a 2-letter code")
            if zip_code and not (zip_code.isdigit() and len(zip_code) in (5, 9)):
                problems.add(row.line, "zip", f"{row['zip']!r} must be 5 or 9 digits")
            record["address"] = {"line1": row["address_line1"], "line2": row["address_line2"],
                                 "city": row["city"], "state": state, "zip": zip_code}
            coverage = ("payer_id", "plan_id", "member_id", "coverage_effective_on")
            if any(row[c] for c in (*coverage, "group_number")) and _require(
                    row, coverage, problems):
                record["effective_on"] = _date(row, "coverage_effective_on", problems)
                try:
                    payer = ledger.payer(row["payer_id"])
                    if row["plan_id"] not in payer.plans:
                        problems.add(row.line, "plan_id",
                                     f"payer {row['payer_id']} has no plan {row['plan_id']}")
                except NotFoundError:
                    problems.add(row.line, "payer_id", f"no payer {row['payer_id']} is registered")
            parsed[row.line] = record

        def step(row: CsvRow, counts: dict[str, int]) -> None:
            record = parsed[row.line]
            account_no = record["account_no"]
            names = {"last_name": row["last_name"].upper(), "first_name": row["first_name"].upper(),
                     "middle_name": row["middle_name"].upper()}
            account = _account(ledger, account_no)
            if account is None:
                ledger.register_patient(
                    names["last_name"], names["first_name"], record["birth_date"],
                    row["sex"].upper(), middle_name=names["middle_name"],
                    address=record["address"], phone=row["phone"], account_no=account_no)
                counts["created"] += 1
            else:
                wanted = {**names, "birth_date": record["birth_date"], "sex": row["sex"].upper(),
                          "address": record["address"], "phone": row["phone"]}
                changes = {k: v for k, v in wanted.items() if getattr(account, k) != v}
                if changes:
                    ledger.correct_demographics(
                        account_no, f"patients file {name} line {row.line}", **changes)
                    counts["updated"] += 1
                else:
                    counts["unchanged"] += 1
            if row["payer_id"]:
                account = ledger.account(account_no)
                held = any(p["payer_id"] == row["payer_id"] and p["member_id"] == row["member_id"]
                           and p["terminated_on"] is None for p in account.policies.values())
                if not held:
                    ledger.add_coverage(account_no, row["payer_id"], row["plan_id"],
                                        row["member_id"], group_number=row["group_number"],
                                        effective_on=record["effective_on"])
                    counts["coverage_added"] += 1

        return _applying(name, rows, step, ("created", "updated", "unchanged", "coverage_added"),
                         progress)

    return _run(ledger, "patients", name, data, validate)


# -- fee schedule -----------------------------------------------------------------------------

def import_fee_schedule(ledger: BillingLedger, data: bytes, name: str = "fee-schedule.csv", *,
                        progress: Progress | None = None) -> ImportOutcome:
    def validate(rows: list[CsvRow], problems: Problems) -> Callable[[], dict[str, Any]]:
        parsed: dict[int, tuple[Any, ...]] = {}
        contracts: set[str] = set()
        for row in rows:
            if not _require(row, ("contract_id", "code", "allowed", "effective_on"), problems):
                continue
            if row["contract_id"] not in contracts:
                try:
                    ledger.contract(row["contract_id"])
                    contracts.add(row["contract_id"])
                except NotFoundError:
                    problems.add(row.line, "contract_id", f"no contract {row['contract_id']}")
            code = _code(row, "code", problems)
            modifier = row["modifier"].upper()
            if modifier and not is_valid_modifier(modifier):
                problems.add(row.line, "modifier",
                             f"{row['modifier']!r} is not 2 letters or digits")
            allowed = _cents(row, "allowed", problems, positive=False)
            start = _date(row, "effective_on", problems)
            end = _date(row, "ends_on", problems) if row["ends_on"] else None
            if start and end and end < start:
                problems.add(row.line, "ends_on", f"{end} is before effective_on {start}")
            parsed[row.line] = (row["contract_id"], code, modifier, allowed, start, end)
        _unique(rows, lambda r: (r["contract_id"], r["code"].upper(), r["modifier"].upper(),
                                 r["effective_on"]), "contract + code + modifier + effective_on",
                problems)

        def step(row: CsvRow, counts: dict[str, int]) -> None:
            contract_id, code, modifier, allowed, start, end = parsed[row.line]
            rows_now = ledger.contract(contract_id).fees.get((code, modifier), [])
            if (start, end, allowed) in [tuple(r) for r in rows_now]:
                counts["unchanged"] += 1
                return
            ledger.set_fee(contract_id, code, modifier, allowed, start, end)
            counts["set"] += 1

        return _applying(name, rows, step, ("set", "unchanged"), progress)

    return _run(ledger, "fee-schedule", name, data, validate)


# -- chargemaster -----------------------------------------------------------------------------

def import_chargemaster(ledger: BillingLedger, data: bytes, name: str = "chargemaster.csv", *,
                        progress: Progress | None = None) -> ImportOutcome:
    def validate(rows: list[CsvRow], problems: Problems) -> Callable[[], dict[str, Any]]:
        parsed: dict[int, tuple[Any, ...]] = {}
        for row in rows:
            if not _require(row, ("code", "price", "effective_on"), problems):
                continue
            parsed[row.line] = (_code(row, "code", problems),
                                _cents(row, "price", problems, positive=True),
                                _date(row, "effective_on", problems), row["description"])
        _unique(rows, lambda r: (r["code"].upper(), r["effective_on"]), "code + effective_on",
                problems)

        def step(row: CsvRow, counts: dict[str, int]) -> None:
            code, cents, start, description = parsed[row.line]
            try:
                existing = ledger.chargemaster().prices.get(code, [])
            except NotFoundError:
                existing = []
            if (start, cents, description) in [tuple(r) for r in existing]:
                counts["unchanged"] += 1
                return
            ledger.set_price(code, cents, start, description)
            counts["set"] += 1

        return _applying(name, rows, step, ("set", "unchanged"), progress)

    return _run(ledger, "chargemaster", name, data, validate)


# -- charges ------------------------------------------------------------------------------------

_VISIT_COLUMNS = ("account_no", "service_date", "billing_npi", "rendering_npi",
                  "place_of_service", "diagnoses")


def encounter_id_for(encounter_ref: str) -> str:
    """The encounter a charges file's visit becomes (the same one on every import)."""
    return stable_id("V", 9, "charges-csv", encounter_ref)


def import_charges(ledger: BillingLedger, data: bytes, name: str = "charges.csv", *,
                   progress: Progress | None = None) -> ImportOutcome:
    def validate(rows: list[CsvRow], problems: Problems) -> Callable[[], dict[str, Any]]:
        _unique(rows, lambda r: (r["encounter_ref"], r["row_key"]), "encounter_ref + row_key",
                problems)
        visits: dict[str, CsvRow] = {}
        parsed: dict[int, dict[str, Any]] = {}
        checked: dict[tuple[str, str], bool] = {}
        for row in rows:
            if not _require(row, ("row_key", "encounter_ref", "account_no", "service_date",
                                  "billing_npi", "diagnoses", "code"), problems):
                continue
            first = visits.setdefault(row["encounter_ref"], row)
            for column in _VISIT_COLUMNS:
                if row[column] != first[column]:
                    problems.add(row.line, column, f"{row[column]!r} differs from line "
                                 f"{first.line} of the same encounter_ref {row['encounter_ref']}")
            record: dict[str, Any] = {"code": _code(row, "code", problems),
                                      "modifiers": _modifiers(row, "modifiers", problems)}
            try:
                record["units"] = parse_units(row["units"] or "1")
            except BillingError as error:
                problems.add(row.line, "units", str(error))
            diagnoses = [normalize_icd10(d) for d in _list(row["diagnoses"])]
            if first is row:
                bad = [d for d in diagnoses if not is_billable_icd10(d)]
                if bad or not 1 <= len(diagnoses) <= 12:
                    problems.add(row.line, "diagnoses", "1 to 12 billable ICD-10-CM codes "
                                 f"needed; not billable: {', '.join(bad) or 'none'}")
                record["service_date"] = _date(row, "service_date", problems)
                pos = row["place_of_service"] or "11"
                if not is_valid_pos(pos):
                    problems.add(row.line, "place_of_service", f"{pos!r} is not a CMS POS code")
                for column in ("billing_npi", "rendering_npi"):
                    if row[column] and not is_valid_npi(row[column]):
                        problems.add(row.line, column,
                                     f"NPI {row[column]} fails the check digit")
                    elif row[column] and (column, row[column]) not in checked:
                        checked[(column, row[column])] = _enrolled(
                            ledger, row[column], column == "billing_npi")
                        if not checked[(column, row[column])]:
                            problems.add(row.line, column, f"{row[column]} is not an enrolled "
                                         + ("billing " if column == "billing_npi" else "")
                                         + "provider")
                if _account(ledger, row["account_no"].upper()) is None:
                    problems.add(row.line, "account_no", f"no account {row['account_no']}")
            try:
                pointers = [int(p) for p in _list(row["pointers"] or "1")]
                if not all(1 <= p <= len(diagnoses) for p in pointers) or not 1 <= len(
                        pointers) <= 4 or len(set(pointers)) != len(pointers):
                    raise ValueError
                record["pointers"] = pointers
            except ValueError:
                problems.add(row.line, "pointers", f"{row['pointers']!r}: 1 to 4 different "
                             f"numbers, each pointing at one of the {len(diagnoses)} diagnoses")
            parsed[row.line] = record

        def step(row: CsvRow, counts: dict[str, int]) -> None:
            if row is rows[0]:
                new_keys.clear()  # a second run after a conflict starts afresh
            encounter_id = encounter_id_for(row["encounter_ref"])
            record = parsed[row.line]
            if row["row_key"] in ledger.source_keys(f"charges:{encounter_id}"):
                counts["duplicates"] += 1
                return
            try:
                encounter = ledger.encounter(encounter_id)
            except NotFoundError:
                visit = visits[row["encounter_ref"]]
                ledger.open_encounter(
                    visit["account_no"].upper(), date.fromisoformat(visit["service_date"]),
                    billing_npi=visit["billing_npi"], rendering_npi=visit["rendering_npi"],
                    place_of_service=visit["place_of_service"] or "11",
                    diagnoses=_list(visit["diagnoses"]), encounter_id=encounter_id)
                counts["encounters"] += 1
            else:
                if encounter.account_no != row["account_no"].upper():
                    raise RuleViolation(
                        f"line {row.line}: encounter_ref {row['encounter_ref']} was imported "
                        f"for account {encounter.account_no}, not {row['account_no']}")
            try:
                line_id = ledger.enter_charge(
                    encounter_id, record["code"], modifiers=record["modifiers"],
                    units=row["units"] or "1", pointers=record["pointers"])
            except BillingError as error:
                raise RuleViolation(f"line {row.line}: {error}") from None
            new_keys.setdefault(encounter_id, {})[row["row_key"]] = line_id
            counts["charges"] += 1
            counts["charge_cents"] += ledger.encounter(encounter_id).line(line_id)["charge_cents"]

        new_keys: dict[str, dict[str, str]] = {}

        def finish() -> None:
            # One record of row keys per visit, not per row: fewer events, same lookup.
            for encounter_id, keys in new_keys.items():
                ledger.record_source_keys(f"charges:{encounter_id}", keys,
                                          source=f"charges file {name}")
            new_keys.clear()

        return _applying(name, rows, step, ("encounters", "charges", "duplicates",
                                            "charge_cents"), progress, finish)

    return _run(ledger, "charges", name, data, validate)


def _enrolled(ledger: BillingLedger, npi: str, billing: bool) -> bool:
    try:
        provider = ledger.provider(npi)
    except NotFoundError:
        return False
    return bool(provider.is_billing) or not billing


IMPORTERS: dict[str, Callable[..., ImportOutcome]] = {
    "patients": import_patients, "fee-schedule": import_fee_schedule,
    "chargemaster": import_chargemaster, "charges": import_charges,
}
