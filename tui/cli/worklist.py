"""`claimdesk worklist | assign | unassign | follow-up | appeal | letters | supervisor`.

Working the A/R from a shell: a biller's own worklist (value x age, items waiting for their
tickler left out), a supervisor's assignments by hand or by rule, calls and letters with
their outcome, appeals with their deadline and letter (text, and PDF on demand), patient
follow-up letters, and the supervisor's report. Items are named ``claim:ID`` or
``account:NO``; a bare claim id or account number is understood when it is unambiguous.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from domain.errors import BillingError
from domain.follow_up import APPEAL_LEVELS, APPEAL_OUTCOMES, CHANNELS, Outcome, parse_item
from domain.money import AmountError, Cents, cents_from_text, format_usd
from tui.cli.context import CliError, Context, emit_json, parse_date
from tui.cli.output import check_writable, write_file
from tui.clock import default_as_of


def register(subparsers: Any) -> None:
    worklist = subparsers.add_parser("worklist", help="a biller's items to work, by value x age")
    worklist.add_argument("--user", metavar="NAME", help="whose worklist (default: yours)")
    worklist.add_argument("--all", action="store_true", help="every assigned item")
    worklist.add_argument("--unassigned", action="store_true",
                          help="items in the queues nobody works yet")
    worklist.add_argument("--waiting", action="store_true",
                          help="also items waiting for their next action date")
    _common(worklist, limit=True)
    worklist.set_defaults(handler=_worklist)

    assign = subparsers.add_parser("assign", help="give work items to a biller (supervisors)")
    assign.add_argument("items", nargs="*", metavar="ITEM", help="claim:ID or account:NO")
    assign.add_argument("--to", required=True, metavar="USER", help="the biller")
    assign.add_argument("--rule", metavar="RULE",
                        help="pick the open items by rule, e.g. 'queue=denials payer=12345 "
                             "bucket=91-120 min=100 letters=A-K kind=claim'")
    assign.add_argument("--include-assigned", action="store_true",
                        help="with --rule: also take items someone else works")
    assign.add_argument("--dry-run", action="store_true", help="list what a rule picks")
    _common(assign)
    assign.set_defaults(handler=_assign)

    unassign = subparsers.add_parser("unassign", help="take work items back (supervisors)")
    unassign.add_argument("items", nargs="+", metavar="ITEM")
    unassign.add_argument("--reason", default="", metavar="TEXT")
    _common(unassign, as_of=False)
    unassign.set_defaults(handler=_unassign)

    follow_up = subparsers.add_parser("follow-up", help="calls and letters on an item")
    sub = follow_up.add_subparsers(dest="follow_up_command", metavar="SUBCOMMAND")
    log = sub.add_parser("log", help="record a call or letter, its outcome and next date")
    log.add_argument("item", metavar="ITEM")
    log.add_argument("--channel", choices=CHANNELS, default="call")
    log.add_argument("--outcome", required=True, choices=[o.value for o in Outcome])
    log.add_argument("--note", default="", metavar="TEXT")
    log.add_argument("--next", type=parse_date, metavar="DATE", dest="next_action_on",
                     help="when the item comes back (default: by outcome)")
    log.add_argument("--promise-date", type=parse_date, metavar="DATE")
    log.add_argument("--promise-amount", metavar="AMOUNT", help="e.g. 20.00")
    log.add_argument("--reason", default="", metavar="TEXT", help="why the payer denied it")
    log.add_argument("--contact", default="", metavar="WHO")
    _common(log, as_of=False)
    log.set_defaults(handler=_log)
    history = sub.add_parser("history", help="what was done on an item")
    history.add_argument("item", metavar="ITEM")
    _common(history, as_of=False)
    history.set_defaults(handler=_history)

    appeal = subparsers.add_parser("appeal", help="appeals of denied claims")
    sub = appeal.add_subparsers(dest="appeal_command", metavar="SUBCOMMAND")
    file_ = sub.add_parser("file", help="appeal a denied claim (deadline from the contract)")
    file_.add_argument("claim_id", metavar="CLAIM")
    file_.add_argument("--level", required=True, choices=APPEAL_LEVELS)
    file_.add_argument("--argument", required=True, metavar="TEXT",
                       help="why the denial should be reversed")
    _common(file_, as_of=False)
    file_.set_defaults(handler=_appeal_file)
    letter = sub.add_parser("letter", help="write the appeal letter (text, and PDF on request)")
    letter.add_argument("claim_id", metavar="CLAIM")
    letter.add_argument("--pdf", type=Path, metavar="FILE", help="also write it as a PDF")
    letter.add_argument("--existing", action="store_true",
                        help="show (or export) the letter already written, record nothing")
    _common(letter, as_of=False)
    letter.set_defaults(handler=_appeal_letter)
    decide = sub.add_parser("decide", help="record the payer's answer to the pending appeal")
    decide.add_argument("claim_id", metavar="CLAIM")
    decide.add_argument("--outcome", required=True, choices=APPEAL_OUTCOMES)
    decide.add_argument("--decided-on", type=parse_date, metavar="DATE")
    decide.add_argument("--note", default="", metavar="TEXT")
    _common(decide, as_of=False)
    decide.set_defaults(handler=_appeal_decide)
    listing = sub.add_parser("list", help="appeals, with deadline and outcome")
    listing.add_argument("--claim", metavar="CLAIM")
    _common(listing, as_of=False)
    listing.set_defaults(handler=_appeal_list)

    letters = subparsers.add_parser("letters", help="patient follow-up letters per guarantor")
    sub = letters.add_subparsers(dest="letters_command", metavar="KIND")
    for kind, text in (("dunning", "the dunning letter of the last statement"),
                       ("pre-collection", "the notice before referral to an agency")):
        one = sub.add_parser(kind, help=text)
        one.add_argument("account_no", metavar="ACCOUNT")
        one.add_argument("--pdf", type=Path, metavar="FILE", help="also write it as a PDF")
        one.add_argument("--existing", action="store_true",
                         help=f"show (or export) the last {kind} letter issued, record nothing")
        _common(one, as_of=False)
        one.set_defaults(handler=_letter, letter_kind=kind)

    supervisor = subparsers.add_parser("supervisor", help="the supervisor's view of the work")
    sub = supervisor.add_subparsers(dest="supervisor_command", metavar="SUBCOMMAND")
    report = sub.add_parser("report", help="who works what, worked per day, promises, "
                                           "collected, oldest untouched")
    _common(report)
    report.set_defaults(handler=_report)


def _common(parser: argparse.ArgumentParser, *, as_of: bool = True, limit: bool = False) -> None:
    if as_of:
        parser.add_argument("--as-of", type=parse_date, metavar="DATE",
                            help="business date (YYYY-MM-DD; default today)")
    if limit:
        parser.add_argument("--limit", type=int, metavar="N")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")


def _usd(cents: int | None) -> str:
    return "" if cents is None else format_usd(Cents(int(cents)))


def _table(headers: list[str], rows: list[list[Any]]) -> None:
    cells = [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    for row in (headers, ["-" * w for w in widths], *cells):
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def _access(context: Context, action: str, subject: str) -> None:
    """Lists and letters that name patients are PHI reads: logged for auditors."""
    record = getattr(context.ledger, "record_access", None)
    if callable(record):
        record(action, subject)


def _item(text: str) -> str:
    if ":" in text:
        return text
    # A bare id: claim ids and account numbers do not look alike in this ledger (A...).
    return f"account:{text}" if text[:1] == "A" and text[1:].isdigit() else f"claim:{text}"


# -- the worklist ------------------------------------------------------------------------------
def _worklist(args: argparse.Namespace, context: Context) -> int:
    user = None if (args.all or args.unassigned) else (args.user or context.ledger.acting_user)
    answer = context.queries.worklist(user, args.as_of or default_as_of(),
                                      include_waiting=args.waiting, unassigned=args.unassigned,
                                      limit=args.limit)
    _access(context, "worklist", user or ("unassigned" if args.unassigned else "all"))
    if args.json:
        emit_json(answer)
        return 0
    who = "unassigned items" if args.unassigned else (user or "every biller")
    print(f"Worklist of {who} as of {answer['as_of']}: {answer['count']} to work, "
          f"{_usd(answer['total_cents'])}; {answer['waiting']} waiting for their date")
    if answer["items"]:
        _table(["ITEM", "NAME", "STATUS", "QUEUES", "AMOUNT", "AGE", "NEXT", "LAST", "BY"],
               [[i["item"], i["name"], i["status"], ",".join(i["queues"]),
                 _usd(i["amount_cents"]), i["age_days"], i["next_action_on"],
                 i["last_outcome"], i["assigned_to"]] for i in answer["items"]])
    return 0


def _assign(args: argparse.Namespace, context: Context) -> int:
    from projections.follow_up import AssignmentRule  # noqa: PLC0415

    if bool(args.rule) == bool(args.items):
        raise CliError("assign: give ITEMs or --rule, not both")
    rule = ""
    if args.rule:
        try:
            parsed = AssignmentRule.parse(args.rule)
        except BillingError as error:
            raise CliError(f"{error.title}: {error}") from None
        rule = parsed.describe()
        items = context.queries.matching_items(parsed, args.as_of or default_as_of(),
                                               include_assigned=args.include_assigned)
    else:
        items = [_item(i) for i in args.items]
    if args.dry_run:
        document = {"to": args.to, "rule": rule, "items": items, "assigned": False}
    else:
        assigned = context.ledger.assign_work(items, args.to, rule=rule)
        document = {"to": args.to, "rule": rule, "items": assigned, "assigned": True}
    if args.json:
        emit_json(document)
    else:
        verb = "would assign" if args.dry_run else "assigned"
        print(f"{verb} {len(document['items'])} items to {args.to}"
              + (f" by rule {rule}" if rule else ""))
        for ref in document["items"]:
            print(f"  {ref}")
    return 0


def _unassign(args: argparse.Namespace, context: Context) -> int:
    items = context.ledger.unassign_work([_item(i) for i in args.items], args.reason)
    if args.json:
        emit_json({"items": items})
    else:
        print(f"unassigned {len(items)} items")
    return 0


# -- follow-up ---------------------------------------------------------------------------------
def _log(args: argparse.Namespace, context: Context) -> int:
    promise_cents = None
    if args.promise_amount is not None:
        try:
            promise_cents = int(cents_from_text(args.promise_amount.replace("$", "")))
        except AmountError as error:
            raise CliError(f"--promise-amount: {error}") from None
    activity = context.ledger.log_follow_up(
        _item(args.item), args.channel, args.outcome, note=args.note,
        next_action_on=args.next_action_on, promise_on=args.promise_date,
        promise_cents=promise_cents, reason=args.reason, contact=args.contact)
    item = context.ledger.work_item(_item(args.item))
    logged = item.activities[-1] if item is not None else {}
    document = {"activity_id": activity, "item": item.ref if item else _item(args.item),
                "outcome": args.outcome, "next_action_on": logged.get("next_action_on")}
    if args.json:
        emit_json(document)
    else:
        print(f"logged {activity} on {document['item']}: {args.outcome}"
              + (f"; back on {document['next_action_on']}" if document["next_action_on"]
                 else ""))
    return 0


def _history(args: argparse.Namespace, context: Context) -> int:
    ref = _item(args.item)
    # As `follow-up log` does: an item is a claim or an account that exists (NotFoundError),
    # worked or not; a claim nobody worked yet has an empty history.
    kind, key = parse_item(ref)
    (context.ledger.claim if kind == "claim" else context.ledger.account)(key)
    rows = context.queries.work_history(ref)
    if args.json:
        emit_json({"item": ref, "events": rows})
        return 0
    _table(["WHEN", "WHAT", "BY", "FOR", "OUTCOME", "NEXT", "DETAIL"],
           [[r["recorded_at"][:16], r["event_type"], r["actor"], r["worker"], r["outcome"],
             r["next_action_on"], r["detail"][:40]] for r in rows])
    return 0


# -- appeals -----------------------------------------------------------------------------------
def _appeal_file(args: argparse.Namespace, context: Context) -> int:
    appeal_id = context.ledger.file_appeal(args.claim_id, args.level, args.argument)
    item = context.ledger.work_item(f"claim:{args.claim_id}")
    appeal = item.pending_appeal if item is not None else None
    document = {"appeal_id": appeal_id, "claim_id": args.claim_id, "level": args.level,
                "deadline": appeal["deadline"] if appeal else None,
                "deadline_basis": appeal["deadline_basis"] if appeal else ""}
    if args.json:
        emit_json(document)
    else:
        print(f"filed {appeal_id} ({args.level}); deadline {document['deadline']} "
              f"({document['deadline_basis']})")
    return 0


def _appeal_letter(args: argparse.Namespace, context: Context) -> int:
    ledger = context.ledger
    if args.pdf is not None:
        check_writable(args.pdf)   # before the letter is recorded
    if not args.existing:
        ledger.generate_appeal_letter(args.claim_id)
    letter = ledger.appeal_letter(args.claim_id)
    _access(context, "appeal letter", args.claim_id)
    if args.pdf is not None:
        write_file(args.pdf, ledger.appeal_letter_pdf(args.claim_id), after=(
            "" if args.existing else "the letter was written: export it with --existing"))
    if args.json:
        emit_json({**letter, "pdf": str(args.pdf) if args.pdf else None})
    else:
        print(letter["text"], end="")
        print(f"-- sha256 {letter['sha256']}" + (f"; PDF {args.pdf}" if args.pdf else ""))
    return 0


def _appeal_decide(args: argparse.Namespace, context: Context) -> int:
    appeal_id = context.ledger.decide_appeal(args.claim_id, args.outcome,
                                             decided_on=args.decided_on, note=args.note)
    if args.json:
        emit_json({"appeal_id": appeal_id, "outcome": args.outcome})
    else:
        print(f"{appeal_id}: {args.outcome}")
    return 0


def _appeal_list(args: argparse.Namespace, context: Context) -> int:
    rows = context.queries.appeals(args.claim)
    if args.json:
        emit_json({"appeals": rows})
        return 0
    _table(["APPEAL", "LEVEL", "FILED", "DEADLINE", "DENIED", "LETTER", "OUTCOME"],
           [[r["appeal_id"], r["level"], r["filed_on"], r["deadline"],
             _usd(r["denied_cents"]), r["letter_sha256"][:12], r["outcome"] or "pending"]
            for r in rows])
    return 0


# -- patient letters -----------------------------------------------------------------------------
def _letter(args: argparse.Namespace, context: Context) -> int:
    ledger = context.ledger
    if args.pdf is not None:
        check_writable(args.pdf)   # before the letter is recorded as issued
    if args.existing:
        letter_id = _last_letter(context, args.account_no, args.letter_kind)
    else:
        letter_id = ledger.issue_follow_up_letter(args.account_no, args.letter_kind)
    letter = ledger.follow_up_letter(args.account_no, letter_id)
    _access(context, f"{args.letter_kind} letter", args.account_no)
    if args.pdf is not None:
        write_file(args.pdf, ledger.follow_up_letter_pdf(args.account_no, letter_id), after=(
            "" if args.existing else "the letter was issued: export it with --existing"))
    if args.json:
        emit_json({**letter, "pdf": str(args.pdf) if args.pdf else None})
    else:
        print(letter["text"], end="")
        print(f"-- {letter_id} sha256 {letter['sha256']}"
              + (f"; PDF {args.pdf}" if args.pdf else ""))
    return 0


def _last_letter(context: Context, account_no: str, kind: str) -> str:
    """The id of the last `kind` letter issued to the guarantor of `account_no`."""
    guarantor = context.ledger.account(account_no).guarantor_account_no
    item = context.ledger.work_item(f"account:{guarantor}")
    issued = [x["letter_id"] for x in (item.letters if item is not None else [])
              if x["kind"] == kind]
    if not issued:
        raise CliError(f"account {guarantor} has no {kind} letter; issue one first")
    return str(issued[-1])


# -- the supervisor ------------------------------------------------------------------------------
def _report(args: argparse.Namespace, context: Context) -> int:
    report = context.queries.supervisor_report(args.as_of or default_as_of())
    _access(context, "supervisor report", "worklist")
    if args.json:
        emit_json(report)
        return 0
    print(f"Work as of {report['as_of']}")
    print("\nWho works what")
    _table(["USER", "OPEN", "TO WORK", "WAITING", "BROKEN PROMISES", "VALUE"],
           [[r["user"], r["open"], r["to_work"], r["waiting"], r["promise_broken"],
             _usd(r["value_cents"])] for r in report["assignments"]])
    print("\nItems worked per day")
    _table(["USER", "DAY", "ITEMS", "ACTIONS"],
           [[r["user"], r["day"], r["items"], r["actions"]] for r in report["worked_per_day"]])
    print("\nPromises to pay")
    _table(["USER", "MADE", "KEPT", "BROKEN", "PENDING", "PROMISED", "KEPT $"],
           [[r["user"], r["made"], r["kept"], r["broken"], r["pending"],
             _usd(r["promised_cents"]), _usd(r["kept_cents"])] for r in report["promises"]])
    print("\nCollected on worked items")
    _table(["USER", "ITEMS", "COLLECTED"],
           [[r["user"], r["items"], _usd(r["collected_cents"])] for r in report["collected"]])
    print("\nOldest untouched items")
    _table(["ITEM", "NAME", "ASSIGNED", "AGE", "AMOUNT"],
           [[r["item"], r["name"], r["assigned_to"], r["age_days"], _usd(r["amount_cents"])]
            for r in report["oldest_untouched"]])
    return 0
