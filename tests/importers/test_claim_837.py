"""The 837P writer: envelopes, hierarchy, corrections, secondary claims; every file passes pyx12."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from freezegun import freeze_time

from domain.claim import ClaimState
from domain.errors import ConcurrencyError
from domain.remittance import CasAdjustment, ClaimRemit, ServiceRemit
from importers.x12.claim_837 import preflight, write_837
from importers.x12.writer import X12WriteError, identifier, quantity, text, validate
from tests.importers.practice_837 import (
    PRIMARY,
    SECONDARY,
    Practice,
    build_practice,
    segments_of,
)


@pytest.fixture
def practice(tmp_path: Path) -> Iterator[Practice]:
    with freeze_time("2025-01-20 10:30:00"):
        yield build_practice(tmp_path / "ledger.db")


def submit(practice: Practice, out: Path, payer_id: str | None = None) -> str:
    """What `claimdesk claims submit` does: plan, write, validate, record."""
    ledger = practice.ledger
    plan = ledger.plan_batch(payer_id, check=preflight)
    data = write_837(plan)
    out.write_text(data)
    result = validate(out)
    assert result.ok, result.errors
    ledger.record_batch(plan, file_name=str(out))
    return data


def claim_segments(segments: list[list[str]], claim_id: str) -> list[list[str]]:
    """The segments from a claim's CLM up to the next HL or SE."""
    start = next(i for i, s in enumerate(segments) if s[0] == "CLM" and s[1] == claim_id)
    end = next(i for i in range(start + 1, len(segments)) if segments[i][0] in ("HL", "SE"))
    return segments[start:end]


def post_primary(practice: Practice, who: str, paid_on: date = date(2025, 2, 1)) -> None:
    """The primary's 835 for a claim: allowed 80 % of charge, 20 % of that the patient's."""
    ledger = practice.ledger
    claim = ledger.claim(practice.claims[who])
    encounter = ledger.encounter(claim.encounter_id)
    services = []
    for line_id in claim.line_ids:
        line = encounter.line(line_id)
        allowed = line["charge_cents"] * 8 // 10
        coinsurance = allowed // 5
        services.append(ServiceRemit(
            line["code"], tuple(line["modifiers"]), line["charge_cents"], allowed - coinsurance,
            (CasAdjustment("CO", "45", line["charge_cents"] - allowed),
             CasAdjustment("PR", "2", coinsurance)), line_ref=line_id))
    ledger.post_remittance(ClaimRemit(
        claim_id=claim.claim_id, status_code="1", charge_cents=claim.charge_cents,
        paid_cents=sum(s.paid_cents for s in services),
        patient_responsibility_cents=sum(s.adjustments[1].amount_cents for s in services),
        payer_claim_control_number=f"ICN{who.upper()}1", paid_on=paid_on,
        source=f"era:test:{who}:CLP1", services=tuple(services)))


class TestBatch:
    def test_the_batch_passes_x12valid_and_is_enveloped_and_counted(
            self, practice: Practice, tmp_path: Path) -> None:
        data = submit(practice, tmp_path / "batch.837")
        # The console script as the brief asks: it exits 1 even when the file is valid and
        # writes a .997 beside its input, so it runs on a copy.
        copy = tmp_path / "copy" / "batch.837"
        copy.parent.mkdir()
        shutil.copy(tmp_path / "batch.837", copy)
        x12valid = Path(sys.executable).with_name("x12valid")
        run = subprocess.run([str(x12valid), str(copy)], capture_output=True, text=True,
                             check=False)
        assert f"{copy}: OK" in run.stderr + run.stdout
        segments = segments_of(data)
        isa, gs, st = segments[0], segments[1], segments[2]
        assert len(data.split("~")[0]) == 105   # ISA is 106 characters with its terminator
        assert isa[13] == "000000001" and segments[-1] == ["IEA", "1", "000000001"]
        assert gs[6] == "1" and segments[-2] == ["GE", "1", "1"]
        assert gs[8] == st[3] == "005010X222A1"
        se = segments[-3]
        assert se[0] == "SE" and se[2] == st[2] == "0001"
        assert int(se[1]) == len(segments) - 4   # ST..SE inclusive

    def test_hierarchy_has_a_patient_level_only_when_the_patient_is_not_the_subscriber(
            self, practice: Practice, tmp_path: Path) -> None:
        segments = segments_of(submit(practice, tmp_path / "batch.837"))
        hls = [s for s in segments if s[0] == "HL"]
        assert [h[3] for h in hls] == ["20", "22", "23", "22"]   # Amy's claim sorts first
        billing, amy_subscriber, amy_patient, john = hls
        assert billing[1:] == ["1", "", "20", "1"]
        assert amy_subscriber[1:] == ["2", "1", "22", "1"]
        assert amy_patient[1:] == ["3", "2", "23", "0"]
        assert john[1:] == ["4", "1", "22", "0"]
        sbrs = [s for s in segments if s[0] == "SBR"]
        assert sbrs[0][:3] == ["SBR", "P", ""] and sbrs[1][:3] == ["SBR", "P", "18"]
        assert ["PAT", "19"] in segments
        assert segments[segments.index(["PAT", "19"]) + 1][:5] == ["NM1", "QC", "1", "ROE", "AMY"]

    def test_claims_carry_diagnoses_without_dots_line_ids_and_totals(
            self, practice: Practice, tmp_path: Path) -> None:
        segments = segments_of(submit(practice, tmp_path / "batch.837"))
        ledger = practice.ledger
        john = claim_segments(segments, practice.claims["john"])
        assert john[0][2] == "200" and john[0][5] == "11:B:1"
        assert ["HI", "ABK:I10", "ABF:R0789"] in john
        lines = [s for s in john if s[0] == "SV1"]
        assert [s[1] for s in lines] == ["HC:99214:25", "HC:93000"]
        assert [s[7] for s in lines] == ["1:2", "2:1"]
        refs = [s[2] for s in john if s[:2] == ["REF", "6R"]]
        assert refs == ledger.claim(practice.claims["john"]).line_ids
        amy = claim_segments(segments, practice.claims["amy"])
        assert ["REF", "G1", "AUTH42"] in amy
        assert ["HI", "ABK:Z00129"] in amy
        assert ["NM1", "82", "1", "WELBY", "MARCUS", "", "", "", "XX", "1558598797"] in amy
        assert [s[2:5] for s in amy if s[0] == "SV1"] == [["110", "UN", "1"], ["60", "UN", "2"]]

    def test_recording_marks_each_claim_submitted_with_its_control_numbers(
            self, practice: Practice, tmp_path: Path) -> None:
        ledger = practice.ledger
        before = ledger.events_count()
        submit(practice, tmp_path / "batch.837")
        # two Submitted; the counter opened and BatchRecorded
        assert ledger.events_count() == before + 4
        for claim_id in practice.claims.values():
            claim = ledger.claim(claim_id)
            assert claim.state is ClaimState.SUBMITTED
            submission = claim.submissions[-1]
            assert submission["interchange_control"] == "000000001"
            assert submission["transaction_control"] == "0001"
            assert submission["submitted_on"] == date(2025, 1, 20)
        counter = ledger.submission_counter()
        batch = next(iter(counter.batches.values()))
        assert batch["transactions"] == {"0001": sorted(
            practice.claims.values(), key=lambda c: c != practice.claims["amy"])}
        assert ledger.plan_batch().transactions == []

    def test_every_batch_takes_new_control_numbers(self, practice: Practice,
                                                   tmp_path: Path) -> None:
        ledger = practice.ledger
        first = segments_of(submit(practice, tmp_path / "one.837", payer_id=PRIMARY))
        encounter = ledger.open_encounter(practice.accounts["john"], date(2025, 1, 15),
                                          billing_npi="1234567893", diagnoses=["I10"])
        ledger.enter_charge(encounter, "99213")
        claim = ledger.create_claim(encounter)
        ledger.scrub_claim(claim)
        second = segments_of(submit(practice, tmp_path / "two.837"))
        assert (first[0][13], first[1][6], first[2][2]) == ("000000001", "1", "0001")
        assert (second[0][13], second[1][6], second[2][2]) == ("000000002", "2", "0002")
        assert second[-1] == ["IEA", "1", "000000002"]

    def test_one_transaction_set_per_payer(self, practice: Practice, tmp_path: Path) -> None:
        ledger = practice.ledger
        submit(practice, tmp_path / "primary.837")
        post_primary(practice, "amy")
        secondary = ledger.create_claim(practice.encounters["amy"], SECONDARY)
        assert ledger.scrub_claim(secondary) == []
        encounter = ledger.open_encounter(practice.accounts["john"], date(2025, 1, 15),
                                          billing_npi="1234567893", diagnoses=["I10"])
        ledger.enter_charge(encounter, "99213")
        primary = ledger.create_claim(encounter)
        ledger.scrub_claim(primary)
        segments = segments_of(submit(practice, tmp_path / "batch.837"))
        sts = [s for s in segments if s[0] == "ST"]
        assert [s[2] for s in sts] == ["0002", "0003"]
        assert segments[-2] == ["GE", "2", "2"]
        assert ledger.claim(primary).submissions[0]["transaction_control"] == "0002"
        assert ledger.claim(secondary).submissions[0]["transaction_control"] == "0003"


class TestCorrections:
    def test_a_replacement_is_frequency_7_with_the_payers_control_number(
            self, practice: Practice, tmp_path: Path) -> None:
        ledger = practice.ledger
        submit(practice, tmp_path / "first.837")
        post_primary(practice, "john")
        claim_id = practice.claims["john"]
        assert ledger.start_replacement(claim_id, "wrong modifier") == []
        segments = segments_of(submit(practice, tmp_path / "replacement.837"))
        claim = claim_segments(segments, claim_id)
        assert claim[0][5] == "11:B:7"
        assert claim[1] == ["REF", "F8", "ICNJOHN1"]
        assert ledger.claim(claim_id).submissions[-1]["frequency"] == "7"

    def test_a_void_is_frequency_8_and_goes_out_in_the_next_batch(
            self, practice: Practice, tmp_path: Path) -> None:
        ledger = practice.ledger
        submit(practice, tmp_path / "first.837")
        post_primary(practice, "amy")
        ledger.start_void(practice.claims["amy"], "billed the wrong patient")
        segments = segments_of(submit(practice, tmp_path / "void.837"))
        claim = claim_segments(segments, practice.claims["amy"])
        assert claim[0][5] == "11:B:8"
        assert ["REF", "F8", "ICNAMY1"] in claim
        # REF*F8 follows the prior authorization: 2300 REFs in the guide's order.
        assert [s[1] for s in claim if s[0] == "REF"][:2] == ["G1", "F8"]


class TestSecondaryClaims:
    def test_the_secondary_claim_reports_the_primarys_adjudication_line_by_line(
            self, practice: Practice, tmp_path: Path) -> None:
        ledger = practice.ledger
        submit(practice, tmp_path / "primary.837")
        post_primary(practice, "amy", paid_on=date(2025, 2, 3))
        secondary = ledger.create_claim(practice.encounters["amy"], SECONDARY)
        assert ledger.scrub_claim(secondary) == []
        segments = segments_of(submit(practice, tmp_path / "secondary.837"))
        claim = claim_segments(segments, secondary)
        sbr = [s for s in segments if s[0] == "SBR"]
        assert sbr[0][:4] == ["SBR", "S", "", ""] and sbr[0][9] == "BL"   # 2000B: Second Mutual
        assert sbr[1][:4] == ["SBR", "P", "19", "GRP12345"]              # 2320: Acme, primary
        # charges 110 + 60, allowed 88 + 48, patient 20 % of that, paid the rest
        assert ["AMT", "D", "108.8"] in claim
        assert ["AMT", "EAF", "27.2"] in claim
        assert ["NM1", "PR", "2", "ACME HEALTH PLAN", "", "", "", "", "PI", PRIMARY] in claim
        assert not [s for s in claim[:claim.index(["AMT", "D", "108.8"])] if s[0] == "CAS"]
        svds = [i for i, s in enumerate(claim) if s[0] == "SVD"]
        assert len(svds) == 2
        for i in svds:
            sv1 = claim[max(j for j in range(i) if claim[j][0] == "SV1")]
            svd = claim[i]
            assert svd[1] == PRIMARY and svd[3] == sv1[1]
            cas = [s for s in claim[i + 1:i + 4] if s[0] == "CAS"]
            cas_total = sum(float(s[k]) for s in cas for k in range(3, len(s), 3) if s[k])
            assert round(float(svd[2]) + cas_total, 2) == float(sv1[2])  # SV102 = SVD02 + ΣCAS
            assert claim[i + 1 + len(cas)] == ["DTP", "573", "D8", "20250203"]
        first_line = claim[svds[0]:svds[0] + 4]
        assert ["CAS", "CO", "45", "22"] in first_line and ["CAS", "PR", "2", "17.6"] in first_line

    def test_claim_level_adjustments_go_in_2320_and_the_claim_balances(
            self, practice: Practice, tmp_path: Path) -> None:
        ledger = practice.ledger
        submit(practice, tmp_path / "primary.837")
        claim = ledger.claim(practice.claims["amy"])
        encounter = ledger.encounter(claim.encounter_id)
        l1, l2 = claim.line_ids
        ledger.post_remittance(ClaimRemit(
            claim_id=claim.claim_id, status_code="1", charge_cents=17000, paid_cents=10000,
            patient_responsibility_cents=3000, payer_claim_control_number="ICN9",
            paid_on=date(2025, 2, 3), source="era:test:cl:CLP1",
            claim_adjustments=(CasAdjustment("CO", "45", 1000),),
            services=(
                ServiceRemit("99213", (), encounter.line(l1)["charge_cents"], 7000,
                             (CasAdjustment("CO", "45", 2000), CasAdjustment("PR", "2", 2000)),
                             line_ref=l1),
                ServiceRemit("90460", (), encounter.line(l2)["charge_cents"], 4000,
                             (CasAdjustment("CO", "45", 1000), CasAdjustment("PR", "1", 1000)),
                             line_ref=l2))))
        secondary = ledger.create_claim(practice.encounters["amy"], SECONDARY)
        assert ledger.scrub_claim(secondary) == []
        segments = claim_segments(segments_of(submit(practice, tmp_path / "sec.837")), secondary)
        amt_d = segments.index(["AMT", "D", "100"])
        assert segments[amt_d - 1] == ["CAS", "CO", "45", "10"]
        cas_total = sum(float(s[k]) for s in segments if s[0] == "CAS"
                        for k in range(3, len(s), 3) if s[k])
        assert cas_total + 100 == float(segments[0][2])   # CLM02 = AMT*D + every CAS

    def test_a_secondary_whose_primary_did_not_adjudicate_is_held(
            self, practice: Practice) -> None:
        ledger = practice.ledger
        lines = ledger.encounter(practice.encounters["amy"]).lines
        secondary = ledger.create_claim(practice.encounters["amy"], SECONDARY,
                                        line_ids=list(lines))
        problems = ledger.scrub_claim(secondary)
        assert any("primary payer's adjudication" in p for p in problems)


class TestRefusals:
    def test_free_text_loses_separators_and_ids_with_separators_are_refused(self) -> None:
        assert text("O'Brien*Smith~Jr: ^x") == "O'BRIEN SMITH JR X"
        assert text("Peña") == "PENA"
        assert text("a" * 80, 60) == "A" * 60
        assert identifier("W123", "member id") == "W123"
        with pytest.raises(X12WriteError, match="separator"):
            identifier("W1*23", "member id")
        assert quantity(1000) == "1" and quantity(1500) == "1.5" and quantity(250) == "0.25"

    def test_a_claim_that_cannot_be_written_is_held_and_sent_back_to_draft(
            self, practice: Practice, tmp_path: Path) -> None:
        ledger = practice.ledger
        nobody = ledger.register_patient("Poe", "Ed", date(1990, 1, 1), "M")   # no address
        ledger.add_coverage(nobody, PRIMARY, "ACMEPPO", "W999", effective_on=date(2024, 1, 1))
        encounter = ledger.open_encounter(nobody, date(2025, 1, 15), billing_npi="1234567893",
                                          diagnoses=["I10"], prior_authorization="AU*TH")
        ledger.enter_charge(encounter, "99213")
        held = ledger.create_claim(encounter)
        assert ledger.scrub_claim(held) == []
        plan = ledger.plan_batch(check=preflight)
        assert set(plan.held) == {held}
        assert any("street address" in p for p in plan.held[held])
        assert any("separator" in p for p in plan.held[held])
        out = tmp_path / "batch.837"
        out.write_text(write_837(plan))
        assert validate(out).ok
        ledger.record_batch(plan)
        claim = ledger.claim(held)
        assert claim.state is ClaimState.DRAFT
        assert claim.problems == plan.held[held]
        assert all(ledger.claim(c).state is ClaimState.SUBMITTED
                   for c in practice.claims.values())

    def test_a_batch_planned_before_another_was_recorded_records_nothing(
            self, practice: Practice) -> None:
        ledger = practice.ledger
        first = ledger.plan_batch(PRIMARY, check=preflight)
        second = ledger.plan_batch(PRIMARY, check=preflight)
        ledger.record_batch(first)
        before = ledger.events_count()
        with pytest.raises(ConcurrencyError, match="submit again"):
            ledger.record_batch(second)
        assert ledger.events_count() == before

    def test_a_claim_changed_after_planning_stops_the_whole_batch(
            self, practice: Practice) -> None:
        ledger = practice.ledger
        plan = ledger.plan_batch(check=preflight)
        ledger.scrub_claim(practice.claims["john"])   # a new event on one claim
        before = ledger.events_count()
        with pytest.raises(ConcurrencyError, match="changed after the batch"):
            ledger.record_batch(plan)
        assert ledger.events_count() == before
        assert ledger.claim(practice.claims["amy"]).state is ClaimState.READY

    def test_writing_an_empty_batch_is_refused(self, practice: Practice) -> None:
        with pytest.raises(X12WriteError, match="no claims"):
            write_837(practice.ledger.plan_batch("67890"))


class TestVariety:
    def test_a_mixed_batch_passes_pyx12_and_the_sandbox_answers_it(
            self, practice: Practice, tmp_path: Path) -> None:
        """Person billing provider, referring provider, 4 modifiers, fractional units, a
        line-level place of service, 11 diagnoses, names with separators, 30 lines."""
        from importers.sandbox import LedgerBook, adjudicate_file

        ledger = practice.ledger
        ledger.enroll_provider("1234567802", "Smith, Anne", "111223333", "207Q00000X",
                               is_billing=True, is_person=True,
                               address={"line1": "5 Side St*Ste 2", "city": "Peoria",
                                        "state": "IL", "zip": "61602"})
        ledger.enroll_provider("1234567810", "Jones, Bob", "444556666")
        ledger.set_prices([("J3420", 1234, "B12 injection"), ("97110", 4000, "Therapy")],
                          date(2024, 1, 1))
        patient = ledger.register_patient("O'Neil~Jr", "Zoë", date(1970, 5, 5), "F", address={
            "line1": "1 Pine: Apt ^3", "city": "Peoria", "state": "IL", "zip": "616021234"})
        ledger.add_coverage(patient, PRIMARY, "ACMEPPO", "W42", effective_on=date(2024, 1, 1))
        encounter = ledger.open_encounter(
            patient, date(2025, 1, 14), billing_npi="1234567802", referring_npi="1234567810",
            diagnoses=["E11.9", "E11.65", "J06.9", "Z00.00", "I10", "K21.9", "F41.9", "G47.00",
                       "N39.0", "R07.89", "M25.561"])
        ledger.enter_charge(encounter, "99214", modifiers=["25", "GT", "95", "XU"],
                            pointers=[1, 2, 3, 4])
        ledger.enter_charge(encounter, "J3420", units="1.5", pointers=[11],
                            place_of_service="12")
        for _ in range(28):
            ledger.enter_charge(encounter, "97110", units=1, pointers=[10])
        claim_id = ledger.create_claim(encounter)
        assert ledger.scrub_claim(claim_id) == []
        data = submit(practice, tmp_path / "mixed.837")
        segments = segments_of(data)
        claim = claim_segments(segments, claim_id)
        assert ["NM1", "85", "1", "SMITH", "ANNE", "", "", "", "XX", "1234567802"] in segments
        assert ["N3", "5 SIDE ST STE 2"] in segments
        assert ["NM1", "QC", "1", "O'NEIL JR", "ZOE"] not in segments   # she is the subscriber
        assert ["NM1", "IL", "1", "O'NEIL JR", "ZOE", "", "", "", "MI", "W42"] in segments
        assert ["NM1", "DN", "1", "JONES", "BOB", "", "", "", "XX", "1234567810"] in claim
        hi = next(s for s in claim if s[0] == "HI")
        assert len(hi) == 12 and hi[1] == "ABK:E119" and hi[11] == "ABF:M25561"
        sv1 = [s for s in claim if s[0] == "SV1"]
        assert sv1[0][1] == "HC:99214:25:GT:95:XU" and sv1[0][7] == "1:2:3:4"
        assert sv1[1][2:6] == ["18.51", "UN", "1.5", "12"]   # 12.34 x 1.5, home visit
        assert len(sv1) == 30
        text, _ = adjudicate_file(data, LedgerBook(ledger), denial_rate=0.3, seed=5)
        (tmp_path / "mixed.835").write_text(text)
        assert validate(tmp_path / "mixed.835").ok
