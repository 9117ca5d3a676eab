"""Command palette (ctrl+p): one Provider per area, listing every action of the workstation.

Commands that act on an account appear only while an account is on screen; commands that
record something are left out in read-only (auditor) mode.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

Command = tuple[str, str, Callable[[], Any]]

# Actions that record something: hidden and refused in read-only (auditor) mode.
WRITE_ACTIONS = frozenset({
    "register_patient", "add_coverage", "reorder_coverage", "open_visit", "enter_charge",
    "create_claim", "post_payment", "post_patient_payment", "transfer_to_patient", "write_off",
    "request_refund", "approve_refund", "payment_plan", "refer_to_collections",
    "correct_claim", "post_import",
})

# (action, title, help): the account screen's actions, in the order people meet them.
ACCOUNT_ACTIONS: tuple[tuple[str, str, str], ...] = (
    ("reveal", "Reveal / mask identifiers", "Show member ids and birth date in full"),
    ("add_coverage", "Add coverage", "Add an insurance policy to this account"),
    ("reorder_coverage", "Reorder coverage", "Change primary / secondary order"),
    ("open_visit", "New visit", "Open an encounter on a date of service"),
    ("enter_charge", "Enter charge", "Enter a charge line (chargemaster code lookup)"),
    ("create_claim", "Create and scrub claim", "Bill a visit to a payer and check it"),
    ("correct_claim", "Correct claim", "Replace, resend or void a claim"),
    ("post_payment", "Post manual payment", "A payment by hand against one line"),
    ("post_patient_payment", "Post patient payment", "Applied to the oldest balances first"),
    ("transfer_to_patient", "Transfer to patient", "Move what a payer holds to the patient"),
    ("write_off", "Write off", "Write off what a party owes on a line"),
    ("request_refund", "Request refund", "Refund a patient credit balance"),
    ("approve_refund", "Approve or decline refund", "Decide a pending refund request"),
    ("payment_plan", "Payment plan", "Agree installments for the patient balance"),
    ("refer_to_collections", "Refer to collections", "Place the patient balance with an agency"),
    ("history", "History timeline", "Every event of this account, with an as-of cursor"),
)
READ_ONLY_SAFE = frozenset({"reveal", "history"})

# (action, title, help): the worklist screen's actions (j) on the selected item, then views.
WORKLIST_ACTIONS: tuple[tuple[str, str, str], ...] = (
    ("log_follow_up", "Log call or letter", "On the selected item: outcome, note, next date"),
    ("file_appeal", "Appeal denial", "Appeal the selected claim's denial (level, argument)"),
    ("appeal_letter", "Write appeal letter", "From the claim, its denial and the argument"),
    ("decide_appeal", "Record appeal decision", "The payer's answer to the appeal"),
    ("assign", "Assign item", "Give the selected item to a biller (supervisors)"),
    ("next_view", "Mine / pool / everyone", "My items, the unassigned pool, everyone's"),
    ("toggle_waiting", "Show or hide waiting items", "Items waiting for their next date"),
    ("refresh", "Refresh worklist", "Read the worklist again"),
)


class _ActionProvider(Provider):
    """Search and discovery over a list of (title, help, callback)."""

    def commands(self) -> Iterable[Command]:
        raise NotImplementedError

    async def discover(self) -> Hits:
        for title, help_text, callback in self.commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self.commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)

    def _run(self, action: str, target: Any = None) -> Callable[[], Any]:
        return partial(self.app.run_action, action, target)

    @property
    def read_only(self) -> bool:
        return bool(getattr(self.app, "read_only", False))


class NavigationCommands(_ActionProvider):
    """Going places: the fixed keys, as commands."""

    def commands(self) -> Iterable[Command]:
        yield "Find account", "/ · by name, DOB, account, claim or member id", self._run("find")
        yield "A/R aging dashboard", "a · buckets, payers, KPIs, chart", self._run("aging")
        yield "Work queues", "w · denials, rejections, follow-up…", self._run("queues")
        yield "History of current account", "h · auditor timeline", self._run("history")
        yield "Go to date (as of)", "g · every view as it stood on a date", self._run(
            "go_to_date")
        yield "Show keys", "? · every key of this screen", self._run("toggle_keys")
        if not self.read_only:
            yield "Register patient", "n · a new patient account", self._run(
                "register_patient")


class AccountCommands(_ActionProvider):
    """What can be done to the account on screen."""

    def commands(self) -> Iterable[Command]:
        screen = self.screen
        account_no = getattr(screen, "account_no", None)
        if account_no is None or not hasattr(screen, "action_reveal"):
            return
        for action, title, help_text in ACCOUNT_ACTIONS:
            if self.read_only and action not in READ_ONLY_SAFE:
                continue
            target = self.app if action == "history" else screen
            yield f"{title} ({account_no})", help_text, self._run(action, target)


class WorklistCommands(_ActionProvider):
    """My worklist from anywhere; on it, every action on the selected item."""

    def commands(self) -> Iterable[Command]:
        yield "My worklist", "j · my assigned items to work now, value x age", self._run(
            "worklist")
        screen = self.screen
        if not hasattr(screen, "action_log_follow_up"):
            return
        for action, title, help_text in WORKLIST_ACTIONS:
            # The screen decides what it allows (nothing that records, read-only).
            if screen.check_action(action, ()) is False:
                continue
            yield f"{title} (worklist)", help_text, self._run(action, screen)


class QueueCommands(_ActionProvider):
    """Each work queue by name."""

    def commands(self) -> Iterable[Command]:
        for name in getattr(self.app, "queue_names", []):
            yield (f"Queue: {name}", "open this work queue",
                   partial(self.app.run_action, f"open_queue({name!r})"))


class ImportCommands(_ActionProvider):
    """Bringing in 835 remittance files."""

    def commands(self) -> Iterable[Command]:
        yield "Import files", "i · pick 835 files, preview, post", self._run("import_files")
        screen = self.screen
        if hasattr(screen, "action_preview"):
            yield "Dry-run preview", "what posting would record", self._run("preview", screen)
            if not self.read_only:
                yield "Post import", "record the previewed files", self._run(
                    "post_import", screen)
