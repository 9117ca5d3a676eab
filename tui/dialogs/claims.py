"""Claim forms: create and scrub a claim, correct (replace) or resend one."""

from __future__ import annotations

from typing import Any, ClassVar

from tui.dialogs.form import Field, FormDialog


class CreateClaimDialog(FormDialog):
    TITLE_TEXT = "Create and scrub claim"
    HINT = "Bills every unbilled line of the visit to the payer (primary if empty)."
    FIELDS: ClassVar[list[Field]] = [
        Field("encounter_id", "Encounter", "choice"),
        Field("payer_id", "Payer id", required=False),
    ]

    def perform(self, values: dict[str, Any]) -> Any:
        ledger = self.billing.ledger
        claim_id = ledger.create_claim(values["encounter_id"], values["payer_id"] or None)
        problems = ledger.scrub_claim(claim_id)
        return {"claim_id": claim_id, "problems": problems}


class CorrectClaimDialog(FormDialog):
    TITLE_TEXT = "Correct claim"
    HINT = ("replace: a corrected claim (frequency 7) after adjudication; resend: a rejected "
            "claim goes out again as an original; void: frequency 8.")
    FIELDS: ClassVar[list[Field]] = [
        Field("claim_id", "Claim", "choice"),
        Field("how", "Correction", "choice", "replace",
              choices=(("Replace (freq 7)", "replace"), ("Resend rejected", "resend"),
                       ("Void (freq 8)", "void"))),
        Field("reason", "Reason"),
    ]

    def perform(self, values: dict[str, Any]) -> Any:
        ledger = self.billing.ledger
        claim_id, reason = values["claim_id"], values["reason"]
        if values["how"] == "resend":
            return {"claim_id": claim_id, "problems": ledger.resend_rejected(claim_id, reason)}
        if values["how"] == "void":
            ledger.start_void(claim_id, reason)
            return {"claim_id": claim_id, "problems": []}
        return {"claim_id": claim_id, "problems": ledger.start_replacement(claim_id, reason)}
