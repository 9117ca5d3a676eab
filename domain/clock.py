"""The one place that reads the clock; tests pin it with freezegun.freeze_time."""

from __future__ import annotations

from datetime import UTC, date, datetime

# The business dates anyone may give (an as-of date, a date typed in a form or on the command
# line). Far outside any real claim, and far enough inside date.min..date.max that the read
# models' date arithmetic (a filing window, a KPI period: decades at most) cannot overflow.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)


def in_range(text: str, day: date) -> date:
    """`day` (read from `text`), or ValueError saying it is outside the accepted dates."""
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValueError(f"{text!r} is outside the dates claimdesk accepts "
                         f"({EARLIEST_DATE} to {LATEST_DATE})")
    return day


def read_date(text: str) -> date:
    """A business date typed as YYYY-MM-DD, or ValueError saying what is wrong with it."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from None
    return in_range(text, day)


def today() -> date:
    """Today's date on the office's local calendar (a biller's "today", e.g. `received_on`)."""
    return date.today()


def now() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return datetime.now(UTC)
