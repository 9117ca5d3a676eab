"""Use cases at the front desk: registration, guarantor, coverage, eligibility, discounts."""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.codes import CoverageOrder, Relationship, Sex
from domain.errors import AlreadyExistsError, RuleViolation
from domain.patient_account import PatientAccount
from domain.practice import Payer
from domain.services.core import LedgerCore, command
from domain.services.practice import require
from domain.text import check_text

ADDRESS_KEYS = ("line1", "line2", "city", "state", "zip")
_ORDERS = {o.value: i for i, o in enumerate(CoverageOrder)}


def check_address(address: dict[str, str]) -> dict[str, str]:
    unknown = set(address) - set(ADDRESS_KEYS)
    require(not unknown, f"unknown address fields {', '.join(sorted(unknown))}")
    for key in ADDRESS_KEYS:
        check_text(f"address {key}", address.get(key, ""))
    clean = {k: str(address.get(k, "")).strip() for k in ADDRESS_KEYS}
    state = clean["state"]
    require(state == "" or (len(state) == 2 and state.isalpha()),
            f"state {state!r} must be a 2-letter code")
    zip_code = clean["zip"].replace("-", "")
    require(zip_code == "" or (zip_code.isdigit() and len(zip_code) in (5, 9)),
            f"ZIP {clean['zip']!r} must be 5 or 9 digits")
    clean["state"] = state.upper()
    clean["zip"] = zip_code
    return clean


class RegistrationCommands(LedgerCore):
    @command
    def register_patient(
        self, last_name: str, first_name: str, birth_date: date, sex: str, *,
        middle_name: str = "", address: dict[str, str] | None = None, phone: str = "",
        reason_for_visit: str = "", account_no: str | None = None,
        registered_on: date | None = None,
    ) -> str:
        require(bool(last_name.strip()) and bool(first_name.strip()),
                "a patient needs a last and a first name")
        for what, value in (("last name", last_name), ("first name", first_name),
                            ("middle name", middle_name), ("phone", phone),
                            ("reason for visit", reason_for_visit)):
            check_text(what, value)
        require(sex in {s.value for s in Sex}, f"sex must be F, M or U, not {sex!r}")
        today = self.today()
        require(birth_date <= today, f"birth date {birth_date} is in the future")
        require(birth_date.year >= 1900, f"birth date {birth_date} is not plausible")
        if account_no is not None:
            require(account_no.isalnum() and len(account_no) <= 20,
                    f"account number {account_no!r} must be 1-20 letters or digits")
            if self._exists(PatientAccount, account_no):
                raise AlreadyExistsError(f"account {account_no} already exists")
        else:
            account_no = self.ids.account_no()
            while self._exists(PatientAccount, account_no):
                account_no = self.ids.account_no()
        account = PatientAccount(
            account_no=account_no, last_name=last_name.strip().upper(),
            first_name=first_name.strip().upper(), middle_name=middle_name.strip().upper(),
            birth_date=birth_date, sex=sex, address=check_address(address or {}),
            phone=phone.strip(), reason_for_visit=reason_for_visit.strip(),
            registered_on=registered_on or today)
        self._save(account)
        return account_no

    def account(self, account_no: str) -> PatientAccount:
        return self._get(PatientAccount, account_no)

    @command
    def correct_demographics(self, account_no: str, reason: str, **changes: Any) -> None:
        require(bool(reason.strip()), "a correction needs a reason")
        # A correction must not let in what registration refuses.
        check_text("reason", reason)
        for key in ("last_name", "first_name", "middle_name", "phone", "reason_for_visit"):
            if key in changes:
                check_text(key.replace("_", " "), changes[key])
        account = self._get(PatientAccount, account_no)
        if "address" in changes:
            changes["address"] = check_address(changes["address"])
        if "sex" in changes:
            require(changes["sex"] in {s.value for s in Sex}, "sex must be F, M or U")
        for key in ("last_name", "first_name", "middle_name"):
            if key in changes:
                changes[key] = str(changes[key]).strip().upper()
        for key in ("last_name", "first_name"):
            if key in changes:
                require(bool(changes[key]), f"{key.replace('_', ' ')} cannot be blank")
        if "birth_date" in changes:
            born = changes["birth_date"]
            require(born <= self.today(), f"birth date {born} is in the future")
            require(born.year >= 1900, f"birth date {born} is not plausible")
        account.correct_demographics(changes, reason)
        self._save(account)

    @command
    def set_guarantor(self, account_no: str, guarantor_account_no: str,
                      relationship: str) -> None:
        account = self._get(PatientAccount, account_no)
        guarantor = self._get(PatientAccount, guarantor_account_no)
        # Naming the account itself makes it its own guarantor again (a child grown up).
        if guarantor_account_no != account_no and (
                guarantor.guarantor_account_no != guarantor.account_no):
            raise RuleViolation(
                f"{guarantor_account_no} has a guarantor of their own and cannot guarantee others")
        if account.dependents and guarantor_account_no != account_no:
            raise RuleViolation(
                f"{account_no} guarantees other accounts; move them to a new guarantor first")
        require(relationship in {r.value for r in Relationship},
                f"relationship {relationship!r} is not an X12 relationship code")
        changed = [account]
        previous = account.guarantor_account_no
        if previous not in (account_no, guarantor_account_no):
            old = self._get(PatientAccount, previous)
            old.unlink_dependent(account_no)
            changed.append(old)
        account.set_guarantor(guarantor_account_no, relationship)
        if guarantor_account_no != account_no:
            guarantor.link_dependent(account_no)
            changed.append(guarantor)
        self._save(*changed)

    @command
    def add_coverage(
        self, account_no: str, payer_id: str, plan_id: str, member_id: str, *,
        group_number: str = "", relationship: str = "18",
        subscriber: dict[str, Any] | None = None, effective_on: date,
        terminates_on: date | None = None, order: str | None = None,
    ) -> str:
        """Add a policy; `order` P/S/T places it, else it goes last in coverage order."""
        for what, value in (("member id", member_id), ("group number", group_number),
                            ("subscriber last name", (subscriber or {}).get("last_name")),
                            ("subscriber first name", (subscriber or {}).get("first_name"))):
            check_text(what, value)
        account = self._get(PatientAccount, account_no)
        payer = self._get(Payer, payer_id)
        require(plan_id in payer.plans, f"payer {payer_id} has no plan {plan_id}")
        require(relationship in {r.value for r in Relationship},
                f"relationship {relationship!r} is not an X12 relationship code")
        if relationship == Relationship.SELF:
            subscriber = {"last_name": account.last_name, "first_name": account.first_name,
                          "birth_date": account.birth_date.isoformat(), "sex": account.sex,
                          "address": account.address}
        else:
            require(bool(subscriber and subscriber.get("last_name")
                         and subscriber.get("first_name")),
                    "a dependent's policy needs the subscriber's name")
        position = None
        if order is not None:
            require(order in _ORDERS, f"order must be one of {', '.join(_ORDERS)}")
            position = _ORDERS[order]
        policy_id = account.add_policy(
            payer_id=payer_id, plan_id=plan_id, member_id=member_id.strip(),
            group_number=group_number.strip(), subscriber=dict(subscriber or {}),
            relationship=relationship, effective_on=effective_on, terminates_on=terminates_on,
            filing_indicator=payer.filing_indicator, position=position)
        self._save(account)
        return policy_id

    @command
    def reorder_coverage(self, account_no: str, policy_ids: list[str], reason: str) -> None:
        check_text("reason", reason)
        account = self._get(PatientAccount, account_no)
        account.reorder_coverage(policy_ids, reason)
        self._save(account)

    @command
    def terminate_coverage(self, account_no: str, policy_id: str, terminated_on: date,
                           reason: str = "") -> None:
        check_text("reason", reason)
        account = self._get(PatientAccount, account_no)
        account.terminate_policy(policy_id, terminated_on, reason)
        self._save(account)

    @command
    def record_eligibility(
        self, account_no: str, policy_id: str, *, active: bool, service_on: date,
        checked_on: date | None = None, copay_cents: int | None = None,
        deductible_remaining_cents: int | None = None, coinsurance_percent: int | None = None,
        out_of_pocket_remaining_cents: int | None = None, plan_name: str = "",
        trace_number: str = "", source: str = "manual", message: str = "",
    ) -> None:
        for label, cents in (("copay", copay_cents),
                             ("deductible remaining", deductible_remaining_cents),
                             ("out-of-pocket remaining", out_of_pocket_remaining_cents)):
            require(cents is None or cents >= 0, f"{label} cannot be negative")
        require(coinsurance_percent is None or 0 <= coinsurance_percent <= 100,
                "coinsurance must be 0-100%")
        account = self._get(PatientAccount, account_no)
        account.record_eligibility(
            policy_id=policy_id, checked_on=checked_on or self.today(), service_on=service_on,
            active=active, copay_cents=copay_cents,
            deductible_remaining_cents=deductible_remaining_cents,
            coinsurance_percent=coinsurance_percent,
            out_of_pocket_remaining_cents=out_of_pocket_remaining_cents, plan_name=plan_name,
            trace_number=trace_number, source=source, message=message)
        self._save(account)

    @command
    def grant_discount(
        self, account_no: str, kind: str, percent: int, *, effective_on: date,
        ends_on: date | None = None, approved_by: str | None = None, reason: str = "",
    ) -> None:
        require(kind in ("self-pay", "prompt-pay", "sliding-scale", "financial-assistance"),
                f"discount kind {kind!r} must be self-pay, prompt-pay, sliding-scale or "
                "financial-assistance")
        account = self._get(PatientAccount, account_no)
        account.grant_discount(kind=kind, percent=percent, effective_on=effective_on,
                               ends_on=ends_on, approved_by=approved_by or self.acting_user,
                               reason=reason)
        self._save(account)


