"""Use cases for the practice's reference data: providers, payers, plans, contracts, prices."""

from __future__ import annotations

import re
from datetime import date

from domain.codes import is_valid_npi, is_valid_procedure_code, normalize_tin
from domain.errors import AlreadyExistsError, ValidationError
from domain.ledger import RESERVED_PARTIES
from domain.practice import Chargemaster, Contract, Payer, Provider
from domain.services.core import LedgerCore, command
from domain.text import check_text

PAYER_ID = re.compile(r"^[A-Z0-9]{2,20}$")


def require(condition: bool, message: str) -> None:
    if not condition:
        raise ValidationError(message)


MAX_WINDOW_DAYS = 3_650


def _check_names(*fields: tuple[str, str], address: dict[str, str] | None = None) -> None:
    """Practice names reach every screen, 837 and statement: one line of printable text."""
    for what, value in fields:
        check_text(what, value)
    for key, value in (address or {}).items():
        check_text(f"address {key}", value)


class PracticeCommands(LedgerCore):
    @command
    def enroll_provider(
        self, npi: str, name: str, tin: str, taxonomy: str = "", *, is_billing: bool = False,
        is_person: bool = True, address: dict[str, str] | None = None,
    ) -> str:
        require(is_valid_npi(npi), f"NPI {npi!r} fails the check digit (Luhn with 80840)")
        try:
            tin = normalize_tin(tin)
        except ValueError as error:
            raise ValidationError(f"TIN {tin!r}: {error}") from None
        require(bool(name.strip()), "a provider needs a name")
        _check_names(("provider name", name), ("taxonomy", taxonomy), address=address)
        if self._exists(Provider, npi):
            raise AlreadyExistsError(f"provider {npi} is already enrolled")
        self._save(Provider(npi=npi, name=name.strip(), tin=tin, taxonomy=taxonomy,
                            is_billing=is_billing, is_person=is_person,
                            address=address or {}))
        return npi

    def provider(self, npi: str) -> Provider:
        return self._get(Provider, npi)

    @command
    def register_payer(
        self, payer_id: str, name: str, filing_indicator: str = "CI",
        expected_response_days: int = 30, address: dict[str, str] | None = None,
    ) -> str:
        require(bool(PAYER_ID.match(payer_id)),
                f"payer id {payer_id!r} must be 2-20 characters A-Z or 0-9")
        require(payer_id not in RESERVED_PARTIES, f"{payer_id} is reserved")
        require(bool(name.strip()), "a payer needs a name")
        _check_names(("payer name", name), address=address)
        require(0 < expected_response_days <= MAX_WINDOW_DAYS,
                f"expected response days must be 1 to {MAX_WINDOW_DAYS}")
        if self._exists(Payer, payer_id):
            raise AlreadyExistsError(f"payer {payer_id} is already registered")
        self._save(Payer(payer_id=payer_id, name=name.strip(), filing_indicator=filing_indicator,
                         expected_response_days=expected_response_days, address=address or {}))
        return payer_id

    def payer(self, payer_id: str) -> Payer:
        return self._get(Payer, payer_id)

    @command
    def add_plan(self, payer_id: str, plan_id: str, name: str, product: str = "PPO") -> str:
        require(bool(plan_id.strip()), "a plan needs an id")
        _check_names(("plan id", plan_id), ("plan name", name), ("product", product))
        payer = self._get(Payer, payer_id)
        payer.add_plan(plan_id=plan_id, name=name, product=product)
        self._save(payer)
        return plan_id

    @command
    def sign_contract(
        self, contract_id: str, payer_id: str, plan_ids: list[str], billing_npi: str,
        effective_on: date, ends_on: date | None = None, *, timely_filing_days: int = 365,
        corrected_claim_days: int = 365, appeal_days: int = 180, method: str = "fee-schedule",
        fees: list[tuple[str, str, int]] | None = None,
    ) -> str:
        payer = self._get(Payer, payer_id)
        self._get(Provider, billing_npi)
        unknown = [p for p in plan_ids if p not in payer.plans]
        require(not unknown, f"payer {payer_id} has no plan {', '.join(unknown)}")
        require(bool(plan_ids), "a contract covers at least one plan")
        for what, days in (("timely filing", timely_filing_days),
                           ("corrected claim", corrected_claim_days), ("appeal", appeal_days)):
            # Payers allow days to a few years; ten is a typing slip, and dates past it
            # would overflow the deadline arithmetic.
            require(0 < days <= MAX_WINDOW_DAYS, f"{what} days must be 1 to {MAX_WINDOW_DAYS}")
        require(ends_on is None or ends_on >= effective_on, "contract ends before it starts")
        if self._exists(Contract, contract_id):
            raise AlreadyExistsError(f"contract {contract_id} already exists")
        contract = Contract(
            contract_id=contract_id, payer_id=payer_id, plan_ids=plan_ids,
            billing_npi=billing_npi, effective_on=effective_on, ends_on=ends_on,
            timely_filing_days=timely_filing_days, corrected_claim_days=corrected_claim_days,
            appeal_days=appeal_days, method=method)
        for code, modifier, allowed in fees or []:
            require(is_valid_procedure_code(code), f"fee schedule code {code!r} is not CPT/HCPCS")
            contract.set_fee(code, modifier, allowed, effective_on)
        payer.record_contract(contract_id, plan_ids, effective_on, ends_on, billing_npi)
        self._save(contract, payer)
        return contract_id

    @command
    def set_fee(self, contract_id: str, code: str, modifier: str, allowed_cents: int,
                effective_on: date, ends_on: date | None = None) -> None:
        require(is_valid_procedure_code(code), f"{code!r} is not a CPT/HCPCS code")
        contract = self._get(Contract, contract_id)
        contract.set_fee(code, modifier, allowed_cents, effective_on, ends_on)
        self._save(contract)

    def contract(self, contract_id: str) -> Contract:
        return self._get(Contract, contract_id)

    def contract_for(self, payer_id: str, plan_id: str, on: date,
                     billing_npi: str = "") -> Contract | None:
        contract_id = self._get(Payer, payer_id).contract_id_for(plan_id, on, billing_npi)
        return None if contract_id is None else self._get(Contract, contract_id)

    @command
    def set_price(self, code: str, price_cents: int, effective_on: date,
                  description: str = "") -> None:
        require(is_valid_procedure_code(code), f"{code!r} is not a CPT/HCPCS code")
        chargemaster = (self._get(Chargemaster) if self._exists(Chargemaster)
                        else Chargemaster())
        chargemaster.set_price(code, price_cents, effective_on, description)
        self._save(chargemaster)

    @command
    def set_prices(self, prices: list[tuple[str, int, str]], effective_on: date) -> None:
        """Load many chargemaster rows in one save (a CDM file is all-or-nothing)."""
        chargemaster = (self._get(Chargemaster) if self._exists(Chargemaster)
                        else Chargemaster())
        for code, cents, description in prices:
            require(is_valid_procedure_code(code), f"{code!r} is not a CPT/HCPCS code")
            chargemaster.set_price(code, cents, effective_on, description)
        self._save(chargemaster)

    def chargemaster(self) -> Chargemaster:
        return self._get(Chargemaster)
