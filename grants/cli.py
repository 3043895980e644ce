"""Command-line tools: ``flask --app wsgi users …``, ``demo seed``."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from grants.extensions import db, security
from grants.models.associations import Association, Membership
from grants.roles import ROLE_NAMES
from grants.services import accounts as account_service
from grants.services.audit import COMMAND_LINE
from grants.services.errors import DomainError

users = AppGroup("users", help="Create users and API tokens.")
demo = AppGroup("demo", help="The demo programme of the scenario.")
workflows_group = AppGroup("workflows", help="The lifecycles and their transitions.")
search_group = AppGroup("search", help="The staff search's index.")


def _fail(message: str) -> None:
    db.session.rollback()
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def _user_or_fail(email: str):
    user = account_service.find_user(email)
    if user is None:
        _fail(f"no user with the email {email}")
    return user


@users.command("create")
@click.argument("email")
@click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice(ROLE_NAMES),
    required=True,
    help="A role to grant; repeat for several.",
)
@click.option(
    "--association",
    "association_name",
    default=None,
    help="Make the user a member of this existing association.",
)
@click.option("--name", "full_name", default="", help="Full name.")
@click.option(
    "--password-stdin",
    is_flag=True,
    required=True,
    help="Read the password from standard input (first line).",
)
def create_user_command(email, roles, association_name, full_name, password_stdin):
    """Create a confirmed user with the given roles."""
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        _fail("no password on standard input")
    association = None
    if association_name:
        association = db.session.scalar(
            select(Association).where(func.lower(Association.name) == association_name.lower())
        )
        if association is None:
            _fail(f"no association named {association_name!r}")
    try:
        # Flask-Security's validators expect a request (for translated messages).
        with current_app.test_request_context():
            user = account_service.create_user(
                email, password, list(roles), full_name=full_name, note=COMMAND_LINE
            )
        if association is not None:
            db.session.add(Membership(user_id=user.id, association_id=association.id))
        db.session.commit()
    except DomainError as error:
        _fail(error.message)
    click.echo(f"Created {user.email} with roles {', '.join(sorted(user.role_names))}.")


@users.command("token")
@click.argument("email")
@click.option("--name", default="cli", help="What the token is for.")
@click.option("--days", default=90, type=click.IntRange(1, 365), help="Days until it expires.")
def token_command(email, name, days):
    """Print a new API token for EMAIL (last line of the output)."""
    user = _user_or_fail(email)
    token = account_service.issue_token(None, user, name, days, note=COMMAND_LINE)
    db.session.commit()
    click.echo(f"API token for {user.email}, valid {days} days (shown once):")
    click.echo(token)


@users.command("totp")
@click.argument("email")
def totp_command(email):
    """Print the current two-factor code of a demo account (development only)."""
    if current_app.config["PRODUCTION"]:
        _fail("two-factor codes are never printed in production")
    user = _user_or_fail(email)
    if not user.tf_totp_secret:
        _fail(f"{email} has no two-factor secret set up")
    click.echo(security.totp_factory.generate_totp_password(user.tf_totp_secret))


@demo.command("seed")
def seed_command():
    """Load the scenario's programme (idempotent) and print the demo accounts."""
    from grants.services.demo import seed

    accounts = seed()
    db.session.commit()
    width = max(len(account.email) for account in accounts)
    click.echo("\nDemo accounts (password after the email):")
    for account in accounts:
        extra = "  (two-factor: flask --app wsgi users totp EMAIL)" if account.two_factor else ""
        click.echo(f"  {account.role:<18} {account.email:<{width}}  {account.password}{extra}")
    click.echo("")


@demo.command("bank-statement")
@click.argument("message_id")
def bank_statement_command(message_id):
    """Print the camt.053 statement the demo bank sends once it executed a payment file
    (MESSAGE_ID, as the payment files page shows it), for finance to import."""
    from grants.models.payments import PaymentFile
    from grants.services.demo_bank import statement_for

    if current_app.config["PRODUCTION"]:
        _fail("the demo bank writes no statement in production")
    payment_file = db.session.scalar(
        select(PaymentFile).where(PaymentFile.message_id == message_id)
    )
    if payment_file is None:
        _fail(f"no payment file {message_id!r}")
    click.echo(statement_for(payment_file).decode(), nl=False)


@search_group.command("rebuild")
def search_rebuild_command():
    """Build every entry of the search again from the records (after upgrading to the
    revision that created the index, or to repair it)."""
    from grants.services import duplicates
    from grants.services.search import rebuild

    written = rebuild(db.session.connection())
    written["duplicate check"] = duplicates.rebuild(db.session.connection())
    db.session.commit()
    click.echo(", ".join(f"{count:,} {kind} entries" for kind, count in written.items()))


@workflows_group.command("diagram")
@click.argument("name", required=False)
@click.option(
    "--format",
    "output",
    type=click.Choice(["mermaid", "svg"]),
    default="mermaid",
    show_default=True,
)
def diagram_command(name, output):
    """Print the diagram of one lifecycle (NAME) or of all of them."""
    from workflows import MACHINES
    from workflows.diagram import mermaid, svg

    if name and name not in MACHINES:
        click.echo(f"Error: unknown lifecycle {name!r}; known: {', '.join(MACHINES)}", err=True)
        sys.exit(2)
    render = svg if output == "svg" else mermaid
    for machine in [MACHINES[name]] if name else MACHINES.values():
        if not name and output == "mermaid":
            click.echo(f"%% {machine.entity}")
        click.echo(render(machine), nl=False)


def init_app(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(demo)
    app.cli.add_command(workflows_group)
    app.cli.add_command(search_group)

    from notifications.cli import reminders_group, scheduler_group, serve_command

    app.cli.add_command(scheduler_group)
    app.cli.add_command(reminders_group)
    app.cli.add_command(serve_command)
