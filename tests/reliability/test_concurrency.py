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


def test_an_835_posted_by_another_importer_between_our_check_and_our_reads_is_already_posted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The read skew CI caught on PostgreSQL, made deterministic on one SQLite file.

    Importer A finds the file new, then importer B posts it before A reads the claim; A must
    answer "already-posted" (retrying on fresh state), not refuse the file.
    """
    from importers.remittance_import import import_835_file
    from tests.postgres.test_scenarios_on_postgresql import ERA, ledger_with_claim_waiting

    db = str(tmp_path / "shared.sqlite3")
    ledger_with_claim_waiting(db)
    with freeze_time(TODAY):
        first = BillingLedger(env=resolve_store(db).event_store_env(), actor="era-a")
        second = BillingLedger(env=resolve_store(db).event_store_env(), actor="era-b")
        real = type(first)._new_advices
        interleaved: list[str] = []

        def check_then_lose_the_race(self: BillingLedger, document: object) -> object:
            found = real(self, document)  # type: ignore[arg-type]
            if not interleaved:
                interleaved.append(import_835_file(second, ERA).status)
            return found

        monkeypatch.setattr(first, "_new_advices",
                            check_then_lose_the_race.__get__(first))
        before = first.events_count()
        result = import_835_file(first, ERA)
    assert interleaved == ["posted"]
    assert (result.status, result.matched, result.payment_cents) == ("already-posted", 1, 8000)
    assert first.events_count() == before + 9   # B's posting (the worked example's 9 events) only
