"""The demo practice: deterministic for a seed, and every kind of billing event is in it."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from domain.application import BillingLedger
from domain.codes import is_billable_icd10, is_valid_npi
from domain.errors import RuleViolation
from domain.storage import resolve_store
from importers.demo_practice import CLINICIANS, GROUP_NPI, SOLO_NPI, VISITS, build_demo

THROUGH = date(2025, 6, 30)
PATIENTS = 12


def new_ledger(path: Path, seed: int | None = None) -> BillingLedger:
    return BillingLedger(env=resolve_store(str(path)).event_store_env(), seed=seed)


def built(path: Path, seed: int, patients: int = PATIENTS,
          ) -> tuple[BillingLedger, dict[str, int]]:
    ledger = new_ledger(path, seed)
    return ledger, build_demo(ledger, patients=patients, seed=seed, through=THROUGH)


def events_of(ledger: BillingLedger) -> list[tuple[str, dict[str, Any]]]:
    return [(n.topic.rsplit(":", 1)[1], json.loads(n.state))
            for n in ledger.iter_notifications()]


def balances(ledger: BillingLedger, events: list[tuple[str, dict[str, Any]]],
             ) -> dict[str, dict[str, int]]:
    """Every account's balance by party, from the domain aggregates themselves."""
    out = {}
    for name, state in events:
        if name == "PatientAccount.Registered":
            account = ledger.account(state["account_no"])
            by_party: Counter[str] = Counter()
            for encounter_id in account.encounter_ids:
                by_party.update(ledger.encounter(encounter_id).balances_by_party())
            out[account.account_no] = dict(by_party)
    return out


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    ledger, counts = built(tmp_path_factory.mktemp("demo") / "ledger.sqlite3", seed=5)
    events = events_of(ledger)
    return {"ledger": ledger, "counts": counts, "events": events,
            "names": Counter(name for name, _ in events)}


def test_counts(demo: dict[str, Any]) -> None:
    counts = demo["counts"]
    assert counts["patients"] == PATIENTS == demo["names"]["PatientAccount.Registered"]
    assert counts["claims"] == demo["names"]["Claim.Created"]
    assert counts["events"] == len(demo["events"]) == demo["ledger"].events_count()


def test_same_seed_same_practice(demo: dict[str, Any], tmp_path: Path) -> None:
    ledger, counts = built(tmp_path / "again.sqlite3", seed=5)
    assert counts == demo["counts"]
    again = events_of(ledger)
    assert balances(ledger, again) == balances(demo["ledger"], demo["events"])

    def digest(events: list[tuple[str, dict[str, Any]]]) -> str:
        return hashlib.sha256(json.dumps(events, sort_keys=True).encode()).hexdigest()

    # Not only the totals: the very same events, recorded at the same simulated instants.
    assert digest(again) == digest(demo["events"])


def test_another_seed_another_practice(demo: dict[str, Any], tmp_path: Path) -> None:
    ledger, _ = built(tmp_path / "other.sqlite3", seed=6, patients=4)
    mine = balances(demo["ledger"], demo["events"])
    assert not set(balances(ledger, events_of(ledger))) & set(mine)  # other account numbers


def test_every_kind_of_event_is_in_the_demo(demo: dict[str, Any]) -> None:
    names = demo["names"]
    required = [
        "Provider.Enrolled", "Payer.PlanAdded", "Contract.Signed", "Contract.FeeSet",
        "Chargemaster.PriceSet", "PatientAccount.Registered", "PatientAccount.GuarantorSet",
        "PatientAccount.PolicyAdded", "PatientAccount.EligibilityRecorded",
        "PatientAccount.DiscountGranted", "Encounter.Opened", "Encounter.ChargeEntered",
        "Claim.Created", "Claim.MarkedReady", "Claim.Submitted", "Claim.Accepted",
        "Claim.Rejected", "Claim.ResendStarted", "Claim.Adjudicated",
        "Claim.AdjudicationReversed", "Claim.ReplacementStarted", "Claim.DenialWorked",
        "Claim.ScrubFailed", "Claim.FilingLimitOverridden", "Encounter.DiagnosesCorrected",
        "Encounter.PaymentPosted", "Encounter.AdjustmentPosted",
        "Encounter.ResponsibilityTransferred", "Encounter.EntryReversed",
        "Encounter.RefundIssued", "PatientAccount.StatementIssued",
        "PatientAccount.PaymentPlanAgreed", "PatientAccount.InstallmentMissed",
        "PatientAccount.RefundRequested", "PatientAccount.RefundApproved",
        "PatientAccount.ReferredToCollections", "PatientAccount.AgencyRecovered",
    ]
    assert [name for name in required if not names[name]] == []


def test_denials_adjustments_and_corrections(demo: dict[str, Any]) -> None:
    events = demo["events"]
    denials = {(d["group"], d["carc"]) for name, s in events if name == "Claim.Adjudicated"
               for d in s["denials"]}
    assert {("CO", "16"), ("CO", "50"), ("CO", "197"), ("CO", "29")} <= denials
    adjustments = {(s["kind"], s["group"], s["carc"]) for name, s in events
                   if name == "Encounter.AdjustmentPosted"}
    assert {("contractual", "CO", "45"), ("contractual", "CO", "97"), ("discount", "", ""),
            ("small-balance", "", ""), ("bad-debt", "", ""), ("timely-filing", "", ""),
            ("denial-write-off", "", "")} <= adjustments
    transfers = {s["reason"] for name, s in events
                 if name == "Encounter.ResponsibilityTransferred"}
    assert {"PR-1", "PR-2", "PR-3"} <= transfers
    adjudications = [s for name, s in events if name == "Claim.Adjudicated"]
    assert {"1", "2", "4"} <= {s["status_code"] for s in adjudications}
    created = [s for name, s in events if name == "Claim.Created"]
    assert {"P", "S"} <= {s["coverage_order"] for s in created}
    # A replacement goes out again as frequency 7, after the original.
    frequencies = [s["frequency"] for name, s in events if name == "Claim.Submitted"]
    assert {"1", "7"} <= set(frequencies)


def test_a_refund_takes_two_people(demo: dict[str, Any]) -> None:
    events = demo["events"]
    requested = {s["request_id"]: s["requested_by"] for name, s in events
                 if name == "PatientAccount.RefundRequested"}
    approved = [s for name, s in events if name == "PatientAccount.RefundApproved"]
    assert approved
    for approval in approved:
        assert approval["approved_by"] != requested[approval["request_id"]]


def test_the_simulated_office_is_recorded_as_its_staff(demo: dict[str, Any]) -> None:
    actors = Counter(s["actor"] for _, s in demo["events"])
    assert {"registrar", "biller", "supervisor"} <= set(actors)
    recorded = sorted(s["timestamp"]["_data_"] for _, s in demo["events"])
    # Recorded on the simulated days, not when the test ran.
    assert recorded[0] < "2024-06-30"
    assert "2025-06-01" < recorded[-1] < "2025-07-01"


def test_work_is_left_for_the_queues(demo: dict[str, Any]) -> None:
    ledger = demo["ledger"]
    claims = {s["claim_id"]: s for name, s in demo["events"] if name == "Claim.Created"}
    states = Counter(ledger.claim(claim_id).state.value for claim_id in claims)
    assert states["adjudicated"] > 0
    assert states["submitted"] + states["accepted"] + states["draft"] > 0, states


def test_reference_data_is_valid() -> None:
    assert all(is_valid_npi(npi) for npi in (GROUP_NPI, SOLO_NPI, *(c[0] for c in CLINICIANS)))
    codes = {c for _, _, choices, optional, _, _ in VISITS for g in choices for c in g + optional}
    assert all(is_billable_icd10(code) for code in codes)


def test_refuses_a_ledger_with_events(demo: dict[str, Any]) -> None:
    with pytest.raises(RuleViolation, match="already holds"):
        build_demo(demo["ledger"], patients=2, seed=1, through=THROUGH)


def test_refuses_no_patients(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one patient"):
        build_demo(new_ledger(tmp_path / "x.sqlite3"), patients=0, through=THROUGH)
