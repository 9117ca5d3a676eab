"""Messages the whole workstation listens for, named for what happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from textual.message import Message


@dataclass
class AsOfChanged(Message):
    """The biller moved the as-of date (`g`); every open view re-reads as of it."""

    as_of: date


@dataclass
class LedgerChanged(Message):
    """A command was recorded from this workstation; views re-read their figures."""

    what: str
