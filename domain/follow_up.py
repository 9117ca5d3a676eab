"""Working the A/R: who works which item, what was done on it, appeals and follow-up letters.

Two kinds of stream. ``Worklist`` (one per ledger) records which biller works which item,
assigned by a supervisor by hand or by a rule; ``WorkItem`` (one per claim or per guarantor
account) records what was done on it: calls and letters with their outcome, note and
tickler date, appeals of a denial with their deadline, letter and decision, and the patient
follow-up letters. Whether a promise to pay was kept is not an event: the read side folds
it from the promise and the payments posted since (``projections.follow_up``).
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.base import BillingAggregate, stream_id
from domain.errors import RuleViolation, ValidationError

ITEM_KINDS = ("claim", "account")
CHANNELS = ("call", "letter")
MAX_TICKLER_DAYS = 365


class Outcome(StrEnum):
    LEFT_MESSAGE = "left-message"
    PROMISE_TO_PAY = "promise-to-pay"
    DISPUTE = "dispute"
    WRONG_NUMBER = "wrong-number"
    PAYER_IN_PROCESS = "payer-in-process"
    PAYER_PAID = "payer-paid"
    PAYER_DENIED = "payer-denied"


# Who is on the other end of the line: the guarantor for an account, the payer for a claim.
OUTCOMES_FOR = {
    "account": (Outcome.LEFT_MESSAGE, Outcome.PROMISE_TO_PAY, Outcome.DISPUTE,
                Outcome.WRONG_NUMBER),
    "claim": (Outcome.LEFT_MESSAGE, Outcome.WRONG_NUMBER, Outcome.PAYER_IN_PROCESS,
              Outcome.PAYER_PAID, Outcome.PAYER_DENIED),
}

# When an item comes back after an outcome, unless the biller names a date (None: it stays).
DEFAULT_TICKLER_DAYS: dict[str, int | None] = {
    Outcome.LEFT_MESSAGE: 2, Outcome.DISPUTE: 7, Outcome.WRONG_NUMBER: None,
    Outcome.PAYER_IN_PROCESS: 14, Outcome.PAYER_PAID: 7, Outcome.PAYER_DENIED: None,
}

# Appeal levels, commercial and Medicare names alike; any order (payers differ).
APPEAL_LEVELS = ("reconsideration", "redetermination", "second-level", "external-review",
                 "alj-hearing")
APPEAL_OUTCOMES = ("overturned", "partially-overturned", "upheld")
# A payer's answer to an appeal is expected within this many days; the item comes back then.
APPEAL_ANSWER_DAYS = 30
LETTER_KINDS = ("dunning", "pre-collection")


def item_ref(kind: str, key: str) -> str:
    """'claim:C1' / 'account:A1001': how the worklist names an item."""
    return f"{kind}:{key}"


def parse_item(ref: str) -> tuple[str, str]:
    kind, _, key = ref.partition(":")
    if kind not in ITEM_KINDS or not key:
        raise ValidationError(
            f"work item {ref!r} must be claim:CLAIM_ID or account:ACCOUNT_NO")
    return kind, key


class Worklist(BillingAggregate):
    """Who works which item: the supervisors' assignments, one stream for the office."""

    @staticmethod
    def create_id() -> UUID:
        return stream_id("worklist", "main")

    @event("Opened")
    def __init__(self) -> None:
        self.owners: dict[str, str] = {}

    def assign(self, items: list[str], user: str, rule: str, assigned_on: date) -> None:
        if not items:
            raise RuleViolation("no work items to assign" + (f" match {rule}" if rule else ""))
        for ref in items:
            parse_item(ref)
        if len(set(items)) != len(items):
            raise ValidationError("an item is listed twice")
        if all(self.owners.get(ref) == user for ref in items):
            raise RuleViolation(f"{user} already works every one of these items")
        previous = {ref: self.owners[ref] for ref in items if ref in self.owners}
        self._work_assigned(items=list(items), user=user, rule=rule, previous=previous,
                            assigned_on=assigned_on)

    @event("WorkAssigned")
    def _work_assigned(self, items: list[str], user: str, rule: str,
                       previous: dict[str, str], assigned_on: date) -> None:
        for ref in items:
            self.owners[ref] = user

    def unassign(self, items: list[str], reason: str, unassigned_on: date) -> None:
        if not items:
            raise ValidationError("name the items to unassign")
        unowned = [ref for ref in items if ref not in self.owners]
        if unowned:
            raise RuleViolation(f"not assigned to anyone: {', '.join(unowned)}")
        self._work_unassigned(items=list(items),
                              previous={ref: self.owners[ref] for ref in items},
                              reason=reason, unassigned_on=unassigned_on)

    @event("WorkUnassigned")
    def _work_unassigned(self, items: list[str], previous: dict[str, str], reason: str,
                         unassigned_on: date) -> None:
        for ref in items:
            self.owners.pop(ref, None)


class WorkItem(BillingAggregate):
    """One claim or one guarantor's account as a biller works it."""

    @staticmethod
    def create_id(kind: str, key: str) -> UUID:
        return stream_id("work", item_ref(kind, key))

    @event("Opened")
    def __init__(self, kind: str, key: str, account_no: str, claim_id: str) -> None:
        self.kind = kind
        self.key = key
        self.account_no = account_no
        self.claim_id = claim_id
        self.activities: list[dict[str, Any]] = []
        self.appeals: list[dict[str, Any]] = []
        self.letters: list[dict[str, Any]] = []

    @property
    def ref(self) -> str:
        return item_ref(self.kind, self.key)

    # -- calls and letters ------------------------------------------------------------------
    def log_activity(
        self, channel: str, outcome: str, note: str, worked_on: date,
        next_action_on: date | None, promise_on: date | None, promise_cents: int | None,
        reason: str, contact: str,
    ) -> None:
        if channel not in CHANNELS:
            raise ValidationError(f"channel must be {' or '.join(CHANNELS)}")
        allowed = OUTCOMES_FOR[self.kind]
        if outcome not in {o.value for o in Outcome}:
            raise ValidationError(
                f"outcome must be one of {', '.join(o.value for o in allowed)}")
        if outcome not in allowed:
            raise RuleViolation(
                f"{outcome} is not an outcome for {'an' if self.kind == 'account' else 'a'} "
                f"{self.kind}; use one of {', '.join(o.value for o in allowed)}")
        if outcome == Outcome.PROMISE_TO_PAY:
            if promise_on is None or promise_cents is None:
                raise ValidationError("a promise to pay needs the date and the amount promised")
            if promise_cents <= 0:
                raise ValidationError("the amount promised must be positive")
            if not worked_on <= promise_on <= worked_on + timedelta(days=MAX_TICKLER_DAYS):
                raise ValidationError(
                    f"the promised date must be between {worked_on} and "
                    f"{worked_on + timedelta(days=MAX_TICKLER_DAYS)}")
        elif promise_on is not None or promise_cents is not None:
            raise ValidationError("a date and amount promised go with promise-to-pay only")
        if outcome == Outcome.PAYER_DENIED and not reason.strip():
            raise ValidationError("say why the payer denied it (e.g. CO-197 no authorization)")
        if next_action_on is not None and not (
                worked_on <= next_action_on <= worked_on + timedelta(days=MAX_TICKLER_DAYS)):
            raise ValidationError(
                f"the next action date must be between {worked_on} and "
                f"{worked_on + timedelta(days=MAX_TICKLER_DAYS)}")
        self._activity_logged(
            activity_id=f"{self.key}-{len(self.activities) + 1}", channel=channel,
            outcome=outcome, note=note.strip(), worked_on=worked_on,
            next_action_on=next_action_on, promise_on=promise_on, promise_cents=promise_cents,
            reason=reason.strip(), contact=contact.strip())

    @event("ActivityLogged")
    def _activity_logged(
        self, activity_id: str, channel: str, outcome: str, note: str, worked_on: date,
        next_action_on: date | None, promise_on: date | None, promise_cents: int | None,
        reason: str, contact: str,
    ) -> None:
        self.activities.append({
            "activity_id": activity_id, "channel": channel, "outcome": outcome, "note": note,
            "worked_on": worked_on, "next_action_on": next_action_on,
            "promise_on": promise_on, "promise_cents": promise_cents, "reason": reason})

    # -- appeals ------------------------------------------------------------------------------
    @property
    def pending_appeal(self) -> dict[str, Any] | None:
        pending = [a for a in self.appeals if a["outcome"] is None]
        return pending[-1] if pending else None

    @property
    def last_appeal(self) -> dict[str, Any] | None:
        return self.appeals[-1] if self.appeals else None

    def file_appeal(
        self, level: str, argument: str, filed_on: date, denied_on: date, deadline: date,
        deadline_basis: str, denials: list[dict[str, Any]],
    ) -> str:
        if self.kind != "claim":
            raise RuleViolation("appeals are filed on claims")
        if level not in APPEAL_LEVELS:
            raise ValidationError(f"appeal level must be one of {', '.join(APPEAL_LEVELS)}")
        if not argument.strip():
            raise ValidationError("an appeal needs the biller's argument")
        pending = self.pending_appeal
        if pending is not None:
            raise RuleViolation(
                f"claim {self.key} has a {pending['level']} appeal pending since "
                f"{pending['filed_on']}; record its decision first")
        if any(a["level"] == level for a in self.appeals):
            raise RuleViolation(f"claim {self.key} was already appealed at level {level}")
        if filed_on > deadline:
            raise RuleViolation(
                f"the appeal window closed on {deadline} ({deadline_basis}); it cannot be "
                "filed now")
        if not denials:
            raise RuleViolation(f"claim {self.key} has no denial to appeal")
        appeal_id = f"{self.key}-A{len(self.appeals) + 1}"
        self._appeal_filed(appeal_id=appeal_id, level=level, argument=argument.strip(),
                           filed_on=filed_on, denied_on=denied_on, deadline=deadline,
                           deadline_basis=deadline_basis, denials=denials)
        return appeal_id

    @event("AppealFiled")
    def _appeal_filed(
        self, appeal_id: str, level: str, argument: str, filed_on: date, denied_on: date,
        deadline: date, deadline_basis: str, denials: list[dict[str, Any]],
    ) -> None:
        self.appeals.append({
            "appeal_id": appeal_id, "level": level, "argument": argument,
            "filed_on": filed_on, "denied_on": denied_on, "deadline": deadline,
            "deadline_basis": deadline_basis, "denials": [dict(d) for d in denials],
            "letter": None, "outcome": None, "decided_on": None})

    def record_appeal_letter(self, text: str, sha256: str, generated_on: date) -> None:
        appeal = self.last_appeal
        if appeal is None:
            raise RuleViolation(f"claim {self.key} has no appeal: file one first")
        if appeal["letter"] is not None and appeal["letter"]["sha256"] == sha256:
            raise RuleViolation(f"appeal {appeal['appeal_id']} already has this very letter")
        self._appeal_letter_generated(appeal_id=appeal["appeal_id"], text=text, sha256=sha256,
                                      generated_on=generated_on)

    @event("AppealLetterGenerated")
    def _appeal_letter_generated(self, appeal_id: str, text: str, sha256: str,
                                 generated_on: date) -> None:
        for appeal in self.appeals:
            if appeal["appeal_id"] == appeal_id:
                appeal["letter"] = {"text": text, "sha256": sha256,
                                    "generated_on": generated_on}

    def decide_appeal(self, outcome: str, decided_on: date, note: str) -> str:
        if outcome not in APPEAL_OUTCOMES:
            raise ValidationError(f"appeal outcome must be one of {', '.join(APPEAL_OUTCOMES)}")
        appeal = self.pending_appeal
        if appeal is None:
            raise RuleViolation(f"claim {self.key} has no appeal pending")
        if decided_on < appeal["filed_on"]:
            raise ValidationError(f"the decision cannot predate the appeal ({appeal['filed_on']})")
        self._appeal_decided(appeal_id=appeal["appeal_id"], outcome=outcome,
                             decided_on=decided_on, note=note.strip())
        return str(appeal["appeal_id"])

    @event("AppealDecided")
    def _appeal_decided(self, appeal_id: str, outcome: str, decided_on: date,
                        note: str) -> None:
        for appeal in self.appeals:
            if appeal["appeal_id"] == appeal_id:
                appeal["outcome"] = outcome
                appeal["decided_on"] = decided_on

    # -- patient follow-up letters ---------------------------------------------------------------
    def issue_letter(self, letter_kind: str, text: str, sha256: str, issued_on: date,
                     dunning_level: int, balance_cents: int, statement_id: str) -> str:
        if self.kind != "account":
            raise RuleViolation("follow-up letters go to a guarantor's account")
        if letter_kind not in LETTER_KINDS:
            raise ValidationError(f"letter must be one of {', '.join(LETTER_KINDS)}")
        if any(x["kind"] == letter_kind and x["statement_id"] == statement_id
               for x in self.letters):
            raise RuleViolation(
                f"a {letter_kind} letter for statement {statement_id} was already issued")
        letter_id = f"{self.key}-L{len(self.letters) + 1}"
        self._letter_issued(letter_id=letter_id, letter_kind=letter_kind, text=text,
                            sha256=sha256, issued_on=issued_on, dunning_level=dunning_level,
                            balance_cents=balance_cents, statement_id=statement_id)
        return letter_id

    @event("FollowUpLetterIssued")
    def _letter_issued(self, letter_id: str, letter_kind: str, text: str, sha256: str,
                       issued_on: date, dunning_level: int, balance_cents: int,
                       statement_id: str) -> None:
        self.letters.append({
            "letter_id": letter_id, "kind": letter_kind, "text": text, "sha256": sha256,
            "issued_on": issued_on, "dunning_level": dunning_level,
            "balance_cents": balance_cents, "statement_id": statement_id})

    def letter(self, letter_id: str) -> dict[str, Any]:
        for letter in self.letters:
            if letter["letter_id"] == letter_id:
                return letter
        raise RuleViolation(f"account {self.key} has no letter {letter_id}")
