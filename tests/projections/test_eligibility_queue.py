"""Issue 9: the last eligibility answer per policy, and the queue of inactive or rejected ones."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from domain.application import BillingLedger
from projections.queries import BillingQueries
from tests.builders import PRIMARY, SECONDARY, TODAY, Practice, register_patient
from tests.projections.test_cli_reports import claimdesk

REJECTED = "rejected by payer: AAA 72 invalid/missing subscriber/insured id"


def policy_ids(queries: BillingQueries, account_no: str) -> list[str]:
    return [c["policy_id"] for c in queries.account(account_no)["coverage"]]


@pytest.fixture
def answers(ledger: BillingLedger, practice: Practice, queries: BillingQueries) -> dict[str, Any]:
    """DOE active on both policies; ROE's primary rejected (AAA); POE's primary inactive."""
    doe = register_patient(ledger, coverage=(PRIMARY, SECONDARY))
    roe = register_patient(ledger, last_name="ROE", first_name="JANE")
    poe = register_patient(ledger, last_name="POE", first_name="EDGAR")
    doe_primary, doe_secondary = policy_ids(queries, doe)
    (roe_primary,) = policy_ids(queries, roe)
    (poe_primary,) = policy_ids(queries, poe)
    ledger.record_eligibility(doe, doe_primary, active=True, service_on=TODAY,
                              checked_on=date(2025, 3, 3), copay_cents=2_000,
                              deductible_remaining_cents=50_000, coinsurance_percent=20,
                              plan_name="Acme PPO", trace_number="T-DOE-1", source="271")
    ledger.record_eligibility(doe, doe_secondary, active=False, service_on=TODAY,
                              checked_on=date(2025, 3, 3), trace_number="T-DOE-2",
                              message="coverage inactive")
    # ... and a newer answer says the secondary is active after all: it leaves the queue.
    ledger.record_eligibility(doe, doe_secondary, active=True, service_on=TODAY,
                              checked_on=date(2025, 3, 4), trace_number="T-DOE-3")
    ledger.record_eligibility(roe, roe_primary, active=False, service_on=date(2025, 3, 12),
                              checked_on=date(2025, 3, 5), trace_number="T-ROE-1",
                              source="271", message=REJECTED)
    ledger.record_eligibility(poe, poe_primary, active=False, service_on=date(2025, 3, 1),
                              checked_on=date(2025, 3, 8), trace_number="T-POE-1",
                              source="271", message="coverage inactive on the date asked")
    return {"doe": doe, "roe": roe, "poe": poe, "roe_primary": roe_primary,
            "poe_primary": poe_primary, "doe_primary": doe_primary}


class TestLastAnswerOnTheAccount:
    def test_each_policy_carries_its_last_answer(
            self, queries: BillingQueries, answers: dict[str, Any]) -> None:
        primary, secondary = queries.account(answers["doe"])["coverage"]
        assert primary["eligibility"]["active"] is True
        assert primary["eligibility"]["copay_cents"] == 2_000
        assert primary["eligibility"]["deductible_remaining_cents"] == 50_000
        assert secondary["eligibility"]["trace_number"] == "T-DOE-3"
        assert secondary["eligibility"]["active"] is True


class TestEligibilityQueue:
    def test_lists_each_policy_whose_last_answer_is_inactive_newest_check_first(
            self, queries: BillingQueries, answers: dict[str, Any]) -> None:
        answer = queries.queue("eligibility", as_of=TODAY)
        assert answer["title"] == "Eligibility: inactive or rejected"
        assert answer["count"] == 2
        assert answer["items"] == [
            {"account_no": answers["poe"], "name": "POE, EDGAR",
             "policy_id": answers["poe_primary"], "payer_id": PRIMARY,
             "service_date": date(2025, 3, 1), "checked_on": date(2025, 3, 8),
             "trace_number": "T-POE-1", "message": "coverage inactive on the date asked",
             "payer_name": "ACME HEALTH PLAN", "plan_id": "ACMEPPO", "rejected": False,
             "source": "271"},
            {"account_no": answers["roe"], "name": "ROE, JANE",
             "policy_id": answers["roe_primary"], "payer_id": PRIMARY,
             "service_date": date(2025, 3, 12), "checked_on": date(2025, 3, 5),
             "trace_number": "T-ROE-1", "message": REJECTED,
             "payer_name": "ACME HEALTH PLAN", "plan_id": "ACMEPPO", "rejected": True,
             "source": "271"}]

    def test_as_of_a_date_only_answers_checked_by_then(
            self, queries: BillingQueries, answers: dict[str, Any]) -> None:
        items = queries.queue("eligibility", as_of=date(2025, 3, 6))["items"]
        assert [i["account_no"] for i in items] == [answers["roe"]]

    def test_an_active_answer_or_the_policys_end_takes_it_off(
            self, ledger: BillingLedger, queries: BillingQueries,
            answers: dict[str, Any]) -> None:
        ledger.record_eligibility(answers["roe"], answers["roe_primary"], active=True,
                                  service_on=date(2025, 3, 12), trace_number="T-ROE-2")
        ledger.terminate_coverage(answers["poe"], answers["poe_primary"], date(2025, 2, 28))
        assert queries.queue("eligibility", as_of=TODAY)["items"] == []

    def test_rejections_can_be_searched_and_filtered(
            self, queries: BillingQueries, answers: dict[str, Any]) -> None:
        assert [i["trace_number"] for i in queries.queue(
            "eligibility", as_of=TODAY, search="AAA 72")["items"]] == ["T-ROE-1"]
        assert [i["trace_number"] for i in queries.queue(
            "eligibility", as_of=TODAY, filter={"rejected": False})["items"]] == ["T-POE-1"]

    def test_claimdesk_queue_eligibility_prints_it(
            self, ledger_path: Path, answers: dict[str, Any],
            capsys: pytest.CaptureFixture[str]) -> None:
        code, _ = claimdesk(ledger_path, "queue", "eligibility", "--as-of", "2025-03-10",
                            "--json")
        document = json.loads(capsys.readouterr().out)
        assert code == 0
        assert document["name"] == "eligibility"
        assert [(i["account_no"], i["trace_number"], i["message"])
                for i in document["items"]] == [
            (answers["poe"], "T-POE-1", "coverage inactive on the date asked"),
            (answers["roe"], "T-ROE-1", REJECTED)]
        code, _ = claimdesk(ledger_path, "queue", "eligibility", "--as-of", "2025-03-10")
        text = capsys.readouterr().out
        assert code == 0
        assert "Eligibility: inactive or rejected as of 2025-03-10: 2 rows" in text
        assert "T-ROE-1" in text and "AAA 72" in text
