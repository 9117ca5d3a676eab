"""Tests for the CARC rule table and the denial definition."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from domain.carc import (
    CARC_DESCRIPTIONS,
    DenialAction,
    RuleTable,
    action_for,
    is_contractual_write_off,
    is_denial_line,
)

WO = DenialAction.WRITE_OFF
XFER = DenialAction.TRANSFER
FIX = DenialAction.FIX
APPEAL = DenialAction.APPEAL
COB = DenialAction.COB
INFO = DenialAction.INFO
REVIEW = DenialAction.REVIEW


class TestActionFor:
    @pytest.mark.parametrize(
        ("group", "carc", "expected"),
        [
            ("PR", "1", XFER),
            ("PR", "2", XFER),
            ("PR", "3", XFER),
            ("PR", "45", XFER),  # non-par: the patient owes it
            ("PR", "96", XFER),
            ("PR", "204", XFER),
            ("PR", "999", XFER),  # unknown PR reason: still the patient's/next payer's
            ("CO", "45", WO),
            ("CO", "253", WO),
            ("CO", "24", WO),
            ("CO", "59", WO),
            ("CO", "97", WO),
            ("CO", "204", WO),
            ("CO", "4", FIX),
            ("CO", "16", FIX),
            ("CO", "22", COB),
            ("CO", "109", COB),
            ("CO", "29", APPEAL),
            ("CO", "50", APPEAL),
            ("CO", "96", REVIEW),
            ("CO", "A1", REVIEW),
            ("CO", "B7", FIX),
            ("CO", "999", REVIEW),  # unknown CO reason: a human decides
            ("OA", "23", INFO),
            ("OA", "18", INFO),
            ("OA", "22", COB),
            ("OA", "45", REVIEW),
            ("PI", "50", APPEAL),
            ("PI", "45", REVIEW),  # no contract behind a payer-initiated reduction
            ("PI", "999", REVIEW),
        ],
    )
    def test_follows_the_domain_table_and_group_defaults(
        self, group: str, carc: str, expected: DenialAction
    ) -> None:
        assert action_for(group, carc) is expected

    def test_ma130_on_co_16_means_fix_with_a_new_claim(self) -> None:
        assert action_for("CO", "16", ["N290", "MA130"]) is FIX

    def test_a_rarc_rule_beats_the_carc_rule(self) -> None:
        table = RuleTable.default().override({("CO", "A1", "N130"): APPEAL})
        assert table.action_for("CO", "A1", ["N130"]) is APPEAL
        assert table.action_for("CO", "A1", ["N999"]) is REVIEW
        assert table.action_for("CO", "A1") is REVIEW

    def test_input_is_normalized(self) -> None:
        assert action_for(" co ", "b7") is FIX
        assert action_for("co", "16", ["ma130 "]) is FIX

    @pytest.mark.parametrize("group", ["CR", "", "XX"])
    def test_groups_5010_does_not_allow_are_refused(self, group: str) -> None:
        with pytest.raises(ValueError, match="adjustment group"):
            action_for(group, "45")


class TestRuleTable:
    def test_override_returns_a_new_table_and_leaves_the_default_alone(self) -> None:
        default = RuleTable.default()
        strict = default.override({("CO", "45"): REVIEW})
        assert strict.action_for("CO", "45") is REVIEW
        assert default.action_for("CO", "45") is WO
        assert action_for("CO", "45") is WO

    def test_group_defaults_are_configurable(self) -> None:
        table = RuleTable(rules={}, group_actions={"CO": WO, "PR": XFER, "OA": INFO, "PI": REVIEW})
        assert table.action_for("CO", "50") is WO
        assert table.action_for("OA", "23") is INFO

    def test_the_table_cannot_be_mutated_in_place(self) -> None:
        table = RuleTable.default()
        with pytest.raises(TypeError):
            table.rules[("CO", "45")] = REVIEW  # type: ignore[index]

    def test_every_rule_is_for_a_described_carc(self) -> None:
        assert {key[1] for key in RuleTable.default().rules} <= set(CARC_DESCRIPTIONS)


class TestDescriptions:
    def test_every_carc_of_the_domain_table_is_described(self) -> None:
        domain_md = Path(__file__).parents[3] / "shared" / "DOMAIN.md"
        if not domain_md.exists():
            pytest.skip("DOMAIN.md is not next to the checkout")
        text = domain_md.read_text(encoding="utf-8")
        section = text.split("## 3.", 1)[1].split("## 4.", 1)[0]
        codes: set[str] = set()
        for line in section.splitlines():
            cell = re.match(r"\| ([0-9A-Z /]+?) \|", line)
            if cell and cell.group(1) != "CARC":
                codes.update(part.strip() for part in cell.group(1).split("/"))
        assert codes
        assert codes <= set(CARC_DESCRIPTIONS)

    def test_descriptions_are_short_text(self) -> None:
        assert CARC_DESCRIPTIONS["45"].startswith("Charge exceeds fee schedule")
        assert all(0 < len(text) <= 120 for text in CARC_DESCRIPTIONS.values())


class TestContractualWriteOff:
    def test_contractual_reasons_are_written_off(self) -> None:
        assert is_contractual_write_off("CO", "45")
        assert is_contractual_write_off("CO", "253")

    def test_patient_denial_and_info_reasons_are_not(self) -> None:
        assert not is_contractual_write_off("PR", "45")
        assert not is_contractual_write_off("CO", "50")
        assert not is_contractual_write_off("OA", "23")
        assert not is_contractual_write_off("PI", "45")


class TestIsDenialLine:
    def test_zero_paid_with_a_denial_reason_is_a_denial(self) -> None:
        assert is_denial_line(0, [("CO", "50", 15000)], reversal=False)
        assert is_denial_line(0, [("CO", "45", 5000), ("CO", "197", 10000)], reversal=False)

    def test_zero_paid_all_to_deductible_is_not_a_denial(self) -> None:
        assert not is_denial_line(0, [("CO", "45", 20), ("PR", "1", 30)], reversal=False)

    def test_any_pr_adjustment_rules_out_a_denial(self) -> None:
        assert not is_denial_line(0, [("CO", "50", 100), ("PR", "2", 20)], reversal=False)

    def test_secondary_era_information_is_not_a_denial(self) -> None:
        assert not is_denial_line(0, [("OA", "23", 15000)], reversal=False)

    def test_contractual_write_off_alone_is_not_a_denial(self) -> None:
        assert not is_denial_line(0, [("CO", "45", 15000)], reversal=False)

    def test_a_paid_line_is_not_a_denial(self) -> None:
        assert not is_denial_line(8000, [("CO", "50", 7000)], reversal=False)

    def test_a_reversal_is_not_a_denial(self) -> None:
        assert not is_denial_line(0, [("CO", "50", -15000)], reversal=True)

    def test_no_adjustments_is_not_a_denial(self) -> None:
        assert not is_denial_line(0, [], reversal=False)

    def test_uses_the_table_it_is_called_on(self) -> None:
        lenient = RuleTable.default().override({("CO", "50"): WO})
        assert not lenient.is_denial_line(0, [("CO", "50", 100)], reversal=False)
