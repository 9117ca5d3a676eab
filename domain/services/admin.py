"""Use cases of administration: users and roles, period close, settings, the PHI access log."""

from __future__ import annotations

import calendar
import os
import re
from datetime import date, datetime
from typing import Any, Protocol, cast

from domain.errors import AlreadyExistsError, PermissionDenied, ValidationError
from domain.identity import acting_as
from domain.permissions import PHI_READERS
from domain.services.core import LedgerCore, command
from domain.users import AccessLog, Books, Role, UserDirectory

PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class _AccessRecorded(Protocol):
    """What an ``AccessLog.AccessRecorded`` event carries; `@event` makes its class at
    runtime, so the library's event protocol is all a type checker sees of it."""

    actor: str
    timestamp: datetime
    action: str
    subject: str
    terminal: str


class AdminCommands(LedgerCore):
    def initialize(self, admin: str, *, open_access: bool = False, full_name: str = "") -> None:
        """`claimdesk init`: the first admin, and the ledger closed to everyone else."""
        if self._exists(UserDirectory):
            raise AlreadyExistsError("this ledger is already initialised")
        directory = UserDirectory(open_access=open_access)
        directory.add_user(admin, Role.ADMIN, full_name or admin)
        books = self.books() or Books()
        self._save(directory, books)

    def seed_role_users(self) -> None:
        """A demo ledger: one user per role, named after it; the ledger stays open."""
        directory = self.directory() or UserDirectory(open_access=True)
        for role in Role:
            if role.value not in directory.users:
                directory.add_user(role.value, role, f"Demo {role.value}")
        self._save(directory, *([] if self._exists(Books) else [Books()]))

    @command
    def add_user(self, name: str, role: str, full_name: str = "") -> None:
        directory = self.directory()
        if directory is None:
            raise ValidationError("run `claimdesk init` first")
        directory.add_user(name, role, full_name or name)
        self._save(directory)

    @command
    def change_role(self, name: str, role: str) -> None:
        directory = self._get(UserDirectory)
        directory.change_role(name, role)
        self._save(directory)

    @command
    def disable_user(self, name: str, reason: str = "") -> None:
        directory = self._get(UserDirectory)
        directory.disable_user(name, reason)
        self._save(directory)

    def users(self) -> list[dict[str, Any]]:
        directory = self.directory()
        return [] if directory is None else sorted(directory.users.values(),
                                                   key=lambda u: u["name"])

    @command
    def close_period(self, period: str) -> date:
        match = PERIOD.match(period)
        if not match:
            raise ValidationError(f"period {period!r} must be YYYY-MM")
        year, month = int(match[1]), int(match[2])
        through = date(year, month, calendar.monthrange(year, month)[1])
        if through >= self.today():
            raise ValidationError(f"{period} has not ended yet")
        books = self.books() or Books()
        books.close_period(period, through)
        self._save(books)
        return through

    @command
    def change_setting(self, name: str, value: int) -> None:
        books = self.books() or Books()
        books.change_setting(name, value)
        self._save(books)

    def record_access(self, action: str, subject: str) -> None:
        """Log a read of PHI (opening an account, an export) before showing it."""
        name, role = self.identify()
        if role is not None and role not in PHI_READERS:
            raise PermissionDenied(f"{name} ({role.value}) may not read patient information")
        day = self.today()
        log = (self._get(AccessLog, name, day) if self._exists(AccessLog, name, day)
               else AccessLog(user=name, day=day))
        terminal = os.environ.get("SSH_TTY") or os.environ.get("SSH_CONNECTION", "") or "local"
        with acting_as(name):
            log.record(action, subject, terminal)
        self._save(log)

    def audit_log(self, user: str | None = None, since: date | None = None) -> list[dict[str, Any]]:
        name, role = self.identify()
        if role is not None and role not in (Role.AUDITOR, Role.SUPERVISOR, Role.ADMIN):
            raise PermissionDenied(f"the access log is for auditors; {name} is {role.value}")
        topic = f"{AccessLog.__module__}:{AccessLog.__qualname__}.AccessRecorded"
        rows: list[dict[str, Any]] = []
        position = 1
        while True:
            page = self.recorder.select_notifications(start=position, limit=1000,
                                                      topics=[topic])
            if not page:
                break
            for notification in page:
                # Only AccessRecorded events are selected (the topic filter above).
                event = cast(_AccessRecorded, self.mapper.to_domain_event(notification))
                if user is not None and event.actor != user:
                    continue
                if since is not None and event.timestamp.date() < since:
                    continue
                rows.append({"position": notification.id, "user": event.actor,
                             "at": event.timestamp, "action": event.action,
                             "subject": event.subject, "terminal": event.terminal})
            position = page[-1].id + 1
        return rows
