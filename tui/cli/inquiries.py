"""Eligibility and claim status inquiries on the command line.

- `claimdesk eligibility request [--date D] [--patients ID...] --out FILE.270`
- `claimdesk claims status-request [--older-than DAYS] --out FILE.276`
- `claimdesk import 271 FILE...`, `claimdesk import 277 FILE...`
- `claimdesk sandbox eligibility FILE.270 --out FILE.271`, `sandbox status FILE.276 --out FILE.277`

A request file is checked with pyx12 before anything is recorded, and appears only once its
traces are recorded; an answer file is recorded whole or not at all (exit status 1 when a file
is refused). The `claims` and `sandbox` groups belong to their own modules: this one adds its
subcommands to them, so it is registered after them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from domain import clock
from domain.money import Cents, format_usd
from importers.claim_status_import import import_277
from importers.eligibility_import import import_271
from importers.sandbox_inquiries import InquirySandboxError, answer_270, answer_276
from importers.x12.claim_status import write_276
from importers.x12.eligibility import write_270
from importers.x12.inquiry_maps import validate_text
from importers.x12.segments import X12SyntaxError
from importers.x12.writer import Party, X12WriteError
from tui.cli.context import CliError, Context, emit_json, parse_date, told
from tui.cli.import_group import import_subparsers
from tui.cli.imports_x12 import _progress_bar
from tui.cli.output import check_writable, write_file

DEFAULT_SENDER = ("CLAIMDESK", "CLAIMDESK BILLING SERVICE")
DEFAULT_RECEIVER = ("CLEARINGHOUSE", "CLEARINGHOUSE")


def _subparsers_of(subparsers: Any, group: str) -> Any:
    """The sub-parsers of an existing command group (`claims`, `sandbox`)."""
    parser = subparsers.choices[group]
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def _envelope_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, type=Path, metavar="FILE")
    parser.add_argument("--provider", metavar="NPI",
                        help="the information receiver (default: the billing provider)")
    parser.add_argument("--sender-id", default=DEFAULT_SENDER[0], help="ISA06/GS02")
    parser.add_argument("--sender-name", default=DEFAULT_SENDER[1])
    parser.add_argument("--receiver-id", default=DEFAULT_RECEIVER[0], help="ISA08/GS03")
    parser.add_argument("--receiver-name", default=DEFAULT_RECEIVER[1])
    parser.add_argument("--test", action="store_true", help="ISA15 T (test) instead of P")
    parser.add_argument("--json", action="store_true")


def register(subparsers: Any) -> None:
    eligibility = subparsers.add_parser(
        "eligibility", help="eligibility checks: write a 270 for a day's patients")
    sub = eligibility.add_subparsers(dest="eligibility_command", metavar="SUBCOMMAND")
    request = sub.add_parser("request", help="a 270 for the patients seen on a date "
                                             "(or those named), one question per policy")
    request.add_argument("--date", type=parse_date, metavar="YYYY-MM-DD",
                         help="the date of service asked about (default: today)")
    request.add_argument("--patients", nargs="+", metavar="ID",
                         help="account numbers (default: everyone with a visit that day)")
    _envelope_options(request)
    request.set_defaults(handler=_eligibility_request)

    status = _subparsers_of(subparsers, "claims").add_parser(
        "status-request", help="a 276 for submitted claims with no 835 after the payer's "
                               "expected days (or --older-than)")
    status.add_argument("--older-than", type=int, metavar="DAYS",
                        help="days since submission (default: each payer's expected days)")
    _envelope_options(status)
    status.set_defaults(handler=_status_request)

    imports = import_subparsers(subparsers)
    for kind, text in (("271", "271 eligibility answers (coverage, benefits, rejections)"),
                       ("277", "277 claim status answers (005010X212)")):
        answer = imports.add_parser(kind, help=f"record {text}")
        answer.add_argument("files", nargs="+", type=Path, metavar="FILE")
        answer.add_argument("--dry-run", action="store_true",
                            help="show what would be recorded; write nothing")
        answer.add_argument("--json", action="store_true", help="one JSON object per file")
        answer.set_defaults(handler=_import_answers, kind=kind)

    sandbox = _subparsers_of(subparsers, "sandbox")
    for name, text, suffixes in (
            ("eligibility", "answer a 270 with the 271 the payer would send", ("270", "271")),
            ("status", "answer a 276 with the 277 the payer would send", ("276", "277"))):
        answer = sandbox.add_parser(name, help=text)
        answer.add_argument("file", type=Path, metavar=f"FILE.{suffixes[0]}")
        answer.add_argument("--out", required=True, type=Path, metavar=f"FILE.{suffixes[1]}")
        answer.add_argument("--json", action="store_true")
        answer.set_defaults(handler=_sandbox_answer, kind=suffixes[0])


def _parties(args: argparse.Namespace) -> tuple[Party, Party]:
    try:
        return Party(args.sender_id, args.sender_name), Party(args.receiver_id,
                                                              args.receiver_name)
    except X12WriteError as error:
        raise CliError(str(error)) from None


def _write_checked(out: Path, content: str, record: Callable[[], None] | None = None) -> None:
    """Validate `content` with pyx12, record it (when asked), then let the file appear."""
    report = validate_text(content, str(out))
    if not report.ok:
        raise CliError("the file failed pyx12 validation (a claimdesk bug); nothing was "
                       "recorded: " + "; ".join(str(i) for i in report.issues[:5]), 1)
    check_writable(out)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        write_file(tmp, content)
        if record is not None:
            record()
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def _send(args: argparse.Namespace, context: Context, batch: Any, kind: str) -> int:
    out: Path = args.out
    if out.exists():
        raise CliError(f"{out} already exists; a sent request is never overwritten")
    check_writable(out)   # before the batch is planned and recorded
    sender, receiver = _parties(args)
    usage = "T" if args.test else "P"
    ledger = context.ledger
    if batch.questions:
        try:
            content = (write_270 if kind == "270" else write_276)(
                batch, sender=sender, receiver=receiver, usage=usage)
        except X12WriteError as error:
            raise CliError(str(error)) from None
        send = (ledger.send_eligibility_requests if kind == "270"
                else ledger.send_status_requests)
        _write_checked(out, content, lambda: send(batch, file_name=str(out)))
    asked = [{"trace": q.trace, "payer_id": q.payer_id, "member_id": q.member_id,
              **({"account_no": q.account_no, "policy_id": q.policy_id}
                 if kind == "270" else {"claim_id": q.claim_id})} for q in batch.questions]
    written = bool(batch.questions)
    if args.json:
        emit_json({"file": str(out) if written else None,
                   "batch_id": batch.batch_id if written else None,
                   "interchange_control": batch.interchange_control_text if written else None,
                   "requests": asked, "skipped": batch.skipped,
                   "validation": "OK" if written else None})
    else:
        if written:
            print(f"wrote {len(asked)} {'eligibility' if kind == '270' else 'claim status'} "
                  f"request(s) to {out}: batch {batch.batch_id}, interchange "
                  f"{batch.interchange_control_text}; pyx12 OK")
        else:
            print("nothing to ask")
        for skipped in batch.skipped:
            print(f"skipped {skipped.get('account_no') or skipped.get('claim_id')}: "
                  f"{skipped['reason']}")
    return 0


def _eligibility_request(args: argparse.Namespace, context: Context) -> int:
    batch = context.ledger.plan_eligibility_requests(
        args.date or clock.today(), args.patients, provider_npi=args.provider)
    return _send(args, context, batch, "270")


def _status_request(args: argparse.Namespace, context: Context) -> int:
    if args.older_than is not None and args.older_than < 0:
        raise CliError("--older-than takes a number of days, 0 or more")
    batch = context.ledger.plan_status_requests(args.older_than, provider_npi=args.provider)
    return _send(args, context, batch, "276")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror or error}") from None


def _import_answers(args: argparse.Namespace, context: Context) -> int:
    importer = import_271 if args.kind == "271" else import_277
    results = []
    with _progress_bar(not args.json and sys.stderr.isatty()) as progress_for:
        for path in args.files:
            results.append(importer(context.ledger, _read(path), str(path),
                                    dry_run=args.dry_run, progress=progress_for(path.name)))
    if args.json:
        documents = [result.as_dict() for result in results]
        emit_json(documents[0] if len(documents) == 1 else documents)
    else:
        for result in results:
            with told(result.status):
                _print_answers(result, args.dry_run)
    return 1 if any(result.status == "refused" for result in results) else 0


def _money(cents: Cents | None) -> str:
    return "-" if cents is None else format_usd(cents)


def _print_answers(result: Any, dry_run: bool) -> None:
    verb = {"posted": "would record" if dry_run else "recorded"}.get(result.status,
                                                                      result.status)
    print(f"{result.file}: {result.kind} {verb}: {result.answers} answer(s), {result.matched} "
          f"matched, {len(result.unmatched)} unmatched, {len(result.rejected)} rejected, "
          f"{result.events} event(s)" + (" (nothing written)" if dry_run else ""))
    if result.message:
        print(f"  {result.message}")
    for change in result.changes:
        if result.kind == "271":
            print(f"  {change.get('account_no')} {change.get('policy_id')}: {change['change']}"
                  + (f", {change['plan_name']}" if change.get("plan_name") else "")
                  + (f", copay {_money(change.get('copay_cents'))}, coinsurance "
                     f"{change.get('coinsurance_percent')}%, deductible left "
                     f"{_money(change.get('deductible_remaining_cents'))}, out of pocket left "
                     f"{_money(change.get('out_of_pocket_remaining_cents'))}"
                     if change["change"] == "active" else "")
                  + (f": {change['reason']}" if change.get("reason") else ""))
        else:
            print(f"  claim {change['claim_id']}: {change['statuses']} -> {change['change']} "
                  f"({change['state']})")
    for item in result.unmatched:
        print(f"  unmatched {item.get('trace') or item.get('claim_id') or '?'}: "
              f"{item['reason']}")
    for item in result.reordered:
        print(f"  coverage order of {item['account_no']}: {', '.join(item['order'])} "
              f"({item['reason']})")
    for item in result.unchanged:
        print(f"  unchanged {item.get('trace') or item.get('claim_id')}: {item['reason']}")
    for note in result.notes:
        print(f"  note: {note}")


def _sandbox_answer(args: argparse.Namespace, context: Context) -> int:
    data = _read(args.file)
    try:
        answer = answer_270 if args.kind == "270" else answer_276
        content, summary = answer(data, context.ledger, str(args.file))
    except (InquirySandboxError, X12SyntaxError, X12WriteError) as error:
        raise CliError(str(error)) from None
    _write_checked(args.out, content)
    if args.json:
        emit_json({"file": str(args.out), "answers": summary, "validation": "OK"})
    else:
        print(f"answered {len(summary)} {'eligibility' if args.kind == '270' else 'status'} "
              f"question(s); wrote {args.out} (pyx12 OK)")
        for item in summary:
            print(f"  {item['trace']}: {item.get('answer') or item.get('status')}")
    return 0
