"""BillingLedger: the one write API. Each public method is a use case; each saves once.

The TUI, the CLI, the importers and the demo generator all go through it, so a rule
enforced here holds for every way into the ledger.
"""

from __future__ import annotations

from domain.services.admin import AdminCommands
from domain.services.bulk import BulkCommands
from domain.services.charges import ChargeCommands
from domain.services.claims import ClaimCommands
from domain.services.collections import CollectionCommands
from domain.services.follow_up import FollowUpCommands
from domain.services.inquiries import InquiryCommands
from domain.services.payments import PaymentCommands
from domain.services.practice import PracticeCommands
from domain.services.registration import RegistrationCommands
from domain.services.remittances import RemittanceCommands
from domain.services.submission import SubmissionCommands


class BillingLedger(
    BulkCommands,  # first: its unit of work wraps the loads and saves of every use case
    FollowUpCommands,  # before the practice, claim and collection mixins it builds on
    PracticeCommands, RegistrationCommands, ChargeCommands, RemittanceCommands, ClaimCommands,
    CollectionCommands, PaymentCommands, AdminCommands, SubmissionCommands, InquiryCommands,
):
    """The billing service's ledger of immutable events."""
