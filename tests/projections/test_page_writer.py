"""A long rebuild writes its pages from a second process: same rows, same guarantees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from domain.application import BillingLedger
from projections import catchup
from projections.catchup import Projector, compare
from projections.page_writer import PageWriter, PageWriterError
from projections.queries import BillingQueries
from projections.store import SQLiteProjectionStore
from tests.builders import (
    Practice,
    open_visit,
    register_patient,
    submitted_claim,
    worked_example_remit,
)


@pytest.fixture
def writers(monkeypatch: pytest.MonkeyPatch) -> list[PageWriter]:
    """Every rebuild-style catch-up goes through a writer process; the writers started."""
    started: list[PageWriter] = []

    class Counted(PageWriter):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            started.append(self)

    monkeypatch.setattr(catchup, "PIPELINE_MIN", 1)
    monkeypatch.setattr(catchup, "REBUILD_PAGE", 5)   # many pages, more than may wait at once
    monkeypatch.setattr(catchup, "PageWriter", Counted)
    return started


def busy_practice(ledger: BillingLedger, accounts: int = 3) -> None:
    for _ in range(accounts):
        account = register_patient(ledger)
        claim_id = submitted_claim(ledger, open_visit(ledger, account).encounter_id)
        ledger.post_remittance(worked_example_remit(claim_id))
        ledger.post_patient_payment(account, 1_000)


def serial_rebuild(ledger: BillingLedger) -> SQLiteProjectionStore:
    """A rebuild in memory: no second process can open that store, so it is never used."""
    store = SQLiteProjectionStore(":memory:")
    store.setup("claimdesk")
    Projector(store, ledger.recorder, ledger.mapper).rebuild()
    return store


def test_a_rebuild_through_the_writer_gives_the_rows_of_a_serial_rebuild(
        ledger: BillingLedger, practice: Practice, queries: BillingQueries,
        writers: list[PageWriter]) -> None:
    busy_practice(ledger)
    serial = serial_rebuild(ledger)
    assert writers == []
    queries.projector.page = 5

    assert queries.rebuild() == ledger.events_count()

    assert len(writers) == 1 and writers[0].committed == ledger.events_count()
    assert queries.position() == ledger.events_count()
    assert compare(queries.store, serial)["ok"]
    serial.close()


def test_verify_through_the_writer_passes_and_finds_an_altered_row(
        ledger: BillingLedger, practice: Practice, queries: BillingQueries,
        writers: list[PageWriter], ledger_path: Path) -> None:
    busy_practice(ledger, accounts=2)
    assert queries.verify()["ok"]
    assert len(writers) == 1   # the scratch store was written by a writer process
    queries.store.execute("UPDATE rm_accounts SET phone = 'X' "
                          "WHERE account_no = (SELECT MIN(account_no) FROM rm_accounts)")

    report = queries.verify()

    assert report["ok"] is False
    assert "column phone: live 'X'" in report["first_difference"]


def test_another_process_catching_up_meanwhile_stops_the_writer_and_the_rows_stay_right(
        ledger: BillingLedger, practice: Practice, queries: BillingQueries,
        writers: list[PageWriter], monkeypatch: pytest.MonkeyPatch) -> None:
    busy_practice(ledger)
    other = BillingQueries.for_ledger(ledger)   # another connection, as another process has
    queries.projector.page = 5
    folded = {"pages": 0}
    fold = Projector._fold

    def fold_then_race(self: Projector, *args: Any, **kwargs: Any) -> None:
        fold(self, *args, **kwargs)
        if self is queries.projector:
            folded["pages"] += 1
            if folded["pages"] == 3:
                # Wait for the writer, then another reader takes the rest of the log.
                writers[0].drain()
                assert other.catch_up() > 0

    monkeypatch.setattr(Projector, "_fold", fold_then_race)

    queries.rebuild()

    # The writer stopped at the page the other reader had written first.
    assert writers[0].committed is not None
    assert writers[0].committed < other.position() == ledger.events_count()
    assert queries.position() == ledger.events_count()
    assert queries.verify()["ok"]
    other.close()


def test_a_writer_that_dies_leaves_whole_pages_and_the_next_catch_up_finishes(
        ledger: BillingLedger, practice: Practice, queries: BillingQueries,
        writers: list[PageWriter], monkeypatch: pytest.MonkeyPatch) -> None:
    busy_practice(ledger)
    queries.projector.page = 5
    send = PageWriter.send
    sent = {"pages": 0}

    def send_then_die(self: PageWriter, *args: Any) -> None:
        send(self, *args)
        sent["pages"] += 1
        if sent["pages"] == 4:
            self.drain()
            self._process.kill()
            self._process.wait()

    monkeypatch.setattr(PageWriter, "send", send_then_die)

    with pytest.raises(PageWriterError, match="ended unexpectedly"):
        queries.rebuild()

    # The pages written before it died are there, whole: four pages of five events.
    assert queries.position() == 20
    monkeypatch.setattr(PageWriter, "send", send)
    assert queries.catch_up() > 0
    assert queries.position() == ledger.events_count()
    assert queries.verify()["ok"]



def test_a_catch_up_from_nothing_folds_a_long_log_as_a_rebuild_does(
        ledger: BillingLedger, practice: Practice, writers: list[PageWriter],
        tmp_path: Path) -> None:
    busy_practice(ledger)
    serial = serial_rebuild(ledger)
    store = SQLiteProjectionStore(tmp_path / "never-built.sqlite3")   # read models not built
    store.setup("claimdesk")
    indexed = index_names(store)
    projector = Projector(store, ledger.recorder, ledger.mapper)

    assert projector.catch_up() == ledger.events_count()

    # Pages written by a writer process, every index built again after the last one.
    assert len(writers) == 1 and writers[0].committed == ledger.events_count()
    assert compare(store, serial)["ok"]
    assert index_names(store) == indexed != set()
    # From there on, catching up is the ordinary fold of what is new.
    register_patient(ledger)
    assert projector.catch_up() == ledger.events_count() - writers[0].committed > 0
    assert len(writers) == 1
    again = serial_rebuild(ledger)
    assert compare(store, again)["ok"]
    for each in (store, serial, again):
        each.close()


def index_names(store: SQLiteProjectionStore) -> set[str]:
    return {name for (name,) in store.fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}


def test_a_long_rebuild_says_how_far_it_has_got_after_each_page(
        ledger: BillingLedger, practice: Practice, queries: BillingQueries,
        writers: list[PageWriter]) -> None:
    busy_practice(ledger, accounts=2)
    told: list[tuple[int, int, str]] = []
    queries.projector.progress = lambda position, head, stage: told.append(
        (position, head, stage))
    queries.projector.page = 5

    queries.rebuild()

    head = ledger.events_count()
    pages, ending = told[:-2], told[-2:]
    assert len(pages) == -(-head // 5)   # one per page of 5 events
    assert [p for p, _, _ in pages] == sorted({p for p, _, _ in pages})
    assert {(h, s) for _, h, s in pages} == {(head, "folding")} and pages[-1][0] == head
    assert ending == [(head, head, "indexing"), (head, head, "done")]
