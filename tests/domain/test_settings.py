"""Office thresholds: changed by events, refused when they could not be meant."""

from __future__ import annotations

import pytest

from domain.application import BillingLedger
from domain.errors import ValidationError
from domain.users import SETTING_DEFAULTS
from tests.builders import refused


def test_a_changed_threshold_is_what_the_ledger_uses_from_then_on(ledger: BillingLedger) -> None:
    ledger.change_setting("small_balance_threshold_cents", 250)
    assert ledger.setting("small_balance_threshold_cents") == 250


@pytest.mark.parametrize(("name", "value", "message"), [
    ("no_such_setting", 1, "unknown setting no_such_setting"),
    ("small_balance_threshold_cents", -1, "cannot be negative"),
    ("small_balance_threshold_cents", 2**63, "too large"),
    ("small_balance_threshold_cents", 99_999_999_999_999_999_999_999, "too large"),
])
def test_a_threshold_that_could_not_be_meant_is_refused_and_records_nothing(
        ledger: BillingLedger, name: str, value: int, message: str) -> None:
    with refused(ledger, ValidationError, message):
        ledger.change_setting(name, value)
    assert ledger.setting("small_balance_threshold_cents") == SETTING_DEFAULTS[
        "small_balance_threshold_cents"]
