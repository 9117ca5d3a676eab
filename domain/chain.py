"""The hash chain over each stream's events: tamper evidence for auditors.

The hash covers a canonical JSON form of the decoded event (its class topic and every
field but ``prev_hash``... and including it, which is what links the chain), so it is
the same whether computed when the event is triggered or after a round trip through
the store, encrypted or not.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from enum import Enum
from typing import Any
from uuid import UUID

GENESIS = "0" * 64


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


def event_hash(event: Any) -> str:
    cls = type(event)
    body = {"type": f"{cls.__module__}:{cls.__qualname__}", **_canonical(vars(event))}
    data = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()


def first_break(events: Any) -> dict[str, Any] | None:
    """Walk stored events in recorded order; describe the first one the chain does not vouch for.

    `events` yields (position, domain event). A changed event shows up when its successor's
    ``prev_hash`` no longer matches it, so we name the predecessor as the altered event.
    """
    heads: dict[Any, tuple[str, int, str]] = {}
    for position, event in events:
        stream = event.originator_id
        expected, previous_position, previous_type = heads.get(stream, (GENESIS, 0, ""))
        recorded = getattr(event, "prev_hash", None)
        if recorded is None:
            return {"position": position, "stream": str(stream), "type": type(event).__name__,
                    "reason": "event carries no prev_hash"}
        if recorded != expected:
            if previous_position:
                return {"position": previous_position, "stream": str(stream),
                        "type": previous_type,
                        "reason": f"altered: event {position} recorded a different hash of it"}
            return {"position": position, "stream": str(stream), "type": type(event).__name__,
                    "reason": "first event of its stream does not start the chain"}
        heads[stream] = (event_hash(event), position, type(event).__name__)
    return None
