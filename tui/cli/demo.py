"""`claimdesk demo`: seed an empty ledger with a year of a realistic practice."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import Any

from domain import clock
from domain.application import BillingLedger
from domain.storage import opening, resolve_store
from importers.demo_practice import build_demo
from tui.cli.context import CliError, Context, emit_json, parse_date

# The demo replays each aggregate many times a day; a cache of them halves its run time.
DEMO_CACHE_SIZE = "20000"


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("the demo needs at least one patient")
    return value


def _through(text: str) -> date:
    """The last day to play; one after today is the demo's to refuse ("in the future"),
    which says more than the range of dates parse_date accepts."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    return day if day is not None and day > clock.today() else parse_date(text)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo", help="seed an empty ledger with a year of a demo practice",
        description="Build a realistic primary-care practice through the same application "
                    "service as real use: providers, payers, plans and contracts, patients "
                    "with their coverage, twelve months of visits, claims, 835 postings "
                    "(denials, a reversal, corrected claims), statements, payments, a "
                    "payment plan, a refund and collection referrals. The same --seed gives "
                    "the same practice. Events are recorded as the demo users registrar, "
                    "biller and supervisor. Refuses a ledger that already has events.")
    parser.add_argument("--patients", type=_positive, default=200, metavar="N",
                        help="how many patients (default 200)")
    parser.add_argument("--seed", type=int, default=0, metavar="S",
                        help="random seed: the same seed builds the same practice (default 0)")
    parser.add_argument("--through", type=_through, metavar="YYYY-MM-DD",
                        help="the last simulated day (default today); history starts a year "
                             "before")
    parser.add_argument("--json", action="store_true",
                        help='print {"patients": N, "claims": N, "events": N}')
    parser.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace, context: Context) -> int:
    today = clock.today()
    through = args.through or today
    if through > today:
        raise CliError(f"--through {through} is in the future; the demo only plays past days")
    store = resolve_store(context.db)
    with opening(store):
        ledger = BillingLedger(env={**store.event_store_env(),
                                    "AGGREGATE_CACHE_MAXSIZE": DEMO_CACHE_SIZE},
                               seed=args.seed)
    try:
        existing = ledger.events_count()
        if existing:
            raise CliError(
                f"{store.url} already holds {existing} events; the demo only seeds an empty "
                "ledger (point --db at a new file)")
        if not args.json:
            print(f"building a demo practice of {args.patients} patients through {through} "
                  f"in {store.url} ...", file=sys.stderr)
        counts = build_demo(ledger, patients=args.patients, seed=args.seed, through=through)
    finally:
        ledger.close()
    if args.json:
        emit_json(counts)
    else:
        print(f"demo practice ready: {counts['patients']} patients, {counts['claims']} "
              f"claims, {counts['events']} events (seed {args.seed}, through {through}).")
        print(f"Try: claimdesk --db {store.url} account list")
    return 0
