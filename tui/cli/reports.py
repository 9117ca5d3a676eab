"""`claimdesk report | queue | verify | projections | statements | collections`: the read side.

Reports and queues answer from the read models (`context.queries`); the statement run and
collection referral select there and act through the ledger, one command per guarantor.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import date
from typing import Any

from domain.errors import BillingError
from domain.money import Cents, format_usd
from tui.cli.context import CliError, Context, emit_json, parse_date, parse_datetime
from tui.clock import default_as_of

BUCKETS = ("0-30", "31-60", "61-90", "91-120", "121+")


def register(subparsers: Any) -> None:
    report = subparsers.add_parser("report", help="A/R aging and KPIs")
    reports = report.add_subparsers(dest="report_command", metavar="REPORT")
    aging = reports.add_parser("aging", help="A/R aging by bucket, insurance vs patient")
    _as_of(aging)
    aging.add_argument("--known-at", type=parse_datetime, metavar="DATETIME",
                       help="only what had been recorded by this instant")
    aging.add_argument("--basis", choices=("dos", "billed", "statement"), default="dos",
                       help="age from the date of service (default), first billing, or "
                            "first statement")
    aging.add_argument("--by", choices=("payer", "plan"), help="also split by payer or plan")
    _json(aging)
    aging.set_defaults(handler=_aging)
    kpis = reports.add_parser("kpis", help="days in A/R, denial and collection rates, SLAs")
    _as_of(kpis)
    kpis.add_argument("--period-days", type=_positive, default=90, metavar="N",
                      help="the trailing period (default 90 days)")
    _json(kpis)
    kpis.set_defaults(handler=_kpis)

    queue = subparsers.add_parser("queue", help="a work queue (see --list)")
    queue.add_argument("name", nargs="?", metavar="NAME")
    queue.add_argument("--list", action="store_true", help="the queues there are")
    _as_of(queue)
    queue.add_argument("--sort", metavar="FIELD",
                       help="sort by one of the rows' fields (default: the queue's own order); "
                            "descending with --desc, or written --sort=-FIELD")
    queue.add_argument("--desc", action="store_true",
                       help="the other way round: --sort FIELD --desc sorts descending")
    queue.add_argument("--search", metavar="TEXT", help="rows mentioning TEXT")
    queue.add_argument("--limit", type=_whole, metavar="N")
    queue.add_argument("--offset", type=_whole, default=0, metavar="N")
    _json(queue)
    queue.set_defaults(handler=_queue)

    verify = subparsers.add_parser(
        "verify", help="rebuild the read models from the events and compare; check the chain")
    _json(verify)
    verify.set_defaults(handler=_verify)

    projections = subparsers.add_parser("projections", help="the read models")
    sub = projections.add_subparsers(dest="projections_command", metavar="SUBCOMMAND")
    rebuild = sub.add_parser("rebuild", help="drop every read model and rebuild it")
    _json(rebuild)
    rebuild.set_defaults(handler=_rebuild)

    statements = subparsers.add_parser("statements", help="patient statements")
    sub = statements.add_subparsers(dest="statements_command", metavar="SUBCOMMAND")
    run = sub.add_parser("run", help="issue this cycle's statements")
    _as_of(run)
    run.add_argument("--all-cycles", action="store_true",
                     help="every guarantor due a statement, not only this week's cycle")
    run.add_argument("--dry-run", action="store_true", help="select, issue nothing")
    _json(run)
    run.set_defaults(handler=_statements_run)

    collections = subparsers.add_parser("collections", help="collection agency referrals")
    sub = collections.add_subparsers(dest="collections_command", metavar="SUBCOMMAND")
    candidates = sub.add_parser("candidates", help="accounts the referral rule allows")
    _as_of(candidates)
    _json(candidates)
    candidates.set_defaults(handler=_candidates)
    refer = sub.add_parser("refer", help="refer an account (bad-debt write-off at referral)")
    refer.add_argument("account_no", metavar="ACCOUNT")
    refer.add_argument("--agency", required=True, metavar="NAME")
    refer.add_argument("--approved-by", metavar="NAME",
                       help="the approving supervisor (default: you)")
    _as_of(refer)
    _json(refer)
    refer.set_defaults(handler=_refer)


def _positive(text: str) -> int:
    return _whole(text, least=1)


def _whole(text: str, least: int = 0) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number of at least {least}")
    return value


def _as_of(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as-of", type=parse_date, metavar="DATE",
                        help="business date (YYYY-MM-DD; default today)")


def _json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")


def _usd(cents: int | None) -> str:
    return "" if cents is None else format_usd(Cents(int(cents)))


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    for row in (list(headers), ["-" * w for w in widths], *cells):
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def _access(context: Context, action: str, subject: str) -> None:
    """Lists that name patients are PHI reads: log them where the ledger keeps an audit log."""
    record = getattr(context.ledger, "record_access", None)
    if callable(record):
        record(action, subject)


# -- reports --------------------------------------------------------------------------------------
def _aging(args: argparse.Namespace, context: Context) -> int:
    as_of = args.as_of or default_as_of()
    report = context.queries.aging(as_of, known_at=args.known_at, basis=args.basis, by=args.by)
    if args.json:
        emit_json(report)
        return 0
    known = f", known at {args.known_at.isoformat()}" if args.known_at else ""
    print(f"A/R aging as of {as_of}{known} (basis {args.basis})")
    _table(("BUCKET", "INSURANCE", "PATIENT", "AGENCY"),
           [(b, _usd(v["insurance_cents"]), _usd(v["patient_cents"]), _usd(v["agency_cents"]))
            for b, v in report["buckets"].items()])
    print(f"total {_usd(report['total_cents'])}; credit balances (apart) "
          f"{_usd(report['credit_cents'])}")
    if report["by"]:
        print()
        _table((args.by.upper(), "TOTAL", *BUCKETS, "CREDIT"),
               [(g[f"{args.by}_id"], _usd(g["total_cents"]),
                 *(_usd(sum(g["buckets"][b].values())) for b in BUCKETS),
                 _usd(g["credit_cents"])) for g in report["by"]])
    return 0


def _kpis(args: argparse.Namespace, context: Context) -> int:
    figures = context.queries.kpis(args.as_of or default_as_of(), args.period_days)
    if args.json:
        emit_json(figures)
        return 0
    for name, value in figures.items():
        if isinstance(value, dict):
            for inner, v in value.items():
                print(f"{name}.{inner}: {'' if v is None else v}")
        else:
            shown = _usd(value) if name.endswith("_cents") else value
            print(f"{name}: {'' if shown is None else shown}")
    return 0


def _queue(args: argparse.Namespace, context: Context) -> int:
    queries = context.queries
    if args.list or not args.name:
        titles = queries.queue_titles()
        if args.json:
            emit_json({"queues": titles})
        else:
            for q in titles:
                print(f"{q['name']:<16} {q['title']}")
        return 0
    answer = queries.queue(args.name, as_of=args.as_of or default_as_of(), limit=args.limit,
                           offset=args.offset, sort=args.sort, descending=args.desc,
                           search=args.search)
    _access(context, "queue", args.name)
    if args.json:
        emit_json(answer)
        return 0
    items = answer["items"]
    print(f"{answer['title']} as of {answer['as_of']}: {answer['count']} rows, "
          f"{_usd(answer['total_cents'])}")
    if items:
        columns = [k for k, v in items[0].items() if not isinstance(v, (dict, list))]
        _table([c.upper() for c in columns],
               [[_usd(r[c]) if c.endswith("_cents") else r[c] for c in columns]
                for r in items])
    return 0


# -- verify and rebuild ----------------------------------------------------------------------
def _verify(args: argparse.Namespace, context: Context) -> int:
    from domain.chain_audit import chain_fingerprint  # noqa: PLC0415
    from domain.services.core import chain_break  # noqa: PLC0415 - reads every event

    report = context.queries.verify()
    broken = chain_break(context.ledger)
    document = {**report, "ok": bool(report["ok"]) and broken is None, "chain_break": broken,
                "chain": chain_fingerprint(context.ledger)}
    if args.json:
        emit_json(document)
    else:
        print(f"read models at event {report['position']}: "
              + ("equal to a rebuild from the events" if report["ok"]
                 else f"DIFFER: {report['first_difference']}"))
        print("event hash chain: " + ("intact" if broken is None else
                                      f"BROKEN at event {broken['position']} "
                                      f"({broken['type']}): {broken['reason']}"))
        chain = document["chain"]
        print(f"fingerprint of {chain['streams']} stream heads after {chain['events']} events: "
              f"{chain['fingerprint']} (keep it outside the ledger)")
    return 0 if document["ok"] else 1


def _rebuild(args: argparse.Namespace, context: Context) -> int:
    events = context.queries.rebuild()
    if args.json:
        emit_json({"events": events, "position": context.queries.position()})
    else:
        print(f"rebuilt every read model from {events} events")
    return 0


# -- statements and collections -------------------------------------------------------------------
def _statements_run(args: argparse.Namespace, context: Context) -> int:
    as_of = args.as_of or default_as_of()
    run = context.queries.statement_run(as_of, all_cycles=args.all_cycles)
    _access(context, "statements run", as_of.isoformat())
    issued, failed = [], []
    for candidate in run["candidates"]:
        guarantor = candidate["guarantor_account_no"]
        if args.dry_run:
            continue
        try:
            statement_id = context.ledger.issue_statement(guarantor, issued_on=as_of)
        except BillingError as error:   # one refusal must not stop the run
            failed.append({"guarantor_account_no": guarantor, "reason": str(error)})
            continue
        issued.append({"guarantor_account_no": guarantor, "statement_id": statement_id,
                       "balance_cents": candidate["balance_cents"],
                       "dunning_level": candidate["next_dunning_level"]})
    document = {"as_of": as_of, "cycle": run["cycle"], "dry_run": args.dry_run,
                "candidates": run["candidates"], "issued": issued, "failed": failed,
                "held": run["held"]}
    if args.json:
        emit_json(document)
    else:
        verb = "would issue" if args.dry_run else "issued"
        count = len(run["candidates"]) if args.dry_run else len(issued)
        print(f"statement run {as_of} (cycle {run['cycle'] or 'all'}): {verb} {count}, "
              f"held {len(run['held'])}, failed {len(failed)}")
        for row in failed:
            print(f"  {row['guarantor_account_no']}: {row['reason']}")
    return 1 if failed else 0


def _candidates(args: argparse.Namespace, context: Context) -> int:
    as_of: date = args.as_of or default_as_of()
    rule = _collection_rule(context)
    rows = context.queries.collection_candidates(as_of, rule)
    _access(context, "collections candidates", as_of.isoformat())
    if args.json:
        emit_json({"as_of": as_of, "min_balance_cents": rule.min_balance_cents,
                   "candidates": rows})
        return 0
    _table(("ACCOUNT", "NAME", "BALANCE", "OLDEST", "STATEMENTS", "FINAL NOTICE", "LAST PAID"),
           [(r["guarantor_account_no"], r["name"], _usd(r["balance_cents"]),
             f"{r['oldest_line_days']}d", r["dunning_statements"], r["final_notice_on"],
             r["last_payment_on"] or "") for r in rows])
    print(f"{len(rows)} candidates as of {as_of}")
    return 0


def _collection_rule(context: Context) -> Any:
    from projections.patient_side import CollectionRule  # noqa: PLC0415

    setting = getattr(context.ledger, "setting", None)
    if callable(setting):
        return CollectionRule(min_balance_cents=int(setting("collection_threshold_cents")))
    return CollectionRule()


def _refer(args: argparse.Namespace, context: Context) -> int:
    on = args.as_of or default_as_of()
    referral_id = context.ledger.refer_to_collections(
        args.account_no, args.agency, approved_by=args.approved_by, referred_on=on)
    context.queries.catch_up()
    referral = context.queries.account(args.account_no)["referral"] or {}
    if not referral:
        raise CliError(f"referral {referral_id} is not in the read models yet; run "
                       "`claimdesk projections rebuild`", 1)
    document = {"account_no": args.account_no, "referral_id": referral_id,
                "agency": referral["agency"], "referred_on": referral["referred_on"],
                "referred_cents": referral["referred_cents"],
                "approved_by": referral["approved_by"]}
    if args.json:
        emit_json(document)
    else:
        print(f"referred {args.account_no} to {referral['agency']}: "
              f"{_usd(referral['referred_cents'])} written off to bad debt "
              f"(approved by {referral['approved_by']}); referral {referral_id}")
    return 0
