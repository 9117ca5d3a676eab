"""The configurable rule table that turns an 835 adjustment (group, CARC, RARCs) into an action.

DOMAIN.md §2 gives the group defaults and §3 the per-CARC actions. Where §3 offers a choice
("APPEAL or WO", "FIX or WO"), the default table names the non-write-off choice, so the money
lands in a work queue where a biller decides instead of disappearing in an automatic
write-off. The exceptions are the bundling/contractual reasons §3 lists as "WO, or FIX ..."
(97, 234), where the write-off is the usual outcome. Practices override single rules with
`RuleTable.override`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import TypeAlias

from domain.codes import AdjustmentGroup


class DenialAction(StrEnum):
    """What the biller (or the poster, for WO/XFER/INFO) does with an adjustment."""

    WRITE_OFF = "WO"
    TRANSFER = "XFER"
    FIX = "FIX"
    APPEAL = "APPEAL"
    COB = "COB"
    INFO = "INFO"
    REVIEW = "REVIEW"


# Shortened from the X12 CARC list as quoted in DOMAIN.md §3.
CARC_DESCRIPTIONS: dict[str, str] = {
    "1": "Deductible amount",
    "2": "Coinsurance amount",
    "3": "Co-payment amount",
    "4": "Procedure code inconsistent with the modifier, or a required modifier is missing",
    "5": "Procedure code/bill type inconsistent with the place of service",
    "11": "Diagnosis inconsistent with the procedure",
    "16": "Claim/service lacks information or has submission/billing error(s)",
    "18": "Exact duplicate claim/service",
    "22": "Care may be covered by another payer per coordination of benefits",
    "23": "Impact of prior payer(s) adjudication including payments and/or adjustments",
    "24": "Charges are covered under a capitation agreement/managed care plan",
    "26": "Expenses incurred prior to coverage",
    "27": "Expenses incurred after coverage terminated",
    "29": "The time limit for filing has expired",
    "31": "Patient cannot be identified as our insured",
    "45": "Charge exceeds fee schedule/maximum allowable or contracted/legislated fee arrangement",
    "50": "Non-covered: not deemed a medical necessity by the payer",
    "59": "Processed based on multiple or concurrent procedure rules",
    "96": "Non-covered charge(s)",
    "97": "Benefit included in the payment/allowance for another service/procedure",
    "109": "Claim/service not covered by this payer/contractor; send to the correct payer",
    "119": "Benefit maximum for this time period or occurrence has been reached",
    "140": "Patient/insured health identification number and name do not match",
    "146": "Diagnosis was invalid for the date(s) of service reported",
    "151": "Information submitted does not support this many/frequency of services",
    "167": "This (these) diagnosis(es) is (are) not covered",
    "170": "Payment is denied when performed/billed by this type of provider",
    "181": "Procedure code was invalid on the date of service",
    "182": "Procedure modifier was invalid on the date of service",
    "185": "The rendering provider is not eligible to perform the service billed",
    "197": "Precertification/authorization/notification/pre-treatment absent",
    "198": "Precertification/notification/authorization/pre-treatment exceeded",
    "204": "Service/equipment/drug not covered under the patient's current benefit plan",
    "226": "Information requested from the billing/rendering provider was not provided",
    "227": "Information requested from the patient/insured/responsible party was not provided",
    "234": "This procedure is not paid separately",
    "236": "Procedure or procedure/modifier combination not compatible with another same-day "
    "procedure (NCCI)",
    "242": "Services not provided by network/primary care providers",
    "252": "An attachment/other documentation is required to adjudicate this claim/service",
    "253": "Sequestration - reduction in federal payment",
    "A1": "Claim/service denied",
    "B7": "Provider was not certified/eligible to be paid for this procedure/service on this DOS",
}

# (group, CARC) or (group, CARC, RARC); a RARC rule beats the plain (group, CARC) rule.
RuleKey: TypeAlias = tuple[str, str] | tuple[str, str, str]

_WO = DenialAction.WRITE_OFF
_XFER = DenialAction.TRANSFER
_FIX = DenialAction.FIX
_APPEAL = DenialAction.APPEAL
_COB = DenialAction.COB
_INFO = DenialAction.INFO
_REVIEW = DenialAction.REVIEW

_CONTRACTUAL_RULES: dict[str, DenialAction] = {
    "4": _FIX,
    "5": _FIX,
    "11": _FIX,
    "16": _FIX,
    "18": _INFO,  # CO only where state workers' comp requires it; still a duplicate
    "22": _COB,
    "24": _WO,
    "26": _COB,
    "27": _COB,
    "29": _APPEAL,  # only with proof of timely filing; otherwise a biller writes it off
    "31": _FIX,
    "45": _WO,
    "50": _APPEAL,
    "59": _WO,
    "96": _REVIEW,
    "97": _WO,
    "109": _COB,
    "119": _REVIEW,
    "140": _FIX,
    "146": _FIX,
    "151": _APPEAL,
    "167": _REVIEW,
    "170": _FIX,
    "181": _FIX,
    "182": _FIX,
    "185": _FIX,
    "197": _APPEAL,
    "198": _APPEAL,
    "204": _WO,
    "226": _FIX,
    "227": _FIX,
    "234": _WO,
    "236": _FIX,
    "242": _REVIEW,
    "252": _FIX,
    "253": _WO,
    "A1": _REVIEW,  # "per RARC": add (group, "A1", rarc) rules as payers' RARCs become known
    "B7": _FIX,
}


def _default_rules() -> dict[RuleKey, DenialAction]:
    co, pr = AdjustmentGroup.CONTRACTUAL.value, AdjustmentGroup.PATIENT_RESPONSIBILITY.value
    oa, pi = AdjustmentGroup.OTHER.value, AdjustmentGroup.PAYER_INITIATED.value
    rules: dict[RuleKey, DenialAction] = {
        (co, carc): act for carc, act in _CONTRACTUAL_RULES.items()
    }
    # PI has no contract behind it, so a reason CO would write off goes to REVIEW (the PI
    # group default) instead; every other CO rule applies to PI unchanged.
    rules.update({(pi, carc): act for carc, act in _CONTRACTUAL_RULES.items() if act is not _WO})
    rules.update(
        {
            # MA130: unprocessable, no appeal rights; the fix is a new original claim.
            (co, "16", "MA130"): _FIX,
            (oa, "18"): _INFO,  # duplicate: follow the original, do not write off
            (oa, "22"): _COB,
            (oa, "23"): _INFO,  # prior payer's adjudication, shown on secondary ERAs
            # §3 keeps diagnosis-not-covered with a human even when the payer says PR.
            (pr, "167"): _REVIEW,
        }
    )
    return rules


def _default_group_actions() -> dict[str, DenialAction]:
    return {
        AdjustmentGroup.PATIENT_RESPONSIBILITY.value: _XFER,
        AdjustmentGroup.CONTRACTUAL.value: _REVIEW,
        AdjustmentGroup.PAYER_INITIATED.value: _REVIEW,
        AdjustmentGroup.OTHER.value: _REVIEW,
    }


_GROUP_CODES = frozenset(group.value for group in AdjustmentGroup)


def _normalize_group(group: str) -> str:
    normalized = group.strip().upper()
    if normalized not in _GROUP_CODES:
        raise ValueError(f"not a 5010 adjustment group (CO, PR, OA, PI): {group!r}")
    return normalized


@dataclass(frozen=True)
class RuleTable:
    """Rules keyed by (group, CARC) or (group, CARC, RARC), with a fallback action per group."""

    rules: Mapping[RuleKey, DenialAction]
    group_actions: Mapping[str, DenialAction] = field(default_factory=_default_group_actions)

    def __post_init__(self) -> None:
        # Read-only views: a table shared by the poster must not change under it.
        object.__setattr__(self, "rules", MappingProxyType(dict(self.rules)))
        object.__setattr__(self, "group_actions", MappingProxyType(dict(self.group_actions)))

    @classmethod
    def default(cls) -> RuleTable:
        """The table of DOMAIN.md §2-§3."""
        return cls(rules=_default_rules())

    def override(self, rules: Mapping[RuleKey, DenialAction]) -> RuleTable:
        """A new table with `rules` replacing or adding to this one's."""
        return RuleTable(rules={**self.rules, **rules}, group_actions=self.group_actions)

    def action_for(self, group: str, carc: str, rarcs: Sequence[str] = ()) -> DenialAction:
        """The action for one adjustment: first matching RARC rule, then CARC rule, then group.

        Raises ValueError for a group 5010 does not allow (e.g. 4010's "CR").
        """
        group_code = _normalize_group(group)
        carc_code = carc.strip().upper()
        for rarc in rarcs:
            action = self.rules.get((group_code, carc_code, rarc.strip().upper()))
            if action is not None:
                return action
        action = self.rules.get((group_code, carc_code))
        if action is not None:
            return action
        return self.group_actions[group_code]

    def is_contractual_write_off(self, group: str, carc: str) -> bool:
        """True when the adjustment is written off automatically (to contractual allowance)."""
        return self.action_for(group, carc) is DenialAction.WRITE_OFF

    def is_denial_line(
        self,
        paid_cents: int,
        adjustments: Sequence[tuple[str, str, int]],
        reversal: bool,
    ) -> bool:
        """True for a denied service line per DOMAIN.md §3 "Denial definition".

        `adjustments` are the line's CAS triplets as (group, CARC, amount cents). A denial has
        SVC03 = 0, no PR adjustment, is not part of a CLP02=22 reversal, and has at least one
        adjustment whose action is neither a write-off nor INFO.
        """
        if reversal or paid_cents != 0:
            return False
        if any(
            _normalize_group(group) == AdjustmentGroup.PATIENT_RESPONSIBILITY
            for group, _, _ in adjustments
        ):
            return False
        passive = {DenialAction.WRITE_OFF, DenialAction.INFO}
        return any(self.action_for(group, carc) not in passive for group, carc, _ in adjustments)


_DEFAULT_TABLE = RuleTable.default()


def action_for(group: str, carc: str, rarcs: Sequence[str] = ()) -> DenialAction:
    """`RuleTable.action_for` on the default table."""
    return _DEFAULT_TABLE.action_for(group, carc, rarcs)


def is_contractual_write_off(group: str, carc: str) -> bool:
    """`RuleTable.is_contractual_write_off` on the default table."""
    return _DEFAULT_TABLE.is_contractual_write_off(group, carc)


def is_denial_line(
    paid_cents: int,
    adjustments: Sequence[tuple[str, str, int]],
    reversal: bool,
) -> bool:
    """`RuleTable.is_denial_line` on the default table."""
    return _DEFAULT_TABLE.is_denial_line(paid_cents, adjustments, reversal)
