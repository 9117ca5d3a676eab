"""`claimdesk account list | show | history`: patient accounts from the read models."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from domain.money import Cents, format_usd
from domain.text import written_out
from tui.cli.context import Context, emit_json, parse_date, parse_datetime


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("account", help="patient accounts and their balances")
    sub = parser.add_subparsers(dest="account_command", metavar="SUBCOMMAND")

    listing = sub.add_parser("list", help="accounts with their balances")
    listing.add_argument("--search", default="", metavar="TEXT",
                         help="account number prefix or part of the name")
    listing.add_argument("--limit", type=int, metavar="N", help="at most N accounts")
    listing.add_argument("--json", action="store_true",
                         help='print {"accounts": [...]} with the balances in cents')
    listing.set_defaults(handler=_list)

    show = sub.add_parser("show", help="one account: coverage, balances, visits, claims")
    show.add_argument("account_no", metavar="ID")
    _add_when(show)
    show.add_argument("--json", action="store_true",
                      help="print the account; balance_cents = insurance_cents + "
                           "patient_cents + agency_cents")
    show.set_defaults(handler=_show)

    history = sub.add_parser("history", help="every event of an account, with running balance")
    history.add_argument("account_no", metavar="ID")
    _add_when(history)
    history.add_argument("--json", action="store_true",
                         help='print {"account_no": ID, "events": [...]}: type, '
                              "effective_date, recorded_at, actor, amount_cents, balance_cents")
    history.set_defaults(handler=_history)


def _add_when(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as-of", type=parse_date, metavar="DATE",
                        help="as the books stood on this business date (YYYY-MM-DD)")
    parser.add_argument("--known-at", type=parse_datetime, metavar="TIME",
                        help="leave out what was recorded after this instant")


def _money(cents: Cents | int) -> str:
    return format_usd(Cents(cents))


def _text(value: Any) -> str:
    """A value for a plain-text line; text from the ledger (names, addresses, reasons) with
    its control characters written out, so an ESC in a name cannot drive the terminal."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return written_out(value)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]],
                right: Sequence[str] = ()) -> None:
    """A plain table: columns as wide as their widest cell, money right-aligned."""
    cells = [[_text(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if h in right else v.ljust(w)
                         for v, w, h in zip(values, widths, headers, strict=True)).rstrip()

    print(line(headers))
    print(line(["-" * w for w in widths]))
    for row in cells:
        print(line(row))


# -- handlers ----------------------------------------------------------------------------------
def _list(args: argparse.Namespace, context: Context) -> int:
    accounts = context.queries.accounts(search=args.search, limit=args.limit)
    context.ledger.record_access("account list", args.search or "all accounts")
    if args.json:
        emit_json({"accounts": accounts})
        return 0
    money = ("BALANCE", "INSURANCE", "PATIENT", "AGENCY")
    print_table(
        ("ACCOUNT", "NAME", "BORN", "GUARANTOR", *money),
        [(a["account_no"], a["name"], a["birth_date"],
          "" if a["guarantor_account_no"] == a["account_no"] else a["guarantor_account_no"],
          *(_money(a[k]) for k in ("balance_cents", "insurance_cents", "patient_cents",
                                   "agency_cents")))
         for a in accounts], right=money)
    print(f"{len(accounts)} accounts")
    return 0


def _show(args: argparse.Namespace, context: Context) -> int:
    account = context.queries.account(args.account_no, as_of=args.as_of,
                                      known_at=args.known_at)
    context.ledger.record_access("account show", args.account_no)
    if args.json:
        emit_json(account)
        return 0
    _print_account(account)
    return 0


def _print_account(a: dict[str, Any]) -> None:
    when = "".join([f" as of {a['as_of']}" if a["as_of"] else "",
                    f", known at {_text(a['known_at'])}" if a["known_at"] else ""])
    print(f"{_text(a['name'])}  account {_text(a['account_no'])}{when}")
    address = a["address"] or {}
    place = " ".join(_text(v) for v in (address.get("line1"), address.get("line2"),
                                        address.get("city"), address.get("state"),
                                        address.get("zip")) if v)
    print(f"  born {_text(a['birth_date'])}  sex {_text(a['sex'])}  {place}  "
          f"{_text(a['phone'])}".rstrip())
    if a["guarantor_account_no"] != a["account_no"]:
        print(f"  guarantor {_text(a['guarantor_account_no'])} "
              f"(relationship {_text(a['guarantor_relationship'])})")
    if a["dependents"]:
        print(f"  guarantor of {', '.join(map(_text, a['dependents']))}")
    print()
    print(f"Balance {_money(a['balance_cents'])}: insurance {_money(a['insurance_cents'])}, "
          f"patient {_money(a['patient_cents'])}, agency {_money(a['agency_cents'])}"
          + (f"; credit {_money(a['credit_cents'])}" if a["credit_cents"] else ""))
    for party, cents in a["by_party"].items():
        print(f"  {_text(party):<10} {_money(cents):>12}")
    if a["coverage"]:
        print("\nCoverage")
        print_table(("PAYER", "PLAN", "MEMBER", "GROUP", "FROM", "UNTIL"),
                    [(p["payer_name"] or p["payer_id"], p["plan_name"] or p["plan_id"],
                      p["member_id"], p["group_number"], p["effective_on"],
                      p["terminated_on"] or p["terminates_on"]) for p in a["coverage"]])
    if a["encounters"]:
        print("\nVisits")
        rows = []
        for e in a["encounters"]:
            for line in e["lines"]:
                rows.append((e["service_date"], e["encounter_id"], line["code"],
                             ":".join(line["modifiers"]), line["description"][:34],
                             _money(line["charge_cents"]), _money(line["balance_cents"]),
                             "reversed" if line["reversed"] else ""))
        print_table(("DOS", "VISIT", "CODE", "MOD", "DESCRIPTION", "CHARGE", "BALANCE", ""),
                    rows, right=("CHARGE", "BALANCE"))
    if a["claims"]:
        print("\nClaims")
        print_table(("CLAIM", "PAYER", "ORDER", "DOS", "STATE", "OUTCOME", "CHARGE", "PAID",
                     "DENIALS"),
                    [(c["claim_id"], c["payer_name"] or c["payer_id"], c["coverage_order"],
                      c["service_date"], c["state"], c["outcome"] or "",
                      _money(c["charge_cents"]), _money(c["paid_cents"]),
                      c["open_denials"] or "") for c in a["claims"]],
                    right=("CHARGE", "PAID"))
    if a["statements"]:
        print("\nStatements")
        print_table(("STATEMENT", "ISSUED", "LEVEL", "AMOUNT", "DUE"),
                    [(s["statement_id"], s["issued_on"], s["dunning_level"],
                      _money(s["balance_cents"]), s["due_on"]) for s in a["statements"]],
                    right=("AMOUNT",))
    for label, row in (("Payment plan", a["payment_plan"]), ("Collections", a["referral"])):
        if row:
            print(f"\n{label}: " + ", ".join(f"{k} {_text(v)}" for k, v in row.items()
                                              if not isinstance(v, (list, dict))))


def _history(args: argparse.Namespace, context: Context) -> int:
    events = context.queries.account_history(args.account_no, as_of=args.as_of,
                                             known_at=args.known_at)
    context.ledger.record_access("account history", args.account_no)
    if args.json:
        emit_json({"account_no": args.account_no, "as_of": args.as_of,
                   "known_at": args.known_at, "events": events})
        return 0
    print_table(
        ("#", "EFFECTIVE", "RECORDED", "ACTOR", "EVENT", "ON", "AMOUNT", "BALANCE"),
        [(e["position"], e["effective_date"], e["recorded_at"], e["actor"], e["type"],
          e["claim_id"] or e["line_id"] or e["encounter_id"] or "",
          _money(e["amount_cents"]) if e["amount_cents"] else "", _money(e["balance_cents"]))
         for e in events], right=("#", "AMOUNT", "BALANCE"))
    print(f"{len(events)} events; balance {_money(events[-1]['balance_cents'] if events else 0)}")
    return 0
