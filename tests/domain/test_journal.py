"""Double entry: `domain.ledger.journal_entry_for` balances for every money event (STYLE.md §6)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

import pytest
from freezegun import freeze_time

from domain.application import BillingLedger
from domain.ledger import (
    AGENCY,
    MONEY_EVENTS,
    PATIENT,
    JournalEntry,
    JournalLine,
    LedgerAccount,
    UnbalancedEntryError,
    event_postings,
    journal_entry_for,
)
from tests.builders import (
    PRIMARY,
    SECONDARY,
    TODAY,
    cas,
    open_visit,
    recorded_since,
    register_patient,
    remit,
    reversal_of,
    set_up_practice,
    submitted_claim,
    svc,
    worked_example_remit,
)

AR = {LedgerAccount.AR_INSURANCE, LedgerAccount.AR_PATIENT, LedgerAccount.AR_AGENCY}


def popo_ledger(actor: str = "biller") -> BillingLedger:
    return BillingLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, actor=actor, seed=3)


def journal(events: Iterable[Any]) -> Iterator[JournalEntry]:
    for event in events:
        entry = journal_entry_for(type(event).__name__, event.__dict__)
        if entry is not None:
            yield entry


def trial_balance(events: Iterable[Any]) -> dict[LedgerAccount, int]:
    totals: dict[LedgerAccount, int] = {}
    for entry in journal(events):
        for line in entry.lines:
            totals[line.account] = totals.get(line.account, 0) + line.amount_cents
    return {account: cents for account, cents in totals.items() if cents}


@pytest.fixture(scope="module")
def history() -> list[Any]:
    """Every kind of money event, from real commands: 835s, reversals, write-offs, collections."""
    with freeze_time(TODAY):
        ledger = popo_ledger()
        set_up_practice(ledger)
        # Primary pays, PR goes to the secondary (payer to payer), which pays and bills PR.
        insured = register_patient(ledger, coverage=(PRIMARY, SECONDARY))
        visit = open_visit(ledger, insured)
        ledger.post_remittance(worked_example_remit(submitted_claim(ledger, visit.encounter_id)))
        secondary = submitted_claim(ledger, visit.encounter_id, SECONDARY, batch_id="B2")
        ledger.post_remittance(remit(
            secondary, svc("99214", 15_000, 1_500, cas("OA-23", 13_000), cas("PR-2", 500),
                           modifiers=("25",)),
            svc("93000", 5_000, 3_000, cas("OA-23", 2_000)), icn="BETA1", status_code="2"))
        # A second visit: paid, reversed by the payer, then a denial on the correction.
        second = open_visit(ledger, insured, charges=["99213", "36415"],
                            service_date=date(2025, 2, 3))
        claim_id = submitted_claim(ledger, second.encounter_id, batch_id="B3")
        paid = remit(claim_id, svc("99213", 10_000, 6_000, cas("CO-45", 3_000),
                                   cas("PR-3", 1_000)),
                     svc("36415", 2_500, 1_000, cas("CO-45", 1_500)), icn="ICN2")
        ledger.post_remittance(paid)
        ledger.post_remittance(reversal_of(paid, paid_on=date(2025, 3, 1)))
        ledger.post_remittance(remit(claim_id, svc("99213", 10_000, 7_000, cas("CO-45", 3_000)),
                                     svc("36415", 2_500, 0, cas("CO-97", 2_500)), icn="ICN3",
                                     paid_on=date(2025, 3, 1)))
        ledger.post_adjustment(second.encounter_id, second.line_ids[0], PRIMARY, 100,
                               group="OA", carc="94")
        # The patient overpays, is refunded by a supervisor, a charge entered in error goes.
        ledger.post_patient_payment(insured, 1_600)
        request_id = ledger.request_refund(insured, 100, reason="overpaid")
        ledger.actor = "supervisor"
        ledger.approve_refund(insured, request_id)
        ledger.actor = "biller"
        error = ledger.enter_charge(second.encounter_id, "J1100")
        ledger.reverse_charge(second.encounter_id, error, "entered in error")
        # An uninsured patient: discount, write-offs, collections, recovery, recall.
        uninsured = register_patient(ledger, first_name="RICK", coverage=())
        ledger.grant_discount(uninsured, "prompt-pay", 10, effective_on=date(2024, 1, 1))
        own = open_visit(ledger, uninsured, charges=["99214", "93000", "36415"])
        for kind in ("small-balance", "administrative", "charity", "timely-filing",
                     "denial-write-off"):
            ledger.write_off(own.encounter_id, own.line_ids[2], PATIENT, kind=kind,
                             reason="policy", amount_cents=100)
        ledger.refer_to_collections(uninsured, "ACME RECOVERY")
        ledger.record_agency_recovery(uninsured, 5_000, fee_cents=1_500)
        ledger.recall_from_agency(uninsured, "dispute")
        return recorded_since(ledger, 0)


def examples(history: list[Any], name: str) -> list[Any]:
    return [e for e in history if type(e).__name__ == name]


@pytest.mark.parametrize("name", sorted(MONEY_EVENTS))
def test_every_money_event_type_journals_to_a_balanced_entry(
    history: list[Any], name: str,
) -> None:
    found = examples(history, name)
    assert found, f"the history has no {name}"
    for event in found:
        entry = journal_entry_for(name, event.__dict__)
        parties = {p.party for p in event_postings(event)}
        if entry is None:  # only a move between two payers' receivables is no journal entry
            assert name in ("ResponsibilityTransferred", "EntryReversed")
            assert not parties & {PATIENT, AGENCY}
            continue
        assert len(entry.lines) >= 2
        assert sum(line.amount_cents for line in entry.lines) == 0


@pytest.mark.parametrize(("kind", "account"), [
    ("contractual", LedgerAccount.CONTRACTUAL_ALLOWANCE),
    ("payer", LedgerAccount.OTHER_ADJUSTMENTS),
    ("discount", LedgerAccount.DISCOUNTS),
    ("charity", LedgerAccount.DISCOUNTS),
    ("bad-debt", LedgerAccount.BAD_DEBT),
    ("small-balance", LedgerAccount.OTHER_ADJUSTMENTS),
    ("administrative", LedgerAccount.OTHER_ADJUSTMENTS),
    ("timely-filing", LedgerAccount.OTHER_ADJUSTMENTS),
    ("denial-write-off", LedgerAccount.OTHER_ADJUSTMENTS),
])
def test_each_adjustment_kind_lands_in_its_contra_account(
    history: list[Any], kind: str, account: LedgerAccount,
) -> None:
    adjustments = [e for e in examples(history, "AdjustmentPosted") if e.kind == kind]
    assert adjustments, f"the history has no {kind} adjustment"
    for event in adjustments:
        entry = journal_entry_for("AdjustmentPosted", event.__dict__)
        assert entry is not None
        assert {line.account for line in entry.lines} - AR == {account}


def test_events_that_move_no_money_have_no_journal_entry(history: list[Any]) -> None:
    others = [e for e in history if type(e).__name__ not in MONEY_EVENTS]
    assert others
    assert all(journal_entry_for(type(e).__name__, e.__dict__) is None for e in others)


def test_the_trial_balance_sums_to_zero_and_receivables_match_the_buckets(
    history: list[Any],
) -> None:
    balance = trial_balance(history)
    assert sum(balance.values()) == 0
    buckets: dict[str, int] = {}
    for event in history:
        for posting in event_postings(event):
            key = posting.party if posting.party in (PATIENT, AGENCY) else "PAYER"
            buckets[key] = buckets.get(key, 0) + posting.bucket_delta
    assert balance.get(LedgerAccount.AR_INSURANCE, 0) == buckets.get("PAYER", 0)
    assert balance.get(LedgerAccount.AR_PATIENT, 0) == buckets.get(PATIENT, 0)
    assert balance.get(LedgerAccount.AR_AGENCY, 0) == buckets.get(AGENCY, 0)


def test_the_style_guide_example_charge_paid_80_co45_50_pr2_20() -> None:
    with freeze_time(TODAY):
        ledger = popo_ledger()
        set_up_practice(ledger)
        visit = open_visit(ledger, register_patient(ledger), charges=[("99214", ("25",))])
        claim_id = submitted_claim(ledger, visit.encounter_id)
        before = ledger.events_count()
        ledger.post_remittance(remit(claim_id, svc(
            "99214", 15_000, 8_000, cas("CO-45", 5_000), cas("PR-2", 2_000),
            modifiers=("25",))))
        posted = recorded_since(ledger, before)

    entries = [{line.account: line.amount_cents for line in entry.lines}
               for entry in journal(posted)]
    assert entries == [
        {LedgerAccount.CASH: 8_000, LedgerAccount.AR_INSURANCE: -8_000},
        {LedgerAccount.CONTRACTUAL_ALLOWANCE: 5_000, LedgerAccount.AR_INSURANCE: -5_000},
        {LedgerAccount.AR_INSURANCE: -2_000, LedgerAccount.AR_PATIENT: 2_000},
    ]
    everything = trial_balance(recorded_since(ledger, 0))
    assert LedgerAccount.AR_INSURANCE not in everything   # insurance A/R ends at 0
    assert everything[LedgerAccount.AR_PATIENT] == 2_000  # patient A/R at $20.00


def test_a_posting_and_its_reversal_net_every_account_to_zero() -> None:
    with freeze_time(TODAY):
        ledger = popo_ledger()
        set_up_practice(ledger)
        account = register_patient(ledger, coverage=())
        visit = open_visit(ledger, register_patient(ledger, first_name="RICK"))
        claim_id = submitted_claim(ledger, visit.encounter_id)
        own = open_visit(ledger, account, charges=["99213"])
        before = ledger.events_count()
        original = worked_example_remit(claim_id)
        ledger.post_remittance(original)
        ledger.post_remittance(reversal_of(original, paid_on=date(2025, 3, 1)))
        entry = ledger.write_off(own.encounter_id, own.line_ids[0], PATIENT, kind="bad-debt",
                                 reason="skip", amount_cents=1_000)
        ledger.reverse_entry(own.encounter_id, entry, "wrong account")
        round_trip = recorded_since(ledger, before)

    assert trial_balance(round_trip) == {}


def test_an_entry_must_have_two_lines_that_sum_to_zero() -> None:
    with pytest.raises(UnbalancedEntryError):
        JournalEntry((JournalLine(LedgerAccount.CASH, 100),
                      JournalLine(LedgerAccount.AR_PATIENT, -99)))
    with pytest.raises(UnbalancedEntryError):
        JournalEntry((JournalLine(LedgerAccount.CASH, 0),))
