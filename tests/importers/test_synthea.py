"""Synthea in: balances equal the export's transactions to the cent; overpaid copays are credits."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from freezegun import freeze_time

from domain.application import BillingLedger
from domain.errors import PeriodClosedError
from domain.import_record import ImportOutcome, ImportRefused
from domain.ledger import PATIENT
from domain.services.core import chain_break
from domain.storage import resolve_store
from importers.synthea import (
    COLUMNS,
    account_no_for,
    claim_id_for,
    import_synthea,
    npi_for,
    payer_id_for,
    read_directory,
)
from tests.builders import LineMoney, fold_lines, recorded_since, refused
from tests.conftest import LedgerFactory

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "synthea"

# -- a tiny export, written column by column -------------------------------------------------

PATIENT_ID, PAYER, ORG, VISIT, VISIT2 = "pat-1", "payer-1", "org-1", "enc-1", "enc-2"


def table(file: str, *rows: dict[str, str]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS[file]))
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode()


def charge(claim: str, seq: int, amount: str, code: str = "185345009") -> dict[str, str]:
    return {"ID": f"t{seq}", "CLAIMID": claim, "CHARGEID": str(seq), "TYPE": "CHARGE",
            "AMOUNT": amount, "FROMDATE": "2023-01-27T16:17:47Z", "PROCEDURECODE": code,
            "DIAGNOSISREF1": "1", "UNITS": "1", "NOTES": "Encounter for symptom",
            "TRANSFERTYPE": "1"}


def payment(claim: str, seq: int, amount: str, method: str) -> dict[str, str]:
    return {"ID": f"t{seq}", "CLAIMID": claim, "CHARGEID": str(seq), "TYPE": "PAYMENT",
            "METHOD": method, "PAYMENTS": amount, "FROMDATE": "2023-01-28T10:00:00Z"}


def transfer(claim: str, seq: int, amount: str, to: str = "p") -> list[dict[str, str]]:
    base = {"CLAIMID": claim, "FROMDATE": "2023-02-01T10:00:00Z", "TRANSFERS": amount}
    return [{**base, "ID": f"t{seq}", "CHARGEID": str(seq), "TYPE": "TRANSFEROUT"},
            {**base, "ID": f"t{seq + 1}", "CHARGEID": str(seq + 1), "TYPE": "TRANSFERIN",
             "AMOUNT": amount, "TRANSFERTYPE": to}]


def export(*transactions: dict[str, str], claims: tuple[dict[str, str], ...] | None = None,
           ) -> dict[str, bytes]:
    """One patient with payer-1 from 2020; visit enc-1 (claim c1) and enc-2 (claim c2)."""
    claim_rows = claims or (
        {"Id": "c1", "PATIENTID": PATIENT_ID, "PRIMARYPATIENTINSURANCEID": PAYER,
         "SECONDARYPATIENTINSURANCEID": "0", "DIAGNOSIS1": "195662009",
         "APPOINTMENTID": VISIT, "SERVICEDATE": "2023-01-27T16:17:47Z", "STATUS1": "CLOSED"},
        {"Id": "c2", "PATIENTID": PATIENT_ID, "PRIMARYPATIENTINSURANCEID": "0",
         "SECONDARYPATIENTINSURANCEID": "0", "DIAGNOSIS1": "444814009",
         "APPOINTMENTID": VISIT2, "SERVICEDATE": "2023-03-01T09:00:00Z", "STATUS1": "CLOSED"})
    return {
        "patients.csv": table("patients.csv", {
            "Id": PATIENT_ID, "BIRTHDATE": "1980-05-06", "FIRST": "Maynard46",
            "LAST": "Mosciski958", "GENDER": "M", "ADDRESS": "784 Stamm Lock",
            "CITY": "Somerville", "STATE": "Massachusetts", "ZIP": "02155"}),
        "payers.csv": table("payers.csv",
                            {"Id": PAYER, "NAME": "Anthem", "ADDRESS": "1 Main St",
                             "CITY": "Boston", "STATE_HEADQUARTERED": "MA", "ZIP": "02110"},
                            {"Id": "payer-0", "NAME": "NO_INSURANCE"}),
        "payer_transitions.csv": table("payer_transitions.csv", {
            "PATIENT": PATIENT_ID, "MEMBERID": "M-1", "START_YEAR": "2020-01-01T00:00:00Z",
            "END_YEAR": "2024-01-01T00:00:00Z", "PAYER": PAYER, "OWNERSHIP": "Self"}),
        "organizations.csv": table("organizations.csv", {
            "Id": ORG, "NAME": "CAMBRIDGE HEALTH ALLIANCE", "ADDRESS": "1493 Cambridge St",
            "CITY": "Cambridge", "STATE": "MA", "ZIP": "02138"}),
        "encounters.csv": table(
            "encounters.csv",
            {"Id": VISIT, "START": "2023-01-27T16:17:47Z", "PATIENT": PATIENT_ID,
             "ORGANIZATION": ORG, "ENCOUNTERCLASS": "ambulatory"},
            {"Id": VISIT2, "START": "2023-03-01T09:00:00Z", "PATIENT": PATIENT_ID,
             "ORGANIZATION": ORG, "ENCOUNTERCLASS": "wellness"}),
        "claims.csv": table("claims.csv", *claim_rows),
        "claims_transactions.csv": table("claims_transactions.csv", *transactions),
    }


def line_of(ledger: BillingLedger, outcome: ImportOutcome, claim: str) -> dict[str, int]:
    [line_id] = outcome.details["claim_lines"][claim]
    encounter_id = line_id.rsplit("L", 1)[0]
    return dict(ledger.encounter(encounter_id).line(line_id)["buckets"])


class TestSemantics:
    def test_a_copay_above_the_charge_leaves_a_patient_credit(
            self, ledger: BillingLedger) -> None:
        outcome = import_synthea(ledger, export(
            charge("c1", 1, "77.49"), payment("c1", 2, "80.00", "COPAY"),
            charge("c2", 3, "10.00"), payment("c2", 4, "10.00", "CASH")))
        assert line_of(ledger, outcome, "c1") == {PATIENT: -251}
        assert ledger.credit_cents(account_no_for(PATIENT_ID)) == 251
        assert (outcome.summary["credit_claims"], outcome.summary["credit_cents"]) == (1, 251)

    def test_payer_pays_then_the_rest_moves_to_the_patient_who_pays_it(
            self, ledger: BillingLedger) -> None:
        anthem = payer_id_for("Anthem")
        outcome = import_synthea(ledger, export(
            charge("c1", 1, "77.49"), payment("c1", 2, "60.00", "COPAY"),
            payment("c1", 3, "16.62", "ECHECK"), *transfer("c1", 4, "0.87"),
            payment("c1", 6, "0.87", "CASH"), charge("c2", 7, "10.00")))
        assert line_of(ledger, outcome, "c1") == {}                  # fully paid
        assert line_of(ledger, outcome, "c2") == {PATIENT: 1_000}    # self-pay, unpaid
        events = recorded_since(ledger, 0)
        payments = [(e.party, e.amount_cents, e.method) for e in events
                    if type(e).__name__ == "PaymentPosted"]
        assert payments == [(PATIENT, 6_000, "other"), (anthem, 1_662, "ach"),
                            (PATIENT, 87, "cash")]
        transfers = [(e.from_party, e.to_party, e.amount_cents, e.reason) for e in events
                     if type(e).__name__ == "ResponsibilityTransferred"]
        assert transfers == [(anthem, PATIENT, 6_000, "copay collected at the visit"),
                             (anthem, PATIENT, 87, "transferred in Synthea")]
        assert all(e.source.startswith("synthea:") for e in events
                   if type(e).__name__ in ("PaymentPosted", "ResponsibilityTransferred"))

    def test_a_transfer_moves_no_more_than_is_held(self, ledger: BillingLedger) -> None:
        # Synthea's own rounding: 250.46 - 75 - 131.60 = 43.86 left, 43.87 moved and paid.
        outcome = import_synthea(ledger, export(
            charge("c1", 1, "250.46"), payment("c1", 2, "75.00", "COPAY"),
            payment("c1", 3, "131.60", "ECHECK"), *transfer("c1", 4, "43.87"),
            payment("c1", 6, "43.87", "CHECK"), charge("c2", 7, "1.00")))
        assert line_of(ledger, outcome, "c1") == {PATIENT: -1}

    def test_claims_visits_and_codes_are_kept_as_synthea_gives_them(
            self, ledger: BillingLedger) -> None:
        outcome = import_synthea(ledger, export(
            charge("c1", 1, "77.49"), payment("c1", 2, "77.49", "ECHECK"),
            charge("c2", 3, "10.00", code="140")))
        claim = ledger.claim(claim_id_for("c1", "1"))
        assert (claim.payer_id, claim.charge_cents, claim.state.value) == (
            payer_id_for("Anthem"), 7_749, "closed")
        [line_id] = claim.line_ids
        assert claim.problems == [   # flagged by the scrubber, kept after Synthea closed it
            "diagnosis 195662009 is not a billable ICD-10-CM code",
            f"line {line_id}: 185345009 is not a CPT/HCPCS code",
            "timely filing deadline 2024-01-27 has passed; a supervisor override with a "
            "reason is needed"]
        encounter = ledger.encounter(claim.encounter_id)
        assert (encounter.service_date, encounter.place_of_service, encounter.billing_npi) == (
            date(2023, 1, 27), "11", npi_for(ORG))
        account = ledger.account(account_no_for(PATIENT_ID))
        assert (account.last_name, account.address["state"]) == ("MOSCISKI958", "MA")
        [policy] = account.policies.values()
        assert (policy["member_id"], policy["effective_on"], policy["terminates_on"]) == (
            "M-1", date(2020, 1, 1), date(2024, 1, 1))
        assert outcome.summary["self_pay_claims"] == 1
        assert outcome.summary["non_billable_lines"] == 2
        assert chain_break(ledger) is None

    def test_the_same_export_again_records_nothing(self, ledger: BillingLedger) -> None:
        files = export(charge("c1", 1, "77.49"), charge("c2", 2, "5.00"))
        import_synthea(ledger, files)
        before = ledger.events_count()
        assert import_synthea(ledger, files).events == 0
        assert ledger.events_count() == before


class TestRefusals:
    def test_faults_are_named_by_file_line_and_column(self, ledger: BillingLedger) -> None:
        files = export(charge("c1", 1, "77.499"), payment("c9", 2, "1.00", "COPAY"),
                       payment("c1", 3, "1.00", "BARTER"))
        with refused(ledger, ImportRefused) as info:
            import_synthea(ledger, files, "tiny")
        assert info.value.problems == [
            "claims_transactions.csv line 2, column AMOUNT: not a valid amount: '77.499' "
            "(sub-cent amount)",
            "claims_transactions.csv line 3, column CLAIMID: no claim c9",
            "claims_transactions.csv line 4, column METHOD: 'BARTER' is not one of CASH, "
            "CHECK, ECHECK, CC, COPAY"]

    def test_a_claim_without_a_charge_is_refused(self, ledger: BillingLedger) -> None:
        with refused(ledger, ImportRefused) as info:
            import_synthea(ledger, export(charge("c1", 1, "1.00")), "tiny")
        assert info.value.problems == ["claims.csv line 3: the claim has no CHARGE transaction"]

    def test_a_missing_file_is_refused(self, ledger: BillingLedger) -> None:
        files = export(charge("c1", 1, "1.00"))
        del files["claims.csv"]
        with refused(ledger, ImportRefused, match="missing file claims.csv"):
            import_synthea(ledger, files)

    def test_a_closed_period_refuses_the_whole_export(
            self, ledger: BillingLedger, ledger_factory: LedgerFactory) -> None:
        ledger.seed_role_users()
        supervisor = ledger_factory(actor="supervisor")
        supervisor.close_period("2023-06")
        with refused(ledger, PeriodClosedError, match="closed period"):
            import_synthea(supervisor, export(charge("c1", 1, "77.49"), charge("c2", 2, "1")))

    def test_a_biller_may_not_register_the_exports_payers(
            self, ledger: BillingLedger, ledger_factory: LedgerFactory) -> None:
        ledger.seed_role_users()
        with refused(ledger, ImportRefused, match="register payer needs the"):
            import_synthea(ledger_factory(actor="biller"), export(charge("c1", 1, "1.00"),
                                                                  charge("c2", 2, "1.00")))


# -- the corpus export -------------------------------------------------------------------------

@dataclass(frozen=True)
class Imported:
    ledger: BillingLedger
    outcome: ImportOutcome
    lines: dict[str, LineMoney]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Imported]:
    if not (CORPUS / "claims_transactions.csv").exists():
        pytest.skip("the shared Synthea corpus is not here")
    path = tmp_path_factory.mktemp("synthea") / "ledger.sqlite3"
    with freeze_time("2025-03-10"):
        ledger = BillingLedger(env=resolve_store(str(path)).event_store_env(), actor="biller")
        outcome = import_synthea(ledger, read_directory(CORPUS), "synthea")
        yield Imported(ledger, outcome, fold_lines(recorded_since(ledger, 0)))
        ledger.close()


def file_balances() -> dict[str, tuple[Decimal, Decimal]]:
    """Per Synthea claim: charges - payments - adjustments, and Synthea's own OUTSTANDING."""
    balance: dict[str, Decimal] = defaultdict(Decimal)
    with (CORPUS / "claims_transactions.csv").open() as handle:
        for row in csv.DictReader(handle):
            money = {"CHARGE": row["AMOUNT"], "PAYMENT": f"-{row['PAYMENTS']}",
                     "ADJUSTMENT": f"-{row['ADJUSTMENTS']}"}.get(row["TYPE"])
            balance[row["CLAIMID"]] += Decimal(money) if money not in (None, "-") else 0
    with (CORPUS / "claims.csv").open() as handle:
        outstanding = {row["Id"]: sum(Decimal(row[c] or 0) for c in (
            "OUTSTANDING1", "OUTSTANDING2", "OUTSTANDINGP")) for row in csv.DictReader(handle)}
    return {claim: (balance[claim], outstanding[claim]) for claim in outstanding}


class TestCorpus:
    def test_every_claims_balance_is_its_file_charges_less_payments_and_adjustments(
            self, corpus: Imported) -> None:
        claim_lines = corpus.outcome.details["claim_lines"]
        expected = file_balances()
        assert set(claim_lines) == set(expected)
        for claim, (balance, _) in expected.items():
            ours = sum(corpus.lines[line].balance for line in claim_lines[claim])
            assert ours == int(balance * 100), claim

    def test_the_190_overpaid_copays_are_patient_credits_not_zero(
            self, corpus: Imported) -> None:
        claim_lines = corpus.outcome.details["claim_lines"]
        credits = {claim: balance for claim, (balance, outstanding) in file_balances().items()
                   if balance < 0 and outstanding == 0}
        assert len(credits) == 190
        for claim, credit in credits.items():
            patient = sum(corpus.lines[line].buckets.get(PATIENT, 0)
                          for line in claim_lines[claim])
            assert patient == int(credit * 100), claim
        assert corpus.outcome.summary["credit_claims"] == 190
        assert corpus.outcome.summary["credit_cents"] == -int(sum(credits.values()) * 100)
        refund_queue = sum(corpus.ledger.credit_cents(account_no_for(row["Id"]))
                           for row in csv.DictReader((CORPUS / "patients.csv").open()))
        assert refund_queue == corpus.outcome.summary["credit_cents"] == 1_110_122

    def test_the_summary_counts_what_the_export_holds(self, corpus: Imported) -> None:
        summary = corpus.outcome.summary
        assert (summary["patients"], summary["encounters"]) == (27, 604)
        assert summary["payers"] == 9                       # NO_INSURANCE is self-pay
        assert summary["self_pay_claims"] == 216
        assert summary["lines"] + summary["zero_charge_lines"] == 1545
        assert summary["payments"] == 1843
        assert summary["non_billable_lines"] == summary["lines"]   # SNOMED, RxNorm, CVX
        assert summary["charge_cents"] - summary["payment_cents"] == -1_110_122
        assert corpus.outcome.events == corpus.ledger.events_count()

    def test_importing_the_export_again_records_nothing(self, corpus: Imported) -> None:
        before = corpus.ledger.events_count()
        with freeze_time("2025-03-10"):
            again = import_synthea(corpus.ledger, read_directory(CORPUS), "synthea")
        assert (again.status, again.events, corpus.ledger.events_count()) == (
            "already-imported", 0, before)
