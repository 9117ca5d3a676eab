"""Use cases of working the A/R: assignment, follow-up calls and letters, appeals.

A supervisor assigns items (claims, guarantor accounts) to billers, by hand or by a rule the
read side evaluated (the rule's text is kept with the assignment). A biller logs each call
or letter with its outcome and the next action date; files an appeal of a denied claim,
whose deadline comes from the payer's contract (``appeal_days`` from the denial's paid
date); generates the appeal letter (its text and hash are kept with the claim's work item);
records the payer's decision; and issues dunning and pre-collection letters per guarantor.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from domain.claim import Claim
from domain.encounter import Encounter
from domain.errors import RuleViolation, ValidationError
from domain.follow_up import (
    APPEAL_ANSWER_DAYS,
    DEFAULT_TICKLER_DAYS,
    Outcome,
    WorkItem,
    Worklist,
    item_ref,
    parse_item,
)
from domain.letters import (
    AppealFacts,
    GuarantorFacts,
    Practice,
    appeal_letter,
    content_hash,
    dunning_letter,
    pre_collection_notice,
    render_pdf,
)
from domain.money import Cents, format_plain
from domain.patient_account import PatientAccount
from domain.practice import Payer, Provider
from domain.services.claims import ClaimCommands
from domain.services.collections import STATEMENT_DUE_DAYS, CollectionCommands
from domain.services.core import command
from domain.services.practice import PracticeCommands, require
from domain.users import Role

# Without a contract on file the payer's window is unknown; this is the common default.
DEFAULT_APPEAL_DAYS = 180
# RARC MA130: the claim was unprocessable and has no appeal rights (DOMAIN.md §3, CARC 16).
NO_APPEAL_RARCS = frozenset({"MA130"})
PRE_COLLECTION_AFTER_LEVEL = 3
RESPOND_DAYS = 30
WORKERS = (Role.BILLER, Role.SUPERVISOR)


class FollowUpCommands(PracticeCommands, ClaimCommands, CollectionCommands):
    # -- reading the write side -------------------------------------------------------------------
    def work_item(self, ref: str) -> WorkItem | None:
        kind, key = parse_item(ref)
        return self._get(WorkItem, kind, key) if self._exists(WorkItem, kind, key) else None

    def work_owners(self) -> dict[str, str]:
        """Item -> the user who works it."""
        return dict(self._get(Worklist).owners) if self._exists(Worklist) else {}

    def _subject(self, ref: str) -> tuple[str, str, str, str]:
        """(kind, key, account_no, claim_id) of an item that exists; accounts go to their
        guarantor, who owes the patient balance of the family."""
        kind, key = parse_item(ref)
        if kind == "claim":
            claim = self._get(Claim, key)
            return kind, key, claim.account_no, key
        account = self._get(PatientAccount, key)
        guarantor = account.guarantor_account_no
        return kind, guarantor, guarantor, ""

    def _item(self, ref: str) -> WorkItem:
        kind, key, account_no, claim_id = self._subject(ref)
        if self._exists(WorkItem, kind, key):
            return self._get(WorkItem, kind, key)
        return WorkItem(kind=kind, key=key, account_no=account_no, claim_id=claim_id)

    def _check_worker(self, user: str) -> None:
        directory = self.directory()
        if directory is None:
            require(bool(user.strip()), "name the biller to assign the work to")
            return
        found = directory.users.get(user)
        if found is None:
            raise ValidationError(f"no user {user} in this ledger")
        if found["disabled"]:
            raise RuleViolation(f"user {user} is disabled")
        if found["role"] not in WORKERS:
            raise RuleViolation(
                f"{user} has the {found['role']} role; work goes to billers and supervisors")

    def _author(self) -> str:
        directory = self.directory()
        user = directory.users.get(self.acting_user) if directory is not None else None
        return str(user["full_name"]) if user else self.acting_user

    # -- assignment (supervisors) ----------------------------------------------------------------
    @command
    def assign_work(self, items: Sequence[str], user: str, *, rule: str = "") -> list[str]:
        """Give items to a biller (by hand, or `rule` names the rule that chose them)."""
        self._check_worker(user)
        refs = []
        for ref in items:
            kind, key, _, _ = self._subject(ref)
            refs.append(item_ref(kind, key))
        refs = list(dict.fromkeys(refs))
        worklist = self._get(Worklist) if self._exists(Worklist) else Worklist()
        worklist.assign(refs, user, rule.strip(), self.today())
        self._save(worklist)
        return refs

    @command
    def unassign_work(self, items: Sequence[str], reason: str = "") -> list[str]:
        refs = list(dict.fromkeys(item_ref(*self._subject(ref)[:2]) for ref in items))
        if not self._exists(Worklist):
            raise RuleViolation("no work has been assigned yet")
        worklist = self._get(Worklist)
        worklist.unassign(refs, reason.strip(), self.today())
        self._save(worklist)
        return refs

    # -- calls and letters ------------------------------------------------------------------------
    @command
    def log_follow_up(
        self, item: str, channel: str, outcome: str, *, note: str = "",
        next_action_on: date | None = None, promise_on: date | None = None,
        promise_cents: Cents | None = None, reason: str = "", contact: str = "",
    ) -> str:
        """Record a call or letter and its outcome; the item comes back on `next_action_on`
        (by default: the day after a promised date, or a few days per outcome)."""
        work = self._item(item)
        today = self.today()
        if outcome == Outcome.PROMISE_TO_PAY and promise_cents is not None and (
                work.kind == "account"):
            owed = Cents(sum(c for _, _, c in self.patient_lines(work.key))
                         - self.credit_cents(work.key))
            if promise_cents > owed:
                raise RuleViolation(
                    f"the promise ({format_plain(promise_cents)}) is more than account {work.key} "
                    f"owes ({format_plain(owed)})")
        if next_action_on is None:
            if outcome == Outcome.PROMISE_TO_PAY and promise_on is not None:
                next_action_on = promise_on + timedelta(days=1)
            else:
                days = DEFAULT_TICKLER_DAYS.get(outcome)
                next_action_on = None if days is None else today + timedelta(days=days)
        work.log_activity(channel, outcome, note, today, next_action_on, promise_on,
                          promise_cents, reason, contact)
        self._save(work)
        return str(work.activities[-1]["activity_id"])

    # -- appeals ----------------------------------------------------------------------------------
    def _appeal_days(self, claim: Claim) -> tuple[int, str]:
        contract = self.contract_for(claim.payer_id, claim.plan_id, claim.service_date)
        if contract is None:
            return DEFAULT_APPEAL_DAYS, f"no contract on file: {DEFAULT_APPEAL_DAYS} days"
        return int(contract.appeal_days), (
            f"contract {contract.contract_id}: {contract.appeal_days} days")

    @command
    def file_appeal(self, claim_id: str, level: str, argument: str) -> str:
        """Appeal a denied claim. A first appeal takes the claim's open denials (and works
        them as 'appealed'); a later level appeals what the last decision upheld."""
        claim = self._get(Claim, claim_id)
        work = self._item(item_ref("claim", claim_id))
        today = self.today()
        days, basis = self._appeal_days(claim)
        last = work.last_appeal
        denials: list[dict[str, Any]]
        if claim.open_denials:
            denials = [{k: d[k] for k in ("line_id", "group", "carc", "rarcs", "amount_cents")}
                       for line_denials in claim.open_denials.values() for d in line_denials]
            live = [a for a in claim.adjudications if not a["reversed"]]
            denied_on: date = live[-1]["paid_on"] if live else today
        elif last is not None and last["outcome"] in ("upheld", "partially-overturned"):
            denials, denied_on = list(last["denials"]), last["decided_on"]
            basis += f" from the {last['level']} decision"
        elif last is not None and last["outcome"] is None:
            denials, denied_on = list(last["denials"]), last["denied_on"]
        else:
            raise RuleViolation(f"claim {claim_id} has no open denial to appeal")
        blocked = sorted({r for d in denials for r in d.get("rarcs") or []} & NO_APPEAL_RARCS)
        if blocked:
            raise RuleViolation(
                f"claim {claim_id} was unprocessable (RARC {', '.join(blocked)}): it has no "
                "appeal rights; correct it and submit a new claim")
        deadline = denied_on + timedelta(days=days)
        appeal_id = work.file_appeal(level, argument, today, denied_on, deadline, basis,
                                     denials)
        for line_id in list(claim.open_denials):
            claim.work_denial(line_id, "appealed", f"appeal {appeal_id} ({level})", today)
        self._save(work, claim)
        return appeal_id

    def _appeal_facts(self, claim: Claim, appeal: dict[str, Any], today: date) -> AppealFacts:
        encounter = self._get(Encounter, claim.encounter_id)
        patient = self._get(PatientAccount, claim.account_no)
        payer = self._get(Payer, claim.payer_id)
        provider = self._get(Provider, claim.billing_npi)
        policy = patient.policies.get(claim.policy_id, {})
        return AppealFacts(
            practice=Practice(provider.name, provider.npi, provider.tin, provider.address),
            payer_id=payer.payer_id, payer_name=payer.name, payer_address=payer.address,
            patient_name=patient.display_name, patient_birth_date=patient.birth_date,
            member_id=str(policy.get("member_id", "")), claim_id=claim.claim_id,
            payer_claim_control_number=claim.payer_claim_control_number,
            service_date=claim.service_date, charge_cents=claim.charge_cents,
            lines=[encounter.line(i) for i in claim.line_ids if i in encounter.lines],
            denials=appeal["denials"], denied_on=appeal["denied_on"], level=appeal["level"],
            deadline=appeal["deadline"], argument=appeal["argument"], written_on=today,
            author=self._author())

    @command
    def generate_appeal_letter(self, claim_id: str) -> str:
        """Write the letter of the claim's latest appeal; returns its SHA-256."""
        claim = self._get(Claim, claim_id)
        work = self.work_item(item_ref("claim", claim_id))
        if work is None or work.last_appeal is None:
            raise RuleViolation(f"claim {claim_id} has no appeal: file one first")
        text = appeal_letter(self._appeal_facts(claim, work.last_appeal, self.today()))
        digest = content_hash(text)
        work.record_appeal_letter(text, digest, self.today())
        self._save(work)
        return digest

    @command
    def decide_appeal(self, claim_id: str, outcome: str, *, decided_on: date | None = None,
                      note: str = "") -> str:
        """The payer's answer to the pending appeal (its money comes with the next 835)."""
        self._get(Claim, claim_id)
        work = self.work_item(item_ref("claim", claim_id))
        if work is None or work.pending_appeal is None:
            raise RuleViolation(f"claim {claim_id} has no appeal pending")
        appeal_id = work.decide_appeal(outcome, decided_on or self.today(), note)
        self._save(work)
        return appeal_id

    def appeal_letter(self, claim_id: str, appeal_id: str | None = None) -> dict[str, Any]:
        work = self.work_item(item_ref("claim", claim_id))
        appeals = [] if work is None else [
            a for a in work.appeals if a["letter"] and appeal_id in (None, a["appeal_id"])]
        if not appeals:
            raise RuleViolation(f"claim {claim_id} has no appeal letter"
                                + (f" for {appeal_id}" if appeal_id else "")
                                + "; generate one first")
        appeal = appeals[-1]
        return {"appeal_id": appeal["appeal_id"], "level": appeal["level"], **appeal["letter"]}

    def appeal_letter_pdf(self, claim_id: str, appeal_id: str | None = None) -> bytes:
        letter = self.appeal_letter(claim_id, appeal_id)
        return render_pdf(letter["text"], title=f"Appeal {letter['appeal_id']}",
                          dated=letter["generated_on"])

    # -- patient follow-up letters ----------------------------------------------------------------
    @command
    def issue_follow_up_letter(self, account_no: str, letter_kind: str) -> str:
        """A dunning letter (at the level of the last statement) or, after the final notice,
        the pre-collection notice, to the guarantor of `account_no`."""
        work = self._item(item_ref("account", account_no))
        guarantor = self._get(PatientAccount, work.key)
        today = self.today()
        if guarantor.referral is not None and guarantor.referral.get("status") == "placed":
            raise RuleViolation(f"account {work.key} is placed with an agency")
        if guarantor.has_current_plan:
            raise RuleViolation(
                f"account {work.key} has a current payment plan: dunning is suppressed")
        if not guarantor.statements:
            raise RuleViolation(f"account {work.key} has had no statement yet: issue one first")
        statement = guarantor.statements[-1]
        lines = self.patient_lines(work.key)
        balance = sum(c for _, _, c in lines) - self.credit_cents(work.key)
        if balance <= 0:
            raise RuleViolation(f"account {work.key} has no patient balance due")
        if letter_kind == "pre-collection" and (
                statement["dunning_level"] < PRE_COLLECTION_AFTER_LEVEL):
            raise RuleViolation(
                "a pre-collection notice follows the final notice (statement level "
                f"{PRE_COLLECTION_AFTER_LEVEL}); the last statement of {work.key} is level "
                f"{statement['dunning_level']}")
        due_on = statement["issued_on"] + timedelta(days=STATEMENT_DUE_DAYS)
        provider = self._practice_provider(lines)
        facts = GuarantorFacts(
            practice=provider, account_no=work.key, name=guarantor.display_name,
            address=guarantor.address, balance_cents=balance,
            statement_id=statement["statement_id"], statement_on=statement["issued_on"],
            due_on=due_on, dunning_level=int(statement["dunning_level"]),
            lines=[{"service_date": e.line(i)["service_date"], "code": e.line(i)["code"],
                    "description": e.line(i)["description"], "patient_cents": c}
                   for e, i, c in lines],
            issued_on=today,
            respond_by=max(due_on, today + timedelta(days=RESPOND_DAYS))
            if letter_kind == "pre-collection" else max(due_on, today + timedelta(days=14)))
        text = dunning_letter(facts) if letter_kind == "dunning" else (
            pre_collection_notice(facts))
        letter_id = work.issue_letter(letter_kind, text, content_hash(text), today,
                                      facts.dunning_level, balance, facts.statement_id)
        self._save(work)
        return letter_id

    def _practice_provider(self, lines: list[tuple[Encounter, str, int]]) -> Practice:
        npi = lines[0][0].billing_npi if lines else ""
        if npi and self._exists(Provider, npi):
            provider = self._get(Provider, npi)
            return Practice(provider.name, provider.npi, provider.tin, provider.address)
        return Practice("Billing office", npi, "", {})

    def follow_up_letter(self, account_no: str, letter_id: str | None = None) -> dict[str, Any]:
        kind, key, _, _ = self._subject(item_ref("account", account_no))
        work = self.work_item(item_ref(kind, key))
        letters = [] if work is None else [
            x for x in work.letters if letter_id in (None, x["letter_id"])]
        if not letters:
            raise RuleViolation(f"account {key} has no follow-up letter"
                                + (f" {letter_id}" if letter_id else ""))
        return dict(letters[-1])

    def follow_up_letter_pdf(self, account_no: str, letter_id: str | None = None) -> bytes:
        letter = self.follow_up_letter(account_no, letter_id)
        return render_pdf(letter["text"], title=f"Letter {letter['letter_id']}",
                          dated=letter["issued_on"])


__all__ = ["APPEAL_ANSWER_DAYS", "DEFAULT_APPEAL_DAYS", "FollowUpCommands"]
