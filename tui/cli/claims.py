"""`claimdesk claims create|scrub|override-filing-limit|submit|correct|void|resend|show`."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from domain.claim import ClaimState
from domain.errors import ConcurrencyError
from domain.money import format_usd
from importers.x12.claim_837 import (
    DEFAULT_RECEIVER,
    DEFAULT_SUBMITTER,
    Submitter,
    preflight,
    write_837,
)
from importers.x12.writer import Party, X12WriteError, validate
from tui.cli.context import CliError, Context, emit_json
from tui.cli.output import check_writable, write_file

SUBMIT_ATTEMPTS = 3


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("claims", help="claims: create, scrub, submit as 837P, correct")
    sub = parser.add_subparsers(dest="claims_command", metavar="SUBCOMMAND")

    create = sub.add_parser("create", help="a claim for an encounter's unbilled lines")
    create.add_argument("encounter")
    create.add_argument("--payer", help="bill this payer (default: the primary)")
    create.add_argument("--line", action="append", dest="lines", metavar="LINE_ID",
                        help="bill only these lines (repeatable)")
    create.add_argument("--json", action="store_true")
    create.set_defaults(handler=_create)

    scrub = sub.add_parser("scrub", help="check claims; those without problems become ready")
    scrub.add_argument("claims", nargs="*", metavar="CLAIM")
    scrub.add_argument("--all", action="store_true", help="every draft and ready claim")
    scrub.add_argument("--json", action="store_true")
    scrub.set_defaults(handler=_scrub)

    override = sub.add_parser(
        "override-filing-limit",
        help="let a claim past its timely-filing deadline go out (supervisor), then scrub it")
    override.add_argument("claim")
    override.add_argument("--reason", required=True)
    override.add_argument("--json", action="store_true")
    override.set_defaults(handler=_override)

    submit = sub.add_parser("submit", help="write every ready claim as one 837P interchange")
    submit.add_argument("--payer", help="only this payer's claims")
    submit.add_argument("--out", required=True, type=Path, metavar="FILE",
                        help="the 837 file to write (must not exist)")
    submit.add_argument("--test", action="store_true", help="mark the interchange as test (T)")
    submit.add_argument("--no-validate", action="store_true",
                        help="skip pyx12 validation of the file before recording it")
    submit.add_argument("--sender-id", default=DEFAULT_SUBMITTER.party.id,
                        help="ISA06/GS02 and the submitter id (1000A)")
    submit.add_argument("--sender-name", default=DEFAULT_SUBMITTER.party.name)
    submit.add_argument("--contact", default=DEFAULT_SUBMITTER.contact)
    submit.add_argument("--phone", default="", help="submitter contact phone (else e-mail)")
    submit.add_argument("--email", default=DEFAULT_SUBMITTER.email)
    submit.add_argument("--receiver-id", default=DEFAULT_RECEIVER.id,
                        help="ISA08/GS03 and the receiver id (1000B)")
    submit.add_argument("--receiver-name", default=DEFAULT_RECEIVER.name)
    submit.add_argument("--json", action="store_true")
    submit.set_defaults(handler=_submit)

    for name, text, handler in (
            ("correct", "start a replacement claim (frequency 7) and scrub it", _correct),
            ("void", "void an adjudicated claim (frequency 8); it goes in the next batch", _void),
            ("resend", "after fixing a rejected claim, scrub it to go out as a new original",
             _resend)):
        command = sub.add_parser(name, help=text)
        command.add_argument("claim")
        command.add_argument("--reason", required=True)
        command.add_argument("--json", action="store_true")
        command.set_defaults(handler=handler)

    show = sub.add_parser("show", help="a claim's state, version, problems and submissions")
    show.add_argument("claim")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_show)


def _problems_report(args: argparse.Namespace, results: list[tuple[str, list[str]]]) -> int:
    if args.json:
        emit_json({
            "claims": [{"claim_id": c, "ready": not p, "problems": p} for c, p in results],
            "ready": sum(1 for _, p in results if not p),
            "not_ready": sum(1 for _, p in results if p)})
    else:
        for claim_id, problems in results:
            if not problems:
                print(f"{claim_id}: ready")
                continue
            print(f"{claim_id}: {len(problems)} problem{'s' if len(problems) > 1 else ''}")
            for problem in problems:
                print(f"  - {problem}")
    return 1 if any(p for _, p in results) else 0


def _create(args: argparse.Namespace, context: Context) -> int:
    claim_id = context.ledger.create_claim(args.encounter, args.payer, line_ids=args.lines)
    claim = context.ledger.claim(claim_id)
    if args.json:
        emit_json({"claim_id": claim_id, "payer_id": claim.payer_id,
                   "line_ids": claim.line_ids, "charge_cents": claim.charge_cents})
    else:
        print(f"{claim_id}: {claim.payer_id}, {len(claim.line_ids)} lines, "
              f"{format_usd(claim.charge_cents)} (draft; scrub it next)")
    return 0


def _scrub(args: argparse.Namespace, context: Context) -> int:
    ledger = context.ledger
    if args.all == bool(args.claims):
        raise CliError("claims scrub: give claim ids or --all, not both or neither")
    claim_ids = list(args.claims)
    if args.all:
        claim_ids = sorted(c.claim_id for c in ledger.claims_in_state(
            ClaimState.DRAFT, ClaimState.READY, event_names=(
                "Created", "ScrubFailed", "MarkedReady", "ReplacementStarted", "ResendStarted")))
    results = [(claim_id, ledger.scrub_claim(claim_id)) for claim_id in claim_ids]
    if args.all and not results and not args.json:
        print("no draft or ready claims")
    return _problems_report(args, results)


def _override(args: argparse.Namespace, context: Context) -> int:
    context.ledger.override_filing_limit(args.claim, args.reason)
    return _problems_report(args, [(args.claim, context.ledger.scrub_claim(args.claim))])


def _correct(args: argparse.Namespace, context: Context) -> int:
    return _problems_report(args, [(args.claim,
                                    context.ledger.start_replacement(args.claim, args.reason))])


def _resend(args: argparse.Namespace, context: Context) -> int:
    return _problems_report(args, [(args.claim,
                                    context.ledger.resend_rejected(args.claim, args.reason))])


def _void(args: argparse.Namespace, context: Context) -> int:
    context.ledger.start_void(args.claim, args.reason)
    claim = context.ledger.claim(args.claim)
    if args.json:
        emit_json({"claim_id": claim.claim_id, "state": claim.state.value,
                   "frequency": claim.frequency,
                   "payer_claim_control_number": claim.payer_claim_control_number})
    else:
        print(f"{claim.claim_id}: void of {claim.payer_claim_control_number} is ready; it goes "
              "out with the next `claims submit`")
    return 0


def _show(args: argparse.Namespace, context: Context) -> int:
    claim = context.ledger.claim(args.claim)
    doc = {"claim_id": claim.claim_id, "state": claim.state.value, "payer_id": claim.payer_id,
           "coverage_order": claim.coverage_order, "frequency": claim.frequency,
           "claim_version": claim.claim_version, "charge_cents": claim.charge_cents,
           "line_ids": claim.line_ids, "problems": claim.problems,
           "payer_claim_control_number": claim.payer_claim_control_number,
           "submissions": claim.submissions, "outcome": claim.outcome}
    if args.json:
        emit_json(doc)
    else:
        for key, value in doc.items():
            print(f"{key}: {value}")
    return 0


def _submit(args: argparse.Namespace, context: Context) -> int:
    out: Path = args.out
    if out.exists():
        raise CliError(f"{out} already exists; a sent batch is never overwritten")
    check_writable(out)   # before a batch (or a held claim) is recorded
    try:
        submitter = Submitter(Party(args.sender_id, args.sender_name), contact=args.contact,
                              phone=args.phone, email=args.email)
        receiver = Party(args.receiver_id, args.receiver_name)
    except X12WriteError as error:
        raise CliError(str(error)) from None
    ledger = context.ledger
    validation = "skipped"
    for attempt in range(SUBMIT_ATTEMPTS):
        plan = ledger.plan_batch(args.payer, check=preflight)
        if not plan.transactions:
            ledger.record_batch(plan)   # held claims go back to draft with their problems
            break
        tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        try:
            write_file(tmp, write_837(plan, submitter=submitter, receiver=receiver,
                                      usage="T" if args.test else "P"))
            if not args.no_validate:
                result = validate(tmp)
                if not result.ok:
                    raise CliError(f"the 837 failed pyx12 validation; nothing was recorded: "
                                   f"{result.summary()}", 1)
                validation = "OK"
            try:
                ledger.record_batch(plan, file_name=str(out))
            except ConcurrencyError:
                if attempt + 1 < SUBMIT_ATTEMPTS:
                    continue    # another biller sent a batch meanwhile: plan and write again
                raise
            # Only now does the file appear: a batch recorded is a file delivered, and back.
            os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)
        break
    written = bool(plan.transactions)
    if args.json:
        emit_json({
            "claims": len(plan.claims), "charge_cents": plan.charge_cents,
            "file": str(out) if written else None,
            "batch_id": plan.batch_id if written else None,
            "interchange_control": plan.interchange_control_text if written else None,
            "transactions": {t.control: [b.claim.claim_id for b in t.claims]
                             for t in plan.transactions},
            "held": plan.held, "validation": validation if written else None})
    else:
        if written:
            print(f"wrote {len(plan.claims)} claims ({format_usd(plan.charge_cents)}) to {out}: "
                  f"batch {plan.batch_id}, interchange {plan.interchange_control_text}; "
                  f"pyx12 {validation}")
        elif not plan.held:
            print("no ready claims to submit")
        for claim_id, problems in plan.held.items():
            print(f"held {claim_id} (back to draft): {'; '.join(problems)}")
    return 1 if plan.held and not written else 0
