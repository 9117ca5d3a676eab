"""`i`: a path the system cannot read is told on the import screen; the workstation stays up."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input, Static

from tests.tui.conftest import Desk, settle
from tui.screens.imports import ImportScreen


async def type_path(pilot: object, text: str) -> None:
    app = pilot.app  # type: ignore[attr-defined]
    app.screen.query_one("#paths", Input).value = text
    app.screen.query_one("#paths", Input).focus()
    await pilot.press("enter")  # type: ignore[attr-defined]
    await settle(pilot)


def status(app: object) -> str:
    return str(app.screen.query_one("#import-status", Static).render())  # type: ignore[attr-defined]


async def test_an_over_long_path_is_told_not_fatal(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("i")
        await settle(pilot)
        await type_path(pilot, "x" * 5000)
        assert app.is_running and app.return_code is None
        assert isinstance(app.screen, ImportScreen)
        assert "cannot read" in status(app) and "too long" in status(app)
        assert app.screen.files == []
        # The screen still works: a path that reads lists nothing, and says so.
        await type_path(pilot, "[/nowhere]")
        assert "no files at '[/nowhere]'" in status(app)


async def test_a_file_gone_before_the_dry_run_is_refused_on_its_row(
        desk: Desk, tmp_path: Path) -> None:
    era = tmp_path / "gone.835"
    era.write_text("ISA*")
    app = desk.app()
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("i")
        await settle(pilot)
        await type_path(pilot, str(era))
        era.unlink()
        await pilot.press("d")
        await settle(pilot)
        assert app.is_running and app.return_code is None
        row = app.screen.query_one("#preview", DataTable).get_row_at(0)
        assert str(row[2]) == "REFUSED"
        assert "cannot read" in str(row[6])
