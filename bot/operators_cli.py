"""`flask --app app operators add NAME | list | disable NAME`: manage console accounts."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from bot import accounts

operators = AppGroup("operators", help="Create, list and disable operator console accounts.")


def read_password(password_file: str | None) -> str:
    """From a file ('-' is stdin: first line, newline stripped), else asked twice, hidden."""
    if password_file == "-":
        return sys.stdin.readline().rstrip("\r\n")
    if password_file:
        with open(password_file, encoding="utf-8") as f:
            return f.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@operators.command("add")
@click.argument("name")
@click.option("--admin", is_flag=True, help="May read the audit log, block numbers and erase.")
@click.option(
    "--password-file",
    metavar="FILE",
    help="Read the password from the first line of FILE ('-' for stdin) instead of asking.",
)
def add(name: str, admin: bool, password_file: str | None) -> None:
    """Create an account NAME (the password is asked twice unless --password-file)."""
    password = read_password(password_file)
    try:
        account = accounts.create(current_app.redis, name, password, admin=admin)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {account.role} {account.name}")


@operators.command("list")
def list_() -> None:
    """Show every account with its role and whether it is disabled."""
    found = accounts.all_accounts(current_app.redis)
    if not found:
        click.echo("no accounts yet: flask --app app operators add NAME --admin")
    for a in found:
        click.echo(f"{a.name:<32} {a.role:<9} {'disabled' if a.disabled else 'active'}")


@operators.command("disable")
@click.argument("name")
def disable(name: str) -> None:
    """Disable NAME: no more logins, and open sessions end at their next request."""
    if not accounts.set_disabled(current_app.redis, name, True):
        raise click.ClickException(f"no account named {name!r}")
    click.echo(f"disabled {name.strip().lower()}")


@operators.command("enable")
@click.argument("name")
def enable(name: str) -> None:
    """Enable a disabled account again."""
    if not accounts.set_disabled(current_app.redis, name, False):
        raise click.ClickException(f"no account named {name!r}")
    click.echo(f"enabled {name.strip().lower()}")
