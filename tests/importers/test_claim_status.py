"""276/277 (005010X212): the 276 we write passes pyx12, the corpus reads, and 277 statuses
move claims: not found back to the rejected queue, pending or finalized accepted with the ICN."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest
from freezegun import freeze_time

from domain.claim import ClaimState
from domain.services.inquiries import StatusAnswer, StatusDocument
from importers.claim_status_import import import_277
from importers.sandbox_inquiries import answer_276
from importers.x12.claim_status import parse_276, parse_277, write_276
from importers.x12.inquiry_maps import validate_text
from importers.x12.writer import Party
from projections.queries import BillingQueries
from tests.importers.practice_837 import PRIMARY, build_practice

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "x12"
TODAY = date(2025, 3, 10)
SENDER, RECEIVER = Party("CLAIMDESK", "CLAIMDESK"), Party("CLEARINGHOUSE", "CLEARINGHOUSE")


def corpus(kind: str) -> list[tuple[str, str]]:
    rows = [line.split("\t") for line in (CORPUS / "INVENTORY.tsv").read_text().splitlines()]
    return [(r[0], r[2]) for r in rows[1:] if r[1] == kind]


@pytest.fixture
def practice(tmp_path: Path):  # type: ignore[no-untyped-def]
    with freeze_time(TODAY):
        practice = build_practice(tmp_path / "ledger.db")
        for who, claim_id in practice.claims.items():
            practice.ledger.mark_submitted(
                [claim_id], batch_id=f"B{who.upper()}", submitted_on=date(2025, 1, 15),
                interchange_control="000000101", transaction_controls={claim_id: "0001"})
        yield practice


def sent_276(practice) -> str:  # type: ignore[no-untyped-def]
    batch = practice.ledger.plan_status_requests()
    text = write_276(batch, sender=SENDER, receiver=RECEIVER, usage="T")
    practice.ledger.send_status_requests(batch, file_name="test.276")
    return text


@pytest.mark.parametrize(("path", "version"), corpus("276") + corpus("277"))
def test_every_corpus_276_and_277_reads(practice, path: str, version: str) -> None:  # type: ignore[no-untyped-def]
    raw = (CORPUS / path).read_bytes()
    if path.endswith(".277") or path.endswith("x212.txt"):
        result = import_277(practice.ledger, raw, path)
        assert result.status in ("posted", "already-posted"), result.message
        assert result.matched == 0          # other people's claims: unmatched, not guessed
        return
    parsed, questions = parse_276(raw, path)
    if version.startswith("004010"):
        assert any("unsupported version" in str(p) for p in parsed.problems)
    else:
        assert parsed.problems == [] and questions
        assert validate_text((CORPUS / path).read_text()).ok


def test_corpus_277_statuses() -> None:
    path = "linuxforhealth-x12/277_005010X212/claim-level-status.277"
    parsed = parse_277((CORPUS / path).read_bytes(), path)
    first = parsed.items[0]
    assert first.trace == "ABCXYZ1" and first.statuses == ("P3:317",)
    assert first.payer_claim_control_number == "05347006051"
    assert first.charge_cents == 851388 and first.status_on == date(2005, 9, 13)
    assert [a.category for a in parsed.items] == ["P3", "F0", "F2"]


def test_written_276_passes_pyx12(practice) -> None:  # type: ignore[no-untyped-def]
    text = sent_276(practice)
    assert validate_text(text).ok
    _, questions = parse_276(text.encode())
    assert sorted(q.claim_id for q in questions) == sorted(practice.claims.values())
    assert sum(1 for q in questions if q.patient) == 1       # Amy, a dependent


def test_round_trip_accepts_pending_claims(practice) -> None:  # type: ignore[no-untyped-def]
    ledger = practice.ledger
    answer, summary = answer_276(sent_276(practice).encode(), ledger)
    assert validate_text(answer).ok
    assert {s["status"] for s in summary} == {"P1:20"}
    result = import_277(ledger, answer.encode(), "s.277")
    assert result.status == "posted" and result.matched == 2
    for claim_id in practice.claims.values():
        claim = ledger.claim(claim_id)
        assert claim.state is ClaimState.ACCEPTED and claim.last_status["category"] == "P1"
    events = ledger.events_count()
    assert import_277(ledger, answer.encode(), "s.277").status == "already-posted"
    assert ledger.events_count() == events


def _document(*answers: StatusAnswer, salt: str = "") -> StatusDocument:
    digest = hashlib.sha256(repr(answers).encode() + salt.encode()).hexdigest()
    return StatusDocument(name="hand.277", raw=salt.encode(), raw_sha256=digest,
                          content_sha256=digest, sender="PAYER", interchange_control="1",
                          answers=answers)


def test_not_found_goes_back_to_the_rejected_queue(practice) -> None:  # type: ignore[no-untyped-def]
    ledger = practice.ledger
    sent_276(practice)
    john = practice.claims["john"]
    trace = next(t for t in ("S90000000100001", "S90000000100002")
                 if ledger.inquiry_trace("276", t).claim_id == john)
    result = ledger.import_claim_statuses(_document(StatusAnswer(
        trace=trace, claim_id="", payer_id=PRIMARY, statuses=("A4:35",),
        status_on=date(2025, 3, 9))))
    assert result.rejected and ledger.claim(john).state is ClaimState.REJECTED
    queries = BillingQueries.for_ledger(ledger)
    rejected = queries.queue("rejected", as_of=TODAY)
    assert [r["claim_id"] for r in rejected["items"]] == [john]
    assert "277 STC A4:35" in rejected["items"][0]["reasons"]
    # Same trace again: nothing new.
    again = ledger.import_claim_statuses(_document(StatusAnswer(
        trace=trace, claim_id="", payer_id=PRIMARY, statuses=("A4:35",)), salt="2"))
    assert again.unchanged and again.changes == []     # the claim is left as it was


def test_finalized_status_accepts_with_the_payer_claim_number(practice) -> None:  # type: ignore[no-untyped-def]
    ledger = practice.ledger
    amy = practice.claims["amy"]
    result = ledger.import_claim_statuses(_document(StatusAnswer(
        trace="THEIRS1", claim_id=amy, payer_id=PRIMARY, statuses=("F1:65",),
        payer_claim_control_number="ICN777", paid_cents=5000)))
    assert result.matched == 1
    claim = ledger.claim(amy)
    assert claim.state is ClaimState.ACCEPTED and claim.payer_claim_control_number == "ICN777"


def test_unknown_claim_is_unmatched(practice) -> None:  # type: ignore[no-untyped-def]
    result = practice.ledger.import_claim_statuses(_document(StatusAnswer(
        trace="X", claim_id="NOSUCHCLAIM", payer_id=PRIMARY, statuses=("P1:20",))))
    assert result.matched == 0 and "not in the ledger" in result.unmatched[0]["reason"]


def test_4010_276_is_refused() -> None:
    path = "tigershark/TEST 276 TXNs.txt"
    parsed, _ = parse_276((CORPUS / path).read_bytes(), path)
    assert "unsupported version 004010X093A1" in str(parsed.problems[0])
