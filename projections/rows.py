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
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Any, NamedTuple, Protocol
from uuid import UUID

from domain.ledger import BALANCE_SIGN, PATIENT, postings_of
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
        if _wrapped(value):
            return _unwrap(value[_TYPE], value[_DATA])
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return utc_iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
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
        return plain(value)  # type: ignore[no-any-return]
    if isinstance(value, datetime):
        return utc_iso(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


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
        text = _date_text(data.get(field))
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
_H_ACCOUNT, _H_ENCOUNTER, _H_CLAIM, _H_AMOUNT = 5, 6, 7, 12


class Fold:
    """Applies facts, in notification order, to the rows in a RowState."""

    def __init__(self, state: RowState) -> None:
        self.state = state
        self.recorded_at = ""
        self.history: list[Any] | None = None

    def apply(self, fact: Fact) -> None:
        data = fact.data
        self.recorded_at = instant(data.get("timestamp"))
        # A stream's first event (version 1) cannot have a stream row yet: skip the lookup.
        stream = self.state.get("streams", fact.stream_id) if fact.version > 1 else None
        handler = _HANDLERS.get(fact.name)
        history = self.history = None
        if (stream is not None and stream["kind"] in _HISTORY_KINDS) or fact.name in _CREATIONS:
            aggregate, _, event_type = fact.name.rpartition(".")
            history = self.history = [
                fact.position, fact.stream_id, fact.version, aggregate, event_type,
                stream["account_no"] if stream else "",
                stream["encounter_id"] if stream else "",
                stream["claim_id"] if stream else "", str(data.get("line_id") or ""),
                business_date(data, self.recorded_at, fact.name), self.recorded_at,
                str(data.get("actor") or ""), 0, fact.state]
        if handler is not None:
            handler(self, fact, stream)
        if history is not None:
            if not history[_H_ACCOUNT]:
                # A stream created by this very fact: its handler just recorded it.
                created = self.state.get("streams", fact.stream_id) or {}
                history[_H_ACCOUNT] = created.get("account_no", "")
                history[_H_ENCOUNTER] = created.get("encounter_id", "")
                history[_H_CLAIM] = created.get("claim_id", "")
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


def _keyed(fold: Fold, table: str, stream: Row | None) -> tuple[str, Row] | None:
    """The dimension row a fact's stream stands for (None when the stream is unknown)."""
    if stream is None:
        return None
    row = fold.row(table, stream["key"])
    return None if row is None else (stream["key"], row)


# -- patient accounts -----------------------------------------------------------------------

@on("PatientAccount.Registered")
def _registered(fold: Fold, fact: Fact, stream: Row | None) -> None:
    d = fact.data
    no = d["account_no"]
    fold.stream(fact, "account", no, account_no=no)
    fold.put("accounts", no, {
        "account_no": no, "last_name": d["last_name"], "first_name": d["first_name"],
        "middle_name": d["middle_name"],
        "name": display_name(d["last_name"], d["first_name"], d["middle_name"]),
        "birth_date": iso(d["birth_date"]), "sex": d["sex"], "address": plain(d["address"]),
        "phone": d["phone"], "reason_for_visit": d["reason_for_visit"],
        "registered_on": iso(d["registered_on"]), "guarantor_account_no": no,
        "guarantor_relationship": "18", "dependents": [], "policies": {},
        "coverage_order": [], "eligibility": {}, "discounts": [],
        "recorded_at": fold.recorded_at})


def _account(fold: Fold, stream: Row | None) -> Row | None:
    found = _keyed(fold, "accounts", stream)
    return None if found is None else found[1]


@on("PatientAccount.DemographicsCorrected", "PatientAccount.GuarantorSet",
    "PatientAccount.DependentLinked", "PatientAccount.DependentUnlinked",
    "PatientAccount.PolicyAdded", "PatientAccount.CoverageReordered",
    "PatientAccount.PolicyTerminated", "PatientAccount.EligibilityRecorded",
    "PatientAccount.DiscountGranted")
def _account_changed(fold: Fold, fact: Fact, stream: Row | None) -> None:
    account = _account(fold, stream)
    if account is None:
        return
    d, event = fact.data, fact.event_type
    if event == "DemographicsCorrected":
        for key, value in d["changes"].items():
            account[key] = plain(value)
        account["name"] = display_name(account["last_name"], account["first_name"],
                                       account["middle_name"])
    elif event == "GuarantorSet":
        account["guarantor_account_no"] = d["guarantor_account_no"]
        account["guarantor_relationship"] = d["relationship"]
    elif event == "DependentLinked":
        account["dependents"] = [*account["dependents"], d["account_no"]]
    elif event == "DependentUnlinked":
        account["dependents"] = [a for a in account["dependents"] if a != d["account_no"]]
    elif event == "PolicyAdded":
        policy = {k: plain(d[k]) for k in (
            "policy_id", "payer_id", "plan_id", "member_id", "group_number", "subscriber",
            "relationship", "effective_on", "terminates_on", "filing_indicator")}
        policy["terminated_on"] = None
        account["policies"] = {**account["policies"], d["policy_id"]: policy}
        account["coverage_order"] = list(d["coverage_order"])
    elif event == "CoverageReordered":
        account["coverage_order"] = list(d["coverage_order"])
    elif event == "PolicyTerminated":
        policies = dict(account["policies"])
        policies[d["policy_id"]] = {**policies[d["policy_id"]],
                                    "terminated_on": iso(d["terminated_on"])}
        account["policies"] = policies
    elif event == "EligibilityRecorded":
        account["eligibility"] = {**account["eligibility"], d["policy_id"]: {
            k: plain(v) for k, v in d.items() if k not in _META and k != "policy_id"}}
    elif event == "DiscountGranted":
        account["discounts"] = [*account["discounts"], {
            k: plain(v) for k, v in d.items() if k not in _META}]
    fold.put("accounts", account["account_no"], account)


@on("PatientAccount.StatementIssued")
def _statement(fold: Fold, fact: Fact, stream: Row | None) -> None:
    if stream is None:
        return
    d = fact.data
    fold.put("statements", d["statement_id"], {
        "statement_id": d["statement_id"], "account_no": stream["key"],
        "issued_on": iso(d["issued_on"]), "dunning_level": d["dunning_level"],
        "balance_cents": d["balance_cents"], "due_on": iso(d["due_on"]),
        "line_count": len(d["lines"]), "recorded_at": fold.recorded_at})
    for line in d["lines"]:
        fold.state.append("statement_lines", {
            "statement_id": d["statement_id"], "line_id": line["line_id"],
            "issued_on": iso(d["issued_on"]), "recorded_at": fold.recorded_at,
            "patient_cents": line.get("patient_cents", 0)})


@on("PatientAccount.PaymentPlanAgreed", "PatientAccount.InstallmentMissed",
    "PatientAccount.PaymentPlanDefaulted", "PatientAccount.PaymentPlanCompleted")
def _payment_plan(fold: Fold, fact: Fact, stream: Row | None) -> None:
    if stream is None:
        return
    d, event = fact.data, fact.event_type
    if event == "PaymentPlanAgreed":
        fold.put("payment_plans", d["plan_id"], {
            "plan_id": d["plan_id"], "account_no": stream["key"],
            "total_cents": d["total_cents"], "installment_cents": d["installment_cents"],
            "frequency_days": d["frequency_days"], "starts_on": iso(d["starts_on"]),
            "status": "current", "missed": 0, "last_missed_on": None, "defaulted_on": None,
            "completed_on": None, "position": fact.position})
        return
    plan = fold.row("payment_plans", d["plan_id"])
    if plan is None:
        return
    if event == "InstallmentMissed":
        plan["missed"] += 1
        plan["last_missed_on"] = iso(d["due_on"])
    elif event == "PaymentPlanDefaulted":
        plan["status"], plan["defaulted_on"] = "defaulted", iso(d["defaulted_on"])
    else:
        plan["status"], plan["completed_on"] = "completed", iso(d["completed_on"])
    fold.put("payment_plans", d["plan_id"], plan)


@on("PatientAccount.ReferredToCollections", "PatientAccount.AgencyRecovered",
    "PatientAccount.RecalledFromAgency")
def _referral(fold: Fold, fact: Fact, stream: Row | None) -> None:
    if stream is None:
        return
    d, event = fact.data, fact.event_type
    if event == "ReferredToCollections":
        fold.put("referrals", d["referral_id"], {
            "referral_id": d["referral_id"], "account_no": stream["key"], "agency": d["agency"],
            "referred_on": iso(d["referred_on"]), "referred_cents": d["referred_cents"],
            "approved_by": d["approved_by"], "recovered_cents": 0, "fee_cents": 0,
            "recalled_cents": 0, "status": "placed", "recalled_on": None,
            "position": fact.position})
        return
    referral = fold.row("referrals", d["referral_id"])
    if referral is None:
        return
    if event == "AgencyRecovered":
        referral["recovered_cents"] += d["recovered_cents"]
        referral["fee_cents"] += d["fee_cents"]
    else:
        referral["recalled_cents"] += d["recalled_cents"]
        referral["status"], referral["recalled_on"] = "recalled", iso(d["recalled_on"])
    fold.put("referrals", d["referral_id"], referral)


@on("PatientAccount.RefundRequested", "PatientAccount.RefundApproved",
    "PatientAccount.RefundDeclined")
def _refund(fold: Fold, fact: Fact, stream: Row | None) -> None:
    if stream is None:
        return
    d, key = fact.data, (stream["key"], fact.data["request_id"])
    if fact.event_type == "RefundRequested":
        fold.put("refunds", key, {
            "account_no": stream["key"], "request_id": d["request_id"],
            "amount_cents": d["amount_cents"], "payee": d["payee"],
            "requested_on": iso(d["requested_on"]), "requested_by": d["requested_by"],
            "reason": d["reason"], "status": "requested", "decided_by": "",
            "decided_on": None})
        return
    refund = fold.row("refunds", key)
    if refund is None:
        return
    if fact.event_type == "RefundApproved":
        refund.update(status="approved", decided_by=d["approved_by"],
                      decided_on=iso(d["approved_on"]))
    else:
        refund.update(status="declined", decided_by=d["declined_by"],
                      decided_on=fold.recorded_at[:10])
    fold.put("refunds", key, refund)


# -- encounters, lines and money ----------------------------------------------------------------

@on("Encounter.Opened")
def _encounter_opened(fold: Fold, fact: Fact, stream: Row | None) -> None:
    d = fact.data
    eid = d["encounter_id"]
    fold.stream(fact, "encounter", eid, account_no=d["account_no"], encounter_id=eid)
    fold.put("encounters", eid, {
        "encounter_id": eid, "account_no": d["account_no"],
        "guarantor_account_no": d["guarantor_account_no"],
        "service_date": iso(d["service_date"]), "place_of_service": d["place_of_service"],
        "billing_npi": d["billing_npi"], "rendering_npi": d["rendering_npi"],
        "referring_npi": d["referring_npi"], "prior_authorization": d["prior_authorization"],
        "diagnoses": list(d["diagnoses"]), "coverage": plain(d["coverage"]),
        "self_pay": int(bool(d["self_pay"])), "recorded_at": fold.recorded_at,
        "position": fact.position})


@on("Encounter.DiagnosesCorrected")
def _diagnoses(fold: Fold, fact: Fact, stream: Row | None) -> None:
    found = _keyed(fold, "encounters", stream)
    if found is not None:
        found[1]["diagnoses"] = list(fact.data["diagnoses"])
        fold.put("encounters", *found)


@on("Encounter.LinesClaimed", "Encounter.LinesReleased")
def _lines_claimed(fold: Fold, fact: Fact, stream: Row | None) -> None:
    d = fact.data
    for line_id in d["line_ids"]:
        line = fold.row("lines", line_id)
        if line is None:
            continue
        claims = dict(line["claims"])
        if fact.event_type == "LinesClaimed":
            claims[d["payer_id"]] = d["claim_id"]
            fold.state.append("claim_lines", {"claim_id": d["claim_id"], "line_id": line_id})
        else:
            claims.pop(d["payer_id"], None)
        line["claims"] = claims
        fold.put("lines", line_id, line)


@on("Encounter.ChargeEntered", "Encounter.PaymentPosted", "Encounter.AdjustmentPosted",
    "Encounter.ResponsibilityTransferred", "Encounter.RefundIssued", "Encounter.EntryReversed")
def _money(fold: Fold, fact: Fact, stream: Row | None) -> None:
    found = _keyed(fold, "encounters", stream)
    if found is None:
        return
    encounter = found[1]
    d, event = fact.data, fact.event_type
    if event == "ChargeEntered":
        line = {
            "line_id": d["line_id"], "encounter_id": encounter["encounter_id"],
            "account_no": encounter["account_no"], "code": d["code"],
            "modifiers": list(d["modifiers"]), "units_milli": d["units_milli"],
            "unit_price_cents": d["unit_price_cents"], "charge_cents": d["charge_cents"],
            "description": d["description"], "service_date": iso(d["service_date"]),
            "place_of_service": d["place_of_service"], "pointers": list(d["pointers"]),
            "reversed": 0, "claims": {}, "recorded_at": fold.recorded_at,
            "position": fact.position}
        fold.put("lines", d["line_id"], line)
        effective_on = line["service_date"]
        entry_id = d["line_id"]
    else:
        line = fold.row("lines", d["line_id"])
        effective_on = iso(d["effective_on"])
        entry_id = d["entry_id"]
        if event == "EntryReversed" and d["reversed_event"] == "ChargeEntered" and line:
            line["reversed"] = 1
            fold.put("lines", d["line_id"], line)
    claims = line["claims"] if line else {}
    plans = {c["payer_id"]: c["plan_id"] for c in encounter["coverage"]}
    get = d.get
    encounter_id, account_no = encounter["encounter_id"], encounter["account_no"]
    guarantor, actor = encounter["guarantor_account_no"], str(get("actor") or "")
    kind, group = str(get("kind") or ""), str(get("group") or "")
    carc, rarcs = str(get("carc") or ""), ",".join(get("rarcs") or ())
    reason = str(get("reason") or get("method") or get("payee") or "")
    source, reverses = str(get("source") or ""), str(get("reverses_entry_id") or "")
    effect = 0
    claim_id = ""
    append = fold.state.append
    for seq, p in enumerate(postings_of(event, d)):
        delta = BALANCE_SIGN[p.category] * p.amount_cents
        effect += delta
        party = p.party
        party_claim = "" if party == PATIENT else claims.get(party, "")
        claim_id = claim_id or party_claim
        # In the column order of schema's `postings` (checked below, at import).
        append("postings", (
            fact.position, seq, fold.recorded_at, effective_on, actor, event, encounter_id,
            account_no, guarantor, p.line_id, party_claim, plans.get(party, ""), party,
            p.category.value, p.amount_cents, p.bucket_delta, delta, kind, group, carc, rarcs,
            reason, source, entry_id, reverses))
    if fold.history is not None:
        fold.history[_H_AMOUNT] = effect
        fold.history[_H_CLAIM] = claim_id


# -- claims ---------------------------------------------------------------------------------

@on("Claim.Created")
def _claim_created(fold: Fold, fact: Fact, stream: Row | None) -> None:
    d = fact.data
    cid = d["claim_id"]
    fold.stream(fact, "claim", cid, account_no=d["account_no"],
                encounter_id=d["encounter_id"], claim_id=cid)
    created_on = iso(d["created_on"])
    fold.put("claims", cid, {
        "claim_id": cid, "encounter_id": d["encounter_id"], "account_no": d["account_no"],
        "payer_id": d["payer_id"], "plan_id": d["plan_id"], "policy_id": d["policy_id"],
        "coverage_order": d["coverage_order"], "line_ids": list(d["line_ids"]),
        "charge_cents": d["charge_cents"], "billing_npi": d["billing_npi"],
        "service_date": iso(d["service_date"]), "created_on": created_on, "state": "draft",
        "state_on": created_on, "frequency": "1", "claim_version": 1, "problems": [],
        "filing_override": None, "submissions": 0, "first_submitted_on": None,
        "last_submitted_on": None, "batch_id": "", "first_response": "",
        "first_response_on": None, "accepted_on": None, "payer_claim_control_number": "",
        "rejection": None, "adjudications": [], "outcome": "", "paid_cents": 0,
        "first_adjudicated_on": None, "first_outcome": "",
        "submissions_at_first_adjudication": 0, "ever_denied": 0, "denied_cents": 0,
        "open_denials": {}, "denial_recorded_at": None, "denial_first_action_at": None,
        "voided_on": None, "closed_on": None, "recorded_at": fold.recorded_at,
        "position": fact.position})
    for line_id in d["line_ids"]:
        fold.state.append("claim_lines", {"claim_id": cid, "line_id": line_id})


_DENIAL_ACTIONS = frozenset({"DenialWorked", "ReplacementStarted", "VoidStarted", "Closed"})


def _first_response(claim: Row, response: str, on: str | None) -> None:
    if not claim["first_response"]:
        claim["first_response"], claim["first_response_on"] = response, on


@on("Claim.ScrubFailed", "Claim.MarkedReady", "Claim.FilingLimitOverridden",
    "Claim.Submitted", "Claim.Accepted", "Claim.Rejected", "Claim.Adjudicated",
    "Claim.AdjudicationReversed", "Claim.DenialWorked", "Claim.ReplacementStarted",
    "Claim.VoidStarted", "Claim.ResendStarted", "Claim.Voided", "Claim.Closed")
def _claim_changed(fold: Fold, fact: Fact, stream: Row | None) -> None:
    found = _keyed(fold, "claims", stream)
    if found is None:
        return
    cid, c = found
    d, event = fact.data, fact.event_type
    on_date = business_date(d, fold.recorded_at, fact.name)
    if event == "ScrubFailed":
        c.update(problems=list(d["problems"]), state="draft")
    elif event == "MarkedReady":
        c.update(problems=[], state="ready")
    elif event == "FilingLimitOverridden":
        c["filing_override"] = {"approved_by": d["approved_by"], "reason": d["reason"]}
    elif event == "Submitted":
        c.update(state="submitted", rejection=None, submissions=c["submissions"] + 1,
                 last_submitted_on=on_date, batch_id=d["batch_id"])
        c["first_submitted_on"] = c["first_submitted_on"] or on_date
    elif event == "Accepted":
        c.update(state="accepted", accepted_on=on_date)
        if d["payer_claim_control_number"]:
            c["payer_claim_control_number"] = d["payer_claim_control_number"]
        _first_response(c, "accepted", on_date)
    elif event == "Rejected":
        c.update(state="rejected", rejection={"rejected_on": on_date, "level": d["level"],
                                              "reasons": list(d["reasons"])})
        if not c["adjudications"]:
            c["frequency"] = "1"
        _first_response(c, "rejected", on_date)
    elif event == "Adjudicated":
        _adjudicated(fold, c, d, on_date)
    elif event == "AdjudicationReversed":
        adjudications = [dict(a, reversed=True) if a["adjudication_id"] == d["adjudication_id"]
                         else a for a in c["adjudications"]]
        live = [a for a in adjudications if not a["reversed"]]
        c.update(adjudications=adjudications, outcome=live[-1]["outcome"] if live else "",
                 open_denials={}, state="adjudicated" if live else "accepted",
                 paid_cents=sum(a["paid_cents"] for a in live),
                 denied_cents=live[-1]["denied_cents"] if live else 0)
    elif event == "DenialWorked":
        c["open_denials"] = {k: v for k, v in c["open_denials"].items() if k != d["line_id"]}
    elif event == "ReplacementStarted":
        c.update(frequency="7", claim_version=c["claim_version"] + 1,
                 line_ids=list(d["line_ids"]), charge_cents=d["charge_cents"], state="draft",
                 problems=[])
        for line_id in d["line_ids"]:
            fold.state.append("claim_lines", {"claim_id": cid, "line_id": line_id})
    elif event == "VoidStarted":
        c.update(frequency="8", claim_version=c["claim_version"] + 1, state="ready")
    elif event == "ResendStarted":
        c.update(state="draft", problems=[])
    elif event == "Voided":
        c.update(state="voided", voided_on=on_date)
    elif event == "Closed":
        c.update(state="closed", closed_on=on_date)
    if event in _DENIAL_ACTIONS and c["ever_denied"] and not c["denial_first_action_at"]:
        c["denial_first_action_at"] = fold.recorded_at
    if event != "FilingLimitOverridden":
        c["state_on"] = on_date
    fold.put("claims", cid, c)


def _adjudicated(fold: Fold, c: Row, d: Mapping[str, Any], on_date: str) -> None:
    denials = [plain(x) for x in d["denials"]]
    denied = sum(int(x["amount_cents"]) for x in denials)
    c["adjudications"] = [*c["adjudications"], {
        "adjudication_id": d["adjudication_id"], "status_code": d["status_code"],
        "paid_cents": d["paid_cents"], "outcome": plain(d["outcome"]), "paid_on": on_date,
        "reversed": False, "denied_cents": denied, "recorded_at": fold.recorded_at}]
    open_denials: dict[str, list[Any]] = {}
    for denial in denials:
        open_denials.setdefault(denial["line_id"], []).append(denial)
    c.update(state="adjudicated", outcome=plain(d["outcome"]), rejection=None,
             open_denials=open_denials, denied_cents=denied,
             paid_cents=sum(a["paid_cents"] for a in c["adjudications"] if not a["reversed"]))
    if d["payer_claim_control_number"]:
        c["payer_claim_control_number"] = d["payer_claim_control_number"]
    _first_response(c, "accepted", on_date)
    if c["first_adjudicated_on"] is None:
        c.update(first_adjudicated_on=on_date, first_outcome=plain(d["outcome"]),
                 submissions_at_first_adjudication=c["submissions"])
    if denials and not c["ever_denied"]:
        c.update(ever_denied=1, denial_recorded_at=fold.recorded_at)


# -- practice reference data ----------------------------------------------------------------

@on("Payer.Registered")
def _payer(fold: Fold, fact: Fact, stream: Row | None) -> None:
    d = fact.data
    fold.stream(fact, "payer", d["payer_id"])
    fold.put("payers", d["payer_id"], {
        "payer_id": d["payer_id"], "name": d["name"], "filing_indicator": d["filing_indicator"],
        "expected_response_days": d["expected_response_days"]})


@on("Payer.PlanAdded")
def _payer_plan(fold: Fold, fact: Fact, stream: Row | None) -> None:
    if stream is None:
        return
    d = fact.data
    fold.put("payer_plans", (stream["key"], d["plan_id"]), {
        "payer_id": stream["key"], "plan_id": d["plan_id"], "name": d["name"],
        "product": d["product"]})


@on("Contract.Signed")
def _contract(fold: Fold, fact: Fact, stream: Row | None) -> None:
    d = fact.data
    fold.stream(fact, "contract", d["contract_id"])
    fold.put("contracts", d["contract_id"], {
        "contract_id": d["contract_id"], "payer_id": d["payer_id"],
        "plan_ids": list(d["plan_ids"]), "billing_npi": d["billing_npi"],
        "effective_on": iso(d["effective_on"]), "ends_on": iso(d["ends_on"]),
        "timely_filing_days": d["timely_filing_days"],
        "corrected_claim_days": d["corrected_claim_days"], "appeal_days": d["appeal_days"],
        "method": d["method"], "fees": [], "position": fact.position})


@on("Contract.FeeSet")
def _fee(fold: Fold, fact: Fact, stream: Row | None) -> None:
    found = _keyed(fold, "contracts", stream)
    if found is None:
        return
    d = fact.data
    found[1]["fees"] = [*found[1]["fees"], [d["code"], d["modifier"], iso(d["effective_on"]),
                                            iso(d["ends_on"]), d["allowed_cents"]]]
    fold.put("contracts", *found)


@on("Provider.Enrolled")
def _provider(fold: Fold, fact: Fact, stream: Row | None) -> None:
    d = fact.data
    fold.put("providers", d["npi"], {
        "npi": d["npi"], "name": d["name"], "tin": d["tin"], "taxonomy": d["taxonomy"],
        "is_billing": int(bool(d["is_billing"])), "is_person": int(bool(d["is_person"]))})


# The tuples above are written straight into these tables: their order must match.
assert TABLE["postings"].column_names == (
    "position", "seq", "recorded_at", "effective_on", "actor", "event_type", "encounter_id",
    "account_no", "guarantor_account_no", "line_id", "claim_id", "plan_id", "party",
    "category", "amount_cents", "bucket_delta", "balance_delta", "kind", "adjustment_group",
    "carc", "rarcs", "reason", "source", "entry_id", "reverses_entry_id")
assert TABLE["events"].column_names[_H_ACCOUNT] == "account_no"
assert TABLE["events"].column_names[_H_CLAIM] == "claim_id"
assert TABLE["events"].column_names[_H_AMOUNT] == "amount_cents"
