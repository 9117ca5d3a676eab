"""Patient-side collections: payment plans and referral to an agency."""

from __future__ import annotations

from typing import Any, ClassVar

from tui.dialogs.form import TODAY, Field, FormDialog


class PaymentPlanDialog(FormDialog):
    TITLE_TEXT = "Payment plan"
    HINT = "Empty total puts the whole patient balance on the plan."
    FIELDS: ClassVar[list[Field]] = [
        Field("installment", "Installment", "money"),
        Field("frequency_days", "Every (days)", "int", default="30"),
        Field("starts_on", "Starts on", "date", TODAY),
        Field("total", "Total", "money", required=False),
        Field("autopay_reference", "Autopay ref", required=False),
    ]

    def perform(self, values: dict[str, Any]) -> Any:
        return self.billing.ledger.agree_payment_plan(
            self.context["guarantor_account_no"], values["installment"],
            frequency_days=values["frequency_days"], starts_on=values["starts_on"],
            total_cents=values["total"], autopay_reference=values["autopay_reference"] or "")


class ReferToCollectionsDialog(FormDialog):
    TITLE_TEXT = "Refer to collections"
    HINT = "The patient balance moves to the agency and is written off as bad debt."
    FIELDS: ClassVar[list[Field]] = [
        Field("agency", "Agency"),
        Field("approved_by", "Approved by", required=False),
    ]

    def perform(self, values: dict[str, Any]) -> Any:
        return self.billing.ledger.refer_to_collections(
            self.context["guarantor_account_no"], values["agency"],
            approved_by=values["approved_by"] or None)
