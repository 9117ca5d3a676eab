"""What a payer's file is matched to: a repeated adjudication, another group's 999, a 277CA batch.

A CLP whose (CLP01, CLP07) is already posted and not reversed is the same adjudication sent
again: it waits in suspense, money kept, for a biller to refund or apply. A 999 speaks for our
sets only when its AK102 is our GS06; a 277CA batch rejection echoes our BHT03 (batch id + ST02).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from domain.application import BillingLedger
from domain.claim import ClaimState
from domain.ledger import PATIENT
from domain.services.remittances import RemittanceImport
from importers.remittance_import import import_835, import_acknowledgement
from importers.x12.era import parse_835
from tests.builders import (
    PRIMARY,
    SECONDARY,
    Practice,
    Visit,
    names,
    open_visit,
    recorded_since,
    register_patient,
    submitted_claim,
)
from tests.importers import test_acks
from tests.importers.conftest import CLAIM_ID
from tests.importers.test_835_fold_ahead import Watched
from tests.importers.test_acks import ack_277ca, ack_999, states
from tests.importers.test_era import WORKED_CLAIM, build_835
from tests.importers.test_era_posting import MIN, REVERSAL, money

submitted = test_acks.submitted   # three claims of batch BATCH1 (GS06 101): sets 0001, 0001, 0002

DUPLICATE = "duplicate of the posting from 835_min.x12 (trace CHK00012345) on 2025-01-30"
REVERSED = [
    "CLP*PCN20250115001*22*-200*-80*-50*12*PAYERCLM0001*11*1",
    "SVC*HC:99214:25*-150*-80", "DTM*472*20250110", "CAS*CO*45*-50", "CAS*PR*2*-20",
    "SVC*HC:93000*-50*0", "DTM*472*20250110", "CAS*CO*45*-20", "CAS*PR*1*-30",
]
NO_ICN = [WORKED_CLAIM[0].replace("*PAYERCLM0001*", "**"), *WORKED_CLAIM[1:]]


def conserved(result: object) -> bool:
    """posted + unapplied = BPR02 + ΣPLB."""
    return bool(result.posted_cents + result.unapplied_cents  # type: ignore[attr-defined]
                == result.payment_cents + result.provider_adjustment_cents)  # type: ignore[attr-defined]


@pytest.fixture
def watched(ledger: BillingLedger, claim_id: str) -> Iterator[Watched]:
    watched = Watched(ledger)
    yield watched
    watched.queries.close()


class TestTheSameAdjudicationAgain:
    def test_under_a_new_trace_number_it_waits_in_suspense_and_posts_nothing(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        import_835(ledger, MIN, "835_min.x12")
        before, balances = ledger.events_count(), money(ledger, visit)
        result = import_835(ledger, MIN.replace(b"CHK00012345", b"CHK00077777"), "again.835")
        assert (result.status, result.matched, result.unmatched, result.posted_cents,
                result.unapplied_cents) == ("posted", 0, 1, 0, 8000)
        assert conserved(result)
        (held,) = result.unapplied
        assert held["reason"] == (
            f"{DUPLICATE}: claim PCN20250115001, payer claim number PAYERCLM0001 already "
            "posted; held for a biller to refund or apply")
        assert any(n.startswith("claim PCN20250115001: duplicate remittance") for n in result.notes)
        assert money(ledger, visit) == balances
        assert len(ledger.claim(claim_id).adjudications) == 1
        # The payment, its trace, its suspense entry and the evidence; nothing on the claim.
        assert sorted(names(recorded_since(ledger, before))) == [
            "ClaimUnapplied", "Claimed", "Imported", "Received"]

    def test_twice_in_one_set_it_posts_once_and_the_second_waits_in_suspense(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        result = import_835(ledger, build_835([*WORKED_CLAIM, *WORKED_CLAIM], payment="160"),
                            "twice.835")
        assert (result.status, result.matched, result.unmatched, result.posted_cents,
                result.unapplied_cents) == ("posted", 1, 1, 8000, 8000)
        assert conserved(result)
        assert result.unapplied[0]["index"] == 2
        assert result.unapplied[0]["reason"].startswith(
            "duplicate of the posting from twice.835 (trace CHK00012345) on 2025-01-30")
        assert ledger.encounter(visit.encounter_id).balances_by_party() == {PATIENT: 5000}

    def test_in_two_sets_of_one_file_it_posts_once(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        result = import_835(ledger, build_835(sets=2), "two-sets.835")
        assert (result.matched, result.unmatched, result.unapplied_cents) == (1, 1, 8000)
        assert "(trace CHK00012345)" in result.unapplied[0]["reason"]
        assert ledger.encounter(visit.encounter_id).balances_by_party() == {PATIENT: 5000}

    def test_a_dry_run_shows_it_held_and_writes_nothing(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        import_835(ledger, MIN, "835_min.x12")
        before = ledger.events_count()
        result = import_835(ledger, MIN.replace(b"CHK00012345", b"CHK00077777"), "again.835",
                            dry_run=True)
        assert ledger.events_count() == before
        assert (result.dry_run, result.postings, result.unmatched) == (True, [], 1)
        assert result.unapplied[0]["reason"].startswith(DUPLICATE)
        assert result.as_dict()["unapplied"][0]["duplicate_of"] == {
            "file": "835_min.x12", "trace_number": "CHK00012345", "paid_on": "2025-01-30",
            "payer_claim_control_number": "PAYERCLM0001",
            "source": f"era:{hashlib.sha256(MIN).hexdigest()}:0001:CLP1"}

    def test_with_a_provider_level_adjustment_the_payment_is_still_conserved(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        import_835(ledger, MIN, "835_min.x12")
        result = import_835(ledger, build_835(trace="CHK00077777", payment="75",
                                              plb=["PLB*1234567893*20251231*WO:OLD1*5"]),
                            "plb.835")
        assert (result.posted_cents, result.unapplied_cents,
                result.provider_adjustment_cents) == (0, 8000, 500)
        assert conserved(result)

    def test_resent_and_reversed_in_one_file_both_wait_and_the_posting_stands(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        import_835(ledger, MIN, "835_min.x12")
        balances = money(ledger, visit)
        result = import_835(ledger, build_835([*WORKED_CLAIM, *REVERSED], payment="0",
                                              trace="CHK00077777"), "resent-reversed.835")
        assert (result.matched, result.unmatched, result.posted_cents,
                result.unapplied_cents) == (0, 2, 0, 0)
        assert result.unapplied[1]["reason"] == (
            "reversal of the duplicate held in suspense from resent-reversed.835 (trace "
            "CHK00077777, CLP1): claim PCN20250115001, payer claim number PAYERCLM0001; the "
            "two wait there together and cancel out, and the posting they repeat stands")
        assert money(ledger, visit) == balances
        assert [a["reversed"] for a in ledger.claim(claim_id).adjudications] == [False]

    def test_posted_and_reversed_in_one_file_with_nothing_before_nets_to_nothing(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        result = import_835(ledger, build_835([*WORKED_CLAIM, *REVERSED], payment="0"),
                            "posted-reversed.835")
        assert [p.outcome for p in result.postings] == ["paid", "reversed"]
        assert ledger.encounter(visit.encounter_id).balances_by_party() == {PRIMARY: 20000}

    def test_a_biller_may_still_apply_it_when_the_payer_really_paid_twice(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        import_835(ledger, MIN, "835_min.x12")
        result = import_835(ledger, MIN.replace(b"CHK00012345", b"CHK00077777"), "again.835")
        posting = ledger.apply_unapplied(result.remittance_ids[0], 1, claim_id,
                                         note="payer paid twice; refund requested")
        assert posting.paid_cents == 8000
        assert len(ledger.claim(claim_id).adjudications) == 2

    def test_the_read_models_fold_it_as_a_rebuild_does(
        self, ledger: BillingLedger, watched: Watched, visit: Visit,
    ) -> None:
        import_835(ledger, MIN, "835_min.x12")
        result = import_835(ledger, MIN.replace(b"CHK00012345", b"CHK00077777"), "again.835")
        assert result.unmatched == 1
        assert watched.queries.position() == ledger.events_count()
        assert watched.queries.verify()["ok"]
        claims = watched.queries.account_claims(visit.account_no)["claims"]
        assert [(c["claim_id"], c["paid_cents"]) for c in claims] == [(CLAIM_ID, 8_000)]


class TestNotADuplicate:
    def test_a_correction_after_a_reversal_posts_under_the_same_payer_claim_number(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        import_835(ledger, MIN, "835_min.x12")
        same_icn = REVERSAL.replace(b"PAYERCLM0002", b"PAYERCLM0001")
        result = import_835(ledger, same_icn, "835_reversal.x12")
        assert (result.matched, result.unmatched) == (2, 0)
        assert [p.outcome for p in result.postings] == ["reversed", "paid"]
        assert money(ledger, visit)[0][0] == 8800
        # ... and that correction, sent again, is the duplicate.
        again = import_835(ledger, same_icn.replace(b"CHK00099999", b"CHK00088888"), "r2.835")
        # (The reversal finds the correction's 88.00 standing, not the 80.00 it takes back.)
        first, second = (u["reason"] for u in again.unapplied)
        assert first == ("reversal of claim PCN20250115001 takes back 8000 cents but 8800 were "
                         "posted")
        assert second.startswith(
            "duplicate of the posting from 835_reversal.x12 (trace CHK00099999) on 2025-03-05")
        assert money(ledger, visit)[0][0] == 8800

    def test_a_reversed_posting_sent_again_posts_again(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        import_835(ledger, MIN, "835_min.x12")
        taken_back = import_835(ledger, build_835(REVERSED, payment="-80", trace="REV1"),
                                "rev.835")
        assert [p.outcome for p in taken_back.postings] == ["reversed"]
        result = import_835(ledger, MIN.replace(b"CHK00012345", b"CHK00077777"), "again.835")
        assert (result.matched, result.unmatched) == (1, 0)
        assert money(ledger, visit)[0][0] == 8000

    def test_another_payers_adjudication_with_its_own_claim_number_posts(
        self, ledger: BillingLedger, practice: Practice,
    ) -> None:
        visit = open_visit(ledger, register_patient(ledger, coverage=(PRIMARY, SECONDARY)))
        claim_id = submitted_claim(ledger, visit.encounter_id, claim_id=CLAIM_ID)
        crossover = [WORKED_CLAIM[0].replace("*1*200*", "*19*200*"), WORKED_CLAIM[1],
                     "NM1*TT*2*BETA MUTUAL*****PI*67890", *WORKED_CLAIM[2:]]
        assert import_835(ledger, build_835(crossover), "primary.835").matched == 1
        secondary = ["CLP*PCN20250115001*2*200*50*0*12*BETAICN1*11*1",
                     "SVC*HC:99214:25*150*20**1", "CAS*OA*23*130",
                     "SVC*HC:93000*50*30**1", "CAS*OA*23*20"]
        result = import_835(ledger, build_835(secondary, payment="50", payer_id="1678900000",
                                              trace="BETA1"), "secondary.835")
        assert (result.matched, result.unmatched) == (1, 0), result.message
        assert len(ledger.claim(claim_id).adjudications) == 2

    def test_a_different_payer_claim_number_is_another_adjudication(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        import_835(ledger, MIN, "835_min.x12")
        other = MIN.replace(b"CHK00012345", b"CHK00077777").replace(b"PAYERCLM0001",
                                                                     b"PAYERCLM0009")

        def no_reading(*args: object) -> None:
            raise AssertionError("earlier payments are read only for a likely duplicate")
        monkeypatch.setattr(BillingLedger, "_stored_payments", no_reading)
        assert import_835(ledger, other, "other.835").unmatched == 0


class TestWithoutAPayerClaimNumber:
    """CLP07 empty: the same payer, claim, CLP figures and SVC lines make a duplicate.

    pyx12 refuses a 5010 CLP without CLP07 (4010 allowed it), so these post the parsed
    document through the ledger command, as a 4010 file or another importer would.
    """

    @staticmethod
    def post(ledger: BillingLedger, claims: list[str], name: str,
             **options: str) -> RemittanceImport:
        parsed = parse_835(build_835(claims, **options), name)
        assert parsed.problems == []
        result: RemittanceImport = ledger.import_remittance(parsed.document)
        return result

    def test_an_identical_clp_from_the_same_payer_waits_in_suspense(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        assert self.post(ledger, NO_ICN, "first.835").matched == 1
        result = self.post(ledger, NO_ICN, "again.835", trace="CHK00077777")
        assert (result.matched, result.unmatched, result.unapplied_cents) == (0, 1, 8000)
        assert result.unapplied[0]["reason"] == (
            "duplicate of the posting from first.835 (trace CHK00012345) on 2025-01-30: "
            "claim PCN20250115001, no payer claim number, the same adjudication (CLP02 1, "
            "charge, paid, patient responsibility and service lines) already posted; held "
            "for a biller to refund or apply")
        assert ledger.encounter(visit.encounter_id).balances_by_party() == {PATIENT: 5000}

    def test_the_same_clp_figures_with_other_service_lines_post(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        self.post(ledger, NO_ICN, "first.835")
        regrouped = [NO_ICN[0], NO_ICN[1],
                     "SVC*HC:99214:25*150*80**1", "CAS*CO*45*40", "CAS*PR*2*30",
                     "SVC*HC:93000*50*0**1", "CAS*CO*45*30", "CAS*PR*1*20"]
        result = self.post(ledger, regrouped, "other.835", trace="CHK00077777")
        assert (result.matched, result.unmatched) == (1, 0)

    def test_an_identical_clp_from_another_payer_posts(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        self.post(ledger, NO_ICN, "first.835")
        result = self.post(ledger, NO_ICN, "other-payer.835", payer_id="9876543210",
                           trace="CHK00077777")
        assert (result.matched, result.unmatched) == (1, 0)

    def test_a_posting_with_no_record_of_its_lines_compares_on_the_clp_figures(
        self, ledger: BillingLedger, visit: Visit, claim_id: str,
    ) -> None:
        # Posted through the ledger's own command, not an imported file.
        (advice,) = parse_835(build_835(NO_ICN), "old.835").advices
        ledger.post_remittance(advice.claims[0].remit)
        result = self.post(ledger, NO_ICN, "again.835", trace="CHK00077777")
        assert result.unmatched == 1
        reason = result.unapplied[0]["reason"]
        assert reason.startswith(f"duplicate of the posting {advice.claims[0].remit.source} "
                                 "on 2025-01-30: claim PCN20250115001, no payer claim number")
        assert ("the same adjudication (CLP02 1, charge, paid and patient responsibility; its "
                "service lines were not recorded) already posted") in reason


class TestAcknowledgementGroups:
    """B4: a 999 acknowledges our sets only when AK102 is our group control number (GS06)."""

    def test_a_999_for_another_group_with_our_set_number_changes_nothing(
        self, ledger: BillingLedger, submitted: list[str],
    ) -> None:
        before = ledger.events_count()
        result = import_acknowledgement(ledger, ack_999(("0001", "R", ()), group="555"),
                                        "other-group.999")
        assert (result.rejected, result.accepted, result.unknown) == (
            [], [], ["group 555 set 0001"])
        assert states(ledger, submitted) == [ClaimState.SUBMITTED] * 3
        # Only the acknowledgement and its evidence.
        assert ledger.events_count() - before == result.events == 2

    def test_a_zero_padded_group_control_number_is_our_group(
        self, ledger: BillingLedger, submitted: list[str],
    ) -> None:
        result = import_acknowledgement(ledger, ack_999(("0002", "R", ()), group="000000101"),
                                        "padded.999")
        assert result.rejected == [submitted[2]]

    def test_another_groups_verdict_on_every_set_changes_nothing(
        self, ledger: BillingLedger, submitted: list[str],
    ) -> None:
        raw = test_acks.envelope("999", ["AK1*HC*555*005010X222A1", "AK9*R*2*2*0*4"])
        result = import_acknowledgement(ledger, raw, "group.999")
        assert (result.rejected, result.unknown) == ([], ["group 555 set *"])
        assert states(ledger, submitted) == [ClaimState.SUBMITTED] * 3


class TestBatchRejections:
    """B5: a 277CA's 2200B TRN02 echoes our BHT03, which is the batch id + the set's ST02."""

    def test_a_rejection_echoing_one_sets_bht03_rejects_that_sets_claims(
        self, ledger: BillingLedger, submitted: list[str],
    ) -> None:
        result = import_acknowledgement(
            ledger, ack_277ca(batch="BATCH10001", batch_status="A3:21"), "set1.277",
            kind="277CA")
        assert (sorted(result.rejected), result.unknown) == (sorted(submitted[:2]), [])
        assert states(ledger, submitted) == [ClaimState.REJECTED, ClaimState.REJECTED,
                                             ClaimState.SUBMITTED]

    def test_a_rejection_echoing_the_bare_batch_id_rejects_the_whole_batch(
        self, ledger: BillingLedger, submitted: list[str],
    ) -> None:
        result = import_acknowledgement(
            ledger, ack_277ca(batch="BATCH1", batch_status="A3:21"), "b.277", kind="277CA")
        assert sorted(result.rejected) == sorted(submitted)

    def test_a_set_number_we_never_sent_in_that_batch_is_unknown(
        self, ledger: BillingLedger, submitted: list[str],
    ) -> None:
        result = import_acknowledgement(
            ledger, ack_277ca(batch="BATCH10003", batch_status="A3:21"), "b3.277",
            kind="277CA")
        assert (result.rejected, result.unknown) == ([], ["batch BATCH10003"])
        assert states(ledger, submitted) == [ClaimState.SUBMITTED] * 3
