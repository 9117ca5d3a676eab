"""`h`: the auditor's timeline of one account, with an as-of cursor.

Every event in order: who recorded it, when it was recorded, its effective date, reason
codes, amount, running balance and source (ERA file and segment, or a user). Moving the
cursor shows the account as it stood on the cursor's effective date: the balances come
from `queries.account(as_of=...)`, and with `k` also as known at the cursor's recording time.

The timeline holds one page of events (`queries.history_page`), the latest first: moving
past the first row (or `[`) reads the page before it, past the last row (or `]`) the one
after; Home and End go to the account's first and last event.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from tui.formatting import day, ellipsize, moment, party_name, usd
from tui.screens.base import BillingScreen
from tui.screens.shapes import as_dict, first, rows_of
from tui.widgets.literal import escape
from tui.widgets.turning_table import TurningTable


def details_of(row: dict[str, Any]) -> dict[str, Any]:
    details = row.get("details")
    return details if isinstance(details, dict) else {}


def codes_of(row: dict[str, Any]) -> str:
    """Reason codes of an event: group-CARC, RARCs, or a claim's rejection reasons."""
    details = details_of(row)
    merged = {**details, **row}
    parts = []
    group, carc = merged.get("adjustment_group") or merged.get("group"), merged.get("carc")
    if carc:
        parts.append(f"{group}-{carc}" if group else str(carc))
    rarcs = merged.get("rarcs")
    if isinstance(rarcs, list | tuple):
        parts.extend(map(str, rarcs))
    elif rarcs:
        parts.append(str(rarcs))
    for key in ("status_code", "kind", "reasons"):
        value = merged.get(key)
        if isinstance(value, list):
            parts.extend(map(str, value))
        elif value and key != "kind":
            parts.append(str(value))
    return " ".join(parts)


def source_of(row: dict[str, Any]) -> str:
    details = details_of(row)
    return str(first(row, "source", default="") or details.get("source") or "user entry")


def recorded_span(events: list[dict[str, Any]], what: str) -> str:
    """'100 events recorded 2025-01-10 14:02 to 2025-03-10 09:15': events are in the order
    recorded, so their effective dates need not run in order."""
    if not events:
        return f"no {what}"
    return (f"{len(events):,} {what} recorded {moment(first(events[0], 'recorded_at'))} to "
            f"{moment(first(events[-1], 'recorded_at'))}")


def turn_hint(earlier: bool, later: bool) -> str:
    """How to reach the other pages, or nothing when this is the only one."""
    hints = (["[ earlier"] if earlier else []) + (["] later"] if later else [])
    return f" · {' · '.join(hints)}" if hints else ""


class HistoryScreen(BillingScreen):
    """The timeline; the cursor is the as-of date."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("k", "toggle_known_at", "Known-at", tooltip="Also limit to what was recorded "
                "by the cursor's time (bitemporal)", id="history.known-at"),
        Binding("enter", "go_to_cursor", "Go to date", tooltip="Make the cursor's date the "
                "workstation's as-of date", id="history.go"),
        Binding("home", "first_event", "First", show=False, id="history.first"),
        Binding("end", "last_event", "Last", show=False, id="history.last"),
    ]

    page_size = 100   # events on the timeline at a time

    def __init__(self, account_no: str) -> None:
        super().__init__()
        self.account_no = account_no
        self.events: list[dict[str, Any]] = []
        self.known_at_mode = False
        # Where the page shown starts (None: the latest page) and the date it was read as of:
        # a reload keeps the place unless the workstation's date moved.
        self.page_start: int | None = None
        self.page_as_of: date | None = None

    def same_as(self, other: Screen[Any]) -> bool:
        return isinstance(other, HistoryScreen) and other.account_no == self.account_no

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"History of {escape(self.account_no)}: loading…", id="as-of-bar")
        yield TurningTable(id="timeline")
        yield Static("", id="timeline-pages", classes="status")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"history of {self.account_no}"
        self.query_one("#timeline", DataTable).add_columns(
            "Effective", "Event", "Amount", "Balance", "Who", "Recorded", "Codes", "Source")

    def reload(self) -> None:
        as_of = self.billing.as_of
        if self.page_start is None or self.page_as_of != as_of:
            self.load(None, None, "last")
        else:   # the same page again, from its first event
            self.load(None, self.page_start - 1, "keep")

    @work(thread=True, exclusive=True, group="history", exit_on_error=False)
    def load(self, before: int | None, after: int | None, cursor: str) -> None:
        """Read a page (the latest when neither `before` nor `after` is given); `cursor`
        says where it lands: "first", "last", "keep" (its row), "turn" (as the keys say)."""
        as_of = self.billing.as_of
        answer = self.billing.queries.history_page(
            self.account_no, as_of=as_of, known_at=None, limit=self.page_size,
            before=before, after=after)
        self.deliver(self._show, as_dict(answer), as_of, cursor)

    @on(TurningTable.Turn, "#timeline")
    def _turn(self, event: TurningTable.Turn) -> None:
        if not self.events:
            return
        if event.end:
            self.load(None, None if event.later else 0, "turn")
        elif event.later:
            self.load(None, self.events[-1]["position"], "turn")
        else:
            self.load(self.events[0]["position"], None, "turn")

    def _show(self, page: dict[str, Any], as_of: date, cursor: str) -> None:
        events = rows_of(page)
        earlier, later = bool(page.get("earlier")), bool(page.get("later"))
        self.events = events
        # On the latest page a reload reads the latest again (new events included).
        self.page_start = events[0]["position"] if events and later else None
        self.page_as_of = as_of
        self.sub_title = (f"history of {self.account_no} · to "
                          f"{self.billing.as_of.isoformat()}")
        table = self.query_one("#timeline", TurningTable)
        kept = table.cursor_row
        rows: list[tuple[Any, ...]] = []
        keys: list[str] = []
        for row in events:
            event_type = str(first(row, "event_type", "type", "name"))
            rows.append((
                day(first(row, "effective_on", "effective_date")),
                ellipsize(event_type.rsplit(".", 1)[-1], 22),
                usd(first(row, "amount_cents", default=None)) if row.get("amount_cents")
                is not None else "",
                usd(first(row, "running_balance_cents", "balance_cents", default=None)),
                ellipsize(first(row, "actor", "who"), 10), moment(first(row, "recorded_at")),
                ellipsize(codes_of(row), 16), ellipsize(source_of(row), 28)))
            keys.append(str(row["position"]))
        table.show_rows(rows, keys, earlier=earlier, later=later,
                        cursor_last={"first": False, "last": True}.get(cursor))
        if cursor == "keep" and events:
            table.move_cursor(row=min(kept, len(events) - 1))
        pages = self.query_one("#timeline-pages", Static)
        pages.display = earlier or later
        if events:
            pages.update(f"{recorded_span(events, 'events')}{turn_hint(earlier, later)}")
            table.focus()
        else:
            self.query_one("#as-of-bar", Static).update(
                f"No events for {escape(self.account_no)} as of {self.billing.as_of.isoformat()}")

    @on(DataTable.RowHighlighted, "#timeline")
    def _cursor_moved(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self.events):
            self.load_as_of(self.events[event.cursor_row], self.known_at_mode)

    @work(thread=True, exclusive=True, group="history-as-of", exit_on_error=False)
    def load_as_of(self, row: dict[str, Any], known: bool) -> None:
        as_of = first(row, "effective_on", "effective_date", default=None)
        known_at = first(row, "recorded_at", default=None) if known else None
        if as_of is None:
            return
        # The bar shows balances only: no visits or claims (page_size=0) to read.
        answer = self.billing.queries.account(
            self.account_no, as_of=date.fromisoformat(day(as_of)), known_at=known_at,
            page_size=0)
        self.deliver(self._show_as_of, row, as_dict(answer or {}), known_at)

    def _show_as_of(self, row: dict[str, Any], data: dict[str, Any], known_at: Any) -> None:
        payers = {str(first(c, "payer_id")): str(first(c, "payer_name", "payer_id"))
                  for c in data.get("coverage") or [] if isinstance(c, dict)}
        split = first(data, "by_party", "balances", default={})
        parts = " · ".join(f"{party_name(p, payers)} {usd(c)}" for p, c in split.items()
                           if isinstance(c, int)) if isinstance(split, dict) else ""
        known = f" known at {moment(known_at)}" if known_at else ""
        # Payer names, users and ERA file names are data: escaped, never read as markup.
        self.query_one("#as-of-bar", Static).update(
            f"[b]As of {day(first(row, 'effective_on', 'effective_date'))}{known}[/b]: balance "
            f"{usd(first(data, 'balance_cents', default=None))}  {escape(parts)}\n"
            f"{escape(first(row, 'event_type', 'type'))} by {escape(first(row, 'actor'))} · "
            f"source {escape(source_of(row))}")

    @on(DataTable.RowSelected, "#timeline")
    def _row_chosen(self) -> None:
        self.action_go_to_cursor()

    def action_toggle_known_at(self) -> None:
        self.known_at_mode = not self.known_at_mode
        table = self.query_one("#timeline", DataTable)
        if self.events:
            self.load_as_of(self.events[table.cursor_row], self.known_at_mode)

    def action_go_to_cursor(self) -> None:
        table = self.query_one("#timeline", DataTable)
        if self.events:
            row = self.events[table.cursor_row]
            effective = day(first(row, "effective_on", "effective_date"))
            self.billing.set_as_of(date.fromisoformat(effective))

    def action_first_event(self) -> None:
        self.query_one("#timeline", TurningTable).action_scroll_home()

    def action_last_event(self) -> None:
        self.query_one("#timeline", TurningTable).action_scroll_end()
