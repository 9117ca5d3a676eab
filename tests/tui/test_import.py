"""`i`: pick 835 files, preview them as a dry run (nothing recorded), then post them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from textual.widgets import DataTable

from tests.builders import open_visit
from tests.tui.conftest import Desk, open_copy, screen_text, settle
from tui.screens.imports import ImportScreen, find_files


def era_for_a_new_claim(desk: Desk, folder: Path) -> tuple[str, Path]:
    """Bill a new visit, write it as an 837P, and let the payer sandbox answer with an 835."""
    cli = pytest.importorskip("tui.cli", exc_type=ImportError)
    visit = open_visit(desk.ledger, desk.waiting, service_date=date(2025, 3, 3))
    claim_id = desk.ledger.create_claim(visit.encounter_id)
    assert desk.ledger.scrub_claim(claim_id) == []
    desk.queries.close()
    desk.ledger.close()
    claim_file, era_file = folder / "batch.837", folder / "payer.835"
    for argv in (["claims", "submit", "--out", str(claim_file)],
                 ["sandbox", "adjudicate", str(claim_file), "--out", str(era_file),
                  "--paid-on", "2025-03-09"]):
        code = cli.main(["--db", str(desk.path), *argv])
        if code != 0:
            pytest.skip(f"claimdesk {argv[0]} is not ready in this tree (exit {code})")
    return claim_id, era_file


def reopen(desk: Desk) -> Desk:
    """The same ledger file, opened again after the CLI wrote to it."""
    return open_copy(desk, desk.path)


async def test_dry_run_records_nothing_then_post_adjudicates_the_claim(
    desk: Desk, tmp_path: Path,
) -> None:
    claim_id, era = era_for_a_new_claim(desk, tmp_path)
    desk = reopen(desk)
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, ImportScreen)
        await pilot.press(*str(tmp_path), "enter")
        await settle(pilot)
        assert app.screen.files == [era]
        before = desk.ledger.events_count()
        await pilot.press("d")
        await settle(pilot)
        assert desk.ledger.events_count() == before
        rows = app.screen.query_one("#preview", DataTable)
        claims = [str(rows.get_row_at(i)[1]) for i in range(rows.row_count)]
        assert claim_id in claims
        assert str(rows.get_row_at(0)[2]) == "posted"
        assert str(rows.get_row_at(0)[6]).startswith("dry run · 835 · 1 claims")
        assert "Dry run done" in screen_text(app)

        await pilot.press("p")
        await settle(pilot)
        assert desk.ledger.events_count() > before
        assert "Posted." in screen_text(app)
        state = {c["claim_id"]: c["state"] for c in desk.queries.account(desk.waiting)["claims"]}
        assert state[claim_id] == "adjudicated"
    desk.queries.close()
    desk.ledger.close()


async def test_post_asks_for_the_dry_run_first(desk: Desk, tmp_path: Path) -> None:
    bad = tmp_path / "garbage.835"
    bad.write_text("this is not X12")
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("i", *str(bad), "enter")
        await settle(pilot)
        before = desk.ledger.events_count()
        await pilot.press("p")
        await settle(pilot)
        assert "Preview first" in screen_text(app)
        assert desk.ledger.events_count() == before


async def test_a_refused_file_is_listed_with_its_reason(desk: Desk, tmp_path: Path) -> None:
    bad = tmp_path / "garbage.835"
    bad.write_text("ISA*00*broken~ST*835*0001~")
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("i", *str(bad), "enter")
        await settle(pilot)
        before = desk.ledger.events_count()
        await pilot.press("d")
        await settle(pilot)
        rows = app.screen.query_one("#preview", DataTable)
        first = rows.get_row_at(0)
        assert "REFUSED" in str(first[2]).upper()
        assert str(first[6])
        assert desk.ledger.events_count() == before


def test_a_folder_gives_its_835_looking_files(tmp_path: Path) -> None:
    for name in ("a.835", "b.txt", "c.pdf"):
        (tmp_path / name).write_text("x")
    assert [p.name for p in find_files(str(tmp_path))] == ["a.835", "b.txt"]
    assert [p.name for p in find_files(str(tmp_path / "*.pdf"))] == ["c.pdf"]
