"""Identifier checks and the closed X12 code vocabularies of professional claims."""

from __future__ import annotations

import functools
import re
import warnings
from enum import StrEnum
from types import ModuleType

# ---------------------------------------------------------------- provider identifiers

_NPI = re.compile(r"[12][0-9]{9}", re.ASCII)
# The NPI check digit is the Luhn digit of the number as if prefixed by the card issuer
# prefix 80840 (CMS "Requirements for NPI Check Digit").
_NPI_PREFIX = "80840"


def _luhn_is_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            doubled = value * 2
            value = doubled // 10 + doubled % 10
        total += value
    return total % 10 == 0


def is_valid_npi(npi: str) -> bool:
    """True for a 10-digit NPI starting with 1 or 2 whose check digit (Luhn, 80840) is right."""
    return _NPI.fullmatch(npi) is not None and _luhn_is_valid(_NPI_PREFIX + npi)


# EIN form "12-3456789" or SSN form "123-45-6789"; billing providers may send either (REF*EI/SY).
_TIN = re.compile(r"[0-9]{9}|[0-9]{2}-[0-9]{7}|[0-9]{3}-[0-9]{2}-[0-9]{4}", re.ASCII)


def normalize_tin(tin: str) -> str:
    """Return the 9 digits of a TIN ("12-3456789" → "123456789"); raise ValueError if invalid.

    Only the shape is checked, plus one plausibility rule: a TIN of one repeated digit
    ("000000000", "999999999") is a placeholder, not a real number.
    """
    candidate = tin.strip()
    if _TIN.fullmatch(candidate) is None:
        raise ValueError(f"not a TIN (9 digits, optionally 12-3456789): {tin!r}")
    digits = candidate.replace("-", "")
    if len(set(digits)) == 1:
        raise ValueError(f"not a TIN (placeholder of one repeated digit): {tin!r}")
    return digits


def is_valid_tin(tin: str) -> bool:
    """True when `normalize_tin` accepts `tin`."""
    try:
        normalize_tin(tin)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------- procedures

# CPT Category I (5 digits), II (4 digits + F), III (+ T), PLA (+ U); HCPCS II (letter + 4).
PROCEDURE_CODE = re.compile(r"^([0-9]{4}[0-9FTU]|[A-Z][0-9]{4})$", re.ASCII)
_MODIFIER = re.compile(r"[A-Z0-9]{2}", re.ASCII)


def is_valid_procedure_code(code: str) -> bool:
    """True for the shape of a CPT/HCPCS code; whether it exists on the DOS needs a code table."""
    # fullmatch: `$` would also accept a trailing newline.
    return PROCEDURE_CODE.fullmatch(code) is not None


def is_valid_modifier(modifier: str) -> bool:
    """True for exactly two uppercase letters or digits (X12 DE 1339, AN 2/2)."""
    return _MODIFIER.fullmatch(modifier) is not None


# ---------------------------------------------------------------- ICD-10-CM diagnoses


@functools.cache
def _icd10_module() -> ModuleType:
    # Imported on first use: parsing the CDC tabular takes ~1.7 s, which screens and
    # importers that never look at a diagnosis should not pay.
    with warnings.catch_warnings():
        # 1.5.0 loads its data with the deprecated importlib.resources.read_text.
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm  # noqa: PLC0415 - deferred on purpose, see above

    # The package ships no type information, so its name alone is typed Any.
    module: ModuleType = simple_icd_10_cm
    return module


def normalize_icd10(code: str) -> str:
    """Return a diagnosis the way 837 HI sends it: uppercase, no dot ("r07.89" → "R0789")."""
    return code.strip().upper().replace(".", "")


def format_icd10(code: str) -> str:
    """Return a diagnosis the way people read it, dot after the category ("R0789" → "R07.89")."""
    normalized = normalize_icd10(code)
    category_length = 3
    if len(normalized) <= category_length:
        return normalized
    return f"{normalized[:category_length]}.{normalized[category_length:]}"


@functools.cache
def is_billable_icd10(code: str) -> bool:
    """True for an ICD-10-CM code that is a leaf of the tabular, the only kind a claim may carry.

    Accepts dotted or undotted, any case. Categories with subdivisions ("R07") and codes that
    still need a 7th character ("S72.001") are not billable. The table is the one bundled
    with simple_icd_10_cm (it does not know which fiscal year a date of service falls in).
    """
    icd = _icd10_module()
    normalized = normalize_icd10(code)
    return bool(icd.is_valid_item(normalized) and icd.is_leaf(normalized))


@functools.cache
def icd10_description(code: str) -> str | None:
    """The tabular description of any valid ICD-10-CM code or category, else None."""
    icd = _icd10_module()
    normalized = normalize_icd10(code)
    if not normalized or not icd.is_valid_item(normalized):
        return None
    description: str = icd.get_description(normalized)
    return description


# ---------------------------------------------------------------- place of service

# CMS Place of Service code set (professional claims, CLM05-1 / SV105). Codes 27 (2023-10-01)
# and 10 (2022-01-01) have effective dates that this table does not check.
POS_CODES: dict[str, str] = {
    "01": "Pharmacy",
    "02": "Telehealth provided other than in patient's home",
    "03": "School",
    "04": "Homeless shelter",
    "05": "Indian Health Service free-standing facility",
    "06": "Indian Health Service provider-based facility",
    "07": "Tribal 638 free-standing facility",
    "08": "Tribal 638 provider-based facility",
    "09": "Prison/correctional facility",
    "10": "Telehealth provided in patient's home",
    "11": "Office",
    "12": "Home",
    "13": "Assisted living facility",
    "14": "Group home",
    "15": "Mobile unit",
    "16": "Temporary lodging",
    "17": "Walk-in retail health clinic",
    "18": "Place of employment/worksite",
    "19": "Off campus-outpatient hospital",
    "20": "Urgent care facility",
    "21": "Inpatient hospital",
    "22": "On campus-outpatient hospital",
    "23": "Emergency room - hospital",
    "24": "Ambulatory surgical center",
    "25": "Birthing center",
    "26": "Military treatment facility",
    "27": "Outreach site/street",
    "31": "Skilled nursing facility",
    "32": "Nursing facility",
    "33": "Custodial care facility",
    "34": "Hospice",
    "41": "Ambulance - land",
    "42": "Ambulance - air or water",
    "49": "Independent clinic",
    "50": "Federally qualified health center",
    "51": "Inpatient psychiatric facility",
    "52": "Psychiatric facility - partial hospitalization",
    "53": "Community mental health center",
    "54": "Intermediate care facility/individuals with intellectual disabilities",
    "55": "Residential substance abuse treatment facility",
    "56": "Psychiatric residential treatment center",
    "57": "Non-residential substance abuse treatment facility",
    "58": "Non-residential opioid treatment facility",
    "60": "Mass immunization center",
    "61": "Comprehensive inpatient rehabilitation facility",
    "62": "Comprehensive outpatient rehabilitation facility",
    "65": "End-stage renal disease treatment facility",
    "71": "Public health clinic",
    "72": "Rural health clinic",
    "81": "Independent laboratory",
    "99": "Other place of service",
}


def is_valid_pos(code: str) -> bool:
    """True for a two-digit place-of-service code in `POS_CODES`."""
    return code in POS_CODES


# ---------------------------------------------------------------- X12 vocabularies


class AdjustmentGroup(StrEnum):
    """CAS01 claim adjustment group; 5010 allows only these four (CR was removed)."""

    CONTRACTUAL = "CO"
    PATIENT_RESPONSIBILITY = "PR"
    OTHER = "OA"
    PAYER_INITIATED = "PI"


class CoverageOrder(StrEnum):
    """SBR01 payer responsibility sequence."""

    PRIMARY = "P"
    SECONDARY = "S"
    TERTIARY = "T"
    FOURTH = "A"
    FIFTH = "B"
    SIXTH = "C"
    SEVENTH = "D"
    EIGHTH = "E"
    NINTH = "F"
    TENTH = "G"
    ELEVENTH = "H"
    UNKNOWN = "U"


class Sex(StrEnum):
    """DMG03 gender code."""

    FEMALE = "F"
    MALE = "M"
    UNKNOWN = "U"


class Relationship(StrEnum):
    """Patient-to-subscriber relationship: SBR02 "18" for self, otherwise PAT01."""

    SELF = "18"
    SPOUSE = "01"
    CHILD = "19"
    EMPLOYEE = "20"
    UNKNOWN = "21"
    ORGAN_DONOR = "39"
    CADAVER_DONOR = "40"
    LIFE_PARTNER = "53"
    OTHER = "G8"


class ClaimFrequency(StrEnum):
    """CLM05-3 claim frequency; 7 and 8 need REF*F8 with the payer claim control number."""

    ORIGINAL = "1"
    REPLACEMENT = "7"
    VOID = "8"


class ClaimFilingIndicator(StrEnum):
    """SBR09 claim filing indicator, the full 5010 837P list (4010's "09" self-pay is gone)."""

    OTHER_NON_FEDERAL = "11"
    PPO = "12"
    POINT_OF_SERVICE = "13"
    EPO = "14"
    INDEMNITY = "15"
    HMO_MEDICARE_RISK = "16"
    DENTAL_MAINTENANCE = "17"
    AUTOMOBILE_MEDICAL = "AM"
    BCBS = "BL"
    TRICARE = "CH"
    COMMERCIAL = "CI"
    DISABILITY = "DS"
    FEDERAL_EMPLOYEES = "FI"
    HMO = "HM"
    LIABILITY_MEDICAL = "LM"
    MEDICARE_A = "MA"
    MEDICARE_B = "MB"
    MEDICAID = "MC"
    OTHER_FEDERAL = "OF"
    TITLE_V = "TV"
    VETERANS_AFFAIRS = "VA"
    WORKERS_COMPENSATION = "WC"
    MUTUALLY_DEFINED = "ZZ"
