"""`j`: my worklist, the items assigned to me to work now, largest value x age first.

Items waiting for their next action date are left out (``v`` shows them too); a broken
promise to pay brings its account back the day after the promised date. On the selected
row: ``l`` logs a call or letter, ``p`` appeals a denied claim, ``t`` writes its appeal
letter, ``d`` records the payer's decision, ``s`` assigns the item (supervisors), Enter
opens the account. ``u`` switches between my items, the unassigned pool and everyone's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Header, Static

from domain.text import written_out
from tui.dialogs.appeal import AppealDialog, DecideAppealDialog
from tui.dialogs.follow_up import AssignDialog, FollowUpDialog, outcome_choices
from tui.dialogs.form import FormDialog
from tui.formatting import day, ellipsize, usd
from tui.messages import LedgerChanged
from tui.screens.base import BillingScreen
from tui.widgets.literal import escape
from tui.widgets.paged_table import PAGE_SIZE, PagedTable

COLUMNS = ("Item", "Name", "Status", "Queues", "Amount", "Age", "Next", "Last")
VIEWS = ("mine", "unassigned", "everyone")
WRITES = frozenset({"log_follow_up", "file_appeal", "appeal_letter", "decide_appeal",
                    "assign"})


def row_cells(item: dict[str, Any]) -> tuple[str, ...]:
    return (item["item"], ellipsize(item.get("name") or "", 18), item["status"],
            ellipsize(",".join(item["queues"]), 18), usd(item["amount_cents"]),
            str(item["age_days"]), day(item.get("next_action_on")),
            ellipsize(item.get("last_outcome") or "", 16))


class WorklistScreen(BillingScreen):
    """The biller's own worklist; supervisors also see the pool and everyone's items."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l", "log_follow_up", "Log call", tooltip="Log a call or letter on the item",
                id="worklist.log"),
        Binding("p", "file_appeal", "Appeal", tooltip="Appeal the claim's denial",
                id="worklist.appeal"),
        Binding("t", "appeal_letter", "Letter", tooltip="Write the appeal letter",
                id="worklist.letter"),
        Binding("d", "decide_appeal", "Decision", tooltip="Record the payer's decision",
                id="worklist.decide"),
        Binding("s", "assign", "Assign", tooltip="Assign the item to a biller (supervisors)",
                id="worklist.assign"),
        Binding("u", "next_view", "Mine/pool/all", tooltip="My items, unassigned, everyone's",
                id="worklist.view"),
        Binding("v", "toggle_waiting", "Waiting", tooltip="Also items waiting for their date",
                id="worklist.waiting"),
        Binding("r", "refresh", "Refresh", tooltip="Read the worklist again",
                id="worklist.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.view = "mine"
        self.include_waiting = False
        self.rows: dict[str, dict[str, Any]] = {}
        self.answer: dict[str, Any] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="worklist-title", classes="status")
        yield PagedTable(page_size=PAGE_SIZE, id="worklist-table")
        yield Static("", id="worklist-status", classes="status")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(PagedTable)
        table.add_columns(*COLUMNS)
        table.focus()
        self.load_page(0)

    def reload(self) -> None:
        self.load_page(0)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in WRITES and self.billing.read_only)

    # -- reading -------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="worklist", exit_on_error=False)
    def load_page(self, offset: int) -> None:
        user = self.billing.user if self.view == "mine" else None
        answer = self.billing.queries.worklist(
            user, self.billing.as_of, include_waiting=self.include_waiting,
            unassigned=self.view == "unassigned", limit=PAGE_SIZE, offset=offset)
        self.deliver(self._show, offset, answer)

    def _show(self, offset: int, answer: dict[str, Any]) -> None:
        self.answer = answer
        table = self.query_one(PagedTable)
        items = answer["items"]
        self.rows = {item["item"]: item for item in items}
        table.show_page(offset, [row_cells(i) for i in items], [i["item"] for i in items],
                        answer["count"])
        who = {"mine": f"{self.billing.user or 'my'} worklist",
               "unassigned": "unassigned items", "everyone": "everyone's items"}[self.view]
        self.query_one("#worklist-title", Static).update(
            f"{escape(who)} as of {answer['as_of']}: {answer['count']} to work, "
            f"{usd(answer['total_cents'])}; {answer['waiting']} waiting"
            + (" (shown)" if self.include_waiting else ""))
        self.query_one("#worklist-status", Static).update(
            f"{table.describe()} · l log · p appeal · t letter · d decision · s assign · "
            "u view · Enter account")

    # -- the selected item ---------------------------------------------------------------------
    def selected(self) -> dict[str, Any] | None:
        table = self.query_one(PagedTable)
        if not self.rows or table.row_count == 0:
            self.notify("No item selected.", title="Worklist")
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.rows.get(str(key))

    def selected_claim(self) -> str | None:
        item = self.selected()
        if item is None:
            return None
        if item["kind"] != "claim":
            self.notify("Appeals are filed on claims; this item is an account.",
                        title="Not a claim", severity="warning")
            return None
        return str(item["key"])

    def _ask(self, dialog: FormDialog, done: Callable[[Any], str]) -> None:
        def recorded(result: Any) -> None:
            if result is None:
                return
            # It may quote a name or an outcome as typed: shown as is, not as markup.
            self.notify(written_out(done(result)), title="Recorded", markup=False)
            self.post_message(LedgerChanged(type(dialog).__name__))
            self.load_page(0)

        self.app.push_screen(dialog, recorded)

    # -- acting ---------------------------------------------------------------------------------
    def action_log_follow_up(self) -> None:
        item = self.selected()
        if item is not None:
            self._ask(FollowUpDialog(context={"item": item["item"], "kind": item["kind"]},
                                     choices={"outcome": outcome_choices(item["kind"])}),
                      lambda r: f"Logged {r} on {item['item']}")

    def action_file_appeal(self) -> None:
        claim_id = self.selected_claim()
        if claim_id is not None:
            self._ask(AppealDialog(context={"claim_id": claim_id}),
                      lambda r: f"Appeal {r} filed")

    def action_decide_appeal(self) -> None:
        claim_id = self.selected_claim()
        if claim_id is not None:
            self._ask(DecideAppealDialog(context={"claim_id": claim_id}),
                      lambda r: f"Decision on {r} recorded")

    def action_assign(self) -> None:
        item = self.selected()
        if item is not None:
            self._ask(AssignDialog(context={"items": [item["item"]]}),
                      lambda r: f"Assigned {', '.join(r)}")

    def action_appeal_letter(self) -> None:
        claim_id = self.selected_claim()
        if claim_id is not None:
            self.write_letter(claim_id)

    @work(thread=True, exclusive=True, group="ledger-write", exit_on_error=False)
    def write_letter(self, claim_id: str) -> None:
        digest = self.billing.ledger.generate_appeal_letter(claim_id)
        self.app.call_from_thread(
            self.notify, f"Appeal letter for {claim_id} kept with the claim (sha256 "
            f"{digest[:12]}…); print it: claimdesk appeal letter {claim_id} --existing --pdf "
            "FILE", title="Recorded", markup=False)

    def action_next_view(self) -> None:
        self.view = VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)]
        self.load_page(0)

    def action_toggle_waiting(self) -> None:
        self.include_waiting = not self.include_waiting
        self.load_page(0)

    def action_refresh(self) -> None:
        self.load_page(0)

    @on(PagedTable.PageRequested)
    def _page(self, event: PagedTable.PageRequested) -> None:
        self.load_page(event.offset)

    @on(PagedTable.RowSelected)
    def _row_chosen(self, event: PagedTable.RowSelected) -> None:
        item = self.rows.get(str(event.row_key.value))
        if item and item.get("account_no"):
            self.billing.open_account(str(item["account_no"]))
