"""One-line text typed or imported into the ledger: what may not be in it."""

from __future__ import annotations

import re
from typing import Any

from domain.errors import ValidationError

# Unicode category Cc: C0 (ESC, BEL, tab, newline...), DEL and C1 (\x9b is a one-byte CSI).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


class ControlCharacterError(ValidationError):
    title = "Control character"


def control_character(text: str) -> str | None:
    """The first control character in `text`, written out (`\\x1b`), or None.

    A name, an address or an id is one line of printable text: an ESC or BEL in it would
    reach every terminal, statement and 837 that shows it, and a tab or newline breaks the
    line it is printed on. The CSV importer asks this too, to name the line and column.
    """
    found = _CONTROL.search(text)
    return None if found is None else f"\\x{ord(found.group()):02x}"


def written_out(value: Any) -> str:
    """`value` as text with each control character written out (ESC as `\\x1b`): how a
    screen or a plain-text line shows what a ledger may already hold (it was accepted
    before `check_text` refused it), without sending it to the terminal."""
    text = "" if value is None else str(value)
    return _CONTROL.sub(lambda found: f"\\x{ord(found.group()):02x}", text)


def check_text(what: str, value: Any) -> None:
    """Refuse a one-line field that holds a control character, naming the field (the value
    itself is not repeated: it is what cannot be shown)."""
    found = control_character(str(value or ""))
    if found is not None:
        raise ControlCharacterError(
            f"{what} contains a control character ({found}); type it again without one")
