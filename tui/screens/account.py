"""An account: demographics (masked until revealed), coverage in order with each policy's last
eligibility answer, visits and charges, claims with state, and the ledger with running
balance and responsibility split.

Everything shown comes from `queries.account(account_no, as_of)`; every action opens a form
that runs one ledger command. Running balances and splits are the read model's figures.
A form that offers visits, lines or claims reads them for itself (`queries.account_choices`):
every one of the account's, whichever page the tables show.

Visits, claims and the ledger hold one page each, the latest first (`first_screenful`):
moving past a table's first row (or `[`) reads the page before it, past its last row (or `]`)
the one after. A reload keeps each table on its page unless the workstation's date moved.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static, TabbedContent, TabPane

from domain.text import written_out
from tui.commands import WRITE_ACTIONS
from tui.dialogs.charges import EnterChargeDialog, OpenVisitDialog
from tui.dialogs.claims import CorrectClaimDialog, CreateClaimDialog
from tui.dialogs.collections import PaymentPlanDialog, ReferToCollectionsDialog
from tui.dialogs.form import FormDialog
from tui.dialogs.payments import (
    ApproveRefundDialog,
    ManualPaymentDialog,
    PatientPaymentDialog,
    RequestRefundDialog,
    TransferToPatientDialog,
    WriteOffDialog,
)
from tui.dialogs.registration import AddCoverageDialog, ReorderCoverageDialog
from tui.formatting import day, ellipsize, mask, mask_date, party_name, usd
from tui.messages import LedgerChanged
from tui.screens.base import BillingScreen
from tui.screens.history import recorded_span, turn_hint
from tui.screens.shapes import as_dict, first, rows_of
from tui.widgets.literal import escape
from tui.widgets.table import Table
from tui.widgets.turning_table import TurningTable

PATIENT, AGENCY = "PATIENT", "AGENCY"
ORDER_LETTERS = "PSTABCDEFGH"  # coverage order as X12 SBR01 spells it
# Money events, in the words a biller uses.
ENTRY_NAMES = {"ChargeEntered": "Charge", "PaymentPosted": "Payment",
               "AdjustmentPosted": "Adjustment", "ResponsibilityTransferred": "Transfer",
               "RefundIssued": "Refund", "EntryReversed": "Reversal"}


def section(data: dict[str, Any], *names: str) -> list[dict[str, Any]]:
    """A list section of the account answer (coverage, encounters, claims, ledger)."""
    for name in names:
        value = data.get(name)
        if isinstance(value, list):
            return [as_dict(row) for row in value]
        if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            return [as_dict(row) for row in value.values()]
    return []


def eligibility_text(answer: Any) -> str:
    """A policy's last eligibility answer in a biller's words, e.g. 'active 2025-03-10 ·
    copay $20.00 · ded left $500.00' (the date of service asked about) or 'INACTIVE: <why>'."""
    if not isinstance(answer, dict):
        return "not checked"
    if not answer.get("active"):
        return f"INACTIVE: {answer.get('message') or 'on ' + day(answer.get('service_on'))}"
    parts = [f"active {day(answer.get('service_on'))}"]
    for label, key in (("copay", "copay_cents"), ("ded left", "deductible_remaining_cents"),
                       ("OOP left", "out_of_pocket_remaining_cents")):
        if answer.get(key) is not None:
            parts.append(f"{label} {usd(answer[key])}")
    if answer.get("coinsurance_percent") is not None:
        parts.append(f"coins {answer['coinsurance_percent']}%")
    return " · ".join(parts)


def parties_text(balances: Any, payers: dict[str, str]) -> str:
    """'ACME $80.00 · Patient $50.00' from a {party: cents} split."""
    if not isinstance(balances, dict):
        return ""
    return " · ".join(f"{party_name(p, payers)} {usd(c)}" for p, c in balances.items()
                      if isinstance(c, int))


class AccountScreen(BillingScreen):
    """One patient account, as of the workstation's date."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "reveal", "Reveal", tooltip="Show or mask member ids and birth date",
                id="account.reveal"),
        Binding("c", "add_coverage", "Coverage", tooltip="Add a policy", id="account.coverage"),
        Binding("v", "open_visit", "Visit", tooltip="New visit (encounter)", id="account.visit"),
        Binding("e", "enter_charge", "Charge", tooltip="Enter a charge line",
                id="account.charge"),
        Binding("l", "create_claim", "Claim", tooltip="Create and scrub a claim",
                id="account.claim"),
        Binding("p", "post_payment", "Payment", tooltip="Post a manual payment on a line",
                id="account.payment"),
        Binding("u", "post_patient_payment", "Pt payment", tooltip="Post a patient payment",
                id="account.patient-payment", show=False),
        Binding("t", "transfer_to_patient", "To patient", tooltip="Transfer to patient",
                id="account.transfer", show=False),
        Binding("x", "write_off", "Write off", tooltip="Write off a line balance",
                id="account.write-off", show=False),
        Binding("f", "request_refund", "Refund", tooltip="Request a refund of a credit",
                id="account.refund", show=False),
        Binding("d", "approve_refund", "Decide refund", tooltip="Approve or decline a refund",
                id="account.approve-refund", show=False),
        Binding("y", "payment_plan", "Plan", tooltip="Set up a payment plan",
                id="account.plan", show=False),
        Binding("k", "refer_to_collections", "Collections", tooltip="Refer to collections",
                id="account.collections", show=False),
        Binding("m", "correct_claim", "Correct claim", tooltip="Replace, resend or void a claim",
                id="account.correct-claim", show=False),
        Binding("o", "reorder_coverage", "Reorder", tooltip="Reorder coverage",
                id="account.reorder", show=False),
    ]

    page_size = 50   # visits, claims and ledger rows read at a time

    def __init__(self, account_no: str) -> None:
        super().__init__()
        self.account_no = account_no
        self.revealed = False
        self.data: dict[str, Any] = {}
        self.history: list[dict[str, Any]] = []   # the ledger page shown
        self.ledger_page: dict[str, Any] = {}
        # The pages shown: visits and claims by offset, the ledger by its first event's
        # position; None is the latest page. `places_as_of`: the date they were read as of.
        self.places: dict[str, int | None] = {"visits": None, "claims": None, "ledger": None}
        self.places_as_of: date | None = None
        self.visit_offset = self.claim_offset = 0

    def same_as(self, other: Screen[Any]) -> bool:
        return isinstance(other, AccountScreen) and other.account_no == self.account_no

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Account {escape(self.account_no)}: loading…", id="account-head")
        with TabbedContent(id="account-tabs"):
            with TabPane("Summary", id="tab-summary"):
                yield Table(id="coverage", cursor_type="row", show_cursor=False)
                yield Static("", id="balances", classes="status")
            with TabPane("Visits", id="tab-visits"):
                yield TurningTable(id="lines")
                yield Static("", id="lines-pages", classes="status")
            with TabPane("Claims", id="tab-claims"):
                yield TurningTable(id="claims")
                yield Static("", id="claims-pages", classes="status")
            with TabPane("Ledger", id="tab-ledger"):
                yield TurningTable(id="ledger")
                yield Static("", id="ledger-pages", classes="status")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"account {self.account_no}"
        self.query_one("#coverage", DataTable).add_columns(
            "Ord", "Payer", "Plan", "Member id", "Eligibility", "Group", "Effective", "Ends")
        self.query_one("#lines", DataTable).add_columns(
            "DOS", "Visit", "Line", "Code", "Charge", "Balance", "Held by")
        self.query_one("#claims", DataTable).add_columns(
            "Claim", "Payer", "DOS", "State", "Charge", "Paid", "Outcome")
        self.query_one("#ledger", DataTable).add_columns(
            "Date", "Entry", "Line", "Party", "Amount", "Balance", "Insurance", "Patient",
            "Agency", "Why")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in WRITE_ACTIONS and self.billing.read_only)

    # -- reading -------------------------------------------------------------------------------
    @classmethod
    def first_screenful(cls, queries: Any, account_no: str,
                        as_of: date) -> tuple[dict[str, Any], dict[str, Any]]:
        """What the screen reads as it opens: the account with its latest visits and claims,
        and the latest ledger rows with their running figures (bench/figures.py times this)."""
        return (as_dict(queries.account(account_no, as_of=as_of, known_at=None,
                                        page_size=cls.page_size)),
                as_dict(queries.history_page(account_no, as_of=as_of, known_at=None,
                                             limit=cls.page_size, money_only=True)))

    def reload(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="account", exit_on_error=False)
    def load(self) -> None:
        queries, as_of = self.billing.queries, self.billing.as_of
        answer, ledger = self.first_screenful(queries, self.account_no, as_of)
        # The latest pages are what the answer holds; a page turned to is read again.
        offsets = (int(answer["visit_count"]) - len(answer["encounters"]),
                   int(answer["claim_count"]) - len(answer["claims"]))
        places = self.places if self.places_as_of == as_of else {}
        if places.get("visits") is not None:
            page = queries.account_visits(self.account_no, as_of=as_of, known_at=None,
                                          limit=self.page_size, offset=places["visits"])
            answer["encounters"], answer["visit_count"] = page["encounters"], page["total"]
            offsets = (int(page["offset"]), offsets[1])
        if places.get("claims") is not None:
            page = queries.account_claims(self.account_no, as_of=as_of, known_at=None,
                                          limit=self.page_size, offset=places["claims"])
            answer["claims"], answer["claim_count"] = page["claims"], page["total"]
            offsets = (offsets[0], int(page["offset"]))
        if places.get("ledger") is not None:
            ledger = self._ledger_page(after=int(places["ledger"] or 0) - 1)
        self.deliver(self._show, answer, ledger, as_of, offsets)

    def _ledger_page(self, before: int | None = None,
                     after: int | None = None) -> dict[str, Any]:
        return as_dict(self.billing.queries.history_page(
            self.account_no, as_of=self.billing.as_of, known_at=None, limit=self.page_size,
            before=before, after=after, money_only=True))

    @on(TurningTable.Turn, "#lines")
    def _turn_visits(self, event: TurningTable.Turn) -> None:
        self.load_visits(*self._offset_turn(event, self.visit_offset, len(self.encounters),
                                            int(self.data.get("visit_count") or 0)))

    def _offset_turn(self, event: TurningTable.Turn, offset: int, shown: int,
                     total: int) -> tuple[int, int]:
        """(offset, limit) of the page a turn asks for, in a list paged by offset."""
        if event.end:
            return (max(0, total - self.page_size) if event.later else 0), self.page_size
        if event.later:
            return offset + shown, self.page_size
        back = min(self.page_size, offset)
        return offset - back, back

    @work(thread=True, exclusive=True, group="account-visits", exit_on_error=False)
    def load_visits(self, offset: int, limit: int) -> None:
        page = self.billing.queries.account_visits(
            self.account_no, as_of=self.billing.as_of, known_at=None, limit=limit,
            offset=offset)
        self.deliver(self._show_visits_page, as_dict(page))

    def _show_visits_page(self, page: dict[str, Any]) -> None:
        self.data["encounters"], self.data["visit_count"] = page["encounters"], page["total"]
        self.visit_offset = int(page["offset"])
        self._show_lines(cursor_last=None)

    @on(TurningTable.Turn, "#claims")
    def _turn_claims(self, event: TurningTable.Turn) -> None:
        self.load_claims(*self._offset_turn(event, self.claim_offset, len(self.claims),
                                            int(self.data.get("claim_count") or 0)))

    @work(thread=True, exclusive=True, group="account-claims", exit_on_error=False)
    def load_claims(self, offset: int, limit: int) -> None:
        page = self.billing.queries.account_claims(
            self.account_no, as_of=self.billing.as_of, known_at=None, limit=limit,
            offset=offset)
        self.deliver(self._show_claims_page, as_dict(page))

    def _show_claims_page(self, page: dict[str, Any]) -> None:
        self.data["claims"], self.data["claim_count"] = page["claims"], page["total"]
        self.claim_offset = int(page["offset"])
        self._show_claims(cursor_last=None)

    @on(TurningTable.Turn, "#ledger")
    def _turn_ledger(self, event: TurningTable.Turn) -> None:
        if event.end:   # the latest page, or the first: after position 0
            self.load_ledger(None, None if event.later else 0)
        elif self.history:
            if event.later:
                self.load_ledger(None, self.history[-1]["position"])
            else:
                self.load_ledger(self.history[0]["position"], None)

    @work(thread=True, exclusive=True, group="account-ledger", exit_on_error=False)
    def load_ledger(self, before: int | None, after: int | None) -> None:
        self.deliver(self._show_ledger_page, self._ledger_page(before=before, after=after))

    def _show_ledger_page(self, page: dict[str, Any]) -> None:
        self.ledger_page = page
        self.history = rows_of(page)
        self._show_ledger(cursor_last=None)

    @property
    def payers(self) -> dict[str, str]:
        return {str(first(c, "payer_id")): str(first(c, "payer_name", "payer_id"))
                for c in self.coverage}

    @property
    def demographics(self) -> dict[str, Any]:
        nested = self.data.get("account")
        return as_dict(nested) if isinstance(nested, dict) else self.data

    @property
    def coverage(self) -> list[dict[str, Any]]:
        return section(self.data, "coverage", "policies")

    @property
    def lines(self) -> list[dict[str, Any]]:
        found = section(self.data, "lines", "charges")
        if found:
            return found
        rows = []
        for encounter in section(self.data, "encounters", "visits"):
            for line in section(encounter, "lines", "charges"):
                line.setdefault("encounter_id", encounter.get("encounter_id"))
                line.setdefault("service_date", encounter.get("service_date"))
                rows.append(line)
        return rows

    @property
    def encounters(self) -> list[dict[str, Any]]:
        return section(self.data, "encounters", "visits")

    @property
    def claims(self) -> list[dict[str, Any]]:
        return section(self.data, "claims")

    @property
    def guarantor(self) -> str:
        return str(first(self.demographics, "guarantor_account_no", default=self.account_no))

    def _show(self, data: dict[str, Any], ledger: dict[str, Any] | None = None,
              as_of: date | None = None, offsets: tuple[int, int] | None = None) -> None:
        """Show an answer; `ledger`, `as_of` and `offsets` come with a fresh read (revealing
        ids shows the same answer again, on the same pages)."""
        self.data = data
        self.sub_title = f"account {self.account_no} · as of {self.billing.as_of.isoformat()}"
        if ledger is not None:
            self.ledger_page = ledger
            self.history = rows_of(ledger)
            self.places_as_of = as_of
        if offsets is not None:
            self.visit_offset, self.claim_offset = offsets
        who = self.demographics
        address = who.get("address") if isinstance(who.get("address"), dict) else {}
        where = ", ".join(str(v) for v in (address or {}).values() if v)
        parties = parties_text(first(data, "by_party", "balances", default={}), self.payers)
        # Names, addresses and payer names are as registered: escaped, never read as markup.
        self.query_one("#account-head", Static).update(
            f"[b]{escape(first(who, 'name', 'display_name'))}[/b]  acct "
            f"{escape(self.account_no)}  born {mask_date(first(who, 'birth_date'), self.revealed)}"
            f"  sex {escape(first(who, 'sex'))}  guarantor {escape(self.guarantor)}\n"
            f"{escape(ellipsize(written_out(where), 60))}  {escape(first(who, 'phone'))}\n"
            f"Balance {usd(first(data, 'balance_cents', default=None))}  {escape(parties)}"
            f"  credit {usd(first(data, 'credit_cents', default=0))}")
        self._show_coverage()
        self._show_lines(cursor_last=False)
        self._show_claims(cursor_last=False)
        self._show_ledger(cursor_last=False)

    def _show_coverage(self) -> None:
        table = self.query_one("#coverage", DataTable)
        table.clear()
        for position, policy in enumerate(self.coverage):
            table.add_row(
                first(policy, "order", default=ORDER_LETTERS[position % len(ORDER_LETTERS)]),
                ellipsize(first(policy, "payer_name", "payer_id"), 18),
                first(policy, "plan_id"), mask(first(policy, "member_id"), 4, self.revealed),
                ellipsize(eligibility_text(policy.get("eligibility")), 60),
                first(policy, "group_number"), day(first(policy, "effective_on")),
                day(first(policy, "terminated_on", "terminates_on", default=None)))
        summary = []
        for label, key in (("Statements", "statements"), ("Plan", "payment_plan"),
                           ("Referral", "referral"), ("Refunds", "pending_refunds")):
            value = self.data.get(key)
            if value:
                summary.append(f"{label}: {len(value) if isinstance(value, list) else 'yes'}")
        self.query_one("#balances", Static).update(" · ".join(summary))

    def _pages(self, name: str, table: TurningTable, rows: list[tuple[Any, ...]],
               keys: list[str], earlier: bool, later: bool, caption: str,
               cursor_last: bool | None) -> None:
        """Show a table's page and, when there is more than one, which it is."""
        table.show_rows(rows, keys, earlier=earlier, later=later, caption=caption,
                        cursor_last=cursor_last)
        pages = self.query_one(f"#{table.id}-pages", Static)
        pages.display = earlier or later
        pages.update(caption + turn_hint(earlier, later))
        table_place = None
        if name == "ledger" and later and self.history:
            table_place = int(self.history[0]["position"])
        elif name == "visits" and later:
            table_place = self.visit_offset
        elif name == "claims" and later:
            table_place = self.claim_offset
        self.places[name] = table_place

    def _show_lines(self, cursor_last: bool | None) -> None:
        rows: list[tuple[Any, ...]] = []
        keys: list[str] = []
        for line in self.lines:
            held = first(line, "by_party", "buckets", default={})
            rows.append((
                day(first(line, "service_date")), first(line, "encounter_id"),
                str(first(line, "line_id")).removeprefix(str(first(line, "encounter_id"))),
                first(line, "code") + (" " + ",".join(line.get("modifiers") or [])).rstrip(),
                usd(first(line, "charge_cents", default=None)),
                usd(first(line, "balance_cents", default=None)),
                ellipsize(parties_text(held, self.payers), 30)))
            keys.append(str(first(line, "line_id", default=len(keys))))
        shown, total = len(self.encounters), int(self.data.get("visit_count") or 0)
        start = self.visit_offset
        self._pages("visits", self.query_one("#lines", TurningTable), rows, keys, start > 0,
                    start + shown < total,
                    f"visits {start + 1:,}-{start + shown:,} of {total:,}", cursor_last)

    def _show_claims(self, cursor_last: bool | None) -> None:
        rows: list[tuple[Any, ...]] = []
        keys: list[str] = []
        for claim in self.claims:
            rows.append((
                first(claim, "claim_id"), first(claim, "payer_name", "payer_id"),
                day(first(claim, "service_date")), first(claim, "state"),
                usd(first(claim, "charge_cents", default=None)),
                usd(first(claim, "paid_cents", default=None)), first(claim, "outcome")))
            keys.append(str(first(claim, "claim_id", default=len(keys))))
        shown, total = len(self.claims), int(self.data.get("claim_count") or 0)
        start = self.claim_offset
        self._pages("claims", self.query_one("#claims", TurningTable), rows, keys, start > 0,
                    start + shown < total,
                    f"claims {start + 1:,}-{start + shown:,} of {total:,}", cursor_last)

    def _show_ledger(self, cursor_last: bool | None) -> None:
        """The ledger page: money events in the order recorded, with the read model's running
        balance and who holds it after each (insurance / patient / agency)."""
        rows: list[tuple[Any, ...]] = []
        keys: list[str] = []
        for event in self.history:
            details = event.get("details") or {}
            party = party_name(str(details.get("party") or ""))
            if details.get("from_party"):
                party = (f"{party_name(str(details['from_party']))}→"
                         f"{party_name(str(details.get('to_party')))}")
            kind = str(first(event, "type", "event_type")).rsplit(".", 1)[-1]
            why = str(first(details, "reason", "method", "kind", "source"))
            if kind == "ResponsibilityTransferred":
                why = f"moves {usd(details.get('amount_cents'))} {why}"
            rows.append((
                day(first(event, "effective_date", "effective_on")),
                ENTRY_NAMES.get(kind, kind),
                str(first(event, "line_id")).removeprefix(str(first(event, "encounter_id"))),
                ellipsize(party, 18),
                usd(first(event, "amount_cents", default=None)),
                usd(first(event, "balance_cents", default=None)),
                usd(event.get("insurance_cents")), usd(event.get("patient_cents")),
                usd(event.get("agency_cents")),
                ellipsize(why, 22)))
            keys.append(str(first(event, "position", default=len(keys))))
        page = self.ledger_page
        self._pages("ledger", self.query_one("#ledger", TurningTable), rows, keys,
                    bool(page.get("earlier")), bool(page.get("later")),
                    recorded_span(self.history, "ledger rows"), cursor_last)

    def pending_refunds(self) -> list[tuple[str, str]]:
        """Refund requests not yet approved or declined, from the account answer."""
        return [(escape(f"{first(r, 'request_id')} {usd(first(r, 'amount_cents', default=None))} "
                        f"{first(r, 'reason')}"), str(first(r, "request_id")))
                for r in section(self.data, "pending_refunds")]

    # -- acting ------------------------------------------------------------------------------
    def action_reveal(self) -> None:
        self.revealed = not self.revealed
        if self.data:
            self._show(self.data)

    @staticmethod
    def _choices_lines(choices: dict[str, Any]) -> list[tuple[str, str]]:
        return [(escape(f"{first(x, 'line_id')} {first(x, 'code')} "
                        f"{usd(first(x, 'balance_cents', default=None))}"),
                 f"{first(x, 'encounter_id')}|{first(x, 'line_id')}")
                for x in section(choices, "lines")
                if not first(x, "reversed", default=False)]

    def _choices_parties(self) -> list[tuple[str, str]]:
        # Choice labels are read as markup: payer names are escaped like every name.
        return [(escape(party_name(p, self.payers)), p) for p in self.payers] + [
            ("Patient", PATIENT), ("Agency", AGENCY)]

    @staticmethod
    def _choices_encounters(choices: dict[str, Any]) -> list[tuple[str, str]]:
        seen: dict[str, str] = {}
        for row in section(choices, "visits") or section(choices, "lines"):
            encounter_id = str(first(row, "encounter_id"))
            seen.setdefault(encounter_id,
                            escape(f"{encounter_id} {day(first(row, 'service_date'))}"))
        return [(label, value) for value, label in seen.items()]

    @staticmethod
    def _choices_claims(choices: dict[str, Any]) -> list[tuple[str, str]]:
        return [(escape(f"{first(c, 'claim_id')} {first(c, 'state')}"),
                 str(first(c, "claim_id")))
                for c in section(choices, "claims")]

    @work(thread=True, exclusive=True, group="account-form", exit_on_error=False)
    def _ask_choosing(self, form: Callable[[dict[str, Any]], FormDialog],
                      done: Callable[[Any], str]) -> None:
        """Open a form whose choices are the account's visits, lines or claims: every one
        of them, read for the form (the tables hold only the page shown)."""
        choices = as_dict(self.billing.queries.account_choices(
            self.account_no, as_of=self.billing.as_of, known_at=None))
        self.deliver(lambda: self._ask(form(choices), done))

    def _ask(self, dialog: FormDialog, done: Callable[[Any], str]) -> None:
        def recorded(result: Any) -> None:
            if result is None:
                return
            # What was recorded may quote a claim's problems: shown as is, not as markup.
            self.notify(written_out(done(result)), title="Recorded", markup=False)
            self.post_message(LedgerChanged(type(dialog).__name__))
            self.load()

        self.app.push_screen(dialog, recorded)

    def _ctx(self) -> dict[str, Any]:
        return {"account_no": self.account_no, "guarantor_account_no": self.guarantor}

    def action_add_coverage(self) -> None:
        self._ask(AddCoverageDialog(context=self._ctx()), lambda r: f"Policy {r} added")

    def action_reorder_coverage(self) -> None:
        order = ", ".join(str(first(c, "policy_id")) for c in self.coverage)
        self._ask(ReorderCoverageDialog(context=self._ctx(), defaults={"policy_ids": order}),
                  lambda _: "Coverage reordered")

    def action_open_visit(self) -> None:
        npi = next((str(first(e, "billing_npi")) for e in self.encounters
                    if first(e, "billing_npi")), "")
        self._ask(OpenVisitDialog(context=self._ctx(), defaults={"billing_npi": npi}),
                  lambda r: f"Visit {r} opened")

    def action_enter_charge(self) -> None:
        self._ask_choosing(lambda c: EnterChargeDialog(
            context=self._ctx(), choices={"encounter_id": self._choices_encounters(c)}),
            lambda r: f"Charge line {r} entered")

    def action_create_claim(self) -> None:
        self._ask_choosing(lambda c: CreateClaimDialog(
            context=self._ctx(), choices={"encounter_id": self._choices_encounters(c)}),
            _claim_result)

    def action_correct_claim(self) -> None:
        self._ask_choosing(lambda c: CorrectClaimDialog(
            context=self._ctx(), choices={"claim_id": self._choices_claims(c)}),
            _claim_result)

    def action_post_payment(self) -> None:
        self._ask_choosing(lambda c: ManualPaymentDialog(context=self._ctx(), choices={
            "line": self._choices_lines(c), "party": self._choices_parties()}),
            lambda r: f"Payment {r} posted")

    def action_post_patient_payment(self) -> None:
        self._ask(PatientPaymentDialog(context=self._ctx()),
                  lambda r: f"Patient payment posted ({len(r)} entries)")

    def action_transfer_to_patient(self) -> None:
        payers = [(escape(party_name(p, self.payers)), p) for p in self.payers]
        self._ask_choosing(lambda c: TransferToPatientDialog(context=self._ctx(), choices={
            "encounter_id": self._choices_encounters(c), "from_party": payers}),
            lambda r: f"Transferred to patient ({len(r)} lines)")

    def action_write_off(self) -> None:
        self._ask_choosing(lambda c: WriteOffDialog(context=self._ctx(), choices={
            "line": self._choices_lines(c), "party": self._choices_parties()}),
            lambda r: f"Write-off {r} posted")

    def action_request_refund(self) -> None:
        self._ask(RequestRefundDialog(context=self._ctx()),
                  lambda r: f"Refund request {r} recorded")

    def action_approve_refund(self) -> None:
        pending = self.pending_refunds()
        self._ask(ApproveRefundDialog(context=self._ctx(), choices={"request_id": pending}),
                  lambda r: "Refund declined" if r == "declined" else "Refund approved")

    def action_payment_plan(self) -> None:
        self._ask(PaymentPlanDialog(context=self._ctx()), lambda r: f"Payment plan {r}")

    def action_refer_to_collections(self) -> None:
        self._ask(ReferToCollectionsDialog(context=self._ctx()),
                  lambda r: f"Referred to collections ({r})")


def _claim_result(result: Any) -> str:
    problems = result.get("problems") or []
    if problems:
        return f"Claim {result['claim_id']} needs work: " + "; ".join(problems)
    return f"Claim {result['claim_id']} is clean and ready"
