"""Appeals of a denied claim: file one (its deadline comes from the payer's contract) and
record the payer's decision."""

from __future__ import annotations

from typing import Any, ClassVar

from domain.follow_up import APPEAL_LEVELS, APPEAL_OUTCOMES
from tui.dialogs.form import TODAY, Field, FormDialog


class AppealDialog(FormDialog):
    """Context: ``claim_id``."""

    TITLE_TEXT = "Appeal the denial"
    HINT = ("The deadline is the contract's appeal window from the denial; the letter is "
            "written from the claim, its denial codes and your argument (t).")
    FIELDS: ClassVar[list[Field]] = [
        Field("level", "Level", "choice", "reconsideration",
              choices=tuple((level.replace("-", " "), level) for level in APPEAL_LEVELS)),
        Field("argument", "Argument", placeholder="why the denial should be reversed"),
    ]

    def perform(self, values: dict[str, Any]) -> Any:
        return self.billing.ledger.file_appeal(self.context["claim_id"], values["level"],
                                               values["argument"])


class DecideAppealDialog(FormDialog):
    """Context: ``claim_id``."""

    TITLE_TEXT = "The payer's decision"
    HINT = "Overturned: the payer's corrected remittance brings the money."
    FIELDS: ClassVar[list[Field]] = [
        Field("outcome", "Outcome", "choice",
              choices=tuple((o.replace("-", " "), o) for o in APPEAL_OUTCOMES)),
        Field("decided_on", "Decided on", "date", TODAY),
        Field("note", "Note", required=False),
    ]

    def perform(self, values: dict[str, Any]) -> Any:
        return self.billing.ledger.decide_appeal(
            self.context["claim_id"], values["outcome"], decided_on=values["decided_on"],
            note=values["note"] or "")
