"""Read-model rows an older code version wrote (columns it did not fill are NULL) fold on."""

from __future__ import annotations

import pytest

from domain.application import BillingLedger
from projections.queries import BillingQueries
from projections.store import ReadModelVersionError
from tests.builders import PRIMARY, Practice, open_visit, register_patient


def test_a_line_without_payers_or_unclaimed_takes_its_claim(
        ledger: BillingLedger, practice: Practice) -> None:
    visit = open_visit(ledger, register_patient(ledger, coverage=(PRIMARY,)))
    old = BillingQueries.for_ledger(ledger)
    old.catch_up()
    assert old.queue("unbilled")["count"] == len(visit.line_ids)
    old.store.execute("UPDATE rm_lines SET payers = NULL, unclaimed = NULL")
    old.close()
    claim_id = ledger.create_claim(visit.encounter_id)

    queries = BillingQueries.for_ledger(ledger)   # a new process: rows come from the store
    try:
        queries.catch_up()   # folds LinesClaimed onto the old rows
        rows = queries.store.fetchall("SELECT line_id, claims, unclaimed FROM rm_lines")
        assert {line for line, _, _ in rows} == set(visit.line_ids)
        # Its payers unknown, a line stays flagged: the unbilled query checks postings itself.
        assert all(claim_id in claims and unclaimed == 1 for _, claims, unclaimed in rows)
        assert queries.queue("unbilled")["count"] == 0
    finally:
        queries.close()


def test_a_process_of_another_schema_version_writes_nothing_and_says_why(
        ledger: BillingLedger, practice: Practice) -> None:
    """A workstation left open while a newer claimdesk rebuilt the read models."""
    queries = BillingQueries.for_ledger(ledger)
    try:
        queries.catch_up()
        queries.store.execute("UPDATE rm_meta SET value = '999' WHERE key = 'schema_version'")
        tracked = queries.store.fetchall("SELECT name, position FROM rm_tracking")
        visits = queries.store.scalar("SELECT COUNT(*) FROM rm_encounters")
        open_visit(ledger, register_patient(ledger, coverage=(PRIMARY,)))
        with pytest.raises(ReadModelVersionError, match="restart claimdesk"):
            queries.catch_up()
        assert queries.store.fetchall("SELECT name, position FROM rm_tracking") == tracked
        assert queries.store.scalar("SELECT COUNT(*) FROM rm_encounters") == visits
    finally:
        queries.close()
