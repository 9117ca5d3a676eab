"""Tests for integer-cents parsing, formatting, allocation and rate maths."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.money import (
    AmountError,
    Cents,
    allocate,
    apply_rate,
    cents_from_text,
    format_plain,
    format_usd,
    format_x12_amount,
)


class TestCentsFromText:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("150", 15000),
            ("150.5", 15050),
            ("150.25", 15025),
            ("-20.00", -2000),
            ("-20", -2000),
            (".5", 50),
            ("-.05", -5),
            ("0", 0),
            ("-0", 0),
            ("00150", 15000),
            ("12.300", 1230),
            ("9999999999999999.99", 999999999999999999),
        ],
    )
    def test_accepts_x12_and_typed_amounts_exactly(self, text: str, expected: int) -> None:
        assert cents_from_text(text) == expected

    @pytest.mark.parametrize(
        "text",
        [
            "",
            "-",
            ".",
            "1.",
            "+3",
            "1.005",
            "1.234",
            "0.001",
            "1,005",
            "1,000.00",
            "NaN",
            "-Infinity",
            "1E3",
            "1e3",
            " 150",
            "150 ",
            "1 50",
            "150\n",
            "--1",
            "$150",
            "1.2.3",
            "1" * 19,
            "99999999999999999",  # 17 digits, but beyond int64 cents
            "١٢٣",
        ],
    )
    def test_rejects_anything_inexact_or_not_plain_x12(self, text: str) -> None:
        with pytest.raises(AmountError):
            cents_from_text(text)

    def test_counts_digits_not_sign_or_point_against_the_18_digit_limit(self) -> None:
        assert cents_from_text("-1234567890123456.78") == -123456789012345678

    def test_error_message_names_the_offending_text(self) -> None:
        with pytest.raises(AmountError, match=r"'1\.005'"):
            cents_from_text("1.005")

    def test_amount_error_is_a_value_error(self) -> None:
        assert issubclass(AmountError, ValueError)

    @given(st.integers(min_value=-(10**12), max_value=10**12))
    def test_round_trips_with_x12_format(self, cents: int) -> None:
        assert cents_from_text(format_x12_amount(Cents(cents))) == cents

    @given(st.integers(min_value=-(10**12), max_value=10**12))
    def test_round_trips_with_plain_format(self, cents: int) -> None:
        assert cents_from_text(format_plain(Cents(cents))) == cents


class TestFormatting:
    @pytest.mark.parametrize(
        ("cents", "expected"),
        [
            (15000, "150"),
            (15050, "150.5"),
            (15025, "150.25"),
            (-2000, "-20"),
            (0, "0"),
            (5, ".05"),
            (-50, "-.5"),
            (1, ".01"),
            (100, "1"),
        ],
    )
    def test_x12_amount_is_minimal(self, cents: int, expected: str) -> None:
        assert format_x12_amount(Cents(cents)) == expected

    @pytest.mark.parametrize(
        ("cents", "expected"),
        [
            (123450, "$1,234.50"),
            (-2000, "-$20.00"),
            (0, "$0.00"),
            (5, "$0.05"),
            (100000000, "$1,000,000.00"),
        ],
    )
    def test_usd_for_people(self, cents: int, expected: str) -> None:
        assert format_usd(Cents(cents)) == expected

    @pytest.mark.parametrize(
        ("cents", "expected"),
        [(123450, "1234.50"), (-2000, "-20.00"), (0, "0.00"), (-5, "-0.05")],
    )
    def test_plain_for_csv(self, cents: int, expected: str) -> None:
        assert format_plain(Cents(cents)) == expected


class TestAllocate:
    def test_leftover_cents_go_to_the_largest_remainders_then_the_earliest(self) -> None:
        assert allocate(Cents(100), [1, 1, 1]) == [34, 33, 33]
        assert allocate(Cents(10), [1, 2]) == [3, 7]

    def test_negative_total_mirrors_the_positive_split(self) -> None:
        assert allocate(Cents(-100), [1, 1, 1]) == [-34, -33, -33]

    def test_zero_weights_get_nothing(self) -> None:
        assert allocate(Cents(101), [0, 1, 0, 1, 0]) == [0, 51, 0, 50, 0]

    def test_zero_total_over_zero_weights_is_all_zeros(self) -> None:
        assert allocate(Cents(0), [0, 0]) == [0, 0]
        assert allocate(Cents(0), []) == []

    def test_a_non_zero_total_needs_a_positive_weight(self) -> None:
        with pytest.raises(ValueError, match="zero weights"):
            allocate(Cents(1), [0, 0])
        with pytest.raises(ValueError, match="zero weights"):
            allocate(Cents(1), [])

    def test_negative_weights_are_refused(self) -> None:
        with pytest.raises(ValueError, match="negative"):
            allocate(Cents(100), [2, -1])

    @given(
        st.integers(min_value=-(10**12), max_value=10**12),
        st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=50).filter(any),
    )
    def test_preserves_the_total_within_a_cent_of_each_share(
        self, total: int, weights: list[int]
    ) -> None:
        parts = allocate(Cents(total), weights)
        assert sum(parts) == total
        weight_sum = sum(weights)
        for part, weight in zip(parts, weights, strict=True):
            assert abs(part - Fraction(total * weight, weight_sum)) < 1
            if weight == 0:
                assert part == 0


class TestApplyRate:
    @pytest.mark.parametrize(
        ("amount", "rate", "expected"),
        [
            (10000, "0.20", 2000),
            (12345, "0.20", 2469),  # 2469.0
            (12345, "0.15", 1852),  # 1851.75 rounds up
            (5, "0.5", 3),  # a tie rounds away from zero
            (-5, "0.5", -3),
            (7, "0.5", 4),
            (10001, "1.10", 11001),  # 11001.1
            (0, "1.5", 0),
            (12345, "0", 0),
        ],
    )
    def test_rounds_half_up_to_the_cent(self, amount: int, rate: str, expected: int) -> None:
        assert apply_rate(Cents(amount), Decimal(rate)) == expected

    def test_is_exact_for_large_amounts(self) -> None:
        assert apply_rate(Cents(10**17 + 1), Decimal("0.5")) == 5 * 10**16 + 1

    def test_refuses_a_float_rate(self) -> None:
        with pytest.raises(TypeError, match="Decimal"):
            apply_rate(Cents(100), 0.2)  # type: ignore[arg-type]

    @pytest.mark.parametrize("rate", ["-0.1", "NaN", "Infinity"])
    def test_refuses_negative_or_non_finite_rates(self, rate: str) -> None:
        with pytest.raises(ValueError, match="rate"):
            apply_rate(Cents(100), Decimal(rate))
