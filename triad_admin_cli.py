"""`triad user ...` and `triad privacy ...`: accounts, and people's data (export, erase, consent, retention).

The CLI runs with the rights of whoever can open the store file (an operator on the server); what it does
is written to the audit log as ``cli:<OS user>``.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys

from rich.console import Console
from rich.table import Table

from models import auth, people
from models.store import get_store, resolve_db_path

console = Console(stderr=True)
out = Console()


def _who() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _read_password(args: argparse.Namespace, *, confirm: bool = True) -> str:
    if getattr(args, "password_stdin", False):
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        raise auth.AuthError("No terminal to ask for the password: pass it on stdin with --password-stdin.")
    first = getpass.getpass("Password: ")
    if confirm and getpass.getpass("Repeat: ") != first:
        raise auth.AuthError("The two passwords differ.")
    return first


def _brand_ids(cur, names: list[str] | None) -> list[int]:  # noqa: ANN001 - DuckDB cursor
    ids: list[int] = []
    for name in names or []:
        row = cur.execute(
            "SELECT brand_id FROM brands WHERE lower(name) = lower(?) OR CAST(brand_id AS VARCHAR) = ?",
            [name, name],
        ).fetchone()
        if row is None:
            raise auth.AuthError(f"There is no brand {name!r}.")
        ids.append(int(row[0]))
    return ids


# -- users ----------------------------------------------------------------------------------------------------
def cmd_user_add(args: argparse.Namespace) -> int:
    password = None if args.no_password else _read_password(args)
    store = get_store(args.db)
    with store.transaction() as cur:
        user = auth.add_user(
            cur,
            args.username,
            role=args.role,
            password=password,
            brand_ids=_brand_ids(cur, args.brand),
            display_name=args.display_name,
            email=args.email,
            by=_who(),
        )
    console.print(f"Added {user.username} ({auth.ROLE_LABELS[user.role]}).")
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    store = get_store(args.db)
    with store.connect() as cur:
        users = auth.list_users(cur)
        names = dict(cur.execute("SELECT brand_id, name FROM brands").fetchall())
    if args.json:
        out.print_json(
            json.dumps(
                [
                    {
                        "username": u.username,
                        "role": u.role,
                        "brands": [names.get(b, b) for b in u.brand_ids],
                        "email": u.email,
                        "disabled": u.disabled,
                        "locked_until": u.locked_until,
                        "has_password": u.has_password,
                        "last_login_at": u.last_login_at,
                    }
                    for u in users
                ],
                default=str,
            )
        )
        return 0
    table = Table("user", "role", "brands", "e-mail", "status", "last sign-in")
    for u in users:
        status = "disabled" if u.disabled else ("locked" if u.locked_until else "active")
        if not u.has_password and not u.email:
            status += ", no password"
        table.add_row(
            u.username,
            auth.ROLE_LABELS[u.role],
            ", ".join(str(names.get(b, b)) for b in u.brand_ids) or "all",
            u.email or "",
            status,
            str(u.last_login_at or "never")[:16],
        )
    out.print(table)
    return 0


def _simple(action: str):  # noqa: ANN202 - returns a command function
    def command(args: argparse.Namespace) -> int:
        store = get_store(args.db)
        with store.transaction() as cur:
            if action == "disable":
                auth.set_disabled(cur, args.username, True, by=_who())
            elif action == "enable":
                auth.set_disabled(cur, args.username, False, by=_who())
            elif action == "unlock":
                auth.unlock(cur, args.username, by=_who())
        console.print(f"{args.username}: {action}d." if action != "unlock" else f"{args.username}: unlocked.")
        return 0

    return command


def cmd_user_set_password(args: argparse.Namespace) -> int:
    password = _read_password(args)
    store = get_store(args.db)
    with store.transaction() as cur:
        auth.set_password(cur, args.username, password, by=_who())
    console.print(f"New password set for {args.username} (any lockout cleared).")
    return 0


def cmd_user_set_role(args: argparse.Namespace) -> int:
    store = get_store(args.db)
    with store.transaction() as cur:
        auth.set_role(cur, args.username, args.role, _brand_ids(cur, args.brand), by=_who())
    console.print(f"{args.username} is now {auth.ROLE_LABELS[args.role]}.")
    return 0


# -- privacy --------------------------------------------------------------------------------------------------
def _subject(args: argparse.Namespace, store) -> tuple[str, object]:  # noqa: ANN001
    if args.influencer:
        with store.connect() as cur:
            return "influencer", people.find_influencer(cur, args.influencer)
    if args.email:
        return "customer", args.email
    raise people.PeopleError("Say whose data: --influencer ID|NAME or --email ADDRESS.")


def cmd_privacy_export(args: argparse.Namespace) -> int:
    store = get_store(args.db)
    kind, who = _subject(args, store)
    export = (
        people.export_influencer(store, who) if kind == "influencer" else people.export_customer(store, who)
    )
    files = export.write(args.out)
    with store.transaction() as cur:
        from models.audit import record_change

        record_change(
            cur,
            username=_who(),
            action="export",
            table="influencers" if kind == "influencer" else "customers",
            row_key=who if kind == "influencer" else None,
            new={"rows": export.row_count, "tables": sorted(export.tables)},
        )
    console.print(
        f"Exported {export.row_count:,} rows about {export.subject} to {len(files)} files in {args.out}."
    )
    return 0


def cmd_privacy_erase(args: argparse.Namespace) -> int:
    store = get_store(args.db)
    kind, who = _subject(args, store)
    if not args.yes:
        if not sys.stdin.isatty():
            console.print("[red]Erasing cannot be undone: add --yes to confirm.[/]")
            return 2
        if input(f"Erase this {kind} for good? Type 'erase' to confirm: ").strip() != "erase":
            console.print("Nothing erased.")
            return 1
    result = (
        people.erase_influencer(store, who, by=_who())
        if kind == "influencer"
        else people.erase_customer(store, who, by=_who())
    )
    detail = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in result.counts.items())
    console.print(f"Erased {result.subject}: {detail}.")
    return 0


def cmd_privacy_purge(args: argparse.Namespace) -> int:
    counts = people.purge_expired(get_store(args.db), by=_who())
    console.print(
        f"Retention applied: {counts['sync_run_details']:,} sync payloads and "
        f"{counts['interaction_texts']:,} interaction texts removed."
    )
    return 0


def cmd_privacy_consent(args: argparse.Namespace) -> int:
    store = get_store(args.db)
    with store.transaction() as cur:
        influencer_id = people.find_influencer(cur, args.influencer)
        if args.purpose:
            people.record_consent(
                cur,
                influencer_id,
                args.purpose,
                granted=not args.withdrawn,
                source=args.source,
                evidence=args.evidence,
                by=_who(),
            )
        ledger = people.consent_ledger(cur, influencer_id)
    table = Table("when", "purpose", "answer", "source", "evidence", "by")
    for row in ledger.iter_rows(named=True):
        table.add_row(
            str(row["recorded_at"])[:16],
            row["purpose"],
            "granted" if row["granted"] else "withdrawn",
            row["source"],
            row["evidence"] or "",
            row["recorded_by"] or "",
        )
    out.print(table)
    return 0


def register(sub: argparse._SubParsersAction, db_help: str) -> None:
    user = sub.add_parser("user", help="dashboard accounts: add, list, disable, passwords, roles")
    users = user.add_subparsers(dest="user_command", required=True)

    add = users.add_parser("add", help="add a user (asks for the password, or --password-stdin)")
    add.add_argument("username")
    add.add_argument("--role", choices=auth.ROLES, required=True)
    add.add_argument(
        "--brand", action="append", help="a brand viewer's brand (name or id); repeat for several"
    )
    add.add_argument("--email", help="e-mail, for single sign-on (st.login) identities")
    add.add_argument("--display-name")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.add_argument("--no-password", action="store_true", help="single sign-on only")
    add.set_defaults(func=cmd_user_add)

    listing = users.add_parser("list", help="every user, role, brands and status")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_user_list)

    for action, text in (
        ("disable", "stop a user from signing in (signed-in sessions end at their next click)"),
        ("enable", "let a disabled user sign in again"),
        ("unlock", "clear a lockout after too many wrong passwords"),
    ):
        p = users.add_parser(action, help=text)
        p.add_argument("username")
        p.set_defaults(func=_simple(action))

    pw = users.add_parser("set-password", help="set a user's password (asks, or --password-stdin)")
    pw.add_argument("username")
    pw.add_argument("--password-stdin", action="store_true")
    pw.set_defaults(func=cmd_user_set_password)

    role = users.add_parser("set-role", help="change a user's role (and a brand viewer's brands)")
    role.add_argument("username")
    role.add_argument("role", choices=auth.ROLES)
    role.add_argument("--brand", action="append")
    role.set_defaults(func=cmd_user_set_role)

    for p in (add, listing, pw, role, *(users.choices[a] for a in ("disable", "enable", "unlock"))):
        p.add_argument("--db", help=db_help)

    privacy = sub.add_parser("privacy", help="people's data: export, erase, consent ledger, retention")
    priv = privacy.add_subparsers(dest="privacy_command", required=True)
    exp = priv.add_parser("export", help="everything about one person, as person.json and CSV files")
    era = priv.add_parser("erase", help="erase one person (customer: orders stay as anonymous facts)")
    for p in (exp, era):
        who = p.add_mutually_exclusive_group(required=True)
        who.add_argument("--influencer", help="id, name or account handle")
        who.add_argument("--email", help="a customer's e-mail (matched through the workspace's keyed hash)")
        p.add_argument("--db", help=db_help)
    exp.add_argument("--out", required=True, help="folder to write into")
    exp.set_defaults(func=cmd_privacy_export)
    era.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    era.set_defaults(func=cmd_privacy_erase)

    purge = priv.add_parser("purge", help="apply the retention settings now")
    purge.add_argument("--db", help=db_help)
    purge.set_defaults(func=cmd_privacy_purge)

    consent = priv.add_parser(
        "consent", help="show an influencer's consent ledger, or record a grant/withdrawal"
    )
    consent.add_argument("--influencer", required=True)
    consent.add_argument("--purpose", choices=people.CONSENT_PURPOSES)
    consent.add_argument("--withdrawn", action="store_true", help="record a withdrawal (default: a grant)")
    consent.add_argument("--source", choices=people.CONSENT_SOURCES, default="email")
    consent.add_argument("--evidence", help="contract number, message id, URL …")
    consent.add_argument("--db", help=db_help)
    consent.set_defaults(func=cmd_privacy_consent)


def set_demo_admin_password(db: str | os.PathLike[str] | None, username: str = "admin") -> tuple[str, bool]:
    """Give the demo's admin a password: $TRIAD_ADMIN_PASSWORD, else a random one. Returns (password, from_env)."""
    from_env = os.environ.get("TRIAD_ADMIN_PASSWORD")
    password = from_env or auth.generate_password()
    store = get_store(resolve_db_path(db))
    with store.transaction() as cur:
        auth.set_password(cur, username, password, by="triad")
    return password, bool(from_env)


def ensure_an_admin_can_sign_in(db: str | os.PathLike[str], console: Console) -> None:
    """A store made before sign-in existed (or whose admins all lost their passwords) gets one admin password.

    Only when no enabled admin has a password or a single sign-on e-mail: the password is printed once.
    """
    store = get_store(resolve_db_path(db))
    with store.connect() as cur:
        admins = [u for u in auth.list_users(cur) if u.role == "admin" and not u.disabled]
    if not admins or any(u.has_password or u.email for u in admins):
        return  # fine as it is, or an empty workspace (the dashboard asks for its first admin)
    password, from_env = set_demo_admin_password(db, username=admins[0].username)
    if from_env:
        console.print(f"Sign in as [bold]{admins[0].username}[/] with the password in $TRIAD_ADMIN_PASSWORD.")
    else:
        console.print(
            f"No admin of this workspace had a password: sign in as [bold]{admins[0].username}[/] with "
            f"[bold]{password}[/] (shown only now; change it with `triad user set-password`)."
        )
