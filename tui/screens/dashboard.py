"""`a`: the A/R aging dashboard. Every figure is the read model's (`report aging --json`)."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Static

from tui.formatting import ellipsize, usd
from tui.screens.base import BillingScreen
from tui.screens.shapes import first
from tui.widgets.bar_chart import Bar, BarChart

BUCKETS = ("0-30", "31-60", "61-90", "91-120", "121+")
BASES = ("dos", "billed", "statement")
GROUPINGS = ("payer", "plan")


def kpi_text(name: str, value: Any) -> str:
    """One KPI for people: cents as dollars, rates as they come from the read model."""
    label = name.replace("_cents", "").replace("_", " ")
    if name.endswith("_cents") and isinstance(value, int):
        return f"{label}: {usd(value)}"
    if isinstance(value, float):
        return f"{label}: {value:,.2f}"
    if isinstance(value, dict | list):
        return ""
    return f"{label}: {value}"


class DashboardScreen(BillingScreen):
    """Aging buckets insurance vs patient, by payer, KPIs and a chart of A/R by bucket."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("b", "next_basis", "Basis", tooltip="Age by date of service, first billed or "
                "first statement", id="aging.basis"),
        Binding("y", "next_grouping", "By payer/plan", tooltip="Group the lower table by payer "
                "or by plan", id="aging.by"),
        Binding("r", "refresh", "Refresh", tooltip="Read the figures again", id="aging.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.basis = BASES[0]
        self.by = GROUPINGS[0]
        self.aging: dict[str, Any] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading A/R aging…", id="aging-summary", classes="status")
        with Horizontal(id="upper"):
            yield DataTable(id="aging-table", cursor_type="row", show_cursor=False)
            yield BarChart(id="chart")
        with Horizontal(id="lower"):
            yield DataTable(id="by-payer", cursor_type="row", zebra_stripes=True)
            yield Static("", id="kpis")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#aging-table", DataTable).add_columns(
            "Bucket", "Insurance", "Patient")

    def reload(self) -> None:
        self.load()

    def action_refresh(self) -> None:
        self.load()

    def action_next_basis(self) -> None:
        self.basis = BASES[(BASES.index(self.basis) + 1) % len(BASES)]
        self.load()

    def action_next_grouping(self) -> None:
        self.by = GROUPINGS[(GROUPINGS.index(self.by) + 1) % len(GROUPINGS)]
        self.load()

    @work(thread=True, exclusive=True, group="aging", exit_on_error=False)
    def load(self) -> None:
        queries, as_of = self.billing.queries, self.billing.as_of
        aging = queries.aging(as_of=as_of, known_at=None, basis=self.basis, by=self.by)
        kpis = queries.kpis(as_of=as_of)
        self.app.call_from_thread(self._show, aging, kpis)

    def _show(self, aging: dict[str, Any], kpis: Any) -> None:
        self.aging = aging
        buckets = aging.get("buckets", {})
        self.query_one("#aging-summary", Static).update(
            f"A/R total {usd(aging.get('total_cents'))} · credits "
            f"{usd(aging.get('credit_cents'))} (apart) · as of {aging.get('as_of', '')} · "
            f"basis {aging.get('basis', self.basis)}")
        table = self.query_one("#aging-table", DataTable)
        table.clear()
        bars = []
        for name in BUCKETS:
            bucket = buckets.get(name, {})
            insurance = int(bucket.get("insurance_cents", 0))
            patient = int(bucket.get("patient_cents", 0))
            table.add_row(name, usd(insurance).rjust(13), usd(patient).rjust(13), key=name)
            figure = usd(bucket["total_cents"]) if "total_cents" in bucket else usd(insurance)
            bars.append(Bar(name, insurance, patient, figure))
        totals = aging.get("totals") or {}
        if totals:
            table.add_row("Total", usd(totals.get("insurance_cents")).rjust(13),
                          usd(totals.get("patient_cents")).rjust(13), key="total")
        table.add_row("All", usd(aging.get("total_cents")).rjust(13), "", key="all")
        chart = self.query_one(BarChart)
        chart.set_bars(bars)
        self._show_groups(aging.get("by") or [])
        self._show_kpis(kpis)

    def _show_groups(self, groups: list[dict[str, Any]]) -> None:
        table = self.query_one("#by-payer", DataTable)
        table.clear(columns=True)
        table.add_columns(self.by.title(), "Total", *BUCKETS)
        for group in groups:
            buckets = group.get("buckets", {})
            name = first(group, "name", "payer_name", "plan_name", "payer_id", "plan_id", "key")
            cells = []
            for bucket_name in BUCKETS:
                bucket = buckets.get(bucket_name, {})
                cells.append(usd(first(bucket, "total_cents", "insurance_cents", default=0)
                                 if isinstance(bucket, dict) else bucket))
            table.add_row(ellipsize(name, 18), usd(first(group, "total_cents", default=None)),
                          *cells)

    def _show_kpis(self, kpis: Any) -> None:
        lines = ["[b]KPIs[/b]"]
        if isinstance(kpis, dict):
            for name, value in kpis.items():
                if name in ("as_of",):
                    continue
                text = kpi_text(name, value)
                if text:
                    lines.append(ellipsize(text, 28))
        self.query_one("#kpis", Static).update("\n".join(lines))
