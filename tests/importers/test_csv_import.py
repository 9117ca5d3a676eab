"""CSV imports: documented headers, row-by-row validation, all-or-nothing files, natural keys."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from freezegun import freeze_time

from domain.application import BillingLedger
from domain.errors import PermissionDenied
from domain.import_record import ImportRefused
from importers.csv_import import (
    FORMATS,
    encounter_id_for,
    import_chargemaster,
    import_charges,
    import_fee_schedule,
    import_patients,
)
from tests.builders import (
    BILLING_NPI,
    CONTRACT,
    PRIMARY,
    PRIMARY_PLAN,
    TODAY,
    Practice,
    refused,
)
from tests.conftest import LedgerFactory

PATIENTS = (
    "account_no,last_name,first_name,birth_date,sex,address_line1,city,state,zip,"
    "payer_id,plan_id,member_id,coverage_effective_on\n"
    f"MRN001,Doe,Jane,1980-02-03,F,1 Elm St,Springfield,IL,62704,{PRIMARY},{PRIMARY_PLAN},"
    "W001,2024-01-01\n"
    "MRN002,Roe,Rick,1975-07-08,M,,,,,,,,\n"
)


def csv_bytes(text: str) -> bytes:
    return text.encode()


class TestPatients:
    def test_rows_become_accounts_with_their_coverage(
            self, ledger: BillingLedger, practice: Practice) -> None:
        outcome = import_patients(ledger, csv_bytes(PATIENTS), "patients.csv")
        assert outcome.status == "imported"
        assert outcome.summary == {"file": "patients.csv", "rows": 2, "created": 2,
                                   "updated": 0, "unchanged": 0, "coverage_added": 1}
        jane = ledger.account("MRN001")
        assert (jane.last_name, jane.first_name, jane.birth_date) == ("DOE", "JANE",
                                                                      date(1980, 2, 3))
        assert jane.address["zip"] == "62704"
        [policy] = jane.policies.values()
        assert (policy["payer_id"], policy["member_id"]) == (PRIMARY, "W001")
        assert ledger.account("MRN002").policies == {}

    def test_the_same_file_again_records_nothing(
            self, ledger: BillingLedger, practice: Practice) -> None:
        import_patients(ledger, csv_bytes(PATIENTS))
        before = ledger.events_count()
        again = import_patients(ledger, csv_bytes(PATIENTS))
        assert (again.status, again.events) == ("already-imported", 0)
        assert ledger.events_count() == before

    def test_a_new_file_repeating_patients_creates_no_duplicates(
            self, ledger: BillingLedger, practice: Practice) -> None:
        import_patients(ledger, csv_bytes(PATIENTS))
        moved = PATIENTS.replace("1 Elm St", "9 Oak Ave") + (
            "MRN003,Poe,Ann,1990-01-01,F,,,,,,,,\n")
        outcome = import_patients(ledger, csv_bytes(moved))
        assert outcome.summary["created"] == 1
        assert outcome.summary["updated"] == 1
        assert outcome.summary["unchanged"] == 1
        assert outcome.summary["coverage_added"] == 0
        assert ledger.account("MRN001").address["line1"] == "9 Oak Ave"
        assert len(ledger.account("MRN001").policies) == 1

    def test_every_fault_is_named_by_line_and_column_and_nothing_is_recorded(
            self, ledger: BillingLedger, practice: Practice) -> None:
        bad = (
            "account_no,last_name,first_name,birth_date,sex,state,zip,payer_id,plan_id,"
            "member_id,coverage_effective_on\n"
            "MRN001,Doe,Jane,1980-02-30,F,IL,62704,,,,\n"
            "MRN002,Roe,,1975-07-08,X,Illinois,627,,,,\n"
            "MRN001,Poe,Ann,1990-01-01,F,,,NOPE,PPO,W9,2024-01-01\n"
        )
        with refused(ledger, ImportRefused) as info:
            import_patients(ledger, csv_bytes(bad), "bad.csv")
        problems = info.value.problems
        assert "line 2, column birth_date: '1980-02-30' is not a date (YYYY-MM-DD)" in problems
        assert "line 3, column first_name: is required" in problems
        assert "line 4: account_no repeats line 2" in problems
        assert "line 4, column payer_id: no payer NOPE is registered" in problems
        assert str(info.value).startswith("bad.csv: nothing was imported:")

    def test_sex_state_and_zip_are_checked(self, ledger: BillingLedger) -> None:
        bad = ("account_no,last_name,first_name,birth_date,sex,state,zip\n"
               "MRN002,Roe,Rick,1975-07-08,X,Illinois,627\n")
        with refused(ledger, ImportRefused) as info:
            import_patients(ledger, csv_bytes(bad))
        assert info.value.problems == [
            "line 2, column sex: 'X' must be F, M or U",
            "line 2, column state: 'Illinois' must be a 2-letter code",
            "line 2, column zip: '627' must be 5 or 9 digits"]

    @pytest.mark.parametrize(("text", "problem"), [
        ("", "the file is empty (expected a header line)"),
        ("account_no,last_name\nA1,Doe\n",
         "line 1: missing required column first_name, birth_date, sex"),
        ("account_no,last_name,first_name,birth_date,sex,shoe_size\nA1,D,J,1980-01-01,F,9\n",
         "line 1: unknown column 'shoe_size' (the patients columns are: "
         + ", ".join(FORMATS["patients"].names) + ")"),
        ("account_no,last_name,first_name,birth_date,sex\nA1,D,J,1980-01-01\n",
         "line 2: 4 fields, but the header has 5"),
        ("account_no,last_name,first_name,birth_date,sex\n", "the file has a header but no rows"),
    ])
    def test_a_bad_header_or_shape_is_refused(
            self, ledger: BillingLedger, text: str, problem: str) -> None:
        with refused(ledger, ImportRefused) as info:
            import_patients(ledger, csv_bytes(text))
        assert problem in info.value.problems

    def test_a_byte_order_mark_and_blank_lines_are_fine(self, ledger: BillingLedger) -> None:
        text = "\ufeffaccount_no,last_name,first_name,birth_date,sex\n\nA1,Doe,Jo,1980-01-01,U\n"
        assert import_patients(ledger, text.encode()).summary["created"] == 1

    def test_roles_still_apply_to_each_row(
            self, ledger: BillingLedger, practice: Practice,
            ledger_factory: LedgerFactory) -> None:
        ledger.seed_role_users()
        auditor = ledger_factory(actor="auditor")
        with refused(ledger, PermissionDenied):
            import_patients(auditor, csv_bytes(PATIENTS))
        registrar = ledger_factory(actor="registrar")
        assert import_patients(registrar, csv_bytes(PATIENTS)).summary["created"] == 2


FEES = ("contract_id,code,modifier,allowed,effective_on,ends_on\n"
        f"{CONTRACT},99213,,72.50,2025-01-01,\n"
        f"{CONTRACT},99214,25,110,2025-01-01,2025-12-31\n")


class TestFeeSchedule:
    def test_rows_set_fees_and_repeats_are_unchanged(
            self, ledger: BillingLedger, practice: Practice) -> None:
        outcome = import_fee_schedule(ledger, csv_bytes(FEES))
        assert (outcome.summary["set"], outcome.summary["unchanged"]) == (2, 0)
        contract = ledger.contract(CONTRACT)
        assert contract.allowed_per_unit("99213", [], date(2025, 2, 1)) == 7_250
        assert contract.allowed_per_unit("99214", ["25"], date(2025, 2, 1)) == 11_000
        more = FEES + f"{CONTRACT},93000,,31,2025-01-01,\n"
        again = import_fee_schedule(ledger, csv_bytes(more))
        assert (again.summary["set"], again.summary["unchanged"]) == (1, 2)

    def test_faults_are_named(self, ledger: BillingLedger, practice: Practice) -> None:
        bad = ("contract_id,code,modifier,allowed,effective_on,ends_on\n"
               "K9,9921,X,1.005,2025-01-01,2024-01-01\n")
        with refused(ledger, ImportRefused) as info:
            import_fee_schedule(ledger, csv_bytes(bad))
        assert info.value.problems == [
            "line 2, column contract_id: no contract K9",
            "line 2, column code: '9921' is not a CPT (5 digits, or 4 digits + F/T/U) or "
            "HCPCS (letter + 4 digits) code",
            "line 2, column modifier: 'X' is not 2 letters or digits",
            "line 2, column allowed: not a valid amount: '1.005' (sub-cent amount)",
            "line 2, column ends_on: 2024-01-01 is before effective_on 2025-01-01"]

    def test_a_registrar_may_not_load_fees(
            self, ledger: BillingLedger, practice: Practice,
            ledger_factory: LedgerFactory) -> None:
        ledger.seed_role_users()
        with refused(ledger, ImportRefused, match="set fee needs the"):
            import_fee_schedule(ledger_factory(actor="registrar"), csv_bytes(FEES))


PRICES = ("code,price,effective_on,description\n"
          "99213,110.00,2025-01-01,Office visit\n"
          "A0425,8.20,2025-01-01,Ground mileage\n")


class TestChargemaster:
    def test_prices_load_once(self, ledger: BillingLedger, practice: Practice) -> None:
        outcome = import_chargemaster(ledger, csv_bytes(PRICES))
        assert outcome.summary["set"] == 2
        assert ledger.chargemaster().price_on("A0425", date(2025, 2, 1)) == (820,
                                                                             "Ground mileage")
        assert ledger.chargemaster().price_on("99213", date(2024, 12, 31)) == (
            10_000, "Office visit, established, low")
        again = import_chargemaster(ledger, csv_bytes(PRICES + "93000,55,2025-01-01,ECG\n"))
        assert (again.summary["set"], again.summary["unchanged"]) == (1, 2)

    def test_zero_and_repeated_prices_are_refused(self, ledger: BillingLedger) -> None:
        bad = "code,price,effective_on\n99213,0,2025-01-01\n99213,10,2025-01-01\n"
        with refused(ledger, ImportRefused) as info:
            import_chargemaster(ledger, csv_bytes(bad))
        assert info.value.problems == ["line 2, column price: 0 must be positive",
                                       "line 3: code + effective_on repeats line 2"]


def charges_csv(*rows: str) -> bytes:
    header = ("row_key,encounter_ref,account_no,service_date,billing_npi,diagnoses,code,"
              "modifiers,units,pointers\n")
    return (header + "".join(r + "\n" for r in rows)).encode()


VISIT = f"MRN001,2025-01-10,{BILLING_NPI},I10;R07.89"


@pytest.fixture
def patients(ledger: BillingLedger, practice: Practice) -> None:
    import_patients(ledger, csv_bytes(PATIENTS))


class TestCharges:
    def test_rows_become_visits_priced_from_the_chargemaster(
            self, ledger: BillingLedger, patients: None) -> None:
        outcome = import_charges(ledger, charges_csv(
            f"R1,VISIT1,{VISIT},99214,25,1,1;2", f"R2,VISIT1,{VISIT},36415,,2,2"))
        assert outcome.summary == {"file": "charges.csv", "rows": 2, "encounters": 1,
                                   "charges": 2, "duplicates": 0, "charge_cents": 20_000}
        encounter = ledger.encounter(encounter_id_for("VISIT1"))
        assert encounter.account_no == "MRN001"
        assert encounter.coverage[0]["payer_id"] == PRIMARY
        assert [(line["code"], line["modifiers"], line["units_milli"], line["charge_cents"])
                for line in encounter.lines.values()] == [
            ("99214", ["25"], 1000, 15_000), ("36415", [], 2000, 5_000)]

    def test_rows_seen_before_are_skipped_by_their_row_key(
            self, ledger: BillingLedger, patients: None) -> None:
        import_charges(ledger, charges_csv(f"R1,VISIT1,{VISIT},99214,25,1,1"))
        outcome = import_charges(ledger, charges_csv(
            f"R1,VISIT1,{VISIT},99214,25,1,1", f"R2,VISIT1,{VISIT},93000,,,2"))
        assert (outcome.summary["charges"], outcome.summary["duplicates"]) == (1, 1)
        assert outcome.summary["encounters"] == 0
        assert len(ledger.encounter(encounter_id_for("VISIT1")).lines) == 2

    def test_a_rule_broken_mid_file_leaves_the_ledger_unchanged(
            self, ledger: BillingLedger, patients: None) -> None:
        # 99205 passes the row checks but has no chargemaster price: found while applying.
        with refused(ledger, ImportRefused) as info:
            import_charges(ledger, charges_csv(
                f"R1,VISIT1,{VISIT},99214,25,1,1", f"R2,VISIT2,{VISIT},93000,,,1",
                f"R3,VISIT2,{VISIT},99205,,,1"))
        assert info.value.problems == ["line 4: 99205 has no chargemaster price on 2025-01-10"]

    def test_faults_are_named(self, ledger: BillingLedger, patients: None) -> None:
        with refused(ledger, ImportRefused) as info:
            import_charges(ledger, charges_csv(
                "R1,VISIT1,MRN404,2025-01-10,1234567890,I10;R07,9921,5,0,3",
                f"R1,VISIT1,{VISIT},99214,,1,1"))
        assert info.value.problems == [
            "line 3: encounter_ref + row_key repeats line 2",
            "line 2, column code: '9921' is not a CPT (5 digits, or 4 digits + F/T/U) or "
            "HCPCS (letter + 4 digits) code",
            "line 2, column modifiers: modifiers must be 2 letters or digits: 5",
            "line 2, column units: units '0' must be positive with at most 3 decimals",
            "line 2, column diagnoses: 1 to 12 billable ICD-10-CM codes needed; not "
            "billable: R07",
            "line 2, column billing_npi: NPI 1234567890 fails the check digit",
            "line 2, column account_no: no account MRN404",
            "line 2, column pointers: '3': 1 to 4 different numbers, each pointing at one of "
            "the 2 diagnoses",
            "line 3, column account_no: 'MRN001' differs from line 2 of the same "
            "encounter_ref VISIT1",
            "line 3, column billing_npi: '1234567893' differs from line 2 of the same "
            "encounter_ref VISIT1",
            "line 3, column diagnoses: 'I10;R07.89' differs from line 2 of the same "
            "encounter_ref VISIT1"]


def test_the_cli_names_line_and_column_on_stderr_and_exits_1(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tui.cli import main

    path = tmp_path / "cdm.csv"
    path.write_text("code,price,effective_on\n99213,110.00,2025-01-01\n9921,1,2025-13-01\n")
    with freeze_time(TODAY):
        assert main(["--db", str(tmp_path / "cli.sqlite3"), "import", "chargemaster",
                     str(path)]) == 1
    told = capsys.readouterr()
    assert told.out == ""   # a refusal is told on stderr
    assert told.err.splitlines() == [
        f"{path}: refused, nothing was imported:",
        "  line 3, column code: '9921' is not a CPT (5 digits, or 4 digits + F/T/U) or HCPCS "
        "(letter + 4 digits) code",
        "  line 3, column effective_on: '2025-13-01' is not a date (YYYY-MM-DD)"]
