"""Who may use the ledger, in which role; the books' closed periods and settings; PHI access.

Users live in the ledger as events, so an auditor sees when someone got a role and who
gave it. A ledger is *open* (anyone at the keyboard acts with every role: a demo or a
single-user ledger) until ``claimdesk init`` closes it with its first admin.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.base import BillingAggregate, stream_id
from domain.errors import AlreadyExistsError, RuleViolation, ValidationError
from domain.money import INT64_MAX


class Role(StrEnum):
    REGISTRAR = "registrar"
    BILLER = "biller"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    ADMIN = "admin"


class UserDirectory(BillingAggregate):
    """Every user of this ledger and their role."""

    @staticmethod
    def create_id() -> UUID:
        return stream_id("directory", "users")

    @event("Opened")
    def __init__(self, open_access: bool) -> None:
        self.open_access = open_access
        self.users: dict[str, dict[str, Any]] = {}

    def add_user(self, name: str, role: str, full_name: str) -> None:
        if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise ValidationError(f"user name {name!r} must be letters, digits, - _ or .")
        if role not in {r.value for r in Role}:
            raise ValidationError(f"role must be one of {', '.join(r.value for r in Role)}")
        if name in self.users:
            raise AlreadyExistsError(f"user {name} already exists")
        self._user_added(name=name, role=role, full_name=full_name)

    @event("UserAdded")
    def _user_added(self, name: str, role: str, full_name: str) -> None:
        self.users[name] = {"name": name, "role": role, "full_name": full_name,
                            "disabled": False}

    def user(self, name: str) -> dict[str, Any]:
        if name not in self.users:
            raise ValidationError(f"no user {name} in this ledger")
        return self.users[name]

    def change_role(self, name: str, role: str) -> None:
        user = self.user(name)
        if role not in {r.value for r in Role}:
            raise ValidationError(f"role must be one of {', '.join(r.value for r in Role)}")
        if user["role"] == role:
            raise RuleViolation(f"{name} already has role {role}")
        self._role_changed(name=name, role=role)

    @event("RoleChanged")
    def _role_changed(self, name: str, role: str) -> None:
        self.users[name]["role"] = role

    def disable_user(self, name: str, reason: str) -> None:
        user = self.user(name)
        if user["disabled"]:
            raise RuleViolation(f"{name} is already disabled")
        self._user_disabled(name=name, reason=reason)

    @event("UserDisabled")
    def _user_disabled(self, name: str, reason: str) -> None:
        self.users[name]["disabled"] = True

    def close_access(self) -> None:
        if self.open_access:
            self._access_closed()

    @event("AccessClosed")
    def _access_closed(self) -> None:
        self.open_access = False


SETTING_DEFAULTS = {
    "write_off_supervisor_threshold_cents": 10_000,
    "small_balance_threshold_cents": 500,
    "collection_threshold_cents": 2_500,
}


class Books(BillingAggregate):
    """Period close and the office's configurable thresholds."""

    @staticmethod
    def create_id() -> UUID:
        return stream_id("books", "main")

    @event("Opened")
    def __init__(self) -> None:
        self.closed_through: date | None = None
        self.closed_periods: list[str] = []
        self.settings: dict[str, int] = dict(SETTING_DEFAULTS)

    def close_period(self, period: str, through: date) -> None:
        if self.closed_through is not None and through <= self.closed_through:
            raise RuleViolation(
                f"{period} is already closed (closed through {self.closed_through})")
        self._period_closed(period=period, closed_through=through)

    @event("PeriodClosed")
    def _period_closed(self, period: str, closed_through: date) -> None:
        self.closed_through = closed_through
        self.closed_periods.append(period)

    def change_setting(self, name: str, value: int) -> None:
        if name not in SETTING_DEFAULTS:
            raise ValidationError(f"unknown setting {name}; known: {', '.join(SETTING_DEFAULTS)}")
        if value < 0:
            raise ValidationError(f"{name} cannot be negative")
        if value > INT64_MAX:   # read models compare settings in int64 SQL columns
            raise ValidationError(f"{name} is too large (at most {INT64_MAX})")
        self._setting_changed(name=name, value=value)

    @event("SettingChanged")
    def _setting_changed(self, name: str, value: int) -> None:
        self.settings[name] = value

    def setting(self, name: str) -> int:
        return int(self.settings.get(name, SETTING_DEFAULTS[name]))


class AccessLog(BillingAggregate):
    """One user's reads of protected health information on one day (45 CFR 164.312(b))."""

    @staticmethod
    def create_id(user: str, day: date) -> UUID:
        return stream_id("access", f"{user}:{day.isoformat()}")

    @event("Started")
    def __init__(self, user: str, day: date) -> None:
        self.user = user
        self.day = day

    def record(self, action: str, subject: str, terminal: str) -> None:
        self._access_recorded(action=action, subject=subject, terminal=terminal)

    @event("AccessRecorded")
    def _access_recorded(self, action: str, subject: str, terminal: str) -> None:
        pass
