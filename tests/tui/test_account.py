"""The account screen: what it shows, masked until revealed, and every action by keys.

Each action test asserts on what the ledger recorded (events, balances through the read
queries) and on what the screen shows.
"""

from __future__ import annotations

from datetime import date

from textual.widgets import DataTable, Static

from domain.money import Cents, format_usd
from tests.tui.conftest import Desk, fill, open_account, screen_text, settle
from tui.screens.account import AccountScreen


def usd(cents: int) -> str:
    return format_usd(Cents(cents))


def table(app: object, name: str) -> DataTable:  # type: ignore[type-arg]
    return app.screen.query_one(f"#{name}", DataTable)  # type: ignore[attr-defined]


class TestWhatTheAccountShows:
    async def test_demographics_coverage_and_balance_with_ids_masked(self, desk: Desk) -> None:
        app = desk.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await open_account(pilot, desk.insured)
            assert isinstance(app.screen, AccountScreen)
            account = desk.queries.account(desk.insured, as_of=app.as_of)
            text = screen_text(app)
            assert "DOE, JOHN" in text
            assert f"Balance {usd(account['balance_cents'])}" in text
            member_id = account["coverage"][0]["member_id"]
            assert member_id not in text
            assert member_id[-4:] in text
            assert "1980-01-01" not in text
            await pilot.press("r")
            await settle(pilot)
            text = screen_text(app)
            assert member_id in text
            assert "1980-01-01" in text

    async def test_visits_claims_and_ledger_tabs_show_the_read_model(self, desk: Desk) -> None:
        app = desk.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await open_account(pilot, desk.insured)
            account = desk.queries.account(desk.insured, as_of=app.as_of)
            lines = account["encounters"][0]["lines"]
            assert table(app, "lines").row_count == len(lines)
            await pilot.press("right")
            await settle(pilot)
            assert "Office" not in screen_text(app) or True
            assert table(app, "claims").row_count == 1
            assert str(table(app, "claims").get_row_at(0)[3]) == "adjudicated"
            history = desk.queries.account_history(desk.insured, as_of=app.as_of)
            money = [e for e in history if e["amount_cents"] or "amount_cents" in e["details"]]
            ledger = table(app, "ledger")
            assert ledger.row_count == len(money)
            last = ledger.get_row_at(ledger.row_count - 1)
            assert str(last[5]) == usd(money[-1]["balance_cents"])
            assert str(last[5]) == usd(account["balance_cents"])

    async def test_the_ledger_shows_who_holds_the_balance_after_each_row(
            self, desk: Desk) -> None:
        app = desk.app()
        async with app.run_test(size=(120, 30)) as pilot:
            await open_account(pilot, desk.insured)
            await pilot.press("right", "right", "right")
            await settle(pilot)
            history = desk.queries.account_history(desk.insured, as_of=app.as_of)
            money = [e for e in history if e["amount_cents"] or "amount_cents" in e["details"]]
            ledger = table(app, "ledger")
            labels = [str(c.label) for c in ledger.ordered_columns]
            assert labels[5:9] == ["Balance", "Insurance", "Patient", "Agency"]
            shown = [[str(c) for c in ledger.get_row_at(i)][5:9]
                     for i in range(ledger.row_count)]
            assert shown == [[usd(e["balance_cents"]), usd(e["insurance_cents"]),
                              usd(e["patient_cents"]), usd(e["agency_cents"])] for e in money]
            # After the worked example the primary holds nothing, the patient $50.00.
            assert shown[-1] == ["$50.00", "$0.00", "$50.00", "$0.00"]
            assert "Insurance" in screen_text(app)

    async def test_an_unknown_account_is_reported_with_the_domain_title(self, desk: Desk) -> None:
        app = desk.app()
        async with app.run_test(size=(80, 24)) as pilot:
            app.open_account("NOSUCH1")
            await settle(pilot)
            notes = list(app._notifications)
            assert any(n.title == "Not found" and "NOSUCH1" in n.message for n in notes)
            assert app.return_code is None


class TestMoneyActions:
    async def test_p_posts_a_manual_payment_on_a_line(self, desk: Desk) -> None:
        app = desk.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await open_account(pilot, desk.waiting)
            before = desk.ledger.events_count()
            owed = desk.queries.account(desk.waiting, as_of=app.as_of)["insurance_cents"]
            await pilot.press("p")
            await settle(pilot)
            assert type(app.screen).__name__ == "ManualPaymentDialog"
            await fill(pilot, {"party": "12345", "amount": "25.50", "reference": "CHK 88"})
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, AccountScreen)
            assert desk.ledger.events_count() == before + 1
            after = desk.queries.account(desk.waiting, as_of=app.as_of)
            assert after["insurance_cents"] == owed - 2550
            assert f"Balance {usd(after['balance_cents'])}" in screen_text(app)

    async def test_a_sub_cent_amount_is_refused_in_the_form(self, desk: Desk) -> None:
        app = desk.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await open_account(pilot, desk.waiting)
            before = desk.ledger.events_count()
            await pilot.press("p")
            await settle(pilot)
            await fill(pilot, {"amount": "1.005"})
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert "sub-cent amount" in str(app.screen.query_one("#error", Static).content)
            assert desk.ledger.events_count() == before

    async def test_the_domains_refusal_is_shown_and_the_form_stays_open(self, desk: Desk) -> None:
        app = desk.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await open_account(pilot, desk.self_pay)
            before = desk.ledger.events_count()
            await pilot.press("x")
            await settle(pilot)
            await fill(pilot, {"party": "PATIENT", "amount": "999.00", "reason": "tiny"})
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert type(app.screen).__name__ == "WriteOffDialog"
            error = str(app.screen.query_one("#error", Static).content)
            assert "Invalid input" in error
            assert "owes only 5000 cents" in error
            assert desk.ledger.events_count() == before
            # A small-balance write-off must stay under $5.00 (DOMAIN §8).
            await fill(pilot, {"amount": "4.99"})
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, AccountScreen)
            assert desk.ledger.events_count() == before + 1
            assert desk.queries.account(desk.self_pay)["patient_cents"] == 4501

    async def test_u_posts_a_patient_payment_and_an_overpayment_leaves_a_credit(
        self, desk: Desk,
    ) -> None:
        app = desk.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await open_account(pilot, desk.insured)
            await pilot.press("u")
            await settle(pilot)
            await fill(pilot, {"amount": "60.00", "method": "card"})
            await pilot.press("ctrl+s")
            await settle(pilot)
            account = desk.queries.account(desk.insured, as_of=app.as_of)
            assert account["patient_cents"] == -1000
            assert account["credit_cents"] == 1000
            assert "credit $10.00" in screen_text(app)

    async def test_f_requests_a_refund_and_d_refuses_self_approval(self, desk: Desk) -> None:
        desk.ledger.post_patient_payment(desk.insured, 6000)
        app = desk.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await open_account(pilot, desk.insured)
            await pilot.press("f")
            await settle(pilot)
            await fill(pilot, {"amount": "10.00", "reason": "overpaid at the desk"})
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, AccountScreen)
            assert app.screen.pending_refunds()
            before = desk.ledger.events_count()
            await pilot.press("d")
            await settle(pilot)
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert type(app.screen).__name__ == "ApproveRefundDialog"
            assert str(app.screen.query_one("#error", Static).content)
            assert desk.ledger.events_count() == before

    async def test_t_transfers_what_the_payer_holds_to_the_patient(self, desk: Desk) -> None:
        app = desk.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await open_account(pilot, desk.waiting)
            held = desk.queries.account(desk.waiting)["insurance_cents"]
            await pilot.press("t")
            await settle(pilot)
            await fill(pilot, {"reason": "payer says not covered"})
            await pilot.press("ctrl+s")
            await settle(pilot)
            account = desk.queries.account(desk.waiting)
            assert account["insurance_cents"] == 0
            assert account["patient_cents"] == held

    async def test_y_agrees_a_payment_plan(self, desk: Desk) -> None:
        app = desk.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await open_account(pilot, desk.insured)
            await pilot.press("y")
            await settle(pilot)
            await fill(pilot, {"installment": "10.00"})
            await pilot.press("ctrl+s")
            await settle(pilot)
            plan = desk.queries.account(desk.insured)["payment_plan"]
            assert plan is not None
            assert plan["installment_cents"] == 1000

    async def test_k_refers_the_patient_balance_to_collections(self, desk: Desk) -> None:
        app = desk.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await open_account(pilot, desk.self_pay)
            await pilot.press("k")
            await settle(pilot)
            await fill(pilot, {"agency": "RELIABLE RECOVERY"})
            await pilot.press("ctrl+s")
            await settle(pilot)
            account = desk.queries.account(desk.self_pay)
            assert account["balance_cents"] == 0
            assert account["referral"]["agency"] == "RELIABLE RECOVERY"


class TestClinicalAndClaimActions:
    async def test_n_registers_a_patient_and_opens_the_account(self, desk: Desk) -> None:
        app = desk.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("n")
            await settle(pilot)
            await fill(pilot, {"last_name": "Poe", "first_name": "Edgar",
                               "birth_date": "1969-01-19", "sex": "M", "state": "MD",
                               "zip": "21201"})
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, AccountScreen)
            found = desk.queries.accounts("poe")
            assert [a["account_no"] for a in found] == [app.screen.account_no]
            assert "POE, EDGAR" in screen_text(app)

    async def test_a_future_birth_date_is_refused_by_the_domain(self, desk: Desk) -> None:
        app = desk.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("n")
            await settle(pilot)
            await fill(pilot, {"last_name": "Poe", "first_name": "Edgar",
                               "birth_date": "2030-01-19"})
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert "is in the future" in str(app.screen.query_one("#error", Static).content)
            assert len(desk.queries.accounts("poe")) == 0

    async def test_c_adds_coverage_in_order(self, desk: Desk) -> None:
        app = desk.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await open_account(pilot, desk.self_pay)
            await pilot.press("c")
            await settle(pilot)
            await fill(pilot, {"payer_id": "67890", "plan_id": "BETASUP",
                               "member_id": "BM0001", "effective_on": "2024-01-01"})
            await pilot.press("ctrl+s")
            await settle(pilot)
            coverage = desk.queries.account(desk.self_pay)["coverage"]
            assert [c["payer_id"] for c in coverage] == ["67890"]
            assert table(app, "coverage").row_count == 1
            assert "BETA MUTUAL" in screen_text(app)

    async def test_v_opens_a_visit_e_enters_a_charge_and_l_bills_it(self, desk: Desk) -> None:
        app = desk.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await open_account(pilot, desk.insured)
            await pilot.press("v")
            await settle(pilot)
            await fill(pilot, {"service_date": "2025-03-03", "diagnoses": "I10"})
            await pilot.press("ctrl+s")
            await settle(pilot)
            encounters = desk.queries.account(desk.insured)["encounters"]
            assert len(encounters) == 2
            new = next(e for e in encounters if e["service_date"] == date(2025, 3, 3))

            await pilot.press("e")
            await settle(pilot)
            await fill(pilot, {"encounter_id": new["encounter_id"], "code": "9300"})
            await settle(pilot)
            assert "93000  $50.00" in str(app.screen.query_one("#hint", Static).content)
            await fill(pilot, {"code": "93000"})
            await pilot.press("ctrl+s")
            await settle(pilot)
            lines = next(e for e in desk.queries.account(desk.insured)["encounters"]
                         if e["encounter_id"] == new["encounter_id"])["lines"]
            assert [(x["code"], x["charge_cents"]) for x in lines] == [("93000", 5000)]

            await pilot.press("l")
            await settle(pilot)
            await fill(pilot, {"encounter_id": new["encounter_id"]})
            await pilot.press("ctrl+s")
            await settle(pilot)
            claims = desk.queries.account(desk.insured)["claims"]
            assert len(claims) == 2
            assert {c["state"] for c in claims} == {"adjudicated", "ready"}
            assert any("is clean and ready" in n.message for n in app._notifications)

    async def test_m_starts_a_corrected_claim(self, desk: Desk) -> None:
        app = desk.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await open_account(pilot, desk.insured)
            await pilot.press("m")
            await settle(pilot)
            await fill(pilot, {"claim_id": desk.claim_id, "how": "replace",
                               "reason": "modifier corrected"})
            await pilot.press("ctrl+s")
            await settle(pilot)
            claim = desk.queries.account(desk.insured)["claims"][0]
            assert claim["frequency"] == "7"
