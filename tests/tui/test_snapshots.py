"""Snapshots of the screens worth protecting, at 80x24 on the fixed desk as of 2025-03-10.

Review `--snapshot-update` diffs like code: a change here is a change billers will see.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Input

from tests.tui.conftest import Desk, settle

SIZE = (80, 24)


@pytest.fixture(autouse=True)
def no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Input, "cursor_blink", False)


def test_home_screen(desk: Desk, snap_compare: Any) -> None:
    assert snap_compare(desk.app(), terminal_size=SIZE)


def test_aging_dashboard(desk: Desk, snap_compare: Any) -> None:
    async def open_dashboard(pilot: Any) -> None:
        await pilot.press("a")
        await _wait_for_workers(pilot)

    assert snap_compare(desk.app(), terminal_size=SIZE, run_before=open_dashboard)


def test_account_ledger_tab(desk: Desk, snap_compare: Any) -> None:
    async def open_ledger_tab(pilot: Any) -> None:
        pilot.app.open_account(desk.insured)
        await _wait_for_workers(pilot)
        await pilot.press("right", "right", "right")
        await _wait_for_workers(pilot)

    assert snap_compare(desk.app(), terminal_size=SIZE, run_before=open_ledger_tab)


def test_manual_payment_form(desk: Desk, snap_compare: Any) -> None:
    async def open_form(pilot: Any) -> None:
        pilot.app.open_account(desk.waiting)
        await _wait_for_workers(pilot)
        await pilot.press("p")
        await _wait_for_workers(pilot)

    assert snap_compare(desk.app(), terminal_size=SIZE, run_before=open_form)


async def _wait_for_workers(pilot: Any) -> None:
    await settle(pilot)
