"""Domain errors: every refused command raises one of these and records nothing."""

from __future__ import annotations


class BillingError(Exception):
    """A rule of the billing domain refused a command; `title` heads the UI message."""

    title = "Refused"

    def __init__(self, message: str, *, title: str | None = None) -> None:
        super().__init__(message)
        if title is not None:
            self.title = title


class ValidationError(BillingError):
    title = "Invalid input"


class NotFoundError(BillingError):
    title = "Not found"


class AlreadyExistsError(BillingError):
    title = "Already exists"


class RuleViolation(BillingError):
    title = "Not allowed"


class PermissionDenied(BillingError):
    title = "Permission denied"


class ConcurrencyError(BillingError):
    title = "Changed by someone else"


class PeriodClosedError(RuleViolation):
    title = "Period closed"


class StorageError(BillingError):
    """The store refused to write (disk full, read-only file, server gone); nothing was recorded."""

    title = "Ledger not saved"
