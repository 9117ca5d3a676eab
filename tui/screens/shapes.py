"""Reading the read API's answers: lists of rows, possibly wrapped with a total.

The read models answer with JSON-shaped dicts (what `--json` prints). These helpers only
pick fields out of them for display; they compute nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ROW_KEYS = ("rows", "items", "accounts", "results", "entries", "events")


def rows_of(answer: Any) -> list[dict[str, Any]]:
    """The rows of an answer that is either a list or a dict holding one."""
    if answer is None:
        return []
    if isinstance(answer, Mapping):
        for key in ROW_KEYS:
            if isinstance(answer.get(key), list):
                return [as_dict(row) for row in answer[key]]
        return []
    return [as_dict(row) for row in answer]


def total_of(answer: Any) -> int | None:
    """How many rows there are in all, when the answer says."""
    if isinstance(answer, Mapping):
        for key in ("total", "count", "total_rows"):
            if isinstance(answer.get(key), int):
                return int(answer[key])
    return None


def as_dict(row: Any) -> dict[str, Any]:
    if isinstance(row, Mapping):
        return dict(row)
    if hasattr(row, "as_dict"):
        return dict(row.as_dict())
    if hasattr(row, "_asdict"):
        return dict(row._asdict())
    if hasattr(row, "__dict__"):
        return dict(vars(row))
    return {"value": row}


def first(row: Mapping[str, Any], *keys: str, default: Any = "") -> Any:
    """The first of `keys` present in `row` (read-model field names vary by view)."""
    for key in keys:
        if key in row and row[key] is not None:
            return row[key]
    return default
