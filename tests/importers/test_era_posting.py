"""Posting 835 files end to end: DOMAIN.md §4 from X12, idempotency, atomicity, suspense, PLB."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from domain.application import BillingLedger
from domain.claim import ClaimState
from domain.encounter import Encounter
from domain.errors import RuleViolation
from domain.ledger import PATIENT, Category
from domain.remittance_file import PaymentTrace, SourceFile
from importers.remittance_import import import_835
from tests.builders import (
    PRIMARY,
    SECONDARY,
    Practice,
    Visit,
    fold_lines,
    names,
    open_visit,
    recorded_since,
    register_patient,
    submitted_claim,
)
from tests.importers.conftest import CLAIM_ID
from tests.importers.test_era import EXAMPLES, WORKED_CLAIM, build_835

MIN = (EXAMPLES / "835_min.x12").read_bytes()
REVERSAL = (EXAMPLES / "835_reversal.x12").read_bytes()


def money(ledger: BillingLedger, visit: Visit) -> list[tuple[int, int, dict[str, int]]]:
    """(payments, adjustments, buckets) per line, from the aggregate."""
    encounter = ledger.encounter(visit.encounter_id)
    return [(encounter.line(i)["totals"][Category.PAYMENT],
             encounter.line(i)["totals"][Category.ADJUSTMENT],
             dict(encounter.line(i)["buckets"])) for i in visit.line_ids]


class TestWorkedExample:
    """DOMAIN.md §4 from the X12 in ../shared/domain-examples."""

    def test_the_835_posts_paid_80_written_off_70_and_50_to_the_patient(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        before = ledger.events_count()
        result = import_835(ledger, MIN, "835_min.x12")
        assert (result.status, result.payment_cents, result.claims, result.matched,
                result.unmatched, result.unapplied_cents, result.message) == (
            "posted", 8000, 1, 1, 0, 0, "")
        assert ledger.events_count() - before == result.events
        assert money(ledger, visit) == [(8000, 5000, {PATIENT: 2000}),
                                        (0, 2000, {PATIENT: 3000})]
        assert ledger.encounter(visit.encounter_id).balances_by_party() == {PATIENT: 5000}
        claim = ledger.claim(claim_id)
        assert (claim.state, claim.payer_claim_control_number) == (
            ClaimState.ADJUDICATED, "PAYERCLM0001")

    def test_reversal_and_correction_land_on_the_corrected_figures(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        import_835(ledger, MIN, "835_min.x12")
        result = import_835(ledger, REVERSAL, "835_reversal.x12")
        assert (result.status, result.payment_cents, result.matched) == ("posted", 800, 2)
        assert [p.outcome for p in result.postings] == ["reversed", "paid"]
        # 99214: paid 88, CO-45 40, PR-2 22; 93000 unchanged: CO-45 20, PR-1 30.
        assert money(ledger, visit) == [(8800, 4000, {PATIENT: 2200}),
                                        (0, 2000, {PATIENT: 3000})]
        assert ledger.encounter(visit.encounter_id).balances_by_party() == {PATIENT: 5200}
        claim = ledger.claim(claim_id)
        assert claim.payer_claim_control_number == "PAYERCLM0002"
        assert [a["reversed"] for a in claim.adjudications] == [True, False]
        # The stored events fold to the same lines: the aggregate is not the only witness.
        folded = fold_lines(recorded_since(ledger, 0))
        assert [folded[i].balance for i in visit.line_ids] == [2200, 3000]

    def test_every_posting_points_to_the_raw_file_kept_as_evidence(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        start = ledger.events_count()
        import_835(ledger, MIN, "835_min.x12")
        events = recorded_since(ledger, start)
        money_events = [e for e in events if type(e).__name__ in (
            "PaymentPosted", "AdjustmentPosted", "ResponsibilityTransferred")]
        assert len(money_events) == 5
        digest = hashlib.sha256(MIN).hexdigest()
        assert {e.source.rsplit(":", 1)[0] for e in money_events} == {
            f"era:{digest}:0001:CLP1"}
        assert ledger.source_file(digest) == MIN


class TestIdempotency:
    def test_the_same_file_again_records_nothing_and_says_already_posted(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        first = import_835(ledger, MIN, "835_min.x12")
        before = ledger.events_count()
        again = import_835(ledger, MIN, "copy-of-835_min.x12")
        assert ledger.events_count() == before
        assert (again.status, again.events, again.matched, again.payment_cents) == (
            "already-posted", 0, 1, 8000)
        assert again.remittance_ids == first.remittance_ids
        assert money(ledger, visit)[0][0] == 8000

    def test_the_same_file_with_other_line_breaks_is_the_same_payment(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        import_835(ledger, build_835(), "a.835")
        before = ledger.events_count()
        again = import_835(ledger, build_835(between="\r\n"), "b.835")
        assert (again.status, ledger.events_count()) == ("already-posted", before)

    def test_the_same_trace_number_with_other_content_is_held_for_review(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        import_835(ledger, MIN, "835_min.x12")
        before = ledger.events_count()
        other = MIN.replace(b"NM1*QC*1*DOE*JOHN", b"NM1*QC*1*DOE*JON")
        result = import_835(ledger, other, "resent.835")
        assert result.status == "refused" and ledger.events_count() == before
        assert "trace number CHK00012345 was already imported with different content" in (
            result.message)
        assert "held for review" in result.message


class TestAllOrNothing:
    POSTERS = ("post_payment", "post_adjustment", "transfer", "reverse_entry")

    @pytest.fixture
    def crash_at(self, monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
        """Make the n-th money posting (of any kind) raise, as a crash would."""
        def arm(n: int) -> None:
            calls = [0]
            for name in self.POSTERS:
                original = getattr(Encounter, name)

                def crashing(self: Encounter, *args: Any, _original: Any = original,
                             **kwargs: Any) -> Any:
                    calls[0] += 1
                    if calls[0] == n:
                        raise RuntimeError(f"crash at posting {n}")
                    return _original(self, *args, **kwargs)
                monkeypatch.setattr(Encounter, name, crashing)
        return arm

    # The reversal file makes 10 postings: 5 reversals, then 5 for the correction.
    @pytest.mark.parametrize("n", range(1, 11))
    def test_a_crash_between_any_two_postings_leaves_the_ledger_unchanged(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
        crash_at: Callable[[int], None], monkeypatch: pytest.MonkeyPatch, n: int,
    ) -> None:
        import_835(ledger, MIN, "835_min.x12")
        before = ledger.events_count()
        balances = money(ledger, visit)
        crash_at(n)
        with pytest.raises(RuntimeError, match=f"crash at posting {n}"):
            import_835(ledger, REVERSAL, "835_reversal.x12")
        assert ledger.events_count() == before
        assert money(ledger, visit) == balances
        monkeypatch.undo()
        # Nothing of the failed attempt (trace, evidence, remittance) was left behind.
        assert import_835(ledger, REVERSAL, "835_reversal.x12").status == "posted"
        assert money(ledger, visit)[0][0] == 8800

    def test_a_crash_after_the_last_posting_before_the_save_leaves_nothing(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        def crash(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("crash while keeping the evidence")
        monkeypatch.setattr(SourceFile, "keep", crash)
        before = ledger.events_count()
        with pytest.raises(RuntimeError):
            import_835(ledger, MIN, "835_min.x12")
        assert ledger.events_count() == before
        assert not ledger._exists(PaymentTrace, "1512345678", "CHK00012345")

    def test_a_claim_refused_after_it_changed_fails_the_whole_file(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise RuleViolation("adjudication refused late")
        monkeypatch.setattr("domain.claim.Claim.record_adjudication", refuse)
        before = ledger.events_count()
        result = import_835(ledger, MIN, "835_min.x12")
        assert result.status == "refused" and "adjudication refused late" in result.message
        assert ledger.events_count() == before

    def test_a_dry_run_says_claim_by_claim_what_would_post_and_writes_nothing(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        before = ledger.events_count()
        result = import_835(ledger, MIN, "835_min.x12", dry_run=True)
        assert ledger.events_count() == before
        (posting,) = result.postings
        assert (posting.paid_cents, posting.written_off_cents, posting.transferred,
                posting.balances) == (8000, 7000, {PATIENT: 5000}, {PATIENT: 5000})
        assert result.events == 9 and result.dry_run
        assert import_835(ledger, MIN, "835_min.x12").status == "posted"


class TestSuspenseAndClearing:
    def test_unmatched_claims_and_plb_conserve_the_payment(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        stranger = ["CLP*NOTOURS1*1*100*60**12*ICN9", "NM1*QC*1*ROE*RICHARD****MI*X1",
                    "SVC*HC:99213*100*60**1", "CAS*CO*45*40"]
        raw = build_835([*WORKED_CLAIM, *stranger], payment="135.5",
                        plb=["PLB*1234567893*20251231*WO:OLD1*5*L6*-.5"])
        result = import_835(ledger, raw, "mixed.835")
        assert (result.status, result.matched, result.unmatched) == ("posted", 1, 1)
        assert (result.posted_cents, result.unapplied_cents,
                result.provider_adjustment_cents) == (8000, 6000, 450)
        # posted + unapplied = BPR02 + ΣPLB
        assert result.posted_cents + result.unapplied_cents == (
            result.payment_cents + result.provider_adjustment_cents)
        remittance = ledger.remittance(result.remittance_ids[0])
        assert remittance.clearing_account == "CLEARING:1512345678"
        assert [(p["reason"], p["reference"], p["amount_cents"])
                for p in remittance.provider_adjustments] == [
            ("WO", "OLD1", 500), ("L6", "", -50)]
        held = remittance.unapplied[2]
        assert (held["claim_id"], held["paid_cents"], held["patient_name"], held["reason"]) == (
            "NOTOURS1", 6000, "ROE, RICHARD", "claim NOTOURS1 is not in the ledger")
        events = names(recorded_since(ledger, 0))
        assert events.count("ProviderAdjustmentPosted") == 2
        assert events.count("ClaimUnapplied") == 1

    def test_a_biller_applies_a_suspended_claim_to_the_right_claim(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        typo = MIN.replace(b"CLP*PCN20250115001", b"CLP*PCN2025011500l")
        result = import_835(ledger, typo, "typo.835")
        assert (result.matched, result.unapplied_cents) == (0, 8000)
        (remittance_id,) = result.remittance_ids
        posting = ledger.apply_unapplied(remittance_id, 1, claim_id, note="payer typo")
        assert posting.paid_cents == 8000
        assert ledger.encounter(visit.encounter_id).balances_by_party() == {PATIENT: 5000}
        assert ledger.remittance(remittance_id).unapplied_cents == 0
        with pytest.raises(RuleViolation, match="already applied"):
            ledger.apply_unapplied(remittance_id, 1, claim_id)

    def test_a_claim_in_a_state_that_cannot_take_it_waits_in_suspense(
        self, ledger: BillingLedger, visit: Visit, practice: Practice,
    ) -> None:
        draft = ledger.create_claim(visit.encounter_id, claim_id=CLAIM_ID)
        result = import_835(ledger, MIN, "835_min.x12")
        assert (result.status, result.unmatched) == ("posted", 1)
        assert "never sent to the payer" in result.unapplied[0]["reason"]
        assert ledger.claim(draft).state == ClaimState.DRAFT


class TestClaimStatuses:
    def test_a_crossover_moves_patient_responsibility_to_the_next_payer(
        self, ledger: BillingLedger, practice: Practice,
    ) -> None:
        visit = open_visit(ledger, register_patient(ledger, coverage=(PRIMARY, SECONDARY)))
        claim_id = submitted_claim(ledger, visit.encounter_id, claim_id=CLAIM_ID)
        claim = [WORKED_CLAIM[0].replace("*1*200*", "*19*200*"), WORKED_CLAIM[1],
                 "NM1*TT*2*BETA MUTUAL*****PI*67890", *WORKED_CLAIM[2:]]
        result = import_835(ledger, build_835(claim), "crossover.835")
        assert result.status == "posted"
        assert ledger.encounter(visit.encounter_id).balances_by_party() == {SECONDARY: 5000}
        assert any("forwarded by the payer to BETA MUTUAL" in n and "do not rebill" in n
                   for n in result.notes)
        assert ledger.claim(claim_id).adjudications[0]["status_code"] == "19"

    def test_a_denial_stays_with_the_payer_in_the_denial_queue(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        claim = ["CLP*PCN20250115001*1*200*0**12*ICN5*11*1",
                 "SVC*HC:99214:25*150*0**1", "CAS*CO*50*150", "LQ*HE*N115",
                 "SVC*HC:93000*50*0**1", "CAS*CO*50*50"]
        result = import_835(ledger, build_835(claim, payment="0"), "denied.835")
        assert result.postings[0].outcome == "denied"
        assert ledger.encounter(visit.encounter_id).balances_by_party() == {PRIMARY: 20000}
        assert set(ledger.claim(claim_id).open_denials) == set(visit.line_ids)

    def test_a_line_is_matched_by_the_original_code_when_the_payer_changed_it(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        claim = [WORKED_CLAIM[0], "SVC*HC:99213:25*150*80**1*HC:99214:25",
                 *WORKED_CLAIM[3:]]
        result = import_835(ledger, build_835(claim), "recoded.835")
        assert (result.status, result.matched) == ("posted", 1)
        assert money(ledger, visit)[0][0] == 8000


class TestRefusedFiles:
    def test_a_file_that_does_not_balance_posts_nothing_and_gives_the_figures(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        before = ledger.events_count()
        result = import_835(ledger, build_835(payment="79"), "short.835")
        assert result.status == "refused" and ledger.events_count() == before
        assert "ΣCLP04 80.00 - ΣPLB 0.00 = 80.00, but BPR02 is 79.00" in result.message
        assert (result.payment_cents, result.claims) == (7900, 1)

    def test_a_file_pyx12_rejects_names_the_segment_and_the_fault(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        before = ledger.events_count()
        result = import_835(ledger, build_835(se_count=30), "badcount.835")
        assert result.status == "refused" and ledger.events_count() == before
        assert "pyx12: segment 25 ST: SE count of 30 for SE02=0001 is wrong. I count 23" in (
            result.message)

    def test_a_payment_dated_in_a_closed_period_is_refused_whole(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        ledger.close_period("2025-01")   # 835_min pays on 2025-01-30
        before = ledger.events_count()
        result = import_835(ledger, MIN, "835_min.x12")
        assert result.status == "refused" and ledger.events_count() == before
        assert "Period closed" in result.message and "closed through 2025-01-31" in (
            result.message)


@pytest.fixture(autouse=True)
def _no_stray_files(tmp_path: Path) -> Iterator[None]:
    """The validator writes nothing beside the input (it is given bytes, not a path)."""
    before = set(EXAMPLES.iterdir())
    yield
    assert set(EXAMPLES.iterdir()) == before


@pytest.mark.postgres
def test_on_postgresql_a_file_posts_once_and_its_evidence_round_trips(
    frozen_clock: Any,
) -> None:
    from domain.storage import resolve_store
    from tests.builders import set_up_practice
    from tests.pg import drop_pg_database, fresh_pg_database, pg_url_or_skip

    url = fresh_pg_database(pg_url_or_skip())
    ledger = BillingLedger(env=resolve_store(url).event_store_env(), actor="biller", seed=7)
    try:
        set_up_practice(ledger)
        visit = open_visit(ledger, register_patient(ledger))
        submitted_claim(ledger, visit.encounter_id, claim_id=CLAIM_ID)
        strangers = [segment for n in range(300) for segment in (
            f"CLP*STRANGER{n}*1*100*60**12*ICN{n}", "SVC*HC:99213*100*60**1", "CAS*CO*45*40")]
        raw = build_835([*WORKED_CLAIM, *strangers], payment="18080")
        result = import_835(ledger, raw, "big.835")
        assert (result.status, result.matched, result.unmatched) == ("posted", 1, 300)
        assert ledger.encounter(visit.encounter_id).balances_by_party() == {PATIENT: 5000}
        digest = hashlib.sha256(raw).hexdigest()
        assert ledger.source_file(digest) == raw
        before = ledger.events_count()
        assert import_835(ledger, raw, "big-again.835").status == "already-posted"
        assert ledger.events_count() == before
    finally:
        ledger.close()
        drop_pg_database(url)
