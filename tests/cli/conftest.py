"""Fixtures shared by the command-line tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.application import BillingLedger
from tests.builders import Practice
from tests.domain.test_follow_up import denied_claim, owing_family


@pytest.fixture
def office(ledger: BillingLedger, practice: Practice, ledger_path: Path) -> dict[str, str]:
    """A demo-style office (one user per role, open): a denied claim and a family owing
    after three statements."""
    ledger.seed_role_users()
    denied = denied_claim(ledger)
    roe = owing_family(ledger, statements=3)
    return {"claim": denied.claim_id, "roe": roe, "db": str(ledger_path)}
