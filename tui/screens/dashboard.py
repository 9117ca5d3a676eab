"""`a`: the A/R aging dashboard. Every figure is the read model's (`report aging --json`).

`m` swaps the payer table for the chart of collections per month
(`queries.collections_by_month`), drawn with the same bar widget as A/R by bucket.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import ContentSwitcher, DataTable, Footer, Header, Static

from tui.formatting import day, ellipsize, usd
from tui.screens.base import BillingScreen
from tui.screens.shapes import first
from tui.widgets.bar_chart import Bar, BarChart
from tui.widgets.literal import escape
from tui.widgets.table import Table

BUCKETS = ("0-30", "31-60", "61-90", "91-120", "121+")
MONTHS = 12   # of collections in the chart: 12 bars, a title and a legend fit 80x24
BASES = ("dos", "billed", "statement")
GROUPINGS = ("payer", "plan")
# Which bucket column a group's balance sits in: a payer's is insurance.
COLUMN_OF = {"PATIENT": "patient_cents", "AGENCY": "agency_cents"}


# The KPIs that fit the panel at 80x24, in the words billers use; rates are percents.
KPIS = (("days_in_ar", "Days in A/R", ""), ("ar_over_90_pct", "A/R over 90", "%"),
        ("denial_rate", "Denial rate", "%"), ("denial_rate_dollars", "Denied $", "%"),
        ("gross_collection_rate", "Gross collect.", "%"),
        ("net_collection_rate", "Net collection", "%"),
        ("first_pass_acceptance_rate", "First-pass ok", "%"),
        ("clean_claim_rate", "Clean claims", "%"), ("net_ar_cents", "Net A/R", "$"))


def kpi_text(label: str, value: Any, unit: str) -> str:
    """One KPI line: 'Denial rate      12.5%'; a missing figure is an em dash."""
    if value is None:
        shown = "—"
    elif unit == "$":
        shown = usd(value)
    elif isinstance(value, float):
        shown = f"{value:,.1f}{unit}"
    else:
        shown = f"{value}{unit}"
    return f"{label:<15}{shown:>11}"


class DashboardScreen(BillingScreen):
    """Aging buckets insurance vs patient, by payer, KPIs and a chart of A/R by bucket."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("b", "next_basis", "Basis", tooltip="Age by date of service, first billed or "
                "first statement", id="aging.basis"),
        Binding("y", "next_grouping", "By payer/plan", tooltip="Group the lower table by payer "
                "or by plan", id="aging.by"),
        Binding("m", "toggle_collections", "Collections", tooltip="Collections per month "
                "chart, or back to the payer table", id="aging.collections"),
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
            yield Table(id="aging-table", cursor_type="row", show_cursor=False)
            yield BarChart(id="chart")
        with Horizontal(id="lower"):
            with ContentSwitcher(initial="by-payer", id="lower-left"):
                yield Table(id="by-payer", cursor_type="row", zebra_stripes=True)
                yield BarChart(id="collections")
            yield Static("", id="kpis")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#aging-table", DataTable).add_columns(
            "Bucket", "Insurance".rjust(11), "Patient".rjust(11), "Agency".rjust(11))

    def reload(self) -> None:
        self.load()

    def action_refresh(self) -> None:
        self.load()

    def action_next_basis(self) -> None:
        self.basis = BASES[(BASES.index(self.basis) + 1) % len(BASES)]
        self.load()

    def action_toggle_collections(self) -> None:
        switcher = self.query_one("#lower-left", ContentSwitcher)
        switcher.current = "collections" if switcher.current == "by-payer" else "by-payer"

    def action_next_grouping(self) -> None:
        self.by = GROUPINGS[(GROUPINGS.index(self.by) + 1) % len(GROUPINGS)]
        self.load()

    @work(thread=True, exclusive=True, group="aging", exit_on_error=False)
    def load(self) -> None:
        queries, as_of = self.billing.queries, self.billing.as_of
        aging = queries.aging(as_of=as_of, known_at=None, basis=self.basis, by=self.by)
        # KPIs land with the projections issue; until then the panel says so.
        kpis = queries.kpis(as_of=as_of) if hasattr(queries, "kpis") else None
        collections = queries.collections_by_month(as_of=as_of, months=MONTHS)
        self.deliver(self._show, aging, kpis, collections)

    def _show(self, aging: dict[str, Any], kpis: Any,
              collections: dict[str, Any] | None = None) -> None:
        self.aging = aging
        buckets = aging.get("buckets", {})
        self.query_one("#aging-summary", Static).update(
            f"A/R total [b]{usd(aging.get('total_cents'))}[/b] · credits "
            f"{usd(aging.get('credit_cents'))} (apart) · as of {day(aging.get('as_of'))} · "
            f"basis {escape(aging.get('basis', self.basis))}")
        table = self.query_one("#aging-table", DataTable)
        table.clear()
        bars = []
        for name in BUCKETS:
            bucket = buckets.get(name, {})
            insurance = int(bucket.get("insurance_cents", 0))
            patient = int(bucket.get("patient_cents", 0))
            table.add_row(name, money_cell(insurance), money_cell(patient),
                          money_cell(bucket.get("agency_cents", 0)), key=name)
            bars.append(Bar(name, insurance, patient, ""))
        table.add_row("Total", money_cell(aging.get("total_cents")), "", "", key="total")
        self.query_one("#chart", BarChart).set_bars(bars)
        self._show_groups(aging.get("by") or [])
        self._show_kpis(kpis)
        if collections is not None:
            self._show_collections(collections)

    def _show_collections(self, answer: dict[str, Any]) -> None:
        """One bar a month: payers' payments solid, the patient's shaded; the figure is the
        month's payments received (the agency's recoveries included)."""
        chart = self.query_one("#collections", BarChart)
        chart.title = f"Collections per month · {usd(answer['payments_cents'])}"
        chart.set_bars([Bar(m["month"], int(m["insurance_cents"]), int(m["patient_cents"]),
                            usd(m["payments_cents"])) for m in answer["months"]])

    def _show_groups(self, groups: list[dict[str, Any]]) -> None:
        table = self.query_one("#by-payer", DataTable)
        table.clear(columns=True)
        table.add_columns(self.by.title(), "Total", *BUCKETS)
        for group in groups:
            key = str(first(group, f"{self.by}_id", "payer_id", "plan_id", "key"))
            column = COLUMN_OF.get(key, "insurance_cents")
            buckets = group.get("buckets", {})
            table.add_row(ellipsize(key, 14), money_cell(group.get("total_cents")),
                          *(money_cell(buckets.get(b, {}).get(column, 0)) for b in BUCKETS))

    def _show_kpis(self, kpis: Any) -> None:
        lines = ["[b]KPIs[/b]" + (f" ({kpis.get('period_days')} days)"
                                 if isinstance(kpis, dict) and kpis.get("period_days") else "")]
        if isinstance(kpis, dict):
            lines += [kpi_text(label, kpis.get(name), unit) for name, label, unit in KPIS
                      if name in kpis]
        else:
            lines.append("not available yet")
        self.query_one("#kpis", Static).update("\n".join(lines))


def money_cell(cents: Any) -> str:
    return usd(cents).rjust(11)
