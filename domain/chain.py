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


# Types JSON writes as they are: most values of an event, so they skip the checks below.
_AS_IS = frozenset({str, int, float, bool, type(None)})


def _canonical(value: Any) -> Any:
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is dict:
        return {str(k): v if type(v) in _AS_IS else _canonical(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [v if type(v) in _AS_IS else _canonical(v) for v in value]
    # Subclasses (StrEnum members, freezegun's dates...) take the general path.
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


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_TYPES: dict[type, str] = {}


def event_hash(event: Any) -> str:
    cls = type(event)
    name = _TYPES.get(cls)
    if name is None:
        name = _TYPES[cls] = f"{cls.__module__}:{cls.__qualname__}"
    body = {"type": name, **_canonical(vars(event))}
    return hashlib.sha256(_ENCODER.encode(body).encode()).hexdigest()


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
