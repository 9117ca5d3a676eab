"""`claimdesk sandbox adjudicate FILE.837 --out FILE.835`: a payer to train and test against."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from domain.money import Cents, format_usd
from importers.sandbox import LedgerBook, SandboxError, adjudicate_file
from importers.x12.segments import X12SyntaxError, decode
from importers.x12.writer import validate
from tui.cli.context import CliError, Context, emit_json, parse_date
from tui.cli.output import check_writable, write_file


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sandbox", help="a deterministic payer: adjudicate our 837P, answer with an 835")
    sub = parser.add_subparsers(dest="sandbox_command", metavar="SUBCOMMAND")
    adjudicate = sub.add_parser(
        "adjudicate", help="price an 837P by the ledger's fee schedules and write the 835")
    adjudicate.add_argument("file", type=Path, metavar="FILE.837")
    adjudicate.add_argument("--out", required=True, type=Path, metavar="FILE.835")
    adjudicate.add_argument("--denial-rate", type=float, default=0.0, metavar="R",
                            help="share of claims to deny, 0 to 1 (default 0)")
    adjudicate.add_argument("--seed", type=int, default=0, metavar="S",
                            help="which claims are denied, and how (default 0)")
    adjudicate.add_argument("--paid-on", type=parse_date, metavar="DATE",
                            help="payment date (default: the 837's creation date)")
    adjudicate.add_argument("--json", action="store_true")
    adjudicate.set_defaults(handler=_adjudicate)


def _adjudicate(args: argparse.Namespace, context: Context) -> int:
    check_writable(args.out)
    try:
        data = args.file.read_bytes()
    except OSError as error:
        raise CliError(f"cannot read {args.file}: {error.strerror}") from None
    try:
        text, claims = adjudicate_file(
            decode(data, str(args.file)), LedgerBook(context.ledger),
            denial_rate=args.denial_rate, seed=args.seed, paid_on=args.paid_on,
            name=str(args.file))
    except (SandboxError, X12SyntaxError) as error:
        raise CliError(str(error)) from None
    tmp = args.out.with_name(f".{args.out.name}.{os.getpid()}.tmp")
    try:
        write_file(tmp, text)
        result = validate(tmp)
        if not result.ok:
            raise CliError(f"the sandbox wrote an 835 pyx12 refuses (a sandbox bug): "
                           f"{result.summary()}", 1)
        os.replace(tmp, args.out)
    finally:
        tmp.unlink(missing_ok=True)
    paid = sum(c.paid_cents for c in claims)
    denied = [c.claim.claim_id for c in claims
              if c.status != "22" and any(a.group == "CO" and a.carc != "45"
                                          for line in c.lines for a in line.adjustments)]
    if args.json:
        emit_json({"file": str(args.out), "claims": len(claims), "paid_cents": paid,
                   "denied": denied, "reversals": sum(1 for c in claims if c.status == "22"),
                   "validation": "OK"})
    else:
        print(f"adjudicated {len(claims)} claims; paid {format_usd(Cents(paid))}; "
              f"denied {len(denied)}; wrote {args.out} (pyx12 OK)")
    return 0
