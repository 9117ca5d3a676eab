"""270/271 (005010X279A1): the 270 we write passes pyx12, the corpus reads, answers land on
coverage exactly once, AAA rejections block claims, a named primary payer reorders coverage."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest
from freezegun import freeze_time

from domain.errors import RuleViolation
from domain.services.inquiries import BenefitAnswer, EligibilityDocument
from importers.eligibility_import import import_271
from importers.sandbox_inquiries import answer_270
from importers.x12.eligibility import parse_270, parse_271, write_270
from importers.x12.inquiry_maps import validate_text
from importers.x12.writer import Party
from tests.importers.practice_837 import BILLING_NPI, PRIMARY, SECONDARY, build_practice

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "x12"
TODAY = date(2025, 3, 10)
SENDER, RECEIVER = Party("CLAIMDESK", "CLAIMDESK"), Party("CLEARINGHOUSE", "CLEARINGHOUSE")


def corpus(kind: str) -> list[tuple[str, str]]:
    rows = [line.split("\t") for line in (CORPUS / "INVENTORY.tsv").read_text().splitlines()]
    return [(r[0], r[2]) for r in rows[1:] if r[1] == kind]


@pytest.fixture
def practice(tmp_path: Path):  # type: ignore[no-untyped-def]
    with freeze_time(TODAY):
        yield build_practice(tmp_path / "ledger.db")


def sent_270(practice, on: date, accounts: list[str]) -> str:  # type: ignore[no-untyped-def]
    batch = practice.ledger.plan_eligibility_requests(on, accounts)
    text = write_270(batch, sender=SENDER, receiver=RECEIVER, usage="T")
    practice.ledger.send_eligibility_requests(batch, file_name="test.270")
    return text


def test_corpus_has_ten_271s_and_six_270s() -> None:
    assert len(corpus("271")) == 10 and len(corpus("270")) == 6


@pytest.mark.parametrize(("path", "version"), corpus("271"))
def test_every_corpus_271_reads(practice, path: str, version: str) -> None:  # type: ignore[no-untyped-def]
    with freeze_time(TODAY):
        result = import_271(practice.ledger, (CORPUS / path).read_bytes(), path)
    if version.startswith("004010"):
        assert result.status == "refused"
        assert f"unsupported version {version}" in result.message
    else:
        # Answers to other people's 270s: reported as unmatched, nothing put on an account.
        assert result.status in ("posted", "already-posted"), result.message
        assert result.matched == 0 and len(result.unmatched) == result.answers


@pytest.mark.parametrize(("path", "version"), corpus("270"))
def test_every_corpus_270_reads(path: str, version: str) -> None:
    parsed, questions = parse_270((CORPUS / path).read_bytes(), path)
    if version.startswith("004010"):
        assert any("unsupported version" in str(p) for p in parsed.problems)
    else:
        assert parsed.problems == [] and questions
        assert validate_text((CORPUS / path).read_text()).ok


def test_dependent_271_reads_benefits() -> None:
    path = "linuxforhealth-x12/271_005010X279A1/dependent-health-benefit-check.271"
    parsed = parse_271((CORPUS / path).read_bytes(), path)
    (answer,) = parsed.items
    assert answer.trace == "93175-012547" and answer.member_id == "123456789"
    assert answer.active is True and answer.plan_name == "GOLD 123 PLAN"
    assert answer.copay_cents == 1000          # in network (EB12 Y) before out of network


def test_written_270_passes_pyx12_for_subscribers_and_dependents(practice) -> None:  # type: ignore[no-untyped-def]
    text = sent_270(practice, date(2025, 1, 12), list(practice.accounts.values()))
    report = validate_text(text)
    assert report.ok, report.issues
    _, questions = parse_270(text.encode())
    assert len(questions) == 3                 # John's policy, Amy's two (as a dependent)
    assert sum(1 for q in questions if q.patient) == 2


def test_round_trip_records_benefits_once(practice) -> None:  # type: ignore[no-untyped-def]
    ledger = practice.ledger
    john = practice.accounts["john"]
    text = sent_270(practice, date(2025, 1, 10), [john])
    answer, summary = answer_270(text.encode(), ledger)
    assert validate_text(answer).ok
    result = import_271(ledger, answer.encode(), "john.271")
    assert result.status == "posted" and result.matched == 1
    (check,) = ledger.account(john).eligibility.values()
    expected = summary[0]
    assert check["active"] is True and check["plan_name"] == expected["plan_name"]
    assert check["copay_cents"] == expected["copay_cents"]
    assert check["coinsurance_percent"] == expected["coinsurance_percent"]
    assert check["deductible_remaining_cents"] == expected["deductible_remaining_cents"]
    assert check["out_of_pocket_remaining_cents"] == expected["out_of_pocket_remaining_cents"]
    assert check["trace_number"] == expected["trace"]
    events = ledger.events_count()
    again = import_271(ledger, answer.replace("*900000001*", "*900000001*").encode() + b"\n",
                       "copy.271")
    assert again.status == "already-posted" and ledger.events_count() == events


def test_dry_run_records_nothing(practice) -> None:  # type: ignore[no-untyped-def]
    ledger = practice.ledger
    text = sent_270(practice, date(2025, 1, 10), [practice.accounts["john"]])
    answer, _ = answer_270(text.encode(), ledger)
    events = ledger.events_count()
    result = import_271(ledger, answer.encode(), "john.271", dry_run=True)
    assert result.events > 0 and ledger.events_count() == events


def test_aaa_rejection_lands_on_coverage_and_blocks_claims(practice) -> None:  # type: ignore[no-untyped-def]
    ledger = practice.ledger
    john = practice.accounts["john"]
    visit = ledger.open_encounter(john, date(2025, 3, 3), billing_npi=BILLING_NPI,
                                  diagnoses=["I10"])
    ledger.enter_charge(visit, "99213", pointers=[1])
    text = sent_270(practice, date(2025, 3, 3), [john])
    wrong_member = text.replace("*MI*W123456789", "*MI*W999")
    answer, summary = answer_270(wrong_member.encode(), ledger)
    assert summary[0]["answer"] == "AAA 72"
    result = import_271(ledger, answer.encode(), "john.271")
    (rejected,) = result.rejected
    assert "AAA 72 invalid/missing subscriber/insured id" in rejected["reason"]
    (check,) = ledger.account(john).eligibility.values()
    assert check["active"] is False and check["message"].startswith("rejected by payer: AAA 72")
    with pytest.raises(RuleViolation, match="inactive"):
        ledger.create_claim(visit)


def test_inactive_policy_is_recorded_inactive(practice) -> None:  # type: ignore[no-untyped-def]
    ledger = practice.ledger
    john = practice.accounts["john"]
    text = sent_270(practice, date(2025, 2, 1), [john])
    ledger.terminate_coverage(john, f"{john}-1", date(2025, 1, 31), "moved")
    answer, summary = answer_270(text.encode(), ledger)
    assert summary[0]["answer"] == "inactive"
    import_271(ledger, answer.encode(), "john.271")
    (check,) = ledger.account(john).eligibility.values()
    assert check["active"] is False and check["service_on"] == date(2025, 2, 1)


def _document(*answers: BenefitAnswer, salt: str = "") -> EligibilityDocument:
    digest = hashlib.sha256(repr(answers).encode() + salt.encode()).hexdigest()
    return EligibilityDocument(name="hand.271", raw=b"x" + salt.encode(), raw_sha256=digest,
                               content_sha256=digest, sender="PAYER", interchange_control="1",
                               answers=answers)


def test_named_primary_payer_reorders_coverage(practice) -> None:  # type: ignore[no-untyped-def]
    ledger = practice.ledger
    amy = practice.accounts["amy"]
    sent_270(practice, date(2025, 1, 12), [amy])
    primary_trace = next(t for t in ("E90000000100001", "E90000000100002")
                         if ledger.inquiry_trace("270", t).payer_id == PRIMARY)
    answer = BenefitAnswer(
        trace=primary_trace, payer_id=PRIMARY, payer_name="ACME", member_id="W555000111",
        name="ROE AMY", active=True, plan_name="ACME PPO",
        other_payers=({"role": "PRP", "payer_id": SECONDARY, "name": "SECOND MUTUAL"},))
    result = ledger.import_eligibility_responses(_document(answer))
    assert result.reordered and result.reordered[0]["order"] == [f"{amy}-2", f"{amy}-1"]
    assert ledger.account(amy).coverage_order == [f"{amy}-2", f"{amy}-1"]
    # The same trace in another file records nothing new.
    again = ledger.import_eligibility_responses(_document(answer, salt="2"))
    assert again.changes == [] and again.unchanged[0]["reason"] == "this trace was already answered"


def test_unknown_trace_is_unmatched_not_guessed(practice) -> None:  # type: ignore[no-untyped-def]
    answer = BenefitAnswer(trace="NOPE", payer_id=PRIMARY, payer_name="", member_id="W123456789",
                           name="DOE JOHN", active=True)
    result = practice.ledger.import_eligibility_responses(_document(answer))
    assert result.matched == 0 and result.unmatched[0]["reason"].startswith("trace NOPE")
