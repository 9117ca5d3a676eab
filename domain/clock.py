"""The one place that reads the clock; tests pin it with freezegun.freeze_time."""

from __future__ import annotations

from datetime import UTC, date, datetime


def today() -> date:
    """Today's date on the office's local calendar (a biller's "today", e.g. `received_on`)."""
    return date.today()


def now() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return datetime.now(UTC)
