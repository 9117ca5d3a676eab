"""Two billers posting to the same account and claim at once: nothing lost, nothing doubled."""

from __future__ import annotations

import multiprocessing
from datetime import date
from pathlib import Path

import pytest
from freezegun import freeze_time

from domain.application import BillingLedger
from domain.storage import resolve_store
from tests.builders import TODAY, open_visit, register_patient, set_up_practice

PAYMENTS_PER_BILLER = 25
AMOUNT = 100


def _post_payments(db: str, biller: str, account: str, start: multiprocessing.synchronize.Event,
                   done: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    with freeze_time(TODAY):
        ledger = BillingLedger(env=resolve_store(db).event_store_env(), actor=biller)
        start.wait()
        posted = 0
        for n in range(PAYMENTS_PER_BILLER):
            ledger.post_patient_payment(account, AMOUNT, paid_on=date(2025, 3, 1),
                                        reference=f"{biller}-{n}")
            posted += 1
        done.put(posted)


def _race(db: str, account: str) -> list[int]:
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    done: multiprocessing.Queue = context.Queue()  # type: ignore[type-arg]
    workers = [context.Process(target=_post_payments, args=(db, name, account, start, done))
               for name in ("biller-a", "biller-b")]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    return [done.get(timeout=5) for _ in workers]


def _setup(db: str) -> tuple[BillingLedger, str, str]:
    with freeze_time(TODAY):
        ledger = BillingLedger(env=resolve_store(db).event_store_env(), actor="setup")
        set_up_practice(ledger)
        account = register_patient(ledger, coverage=())
        visit = open_visit(ledger, account, self_pay=True)   # 150 + 50 owed by the patient
    return ledger, account, visit.encounter_id


def _check(ledger: BillingLedger, encounter_id: str) -> None:
    encounter = ledger.encounter(encounter_id)
    paid = 2 * PAYMENTS_PER_BILLER * AMOUNT
    # The same total a serial run gives: every payment applied exactly once.
    assert encounter.balance_cents == 20_000 - paid
    payments = [e for e in encounter.entries.values() if e["name"] == "PaymentPosted"]
    assert len(payments) == 2 * PAYMENTS_PER_BILLER


def test_two_processes_posting_to_one_account_on_sqlite(tmp_path: Path) -> None:
    db = str(tmp_path / "shared.sqlite3")
    _, account, encounter_id = _setup(db)
    assert _race(db, account) == [PAYMENTS_PER_BILLER, PAYMENTS_PER_BILLER]
    _check(BillingLedger(env=resolve_store(db).event_store_env()), encounter_id)


@pytest.mark.postgres
def test_two_app_servers_posting_to_one_account_on_postgresql() -> None:
    from tests.pg import drop_pg_database, fresh_pg_database, pg_url_or_skip

    url = fresh_pg_database(pg_url_or_skip())
    try:
        ledger, account, encounter_id = _setup(url)
        assert _race(url, account) == [PAYMENTS_PER_BILLER, PAYMENTS_PER_BILLER]
        checker = BillingLedger(env=resolve_store(url).event_store_env())
        _check(checker, encounter_id)
        checker.close()
        ledger.close()
    finally:
        drop_pg_database(url)
