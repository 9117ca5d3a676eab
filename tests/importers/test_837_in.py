"""837P in: an EHR's claims entered exactly as billed, once; every refusal records nothing."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest
from freezegun import freeze_time

from domain.application import BillingLedger
from domain.import_record import ImportRefused
from domain.services.core import chain_break
from importers.x12.claim_837_in import account_no_for, claim_id_for, import_837, parse_837
from tests.builders import refused
from tests.conftest import LedgerFactory

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "x12"

ISA = ("ISA*00*          *00*          *ZZ*SUBMITTERID    *ZZ*RECEIVERID     *250115*1200*^*"
       "00501*{control}*1*T*:")
SUBSCRIBER_IS_PATIENT = [
    "HL*2*1*22*0", "SBR*P*18*GRP12345******CI", "NM1*IL*1*DOE*JOHN****MI*W123456789",
    "N3*200 OAK AVE", "N4*SPRINGFIELD*IL*62704", "DMG*D8*19800101*M",
    "NM1*PR*2*ACME HEALTH PLAN*****PI*12345",
]
CLAIM = [
    "CLM*PCN20250115001*200***11:B:1*Y*A*Y*Y", "HI*ABK:I10*ABF:R0789",
    "LX*1", "SV1*HC:99214:25*150*UN*1***1:2", "DTP*472*D8*20250110",
    "LX*2", "SV1*HC:93000*50*UN*1***2:1", "DTP*472*D8*20250110",
]


def x12(*body: str, control: str = "000000101", version: str = "005010X222A1",
        billing_npi: str = "1234567893", se_count: int | None = None) -> bytes:
    """DOMAIN.md §5's minimal 837P around `body` (the loops after 2010AA), counts computed."""
    transaction = [
        f"ST*837*0001*{version}", "BHT*0019*00*BATCH0001*20250115*1200*CH",
        "NM1*41*2*ACME BILLING*****46*SUB12345", "PER*IC*JANE BILLER*TE*5555551212",
        "NM1*40*2*EXAMPLE CLEARINGHOUSE*****46*RCV67890", "HL*1**20*1",
        f"NM1*85*2*ACME MEDICAL GROUP*****XX*{billing_npi}", "N3*100 MAIN ST",
        "N4*SPRINGFIELD*IL*627011234", "REF*EI*123456789", *body]
    transaction.append(f"SE*{se_count or len(transaction) + 1}*0001")
    segments = [ISA.format(control=control), f"GS*HC*SUBMITTERID*RECEIVERID*20250115*1200*101*X*"
                f"{version}", *transaction, "GE*1*101", f"IEA*1*{control}"]
    return ("~".join(segments) + "~").encode()


MINIMAL = x12(*SUBSCRIBER_IS_PATIENT, *CLAIM)


class TestEnteringAClaim:
    def test_the_minimal_837p_becomes_a_patient_coverage_and_a_claim_with_its_lines(
            self, ledger: BillingLedger) -> None:
        outcome = import_837(ledger, MINIMAL, "minimal.837")
        assert (outcome.status, outcome.summary["claims"], outcome.summary["charge_cents"]) == (
            "imported", 1, 20_000)
        assert outcome.events == ledger.events_count()
        [(pcn, claim_id)] = outcome.summary["claim_ids"]
        assert (pcn, claim_id) == ("PCN20250115001", claim_id_for("1234567893", pcn))
        claim = ledger.claim(claim_id)
        assert (claim.payer_id, claim.charge_cents, claim.state.value) == ("12345", 20_000,
                                                                          "ready")
        encounter = ledger.encounter(claim.encounter_id)
        assert encounter.diagnoses == ["I10", "R0789"]
        assert encounter.service_date == date(2025, 1, 10)
        assert [(line["code"], line["modifiers"], line["charge_cents"], line["pointers"])
                for line in encounter.lines.values()] == [
            ("99214", ["25"], 15_000, [1, 2]), ("93000", [], 5_000, [2, 1])]
        account = ledger.account(claim.account_no)
        assert (account.last_name, account.first_name, account.birth_date) == (
            "DOE", "JOHN", date(1980, 1, 1))
        [policy] = account.policies.values()
        assert (policy["payer_id"], policy["member_id"], policy["group_number"],
                policy["relationship"]) == ("12345", "W123456789", "GRP12345", "18")
        assert ledger.provider("1234567893").is_billing
        assert ledger.payer("12345").name == "ACME HEALTH PLAN"
        assert chain_break(ledger) is None

    def test_the_same_file_again_records_nothing(self, ledger: BillingLedger) -> None:
        import_837(ledger, MINIMAL)
        before = ledger.events_count()
        again = import_837(ledger, MINIMAL)
        assert (again.status, again.events, again.summary["claims"]) == ("already-imported",
                                                                         0, 1)
        assert ledger.events_count() == before

    def test_a_claim_sent_again_in_another_file_is_a_duplicate_not_a_second_claim(
            self, ledger: BillingLedger) -> None:
        import_837(ledger, MINIMAL)
        before = ledger.events_count()
        resent = import_837(ledger, x12(*SUBSCRIBER_IS_PATIENT, *CLAIM, control="000000102"))
        assert (resent.status, resent.summary["claims"], resent.summary["duplicates"]) == (
            "imported", 0, 1)
        assert ledger.events_count() == before + 1      # only the file's ImportRecord

    def test_a_known_claim_number_with_other_charges_is_refused(
            self, ledger: BillingLedger) -> None:
        import_837(ledger, MINIMAL)
        changed = [s.replace("*150*", "*160*").replace("*200***", "*210***") for s in CLAIM]
        with refused(ledger, ImportRefused, match="was imported before as claim"):
            import_837(ledger, x12(*SUBSCRIBER_IS_PATIENT, *changed, control="000000103"))

    def test_each_line_keeps_the_ehrs_charge_whatever_the_units(
            self, ledger: BillingLedger) -> None:
        three_units = ["CLM*P2*100***11:B:1*Y*A*Y*Y", "HI*ABK:I10", "LX*1",
                       "SV1*HC:A0425*100*UN*3***1", "DTP*472*RD8*20250110-20250111"]
        outcome = import_837(ledger, x12(*SUBSCRIBER_IS_PATIENT, *three_units))
        [(_, claim_id)] = outcome.summary["claim_ids"]
        [line] = ledger.encounter(ledger.claim(claim_id).encounter_id).lines.values()
        assert (line["units_milli"], line["charge_cents"], line["unit_price_cents"]) == (
            3_000, 10_000, 3_333)

    def test_a_dependent_patient_is_on_the_subscribers_policy(
            self, ledger: BillingLedger) -> None:
        dependent = [
            "HL*2*1*22*1", "SBR*P**GRP9******CI", "NM1*IL*1*ROE*JANE****MI*W555000111",
            "DMG*D8*19850203*F", "NM1*PR*2*ACME HEALTH PLAN*****PI*12345",
            "HL*3*2*23*0", "PAT*19", "NM1*QC*1*ROE*AMY", "N3*9 ELM ST",
            "N4*SPRINGFIELD*IL*62704", "DMG*D8*20150601*F", *CLAIM]
        outcome = import_837(ledger, x12(*dependent))
        [(_, claim_id)] = outcome.summary["claim_ids"]
        account = ledger.account(ledger.claim(claim_id).account_no)
        assert (account.first_name, account.birth_date) == ("AMY", date(2015, 6, 1))
        assert account.account_no == account_no_for(parse_837(x12(*dependent)).claims[0].patient)
        [policy] = account.policies.values()
        assert policy["relationship"] == "19"
        assert policy["subscriber"]["first_name"] == "JANE"
        assert policy["subscriber"]["birth_date"] == "1985-02-03"

    def test_a_secondary_claim_lists_the_primary_first_and_waits_for_its_adjudication(
            self, ledger: BillingLedger) -> None:
        secondary = [
            "HL*2*1*22*0", "SBR*S*18*GRP2******CI", "NM1*IL*1*DOE*JOHN****MI*S999",
            "DMG*D8*19800101*M", "NM1*PR*2*SECOND MUTUAL*****PI*67890", *CLAIM[:2],
            "SBR*P*18*GRP1******MB", "AMT*D*120", "OI***Y***Y",
            "NM1*IL*1*DOE*JOHN****MI*W123456789", "NM1*PR*2*ACME HEALTH PLAN*****PI*12345",
            *CLAIM[2:]]
        outcome = import_837(ledger, x12(*secondary))
        [(_, claim_id)] = outcome.summary["claim_ids"]
        claim = ledger.claim(claim_id)
        assert (claim.payer_id, claim.coverage_order) == ("67890", "S")
        encounter = ledger.encounter(claim.encounter_id)
        assert [(c["payer_id"], c["order"]) for c in encounter.coverage] == [
            ("12345", "P"), ("67890", "S")]
        assert claim.problems == ["a secondary claim needs the primary payer's adjudication "
                                  "first"]
        assert outcome.summary["payers"] == 2

    def test_codes_a_payer_will_not_take_are_kept_and_listed_on_the_claim(
            self, ledger: BillingLedger) -> None:
        icd9 = [s.replace("HI*ABK:I10*ABF:R0789", "HI*BK:4019*BF:78659") for s in CLAIM]
        outcome = import_837(ledger, x12(*SUBSCRIBER_IS_PATIENT, *icd9))
        [(_, claim_id)] = outcome.summary["claim_ids"]
        assert outcome.summary["with_problems"] == 1
        assert ledger.claim(claim_id).problems == [
            "diagnosis 4019 is not a billable ICD-10-CM code",
            "diagnosis 78659 is not a billable ICD-10-CM code"]

    def test_progress_is_reported_per_claim(self, ledger: BillingLedger) -> None:
        calls: list[tuple[int, int]] = []
        import_837(ledger, MINIMAL, progress=lambda done, total: calls.append((done, total)))
        assert calls == [(1, 1)]


class TestRefusals:
    @pytest.mark.parametrize(("data", "message"), [
        (x12(*SUBSCRIBER_IS_PATIENT, *CLAIM, version="005010X223A2"),
         "837I (institutional) is out of scope"),
        (x12(*SUBSCRIBER_IS_PATIENT, *CLAIM, version="004010X098A1"),
         "unsupported version 004010X098A1"),
        (x12(*SUBSCRIBER_IS_PATIENT, *CLAIM, billing_npi="1234567890"),
         "billing provider NPI 1234567890 at segment 9 NM1 (line 1) fails the NPI check digit"),
        (x12(*SUBSCRIBER_IS_PATIENT, *[s.replace("*200***", "*500***") for s in CLAIM]),
         "CLM02 500.00 differs from the sum of its lines' SV102, 200.00"),
        (x12(*SUBSCRIBER_IS_PATIENT, *CLAIM, se_count=25),
         "SE01 says 25 segments but the transaction set has 26"),
        (x12(*SUBSCRIBER_IS_PATIENT, *[s.replace("11:B:1", "11:B:7") for s in CLAIM]),
         "frequency 7 (replacement/void of a claim sent before) is not imported"),
        (x12(*SUBSCRIBER_IS_PATIENT, *[s.replace("*1***1:2", "*1***3") for s in CLAIM]),
         "SV107 pointers [3] must be 1 to 4 different numbers pointing at the claim's 2 "
         "diagnoses"),
        (x12(*[s for s in SUBSCRIBER_IS_PATIENT if not s.startswith("DMG")], *CLAIM),
         "the patient DOE, JOHN has no birth date (DMG)"),
        (x12(*SUBSCRIBER_IS_PATIENT), "the file has no claims (no CLM segment)"),
        (MINIMAL[:-40], "the file does not end with an IEA segment"),
    ], ids=["837I", "4010", "npi", "clm02", "se01", "replacement", "pointer", "dob", "empty",
            "truncated"])
    def test_a_faulty_file_is_refused_naming_the_fault(
            self, ledger: BillingLedger, data: bytes, message: str) -> None:
        with refused(ledger, ImportRefused) as info:
            import_837(ledger, data, "faulty.837")
        assert any(message in problem for problem in info.value.problems), info.value.problems

    def test_a_claim_the_ledger_refuses_half_way_leaves_nothing_behind(
            self, ledger: BillingLedger) -> None:
        # The second claim's patient was born after the date of service: only the ledger
        # knows to refuse it, after the first claim's patient, payer and claim were entered.
        unborn = [s.replace("DOE*JOHN", "DOE*BABY").replace("19800101", "20250301")
                  for s in SUBSCRIBER_IS_PATIENT]
        other = [s.replace("PCN20250115001", "PCN2") for s in CLAIM]
        with refused(ledger, ImportRefused, match="claim PCN2 .* is before the patient's birth"):
            import_837(ledger, x12(*SUBSCRIBER_IS_PATIENT, *CLAIM,
                                   *[s.replace("HL*2*1", "HL*3*1") for s in unborn], *other))

    def test_a_biller_cannot_enroll_the_files_providers_on_a_closed_ledger(
            self, ledger: BillingLedger, ledger_factory: LedgerFactory) -> None:
        ledger.seed_role_users()
        with refused(ledger, ImportRefused, match="enroll provider needs the"):
            import_837(ledger_factory(actor="biller"), MINIMAL)


def corpus_837_rows() -> list[dict[str, str]]:
    inventory = CORPUS / "INVENTORY.tsv"
    if not inventory.exists():
        return []
    with inventory.open() as handle:
        return [row for row in csv.DictReader(handle, delimiter="\t") if "837" in row["kind"]]


# The corpus 837P files that import: a valid billing NPI and a consistent file. The others
# are refused, each naming its fault (837I, 4010, an NPI failing its check digit, a broken
# envelope or component separator, CLM02 against the lines, no claims at all).
IMPORTING = {
    "linuxforhealth-x12/837_005010X222A2/demo.drug.example10.1.837",
    "linuxforhealth-x12/837_005010X222A2/demo.drug.example10.2.837",
    "linuxforhealth-x12/837_005010X222A2/demo.drug.example10.3.837",
    "linuxforhealth-x12/837_005010X222A2/demo.example1.837",
    "linuxforhealth-x12/demo-file/demo.837",
    "uhin-x12-parser-library/837.edi",
}


@pytest.mark.skipif(not corpus_837_rows(), reason="the shared X12 corpus is not here")
class TestCorpus:
    @pytest.mark.parametrize("row", corpus_837_rows(), ids=lambda row: row["file"])
    def test_every_837_imports_as_inventoried_or_is_refused_naming_the_fault(
            self, ledger_factory: LedgerFactory, row: dict[str, str]) -> None:
        ledger = ledger_factory()
        data = (CORPUS / row["file"]).read_bytes()
        if row["file"] not in IMPORTING:
            with refused(ledger, ImportRefused) as info:
                import_837(ledger, data, row["file"])
            if row["kind"].startswith("837I"):
                assert "837I (institutional) is out of scope" in info.value.problems[0]
            elif row["kind"] == "837P" and row["gs08"].startswith("004010"):
                assert any(why in info.value.problems[0] for why in (
                    "unsupported version 004010", "does not end with an IEA segment"))
            return
        outcome = import_837(ledger, data, row["file"])
        assert outcome.summary["claims"] == int(row["claims"])
        total_cents = round(float(row["clm02_charge_total"]) * 100)
        assert outcome.summary["charge_cents"] == total_cents
        claims = [ledger.claim(c) for _, c in outcome.summary["claim_ids"]]
        assert sum(c.charge_cents for c in claims) == total_cents
        for claim in claims:
            encounter = ledger.encounter(claim.encounter_id)
            assert sum(encounter.line(i)["charge_cents"] for i in claim.line_ids) == (
                claim.charge_cents)

    def test_the_corpus_in_one_ledger_adds_each_claim_once(
            self, ledger: BillingLedger) -> None:
        outcomes = {}
        for name in sorted(IMPORTING):
            try:
                outcomes[name] = import_837(ledger, (CORPUS / name).read_bytes(), name)
            except ImportRefused as refusal:
                outcomes[name] = refusal
        # demo.837 repeats demo.example1's claim; 10.2 and 10.3 reuse 10.1's CLM01 with
        # other charges, which a later file may not do silently.
        assert outcomes["linuxforhealth-x12/demo-file/demo.837"].summary["duplicates"] == 1
        assert isinstance(outcomes[
            "linuxforhealth-x12/837_005010X222A2/demo.drug.example10.2.837"], ImportRefused)


def test_what_claimdesk_submits_imports_back_unchanged(tmp_path: Path) -> None:
    """Round trip with the 837P writer: a submitted batch re-enters another ledger exactly."""
    writer = pytest.importorskip("importers.x12.claim_837")
    practice_837 = pytest.importorskip("tests.importers.practice_837")
    with freeze_time("2025-01-20 10:30:00"):
        practice = practice_837.build_practice(tmp_path / "ours.db")
        plan = practice.ledger.plan_batch(None, check=writer.preflight)
        data = writer.write_837(plan).encode()
        theirs = practice_837.open_ledger(tmp_path / "theirs.db")
        outcome = import_837(theirs, data, "batch.837")
    ours = [practice.ledger.claim(c) for c in practice.claims.values()]
    assert outcome.summary["claims"] == len(ours)
    assert outcome.summary["charge_cents"] == sum(c.charge_cents for c in ours)
    assert outcome.summary["ready"] == len(ours)

    def lines(ledger: BillingLedger, claim_id: str) -> list[tuple[object, ...]]:
        claim = ledger.claim(claim_id)
        encounter = ledger.encounter(claim.encounter_id)
        return [(encounter.line(i)["code"], encounter.line(i)["modifiers"],
                 encounter.line(i)["units_milli"], encounter.line(i)["charge_cents"],
                 encounter.line(i)["pointers"]) for i in claim.line_ids]

    imported = dict(outcome.summary["claim_ids"])   # our CLM01 (claim id) -> their claim id
    assert set(imported) == {c.claim_id for c in ours}
    for original in ours:
        assert lines(theirs, imported[original.claim_id]) == lines(practice.ledger,
                                                                   original.claim_id)
    amy = theirs.claim(imported[practice.claims["amy"]])
    # A claim to the primary need not name the other payers (no 2320): only the primary here.
    assert [c["payer_id"] for c in theirs.encounter(amy.encounter_id).coverage] == [
        practice_837.PRIMARY]
    assert {p["relationship"] for p in theirs.account(amy.account_no).policies.values()} == {
        "19"}


def test_the_cli_prints_the_promised_json_and_exits_1_on_a_refusal(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tui.cli import main

    good, bad = tmp_path / "claims.837", tmp_path / "institutional.837"
    good.write_bytes(MINIMAL)
    bad.write_bytes(x12(*SUBSCRIBER_IS_PATIENT, *CLAIM, version="005010X223A2"))
    db = str(tmp_path / "cli.sqlite3")
    with freeze_time("2025-03-10"):
        assert main(["--db", db, "import", "837", str(good), "--json"]) == 0
        document = json.loads(capsys.readouterr().out)
        assert list(document)[:5] == ["file", "status", "claims", "charge_cents", "events"]
        assert (document["status"], document["claims"], document["charge_cents"]) == (
            "imported", 1, 20_000)
        assert main(["--db", db, "import", "837", str(good), str(bad), "--json"]) == 1
    again, refusal = json.loads(capsys.readouterr().out)
    assert (again["status"], again["events"]) == ("already-imported", 0)
    assert (refusal["status"], refusal["claims"], refusal["events"]) == ("refused", 0, 0)
    assert "837I (institutional) is out of scope" in refusal["problems"][0]
