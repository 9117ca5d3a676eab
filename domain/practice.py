"""Reference data: providers, payers and plans, contracts with fee schedules, the chargemaster."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.base import BillingAggregate, stream_id
from domain.errors import RuleViolation, ValidationError


class Provider(BillingAggregate):
    """A billing or rendering provider, keyed by NPI."""

    @staticmethod
    def create_id(npi: str) -> UUID:
        return stream_id("provider", npi)

    @event("Enrolled")
    def __init__(
        self, npi: str, name: str, tin: str, taxonomy: str, is_billing: bool,
        is_person: bool, address: dict[str, str],
    ) -> None:
        self.npi = npi
        self.name = name
        self.tin = tin
        self.taxonomy = taxonomy
        self.is_billing = is_billing
        self.is_person = is_person
        self.address = dict(address)


class Payer(BillingAggregate):
    """An insurance company, with the plans (products) it sells."""

    @staticmethod
    def create_id(payer_id: str) -> UUID:
        return stream_id("payer", payer_id)

    @event("Registered")
    def __init__(
        self, payer_id: str, name: str, filing_indicator: str, expected_response_days: int,
        address: dict[str, str],
    ) -> None:
        self.payer_id = payer_id
        self.name = name
        self.filing_indicator = filing_indicator
        self.expected_response_days = expected_response_days
        self.address = dict(address)
        self.plans: dict[str, dict[str, Any]] = {}
        self.contracts: list[dict[str, Any]] = []

    def add_plan(self, plan_id: str, name: str, product: str) -> None:
        if plan_id in self.plans:
            raise RuleViolation(f"plan {plan_id} already exists for payer {self.payer_id}")
        self._plan_added(plan_id=plan_id, name=name, product=product)

    @event("PlanAdded")
    def _plan_added(self, plan_id: str, name: str, product: str) -> None:
        self.plans[plan_id] = {"plan_id": plan_id, "name": name, "product": product}

    def record_contract(self, contract_id: str, plan_ids: list[str], effective_on: date,
                        ends_on: date | None, billing_npi: str = "") -> None:
        self._contract_recorded(contract_id=contract_id, plan_ids=plan_ids,
                                effective_on=effective_on, ends_on=ends_on,
                                billing_npi=billing_npi)

    @event("ContractRecorded")
    def _contract_recorded(self, contract_id: str, plan_ids: list[str], effective_on: date,
                           ends_on: date | None, billing_npi: str = "") -> None:
        self.contracts.append({"contract_id": contract_id, "plan_ids": list(plan_ids),
                               "effective_on": effective_on, "ends_on": ends_on,
                               "billing_npi": billing_npi})

    def contract_id_for(self, plan_id: str, on: date, billing_npi: str = "") -> str | None:
        """The contract covering a plan on a date for a billing provider (DOMAIN §1: a
        contract is the provider's with the payer); the latest signed wins an overlap."""
        for c in reversed(self.contracts):
            if billing_npi and c.get("billing_npi") not in ("", billing_npi):
                continue
            if plan_id in c["plan_ids"] and c["effective_on"] <= on and (
                    c["ends_on"] is None or on <= c["ends_on"]):
                return str(c["contract_id"])
        return None


class Contract(BillingAggregate):
    """Terms with one payer for a set of its plans: filing windows and the fee schedule."""

    @staticmethod
    def create_id(contract_id: str) -> UUID:
        return stream_id("contract", contract_id)

    @event("Signed")
    def __init__(
        self, contract_id: str, payer_id: str, plan_ids: list[str], billing_npi: str,
        effective_on: date, ends_on: date | None, timely_filing_days: int,
        corrected_claim_days: int, appeal_days: int, method: str,
    ) -> None:
        self.contract_id = contract_id
        self.payer_id = payer_id
        self.plan_ids = list(plan_ids)
        self.billing_npi = billing_npi
        self.effective_on = effective_on
        self.ends_on = ends_on
        self.timely_filing_days = timely_filing_days
        self.corrected_claim_days = corrected_claim_days
        self.appeal_days = appeal_days
        self.method = method
        # (code, modifier key) -> list of (effective_on, ends_on, allowed cents per unit)
        self.fees: dict[tuple[str, str], list[tuple[date, date | None, int]]] = {}

    def covers(self, plan_id: str, on: date) -> bool:
        return plan_id in self.plan_ids and self.effective_on <= on and (
            self.ends_on is None or on <= self.ends_on)

    def set_fee(
        self, code: str, modifier: str, allowed_cents: int, effective_on: date,
        ends_on: date | None = None,
    ) -> None:
        if allowed_cents < 0:
            raise ValidationError(f"allowed amount for {code} cannot be negative")
        if ends_on is not None and ends_on < effective_on:
            raise ValidationError(f"fee for {code} ends before it starts")
        self._fee_set(code=code, modifier=modifier, allowed_cents=allowed_cents,
                      effective_on=effective_on, ends_on=ends_on)

    @event("FeeSet")
    def _fee_set(
        self, code: str, modifier: str, allowed_cents: int, effective_on: date,
        ends_on: date | None,
    ) -> None:
        rows = self.fees.setdefault((code, modifier), [])
        # A later row for an overlapping period supersedes; we keep history for audit.
        rows.append((effective_on, ends_on, allowed_cents))

    def allowed_per_unit(self, code: str, modifiers: list[str], on: date) -> int | None:
        for key in ((code, modifiers[0] if modifiers else ""), (code, "")):
            for start, end, cents in reversed(self.fees.get(key, [])):
                if start <= on and (end is None or on <= end):
                    return cents
        return None


class Chargemaster(BillingAggregate):
    """The practice's one price list: code -> charge per unit, the same for every payer."""

    @staticmethod
    def create_id() -> UUID:
        return stream_id("chargemaster", "main")

    @event("Opened")
    def __init__(self) -> None:
        self.prices: dict[str, list[tuple[date, int, str]]] = {}

    def set_price(self, code: str, price_cents: int, effective_on: date, description: str) -> None:
        if price_cents <= 0:
            raise ValidationError(f"price for {code} must be positive")
        self._price_set(code=code, price_cents=price_cents, effective_on=effective_on,
                        description=description)

    @event("PriceSet")
    def _price_set(self, code: str, price_cents: int, effective_on: date, description: str) -> None:
        self.prices.setdefault(code, []).append((effective_on, price_cents, description))
        self.prices[code].sort(key=lambda row: row[0])

    def price_on(self, code: str, on: date) -> tuple[int, str] | None:
        found = None
        for start, cents, description in self.prices.get(code, []):
            if start <= on:
                found = (cents, description)
        return found
