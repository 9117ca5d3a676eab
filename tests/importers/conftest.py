"""Fixtures of the 835 tests: DOMAIN §4's worked example, its visit and submitted claim."""

from __future__ import annotations

import pytest

from domain.application import BillingLedger
from tests.builders import Practice, Visit, open_visit, register_patient, submitted_claim

CLAIM_ID = "PCN20250115001"   # CLP01 of ../shared/domain-examples/835_min.x12


@pytest.fixture
def visit(ledger: BillingLedger, practice: Practice) -> Visit:
    return open_visit(ledger, register_patient(ledger))


@pytest.fixture
def claim_id(ledger: BillingLedger, visit: Visit) -> str:
    return submitted_claim(ledger, visit.encounter_id, claim_id=CLAIM_ID)
