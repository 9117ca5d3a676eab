"""Front-desk forms: register a patient, add coverage, reorder coverage."""

from __future__ import annotations

from typing import Any, ClassVar

from tui.dialogs.form import Field, FormDialog


class RegisterPatientDialog(FormDialog):
    TITLE_TEXT = "Register patient"
    FIELDS: ClassVar[list[Field]] = [
        Field("last_name", "Last name"),
        Field("first_name", "First name"),
        Field("birth_date", "Birth date", "date"),
        Field("sex", "Sex", "choice", "U", choices=(("Female", "F"), ("Male", "M"),
                                                    ("Unknown", "U"))),
        Field("line1", "Address", required=False),
        Field("city", "City", required=False),
        Field("state", "State", required=False, placeholder="IL"),
        Field("zip", "ZIP", required=False, placeholder="62704"),
        Field("phone", "Phone", required=False),
    ]

    def perform(self, values: dict[str, Any]) -> Any:
        address = {k: values[k] or "" for k in ("line1", "city", "state", "zip")}
        return self.billing.ledger.register_patient(
            values["last_name"], values["first_name"], values["birth_date"], values["sex"],
            address={k: v for k, v in address.items() if v} or None,
            phone=values["phone"] or "")


class AddCoverageDialog(FormDialog):
    TITLE_TEXT = "Add coverage"
    HINT = "Order: P primary, S secondary, T tertiary; empty adds it last."
    FIELDS: ClassVar[list[Field]] = [
        Field("payer_id", "Payer id", placeholder="12345"),
        Field("plan_id", "Plan id"),
        Field("member_id", "Member id"),
        Field("group_number", "Group number", required=False),
        Field("effective_on", "Effective on", "date"),
        Field("terminates_on", "Terminates on", "date", required=False),
        Field("order", "Order", "choice", required=False,
              choices=(("Primary", "P"), ("Secondary", "S"), ("Tertiary", "T"))),
        Field("relationship", "Relationship", "choice", "18",
              choices=(("Self (18)", "18"), ("Spouse (01)", "01"), ("Child (19)", "19"),
                       ("Other (G8)", "G8"))),
        Field("subscriber_last", "Subscriber last", required=False),
        Field("subscriber_first", "Subscriber first", required=False),
    ]

    def perform(self, values: dict[str, Any]) -> Any:
        subscriber = None
        if values["relationship"] != "18":
            subscriber = {"last_name": values["subscriber_last"] or "",
                          "first_name": values["subscriber_first"] or ""}
        return self.billing.ledger.add_coverage(
            self.context["account_no"], values["payer_id"].upper(), values["plan_id"].upper(),
            values["member_id"], group_number=values["group_number"] or "",
            relationship=values["relationship"], subscriber=subscriber,
            effective_on=values["effective_on"], terminates_on=values["terminates_on"],
            order=values["order"])


class ReorderCoverageDialog(FormDialog):
    TITLE_TEXT = "Reorder coverage"
    HINT = "Policy ids in the new order, primary first, separated by commas."
    FIELDS: ClassVar[list[Field]] = [
        Field("policy_ids", "Policies in order", "list"),
        Field("reason", "Reason"),
    ]

    def perform(self, values: dict[str, Any]) -> Any:
        self.billing.ledger.reorder_coverage(
            self.context["account_no"], values["policy_ids"], values["reason"])
        return True
