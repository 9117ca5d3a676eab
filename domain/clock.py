"""The one place that reads the clock; tests pin it with freezegun.freeze_time."""

from __future__ import annotations

from datetime import UTC, date, datetime

# The business dates anyone may give (an as-of date, a date typed in a form or on the command
# line). Far outside any real claim, and far enough inside date.min..date.max that the read
# models' date arithmetic (a filing window, a KPI period: decades at most) cannot overflow.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)


def today() -> date:
    """Today's date on the office's local calendar (a biller's "today", e.g. `received_on`)."""
    return date.today()


def now() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return datetime.now(UTC)
