"""The account's action forms offer every visit, line and claim of the account, not only the
page the tables show: a payment or write-off on the oldest visit's line from the latest page,
a charge on a visit just opened while an earlier page is shown."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.builders import Visit, open_visit, register_patient
from tests.tui.conftest import Desk, fill, open_account, settle
from tests.tui.test_account_pages import caption, open_tab, rows
from tui.screens.account import AccountScreen


@pytest.fixture
def five(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> list[Visit]:
    """FIVE, FAY: five self-pay visits of $50 (Oct 1-5, 2024), nothing paid; pages of three
    visits, so the first two are not on the page the screen opens on."""
    account = register_patient(desk.ledger, last_name="FIVE", first_name="FAY", coverage=())
    visits = [open_visit(desk.ledger, account, charges=("93000",),
                         service_date=date(2024, 10, day), self_pay=True)
              for day in range(1, 6)]
    monkeypatch.setattr(AccountScreen, "page_size", 3)
    return visits


def line_balance(desk: Desk, visit: Visit) -> int:
    encounters = desk.queries.account(visit.account_no)["encounters"]
    return next(e for e in encounters
                if e["encounter_id"] == visit.encounter_id)["lines"][0]["balance_cents"]


def offered(app: Any, name: str) -> list[str]:
    """The values a form's choice field offers."""
    return [value for _, value in app.screen.choices[name]]


class TestFormsOfferTheWholeAccount:
    async def test_a_line_of_the_oldest_visit_is_paid_and_written_off_from_the_latest_page(
            self, desk: Desk, five: list[Visit]) -> None:
        oldest = five[0]
        choice = f"{oldest.encounter_id}|{oldest.line_ids[0]}"
        app = desk.app()
        async with app.run_test(size=(120, 30)) as pilot:
            await open_account(pilot, oldest.account_no)
            assert [row[0] for row in rows(app, "lines")] == [
                "2024-10-03", "2024-10-04", "2024-10-05"]

            await pilot.press("p")
            await settle(pilot)
            assert type(app.screen).__name__ == "ManualPaymentDialog"
            assert offered(app, "line") == [f"{v.encounter_id}|{v.line_ids[0]}" for v in five]
            label = dict((v, k) for k, v in app.screen.choices["line"])[choice]
            assert label == f"{oldest.line_ids[0]} 93000 $50.00"
            await fill(pilot, {"line": choice, "party": "PATIENT", "amount": "20.00"})
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, AccountScreen)
            assert line_balance(desk, oldest) == 3_000

            await pilot.press("x")
            await settle(pilot)
            assert type(app.screen).__name__ == "WriteOffDialog"
            # The form reads its choices afresh: the payment just posted shows in the label.
            assert f"{oldest.line_ids[0]} 93000 $30.00" in [
                k for k, _ in app.screen.choices["line"]]
            await fill(pilot, {"line": choice, "party": "PATIENT", "amount": "4.99",
                               "reason": "small balance"})
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, AccountScreen)
            assert line_balance(desk, oldest) == 2_501

    async def test_a_visit_just_opened_is_offered_for_a_charge_from_an_earlier_page(
            self, desk: Desk, five: list[Visit]) -> None:
        app = desk.app()
        async with app.run_test(size=(120, 30)) as pilot:
            await open_tab(pilot, five[0].account_no, 1)
            await pilot.press("left_square_bracket")
            await settle(pilot)
            assert caption(app, "lines").startswith("visits 1-2 of 5")

            await pilot.press("v")
            await settle(pilot)
            await fill(pilot, {"service_date": "2024-10-06", "diagnoses": "I10"})
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, AccountScreen)
            assert caption(app, "lines").startswith("visits 1-")   # still the earlier page
            new = desk.queries.account(five[0].account_no)["encounters"][-1]
            assert new["service_date"] == date(2024, 10, 6)

            await pilot.press("e")
            await settle(pilot)
            assert type(app.screen).__name__ == "EnterChargeDialog"
            assert offered(app, "encounter_id") == [
                *(v.encounter_id for v in five), new["encounter_id"]]
            await fill(pilot, {"encounter_id": new["encounter_id"], "code": "93000"})
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, AccountScreen)
            lines = desk.queries.account(five[0].account_no)["encounters"][-1]["lines"]
            assert [(x["code"], x["charge_cents"]) for x in lines] == [("93000", 5000)]
