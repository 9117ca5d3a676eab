"""Scenarios of the other issues, run on PostgreSQL end to end through `claimdesk`.

The `CLAIMDESK_TEST_STORE=postgres` pass (`make test-postgres`) reruns the ledger tests with
their ledgers in PostgreSQL; these add what only a whole command shows: a SQLite ledger
moved with `claimdesk migrate` answering exactly as before, an 835 posted once (and only
once, even by two application servers at the same moment), read models in PostgreSQL
verified against a rebuild.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time

from domain.application import BillingLedger
from domain.storage import resolve_store
from tests.builders import (
    TODAY,
    open_visit,
    register_patient,
    set_up_practice,
    submitted_claim,
    worked_example_remit,
)
from tests.pg import drop_pg_database, fresh_pg_database, pg_url_or_skip

pytestmark = pytest.mark.postgres

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "domain-examples"
ERA = str(EXAMPLES / "835_min.x12")   # DOMAIN §4: pays claim PCN20250115001


@pytest.fixture
def pg_url() -> Iterator[str]:
    url = fresh_pg_database(pg_url_or_skip())
    yield url
    drop_pg_database(url)


def claimdesk(capsys: pytest.CaptureFixture[str], db: str, *args: str) -> tuple[int, Any]:
    """`claimdesk --db DB ARGS --json` in process; (exit code, the JSON document)."""
    from tui.cli import main

    with freeze_time(TODAY):
        code = main(["--db", db, *args, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None


def ledger_with_claim_waiting(db: str) -> None:
    """DOMAIN §4's claim PCN20250115001, submitted in batch B1 (ST02 0001)."""
    with freeze_time(TODAY):
        ledger = BillingLedger(env=resolve_store(db).event_store_env(), actor="biller", seed=7)
        set_up_practice(ledger)
        visit = open_visit(ledger, register_patient(ledger))
        claim_id = ledger.create_claim(visit.encounter_id, claim_id="PCN20250115001")
        assert ledger.scrub_claim(claim_id) == []
        ledger.mark_submitted([claim_id], batch_id="B1", interchange_control="000000101",
                              transaction_controls={claim_id: "0001"})
        ledger.close()


def events_in(db: str) -> int:
    ledger = BillingLedger(env=resolve_store(db).event_store_env(), actor="auditor")
    try:
        return ledger.events_count()
    finally:
        ledger.close()


def test_an_835_posts_once_into_postgresql_and_its_read_models_verify(
        pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    ledger_with_claim_waiting(pg_url)
    code, doc = claimdesk(capsys, pg_url, "import", "835", ERA)
    assert (code, doc["status"], doc["matched"], doc["payment_cents"]) == (0, "posted", 1, 8000)
    after = events_in(pg_url)
    code, again = claimdesk(capsys, pg_url, "import", "835", ERA)
    assert (code, again["status"], again["events"]) == (0, "already-posted", 0)
    assert events_in(pg_url) == after
    code, verified = claimdesk(capsys, pg_url, "verify")
    assert code == 0 and verified["ok"], verified


def _import(url: str, start: Any, done: Any) -> None:
    from importers.remittance_import import import_835_file

    with freeze_time(TODAY):
        ledger = BillingLedger(env=resolve_store(url).event_store_env(), actor="era-poster")
        start.wait()
        result = import_835_file(ledger, ERA)
        done.put((result.status, result.message))
        ledger.close()


def test_two_app_servers_importing_the_same_835_at_once_post_it_once(pg_url: str) -> None:
    ledger_with_claim_waiting(pg_url)
    before = events_in(pg_url)
    context = multiprocessing.get_context("spawn")
    start, done = context.Event(), context.Queue()
    servers = [context.Process(target=_import, args=(pg_url, start, done)) for _ in range(2)]
    for server in servers:
        server.start()
    start.set()
    for server in servers:
        server.join(timeout=120)
        assert server.exitcode == 0
    answers = sorted(done.get(timeout=5) for _ in servers)
    assert [status for status, _ in answers] == ["already-posted", "posted"], answers
    # Exactly one posting: the worked example's 9 events, not 18.
    assert events_in(pg_url) - before == 9


def test_a_sqlite_ledger_moved_with_migrate_answers_the_same_on_postgresql(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sqlite = str(tmp_path / "ledger.sqlite3")
    with freeze_time(TODAY):
        ledger = BillingLedger(env=resolve_store(sqlite).event_store_env(), actor="biller",
                               seed=7)
        set_up_practice(ledger)
        account = register_patient(ledger)
        claim_id = submitted_claim(ledger, open_visit(ledger, account).encounter_id)
        ledger.post_remittance(worked_example_remit(claim_id))
        ledger.close()

    code, moved = claimdesk(capsys, sqlite, "migrate", "--to", pg_url)
    assert code == 0 and moved["ok"] and moved["copied"] == moved["events"] > 0, moved
    code, again = claimdesk(capsys, sqlite, "migrate", "--to", pg_url)
    assert (code, again["copied"], again["ok"]) == (0, 0, True)
    code, verified = claimdesk(capsys, pg_url, "verify")
    assert code == 0 and verified["ok"], verified
    for report in (["report", "aging", "--as-of", TODAY.isoformat()],
                   ["account", "show", account], ["account", "history", account]):
        _, on_sqlite = claimdesk(capsys, sqlite, *report)
        _, on_postgres = claimdesk(capsys, pg_url, *report)
        assert on_postgres == on_sqlite, report
