"""Roles, --as-user, period close, the PHI access log, the hash chain, encryption, migration."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest

from domain.application import BillingLedger
from domain.errors import PeriodClosedError, PermissionDenied, RuleViolation
from domain.migration import copy_events
from domain.services.core import chain_break
from domain.storage import resolve_store
from projections.store_backup import backup_sqlite
from tests.builders import open_visit, register_patient, submitted_claim, worked_example_remit
from tests.conftest import LedgerFactory


@pytest.fixture
def demo_roles(ledger: BillingLedger, practice: object) -> BillingLedger:
    ledger.seed_role_users()
    return ledger


class TestRoles:
    def test_an_auditor_cannot_post_money_and_nothing_is_recorded(
            self, demo_roles: BillingLedger, ledger_factory: LedgerFactory) -> None:
        account = register_patient(demo_roles)
        before = demo_roles.events_count()
        auditor = ledger_factory(actor="auditor")
        with pytest.raises(PermissionDenied, match="needs the biller or supervisor role"):
            auditor.post_patient_payment(account, 1_000)
        assert demo_roles.events_count() == before

    def test_a_registrar_registers_but_does_not_write_off(
            self, demo_roles: BillingLedger, ledger_factory: LedgerFactory) -> None:
        registrar = ledger_factory(actor="registrar")
        account = register_patient(registrar)
        visit = open_visit(demo_roles, account)
        with pytest.raises(PermissionDenied, match="registrar role"):
            registrar.write_off(visit.encounter_id, visit.line_ids[0], "12345",
                                kind="administrative", reason="test")

    def test_a_large_write_off_needs_a_second_person_who_is_a_supervisor(
            self, demo_roles: BillingLedger, ledger_factory: LedgerFactory) -> None:
        account = register_patient(demo_roles)
        visit = open_visit(demo_roles, account)
        line = visit.line_ids[0]
        biller = ledger_factory(actor="biller")
        before = biller.events_count()
        with pytest.raises(PermissionDenied, match="above 10000 cents needs a supervisor"):
            biller.write_off(visit.encounter_id, line, "12345", kind="administrative",
                             reason="too big for a biller")
        assert biller.events_count() == before
        request = biller.request_write_off(visit.encounter_id, line, "12345",
                                           kind="administrative", reason="payer closed")
        with pytest.raises(PermissionDenied, match="supervisor"):
            biller.approve_write_off(visit.encounter_id, request)
        supervisor = ledger_factory(actor="supervisor")
        supervisor.approve_write_off(visit.encounter_id, request)
        assert supervisor.encounter(visit.encounter_id).line_balance(line) == 0

    def test_a_supervisor_cannot_approve_their_own_write_off(
            self, demo_roles: BillingLedger, ledger_factory: LedgerFactory) -> None:
        visit = open_visit(demo_roles, register_patient(demo_roles))
        supervisor = ledger_factory(actor="supervisor")
        request = supervisor.request_write_off(visit.encounter_id, visit.line_ids[0], "12345",
                                               kind="administrative", reason="x")
        with pytest.raises(RuleViolation, match="cannot approve their own write-off"):
            supervisor.approve_write_off(visit.encounter_id, request)

    def test_a_small_balance_write_off_must_be_small(
            self, demo_roles: BillingLedger) -> None:
        visit = open_visit(demo_roles, register_patient(demo_roles), self_pay=True)
        with pytest.raises(Exception, match="under 500 cents"):
            demo_roles.write_off(visit.encounter_id, visit.line_ids[1], "PATIENT",
                                 kind="small-balance", reason="tiny", amount_cents=600)
        demo_roles.write_off(visit.encounter_id, visit.line_ids[1], "PATIENT",
                             kind="small-balance", reason="tiny", amount_cents=499)

    def test_the_requester_cannot_approve_their_own_refund(
            self, demo_roles: BillingLedger, ledger_factory: LedgerFactory) -> None:
        account = register_patient(demo_roles)
        open_visit(demo_roles, account, self_pay=True)
        supervisor = ledger_factory(actor="supervisor")
        supervisor.post_patient_payment(account, 30_000)
        request = supervisor.request_refund(account, 10_000, reason="overpaid")
        with pytest.raises(RuleViolation, match="cannot approve their own"):
            supervisor.approve_refund(account, request)

    def test_a_closed_ledger_refuses_unknown_users(
            self, ledger_factory: LedgerFactory) -> None:
        owner = ledger_factory(actor="alice")
        owner.initialize("alice")
        stranger = ledger_factory(actor="mallory")
        with pytest.raises(PermissionDenied, match="not a user of this ledger"):
            stranger.register_patient("X", "Y", date(1990, 1, 1), "F")

    def test_a_biller_cannot_use_as_user_to_act_as_a_supervisor(
            self, ledger_factory: LedgerFactory) -> None:
        admin = ledger_factory(actor="alice")
        admin.initialize("alice")
        admin.add_user("bob", "biller")
        admin.add_user("sue", "supervisor")
        impostor = ledger_factory(actor="bob")      # bob's OS login
        impostor.as_user = "sue"                     # claimdesk --as-user sue
        before = admin.events_count()
        with pytest.raises(PermissionDenied, match="only an admin of this ledger"):
            impostor.close_period("2025-01")
        assert admin.events_count() == before
        admin_as_sue = ledger_factory(actor="alice")
        admin_as_sue.as_user = "sue"
        assert admin_as_sue.close_period("2025-01") == date(2025, 1, 31)
        assert admin.events_count() == before + 1

    def test_disabled_users_are_refused(self, ledger_factory: LedgerFactory) -> None:
        admin = ledger_factory(actor="alice")
        admin.initialize("alice")
        admin.add_user("bob", "biller")
        admin.disable_user("bob", "left the company")
        bob = ledger_factory(actor="bob")
        with pytest.raises(PermissionDenied, match="disabled"):
            bob.register_patient("X", "Y", date(1990, 1, 1), "F")


class TestPeriodClose:
    def test_postings_dated_in_a_closed_period_are_refused(
            self, demo_roles: BillingLedger, ledger_factory: LedgerFactory) -> None:
        account = register_patient(demo_roles)
        visit = open_visit(demo_roles, account, self_pay=True)
        ledger_factory(actor="supervisor").close_period("2025-01")
        before = demo_roles.events_count()
        with pytest.raises(PeriodClosedError, match="closed through 2025-01-31"):
            demo_roles.post_patient_payment(account, 1_000, paid_on=date(2025, 1, 20))
        assert demo_roles.events_count() == before
        demo_roles.post_patient_payment(account, 1_000, paid_on=date(2025, 2, 1))
        assert demo_roles.encounter(visit.encounter_id).balance_cents == 19_000

    def test_a_month_that_has_not_ended_cannot_be_closed(
            self, demo_roles: BillingLedger, ledger_factory: LedgerFactory) -> None:
        with pytest.raises(Exception, match="has not ended"):
            ledger_factory(actor="supervisor").close_period("2025-03")


class TestAccessLog:
    def test_reads_of_an_account_are_listed_for_auditors(
            self, demo_roles: BillingLedger, ledger_factory: LedgerFactory) -> None:
        account = register_patient(demo_roles)
        biller = ledger_factory(actor="biller")
        biller.record_access("account.show", account)
        auditor = ledger_factory(actor="auditor")
        rows = auditor.audit_log(user="biller")
        assert [(r["user"], r["action"], r["subject"]) for r in rows] == [
            ("biller", "account.show", account)]
        with pytest.raises(PermissionDenied, match="for auditors"):
            biller.audit_log()

    def test_an_admin_does_not_read_phi(
            self, demo_roles: BillingLedger, ledger_factory: LedgerFactory) -> None:
        with pytest.raises(PermissionDenied, match="may not read patient information"):
            ledger_factory(actor="admin").record_access("account.show", "A1")


class TestHashChain:
    def test_an_altered_event_is_named(
            self, ledger: BillingLedger, practice: object, ledger_path: Path) -> None:
        account = register_patient(ledger)
        visit = open_visit(ledger, account)
        claim = submitted_claim(ledger, visit.encounter_id)
        ledger.post_remittance(worked_example_remit(claim))
        assert chain_break(ledger) is None
        con = sqlite3.connect(ledger_path)
        rowid, state = con.execute(
            "SELECT rowid, state FROM stored_events WHERE topic LIKE '%PaymentPosted'"
        ).fetchone()
        con.execute("UPDATE stored_events SET state = ? WHERE rowid = ?",
                    (state.replace(b'"amount_cents":8000', b'"amount_cents":9000'), rowid))
        con.commit()
        con.close()
        broken = chain_break(BillingLedger(env=resolve_store(str(ledger_path)).event_store_env()))
        assert broken is not None
        assert broken["type"] == "PaymentPosted"
        assert broken["position"] == rowid


class TestEncryptionAtRest:
    def test_an_encrypted_ledger_reads_back_only_with_its_key(
            self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            frozen_clock: object) -> None:
        from domain.storage import new_cipher_key

        path = tmp_path / "secret.sqlite3"
        monkeypatch.setenv("CLAIMDESK_CIPHER_KEY", new_cipher_key())
        writer = BillingLedger(env=resolve_store(str(path)).event_store_env(), actor="t")
        account = writer.register_patient("SECRET", "PATIENT", date(1970, 5, 5), "F")
        raw = path.read_bytes()
        assert b"SECRET" not in raw
        reader = BillingLedger(env=resolve_store(str(path)).event_store_env(), actor="t")
        assert reader.account(account).last_name == "SECRET"
        monkeypatch.setenv("CLAIMDESK_CIPHER_KEY", new_cipher_key())
        wrong = BillingLedger(env=resolve_store(str(path)).event_store_env(), actor="t")
        with pytest.raises(Exception):  # noqa: B017 - any decryption failure will do
            wrong.account(account)
        monkeypatch.delenv("CLAIMDESK_CIPHER_KEY")
        keyless = BillingLedger(env=resolve_store(str(path)).event_store_env(), actor="t")
        with pytest.raises(Exception):  # noqa: B017
            keyless.account(account)


class TestBackupAndMigration:
    def test_a_backup_is_a_consistent_copy(
            self, ledger: BillingLedger, practice: object, ledger_path: Path,
            tmp_path: Path) -> None:
        register_patient(ledger)
        copy = tmp_path / "copy.sqlite3"
        backup_sqlite(ledger_path, copy)
        restored = BillingLedger(env=resolve_store(str(copy)).event_store_env())
        assert restored.events_count() == ledger.events_count()
        assert chain_break(restored) is None
        with pytest.raises(FileExistsError):
            backup_sqlite(ledger_path, copy)

    def test_migration_copies_every_event_in_order_and_resumes(
            self, ledger: BillingLedger, practice: object, tmp_path: Path) -> None:
        register_patient(ledger)
        target = BillingLedger(
            env=resolve_store(str(tmp_path / "target.sqlite3")).event_store_env())
        assert copy_events(ledger, target) == ledger.events_count()
        assert copy_events(ledger, target) == 0
        assert chain_break(target) is None
        source_topics = [n.topic for n in ledger.iter_notifications()]
        assert [n.topic for n in target.iter_notifications()] == source_topics

    @pytest.mark.postgres
    def test_migration_to_postgresql(
            self, ledger: BillingLedger, practice: object) -> None:
        from tests.pg import drop_pg_database, fresh_pg_database, pg_url_or_skip

        url = fresh_pg_database(pg_url_or_skip())
        try:
            account = register_patient(ledger)
            target = BillingLedger(env=resolve_store(url).event_store_env())
            copy_events(ledger, target)
            assert chain_break(target) is None
            assert target.account(account).last_name == "DOE"
            target.close()
        finally:
            drop_pg_database(url)
