"""The read models on PostgreSQL: same rows, same answers, same verify, as on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import psycopg
import pytest
from freezegun import freeze_time

from domain.application import BillingLedger
from domain.storage import resolve_store
from projections.queries import BillingQueries
from tests.builders import (
    PRIMARY,
    TODAY,
    open_visit,
    register_patient,
    set_up_practice,
    submitted_claim,
    worked_example_remit,
)
from tests.pg import drop_pg_database, fresh_pg_database, pg_url_or_skip

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_ledger() -> Iterator[BillingLedger]:
    url = fresh_pg_database(pg_url_or_skip())
    try:
        with freeze_time(TODAY):
            store = resolve_store(url)
            ledger = BillingLedger(env=store.event_store_env(), actor="biller", seed=7)
            ledger.store = store  # type: ignore[attr-defined]  (as the CLI wiring does)
            yield ledger
            ledger.close()
    finally:
        drop_pg_database(url)


def test_balances_history_aging_and_verify_on_postgresql(pg_ledger: BillingLedger) -> None:
    ledger = pg_ledger
    set_up_practice(ledger)
    queries = BillingQueries.for_ledger(ledger)
    ledger.after_save.append(queries.catch_up)
    account = register_patient(ledger)
    visit = open_visit(ledger, account)
    claim_id = submitted_claim(ledger, visit.encounter_id)
    ledger.post_remittance(worked_example_remit(claim_id))

    answer = queries.account(account)
    assert (answer["balance_cents"], answer["insurance_cents"], answer["patient_cents"],
            answer["by_party"]) == (5_000, 0, 5_000, {"PATIENT": 5_000})
    assert queries.account(account, as_of=date(2025, 1, 31))["by_party"] == {PRIMARY: 20_000}
    history = queries.account_history(account)
    assert history[-1]["balance_cents"] == 5_000
    assert queries.account_history(account, limit=3, offset=2) == history[2:5]
    assert queries.account_history(account, offset=4) == history[4:]
    assert [a["account_no"] for a in queries.accounts(offset=0, limit=5)] == [account]
    assert queries.queue("unbilled", as_of=TODAY)["count"] == 0
    assert queries.kpis(TODAY)["gross_charges_cents"] == 20_000
    assert queries.statement_run(TODAY, all_cycles=True)["candidates"][0][
        "guarantor_account_no"] == account
    assert [a["account_no"] for a in queries.accounts(search="doe")] == [account]
    assert queries.aging(TODAY)["buckets"]["31-60"] == {
        "insurance_cents": 0, "patient_cents": 5_000, "agency_cents": 0}
    # COPY's text format: tabs, newlines and backslashes in a value must survive it.
    awkward = "left\tright\nnext line \\ and a backslash"
    ledger.write_off(visit.encounter_id, visit.line_ids[0], "PATIENT", kind="small-balance",
                     reason=awkward, amount_cents=100)
    assert queries.store.scalar(
        "SELECT reason FROM rm_postings WHERE kind = 'small-balance'") == awkward
    assert queries.account_history(account)[-1]["details"]["reason"] == awkward
    report = queries.verify()
    assert report["ok"], report["first_difference"]

    position = queries.store.scalar(
        "SELECT MIN(position) FROM rm_postings WHERE event_type = 'PaymentPosted'")
    with psycopg.connect(ledger.store.url, autocommit=True) as conn:  # type: ignore[attr-defined]
        conn.execute("UPDATE rm_postings SET amount_cents = 1 WHERE position = %s", (position,))
    assert queries.verify()["first_difference"] == (
        f"table rm_postings row {position}/0 column amount_cents: live 1 != rebuilt 8000")
    assert queries.rebuild() == ledger.events_count()
    assert queries.verify()["ok"]
    queries.close()
