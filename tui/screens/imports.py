"""`i`: import 835 remittance files: pick, preview as a dry run, then post with progress.

835 payments and 999 / 277CA acknowledgements go through `importers.remittance_import`.
The preview is the importer's own dry run (nothing is recorded), shown as what posting
would do to each claim; refusals (claims that are not ours, duplicates, bad segments)
are listed with their reason. Posting runs in a worker that reports progress per file and
stops between files when cancelled.
"""

from __future__ import annotations

import glob
import re
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Input, ProgressBar, Static
from textual.worker import get_current_worker

from tui.formatting import ellipsize, party_name, usd
from tui.messages import LedgerChanged
from tui.screens.base import BillingScreen
from tui.screens.shapes import as_dict, first
from tui.widgets.literal import escape
from tui.widgets.table import Table

PATTERNS = ("*.835", "*.txt", "*.edi", "*.x12")
COLUMNS = (("File", 10), ("Claim", 12), ("Outcome", 12), ("Paid", 9), ("W/off", 9),
           ("Denied", 9), ("Note", 60))


def find_files(text: str) -> list[Path]:
    """A file, every 835-looking file of a folder, or a glob."""
    path = Path(text).expanduser()
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted({p for pattern in PATTERNS for p in path.glob(pattern) if p.is_file()})
    return sorted(Path(p) for p in glob.glob(str(path)) if Path(p).is_file())


def is_835(raw: bytes) -> bool:
    """Whether the file holds an 835 (else it is read as a 999 or 277CA acknowledgement)."""
    return re.search(rb"ST.835", raw[:4096]) is not None


def run_importer(ledger: Any, path: Path, dry_run: bool,
                 progress: Any = None) -> list[dict[str, Any]]:
    """One file through the importer; rows of what was (or would be) posted or refused."""
    from importers import remittance_import  # noqa: PLC0415 - loads pyx12 only when used

    result: Any
    if is_835(path.read_bytes()):
        result = remittance_import.import_835_file(ledger, path, dry_run=dry_run,
                                                   progress=progress)
    else:
        result = remittance_import.import_acknowledgement_file(ledger, path, dry_run=dry_run)
    return outcome_rows(path, as_dict(result))


def _row(path: Path, claim_id: Any, what: Any, note: Any = "", paid: Any = None,
         written_off: Any = None, denied: Any = None) -> dict[str, Any]:
    return {"file": path.name, "claim_id": str(claim_id or ""), "what": str(what),
            "paid_cents": paid, "written_off_cents": written_off, "denied_cents": denied,
            "note": str(note or "")}


def outcome_rows(path: Path, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Flatten an import result: a file line, then one line per claim posted or held."""
    status = str(data.get("status", ""))
    what = status
    summary = ("dry run · " if data.get("dry_run") else "") + (data.get("message") or (
        f"{data.get('kind', '835')} · {data.get('claims', 0)} claims · "
        f"{data.get('events', 0)} events"))
    rows = [_row(path, "", what.upper() if status == "refused" else what, summary,
                 paid=data.get("payment_cents"))]
    for posted in data.get("postings") or []:
        item = as_dict(posted)
        moved = ", ".join(f"{party_name(k)} {usd(v)}" for k, v in
                          (item.get("transferred") or {}).items())
        rows.append(_row(path, item.get("claim_id"),
                         f"{item.get('outcome', '')} ({item.get('status_code', '')})",
                         f"to {moved}" if moved else "", item.get("paid_cents"),
                         item.get("written_off_cents"), item.get("denied_cents")))
    for held in data.get("unapplied") or []:
        item = as_dict(held)
        rows.append(_row(path, item.get("claim_id"), "UNAPPLIED", item.get("reason"),
                         item.get("paid_cents")))
    for verdict in ("accepted", "rejected"):
        for claim_id in data.get(verdict) or []:
            rows.append(_row(path, claim_id, verdict))
    for other in (data.get("unchanged") or []) + [
            {"claim_id": u, "reason": "not in our ledger"} for u in data.get("unknown") or []]:
        item = as_dict(other)
        rows.append(_row(path, first(item, "claim_id", "set"), "unchanged", item.get("reason")))
    rows += [_row(path, "", "note", note) for note in data.get("notes") or []]
    return rows


def _money(cents: Any) -> str:
    return "" if cents is None else usd(cents)


class ImportScreen(BillingScreen):
    """Pick files, preview (`d`), post (`p`)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "preview", "Dry run", tooltip="Preview what posting would record",
                id="import.preview"),
        Binding("p", "post_import", "Post", tooltip="Post the files to the ledger",
                id="import.post"),
        Binding("ctrl+x", "cancel_import", "Stop", tooltip="Stop posting after this file",
                id="import.cancel"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.files: list[Path] = []
        self.previewed = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="835 file, folder or glob; Enter lists the files", id="paths",
                    compact=True)
        yield Table(id="preview", cursor_type="row", zebra_stripes=True)
        yield ProgressBar(id="progress", show_eta=False)
        yield Static("Give a file or folder, then d for a dry run and p to post.",
                     id="import-status", classes="status")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#preview", DataTable)
        for label, width in COLUMNS:
            table.add_column(label, width=width)
        self.query_one("#paths", Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action == "post_import" and self.billing.read_only)

    def status(self, text: str) -> None:
        self.query_one("#import-status", Static).update(text)

    @on(Input.Submitted, "#paths")
    def _paths(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        self.previewed = False
        try:
            self.files = find_files(text) if text else []
        except OSError as error:
            # A name too long, a folder not readable: the biller's to fix, not the app's end.
            self.files = []
            self.query_one("#preview", DataTable).clear()
            self.status(f"cannot read {escape(repr(ellipsize(text, 40)))}: "
                        f"{escape(error.strerror or error)}")
            return
        table = self.query_one("#preview", DataTable)
        table.clear()
        for path in self.files:
            table.add_row(ellipsize(path.name, 10), "", "selected", "", "", "", str(path.parent))
        self.status(f"{len(self.files)} files · d dry run · p post" if self.files
                    else f"no files at {escape(repr(ellipsize(text, 60)))}")
        if self.files:
            table.focus()

    def action_preview(self) -> None:
        if not self.files:
            self.status("Pick files first (type a path, Enter).")
            return
        self.status(f"Dry run of {len(self.files)} files…")
        self.run_files(list(self.files), dry_run=True)

    def action_post_import(self) -> None:
        if self.billing.read_only:
            self.notify("Read-only workstation: nothing can be posted.", severity="warning")
            return
        if not self.files:
            self.status("Pick files first (type a path, Enter).")
            return
        if not self.previewed:
            self.status("Preview first: d runs the dry run, then p posts.")
            return
        self.status(f"Posting {len(self.files)} files…")
        self.run_files(list(self.files), dry_run=False)

    def action_cancel_import(self) -> None:
        self.workers.cancel_group(self, "ledger-write")

    @work(thread=True, exclusive=True, group="ledger-write", exit_on_error=False)
    def run_files(self, files: list[Path], dry_run: bool) -> None:
        worker = get_current_worker()
        self.app.call_from_thread(self._start, len(files))
        for index, path in enumerate(files, 1):
            if worker.is_cancelled:
                break
            try:
                rows = run_importer(self.billing.ledger, path, dry_run,
                                    progress=self._claim_progress(index, len(files)))
            except OSError as error:   # gone or unreadable since it was listed
                rows = [_row(path, "", "REFUSED", f"cannot read: {error.strerror or error}")]
            self.app.call_from_thread(self._progress, index, path, rows)
        self.app.call_from_thread(self._finished, dry_run, worker.is_cancelled)

    def _claim_progress(self, file_no: int, files: int) -> Any:
        """Progress inside one file, reported every 50 claims (and at the end)."""

        def report(phase: str, done: int, total: int) -> None:
            if done == total or done % 50 == 0:
                self.app.call_from_thread(
                    self.status, f"File {file_no} of {files}: {escape(phase)} {done:,}/{total:,}")

        return report

    def _start(self, count: int) -> None:
        self.query_one("#preview", DataTable).clear()
        self.query_one(ProgressBar).update(total=count, progress=0)

    def _progress(self, index: int, path: Path, rows: list[dict[str, Any]]) -> None:
        table = self.query_one("#preview", DataTable)
        for row in rows:
            table.add_row(
                ellipsize(row["file"], 10), row["claim_id"], row["what"],
                _money(row["paid_cents"]), _money(row["written_off_cents"]),
                _money(row["denied_cents"]), ellipsize(row["note"], 60))
        self.query_one(ProgressBar).update(progress=index)

    def _finished(self, dry_run: bool, cancelled: bool) -> None:
        if dry_run:
            self.previewed = True
            self.status("Dry run done: nothing recorded. p posts these files.")
        else:
            self.previewed = False
            self.status("Stopped after the current file." if cancelled else "Posted.")
            self.post_message(LedgerChanged("import"))
