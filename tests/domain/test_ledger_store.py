"""The ledger on its SQLite file: frozen dates persist, actors are recorded, conflicts retry."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError
from freezegun.api import FrozenDateTimeFactory

from domain.application import BillingLedger
from domain.errors import ConcurrencyError, NotFoundError
from tests.builders import (
    TODAY,
    Practice,
    open_visit,
    recorded_since,
    refused,
    register_patient,
    submitted_claim,
    worked_example_remit,
)
from tests.conftest import LedgerFactory


class TestFrozenClock:
    def test_dates_recorded_under_freeze_time_reload_equal_from_the_file(
        self, ledger: BillingLedger, ledger_factory: LedgerFactory, practice: Practice,
    ) -> None:
        account = register_patient(ledger, birth_date=date(1980, 2, 29))
        visit = open_visit(ledger, account)

        elsewhere = ledger_factory(actor="auditor")
        patient = elsewhere.account(account)
        assert (patient.registered_on, patient.birth_date) == (TODAY, date(1980, 2, 29))
        assert isinstance(patient.registered_on, date)
        assert not isinstance(patient.registered_on, datetime)
        line = elsewhere.encounter(visit.encounter_id).line(visit.line_ids[0])
        assert line["service_date"] == date(2025, 1, 10)

    def test_event_timestamps_are_the_frozen_instant(
        self, ledger: BillingLedger, practice: Practice,
    ) -> None:
        register_patient(ledger)
        stamps = {event.timestamp for event in recorded_since(ledger, 0)}
        assert stamps == {datetime(2025, 3, 10, tzinfo=UTC)}

    def test_moving_the_clock_moves_today_and_the_record_time_not_business_dates(
        self, ledger: BillingLedger, practice: Practice, frozen_clock: FrozenDateTimeFactory,
    ) -> None:
        account = register_patient(ledger, coverage=())
        visit = open_visit(ledger, account, charges=["99213"])
        frozen_clock.move_to("2025-04-02 15:30:00")
        before = ledger.events_count()
        ledger.post_patient_payment(account, 2_000, paid_on=date(2025, 3, 31))

        [payment] = recorded_since(ledger, before)
        assert payment.effective_on == date(2025, 3, 31)
        assert payment.timestamp == datetime(2025, 4, 2, 15, 30, tzinfo=UTC)
        assert ledger.today() == date(2025, 4, 2)
        assert ledger.encounter(visit.encounter_id).last_patient_payment_on == date(2025, 3, 31)


class TestActors:
    def test_every_event_carries_the_user_who_recorded_it(
        self, ledger: BillingLedger, ledger_factory: LedgerFactory, practice: Practice,
    ) -> None:
        account = register_patient(ledger)
        registrar = ledger_factory(actor="registrar")
        registrar.correct_demographics(account, "new phone", phone="555-0100")

        events = recorded_since(ledger, 0)
        assert all(isinstance(e.actor, str) and e.actor for e in events)
        assert events[-1].actor == "registrar"
        assert {e.actor for e in events[:-1]} == {"biller"}

    def test_without_a_named_actor_the_configured_identity_is_used(
        self, ledger_factory: LedgerFactory, monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setenv("CLAIMDESK_USER", "frontdesk2")
        ledger = ledger_factory(actor=None)
        ledger.register_payer("12345", "ACME HEALTH PLAN")
        assert recorded_since(ledger, 0)[0].actor == "frontdesk2"


class TestConcurrency:
    def test_a_command_that_loses_a_race_is_rerun_on_fresh_state(
        self, ledger: BillingLedger, ledger_factory: LedgerFactory, practice: Practice,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        account = register_patient(ledger)
        other_desk = ledger_factory(actor="registrar")
        save = ledger.save
        raced: list[bool] = []

        def save_after_the_other_desk(*aggregates: Any, **kwargs: Any) -> Any:
            if not raced:
                raced.append(True)
                other_desk.correct_demographics(account, "other desk", phone="555-0199")
            return save(*aggregates, **kwargs)

        monkeypatch.setattr(ledger, "save", save_after_the_other_desk)
        before = ledger.events_count()
        ledger.correct_demographics(account, "this desk", middle_name="Q")

        corrected = recorded_since(ledger, before)
        assert [(e.actor, e.changes) for e in corrected] == [
            ("registrar", {"phone": "555-0199"}), ("biller", {"middle_name": "Q"})]
        patient = ledger.account(account)
        assert (patient.phone, patient.middle_name) == ("555-0199", "Q")

    def test_a_command_that_keeps_losing_gives_up_and_records_nothing(
        self, ledger: BillingLedger, practice: Practice, monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        account = register_patient(ledger)

        def always_conflicts(*aggregates: Any, **kwargs: Any) -> Any:
            raise IntegrityError("someone else saved first")

        monkeypatch.setattr(ledger, "save", always_conflicts)
        with refused(ledger, ConcurrencyError, r"changed \d+ times while saving"):
            ledger.correct_demographics(account, "typo", phone="1")


class TestReload:
    def test_a_second_ledger_on_the_file_replays_the_same_money(
        self, ledger: BillingLedger, ledger_factory: LedgerFactory, practice: Practice,
    ) -> None:
        visit = open_visit(ledger, register_patient(ledger))
        ledger.post_remittance(worked_example_remit(
            submitted_claim(ledger, visit.encounter_id)))

        mine = ledger.encounter(visit.encounter_id)
        theirs = ledger_factory(actor="auditor").encounter(visit.encounter_id)
        assert theirs.lines == mine.lines
        assert theirs.entries == mine.entries
        assert theirs.version == mine.version

    @pytest.mark.parametrize(("read", "match"), [
        pytest.param(lambda ledger: ledger.encounter("V404"), "no encounter V404", id="encounter"),
        pytest.param(lambda ledger: ledger.claim("C404"), "no claim C404", id="claim"),
        pytest.param(lambda ledger: ledger.contract("K404"), "no contract K404", id="contract"),
        pytest.param(lambda ledger: ledger.payer("P404"), "no payer P404", id="payer"),
    ])
    def test_unknown_records_are_not_found_with_their_kind_and_key(
        self, ledger: BillingLedger, read: Any, match: str,
    ) -> None:
        with pytest.raises(NotFoundError, match=match):
            read(ledger)
