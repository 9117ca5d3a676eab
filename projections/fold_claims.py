"""How visits and claims fold: charge lines, every posting of money, claim states."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.ledger import AGENCY, BALANCE_SIGN, PATIENT, postings_of
from projections.rows import (
    H_AMOUNT,
    H_CLAIM,
    H_MONEY,
    Fact,
    Fold,
    Row,
    business_date,
    iso,
    keyed,
    on,
    plain,
)

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
    found = keyed(fold, "encounters", stream)
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
        line["unclaimed"] = _unclaimed(line)
        fold.put("lines", line_id, line)


def _first_posting_of(fold: Fold, line: Row | None, payer: str) -> list[str]:
    """A payer's first posting on a line: note the payer, and whether one lacks a claim."""
    assert line is not None
    known = line["payers"]
    payers = [*(known or []), payer]
    if known is not None:   # NULL (a row from an older version) stays unknown: see _unclaimed
        line["payers"] = payers
    line["unclaimed"] = _unclaimed(line)
    fold.put("lines", line["line_id"], line)
    return payers


def _unclaimed(line: Row) -> int:
    """1 when a payer with postings on the line has no claim on it: the unbilled queue
    reads only these lines (projections.worklist). A row an older version wrote without
    `payers` (NULL) may hide some: 1, as the query checks the postings itself."""
    claims, payers = line["claims"], line["payers"]
    return 1 if payers is None else int(any(payer not in claims for payer in payers))


_NOT_PAYERS = frozenset({PATIENT, AGENCY})
# A posting's category -> (its sign in the line balance, its text): looked up once, not per row.
_CATEGORIES = {c: (BALANCE_SIGN[c], c.value) for c in BALANCE_SIGN}


@on("Encounter.ChargeEntered", "Encounter.PaymentPosted", "Encounter.AdjustmentPosted",
    "Encounter.ResponsibilityTransferred", "Encounter.RefundIssued", "Encounter.EntryReversed")
def _money(fold: Fold, fact: Fact, stream: Row | None) -> None:
    found = keyed(fold, "encounters", stream)
    if found is None:
        return
    encounter = found[1]
    d, event = fact.data, fact.event_type
    line: Row | None
    if event == "ChargeEntered":
        line = {
            "line_id": d["line_id"], "encounter_id": encounter["encounter_id"],
            "account_no": encounter["account_no"], "code": d["code"],
            "modifiers": list(d["modifiers"]), "units_milli": d["units_milli"],
            "unit_price_cents": d["unit_price_cents"], "charge_cents": d["charge_cents"],
            "description": d["description"], "service_date": iso(d["service_date"]),
            "place_of_service": d["place_of_service"], "pointers": list(d["pointers"]),
            "reversed": 0, "claims": {}, "recorded_at": fold.recorded_at,
            "position": fact.position, "payers": [], "unclaimed": 0}
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
    position, recorded_at = fact.position, fold.recorded_at
    payers = (line["payers"] or []) if line is not None else None
    postings = postings_of(event, d)
    for seq, p in enumerate(postings):
        sign, category = _CATEGORIES[p.category]
        delta = sign * p.amount_cents
        effect += delta
        party = p.party
        if payers is not None and party not in payers and party not in _NOT_PAYERS:
            payers = _first_posting_of(fold, line, party)
        party_claim = "" if party == PATIENT else claims.get(party, "")
        claim_id = claim_id or party_claim
        # In the column order of schema's `postings` (checked below, at import).
        append("postings", (
            position, seq, recorded_at, effective_on, actor, event, encounter_id,
            account_no, guarantor, p.line_id, party_claim, plans.get(party, ""), party,
            category, p.amount_cents, p.bucket_delta, delta, kind, group, carc, rarcs,
            reason, source, entry_id, reverses))
    if fold.history is not None:
        fold.history[H_AMOUNT] = effect
        fold.history[H_CLAIM] = claim_id
        if postings:   # it posted: a ledger row, even when its postings net to zero
            fold.history[H_MONEY] = 1


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
    found = keyed(fold, "claims", stream)
    if found is None:
        return
    cid, c = found
    d, event = fact.data, fact.event_type
    on_date = fold.on_date or business_date(d, fold.recorded_at, fact.name)
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
