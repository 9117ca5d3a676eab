"""The workstation's default as-of date: the office's today, from the one domain clock."""

from __future__ import annotations

from datetime import date

from domain import clock


def default_as_of() -> date:
    """Today on the office calendar; freezegun pins it in tests through domain.clock."""
    return clock.today()
