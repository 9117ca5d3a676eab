"""How working the A/R folds: assignments, calls and letters, appeals, follow-up letters.

``work_items`` holds one row per item (``claim:ID`` / ``account:NO``) with who works it and
the latest of what was done; ``work_events`` one row per item per event (the supervisor's
figures are counted from it, by event timestamp); ``work_appeals`` and ``work_letters`` one
row per appeal and per patient letter. A work item's stream is recorded with its item's
kind and key, so its events also appear in the account's history (the auditor timeline).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from domain.follow_up import APPEAL_ANSWER_DAYS
from projections.rows import Fact, Fold, Row, iso, on

# The events that count as working an item (assignment is not work).
WORK_EVENTS = ("ActivityLogged", "AppealFiled", "AppealLetterGenerated", "AppealDecided",
               "FollowUpLetterIssued")


def _item(fold: Fold, ref: str) -> Row:
    row = fold.row("work_items", ref)
    if row is not None:
        return row
    kind, _, key = ref.partition(":")
    claim = fold.row("claims", key) if kind == "claim" else None
    return {"item": ref, "kind": kind, "key": key,
            "account_no": (claim or {}).get("account_no", "") if kind == "claim" else key,
            "claim_id": key if kind == "claim" else "", "assigned_to": "", "assigned_at": "",
            "assigned_by": "", "rule": "", "opened_at": "", "activities": 0,
            "first_worked_at": "", "last_worked_at": "", "last_worked_by": "",
            "last_worked_on": None, "last_outcome": "", "next_action_on": None,
            "appeal_id": "", "appeal_status": "", "letters": 0}


def _event(fold: Fold, fact: Fact, ref: str, **values: Any) -> None:
    row = {"position": fact.position, "item": ref, "actor": str(fact.data.get("actor") or ""),
           "worker": "", "recorded_at": fold.recorded_at, "worked_on": None,
           "event_type": fact.event_type, "channel": "", "outcome": "", "promise_on": None,
           "promise_cents": None, "next_action_on": None, "detail": ""}
    row.update(values)
    fold.state.append("work_events", row)


def _worked(fold: Fold, fact: Fact, item: Row) -> None:
    actor = str(fact.data.get("actor") or "")
    item["first_worked_at"] = item["first_worked_at"] or fold.recorded_at
    item["last_worked_at"], item["last_worked_by"] = fold.recorded_at, actor


def _ref(stream: Row | None) -> str | None:
    return None if stream is None else f"{stream['kind']}:{stream['key']}"


@on("Worklist.WorkAssigned", "Worklist.WorkUnassigned")
def _assignment(fold: Fold, fact: Fact, stream: Row | None) -> None:
    d = fact.data
    assigned = fact.event_type == "WorkAssigned"
    for ref in d["items"]:
        item = _item(fold, ref)
        item.update(assigned_to=d["user"] if assigned else "",
                    assigned_at=fold.recorded_at if assigned else "",
                    assigned_by=str(d.get("actor") or "") if assigned else "",
                    rule=d["rule"] if assigned else "")
        fold.put("work_items", ref, item)
        _event(fold, fact, ref, worker=d["user"] if assigned else d["previous"].get(ref, ""),
               worked_on=iso(d["assigned_on"] if assigned else d["unassigned_on"]),
               detail=d["rule"] if assigned else d["reason"])


@on("WorkItem.Opened")
def _opened(fold: Fold, fact: Fact, stream: Row | None) -> None:
    d = fact.data
    ref = f"{d['kind']}:{d['key']}"
    fold.stream(fact, d["kind"], d["key"], account_no=d["account_no"], claim_id=d["claim_id"])
    item = _item(fold, ref)
    item.update(account_no=d["account_no"], claim_id=d["claim_id"],
                opened_at=fold.recorded_at)
    fold.put("work_items", ref, item)


@on("WorkItem.ActivityLogged")
def _activity(fold: Fold, fact: Fact, stream: Row | None) -> None:
    ref = _ref(stream)
    if ref is None:
        return
    d = fact.data
    item = _item(fold, ref)
    _worked(fold, fact, item)
    item.update(activities=item["activities"] + 1, last_worked_on=iso(d["worked_on"]),
                last_outcome=d["outcome"], next_action_on=iso(d["next_action_on"]))
    fold.put("work_items", ref, item)
    _event(fold, fact, ref, worker=item["last_worked_by"], worked_on=iso(d["worked_on"]),
           channel=d["channel"], outcome=d["outcome"], promise_on=iso(d["promise_on"]),
           promise_cents=d["promise_cents"], next_action_on=iso(d["next_action_on"]),
           detail=d["reason"] or d["note"])


@on("WorkItem.AppealFiled", "WorkItem.AppealLetterGenerated", "WorkItem.AppealDecided")
def _appeal(fold: Fold, fact: Fact, stream: Row | None) -> None:
    ref = _ref(stream)
    if ref is None:
        return
    d, event = fact.data, fact.event_type
    actor = str(d.get("actor") or "")
    item = _item(fold, ref)
    _worked(fold, fact, item)
    appeal = fold.row("work_appeals", d["appeal_id"])
    worked_on: str | None
    if event == "AppealFiled":
        worked_on = iso(d["filed_on"])
        appeal = {"appeal_id": d["appeal_id"], "claim_id": item["key"], "level": d["level"],
                  "filed_on": worked_on, "filed_at": fold.recorded_at, "filed_by": actor,
                  "denied_on": iso(d["denied_on"]), "deadline": iso(d["deadline"]),
                  "deadline_basis": d["deadline_basis"],
                  "denied_cents": sum(int(x["amount_cents"]) for x in d["denials"]),
                  "letter_sha256": "", "letter_on": None, "outcome": "", "decided_on": None,
                  "decided_by": ""}
        # The payer is expected to answer within APPEAL_ANSWER_DAYS; the item waits till then.
        answer = date.fromisoformat(worked_on or "") + timedelta(days=APPEAL_ANSWER_DAYS)
        item.update(appeal_id=d["appeal_id"], appeal_status="pending",
                    next_action_on=answer.isoformat(), last_worked_on=worked_on,
                    last_outcome="appeal-filed")
        detail = f"{d['level']} due by {appeal['deadline']}"
    elif appeal is None:
        return
    elif event == "AppealLetterGenerated":
        worked_on = iso(d["generated_on"])
        appeal.update(letter_sha256=d["sha256"], letter_on=worked_on)
        detail = d["sha256"]
    else:
        worked_on = iso(d["decided_on"])
        appeal.update(outcome=d["outcome"], decided_on=worked_on, decided_by=actor)
        # A decision is the biller's to act on at once: next level, write-off, or wait for
        # the payer's corrected remittance.
        item.update(appeal_status=d["outcome"], next_action_on=None, last_worked_on=worked_on,
                    last_outcome=f"appeal-{d['outcome']}")
        detail = d["note"]
    fold.put("work_appeals", d["appeal_id"], appeal)
    fold.put("work_items", ref, item)
    _event(fold, fact, ref, worker=actor, worked_on=worked_on, detail=detail,
           outcome=d.get("outcome") or "")


@on("WorkItem.FollowUpLetterIssued")
def _letter(fold: Fold, fact: Fact, stream: Row | None) -> None:
    ref = _ref(stream)
    if ref is None:
        return
    d = fact.data
    actor = str(d.get("actor") or "")
    item = _item(fold, ref)
    _worked(fold, fact, item)
    item.update(letters=item["letters"] + 1, last_worked_on=iso(d["issued_on"]),
                last_outcome=f"{d['letter_kind']}-letter")
    fold.put("work_items", ref, item)
    fold.put("work_letters", d["letter_id"], {
        "letter_id": d["letter_id"], "item": ref, "account_no": item["key"],
        "letter_kind": d["letter_kind"], "issued_on": iso(d["issued_on"]),
        "recorded_at": fold.recorded_at, "actor": actor, "sha256": d["sha256"],
        "dunning_level": d["dunning_level"], "balance_cents": d["balance_cents"],
        "statement_id": d["statement_id"]})
    _event(fold, fact, ref, worker=actor, worked_on=iso(d["issued_on"]), channel="letter",
           outcome=d["letter_kind"], detail=d["sha256"])
