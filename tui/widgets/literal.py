"""Text from the ledger for widgets that read markup: shown as it was typed, never as markup.

Names, addresses, payer names, reasons and file names are whatever a registrar typed or a file
held: `SMITH [/JR]` read as markup crashes the screen, `12 MAIN ST [#2]` loses its `[#2]`,
and an ESC or BEL that reached the terminal would drive it (set its title, clear it). So every
value from the ledger goes to a widget through one of these: `literal` where a renderable is
taken (DataTable cells), `escape` inside markup the screen writes itself (`[b]…[/b]`).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from domain.text import written_out


def literal(value: Any) -> Text:
    """A renderable showing exactly `value` (Text never parses markup); one line, cropped to
    its cell as DataTable crops a string."""
    return Text(written_out(value), no_wrap=True, end="")


def escape(value: Any) -> str:
    """`value` for a place inside content markup. Textual 8 reads `\\[` as a literal bracket
    and leaves other backslashes alone, so escaping every `[` is exact; `textual.markup.escape`
    is not enough, as it skips brackets followed by a capital (`[/JR]`, and registration
    upper-cases names)."""
    return written_out(value).replace("[", "\\[")
