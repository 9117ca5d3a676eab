"""The worklist a biller works from, and the supervisor's view of the work, as of a date.

An *item* is a claim (``claim:ID``) or a guarantor's account (``account:NO``) that sits in
a work queue (``projections.worklist``: rejected, denials, no-response, timely-filing,
underpaid; delinquent, collections, credit-balances), or that has an appeal pending or a
broken promise. The rules, as pure functions over plain rows (no I/O, no clock):

- value x age: an item's value is its largest queue amount, its age the days since its
  oldest date of service still owed; the worklist is sorted by value x age, largest first.
- tickler: an item whose next action date is after the as-of date is *waiting* (hidden);
  on that date it is *due* again.
- promise to pay: kept when the guarantor's patient payments dated from the day it was
  made through the promised date reach the amount; otherwise, from the day after the
  promised date it is *broken* and the account resurfaces (even while waiting), until
  someone works the account again.
- an item in no queue, with no appeal pending and no broken promise, is done.

Supervisor figures come from the work events' timestamps (``recorded_at``): items worked
per user per day, promises kept, dollars collected on items after someone worked them
(attributed to whoever worked the item last before the money was recorded), and the
oldest items nobody has touched.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.errors import ValidationError
from domain.ledger import AGENCY, PATIENT
from domain.money import AmountError, Cents, cents_from_text, format_plain
from projections.aging import BUCKETS, aging_bucket
from projections.reads import to_date
from projections.worklist import WorkQueues

CLAIM_QUEUES = ("rejected", "denials", "no-response", "timely-filing", "underpaid")
ACCOUNT_QUEUES = ("delinquent", "collections", "credit-balances")
WORK_EVENT_TYPES = ("ActivityLogged", "AppealFiled", "AppealLetterGenerated", "AppealDecided",
                    "FollowUpLetterIssued")
OLDEST_UNTOUCHED = 20


# -- pure rules ------------------------------------------------------------------------------------
def items_from_queues(queues: Mapping[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Queue rows merged into work items: item -> kind, key, queues, amount (the largest)."""
    items: dict[str, dict[str, Any]] = {}

    def add(kind: str, key: str, queue: str, amount: int, payer_id: str = "") -> None:
        ref = f"{kind}:{key}"
        item = items.setdefault(ref, {"item": ref, "kind": kind, "key": key, "queues": [],
                                      "amount_cents": 0, "payer_id": payer_id})
        if queue not in item["queues"]:
            item["queues"].append(queue)
        item["amount_cents"] = max(item["amount_cents"], int(amount))
        item["payer_id"] = item["payer_id"] or payer_id

    for name in CLAIM_QUEUES:
        if name == "denials":
            # A claim's denied lines may sit in several reason groups: one item, their sum.
            per_claim: dict[str, tuple[int, str]] = {}
            for row in queues.get(name, []):
                for line in row["lines"]:
                    cents, payer = per_claim.get(line["claim_id"], (0, line["payer_id"]))
                    per_claim[line["claim_id"]] = (cents + int(line["amount_cents"]), payer)
            for claim_id, (cents, payer) in per_claim.items():
                add("claim", claim_id, name, cents, payer)
            continue
        for row in queues.get(name, []):
            if row.get("claim_id"):
                add("claim", row["claim_id"], name, int(row.get("amount_cents") or 0),
                    row.get("payer_id") or "")
    for name in ACCOUNT_QUEUES:
        for row in queues.get(name, []):
            amount = row.get("due_cents", row.get("balance_cents", row.get("credit_cents", 0)))
            add("account", row["guarantor_account_no"], name, int(amount or 0))
    return items


@dataclass(frozen=True)
class Promise:
    made_on: date
    promise_on: date
    cents: int
    user: str


def promise_state(promise: Promise, paid: Iterable[tuple[date, int]], as_of: date) -> dict[
        str, Any]:
    """Kept, pending or broken, with what was paid toward it (payments dated within it)."""
    toward = sum(c for on, c in paid if promise.made_on <= on <= min(promise.promise_on, as_of))
    if toward >= promise.cents:
        state = "kept"
    elif as_of > promise.promise_on:
        state = "broken"
    else:
        state = "pending"
    return {"made_on": promise.made_on, "promise_on": promise.promise_on,
            "promise_cents": promise.cents, "paid_cents": toward, "state": state,
            "by": promise.user}


def item_status(*, in_queues: bool, next_action_on: date | None, appeal_pending: bool,
                promise: dict[str, Any] | None, last_worked_on: date | None,
                activities: int, still_owed: bool, as_of: date) -> str:
    """new / due / to-work / promise-broken (shown), waiting (hidden), done."""
    broken = (promise is not None and promise["state"] == "broken" and still_owed and (
        last_worked_on is None or last_worked_on <= promise["promise_on"]))
    if broken:
        return "promise-broken"
    if not (in_queues or appeal_pending):
        return "done"
    if next_action_on is not None and next_action_on > as_of:
        return "waiting"
    if next_action_on is not None:
        return "due"
    return "to-work" if activities else "new"


def score(amount_cents: int, age_days: int | None) -> int:
    """Value x age: what the worklist sorts by (an item of age 0 counts as one day)."""
    return int(amount_cents) * max(int(age_days or 0), 1)


@dataclass(frozen=True)
class AssignmentRule:
    """Which items a supervisor's rule picks: every given condition must hold.

    Text form (CLI): ``queue=denials payer=12345 bucket=91-120 min=100.00 max=5000
    letters=A-K kind=claim``; ``letters`` splits by the first letter of the patient's last
    name (accounts: the guarantor's).
    """

    queue: str | None = None
    payer: str | None = None
    bucket: str | None = None
    min_cents: Cents | None = None
    max_cents: Cents | None = None
    letters: str | None = None
    kind: str | None = None

    @classmethod
    def parse(cls, text: str) -> AssignmentRule:
        values: dict[str, Any] = {}
        for part in text.replace(",", " ").split():
            name, sep, value = part.partition("=")
            if not sep or not value:
                raise ValidationError(f"rule part {part!r} must be NAME=VALUE")
            if name in ("min", "max"):
                try:
                    values[f"{name}_cents"] = cents_from_text(value)
                except AmountError:
                    raise ValidationError(f"{name}={value}: not an amount") from None
            elif name in ("queue", "payer", "bucket", "letters", "kind"):
                values[name] = value
            else:
                raise ValidationError(
                    f"unknown rule part {name!r}; use queue, payer, bucket, min, max, "
                    "letters or kind")
        rule = cls(**values)
        if rule.bucket is not None and rule.bucket not in BUCKETS:
            raise ValidationError(f"bucket must be one of {', '.join(BUCKETS)}")
        if rule.letters is not None and not _letter_range(rule.letters):
            raise ValidationError("letters must be a range like A-K")
        if rule.kind is not None and rule.kind not in ("claim", "account"):
            raise ValidationError("kind must be claim or account")
        if rule == cls():
            raise ValidationError("a rule needs at least one condition")
        return rule

    def describe(self) -> str:
        parts = [f"{k}={v}" for k, v in (("queue", self.queue), ("payer", self.payer),
                                         ("bucket", self.bucket), ("letters", self.letters),
                                         ("kind", self.kind)) if v is not None]
        parts += [f"{k}={format_plain(v)}" for k, v in (("min", self.min_cents),
                                                   ("max", self.max_cents)) if v is not None]
        return " ".join(parts)

    def matches(self, item: Mapping[str, Any], as_of: date) -> bool:
        if self.kind is not None and item["kind"] != self.kind:
            return False
        if self.queue is not None and self.queue not in item["queues"]:
            return False
        if self.payer is not None and item.get("payer_id") != self.payer:
            return False
        if self.min_cents is not None and item["amount_cents"] < self.min_cents:
            return False
        if self.max_cents is not None and item["amount_cents"] > self.max_cents:
            return False
        if self.bucket is not None:
            oldest = item.get("oldest_service_date")
            if oldest is None or aging_bucket(oldest, as_of) != self.bucket:
                return False
        if self.letters is not None:
            first, last = _letter_range(self.letters) or ("", "")
            initial = (item.get("name") or " ")[0].upper()
            if not first <= initial <= last:
                return False
        return True


def _letter_range(text: str) -> tuple[str, str] | None:
    first, _, last = text.upper().partition("-")
    last = last or first
    if len(first) != 1 or len(last) != 1 or not first.isalpha() or not last.isalpha():
        return None
    return (first, last) if first <= last else None


# -- the read side ------------------------------------------------------------------------------
class FollowUpQueries(WorkQueues):
    """`worklist(user)`, `supervisor_report()`, `work_history(item)`, `appeals()`."""

    def work_items(self, as_of: date,
                   only: set[str] | None = None) -> dict[str, dict[str, Any]]:
        """Every item a queue holds or someone worked, with its status as of `as_of`
        (`only`: just those of these items)."""
        queues = {name: self._builders()[name](as_of) for name in CLAIM_QUEUES + ACCOUNT_QUEUES}
        items = items_from_queues(queues)
        worked = {r["item"]: r for r in self._rows("work_items", "1 = 1", [])}
        for ref, row in worked.items():
            if ref not in items:
                items[ref] = {"item": ref, "kind": row["kind"], "key": row["key"],
                              "queues": [], "amount_cents": 0, "payer_id": ""}
        if only is not None:
            items = {ref: item for ref, item in items.items() if ref in only}
        self._describe(items, worked, as_of)
        return items

    def _describe(self, items: dict[str, dict[str, Any]], worked: dict[str, dict[str, Any]],
                  as_of: date) -> None:
        claims = {c[0]: c[1:] for c in self.store.fetchall(
            "SELECT claim_id, account_no, payer_id, service_date, charge_cents FROM rm_claims")}
        names = dict(self.store.fetchall("SELECT account_no, name FROM rm_accounts"))
        on = as_of.isoformat()
        # What is still owed: the patient's share per guarantor (with its oldest date of
        # service), the payers' share per claim; an item out of every queue is valued so.
        owed = {g: (first, int(cents)) for g, first, cents in self.store.fetchall(
            "SELECT p.guarantor_account_no, MIN(l.service_date), SUM(p.cents) FROM ("
            "SELECT guarantor_account_no, line_id, SUM(bucket_delta) AS cents FROM rm_postings "
            "WHERE party = ? AND effective_on <= ? GROUP BY guarantor_account_no, line_id "
            "HAVING SUM(bucket_delta) <> 0) p JOIN rm_lines l ON l.line_id = p.line_id "
            "GROUP BY p.guarantor_account_no", (PATIENT, on))}
        claim_owed = {c: int(cents) for c, cents in self.store.fetchall(
            "SELECT cl.claim_id, SUM(p.bucket_delta) FROM rm_claim_lines cl "
            "JOIN rm_claims c ON c.claim_id = cl.claim_id JOIN rm_postings p "
            "ON p.line_id = cl.line_id AND p.party = c.payer_id WHERE p.effective_on <= ? "
            "GROUP BY cl.claim_id", (on,))}
        promises = {ref: p for ref, p in self._promises(as_of)}   # the latest of each item
        appeals = {r["appeal_id"]: r for r in self._rows("work_appeals", "1 = 1", [])}
        for ref, item in items.items():
            row = worked.get(ref, {})
            if item["kind"] == "claim":
                account_no, payer_id, service_date, _ = claims.get(
                    item["key"], ("", "", None, 0))
                item["payer_id"] = item["payer_id"] or payer_id
                item["amount_cents"] = item["amount_cents"] or max(
                    claim_owed.get(item["key"], 0), 0)
                first_dos = to_date(service_date)
            else:
                first, cents = owed.get(item["key"], (None, 0))
                account_no, first_dos = item["key"], to_date(first)
                item["amount_cents"] = item["amount_cents"] or max(cents, 0)
            item["account_no"] = account_no
            item["name"] = names.get(account_no, "")
            item["oldest_service_date"] = first_dos
            item["age_days"] = (as_of - first_dos).days if first_dos else 0
            item["score"] = score(item["amount_cents"], item["age_days"])
            appeal = appeals.get(row.get("appeal_id") or "")
            promise = promises.get(ref)
            last_worked_on = to_date(row.get("last_worked_on"))
            next_action_on = to_date(row.get("next_action_on"))
            item.update(
                assigned_to=row.get("assigned_to", ""), activities=row.get("activities", 0),
                last_outcome=row.get("last_outcome", ""), last_worked_on=last_worked_on,
                last_worked_by=row.get("last_worked_by", ""), next_action_on=next_action_on,
                promise=promise,
                appeal=None if appeal is None else {
                    "appeal_id": appeal["appeal_id"], "level": appeal["level"],
                    "deadline": to_date(appeal["deadline"]),
                    "status": appeal["outcome"] or "pending"})
            item["status"] = item_status(
                in_queues=bool(item["queues"]), next_action_on=next_action_on,
                appeal_pending=appeal is not None and not appeal["outcome"], promise=promise,
                last_worked_on=last_worked_on, activities=item["activities"],
                still_owed=item["kind"] == "claim" or first_dos is not None, as_of=as_of)
            if item["status"] == "promise-broken" and promise is not None:
                item["resurfaced_on"] = date.fromordinal(promise["promise_on"].toordinal() + 1)

    def _promises(self, as_of: date) -> list[tuple[str, dict[str, Any]]]:
        """Every promise to pay made by `as_of`, in order, judged as of `as_of`."""
        made = [(item, Promise(date.fromisoformat(worked_on), date.fromisoformat(promise_on),
                               int(cents), actor))
                for item, worked_on, promise_on, cents, actor in self.store.fetchall(
                    "SELECT item, worked_on, promise_on, promise_cents, actor FROM "
                    "rm_work_events WHERE outcome = 'promise-to-pay' AND worked_on <= ? "
                    "ORDER BY position", (as_of.isoformat(),))]
        paid = self._patient_payments(sorted({ref.split(":", 1)[1] for ref, _ in made}), as_of)
        return [(ref, promise_state(p, paid.get(ref.split(":", 1)[1], []), as_of))
                for ref, p in made]

    def _patient_payments(self, guarantors: list[str],
                          as_of: date) -> dict[str, list[tuple[date, int]]]:
        out: dict[str, list[tuple[date, int]]] = {}
        for i in range(0, len(guarantors), 500):
            chunk = guarantors[i:i + 500]
            marks = ", ".join("?" * len(chunk))
            for guarantor, on, cents in self.store.fetchall(
                    "SELECT guarantor_account_no, effective_on, SUM(amount_cents) FROM "
                    "rm_postings WHERE category = 'payment' AND party IN (?, ?) AND "
                    f"effective_on <= ? AND guarantor_account_no IN ({marks}) "
                    "GROUP BY guarantor_account_no, effective_on",
                    [PATIENT, AGENCY, as_of.isoformat(), *chunk]):
                out.setdefault(guarantor, []).append((date.fromisoformat(on), int(cents)))
        return out

    def worklist(self, user: str | None = None, as_of: date | None = None, *,
                 include_waiting: bool = False, unassigned: bool = False,
                 limit: int | None = None, offset: int = 0) -> dict[str, Any]:
        """A biller's items to work now, by value x age (largest first).

        `user` None means every assigned item; `unassigned` the items nobody has yet.
        Waiting items (tickler in the future) and done items are left out unless
        `include_waiting` (then waiting ones are listed too, last).
        """
        from domain import clock  # noqa: PLC0415

        as_of = as_of or clock.today()
        only = None
        if not unassigned and user != "":
            # Assigned and waiting items both come from rm_work_items (an item in a queue
            # that nobody worked has neither): only those need describing, none when none.
            where, params = ("1 = 1", []) if user is None else ("assigned_to = ?", [user])
            only = {ref for (ref,) in self.store.fetchall(
                f"SELECT item FROM rm_work_items WHERE {where}", params)}
            if not only:
                return {"user": user, "as_of": as_of, "count": 0, "total_cents": 0,
                        "waiting": 0, "items": []}
        items = self.work_items(as_of, only)
        shown = {"new", "due", "to-work", "promise-broken"} | (
            {"waiting"} if include_waiting else set())
        rows = [i for i in items.values() if i["status"] in shown and (
            (not i["assigned_to"]) if unassigned else
            (i["assigned_to"] == user if user is not None else bool(i["assigned_to"])))]
        rows.sort(key=lambda i: (i["status"] == "waiting", -i["score"], i["item"]))
        waiting = sum(1 for i in items.values() if i["status"] == "waiting" and (
            user is None or i["assigned_to"] == user))
        page = rows[offset:] if limit is None else rows[offset:offset + limit]
        return {"user": user, "as_of": as_of, "count": len(rows),
                "total_cents": sum(i["amount_cents"] for i in rows),
                "waiting": waiting, "items": page}

    def matching_items(self, rule: AssignmentRule, as_of: date | None = None, *,
                       include_assigned: bool = False) -> list[str]:
        """The open items a supervisor's rule picks (unassigned ones unless asked)."""
        from domain import clock  # noqa: PLC0415

        as_of = as_of or clock.today()
        items = self.work_items(as_of)
        return sorted((ref for ref, i in items.items()
                       if i["status"] != "done" and (include_assigned or not i["assigned_to"])
                       and rule.matches(i, as_of)),
                      key=lambda ref: (-items[ref]["score"], ref))

    def work_history(self, item: str) -> list[dict[str, Any]]:
        """What was done on one item, in order."""
        return [{**r, "worked_on": to_date(r["worked_on"]),
                 "promise_on": to_date(r["promise_on"]),
                 "next_action_on": to_date(r["next_action_on"])}
                for r in self._rows("work_events", "item = ?", [item], "position")]

    def appeals(self, claim_id: str | None = None) -> list[dict[str, Any]]:
        where, params = ("claim_id = ?", [claim_id]) if claim_id else ("1 = 1", [])
        return [{k: (to_date(v) if k.endswith("_on") or k == "deadline" else v)
                 for k, v in r.items()}
                for r in self._rows("work_appeals", where, params, "filed_at, appeal_id")]

    # -- the supervisor's view -------------------------------------------------------------------
    def supervisor_report(self, as_of: date | None = None) -> dict[str, Any]:
        """Who works what, items worked per user per day, promises, dollars collected from
        worked items and the oldest untouched items; counted from event timestamps up to
        the end of `as_of` (UTC)."""
        from domain import clock  # noqa: PLC0415

        as_of = as_of or clock.today()
        until = f"{as_of.isoformat()}T99"   # every instant recorded on that day sorts below
        items = self.work_items(as_of)
        marks = ", ".join("?" * len(WORK_EVENT_TYPES))
        events = self.store.fetchall(
            "SELECT item, actor, recorded_at, event_type FROM rm_work_events "
            f"WHERE recorded_at < ? AND event_type IN ({marks}) ORDER BY position",
            [until, *WORK_EVENT_TYPES])
        return {
            "as_of": as_of,
            "assignments": _assignments(items.values()),
            "worked_per_day": _worked_per_day(events),
            "promises": _promise_figures(p for _, p in self._promises(as_of)),
            "collected": self._collected(events, until),
            "oldest_untouched": sorted(
                ({k: i[k] for k in ("item", "name", "assigned_to", "queues", "amount_cents",
                                    "age_days", "oldest_service_date")}
                 for i in items.values() if i["status"] == "new"),
                key=lambda i: (-i["age_days"], -i["amount_cents"], i["item"]),
            )[:OLDEST_UNTOUCHED],
        }

    def _collected(self, events: list[tuple[Any, ...]], until: str) -> list[dict[str, Any]]:
        """Money recorded on an item after someone worked it, to whoever worked it last."""
        work: dict[str, list[tuple[str, str]]] = {}
        for item, actor, recorded_at, _ in events:
            work.setdefault(item, []).append((recorded_at, actor))
        totals: dict[str, dict[str, Any]] = {}
        claims = [ref.split(":", 1)[1] for ref in work if ref.startswith("claim:")]
        accounts = [ref.split(":", 1)[1] for ref in work if ref.startswith("account:")]
        payments = [(f"claim:{k}", at, c) for k, at, c in self._payments(
            "claim_id", claims, "party NOT IN (?, ?)", until)]
        payments += [(f"account:{k}", at, c) for k, at, c in self._payments(
            "guarantor_account_no", accounts, "party IN (?, ?)", until)]
        for ref, recorded_at, cents in payments:
            history = work[ref]
            index = bisect.bisect_right([at for at, _ in history], recorded_at)
            if index == 0:
                continue   # paid before anyone worked it
            user = history[index - 1][1]
            row = totals.setdefault(user, {"user": user, "collected_cents": 0, "items": set()})
            row["collected_cents"] += cents
            row["items"].add(ref)
        return [{"user": u, "collected_cents": r["collected_cents"], "items": len(r["items"])}
                for u, r in sorted(totals.items())]

    def _payments(self, column: str, keys: list[str], party: str,
                  until: str) -> list[tuple[str, str, int]]:
        out: list[tuple[str, str, int]] = []
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            out += [(k, at, int(c)) for k, at, c in self.store.fetchall(
                f"SELECT {column}, recorded_at, amount_cents FROM rm_postings "
                f"WHERE category = 'payment' AND {party} AND recorded_at < ? AND "
                f"{column} IN ({', '.join('?' * len(chunk))}) ORDER BY position, seq",
                [PATIENT, AGENCY, until, *chunk])]
        return out


def _assignments(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    per: dict[str, dict[str, Any]] = {}
    for i in items:
        if not i["assigned_to"] or i["status"] == "done":
            continue
        row = per.setdefault(i["assigned_to"], {
            "user": i["assigned_to"], "open": 0, "to_work": 0, "waiting": 0,
            "promise_broken": 0, "value_cents": 0})
        row["open"] += 1
        row["value_cents"] += i["amount_cents"]
        if i["status"] == "waiting":
            row["waiting"] += 1
        else:
            row["to_work"] += 1
        if i["status"] == "promise-broken":
            row["promise_broken"] += 1
    return [per[u] for u in sorted(per)]


def _worked_per_day(events: Iterable[tuple[Any, ...]]) -> list[dict[str, Any]]:
    per: dict[tuple[str, str], dict[str, Any]] = {}
    for item, actor, recorded_at, _ in events:
        row = per.setdefault((actor, recorded_at[:10]), {"items": set(), "actions": 0})
        row["items"].add(item)
        row["actions"] += 1
    return [{"user": u, "day": date.fromisoformat(d), "items": len(r["items"]),
             "actions": r["actions"]} for (u, d), r in sorted(per.items())]


def _promise_figures(promises: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    per: dict[str, dict[str, Any]] = {}
    for p in promises:
        row = per.setdefault(p["by"], {"user": p["by"], "made": 0, "kept": 0, "broken": 0,
                                       "pending": 0, "promised_cents": 0, "kept_cents": 0})
        row["made"] += 1
        row[p["state"]] += 1
        row["promised_cents"] += p["promise_cents"]
        if p["state"] == "kept":
            row["kept_cents"] += p["promise_cents"]
    return [per[u] for u in sorted(per)]
