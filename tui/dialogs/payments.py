"""Money by hand: payments, transfers, write-offs and refunds. The ledger checks every rule."""

from __future__ import annotations

from typing import Any, ClassVar

from tui.dialogs.form import TODAY, Field, FormDialog

METHODS = (("Check", "check"), ("Cash", "cash"), ("Card", "card"), ("ACH", "ach"),
           ("Other", "other"))
WRITE_OFF_KINDS = (("Small balance", "small-balance"), ("Administrative", "administrative"),
                   ("Denial write-off", "denial-write-off"), ("Timely filing", "timely-filing"),
                   ("Charity", "charity"), ("Discount", "discount"), ("Bad debt", "bad-debt"))


def split_line(value: str) -> tuple[str, str]:
    """A line choice is 'ENCOUNTER|LINE'."""
    encounter_id, _, line_id = value.partition("|")
    return encounter_id, line_id


class ManualPaymentDialog(FormDialog):
    TITLE_TEXT = "Post manual payment"
    HINT = "Against one charge line: a paper EOB, or a check with no ERA."
    FIELDS: ClassVar[list[Field]] = [
        Field("line", "Charge line", "choice"),
        Field("party", "Paid by", "choice"),
        Field("amount", "Amount", "money"),
        Field("paid_on", "Paid on", "date", TODAY),
        Field("method", "Method", "choice", "check", choices=METHODS),
        Field("reference", "Reference", required=False, placeholder="check number"),
    ]

    def perform(self, values: dict[str, Any]) -> Any:
        encounter_id, line_id = split_line(values["line"])
        return self.billing.ledger.post_manual_payment(
            encounter_id, line_id, values["party"], values["amount"], paid_on=values["paid_on"],
            method=values["method"], reference=values["reference"] or "")


class PatientPaymentDialog(FormDialog):
    TITLE_TEXT = "Post patient payment"
    HINT = "Applied to the oldest patient balances of the guarantor first."
    FIELDS: ClassVar[list[Field]] = [
        Field("amount", "Amount", "money"),
        Field("paid_on", "Paid on", "date", TODAY),
        Field("method", "Method", "choice", "cash", choices=METHODS),
        Field("reference", "Reference", required=False),
    ]

    def perform(self, values: dict[str, Any]) -> Any:
        return self.billing.ledger.post_patient_payment(
            self.context["guarantor_account_no"], values["amount"], paid_on=values["paid_on"],
            method=values["method"], reference=values["reference"] or "")


class TransferToPatientDialog(FormDialog):
    TITLE_TEXT = "Transfer to patient"
    HINT = "Everything the payer still holds on the visit becomes the patient's."
    FIELDS: ClassVar[list[Field]] = [
        Field("encounter_id", "Encounter", "choice"),
        Field("from_party", "From payer", "choice"),
        Field("reason", "Reason", required=False),
    ]

    def perform(self, values: dict[str, Any]) -> Any:
        return self.billing.ledger.transfer_to_patient(
            values["encounter_id"], values["from_party"], values["reason"] or "")


class WriteOffDialog(FormDialog):
    TITLE_TEXT = "Write off"
    HINT = "Empty amount writes off all the party owes on the line."
    FIELDS: ClassVar[list[Field]] = [
        Field("line", "Charge line", "choice"),
        Field("party", "Owed by", "choice"),
        Field("kind", "Kind", "choice", "small-balance", choices=WRITE_OFF_KINDS),
        Field("amount", "Amount", "money", required=False),
        Field("reason", "Reason"),
    ]

    def perform(self, values: dict[str, Any]) -> Any:
        encounter_id, line_id = split_line(values["line"])
        return self.billing.ledger.write_off(
            encounter_id, line_id, values["party"], kind=values["kind"],
            reason=values["reason"], amount_cents=values["amount"])


class RequestRefundDialog(FormDialog):
    TITLE_TEXT = "Request refund"
    HINT = "Of a patient credit balance; a supervisor approves it."
    FIELDS: ClassVar[list[Field]] = [
        Field("amount", "Amount", "money"),
        Field("payee", "Payee", required=False),
        Field("reason", "Reason"),
    ]

    def perform(self, values: dict[str, Any]) -> Any:
        return self.billing.ledger.request_refund(
            self.context["guarantor_account_no"], values["amount"],
            payee=values["payee"] or "", reason=values["reason"])


class ApproveRefundDialog(FormDialog):
    TITLE_TEXT = "Approve or decline refund"
    FIELDS: ClassVar[list[Field]] = [
        Field("request_id", "Request", "choice"),
        Field("decision", "Decision", "choice", "approve",
              choices=(("Approve", "approve"), ("Decline", "decline"))),
        Field("reason", "Reason (decline)", required=False),
    ]

    def perform(self, values: dict[str, Any]) -> Any:
        ledger = self.billing.ledger
        account_no = self.context["guarantor_account_no"]
        if values["decision"] == "decline":
            ledger.decline_refund(account_no, values["request_id"], values["reason"] or "")
            return "declined"
        return ledger.approve_refund(account_no, values["request_id"])
