"""The pure aging rules: bucket boundaries (upper bounds inclusive) and credits kept apart."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from projections.aging import BUCKETS, LineBalance, aging_bucket, aging_report

AS_OF = date(2025, 6, 30)


def days_ago(n: int) -> date:
    return AS_OF - timedelta(days=n)


class TestAgingBucket:
    @pytest.mark.parametrize(("age", "bucket"), [
        (0, "0-30"), (30, "0-30"), (31, "31-60"), (60, "31-60"), (61, "61-90"),
        (90, "61-90"), (91, "91-120"), (120, "91-120"), (121, "121+"), (4000, "121+"),
    ])
    def test_upper_bounds_are_inclusive(self, age: int, bucket: str) -> None:
        assert aging_bucket(days_ago(age), AS_OF) == bucket

    def test_a_basis_date_after_as_of_is_current(self) -> None:
        assert aging_bucket(AS_OF + timedelta(days=3), AS_OF) == "0-30"


class TestAgingReport:
    def test_balances_split_by_party_into_buckets_and_credits_stay_apart(self) -> None:
        report = aging_report([
            LineBalance("L1", "12345", "PPO", days_ago(30), 10_000),
            LineBalance("L2", "12345", "PPO", days_ago(31), 4_000),
            LineBalance("L2", "PATIENT", "", days_ago(31), 2_500),
            LineBalance("L3", "PATIENT", "", days_ago(121), -800),
            LineBalance("L4", "AGENCY", "", days_ago(200), 1_200),
            LineBalance("L5", "67890", "SUPP", days_ago(120), 700),
        ], AS_OF)
        assert report == {
            "as_of": AS_OF, "basis": "dos", "total_cents": 18_400, "credit_cents": 800,
            "buckets": {
                "0-30": {"insurance_cents": 10_000, "patient_cents": 0, "agency_cents": 0},
                "31-60": {"insurance_cents": 4_000, "patient_cents": 2_500, "agency_cents": 0},
                "61-90": {"insurance_cents": 0, "patient_cents": 0, "agency_cents": 0},
                "91-120": {"insurance_cents": 700, "patient_cents": 0, "agency_cents": 0},
                "121+": {"insurance_cents": 0, "patient_cents": 0, "agency_cents": 1_200},
            },
            "by": [],
        }

    def test_by_plan_groups_payer_shares_by_plan_and_keeps_the_patient_apart(self) -> None:
        report = aging_report([
            LineBalance("L1", "12345", "PPO", days_ago(5), 100),
            LineBalance("L2", "12345", "HMO", days_ago(95), 200),
            LineBalance("L3", "PATIENT", "", days_ago(5), 300),
            LineBalance("L4", "PATIENT", "", days_ago(5), -50),
        ], AS_OF, by="plan")
        groups = {g["plan_id"]: g for g in report["by"]}
        assert sorted(groups) == ["HMO", "PATIENT", "PPO"]
        assert groups["HMO"]["buckets"]["91-120"]["insurance_cents"] == 200
        assert groups["PATIENT"]["total_cents"] == 300
        assert groups["PATIENT"]["credit_cents"] == 50
        assert sum(g["total_cents"] for g in report["by"]) == report["total_cents"]

    def test_buckets_sum_to_the_total(self) -> None:
        balances = [LineBalance(f"L{n}", "PATIENT", "", days_ago(n * 7), n * 100)
                    for n in range(1, 40)]
        report = aging_report(balances, AS_OF, by="payer")
        assert sum(sum(report["buckets"][b].values()) for b in BUCKETS) == report["total_cents"]

    def test_an_unknown_basis_or_grouping_is_refused(self) -> None:
        with pytest.raises(ValueError, match="basis"):
            aging_report([], AS_OF, basis="last-statement")
        with pytest.raises(ValueError, match="by"):
            aging_report([], AS_OF, by="provider")
