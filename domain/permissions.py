"""Which role may run which use case (DOMAIN.md §10). Checked in the application service.

A command missing from this table is open to billers and supervisors only; a test keeps
the table complete.
"""

from __future__ import annotations

from domain.users import Role

R, B, S, A = Role.REGISTRAR, Role.BILLER, Role.SUPERVISOR, Role.ADMIN

FRONT_DESK = frozenset({R, B, S})
BILLING = frozenset({B, S})
SUPERVISION = frozenset({S})
CONFIGURATION = frozenset({S, A})
ADMINISTRATION = frozenset({A})

PERMISSIONS: dict[str, frozenset[Role]] = {
    # practice reference data
    "enroll_provider": CONFIGURATION, "register_payer": CONFIGURATION,
    "add_plan": CONFIGURATION, "sign_contract": CONFIGURATION, "set_fee": CONFIGURATION,
    "set_price": CONFIGURATION, "set_prices": CONFIGURATION,
    # front desk
    "register_patient": FRONT_DESK, "correct_demographics": FRONT_DESK,
    "set_guarantor": FRONT_DESK, "add_coverage": FRONT_DESK, "reorder_coverage": FRONT_DESK,
    "terminate_coverage": FRONT_DESK, "record_eligibility": FRONT_DESK,
    "open_encounter": FRONT_DESK,
    "send_eligibility_requests": FRONT_DESK, "import_eligibility_responses": FRONT_DESK,
    # file imports: each row then runs as its own use case, needing that use case's role
    "record_import": FRONT_DESK | CONFIGURATION, "open_encounter_as_billed": FRONT_DESK,
    # needs a supervisor (DOMAIN §10: approvals)
    "grant_discount": SUPERVISION, "approve_refund": SUPERVISION,
    "decline_refund": SUPERVISION, "refer_to_collections": SUPERVISION,
    "override_filing_limit": SUPERVISION, "close_period": SUPERVISION,
    "recall_from_agency": SUPERVISION,
    "approve_write_off": SUPERVISION, "decline_write_off": SUPERVISION,
    # working the A/R (issue 10): supervisors assign the work, billers work it
    "assign_work": SUPERVISION, "unassign_work": SUPERVISION, "log_follow_up": BILLING,
    "file_appeal": BILLING, "generate_appeal_letter": BILLING, "decide_appeal": BILLING,
    "issue_follow_up_letter": BILLING,
    # administration
    "add_user": ADMINISTRATION, "change_role": ADMINISTRATION,
    "disable_user": ADMINISTRATION, "change_setting": ADMINISTRATION,
}

DEFAULT = BILLING
PHI_READERS = frozenset({R, B, S, Role.AUDITOR})


def roles_for(command: str) -> frozenset[Role]:
    return PERMISSIONS.get(command, DEFAULT)
