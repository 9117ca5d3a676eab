"""An 835's events folded into the read models while pyx12 checks the file, before their save.

Given a file's events before they are saved, the read models fold them as if saved at the
next positions; once saved, the rows are written only when the events landed exactly there.
Whatever happens in between, the read models end equal to a rebuild from the events alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from eventsourcing.persistence import StoredEvent
from freezegun import freeze_time

from domain.application import BillingLedger
from importers.remittance_import import import_835
from importers.x12.era import parse_835
from projections import catchup
from projections.queries import BillingQueries, store_for
from tests.builders import TODAY, Visit, register_patient
from tests.importers.conftest import CLAIM_ID

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "domain-examples"
EXAMPLE, REVERSAL = EXAMPLES / "835_min.x12", EXAMPLES / "835_reversal.x12"


class Watched:
    """The read models as a ledger's hooks use them, noting whether each fold ahead was kept."""

    def __init__(self, ledger: BillingLedger) -> None:
        self.queries = BillingQueries.for_ledger(ledger)
        self.kept: list[object] = []
        ledger.before_save.append(self.fold_ahead)
        ledger.after_save.append(self.queries.catch_up)

    def fold_ahead(self, stored: Sequence[StoredEvent],
                   first: int) -> Callable[[Sequence[int]], object] | None:
        finish = self.queries.fold_ahead(stored, first)
        assert finish is not None, "the read models prepared nothing"

        def noted(positions: Sequence[int]) -> object:
            self.kept.append(finish(positions))
            return self.kept[-1]
        return noted


@pytest.fixture
def watched(ledger: BillingLedger, claim_id: str) -> Iterator[Watched]:
    assert claim_id == CLAIM_ID
    watched = Watched(ledger)
    yield watched
    watched.queries.close()


def post_example(ledger: BillingLedger, path: Path = EXAMPLE, **options: object) -> str:
    with freeze_time(TODAY):
        return import_835(ledger, path.read_bytes(), path.name, **options).status


def test_the_rows_folded_ahead_are_the_rows_a_rebuild_gives(
        ledger: BillingLedger, watched: Watched, visit: Visit) -> None:
    assert post_example(ledger) == "posted"

    assert watched.kept == [True]
    assert watched.queries.position() == ledger.events_count()
    assert watched.queries.verify()["ok"]
    claims = watched.queries.account_claims(visit.account_no)["claims"]
    assert [(c["claim_id"], c["paid_cents"]) for c in claims] == [(CLAIM_ID, 8_000)]


def test_events_saved_by_another_writer_meanwhile_make_it_fold_them_again_after_the_save(
        ledger: BillingLedger, watched: Watched, tmp_path: Path) -> None:
    other = BillingLedger(env=ledger.env, actor="frontdesk")

    def another_writer(stored: Sequence[StoredEvent], first: int) -> None:
        register_patient(other, last_name="ROE")   # lands at `first`: the file's events after it
    ledger.before_save.append(another_writer)

    assert post_example(ledger) == "posted"

    assert watched.kept == [False]
    assert watched.queries.position() == ledger.events_count()
    assert watched.queries.verify()["ok"]
    assert [a["name"] for a in watched.queries.accounts("ROE")] == ["ROE, JOHN"]


def test_a_file_the_verdict_refuses_leaves_events_and_read_models_as_they_were(
        ledger: BillingLedger, watched: Watched) -> None:
    before = (ledger.events_count(), watched.queries.position())
    document = parse_835(EXAMPLE.read_bytes(), EXAMPLE.name).document
    with freeze_time(TODAY):
        result = ledger.import_remittance(document, confirm=lambda: False)

    assert result.status == "refused"
    assert watched.kept == []
    assert (ledger.events_count(), watched.queries.position()) == before
    assert watched.queries.verify()["ok"]


def test_read_models_behind_are_caught_up_before_the_fold(
        ledger: BillingLedger, claim_id: str, visit: Visit) -> None:
    # Opened before the claim's last events and not told of them: behind by a few events.
    queries = BillingQueries(store_for(ledger), ledger.recorder, ledger.mapper, ledger.name)
    ledger.before_save.append(queries.fold_ahead)
    assert queries.position() == 0

    assert post_example(ledger) == "posted"

    assert queries.position() == ledger.events_count()
    assert queries.verify()["ok"]
    queries.close()


def test_a_file_folded_in_several_pages_is_written_page_by_page(
        ledger: BillingLedger, watched: Watched, monkeypatch: pytest.MonkeyPatch) -> None:
    # The reversal file's events change the claim's row one after the other: each page
    # folds on the rows the pages before it left, none of which the store has yet.
    monkeypatch.setattr(catchup, "AHEAD_PAGE", 1)
    assert post_example(ledger) == "posted"
    assert post_example(ledger, REVERSAL) == "posted"

    assert watched.kept == [True, True]
    assert watched.queries.position() == ledger.events_count()
    assert watched.queries.verify()["ok"]


def test_a_file_too_large_to_hold_folded_is_folded_after_its_save(
        ledger: BillingLedger, claim_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catchup, "AHEAD_MAX", 8)   # the example has 9 events
    queries = BillingQueries.for_ledger(ledger)
    offered: list[object] = []
    ledger.before_save.append(lambda stored, first: offered.append(
        queries.fold_ahead(stored, first)))
    ledger.after_save.append(queries.catch_up)

    assert post_example(ledger) == "posted"

    assert offered == [None]
    assert queries.position() == ledger.events_count()
    assert queries.verify()["ok"]
    queries.close()
