"""The worklist and the supervisor's figures: given a day of work, these rows.

A day at the desk (today is 2025-03-10): DOE's 99214 was denied CO-197 and ROE (self-pay)
has not paid her November statement. The supervisor assigns both to the biller; the biller
calls ROE, who promises 20.00 by 2025-03-20, and appeals DOE's denial. Both items leave the
worklist until their tickler; the promise, broken, brings ROE back on 2025-03-21.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory

from domain.application import BillingLedger
from domain.errors import ValidationError
from projections.follow_up import (
    AssignmentRule,
    Promise,
    item_status,
    items_from_queues,
    promise_state,
    score,
)
from projections.queries import BillingQueries
from tests.builders import TODAY, Practice, recorded_since
from tests.conftest import LedgerFactory
from tests.domain.test_follow_up import denied_claim, owing_family

WORK = {"ActivityLogged", "AppealFiled", "AppealLetterGenerated", "AppealDecided",
        "FollowUpLetterIssued"}


@pytest.fixture
def desk(ledger_factory: LedgerFactory, ledger: BillingLedger, practice: Practice,
         queries: BillingQueries) -> dict[str, Any]:
    ledger.seed_role_users()
    denied = denied_claim(ledger)
    roe = owing_family(ledger)
    supervisor = ledger_factory(actor="supervisor", seed=7)
    supervisor.after_save.append(queries.catch_up)
    return {"biller": ledger, "supervisor": supervisor, "queries": queries,
            "claim": f"claim:{denied.claim_id}", "roe": f"account:{roe}",
            "claim_id": denied.claim_id, "roe_no": roe, "doe_no": denied.account}


def refs(answer: dict[str, Any]) -> list[str]:
    return [i["item"] for i in answer["items"]]


class TestWorklist:
    def test_the_supervisor_sees_the_queues_and_assigns_by_rule(
            self, desk: dict[str, Any]) -> None:
        queries: BillingQueries = desk["queries"]
        unassigned = queries.worklist(unassigned=True)
        assert refs(unassigned) == [desk["claim"], desk["roe"]]
        claim, roe = unassigned["items"]
        assert (claim["queues"], claim["amount_cents"], claim["age_days"], claim["score"]) == (
            ["denials"], 15_000, 59, 15_000 * 59)
        assert (roe["queues"], roe["amount_cents"], roe["age_days"], roe["status"]) == (
            ["delinquent"], 5_000, 160, "new")
        assert roe["name"] == "ROE, JANE" and claim["payer_id"] == "12345"
        picked = queries.matching_items(AssignmentRule.parse("queue=delinquent letters=P-S"))
        assert picked == [desk["roe"]]
        assert queries.matching_items(AssignmentRule.parse("payer=12345 min=100")) == [
            desk["claim"]]
        assert queries.matching_items(AssignmentRule.parse("bucket=121+")) == [desk["roe"]]
        desk["supervisor"].assign_work(picked, "biller", rule="queue=delinquent letters=P-S")
        desk["supervisor"].assign_work([desk["claim"]], "biller")
        mine = queries.worklist("biller")
        assert refs(mine) == [desk["claim"], desk["roe"]]      # value x age, largest first
        assert mine["total_cents"] == 20_000 and mine["waiting"] == 0
        assert queries.worklist(unassigned=True)["items"] == []
        assert queries.worklist("supervisor")["items"] == []

    def test_a_day_of_work_hides_items_until_their_tickler_and_a_broken_promise_returns(
            self, desk: dict[str, Any], frozen_clock: FrozenDateTimeFactory) -> None:
        queries: BillingQueries = desk["queries"]
        biller = desk["biller"]
        desk["supervisor"].assign_work([desk["claim"], desk["roe"]], "biller")
        biller.log_follow_up(desk["roe"], "call", "promise-to-pay",
                             promise_on=date(2025, 3, 20), promise_cents=2_000)
        biller.file_appeal(desk["claim_id"], "reconsideration", "authorization was on file")
        biller.generate_appeal_letter(desk["claim_id"])
        today = queries.worklist("biller")
        assert today["items"] == [] and today["waiting"] == 2
        waiting = {i["item"]: i for i in queries.worklist(
            "biller", include_waiting=True)["items"]}
        assert waiting[desk["roe"]]["next_action_on"] == date(2025, 3, 21)
        assert waiting[desk["roe"]]["promise"]["state"] == "pending"
        assert waiting[desk["claim"]]["queues"] == []            # the denial was worked
        assert waiting[desk["claim"]]["appeal"] == {
            "appeal_id": f"{desk['claim_id']}-A1", "level": "reconsideration",
            "deadline": date(2025, 7, 31), "status": "pending"}
        assert waiting[desk["claim"]]["next_action_on"] == TODAY + timedelta(days=30)

        frozen_clock.move_to(date(2025, 3, 20))
        assert queries.worklist("biller")["items"] == []
        frozen_clock.move_to(date(2025, 3, 21))
        [back] = queries.worklist("biller")["items"]
        assert (back["item"], back["status"], back["resurfaced_on"]) == (
            desk["roe"], "promise-broken", date(2025, 3, 21))
        assert back["promise"] == {"made_on": TODAY, "promise_on": date(2025, 3, 20),
                                   "promise_cents": 2_000, "paid_cents": 0,
                                   "state": "broken", "by": "biller"}
        biller.log_follow_up(desk["roe"], "call", "left-message")
        assert queries.worklist("biller")["items"] == []        # worked again: waits 2 days
        frozen_clock.move_to(TODAY + timedelta(days=30))
        assert refs(queries.worklist("biller")) == [desk["claim"], desk["roe"]]
        assert queries.worklist("biller")["items"][0]["status"] == "due"

    def test_a_kept_promise_and_a_paid_balance_take_the_account_off_the_list(
            self, desk: dict[str, Any], frozen_clock: FrozenDateTimeFactory) -> None:
        queries: BillingQueries = desk["queries"]
        biller = desk["biller"]
        desk["supervisor"].assign_work([desk["roe"]], "biller")
        biller.log_follow_up(desk["roe"], "call", "promise-to-pay",
                             promise_on=date(2025, 3, 20), promise_cents=2_000)
        frozen_clock.move_to(date(2025, 3, 18))
        biller.post_patient_payment(desk["roe_no"], 2_000, method="card")
        frozen_clock.move_to(date(2025, 3, 25))
        assert queries.worklist("biller")["items"] == []
        [item] = [i for i in queries.work_items(date(2025, 3, 25)).values()
                  if i["item"] == desk["roe"]]
        assert item["status"] == "done" and item["promise"]["state"] == "kept"

    def test_the_supervisor_figures_are_what_the_events_say(
            self, desk: dict[str, Any], frozen_clock: FrozenDateTimeFactory) -> None:
        queries: BillingQueries = desk["queries"]
        biller, supervisor = desk["biller"], desk["supervisor"]
        supervisor.assign_work([desk["claim"], desk["roe"]], "biller")
        frozen_clock.move_to("2025-03-10 14:00:00")
        biller.log_follow_up(desk["roe"], "call", "promise-to-pay",
                             promise_on=date(2025, 3, 12), promise_cents=3_000)
        biller.file_appeal(desk["claim_id"], "reconsideration", "auth on file")
        biller.generate_appeal_letter(desk["claim_id"])
        frozen_clock.move_to("2025-03-11 09:30:00")
        biller.log_follow_up(desk["claim"], "call", "payer-in-process")
        supervisor.issue_follow_up_letter(desk["roe_no"], "dunning")
        biller.post_patient_payment(desk["roe_no"], 1_000, method="cash")
        frozen_clock.move_to("2025-03-13 10:00:00")

        report = queries.supervisor_report()
        events = recorded_since(biller, 0)
        worked = [e for e in events if type(e).__name__ in WORK]
        per_day = Counter((e.actor, e.timestamp.date()) for e in worked)
        items_per_day = {key: len({e.originator_id for e in worked
                                   if (e.actor, e.timestamp.date()) == key}) for key in per_day}
        assert report["worked_per_day"] == [
            {"user": user, "day": day, "items": items_per_day[(user, day)], "actions": n}
            for (user, day), n in sorted(per_day.items())]
        assert report["worked_per_day"] == [
            {"user": "biller", "day": date(2025, 3, 10), "items": 2, "actions": 3},
            {"user": "biller", "day": date(2025, 3, 11), "items": 1, "actions": 1},
            {"user": "supervisor", "day": date(2025, 3, 11), "items": 1, "actions": 1}]
        assert report["promises"] == [{"user": "biller", "made": 1, "kept": 0, "broken": 1,
                                       "pending": 0, "promised_cents": 3_000,
                                       "kept_cents": 0}]
        # ROE's 10.00 came after the supervisor's letter, the last work on her account.
        assert report["collected"] == [
            {"user": "supervisor", "collected_cents": 1_000, "items": 1}]
        assert report["assignments"] == [
            {"user": "biller", "open": 2, "to_work": 1, "waiting": 1, "promise_broken": 1,
             "value_cents": 15_000 + 4_000}]
        assert report["oldest_untouched"] == []
        assert queries.verify()["ok"]

    def test_oldest_untouched_items_lead_the_report(self, desk: dict[str, Any]) -> None:
        report = desk["queries"].supervisor_report()
        assert [i["item"] for i in report["oldest_untouched"]] == [desk["roe"], desk["claim"]]
        assert report["oldest_untouched"][0]["age_days"] == 160
        assert report["worked_per_day"] == [] and report["collected"] == []

    def test_an_item_history_lists_what_was_done(self, desk: dict[str, Any]) -> None:
        desk["supervisor"].assign_work([desk["roe"]], "biller", rule="queue=delinquent")
        desk["biller"].log_follow_up(desk["roe"], "call", "wrong-number", note="disconnected")
        history = desk["queries"].work_history(desk["roe"])
        assert [(h["event_type"], h["actor"], h["worker"], h["outcome"], h["detail"])
                for h in history] == [
            ("WorkAssigned", "supervisor", "biller", "", "queue=delinquent"),
            ("ActivityLogged", "biller", "biller", "wrong-number", "disconnected")]
        account = desk["queries"].account_history(desk["roe_no"])
        assert "ActivityLogged" in [e["type"] for e in account]


class TestRules:
    def test_queue_rows_merge_into_items_with_their_largest_amount(self) -> None:
        items = items_from_queues({
            "denials": [{"lines": [{"claim_id": "C1", "payer_id": "P", "amount_cents": 500}]},
                        {"lines": [{"claim_id": "C1", "payer_id": "P", "amount_cents": 700}]}],
            "no-response": [{"claim_id": "C1", "payer_id": "P", "amount_cents": 1_000}],
            "timely-filing": [{"claim_id": "", "payer_id": "P", "amount_cents": 9}],
            "collections": [{"guarantor_account_no": "A1", "due_cents": 4_000}],
            "delinquent": [{"guarantor_account_no": "A1", "due_cents": 4_000}]})
        assert items == {
            "claim:C1": {"item": "claim:C1", "kind": "claim", "key": "C1",
                         "queues": ["denials", "no-response"], "amount_cents": 1_200,
                         "payer_id": "P"},
            "account:A1": {"item": "account:A1", "kind": "account", "key": "A1",
                           "queues": ["delinquent", "collections"], "amount_cents": 4_000,
                           "payer_id": ""}}

    def test_a_promise_counts_payments_dated_within_it(self) -> None:
        promise = Promise(date(2025, 3, 1), date(2025, 3, 10), 2_000, "biller")
        paid = [(date(2025, 2, 28), 5_000), (date(2025, 3, 5), 1_500), (date(2025, 3, 11), 500)]
        assert promise_state(promise, paid, date(2025, 3, 10))["state"] == "pending"
        assert promise_state(promise, paid, date(2025, 3, 11))["state"] == "broken"
        assert promise_state(promise, [*paid, (date(2025, 3, 10), 500)],
                             date(2025, 3, 11))["state"] == "kept"

    def test_statuses(self) -> None:
        base = {"in_queues": True, "next_action_on": None, "appeal_pending": False,
                "promise": None, "last_worked_on": None, "activities": 0, "still_owed": True,
                "as_of": date(2025, 3, 10)}
        assert item_status(**base) == "new"
        assert item_status(**{**base, "activities": 1}) == "to-work"
        assert item_status(**{**base, "next_action_on": date(2025, 3, 11)}) == "waiting"
        assert item_status(**{**base, "next_action_on": date(2025, 3, 10)}) == "due"
        assert item_status(**{**base, "in_queues": False}) == "done"
        assert item_status(**{**base, "in_queues": False, "appeal_pending": True}) == "new"
        broken = {"state": "broken", "promise_on": date(2025, 3, 9)}
        assert item_status(**{**base, "promise": broken, "in_queues": False,
                              "next_action_on": date(2025, 4, 1)}) == "promise-broken"
        assert item_status(**{**base, "promise": broken, "still_owed": False,
                              "in_queues": False}) == "done"
        assert score(1_000, 0) == 1_000 and score(1_000, 30) == 30_000

    def test_rules_parse_and_refuse_what_they_do_not_know(self) -> None:
        rule = AssignmentRule.parse("queue=denials,payer=12345 min=100 letters=a-k")
        assert rule.describe() == "queue=denials payer=12345 letters=a-k min=100.00"
        for bad, message in (("colour=red", "unknown rule part"), ("min=abc", "not an amount"),
                             ("bucket=1-2", "bucket must be"), ("letters=AK", "range like"),
                             ("", "at least one"), ("payer", "NAME=VALUE")):
            with pytest.raises(ValidationError, match=message):
                AssignmentRule.parse(bad)
