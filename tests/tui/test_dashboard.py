"""`a`: the aging dashboard shows `queries.aging` to the cent, with a bar per bucket."""

from __future__ import annotations

from textual.widgets import DataTable

from domain.money import Cents, format_usd
from tests.tui.conftest import Desk, screen_text, settle
from tui.screens.dashboard import BUCKETS
from tui.widgets.bar_chart import BarChart, cells


def usd(cents: int) -> str:
    return format_usd(Cents(cents))


async def test_every_bucket_and_the_total_equal_the_aging_report(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a")
        await settle(pilot)
        report = desk.queries.aging(as_of=app.as_of, basis="dos", by="payer")
        table = app.screen.query_one("#aging-table", DataTable)
        for name in BUCKETS:
            row = [str(c).strip() for c in table.get_row(name)]
            bucket = report["buckets"][name]
            assert row == [name, usd(bucket["insurance_cents"]), usd(bucket["patient_cents"]),
                           usd(bucket["agency_cents"])]
        assert str(table.get_row("total")[1]).strip() == usd(report["total_cents"])
        text = screen_text(app)
        assert f"A/R total {usd(report['total_cents'])}" in text
        assert report["total_cents"] == 30000  # the fixed desk: $200 insurance, $100 patient


async def test_the_by_payer_table_has_one_row_per_group_of_the_report(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a")
        await settle(pilot)
        report = desk.queries.aging(as_of=app.as_of, by="payer")
        table = app.screen.query_one("#by-payer", DataTable)
        assert table.row_count == len(report["by"])
        firsts = {str(table.get_row_at(i)[0]): str(table.get_row_at(i)[1]).strip()
                  for i in range(table.row_count)}
        assert firsts == {g["payer_id"]: usd(g["total_cents"]) for g in report["by"]}


async def test_b_and_y_switch_the_basis_and_the_grouping(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a", "b")
        await settle(pilot)
        assert "basis billed" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        table = app.screen.query_one("#by-payer", DataTable)
        assert str(table.ordered_columns[0].label) == "Plan"
        report = desk.queries.aging(as_of=app.as_of, basis="billed", by="plan")
        assert f"A/R total {usd(report['total_cents'])}" in screen_text(app)


async def test_the_chart_draws_one_bar_per_bucket_in_proportion(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a")
        await settle(pilot)
        chart = app.screen.query_one(BarChart)
        assert [bar.label for bar in chart.bars] == list(BUCKETS)
        text = screen_text(app)
        assert "█ insurance" in text
        assert "▒ patient" in text


async def test_m_charts_collections_per_month_from_the_query(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a")
        await settle(pilot)
        assert "Collections per month" not in screen_text(app)
        await pilot.press("m")
        await settle(pilot)
        answer = desk.queries.collections_by_month(app.as_of, months=12)
        chart = app.screen.query_one("#collections", BarChart)
        assert [(b.label, b.first, b.second, b.figure) for b in chart.bars] == [
            (m["month"], m["insurance_cents"], m["patient_cents"], usd(m["payments_cents"]))
            for m in answer["months"]]
        text = screen_text(app)
        # The fixed desk: the primary paid $80.00 on 2025-02-01, nobody else paid.
        assert "Collections per month · $80.00" in text
        assert "█ insurance  ▒ patient" in text.splitlines()[-2]
        (february,) = [line for line in text.splitlines() if "2025-02" in line]
        assert "█" in february and "$80.00" in february
        assert "2025-03" in text and "2024-04" in text
        await pilot.press("m")
        await settle(pilot)
        assert "Collections per month" not in screen_text(app)
        assert app.screen.query_one("#by-payer", DataTable).row_count > 0


def test_bar_cells_scale_to_the_widest_bar_in_eighths() -> None:
    assert cells(100, 100, 10) == (10, 0)
    assert cells(50, 100, 10) == (5, 0)
    assert cells(15, 100, 10) == (1, 4)
    assert cells(1, 100, 10) == (0, 1)
    assert cells(0, 100, 10) == (0, 0)
    assert cells(5, 0, 10) == (0, 0)
