"""Catch-up, rebuild and verify: incremental equals full, unknown events, tampering found."""

from __future__ import annotations

import contextlib
import sqlite3
import tempfile
from datetime import date, timedelta
from pathlib import Path
from uuid import uuid4

from eventsourcing.persistence import StoredEvent
from freezegun import freeze_time
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.application import BillingLedger
from domain.base import stream_id
from domain.errors import BillingError
from domain.ledger import event_postings
from domain.storage import resolve_store
from projections.catchup import Projector, compare, fact_of
from projections.queries import BillingQueries, split
from projections.rows import Fold
from projections.state import MemoryState
from projections.store import SQLiteProjectionStore
from tests.builders import (
    PRIMARY,
    SECONDARY,
    TODAY,
    Practice,
    cas,
    open_visit,
    register_patient,
    remit,
    set_up_practice,
    submitted_claim,
    svc,
    worked_example_remit,
)


def tamper(path: Path, sql: str) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(sql)


class TestVerify:
    def test_verify_passes_on_untouched_read_models(
            self, ledger: BillingLedger, practice: Practice, queries: BillingQueries) -> None:
        account = register_patient(ledger)
        claim_id = submitted_claim(ledger, open_visit(ledger, account).encounter_id)
        ledger.post_remittance(worked_example_remit(claim_id))

        report = queries.verify()

        assert report["ok"] is True and report["first_difference"] is None
        assert report["position"] == ledger.events_count()
        assert report["tables"]["postings"] == {"live": 9, "rebuilt": 9}

    def test_verify_names_the_row_and_column_altered_by_hand(
            self, ledger: BillingLedger, practice: Practice, queries: BillingQueries,
            ledger_path: Path) -> None:
        account = register_patient(ledger)
        claim_id = submitted_claim(ledger, open_visit(ledger, account).encounter_id)
        ledger.post_remittance(worked_example_remit(claim_id))
        position = queries.store.scalar(
            "SELECT MIN(position) FROM rm_postings WHERE event_type = 'PaymentPosted'")
        tamper(ledger_path, "UPDATE rm_postings SET amount_cents = 9000 "
                            f"WHERE position = {position}")

        report = queries.verify()

        assert report["ok"] is False
        assert report["first_difference"] == (
            f"table rm_postings row {position}/0 column amount_cents: live 9000 != rebuilt 8000")

    def test_verify_names_a_row_missing_from_the_live_tables(
            self, ledger: BillingLedger, practice: Practice, queries: BillingQueries,
            ledger_path: Path) -> None:
        account = register_patient(ledger)
        tamper(ledger_path, f"DELETE FROM rm_accounts WHERE account_no = '{account}'")

        report = queries.verify()

        assert report["first_difference"] == (
            f"table rm_accounts row {account}: missing in live")


class TestCatchUp:
    def test_rebuild_gives_the_rows_incremental_catch_up_gave(
            self, ledger: BillingLedger, practice: Practice, queries: BillingQueries,
            tmp_path: Path) -> None:
        account = register_patient(ledger)
        claim_id = submitted_claim(ledger, open_visit(ledger, account).encounter_id)
        ledger.post_remittance(worked_example_remit(claim_id))
        ledger.post_patient_payment(account, 2_000)
        full = SQLiteProjectionStore(tmp_path / "full.sqlite3")
        full.setup("claimdesk")

        processed = Projector(full, ledger.recorder, ledger.mapper).rebuild()

        assert processed == ledger.events_count()
        assert compare(queries.store, full)["ok"]
        assert queries.rebuild() == ledger.events_count()
        assert compare(queries.store, full)["ok"]
        full.close()

    def test_two_readers_on_one_file_never_apply_a_page_twice(
            self, ledger: BillingLedger, practice: Practice, ledger_path: Path) -> None:
        first = BillingQueries.for_ledger(ledger)
        second = BillingQueries.for_ledger(ledger)
        account = register_patient(ledger)
        assert second.catch_up() > 0
        open_visit(ledger, account)
        assert first.catch_up() > 0        # first's cache was stale: it re-read, then wrote
        assert second.catch_up() == 0
        assert first.account(account)["balance_cents"] == 20_000
        assert first.verify()["ok"]
        first.close()
        second.close()

    def test_a_page_written_by_someone_else_meanwhile_is_not_written_again(
            self, ledger: BillingLedger, practice: Practice, queries: BillingQueries) -> None:
        register_patient(ledger)
        state = MemoryState()
        end = queries.position()
        assert queries.store.write(state, "claimdesk", end - 1, end + 5) is False
        assert queries.position() == end

    def test_events_from_a_newer_release_do_not_stop_catch_up(
            self, ledger: BillingLedger, practice: Practice, queries: BillingQueries) -> None:
        account = register_patient(ledger)
        visit = open_visit(ledger, account)
        encounter = ledger.encounter(visit.encounter_id)
        ledger.recorder.insert_events([
            StoredEvent(originator_id=stream_id("encounter", visit.encounter_id),
                        originator_version=encounter.version + 1,
                        topic="domain.encounter:Encounter.TeleHealthFlagged",
                        state=b'{"timestamp":{"_type_":"datetime_iso","_data_":'
                              b'"2025-03-10T08:00:00+00:00"},"actor":"future",'
                              b'"flag":{"_type_":"hologram","_data_":"x"}}'),
            StoredEvent(originator_id=uuid4(), originator_version=1,
                        topic="domain.robots:Robot.Built", state=b"not json"),
        ])
        open_visit(ledger, account, charges=["36415"])

        history = queries.account_history(account)

        assert queries.position() == ledger.events_count()
        flagged = [h for h in history if h["type"] == "TeleHealthFlagged"]
        assert [(h["actor"], h["encounter_id"], h["amount_cents"]) for h in flagged] == [
            ("future", visit.encounter_id, 0)]
        assert queries.account(account)["balance_cents"] == 22_500
        assert queries.verify()["ok"]

    def test_a_store_on_an_older_schema_version_rebuilds_itself(
            self, ledger: BillingLedger, practice: Practice, queries: BillingQueries,
            ledger_path: Path) -> None:
        account = register_patient(ledger)
        open_visit(ledger, account)
        tamper(ledger_path, "UPDATE rm_meta SET value = 'old' WHERE key = 'schema_version'")
        tamper(ledger_path, "UPDATE rm_postings SET amount_cents = 1")

        again = BillingQueries.for_ledger(ledger)

        assert again.account(account)["balance_cents"] == 20_000
        assert again.verify()["ok"]
        again.close()

    def test_an_index_no_query_uses_any_more_is_dropped_when_the_store_is_opened(
            self, ledger: BillingLedger, practice: Practice, queries: BillingQueries,
            ledger_path: Path) -> None:
        open_visit(ledger, register_patient(ledger))
        tamper(ledger_path, "CREATE INDEX rm_postings_encounter_id_ix ON rm_postings "
                            "(encounter_id)")

        again = BillingQueries.for_ledger(ledger)

        with sqlite3.connect(ledger_path) as conn:
            names = {n for (n,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "rm_postings_encounter_id_ix" not in names
        assert "rm_postings_line_id_ix" in names
        assert again.verify()["ok"]
        again.close()


# -- the property: incremental == full rebuild, and as-of D == the fold of events up to D ------

def _run(ledger: BillingLedger, step: tuple[str, int, int], state: dict[str, list[str]]) -> None:
    kind, a, b = step
    accounts, visits, claims = state["accounts"], state["visits"], state["claims"]
    if kind == "patient" or not accounts:
        coverage = [(), (PRIMARY,), (PRIMARY, SECONDARY)][a % 3]
        accounts.append(register_patient(ledger, last_name=f"P{len(accounts)}",
                                         coverage=coverage))
    elif kind == "visit":
        account = accounts[a % len(accounts)]
        charges = [["99213"], ["99214", "36415"], ["93000"]][b % 3]
        self_pay = not ledger.account(account).coverage_order
        visits.append(open_visit(ledger, account, charges=charges, self_pay=self_pay,
                                 service_date=TODAY - timedelta(days=5 + 17 * b)).encounter_id)
    elif kind == "claim" and visits:
        claims.append(submitted_claim(ledger, visits[a % len(visits)],
                                      submitted_on=TODAY - timedelta(days=b % 4)))
    elif kind == "remit" and claims:
        claim = ledger.claim(claims[a % len(claims)])
        encounter = ledger.encounter(claim.encounter_id)
        services = []
        for line_id in claim.line_ids:
            line = encounter.line(line_id)
            charge, pr = line["charge_cents"], (b % 5) * 300
            services.append(svc(line["code"], charge, charge - 1_000 - pr, cas("CO-45", 1_000),
                                cas("PR-2", pr), modifiers=tuple(line["modifiers"])))
        ledger.post_remittance(remit(claim.claim_id, *services, icn=f"ICN{a}{b}",
                                     paid_on=TODAY - timedelta(days=b % 9)))
    elif kind == "pay":
        ledger.post_patient_payment(accounts[a % len(accounts)], 100 + 700 * b,
                                    paid_on=TODAY - timedelta(days=b % 6))
    elif kind == "write_off" and visits:
        encounter = ledger.encounter(visits[a % len(visits)])
        line_id = next(iter(encounter.lines))
        ledger.write_off(encounter.encounter_id, line_id, "PATIENT", kind="small-balance",
                         reason="small balance")


STEPS = st.lists(st.tuples(
    st.sampled_from(["patient", "visit", "visit", "claim", "remit", "pay", "write_off"]),
    st.integers(0, 50), st.integers(0, 12)), min_size=3, max_size=14)


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=STEPS, as_of_days=st.integers(0, 240))
def test_incremental_catch_up_equals_a_full_rebuild_and_as_of_equals_the_fold_up_to_it(
        steps: list[tuple[str, int, int]], as_of_days: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, freeze_time(TODAY):
        path = Path(tmp) / "ledger.sqlite3"
        ledger = BillingLedger(env=resolve_store(str(path)).event_store_env(), actor="biller",
                               seed=3)
        set_up_practice(ledger)
        live = BillingQueries.for_ledger(ledger)
        live.projector.page = 4            # small pages: every page boundary is exercised
        ledger.after_save.append(live.catch_up)
        state: dict[str, list[str]] = {"accounts": [], "visits": [], "claims": []}
        for step in steps:
            with contextlib.suppress(BillingError):   # a refusal records nothing
                _run(ledger, step, state)

        full = SQLiteProjectionStore(Path(tmp) / "full.sqlite3")
        full.setup("claimdesk")
        Projector(full, ledger.recorder, ledger.mapper).rebuild()
        result = compare(live.store, full)
        assert result["ok"], result["first_difference"]

        memory = MemoryState()
        fold = Fold(memory)
        for notification in ledger.iter_notifications():
            fold.apply(fact_of(notification, ledger.mapper))
        as_of = TODAY - timedelta(days=as_of_days)
        for account in state["accounts"]:
            rows = {}
            for p in memory.table("postings"):
                if p["account_no"] == account and p["effective_on"] <= as_of.isoformat():
                    key = (p["line_id"], p["party"])
                    rows[key] = rows.get(key, 0) + p["bucket_delta"]
            expected = split([(line, party, c) for (line, party), c in rows.items()])
            answer = live.account(account, as_of=as_of)
            assert {k: answer[k] for k in expected} == expected
            assert answer["balance_cents"] == ledger_balance_as_of(ledger, account, as_of)
        full.close()
        live.close()
        ledger.close()


def ledger_balance_as_of(ledger: BillingLedger, account: str, as_of: date) -> int:
    """The write side's own answer, from its events: sum of balance effects up to the date."""
    total = 0
    for notification in ledger.iter_notifications():
        event = ledger.mapper.to_domain_event(notification)
        if getattr(event, "account_no", None) is None and not event_postings(event):
            continue
        for posting in event_postings(event):
            encounter_id = posting.line_id.rsplit("L", 1)[0]
            if ledger.encounter(encounter_id).account_no != account:
                continue
            effective = getattr(event, "effective_on", None) or event.service_date
            if effective <= as_of:
                total += posting.balance_delta
    return total
