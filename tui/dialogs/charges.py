"""Charge entry: open a visit, then enter its lines with a chargemaster code lookup."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on, work
from textual.widgets import Input, Static

from tui.dialogs.form import TODAY, Field, FormDialog
from tui.formatting import usd

LOOKUP_LIMIT = 4


class OpenVisitDialog(FormDialog):
    TITLE_TEXT = "New visit (encounter)"
    HINT = "Diagnoses: ICD-10-CM codes separated by commas, in pointer order."
    FIELDS: ClassVar[list[Field]] = [
        Field("service_date", "Date of service", "date", TODAY),
        Field("billing_npi", "Billing NPI"),
        Field("rendering_npi", "Rendering NPI", required=False),
        Field("place_of_service", "Place of service", default="11"),
        Field("diagnoses", "Diagnoses", "list", placeholder="I10, R07.89"),
        Field("prior_authorization", "Prior auth", required=False),
    ]

    def perform(self, values: dict[str, Any]) -> Any:
        return self.billing.ledger.open_encounter(
            self.context["account_no"], values["service_date"],
            billing_npi=values["billing_npi"], rendering_npi=values["rendering_npi"] or "",
            place_of_service=values["place_of_service"], diagnoses=values["diagnoses"],
            prior_authorization=values["prior_authorization"] or "")


class EnterChargeDialog(FormDialog):
    TITLE_TEXT = "Enter charge"
    HINT = "Type a code: matching chargemaster prices show below."
    FIELDS: ClassVar[list[Field]] = [
        Field("encounter_id", "Encounter", "choice"),
        Field("code", "Code (CPT/HCPCS)", placeholder="99214"),
        Field("modifiers", "Modifiers", "list", required=False, placeholder="25"),
        Field("units", "Units", default="1"),
        Field("pointers", "Dx pointers", "ints", default="1"),
    ]

    def on_mount(self) -> None:
        self.lookup("")

    @on(Input.Changed, "#f-code")
    def _code_changed(self, event: Input.Changed) -> None:
        self.lookup(event.value)

    @work(thread=True, exclusive=True, group="lookup", exit_on_error=False)
    def lookup(self, text: str) -> None:
        """Chargemaster rows whose code or description matches what was typed."""
        needle = text.strip().upper()
        chargemaster = self.billing.ledger.chargemaster()
        as_of = self.billing.as_of
        found = []
        for code in sorted(chargemaster.prices):
            price = chargemaster.price_on(code, as_of)
            if price is None:
                continue
            if needle and needle not in code and needle not in price[1].upper():
                continue
            found.append(f"{code}  {usd(price[0])}  {price[1]}")
            if len(found) == LOOKUP_LIMIT:
                break
        shown = "\n".join(found) or f"no chargemaster code matches {text!r}"
        self.app.call_from_thread(self.query_one("#hint", Static).update, shown)

    def perform(self, values: dict[str, Any]) -> Any:
        return self.billing.ledger.enter_charge(
            values["encounter_id"], values["code"], modifiers=values["modifiers"] or [],
            units=values["units"], pointers=values["pointers"])
