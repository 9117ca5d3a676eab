"""The payer sandbox: prices, denials, secondaries and corrections; balanced 835s pyx12 accepts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time

from domain.claim import ClaimState
from domain.money import cents_from_text
from importers.sandbox import DENIALS, LedgerBook, SandboxError, adjudicate_file, read_837
from importers.x12.claim_837 import preflight, write_837
from importers.x12.writer import validate
from tests.importers.practice_837 import (
    SECONDARY,
    Practice,
    build_practice,
    segments_of,
    to_remits,
)


@pytest.fixture
def practice(tmp_path: Path) -> Iterator[Practice]:
    with freeze_time("2025-01-20 10:30:00"):
        yield build_practice(tmp_path / "ledger.db")


def submit(practice: Practice, out: Path) -> str:
    plan = practice.ledger.plan_batch(check=preflight)
    data = write_837(plan)
    practice.ledger.record_batch(plan, file_name=str(out))
    out.write_text(data)
    return data


def adjudicate(practice: Practice, data: str, tmp_path: Path, name: str = "r.835",
               **options: Any) -> tuple[str, list[Any]]:
    text, outs = adjudicate_file(data, LedgerBook(practice.ledger), **options)
    path = tmp_path / name
    path.write_text(text)
    result = validate(path)
    assert result.ok, result.errors
    assert balance_errors(text) == []
    return text, outs


def post(practice: Practice, outs: list[Any], tag: str, paid_on: date = date(2025, 2, 1)) -> None:
    for remit in to_remits(outs, paid_on, tag):
        practice.ledger.post_remittance(remit)


def balance_errors(text: str) -> list[str]:
    """DOMAIN.md §2's three equations (line, claim, transaction) and CLP05 = Σ PR."""
    errors: list[str] = []
    bpr = plb = 0
    claims: list[dict[str, Any]] = []
    service: dict[str, Any] | None = None

    def money(value: str) -> int:
        return cents_from_text(value) if value else 0

    def check(claims: list[dict[str, Any]]) -> None:
        for claim in claims:
            for svc in claim["services"]:
                if svc["charge"] - svc["cas"] != svc["paid"]:
                    errors.append(f"line of {claim['id']}: {svc}")
            if claim["charge"] - claim["cas"] != claim["paid"]:
                errors.append(f"claim {claim['id']}")
            if claim["pr"] != claim["pr_cas"]:
                errors.append(f"CLP05 of {claim['id']}")

    for seg in segments_of(text):
        if seg[0] == "ST":
            claims, bpr, plb = [], 0, 0
        elif seg[0] == "BPR":
            bpr = money(seg[2])
        elif seg[0] == "CLP":
            claims.append({"id": seg[1], "charge": money(seg[3]), "paid": money(seg[4]),
                           "pr": money(seg[5]), "cas": 0, "pr_cas": 0, "services": []})
            service = None
        elif seg[0] == "SVC":
            service = {"charge": money(seg[2]), "paid": money(seg[3]), "cas": 0}
            claims[-1]["services"].append(service)
        elif seg[0] == "CAS":
            total = sum(money(seg[i]) for i in range(3, len(seg), 3))
            claims[-1]["cas"] += total
            claims[-1]["pr_cas"] += total if seg[1] == "PR" else 0
            if service is not None:
                service["cas"] += total
        elif seg[0] == "PLB":
            plb += sum(money(seg[i]) for i in range(4, len(seg), 2))
        elif seg[0] == "SE":
            check(claims)
            if sum(c["paid"] for c in claims) - plb != bpr:
                errors.append(f"BPR02 {bpr} != ΣCLP04 - ΣPLB in ST {seg[2]}")
    return errors


def services_of(text: str, claim_id: str) -> list[list[list[str]]]:
    """Per SVC of the (last) CLP of a claim: its segments up to the next SVC/CLP/SE."""
    segments = segments_of(text)
    start = max(i for i, s in enumerate(segments) if s[0] == "CLP" and s[1] == claim_id)
    services: list[list[list[str]]] = []
    for seg in segments[start + 1:]:
        if seg[0] in ("CLP", "SE"):
            break
        if seg[0] == "SVC":
            services.append([])
        if services:
            services[-1].append(seg)
    return services


class TestPricing:
    def test_lines_are_priced_by_the_contract_and_the_patients_benefits(
            self, practice: Practice, tmp_path: Path) -> None:
        ledger = practice.ledger
        john = practice.accounts["john"]
        ledger.record_eligibility(john, ledger.account(john).coverage_order[0], active=True,
                                  service_on=date(2025, 1, 10), copay_cents=2500,
                                  deductible_remaining_cents=1000, coinsurance_percent=20)
        text, _ = adjudicate(practice, submit(practice, tmp_path / "b.837"), tmp_path)
        office, ecg = services_of(text, practice.claims["john"])
        # 99214-25: charge 150, fee 100: CO-45 50, copay 25, paid 75
        assert office[0][:4] == ["SVC", "HC:99214:25", "150", "75"]
        assert ["CAS", "CO", "45", "50"] in office and ["CAS", "PR", "3", "25"] in office
        assert ["AMT", "B6", "100"] in office
        # 93000: charge 50, fee 30: CO-45 20, deductible 10, 20 % of the other 20, paid 16
        assert ecg[0][:4] == ["SVC", "HC:93000", "50", "16"]
        assert ["CAS", "PR", "1", "10", "", "2", "4"] in ecg
        # Amy has no eligibility check: 20 % coinsurance; 90460 is 2 units at 20
        visit, shots = services_of(text, practice.claims["amy"])
        assert visit[0][:4] == ["SVC", "HC:99213", "110", "56"]
        assert ["CAS", "PR", "2", "14"] in visit
        assert shots[0][:6] == ["SVC", "HC:90460", "60", "32", "", "2"]
        clp = next(s for s in segments_of(text) if s[0] == "CLP" and s[1] == practice.claims[
            "john"])
        assert clp[2:6] == ["1", "200", "91", "39"]

    def test_the_835_echoes_our_ids_and_gives_each_claim_a_control_number(
            self, practice: Practice, tmp_path: Path) -> None:
        text, _outs = adjudicate(practice, submit(practice, tmp_path / "b.837"), tmp_path)
        segments = segments_of(text)
        clps = [s for s in segments if s[0] == "CLP"]
        assert {s[1] for s in clps} == set(practice.claims.values())
        assert len({s[7] for s in clps}) == 2
        refs = [s[2] for s in segments if s[:2] == ["REF", "6R"]]
        lines = [i for c in practice.claims.values() for i in practice.ledger.claim(c).line_ids]
        assert sorted(refs) == sorted(lines)
        assert ["N1", "PE", "ACME MEDICAL GROUP", "XX", "1234567893"] in segments
        assert next(s for s in segments if s[0] == "GS")[8] == "005010X221A1"

    def test_the_same_837_and_seed_give_the_same_835(self, practice: Practice,
                                                      tmp_path: Path) -> None:
        data = submit(practice, tmp_path / "b.837")
        first, _ = adjudicate(practice, data, tmp_path, denial_rate=0.5, seed=7)
        again, _ = adjudicate(practice, data, tmp_path, denial_rate=0.5, seed=7)
        other, _ = adjudicate(practice, data, tmp_path, denial_rate=0.5, seed=8)
        assert first == again
        assert first != other

    def test_posting_the_835_leaves_the_patients_share(self, practice: Practice,
                                                       tmp_path: Path) -> None:
        _, outs = adjudicate(practice, submit(practice, tmp_path / "b.837"), tmp_path)
        post(practice, outs, "one")
        ledger = practice.ledger
        # no eligibility on file: 20 % of the allowed 100 and 30
        assert ledger.encounter(practice.encounters["john"]).balances_by_party() == {
            "PATIENT": 2600}
        amy = ledger.encounter(practice.encounters["amy"]).balances_by_party()
        assert amy == {SECONDARY: 2200}   # 14 + 8, now the secondary payer's


class TestDenials:
    def test_every_claim_is_denied_at_rate_one_with_a_realistic_reason(
            self, practice: Practice, tmp_path: Path) -> None:
        data = submit(practice, tmp_path / "b.837")
        seen: set[str] = set()
        for seed in range(12):
            text, outs = adjudicate(practice, data, tmp_path, denial_rate=1.0, seed=seed)
            for out in outs:
                denials = [a for line in out.lines for a in line.adjustments
                           if a.group == "CO" and a.carc != "45"]
                assert denials, out
                seen.update(a.carc for a in denials)
                for line in out.lines:
                    if any(a.carc == "16" for a in line.adjustments):
                        assert line.rarcs in (("M51",), ("MA130",))
            assert ("LQ" in text) == any(line.rarcs for o in outs for line in o.lines)
        assert seen <= {carc for carc, _, _ in DENIALS}
        assert len(seen) >= 4

    def test_nothing_is_denied_at_rate_zero(self, practice: Practice, tmp_path: Path) -> None:
        _, outs = adjudicate(practice, submit(practice, tmp_path / "b.837"), tmp_path, seed=3)
        assert all(a.carc in ("45", "1", "2", "3") for o in outs for line in o.lines
                   for a in line.adjustments)

    def test_a_claim_sent_after_the_filing_limit_is_denied_co_29(
            self, practice: Practice, tmp_path: Path) -> None:
        ledger = practice.ledger
        with freeze_time("2026-03-01 09:00:00"):
            for claim_id in practice.claims.values():
                assert any("timely filing" in p for p in ledger.scrub_claim(claim_id))
                ledger.override_filing_limit(claim_id, "payer outage; proof of timely filing")
                assert ledger.scrub_claim(claim_id) == []
            text, outs = adjudicate(practice, submit(practice, tmp_path / "late.837"),
                                    tmp_path)
        assert {a.carc for o in outs for line in o.lines for a in line.adjustments} == {"29"}
        assert all(line.paid_cents == 0 for o in outs for line in o.lines)
        assert segments_of(text)[3][:5] == ["BPR", "H", "0", "C", "NON"]


class TestSecondaryAndCorrections:
    def test_the_secondary_pays_what_the_primary_left_the_patient(
            self, practice: Practice, tmp_path: Path) -> None:
        ledger = practice.ledger
        _, outs = adjudicate(practice, submit(practice, tmp_path / "p.837"), tmp_path)
        post(practice, outs, "primary")
        secondary = ledger.create_claim(practice.encounters["amy"], SECONDARY)
        assert ledger.scrub_claim(secondary) == []
        text, outs = adjudicate(practice, submit(practice, tmp_path / "s.837"), tmp_path,
                                name="s.835")
        visit, shots = services_of(text, secondary)
        assert visit[0][:4] == ["SVC", "HC:99213", "110", "14"]
        assert ["CAS", "OA", "23", "96"] in visit
        assert shots[0][:4] == ["SVC", "HC:90460", "60", "8"]
        clp = next(s for s in segments_of(text) if s[0] == "CLP")
        assert clp[1:3] == [secondary, "2"]
        post(practice, outs, "secondary", paid_on=date(2025, 2, 15))
        assert ledger.encounter(practice.encounters["amy"]).balances_by_party() == {}
        assert ledger.claim(secondary).state is ClaimState.ADJUDICATED

    def test_a_replacement_reverses_the_standing_adjudication_then_readjudicates(
            self, practice: Practice, tmp_path: Path) -> None:
        ledger = practice.ledger
        _, outs = adjudicate(practice, submit(practice, tmp_path / "p.837"), tmp_path)
        post(practice, outs, "first")
        john = practice.claims["john"]
        first_icn = ledger.claim(john).payer_claim_control_number
        assert ledger.start_replacement(john, "wrong modifier") == []
        text, outs = adjudicate(practice, submit(practice, tmp_path / "r.837"), tmp_path,
                                name="r2.835")
        clps = [s for s in segments_of(text) if s[0] == "CLP"]
        assert [c[2] for c in clps] == ["22", "1"]
        assert clps[0][3:6] == ["-200", "-104", "-26"]
        assert clps[0][7] == first_icn and clps[1][7] != first_icn
        post(practice, outs, "second", paid_on=date(2025, 3, 1))
        claim = ledger.claim(john)
        assert [a["reversed"] for a in claim.adjudications] == [True, False]
        balances = ledger.encounter(practice.encounters["john"]).balances_by_party()
        assert balances == {"PATIENT": 200_00 - 104_00 - 70_00}

    def test_a_void_only_reverses_and_carries_the_debt_in_a_plb(
            self, practice: Practice, tmp_path: Path) -> None:
        ledger = practice.ledger
        _, outs = adjudicate(practice, submit(practice, tmp_path / "p.837"), tmp_path)
        post(practice, outs, "first")
        ledger.start_void(practice.claims["amy"], "wrong patient")
        text, outs = adjudicate(practice, submit(practice, tmp_path / "v.837"), tmp_path,
                                name="v.835")
        segments = segments_of(text)
        assert [s[2] for s in segments if s[0] == "CLP"] == ["22"]
        assert segments[3][:3] == ["BPR", "H", "0"]
        plb = next(s for s in segments if s[0] == "PLB")
        assert plb[1] == "1234567893" and plb[3].startswith("WO:") and plb[4] == "-88"
        post(practice, outs, "void", paid_on=date(2025, 3, 1))
        encounter = ledger.encounter(practice.encounters["amy"])
        assert encounter.balances_by_party() == {"12345": 170_00}


class TestReading:
    def test_a_file_that_is_not_an_837p_is_refused(self, tmp_path: Path) -> None:
        remittance = Path("/work/shared/domain-examples/835_min.x12").read_text()
        with pytest.raises(SandboxError, match="not an 837P"):
            read_837(remittance)
        with pytest.raises(SandboxError, match="ISA"):
            read_837("hello")


class TestRoundTrip:
    """Ledger -> 837P (pyx12 OK) -> sandbox 835 (pyx12 OK) -> `import 835` -> balances."""

    def import_835(self, practice: Practice, path: Path) -> Any:
        from importers.remittance_import import import_835_file

        return import_835_file(practice.ledger, path)

    def test_primary_then_secondary_close_the_encounters_to_the_cent(
            self, practice: Practice, tmp_path: Path) -> None:
        ledger = practice.ledger
        batch = tmp_path / "primary.837"
        data = submit(practice, batch)
        assert validate(batch).ok
        adjudicate(practice, data, tmp_path, name="primary.835")
        result = self.import_835(practice, tmp_path / "primary.835")
        assert (result.status, result.matched, result.unmatched) == ("posted", 2, 0)
        assert result.payment_cents == 104_00 + 88_00
        assert ledger.encounter(practice.encounters["john"]).balances_by_party() == {
            "PATIENT": 26_00}
        assert ledger.encounter(practice.encounters["amy"]).balances_by_party() == {
            SECONDARY: 22_00}
        assert self.import_835(practice, tmp_path / "primary.835").events == 0

        secondary = ledger.create_claim(practice.encounters["amy"], SECONDARY)
        assert ledger.scrub_claim(secondary) == []
        batch = tmp_path / "secondary.837"
        data = submit(practice, batch)
        assert validate(batch).ok
        adjudicate(practice, data, tmp_path, name="secondary.835")
        result = self.import_835(practice, tmp_path / "secondary.835")
        assert (result.status, result.payment_cents) == ("posted", 22_00)
        assert ledger.encounter(practice.encounters["amy"]).balances_by_party() == {}
        assert ledger.claim(secondary).outcome == "paid"

    def test_denials_stay_with_the_payer_for_a_biller_to_work(
            self, practice: Practice, tmp_path: Path) -> None:
        ledger = practice.ledger
        data = submit(practice, tmp_path / "b.837")
        _, outs = adjudicate(practice, data, tmp_path, name="d.835", denial_rate=1.0, seed=2)
        result = self.import_835(practice, tmp_path / "d.835")
        assert result.status == "posted"
        for out in outs:
            claim = ledger.claim(out.claim.claim_id)
            denied = {line.line_ref for line in out.lines
                      if any(a.group == "CO" and a.carc != "45" for a in line.adjustments)}
            assert set(claim.open_denials) == denied
            assert claim.outcome in ("denied", "partially-paid")
            balances = ledger.encounter(claim.encounter_id).balances_by_party()
            denied_cents = sum(line.charge_cents for line in out.lines
                               if line.line_ref in denied)
            assert balances.get(claim.payer_id, 0) == denied_cents

    def test_a_replacement_round_trip_reverses_and_reposts(
            self, practice: Practice, tmp_path: Path) -> None:
        ledger = practice.ledger
        adjudicate(practice, submit(practice, tmp_path / "b.837"), tmp_path, name="1.835")
        assert self.import_835(practice, tmp_path / "1.835").status == "posted"
        john = practice.claims["john"]
        assert ledger.start_replacement(john, "add modifier") == []
        adjudicate(practice, submit(practice, tmp_path / "r.837"), tmp_path, name="2.835")
        result = self.import_835(practice, tmp_path / "2.835")
        assert result.status == "posted", result.message
        assert [a["reversed"] for a in ledger.claim(john).adjudications] == [True, False]
        assert ledger.encounter(practice.encounters["john"]).balances_by_party() == {
            "PATIENT": 26_00}

    def test_a_void_round_trip_gives_the_claim_back_to_the_payer(
            self, practice: Practice, tmp_path: Path) -> None:
        ledger = practice.ledger
        adjudicate(practice, submit(practice, tmp_path / "b.837"), tmp_path, name="1.835")
        assert self.import_835(practice, tmp_path / "1.835").status == "posted"
        ledger.start_void(practice.claims["amy"], "wrong patient")
        adjudicate(practice, submit(practice, tmp_path / "v.837"), tmp_path, name="v.835")
        result = self.import_835(practice, tmp_path / "v.835")
        assert result.status == "posted", result.message
        assert result.payment_cents == 0
        assert ledger.encounter(practice.encounters["amy"]).balances_by_party() == {
            "12345": 170_00}

    def test_a_denied_line_paid_later_is_reported_and_reversed_as_the_payer_left_it(
            self, practice: Practice, tmp_path: Path) -> None:
        from domain.remittance import CasAdjustment, ClaimRemit, ServiceRemit

        ledger = practice.ledger
        submit(practice, tmp_path / "b.837")
        john = practice.claims["john"]
        office, ecg = ledger.claim(john).line_ids
        ledger.post_remittance(ClaimRemit(
            claim_id=john, status_code="1", charge_cents=200_00, paid_cents=80_00,
            patient_responsibility_cents=20_00, payer_claim_control_number="ICN1",
            paid_on=date(2025, 2, 1), source="era:t:1:CLP1", services=(
                ServiceRemit("99214", ("25",), 150_00, 80_00, (
                    CasAdjustment("CO", "45", 50_00), CasAdjustment("PR", "2", 20_00)),
                    line_ref=office),
                ServiceRemit("93000", (), 50_00, 0, (CasAdjustment("CO", "50", 50_00),),
                             line_ref=ecg))))
        ledger.post_remittance(ClaimRemit(   # after an appeal, the ECG alone
            claim_id=john, status_code="1", charge_cents=50_00, paid_cents=24_00,
            patient_responsibility_cents=6_00, payer_claim_control_number="ICN2",
            paid_on=date(2025, 3, 1), source="era:t:2:CLP1", services=(
                ServiceRemit("93000", (), 50_00, 24_00, (
                    CasAdjustment("CO", "45", 20_00), CasAdjustment("PR", "2", 6_00)),
                    line_ref=ecg),)))
        standing = ledger.adjudication_detail(john)
        assert standing is not None and standing.paid_cents == 104_00
        assert {i: line.accounted_cents for i, line in standing.lines.items()} == {
            office: 150_00, ecg: 50_00}
        assert ledger.start_replacement(john, "modifier") == []
        text, _ = adjudicate(practice, submit(practice, tmp_path / "r.837"), tmp_path,
                             name="r.835")
        clps = [s for s in segments_of(text) if s[0] == "CLP"]
        assert [(c[2], c[4], c[7]) for c in clps][:2] == [("22", "-24", "ICN2"),
                                                          ("22", "-80", "ICN1")]
        assert self.import_835(practice, tmp_path / "r.835").status == "posted"
        assert [a["reversed"] for a in ledger.claim(john).adjudications] == [True, True, False]
        assert ledger.encounter(practice.encounters["john"]).balances_by_party() == {
            "PATIENT": 26_00}
