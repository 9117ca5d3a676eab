"""Use cases for imports: one file, one save; visits and charges as another system billed them.

`record_import` runs an importer's function as one unit of work: every use case it calls
validates and records exactly as it would alone, but their saves are held back and written
together, with the file's `ImportRecord`, in one transaction at the end. A refusal anywhere
(a row that breaks a rule, a closed period, a conflict) leaves the ledger as it was; a file
whose SHA-256 is already recorded changes nothing. Events are written in the order the use
cases recorded them, so a read model sees a claim created before its lines are claimed, as
it would had each use case saved on its own.

The other use cases enter what an EHR's 837 or a Synthea export says happened: a visit with
its diagnoses as coded there and its payers in the order billed, lines at the amount charged
(a code that is not CPT/HCPCS, such as SNOMED, is kept as given, and the scrubber refuses to
bill it), and payments, adjustments and transfers naming their source row.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar, cast
from uuid import UUID

from domain.base import BillingAggregate
from domain.codes import is_valid_modifier, is_valid_pos, normalize_icd10
from domain.encounter import MAX_DIAGNOSES, Encounter
from domain.errors import RuleViolation, ValidationError
from domain.import_record import ImportOutcome, ImportRecord, SourceKeys
from domain.ledger import AGENCY, PATIENT, AdjustmentKind
from domain.patient_account import ORDER_LETTERS, PatientAccount
from domain.practice import Provider
from domain.services.charges import parse_units
from domain.services.core import LedgerCore, command
from domain.services.practice import require

A = TypeVar("A", bound=BillingAggregate)


@dataclass
class _UnitOfWork:
    """Aggregates loaded or created during one import, and the events its use cases saved."""

    ledger: LedgerCore
    aggregates: dict[UUID, BillingAggregate] = field(default_factory=dict)
    queued: dict[UUID, int] = field(default_factory=dict)
    events: list[Any] = field(default_factory=list)
    # What the store held when first asked (every use case asks for the user directory):
    # the import sees one state of the store, and a writer who changes it meanwhile makes
    # the final save conflict and the import run again.
    stored: dict[UUID, bool] = field(default_factory=dict)


# A context variable, not an attribute: a ledger shared by threads (the TUI's workers) must
# not see another thread's import in progress.
_CURRENT: ContextVar[_UnitOfWork | None] = ContextVar("claimdesk_import", default=None)


class _InOrder:
    """Stands in for an aggregate at the final save: the import's events, in command order.

    `LedgerCore._save` (period check, storage errors, after-save hooks) reads
    `pending_events`; `Application.save` takes anything with `collect_events()`.
    """

    def __init__(self, events: list[Any]) -> None:
        self.id = uuid.uuid4()
        self.pending_events = events

    def collect_events(self) -> list[Any]:
        return list(self.pending_events)


@dataclass(frozen=True)
class SourceEntry:
    """A payment, adjustment or transfer on one line, as a source file recorded it.

    `kind` is "payment", "adjustment" or "transfer" (from `party` to `to_party`). A transfer
    with `up_to_held` moves at most what `party` holds on the line (nothing when it holds
    nothing): exports round, and a source may move a cent more than is left.
    """

    kind: str
    line_id: str
    party: str
    amount_cents: int
    effective_on: date
    source: str
    to_party: str = ""
    method: str = "other"
    reference: str = ""
    reason: str = ""
    adjustment_kind: str = AdjustmentKind.PAYER
    up_to_held: bool = False


class BulkCommands(LedgerCore):
    # -- one file, one save ---------------------------------------------------------------
    def _unit_of_work(self) -> _UnitOfWork | None:
        work = _CURRENT.get()
        return work if work is not None and work.ledger is self else None

    def _get(self, cls: type[A], *key: Any) -> A:
        work = self._unit_of_work()
        if work is None:
            return super()._get(cls, *key)
        aggregate_id = cls.create_id(*key)
        held = work.aggregates.get(aggregate_id)
        if held is None:
            held = super()._get(cls, *key)
            work.aggregates[aggregate_id] = held
        assert isinstance(held, cls)
        return held

    def _exists(self, cls: type[BillingAggregate], *key: Any) -> bool:
        work = self._unit_of_work()
        if work is None:
            return super()._exists(cls, *key)
        aggregate_id = cls.create_id(*key)
        if aggregate_id in work.aggregates:
            return True
        if aggregate_id not in work.stored:
            work.stored[aggregate_id] = super()._exists(cls, *key)
        return work.stored[aggregate_id]

    def _held_back(self) -> bool:
        return self._unit_of_work() is not None

    def _save(self, *aggregates: BillingAggregate) -> None:
        work = self._unit_of_work()
        if work is None:
            super()._save(*aggregates)
            return
        for aggregate in aggregates:
            held = work.aggregates.setdefault(aggregate.id, aggregate)
            assert held is aggregate, f"two copies of {type(aggregate).__name__} in one import"
            pending = aggregate.pending_events
            work.events.extend(pending[work.queued.get(aggregate.id, 0):])
            work.queued[aggregate.id] = len(pending)

    @command
    def record_import(
        self, kind: str, sha256: str, file_name: str, apply: Callable[[], dict[str, Any]],
    ) -> ImportOutcome:
        """Run `apply` (which calls use cases and returns a summary) as one all-or-nothing save.

        `apply` may run more than once (after a conflict with another writer, on fresh state),
        so it must start from nothing each time.
        """
        if self._exists(ImportRecord, kind, sha256):
            record = self._get(ImportRecord, kind, sha256)
            return ImportOutcome(kind, file_name, sha256, "already-imported", 0,
                                 {**record.summary, "imported_on": record.imported_on.isoformat(),
                                  "imported_as": record.file_name})
        if self._unit_of_work() is not None:
            raise RuleViolation("an import cannot run inside another import")
        work = _UnitOfWork(self)
        token = _CURRENT.set(work)
        try:
            summary = apply()
            self._save(ImportRecord(kind=kind, sha256=sha256, file_name=file_name,
                                    imported_on=self.today(), summary=summary))
        finally:
            _CURRENT.reset(token)
        self._save(cast(BillingAggregate, _InOrder(work.events)))
        return ImportOutcome(kind, file_name, sha256, "imported", len(work.events), summary)

    def import_record(self, kind: str, sha256: str) -> ImportRecord | None:
        return self._get(ImportRecord, kind, sha256) if self._exists(
            ImportRecord, kind, sha256) else None

    # -- row keys of other systems ----------------------------------------------------------
    def source_keys(self, scope: str) -> dict[str, str]:
        """Row key -> ledger record for `scope` (empty when none were recorded)."""
        if not self._exists(SourceKeys, scope):
            return {}
        return dict(self._get(SourceKeys, scope).keys)

    @command
    def record_source_keys(self, scope: str, keys: dict[str, str], source: str) -> None:
        require(bool(scope.strip()), "source keys need a scope")
        keeper = self._get(SourceKeys, scope) if self._exists(SourceKeys, scope) else (
            SourceKeys(scope=scope))
        keeper.record(keys, source)
        self._save(keeper)

    # -- visits and lines as billed elsewhere -------------------------------------------------
    @command
    def open_encounter_as_billed(
        self, account_no: str, service_date: date, *, billing_npi: str, place_of_service: str,
        diagnoses: list[str], payers: list[str], encounter_id: str, rendering_npi: str = "",
        referring_npi: str = "", prior_authorization: str = "",
    ) -> str:
        """Open a visit the way another system billed it.

        Diagnoses stay as coded there (an ICD-9 or SNOMED code is kept, and the scrubber
        flags it on any claim); `payers` is the coverage in the order billed ([] = self-pay),
        each the account's policy with that payer in force on the date of service, else its
        latest one (the scrubber then says the policy was not active).
        """
        account = self._get(PatientAccount, account_no)
        require(service_date <= self.today(), f"date of service {service_date} is in the future")
        require(service_date >= account.birth_date,
                f"date of service {service_date} is before the patient's birth")
        require(is_valid_pos(place_of_service),
                f"place of service {place_of_service!r} is not a CMS POS code")
        billing = self._get(Provider, billing_npi)
        require(billing.is_billing, f"provider {billing_npi} is not a billing provider")
        if rendering_npi:
            self._get(Provider, rendering_npi)
        codes = [normalize_icd10(d) for d in diagnoses]
        require(1 <= len(codes) <= MAX_DIAGNOSES and all(codes),
                "an encounter needs 1 to 12 diagnoses")
        require(len(set(codes)) == len(codes), "a diagnosis is listed twice")
        require(len(set(payers)) == len(payers), "a payer is listed twice in the coverage")
        coverage = []
        for position, payer_id in enumerate(payers):
            policy = self._policy_with(account, payer_id, service_date)
            coverage.append({"policy_id": policy["policy_id"], "payer_id": payer_id,
                             "plan_id": policy["plan_id"], "member_id": policy["member_id"],
                             "order": ORDER_LETTERS[position]})
        if self._exists(Encounter, encounter_id):
            raise RuleViolation(f"encounter {encounter_id} already exists")
        encounter = Encounter(
            encounter_id=encounter_id, account_no=account_no,
            guarantor_account_no=account.guarantor_account_no, service_date=service_date,
            place_of_service=place_of_service, billing_npi=billing_npi,
            rendering_npi=rendering_npi, referring_npi=referring_npi,
            prior_authorization=prior_authorization, diagnoses=codes, coverage=coverage,
            self_pay=not coverage)
        account.record_visit(encounter_id, service_date)
        self._save(encounter, account)
        return encounter_id

    @staticmethod
    def _policy_with(account: PatientAccount, payer_id: str, on: date) -> dict[str, Any]:
        active = [p for p in account.active_policies(on) if p["payer_id"] == payer_id]
        if active:
            return active[0]
        held = [account.policies[i] for i in account.coverage_order
                if account.policies[i]["payer_id"] == payer_id]
        if not held:
            raise ValidationError(f"account {account.account_no} has no policy with {payer_id}")
        return held[-1]

    @command
    def enter_charge_priced(
        self, encounter_id: str, code: str, *, charge_cents: int,
        units: str | int | Decimal = 1, modifiers: list[str] | None = None,
        pointers: list[int] | None = None, service_date: date | None = None,
        place_of_service: str = "", description: str = "", posted_on: date | None = None,
    ) -> str:
        """Enter a line at the amount another system charged (SV102), not the chargemaster's.

        The line keeps that exact amount; its unit price is the amount over the units, to the
        cent (informational: 3 units billed at 100.00 stay 100.00). `posted_on` is today unless
        the line is history being migrated.
        """
        encounter = self._get(Encounter, encounter_id)
        code = code.strip().upper()
        require(bool(code) and len(code) <= 48, f"procedure code {code!r} must be 1-48 characters")
        clean = [m.strip().upper() for m in modifiers or [] if m.strip()]
        bad = [m for m in clean if not is_valid_modifier(m)]
        require(not bad, f"modifiers must be 2 letters or digits: {', '.join(bad)}")
        require(charge_cents > 0, f"line {code}: a charge must be a positive amount")
        if service_date is not None:
            require(service_date <= self.today(),
                    f"date of service {service_date} is in the future")
        if place_of_service:
            require(is_valid_pos(place_of_service),
                    f"place of service {place_of_service!r} is not a CMS POS code")
        units_milli = parse_units(units)
        unit_price = (charge_cents * 1000 * 2 + units_milli) // (units_milli * 2)
        line_id = encounter.enter_charge(
            code=code, modifiers=clean, units_milli=units_milli, pointers=list(pointers or [1]),
            unit_price_cents=unit_price, description=description, service_date=service_date,
            place_of_service=place_of_service, posted_on=posted_on or self.today(),
            charge_cents=charge_cents)
        self._save(encounter)
        return line_id

    @command
    def post_entries(self, encounter_id: str, entries: Sequence[SourceEntry]) -> list[str]:
        """Post a source's payments, adjustments and transfers on an encounter's lines, in order."""
        encounter = self._get(Encounter, encounter_id)
        parties = {PATIENT, AGENCY, *encounter.payer_parties()}
        entry_ids = []
        for entry in entries:
            for party in (entry.party, entry.to_party) if entry.kind == "transfer" else (
                    entry.party,):
                require(party in parties,
                        f"{party} is not a party to encounter {encounter_id}")
            if entry.kind == "payment":
                entry_ids.append(encounter.post_payment(
                    line_id=entry.line_id, party=entry.party, amount_cents=entry.amount_cents,
                    effective_on=entry.effective_on, method=entry.method,
                    reference=entry.reference, source=entry.source))
            elif entry.kind == "adjustment":
                entry_ids.append(encounter.post_adjustment(
                    line_id=entry.line_id, party=entry.party, amount_cents=entry.amount_cents,
                    effective_on=entry.effective_on, kind=entry.adjustment_kind, group="",
                    carc="", rarcs=[], reason=entry.reason, approved_by="",
                    source=entry.source))
            elif entry.kind == "transfer":
                amount = entry.amount_cents
                if entry.up_to_held:
                    amount = min(amount, encounter.party_balance(entry.line_id, entry.party))
                    if amount <= 0:
                        continue
                entry_ids.append(encounter.transfer(
                    line_id=entry.line_id, from_party=entry.party, to_party=entry.to_party,
                    amount_cents=amount, effective_on=entry.effective_on, reason=entry.reason,
                    source=entry.source))
            else:
                raise ValidationError(f"unknown entry kind {entry.kind!r}")
        self._save(encounter)
        return entry_ids
