"""Work queues read a page at a time: the pages put together are the whole queue, in order."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from domain.application import BillingLedger
from projections.queries import BillingQueries
from projections.worklist import QUEUES
from tests.builders import (
    EFFECTIVE,
    PRIMARY,
    SECONDARY,
    SECONDARY_PLAN,
    TODAY,
    Practice,
    cas,
    open_visit,
    register_patient,
    remit,
    reversal_of,
    submitted_claim,
    svc,
)
from tests.conftest import LedgerFactory
from tests.domain.test_follow_up import denied_claim, owing_family


def whole(queries: BillingQueries, name: str, **kwargs: Any) -> dict[str, Any]:
    return queries.queue(name, as_of=kwargs.pop("as_of", TODAY), **kwargs)


def pages(queries: BillingQueries, name: str, size: int, **kwargs: Any) -> list[dict[str, Any]]:
    """Every page of a queue, read `size` rows at a time until one comes back short."""
    out = []
    while True:
        page = whole(queries, name, limit=size, offset=size * len(out), **kwargs)
        out.append(page)
        if len(page["items"]) < size:
            return out


def python_sorted(queries: BillingQueries, name: str, sort: str | None = None,
                  descending: bool = False, as_of: date = TODAY) -> list[dict[str, Any]]:
    """The queue read the slow way: every row built, then Python's stable sort."""
    rows = queries._builders()[name](as_of)
    key = sort or QUEUES[name][1]
    reverse = key.startswith("-") != descending
    key = key.lstrip("-")
    return sorted(rows, key=lambda r: (r.get(key) is None, r.get(key) or 0), reverse=reverse)


def assert_pages_make_the_whole(queries: BillingQueries, name: str, **kwargs: Any) -> None:
    full = whole(queries, name, **kwargs)
    assert full["items"] == python_sorted(queries, name, kwargs.get("sort"),
                                          kwargs.get("descending", False))
    assert full["count"] == len(full["items"])
    assert full["total_cents"] == sum(r["amount_cents"] for r in full["items"])
    for size in (1, 2, 3):
        read = pages(queries, name, size, **kwargs)
        assert [row for page in read for row in page["items"]] == full["items"]
        assert {(p["count"], p["total_cents"]) for p in read} == {
            (full["count"], full["total_cents"])}


@pytest.fixture
def unbilled_practice(ledger: BillingLedger, practice: Practice) -> dict[str, Any]:
    """Seven unbilled lines over three visits on two days, so sort keys tie; one billed."""
    doe = register_patient(ledger, coverage=(PRIMARY, SECONDARY))
    roe = register_patient(ledger, last_name="ROE")
    moe = register_patient(ledger, last_name="MOE")
    first = open_visit(ledger, doe, charges=["99213", "36415"], service_date=date(2025, 1, 5))
    open_visit(ledger, roe, charges=["99214", "36415", "93000"], service_date=date(2025, 2, 5))
    open_visit(ledger, moe, charges=["99213", "36415"], service_date=date(2025, 1, 5))
    billed = open_visit(ledger, doe, charges=["99213"], service_date=date(2025, 1, 6))
    claim_id = submitted_claim(ledger, billed.encounter_id)
    ledger.post_remittance(remit(claim_id, svc("99213", 10_000, 5_000, cas("CO-45", 3_000),
                                               cas("PR-2", 2_000))))
    return {"doe": doe, "first": first, "billed": billed}


class TestUnbilledPages:
    def test_pages_put_together_are_the_whole_queue_in_order(
            self, queries: BillingQueries, unbilled_practice: dict[str, Any]) -> None:
        full = whole(queries, "unbilled")
        assert (full["count"], full["total_cents"]) == (8, 49_500)
        # Oldest visit first; on a tie, the line order (line id, then payer).
        assert [r["service_date"] for r in full["items"]] == sorted(
            r["service_date"] for r in full["items"])
        tied = [r["line_id"] for r in full["items"] if r["service_date"] == date(2025, 1, 5)]
        assert tied == sorted(tied) and len(tied) == 4
        assert_pages_make_the_whole(queries, "unbilled")

    def test_every_sort_pages_as_the_full_sort_orders(
            self, queries: BillingQueries, unbilled_practice: dict[str, Any]) -> None:
        for sort in ("amount_cents", "-amount_cents", "age_days", "-age_days", "code",
                     "payer_id", "plan_id", "account_no", "service_date"):
            for descending in (False, True):
                assert_pages_make_the_whole(queries, "unbilled", sort=sort,
                                            descending=descending)

    def test_a_page_is_the_slice_of_the_stably_sorted_queue(
            self, queries: BillingQueries, unbilled_practice: dict[str, Any]) -> None:
        by_line = sorted(whole(queries, "unbilled")["items"],
                         key=lambda r: (r["line_id"], r["payer_id"]))
        largest = sorted(by_line, key=lambda r: r["amount_cents"], reverse=True)
        assert whole(queries, "unbilled", sort="-amount_cents", limit=3, offset=2)[
            "items"] == largest[2:5]
        assert whole(queries, "unbilled", sort="amount_cents", limit=4)["items"] == (
            sorted(by_line, key=lambda r: r["amount_cents"])[:4])

    def test_the_secondary_after_the_remittance_carries_its_plan(
            self, queries: BillingQueries, unbilled_practice: dict[str, Any]) -> None:
        billed = unbilled_practice["billed"]
        (row,) = [r for r in whole(queries, "unbilled", limit=2, offset=4)["items"]
                  if r["line_id"] == billed.line_ids[0]]
        assert (row["payer_id"], row["plan_id"], row["amount_cents"], row["age_days"]) == (
            SECONDARY, SECONDARY_PLAN, 2_000, (TODAY - date(2025, 1, 6)).days)
        # Before the remittance's date the secondary owed nothing and the primary had its claim.
        early = whole(queries, "unbilled", as_of=date(2025, 1, 31))
        assert billed.line_ids[0] not in {r["line_id"] for r in early["items"]}
        assert (early["count"], early["total_cents"]) == (4, 25_000)   # nor the February visit

    def test_a_page_past_the_end_still_counts_the_queue(
            self, queries: BillingQueries, unbilled_practice: dict[str, Any]) -> None:
        page = whole(queries, "unbilled", limit=5, offset=50)
        assert (page["items"], page["count"], page["total_cents"]) == ([], 8, 49_500)
        page = whole(queries, "unbilled", offset=6)
        assert (len(page["items"]), page["count"]) == (2, 8)

    def test_search_and_filter_page_the_rows_they_keep(
            self, queries: BillingQueries, unbilled_practice: dict[str, Any]) -> None:
        doe = unbilled_practice["doe"]
        mine = whole(queries, "unbilled", search=doe.lower())
        assert {r["account_no"] for r in mine["items"]} == {doe}
        assert (mine["count"], len(mine["items"])) == (3, 3)
        page = whole(queries, "unbilled", search=doe, limit=2, offset=2)
        assert page["items"] == mine["items"][2:] and page["count"] == 3
        secondary = whole(queries, "unbilled", filter={"payer_id": SECONDARY})
        assert (secondary["count"], secondary["total_cents"]) == (1, 2_000)


    def test_lines_a_voided_claim_released_are_unbilled_again(
            self, ledger: BillingLedger, practice: Practice, queries: BillingQueries) -> None:
        visit = open_visit(ledger, register_patient(ledger))
        claim = submitted_claim(ledger, visit.encounter_id)
        era = remit(claim, svc("99214", 15_000, 10_000, cas("CO-45", 5_000), modifiers=("25",)),
                    svc("93000", 5_000, 3_000, cas("CO-45", 2_000)))
        ledger.post_remittance(era)
        assert whole(queries, "unbilled")["count"] == 0
        ledger.start_void(claim, "billed to the wrong payer")
        ledger.mark_submitted([claim], batch_id="B2")
        ledger.post_remittance(reversal_of(era, paid_on=era.paid_on, source="era:void"))

        page = whole(queries, "unbilled", limit=1, offset=1)
        assert [(r["line_id"], r["payer_id"], r["amount_cents"]) for r in page["items"]] == [
            (visit.line_ids[1], PRIMARY, 5_000)]
        assert (page["count"], page["total_cents"]) == (2, 20_000)
        assert_pages_make_the_whole(queries, "unbilled")
        ledger.create_claim(visit.encounter_id)
        assert whole(queries, "unbilled")["count"] == 0


class TestClaimQueuePages:
    def test_ready_claims_page_by_service_date_then_entry(
            self, ledger: BillingLedger, practice: Practice, queries: BillingQueries) -> None:
        for day in (3, 1, 3, 2, 1):
            account = register_patient(ledger)
            visit = open_visit(ledger, account, charges=["99213"],
                               service_date=date(2025, 1, day))
            ledger.scrub_claim(ledger.create_claim(visit.encounter_id))
        full = whole(queries, "ready")
        assert [r["service_date"].day for r in full["items"]] == [1, 1, 2, 3, 3]
        assert (full["count"], full["total_cents"]) == (5, 50_000)
        assert_pages_make_the_whole(queries, "ready")
        assert_pages_make_the_whole(queries, "ready", sort="age_days")

    def test_no_response_pages_by_days_waiting_with_each_payers_own_limit(
            self, ledger: BillingLedger, practice: Practice, queries: BillingQueries) -> None:
        ledger.register_payer("55555", "SLOW MUTUAL", expected_response_days=45)
        ledger.add_plan("55555", "SLOWPPO", "Slow PPO")
        waiting = []
        for days_ago, payer in ((31, PRIMARY), (44, "55555"), (46, "55555"), (40, PRIMARY),
                                (31, PRIMARY), (29, PRIMARY)):
            account = register_patient(ledger, coverage=(PRIMARY,) if payer == PRIMARY else ())
            if payer != PRIMARY:
                ledger.add_coverage(account, payer, "SLOWPPO", f"S{account}",
                                    group_number="G1", effective_on=EFFECTIVE,
                                    relationship="18")
            visit = open_visit(ledger, account, charges=["99213"])
            waiting.append(submitted_claim(ledger, visit.encounter_id,
                                           submitted_on=TODAY - timedelta(days=days_ago)))
        full = whole(queries, "no-response")
        assert [(r["claim_id"], r["days_waiting"], r["expected_days"]) for r in full["items"]] == [
            (waiting[2], 46, 45), (waiting[3], 40, 30), (waiting[0], 31, 30),
            (waiting[4], 31, 30)]
        assert_pages_make_the_whole(queries, "no-response")
        assert_pages_make_the_whole(queries, "no-response", sort="expected_days")
        assert whole(queries, "no-response", as_of=TODAY - timedelta(days=1))["count"] == 1


class TestWorklistPages:
    def test_pages_of_a_billers_worklist_make_the_whole(
            self, ledger_factory: LedgerFactory, ledger: BillingLedger, practice: Practice,
            queries: BillingQueries) -> None:
        ledger.seed_role_users()
        claims = [f"claim:{denied_claim(ledger).claim_id}" for _ in range(3)]
        roe = f"account:{owing_family(ledger)}"
        supervisor = ledger_factory(actor="supervisor", seed=7)
        supervisor.after_save.append(queries.catch_up)
        assert queries.worklist("biller") == {"user": "biller", "as_of": TODAY, "count": 0,
                                              "total_cents": 0, "waiting": 0, "items": []}
        supervisor.assign_work(claims, "biller")

        mine = queries.worklist("biller")
        assert [i["item"] for i in mine["items"]] == sorted(claims)   # equal value x age
        assert (mine["count"], mine["total_cents"], mine["waiting"]) == (3, 45_000, 0)
        for size in (1, 2):
            read = [queries.worklist("biller", limit=size, offset=offset)
                    for offset in range(0, 4, size)]
            assert [i for page in read for i in page["items"]] == mine["items"]
            assert {(p["count"], p["total_cents"]) for p in read} == {(3, 45_000)}
        assert queries.worklist()["items"] == mine["items"]     # every assigned item
        assert [i["item"] for i in queries.worklist(unassigned=True)["items"]] == [roe]
        assert queries.worklist("registrar")["count"] == 0


def test_underpaid_lines_of_equal_variance_keep_the_order_they_were_paid_in(
        ledger: BillingLedger, practice: Practice, queries: BillingQueries) -> None:
    paid = []
    for icn in ("ICN2", "ICN1"):
        visit = open_visit(ledger, register_patient(ledger))
        claim_id = submitted_claim(ledger, visit.encounter_id)
        # 99214 allows 100.00: paid 70 + PR 20 is 10 short on each claim.
        ledger.post_remittance(remit(
            claim_id, svc("99214", 15_000, 7_000, cas("CO-45", 6_000), cas("PR-2", 2_000),
                          modifiers=("25",)),
            svc("93000", 5_000, 2_400, cas("CO-45", 2_000), cas("PR-2", 600)), icn=icn))
        paid.append(visit.line_ids[0])
    full = whole(queries, "underpaid")
    assert [(r["line_id"], r["variance_cents"]) for r in full["items"]] == [
        (paid[0], 1_000), (paid[1], 1_000)]
    assert_pages_make_the_whole(queries, "underpaid")


def test_timely_filing_keeps_work_due_on_the_window_edge_under_each_contract(
        ledger: BillingLedger, practice: Practice, queries: BillingQueries) -> None:
    ledger.sign_contract("K2", SECONDARY, [SECONDARY_PLAN], practice.billing_npi, EFFECTIVE,
                         timely_filing_days=90, fees=[])
    primary = register_patient(ledger)
    secondary = register_patient(ledger, last_name="ROE", coverage=(SECONDARY,))
    # The window ends 30 days after today: due on its last day is in, a day later is out.
    visits = {(payer, days): open_visit(ledger, account, charges=["99213"],
                                        service_date=TODAY - timedelta(days=days))
              for payer, account, edge in ((PRIMARY, primary, 335), (SECONDARY, secondary, 60))
              for days in (edge, edge - 1)}
    rows = whole(queries, "timely-filing")["items"]
    assert [(r["payer_id"], r["encounter_id"], r["days_left"]) for r in rows] == [
        (PRIMARY, visits[(PRIMARY, 335)].encounter_id, 30),
        (SECONDARY, visits[(SECONDARY, 60)].encounter_id, 30)]
    assert_pages_make_the_whole(queries, "timely-filing")
