"""Follow-up on a work item: log a call or letter with its outcome; assign the item."""

from __future__ import annotations

from typing import Any, ClassVar

from domain.follow_up import CHANNELS, OUTCOMES_FOR
from tui.dialogs.form import Field, FormDialog


def outcome_choices(kind: str) -> list[tuple[str, str]]:
    """The outcomes that fit the item: the guarantor's for an account, the payer's for a
    claim."""
    return [(o.value.replace("-", " "), o.value) for o in OUTCOMES_FOR.get(kind, ())]


class FollowUpDialog(FormDialog):
    """Context: ``item`` (claim:ID / account:NO) and ``kind``."""

    TITLE_TEXT = "Log a call or letter"
    HINT = ("Promise to pay: date and amount. Payer denied: the reason. Empty next date: "
            "the usual wait for the outcome.")
    FIELDS: ClassVar[list[Field]] = [
        Field("channel", "Channel", "choice", "call",
              choices=tuple((c, c) for c in CHANNELS)),
        Field("outcome", "Outcome", "choice"),
        Field("note", "Note", required=False),
        Field("next_action_on", "Next action on", "date", required=False),
        Field("promise_on", "Promised date", "date", required=False),
        Field("promise_cents", "Promised amount", "money", required=False),
        Field("reason", "Denial reason", required=False),
        Field("contact", "Spoke with", required=False),
    ]

    def perform(self, values: dict[str, Any]) -> Any:
        return self.billing.ledger.log_follow_up(
            self.context["item"], values["channel"], values["outcome"],
            note=values["note"] or "", next_action_on=values["next_action_on"],
            promise_on=values["promise_on"], promise_cents=values["promise_cents"],
            reason=values["reason"] or "", contact=values["contact"] or "")


class AssignDialog(FormDialog):
    """Context: ``items`` (the refs to give to one biller). Supervisors only."""

    TITLE_TEXT = "Assign to a biller"
    HINT = "The biller's user name in this ledger."
    FIELDS: ClassVar[list[Field]] = [Field("user", "Biller")]

    def perform(self, values: dict[str, Any]) -> Any:
        return self.billing.ledger.assign_work(self.context["items"], values["user"])
