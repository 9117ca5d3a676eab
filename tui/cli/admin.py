"""`claimdesk init | users | audit | period | settings | backup | keygen`: running the office."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tui.cli.context import CliError, Context, emit_json, parse_date


def register(subparsers: Any) -> None:
    init = subparsers.add_parser("init", help="create a ledger with its first admin")
    init.add_argument("--admin", help="the admin's user name (default: your OS login)")
    init.add_argument("--json", action="store_true")
    init.set_defaults(handler=_init)

    users = subparsers.add_parser("users", help="ledger users and their roles")
    sub = users.add_subparsers(dest="users_command", metavar="SUBCOMMAND")
    listing = sub.add_parser("list", help="every user and role")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_users_list)
    add = sub.add_parser("add", help="add a user (admin)")
    add.add_argument("name")
    add.add_argument("--role", required=True,
                     choices=["registrar", "biller", "supervisor", "auditor", "admin"])
    add.add_argument("--full-name", default="")
    add.set_defaults(handler=_users_add)
    role = sub.add_parser("role", help="change a user's role (admin)")
    role.add_argument("name")
    role.add_argument("role", choices=["registrar", "biller", "supervisor", "auditor", "admin"])
    role.set_defaults(handler=_users_role)
    disable = sub.add_parser("disable", help="disable a user (admin)")
    disable.add_argument("name")
    disable.add_argument("--reason", default="")
    disable.set_defaults(handler=_users_disable)

    audit = subparsers.add_parser("audit", help="the PHI access log")
    audit_sub = audit.add_subparsers(dest="audit_command", metavar="SUBCOMMAND")
    log = audit_sub.add_parser("log", help="who read which account, when")
    log.add_argument("--user")
    log.add_argument("--since", type=parse_date, metavar="DATE")
    log.add_argument("--json", action="store_true")
    log.set_defaults(handler=_audit_log)

    period = subparsers.add_parser("period", help="closing accounting periods")
    period_sub = period.add_subparsers(dest="period_command", metavar="SUBCOMMAND")
    close = period_sub.add_parser("close", help="close a month (supervisor)")
    close.add_argument("month", metavar="YYYY-MM")
    close.add_argument("--json", action="store_true")
    close.set_defaults(handler=_period_close)

    settings = subparsers.add_parser("settings", help="office thresholds")
    settings_sub = settings.add_subparsers(dest="settings_command", metavar="SUBCOMMAND")
    setting = settings_sub.add_parser("set", help="change a threshold (admin)")
    setting.add_argument("name")
    setting.add_argument("value", type=int)
    setting.set_defaults(handler=_settings_set)

    backup = subparsers.add_parser("backup", help="a consistent copy of a SQLite ledger")
    backup.add_argument("file", type=Path)
    backup.add_argument("--json", action="store_true")
    backup.set_defaults(handler=_backup)

    keygen = subparsers.add_parser(
        "keygen", help="print a new AES key for CLAIMDESK_CIPHER_KEY (encryption at rest)")
    keygen.set_defaults(handler=_keygen)


def _init(args: argparse.Namespace, context: Context) -> int:
    ledger = context.ledger
    admin = args.admin or ledger.login
    ledger.initialize(admin)
    if args.json:
        emit_json({"admin": admin, "events": ledger.events_count()})
    else:
        print(f"ledger ready; {admin} is its admin. Add users with `claimdesk users add`.")
    return 0


def _users_list(args: argparse.Namespace, context: Context) -> int:
    users = context.ledger.users()
    if args.json:
        emit_json({"users": users})
    else:
        for user in users:
            flag = " (disabled)" if user["disabled"] else ""
            print(f"{user['name']:<20} {user['role']:<12} {user['full_name']}{flag}")
    return 0


def _users_add(args: argparse.Namespace, context: Context) -> int:
    context.ledger.add_user(args.name, args.role, args.full_name)
    return 0


def _users_role(args: argparse.Namespace, context: Context) -> int:
    context.ledger.change_role(args.name, args.role)
    return 0


def _users_disable(args: argparse.Namespace, context: Context) -> int:
    context.ledger.disable_user(args.name, args.reason)
    return 0


def _audit_log(args: argparse.Namespace, context: Context) -> int:
    rows = context.ledger.audit_log(user=args.user, since=args.since)
    if args.json:
        emit_json({"entries": rows})
    else:
        for row in rows:
            print(f"{row['at']:%Y-%m-%d %H:%M:%S} {row['user']:<12} {row['action']:<16} "
                  f"{row['subject']} ({row['terminal']})")
    return 0


def _period_close(args: argparse.Namespace, context: Context) -> int:
    through = context.ledger.close_period(args.month)
    if args.json:
        emit_json({"period": args.month, "closed_through": through})
    else:
        print(f"closed through {through}")
    return 0


def _settings_set(args: argparse.Namespace, context: Context) -> int:
    context.ledger.change_setting(args.name, args.value)
    return 0


def _backup(args: argparse.Namespace, context: Context) -> int:
    from projections.store_backup import backup_sqlite  # noqa: PLC0415

    store = context.ledger.store
    if store.is_postgres:
        raise CliError("backup copies SQLite ledgers; for PostgreSQL use pg_dump", 2)
    try:
        size = backup_sqlite(store.sqlite_path, args.file)
    except (FileExistsError, OSError) as error:
        raise CliError(str(error)) from None
    if args.json:
        emit_json({"file": str(args.file), "bytes": size})
    else:
        print(f"backed up to {args.file} ({size} bytes)")
    return 0


def _keygen(args: argparse.Namespace, context: Context) -> int:
    from domain.storage import new_cipher_key  # noqa: PLC0415

    print(new_cipher_key())
    return 0
