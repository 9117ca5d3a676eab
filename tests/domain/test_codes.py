"""Tests for identifier checks, ICD-10-CM lookups and the X12 vocabularies."""

from __future__ import annotations

import pytest

from domain.codes import (
    POS_CODES,
    PROCEDURE_CODE,
    AdjustmentGroup,
    ClaimFilingIndicator,
    ClaimFrequency,
    CoverageOrder,
    Relationship,
    Sex,
    format_icd10,
    icd10_description,
    is_billable_icd10,
    is_valid_modifier,
    is_valid_npi,
    is_valid_pos,
    is_valid_procedure_code,
    is_valid_tin,
    normalize_icd10,
    normalize_tin,
)


class TestNpi:
    @pytest.mark.parametrize("npi", ["1234567893", "1558598797"])
    def test_accepts_the_cms_vectors(self, npi: str) -> None:
        assert is_valid_npi(npi)

    @pytest.mark.parametrize(
        "npi",
        [
            "1234567890",  # wrong check digit
            "3234567893",  # first digit must be 1 or 2
            "123456789",
            "12345678930",
            "12345 7893",
            "123456789X",
            "",
            "१२३४५६७८९३",  # Devanagari digits
        ],
    )
    def test_rejects_wrong_check_digit_or_shape(self, npi: str) -> None:
        assert not is_valid_npi(npi)

    def test_every_single_digit_change_is_caught(self) -> None:
        valid = "1558598797"
        for position in range(10):
            for digit in "0123456789":
                if digit != valid[position]:
                    changed = valid[:position] + digit + valid[position + 1 :]
                    assert not is_valid_npi(changed), changed


class TestTin:
    @pytest.mark.parametrize(
        ("tin", "expected"),
        [("123456789", "123456789"), ("12-3456789", "123456789"), ("123-45-6789", "123456789")],
    )
    def test_normalizes_ein_and_ssn_forms(self, tin: str, expected: str) -> None:
        assert normalize_tin(tin) == expected
        assert is_valid_tin(tin)

    @pytest.mark.parametrize(
        "tin",
        [
            "",
            "12345678",
            "1234567890",
            "1-23456789",
            "12-345-6789",
            "12 3456789",
            "000000000",
            "99-9999999",
            "12345678A",
        ],
    )
    def test_rejects_other_shapes_and_placeholders(self, tin: str) -> None:
        assert not is_valid_tin(tin)
        with pytest.raises(ValueError, match="not a TIN"):
            normalize_tin(tin)


class TestProcedureAndModifier:
    @pytest.mark.parametrize("code", ["99214", "93000", "3074F", "0042T", "0001U", "J1100"])
    def test_accepts_cpt_and_hcpcs_shapes(self, code: str) -> None:
        assert is_valid_procedure_code(code)
        assert PROCEDURE_CODE.match(code)

    @pytest.mark.parametrize("code", ["9921", "992145", "3074X", "j1100", "JJ100", "99214\n", ""])
    def test_rejects_other_shapes(self, code: str) -> None:
        assert not is_valid_procedure_code(code)

    @pytest.mark.parametrize("modifier", ["25", "59", "GT", "XS", "F1"])
    def test_accepts_two_uppercase_alphanumerics(self, modifier: str) -> None:
        assert is_valid_modifier(modifier)

    @pytest.mark.parametrize("modifier", ["", "2", "255", "gt", "G-", " 25"])
    def test_rejects_other_modifiers(self, modifier: str) -> None:
        assert not is_valid_modifier(modifier)


class TestIcd10:
    def test_normalizes_to_the_837_form(self) -> None:
        assert normalize_icd10(" r07.89 ") == "R0789"
        assert normalize_icd10("R0789") == "R0789"

    @pytest.mark.parametrize(
        ("code", "expected"),
        [("R0789", "R07.89"), ("r07.89", "R07.89"), ("S72001A", "S72.001A"), ("I10", "I10")],
    )
    def test_formats_with_the_dot_after_the_category(self, code: str, expected: str) -> None:
        assert format_icd10(code) == expected

    @pytest.mark.parametrize(
        "code", ["R07.89", "R0789", "r07.89", "I10", "S72.001A", "T36.0X1A", "Z00.00"]
    )
    def test_leaf_codes_are_billable(self, code: str) -> None:
        assert is_billable_icd10(code)

    @pytest.mark.parametrize(
        "code",
        [
            "R07",  # category with subdivisions
            "R07.8",  # subcategory with children
            "S72.001",  # needs a 7th character
            "A00-A09",  # block
            "R07.99",  # does not exist
            "XYZ",
            "",
        ],
    )
    def test_headers_and_unknown_codes_are_not_billable(self, code: str) -> None:
        assert not is_billable_icd10(code)

    def test_describes_valid_codes_only(self) -> None:
        assert icd10_description("r07.89") == "Other chest pain"
        assert icd10_description("R07") == "Pain in throat and chest"
        assert icd10_description("R07.99") is None
        assert icd10_description("") is None


class TestPlaceOfService:
    @pytest.mark.parametrize("code", ["02", "10", "11", "12", "19", "21", "22", "23", "99"])
    def test_common_codes_are_valid(self, code: str) -> None:
        assert is_valid_pos(code)

    @pytest.mark.parametrize("code", ["", "1", "011", "00", "30", "11 ", "AA"])
    def test_other_codes_are_not(self, code: str) -> None:
        assert not is_valid_pos(code)

    def test_table_keys_are_two_digits(self) -> None:
        assert all(len(code) == 2 and code.isdigit() for code in POS_CODES)


class TestVocabularies:
    def test_values_are_the_x12_codes(self) -> None:
        assert AdjustmentGroup("CO") is AdjustmentGroup.CONTRACTUAL
        assert {group.value for group in AdjustmentGroup} == {"CO", "PR", "OA", "PI"}
        assert CoverageOrder.SECONDARY == "S"
        assert Sex("U") is Sex.UNKNOWN
        assert Relationship.SELF == "18"
        assert Relationship.OTHER == "G8"
        assert ClaimFrequency.REPLACEMENT == "7"
        assert ClaimFilingIndicator.MEDICARE_B == "MB"
        assert ClaimFilingIndicator.PPO == "12"

    def test_members_format_as_their_code(self) -> None:
        assert f"{AdjustmentGroup.PATIENT_RESPONSIBILITY}" == "PR"
        assert str(ClaimFrequency.VOID) == "8"
