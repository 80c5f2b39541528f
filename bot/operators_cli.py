"""`triage-line operators add | list | disable | enable | password | end-sessions`.

The same group is `python -m bot operators ...` and `flask --app app operators ...` (registered
on the app by `bot.console.init_app`). Under flask the app is the one flask loaded (`app.py`);
otherwise the group builds it the way `app.py` does: the repository's `.env` first (variables
already set in the environment win), then `bot.create_app()`.
"""

from __future__ import annotations

import sys

import click
from argon2 import PasswordHasher
from flask import Flask, current_app
from flask.cli import AppGroup, ScriptInfo

from bot import accounts
from bot.console import sessions


def app_from_env() -> Flask:
    """The app as `app.py` builds it: the repository's `.env`, then `create_app()`."""
    from bot import create_app, envfile

    envfile.load()
    return create_app()


@click.group("operators", cls=AppGroup)
@click.pass_context
def operators(ctx: click.Context) -> None:
    """Create, list and disable operator console accounts."""
    if ctx.find_object(ScriptInfo) is None:  # not under `flask`: build the app when needed
        ctx.obj = ScriptInfo(create_app=app_from_env)


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
    """Create the account NAME.

    The password is asked twice (hidden) unless --password-file.
    """
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
        click.echo("no accounts yet: triage-line operators add NAME --admin")
    for a in found:
        click.echo(f"{a.name:<32} {a.role:<9} {'disabled' if a.disabled else 'active'}")


@operators.command("disable")
@click.argument("name")
def disable(name: str) -> None:
    """Disable NAME: no more logins; every open session ends now."""
    if not accounts.set_disabled(current_app.redis, name, True):
        raise click.ClickException(f"no account named {name!r}")
    ended = sessions.end_all(current_app.redis, accounts.check_name(name))
    click.echo(f"disabled {accounts.check_name(name)}; ended {ended} session(s)")


@operators.command("enable")
@click.argument("name")
def enable(name: str) -> None:
    """Enable a disabled account again."""
    if not accounts.set_disabled(current_app.redis, name, False):
        raise click.ClickException(f"no account named {name!r}")
    click.echo(f"enabled {name.strip().lower()}")


@operators.command("password")
@click.argument("name")
@click.option(
    "--password-file",
    metavar="FILE",
    help="Read the new password from the first line of FILE ('-' for stdin).",
)
def password(name: str, password_file: str | None) -> None:
    """Give NAME a new password; every open session of NAME ends.

    The password is asked twice (hidden) unless --password-file.
    """
    account = accounts.get(current_app.redis, name)
    if account is None:
        raise click.ClickException(f"no account named {name!r}")
    new = read_password(password_file)
    if len(new) < accounts.MIN_PASSWORD:
        raise click.ClickException(
            f"the password must have at least {accounts.MIN_PASSWORD} characters"
        )
    current_app.redis.hset(accounts.account_key(account.name), "hash", PasswordHasher().hash(new))
    ended = sessions.end_all(current_app.redis, account.name)
    click.echo(f"new password for {account.name}; ended {ended} session(s)")


@operators.command("end-sessions")
@click.argument("name")
def end_sessions(name: str) -> None:
    """Log NAME out of every browser now (they may log in again)."""
    account = accounts.get(current_app.redis, name)
    if account is None:
        raise click.ClickException(f"no account named {name!r}")
    ended = sessions.end_all(current_app.redis, account.name)
    click.echo(f"ended {ended} session(s) of {account.name}")
