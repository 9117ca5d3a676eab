"""The pure fold: each stored domain event becomes plain row dicts for the read models.

No I/O and no clock. A :class:`Fold` reads and writes rows through a :class:`RowState`
(an in-memory dict for tests, a cache in front of the database in ``projections.store``),
so replaying the same events always gives the same rows. Money goes through
``domain.ledger.postings_of``: one ``postings`` row per posting, never a re-derived rule.

Tables written (see ``projections.schema``): ``postings`` and ``events`` (one row per
posting / per event of a patient's streams, append-only), the dimensions ``accounts``,
``encounters``, ``lines``, ``claims``, ``statements``, ``payment_plans``, ``referrals``,
``refunds``, ``payers``, ``payer_plans``, ``contracts``, ``providers``, the link sets
``claim_lines`` and ``statement_lines``, and ``streams`` (aggregate id -> what it is).

This module holds the machinery (facts, the value helpers, :class:`Fold` and the handler
registry); the handlers, one per event kind, live in ``fold_patient``, ``fold_claims`` and
``fold_practice`` and register themselves with :func:`on`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Any, NamedTuple, Protocol
from uuid import UUID

from projections.schema import TABLE

Row = dict[str, Any]
Key = str | tuple[str, ...]

# Event attributes that are bookkeeping, not facts a biller or auditor reads.
META = _META = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic",
                   "prev_hash", "actor"})

# The business date of an event that has no `effective_on`: the first of these it carries.
_DATE_FIELDS = (
    "effective_on", "service_date", "registered_on", "created_on", "submitted_on",
    "accepted_on", "rejected_on", "paid_on", "reversed_on", "scrubbed_on", "worked_on",
    "voided_on", "closed_on", "issued_on", "starts_on", "due_on", "defaulted_on",
    "completed_on", "referred_on", "recovered_on", "recalled_on", "requested_on",
    "approved_on", "checked_on", "terminated_on",
)

_HISTORY_KINDS = frozenset({"account", "encounter", "claim"})
# The first event of a patient-side stream: it has no stream row yet when it arrives.
_CREATIONS = frozenset({"PatientAccount.Registered", "Encounter.Opened", "Claim.Created"})


class RowState(Protocol):
    """Where the fold finds and leaves rows."""

    def get(self, table: str, key: Key) -> Row | None: ...

    def put(self, table: str, key: Key, row: Row) -> None: ...

    def append(self, table: str, row: Row | tuple[Any, ...]) -> None: ...


class Fact(NamedTuple):
    """One stored event as the fold sees it: position, stream and decoded attributes.

    A NamedTuple, not a dataclass: one is made per event, tens of thousands a second.
    """

    position: int
    stream_id: str
    version: int
    name: str                 # "Encounter.PaymentPosted": aggregate class . event class
    data: Mapping[str, Any]
    state: bytes = b""        # the stored state as recorded: a history row keeps it as is

    @property
    def aggregate(self) -> str:
        return self.name.rpartition(".")[0]

    @property
    def event_type(self) -> str:
        return self.name.rpartition(".")[2]


_ZERO = timedelta(0)
_ABSENT = object()
_SCALARS = frozenset({str, int, bool, float, type(None)})

# How the JSON transcoder stores a value it has a transcoding for. The fast decoding path
# (``projections.catchup.fact_of``) leaves these wrappers in place, and every helper here
# reads either form the same way, so both paths fold to identical rows.
_TYPE, _DATA = "_type_", "_data_"


def _unwrap(kind: str, data: Any) -> Any:
    if kind == "date_iso":
        return data
    if kind == "datetime_iso":
        return instant_text(data)
    if kind == "uuid_hex":
        return str(UUID(data))
    return data


def _wrapped(value: Any) -> bool:
    return type(value) is dict and len(value) == 2 and _TYPE in value and _DATA in value


def plain(value: Any) -> Any:
    """A JSON-ready copy: dates as ISO text, enums as values, tuples as lists."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, dict):
        if len(value) == 2 and _TYPE in value and _DATA in value:
            return _unwrap(value[_TYPE], value[_DATA])
        scalars = _SCALARS
        return {k if type(k) is str else str(k): v if type(v) in scalars else plain(v)
                for k, v in value.items()}
    if isinstance(value, datetime):
        return utc_iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [v if type(v) in _SCALARS else plain(v) for v in value]
    return value


def utc_iso(value: datetime) -> str:
    """An instant as fixed-width ISO text in UTC, so text order is time order."""
    if value.utcoffset() == _ZERO:   # how the store hands timestamps back: already UTC
        return value.replace(tzinfo=UTC).isoformat(timespec="microseconds")
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "+00:00"


def instant_text(text: str) -> str:
    """`utc_iso` of an instant stored as ISO text, without parsing it when it is UTC."""
    if text.endswith("+00:00"):
        if len(text) == 25:             # 2025-03-10T00:00:00+00:00
            return text[:19] + ".000000+00:00"
        if len(text) == 32:             # 2025-03-10T00:00:00.123456+00:00
            return text
    return utc_iso(datetime.fromisoformat(text))


def instant(value: Any) -> str:
    """The recorded instant of an event (`timestamp`), as fixed-width UTC text."""
    if isinstance(value, datetime):
        return utc_iso(value)
    if _wrapped(value):
        return instant_text(value[_DATA])
    return ""


def iso(value: Any) -> str | None:
    if value is None:
        return None
    if type(value) is dict:
        if len(value) == 2 and value.get(_TYPE) == "date_iso" and _DATA in value:
            return value[_DATA]  # type: ignore[no-any-return]   # the stored form of a date
        return plain(value)  # type: ignore[no-any-return]
    if isinstance(value, datetime):
        return utc_iso(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# Left out of a history row's details: bookkeeping, who the patient is, and nested
# structures (an address, coverage, a statement's lines) that the dimension rows hold.
_NOT_DETAILS = META | frozenset({
    "last_name", "first_name", "middle_name", "birth_date", "sex", "address", "phone",
    "subscriber", "member_id", "group_number", "reason_for_visit", "changes", "diagnoses"})


_DETAIL_KEYS: dict[str, tuple[int, tuple[str, ...]]] = {}   # name -> (len(data), keys shown)


def details_of(data: Mapping[str, Any], name: str = "") -> dict[str, Any]:
    """What a history row shows of its event: codes, parties, amounts, sources, dates.

    Scalars, dates and lists of scalars, JSON-ready; for a reversal, the parties of the
    postings it negates. Small on purpose: an account's whole history decodes quickly.
    Events of a kind share their fields, so which keys to look at is worked out once per
    `name` (and again for an event whose field count differs).
    """
    plan = _DETAIL_KEYS.get(name)
    if plan is None or plan[0] != len(data):
        plan = (len(data), tuple(k for k in data if k not in _NOT_DETAILS))
        if name:
            _DETAIL_KEYS[name] = plan
    out: dict[str, Any] = {}
    for key in plan[1]:
        value = data.get(key, _ABSENT)
        kind = type(value)
        if kind in _SCALARS:
            out[key] = value
        elif kind is dict:
            if len(value) == 2 and _TYPE in value and _DATA in value:
                kind_name = value[_TYPE]
                out[key] = (value[_DATA] if kind_name == "date_iso"
                            else _unwrap(kind_name, value[_DATA]))
        elif kind is list or kind is tuple:
            if all(map(_SCALARS.__contains__, map(type, value))):
                out[key] = list(value)
        elif value is not _ABSENT:
            out[key] = plain(value)
    if "postings" in data:
        postings = data["postings"]
        if type(postings) is list:
            out["parties"] = [p.get("party") for p in postings if type(p) is dict]
    return out


def _date_text(value: Any) -> str | None:
    """ISO text of a date value in either form; None for anything that is not a date."""
    if type(value) is dict:
        return value[_DATA] if _wrapped(value) and value[_TYPE] == "date_iso" else None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    return None


def display_name(last: str, first: str, middle: str) -> str:
    return f"{last}, {first}" + (f" {middle}" if middle else "")


_DATE_FIELDS_OF: dict[str, tuple[str, ...]] = {}   # event name -> its date fields, in order


def business_date(data: Mapping[str, Any], recorded_at: str, name: str = "") -> str:
    """The event's business date: `effective_on` or its kind's own date, else the day recorded.

    The first of `_DATE_FIELDS` the event carries with a date wins; which of them an event
    kind has is looked up once per kind (events of a kind share their fields).
    """
    fields = _DATE_FIELDS_OF.get(name)
    if fields is None:
        fields = tuple(f for f in _DATE_FIELDS if f in data)
        if name:
            _DATE_FIELDS_OF[name] = fields
    for field in fields:
        value = data.get(field)
        # The stored form of a date, read in place; any other form through `_date_text`.
        if (type(value) is dict and len(value) == 2 and value.get(_TYPE) == "date_iso"
                and _DATA in value):
            return value[_DATA]  # type: ignore[no-any-return]
        text = _date_text(value)
        if text is not None:
            return text
    return recorded_at[:10]


Handler = Callable[["Fold", Fact, Row | None], None]
_HANDLERS: dict[str, Handler] = {}


def on(*names: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for name in names:
            _HANDLERS[name] = handler
        return handler
    return register


# Column positions of a history row (the `events` table), built as a list then a tuple:
# append-only rows skip the dict a dimension row needs, which matters at 50k events/s.
# Only what the history is searched and summed by: the query reads the rest (aggregate,
# actor, line, details) off the events of the screenful it shows, so a rebuild writes
# and sends a third of what it used to per history row.
H_ACCOUNT, H_ENCOUNTER, H_CLAIM, H_AMOUNT, H_MONEY = 2, 3, 4, 7, 8


# Per event name: (handler, event type, whether it creates its stream).
_Kind = tuple[Handler | None, str, bool]
_KINDS: dict[str, _Kind] = {}


def _kind(name: str) -> _Kind:
    kind = _KINDS[name] = (_HANDLERS.get(name), name.rpartition(".")[2], name in _CREATIONS)
    return kind


class Fold:
    """Applies facts, in notification order, to the rows in a RowState."""

    def __init__(self, state: RowState) -> None:
        self.state = state
        self.recorded_at = ""
        self.history: list[Any] | None = None
        self.on_date: str | None = None   # the business date of the fact, when worked out

    def apply(self, fact: Fact) -> None:
        data = fact.data
        name = fact.name
        kind = _KINDS.get(name) or _kind(name)
        stamp = data.get("timestamp")
        # The stored form of an instant: wrapped fixed-width UTC text, used as it is.
        text = stamp.get(_DATA) if type(stamp) is dict and len(stamp) == 2 else None
        if type(text) is str and len(text) == 32 and text.endswith("+00:00"):
            recorded_at = self.recorded_at = text
        else:
            recorded_at = self.recorded_at = instant(stamp)
        # A stream's first event (version 1) cannot have a stream row yet: skip the lookup.
        stream = self.state.get("streams", fact.stream_id) if fact.version > 1 else None
        history = self.history = self.on_date = None
        if (stream is not None and stream["kind"] in _HISTORY_KINDS) or kind[2]:
            on_date = self.on_date = business_date(data, recorded_at, name)
            history = self.history = [
                fact.position, kind[1],
                stream["account_no"] if stream else "",
                stream["encounter_id"] if stream else "",
                stream["claim_id"] if stream else "",
                on_date, recorded_at, 0, int("amount_cents" in data)]
        handler = kind[0]
        if handler is not None:
            handler(self, fact, stream)
        if history is not None:
            if not history[H_ACCOUNT]:
                # A stream created by this very fact: its handler just recorded it.
                created = self.state.get("streams", fact.stream_id) or {}
                history[H_ACCOUNT] = created.get("account_no", "")
                history[H_ENCOUNTER] = created.get("encounter_id", "")
                history[H_CLAIM] = created.get("claim_id", "")
            self.state.append("events", tuple(history))

    # -- helpers --------------------------------------------------------------------------
    def stream(self, fact: Fact, kind: str, key: str, account_no: str = "",
               encounter_id: str = "", claim_id: str = "") -> None:
        self.state.put("streams", fact.stream_id, {
            "stream_id": fact.stream_id, "kind": kind, "key": key, "account_no": account_no,
            "encounter_id": encounter_id, "claim_id": claim_id})

    def row(self, table: str, key: Key) -> Row | None:
        return self.state.get(table, key)

    def put(self, table: str, key: Key, row: Row) -> None:
        self.state.put(table, key, row)


def keyed(fold: Fold, table: str, stream: Row | None) -> tuple[str, Row] | None:
    """The dimension row a fact's stream stands for (None when the stream is unknown)."""
    if stream is None:
        return None
    row = fold.row(table, stream["key"])
    return None if row is None else (stream["key"], row)


# The tuples above are written straight into these tables: their order must match.
assert TABLE["postings"].column_names == (
    "position", "seq", "recorded_at", "effective_on", "actor", "event_type", "encounter_id",
    "account_no", "guarantor_account_no", "line_id", "claim_id", "plan_id", "party",
    "category", "amount_cents", "bucket_delta", "balance_delta", "kind", "adjustment_group",
    "carc", "rarcs", "reason", "source", "entry_id", "reverses_entry_id")
assert TABLE["events"].column_names[:2] == ("position", "event_type")
assert TABLE["events"].column_names[H_ACCOUNT] == "account_no"
assert TABLE["events"].column_names[H_ENCOUNTER] == "encounter_id"
assert TABLE["events"].column_names[H_CLAIM] == "claim_id"
assert TABLE["events"].column_names[H_AMOUNT] == "amount_cents"
assert TABLE["events"].column_names[H_MONEY] == "money"


# The handlers register themselves with `on` when their modules load.
from projections import (  # noqa: E402, F401
    fold_claims,
    fold_follow_up,
    fold_patient,
    fold_practice,
)
