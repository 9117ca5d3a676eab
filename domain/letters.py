"""Letters: an appeal of a denied claim, a dunning letter and a pre-collection notice.

Each letter is plain text built only from the facts handed in (no clock, no store), so the
same facts give the same letter byte for byte. The text and its SHA-256 go into the
ledger's event; the PDF is rendered from that text on demand (``render_pdf``) and is
deterministic too (fixed creation date, no random file id), so the bytes are never stored.
"""

from __future__ import annotations

import hashlib
import textwrap
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from domain.carc import CARC_DESCRIPTIONS
from domain.money import Cents, format_usd

WIDTH = 78

DUNNING_MESSAGES = {
    1: "This is a statement of your new balance. Please pay by the due date.",
    2: "PAST DUE. Your balance is past due. Please pay now or call us to arrange a payment "
       "plan.",
    3: "FINAL NOTICE. Your account may be referred to a collection agency in 30 days if "
       "it is not paid or a payment plan is not arranged.",
    4: "FINAL NOTICE. Your account is under review for referral to a collection agency.",
}
ASSISTANCE = ("If you cannot pay this bill, you may qualify for financial assistance. Call "
              "us and ask for our financial assistance policy and application.")


def usd(cents: int) -> str:
    return format_usd(Cents(int(cents)))


def content_hash(text: str) -> str:
    """The SHA-256 (hex) of a letter's text as stored: what the PDF and auditors check."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _wrap(text: str, indent: str = "") -> list[str]:
    out: list[str] = []
    for paragraph in text.splitlines() or [""]:
        out += textwrap.wrap(paragraph, WIDTH, initial_indent=indent,
                             subsequent_indent=indent) or [""]
    return out


def _para(text: str) -> list[str]:
    """A wrapped paragraph and the blank line after it."""
    return [*_wrap(text), ""]


def _address(address: dict[str, Any]) -> list[str]:
    lines = [str(address.get(k) or "") for k in ("line1", "line2")]
    city = ", ".join(x for x in (address.get("city"), address.get("state")) if x)
    zip_code = str(address.get("zip") or "")
    lines.append(f"{city} {zip_code[:5]}".strip())
    return [x for x in lines if x]


@dataclass(frozen=True)
class Practice:
    name: str
    npi: str
    tin: str
    address: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AppealFacts:
    """What an appeal letter says: the claim, its denial, the level and the argument."""

    practice: Practice
    payer_id: str
    payer_name: str
    payer_address: dict[str, Any]
    patient_name: str
    patient_birth_date: date
    member_id: str
    claim_id: str
    payer_claim_control_number: str
    service_date: date
    charge_cents: int
    lines: list[dict[str, Any]]      # line_id, code, modifiers, charge_cents
    denials: list[dict[str, Any]]    # line_id, group, carc, rarcs, amount_cents
    denied_on: date
    level: str
    deadline: date
    argument: str
    written_on: date
    author: str


def appeal_letter(f: AppealFacts) -> str:
    out = [f.practice.name, *_address(f.practice.address),
           f"NPI {f.practice.npi}   TIN {f.practice.tin}", "", f.written_on.isoformat(), "",
           f"{f.payer_name} ({f.payer_id})", "Appeals department",
           *_address(f.payer_address), "",
           f"RE: Request for {f.level.replace('-', ' ')} of claim {f.claim_id}",
           f"    Patient:            {f.patient_name}  (DOB {f.patient_birth_date})",
           f"    Member id:          {f.member_id}",
           f"    Claim id:           {f.claim_id}",
           f"    Payer claim number: {f.payer_claim_control_number or 'not assigned'}",
           f"    Date of service:    {f.service_date}",
           f"    Billed amount:      {usd(f.charge_cents)}",
           f"    Denied on:          {f.denied_on} (appeal deadline {f.deadline})", ""]
    out += _wrap(
        f"We request a {f.level.replace('-', ' ')} of the denial of the services below. "
        "We believe they were billed correctly and are payable under the patient's plan "
        "and our agreement.")
    out += ["", "Services and reasons given for the denial:"]
    by_line = {line["line_id"]: line for line in f.lines}
    for d in f.denials:
        line = by_line.get(d["line_id"], {})
        code = str(line.get("code", ""))
        modifiers = "-".join(line.get("modifiers") or [])
        service = f"{code}-{modifiers}" if modifiers else code
        rarcs = ", ".join(d.get("rarcs") or [])
        out.append(f"  {service:<10} {usd(int(d['amount_cents'])):>12}   "
                   f"{d['group']}-{d['carc']}" + (f" (RARC {rarcs})" if rarcs else ""))
        out += _wrap(CARC_DESCRIPTIONS.get(str(d["carc"]), "reason code not on our list"),
                     indent="             ")
    total = sum(int(d["amount_cents"]) for d in f.denials)
    out += [f"  {'Total':<10} {usd(total):>12}", "", "Why the denial should be reversed:"]
    out += _wrap(f.argument, indent="  ")
    out += ["", *_wrap("Please reprocess the claim and send the corrected remittance. Call us "
                       "with any question about this request."),
            "", "Sincerely,", "", f.author, f"Billing office, {f.practice.name}"]
    return "\n".join(line.rstrip() for line in out) + "\n"


@dataclass(frozen=True)
class GuarantorFacts:
    """What a patient follow-up letter says: who owes what since which statement."""

    practice: Practice
    account_no: str
    name: str
    address: dict[str, Any]
    balance_cents: int
    statement_id: str
    statement_on: date
    due_on: date
    dunning_level: int
    lines: list[dict[str, Any]]      # service_date, code, description, patient_cents
    issued_on: date
    respond_by: date


def _guarantor_head(f: GuarantorFacts, title: str) -> list[str]:
    return [f.practice.name, *_address(f.practice.address), "", f.issued_on.isoformat(), "",
            f.name, *_address(f.address), "", title, "",
            f"    Account:         {f.account_no}",
            f"    Statement:       {f.statement_id} of {f.statement_on}",
            f"    Balance due:     {usd(f.balance_cents)}", ""]


def _services(f: GuarantorFacts) -> list[str]:
    out = ["Services with a balance you owe:"]
    for line in f.lines:
        out.append(f"  {line['service_date']}  {line['code']:<6} "
                   f"{str(line.get('description') or '')[:38]:<38} "
                   f"{usd(int(line['patient_cents'])):>12}")
    return [*out, ""]


def dunning_letter(f: GuarantorFacts) -> str:
    level = max(1, min(f.dunning_level, max(DUNNING_MESSAGES)))
    out = _guarantor_head(f, f"PAYMENT REMINDER (notice {level})")
    out += _para(DUNNING_MESSAGES[level])
    out += _para(f"Please pay {usd(f.balance_cents)} by {f.respond_by}.")
    out += _services(f)
    out += [*_para(ASSISTANCE), f"Billing office, {f.practice.name}"]
    return "\n".join(line.rstrip() for line in out) + "\n"


def pre_collection_notice(f: GuarantorFacts) -> str:
    out = _guarantor_head(f, "NOTICE BEFORE REFERRAL TO A COLLECTION AGENCY")
    out += _para(
        f"We have sent you statements for this balance and a final notice. Unless the "
        f"balance of {usd(f.balance_cents)} is paid, or a payment plan is arranged with us, "
        f"by {f.respond_by}, your account may be referred to a collection agency.")
    out += _para("If you believe this balance is wrong, or your insurance should pay it, "
                 "call us before that date.")
    out += _services(f)
    out += [*_para(ASSISTANCE), f"Billing office, {f.practice.name}"]
    return "\n".join(line.rstrip() for line in out) + "\n"


def render_pdf(text: str, *, title: str, dated: date) -> bytes:
    """The letter as a PDF: one fixed-width line per text line, the text's hash in the footer.

    Deterministic: the creation date is the letter's own date and the file id is derived
    from the text, so the same text always gives the same bytes. Page streams are left
    uncompressed (letters are small), so the PDF's text is searchable as it is.
    """
    from fpdf import FPDF  # noqa: PLC0415 - loaded only when a PDF is asked for

    digest = content_hash(text)
    pdf = FPDF(format="letter", unit="pt")
    pdf.set_compression(False)
    pdf.set_creation_date(datetime.combine(dated, time(0), tzinfo=UTC))
    pdf.file_id = lambda: f"<{digest[:32]}><{digest[:32]}>"  # type: ignore[method-assign]
    pdf.set_title(title)
    pdf.set_author("claimdesk")
    pdf.set_margins(54, 54, 54)
    pdf.set_auto_page_break(True, margin=54)
    pdf.add_page()
    pdf.set_font("Courier", size=9.5)
    for line in text.splitlines():
        pdf.cell(0, 12, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(12)
    pdf.set_font("Courier", size=7)
    pdf.cell(0, 10, f"sha256 {digest}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _latin1(text: str) -> str:
    # The PDF core fonts are Latin-1; anything else is shown as '?' rather than failing.
    return text.encode("latin-1", "replace").decode("latin-1")
