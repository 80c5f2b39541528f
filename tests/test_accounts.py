"""Operator accounts in Redis and the `flask operators` commands."""

from __future__ import annotations

import pytest

from bot import accounts

PASSWORD = "correct horse battery"


def test_passwords_are_stored_as_argon2id_hashes(redis_client):
    accounts.create(redis_client, "Alice", PASSWORD)
    stored = redis_client.hget(accounts.account_key("alice"), "hash").decode()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert accounts.authenticate(redis_client, "alice", PASSWORD).name == "alice"
    assert accounts.authenticate(redis_client, "ALICE ", PASSWORD) is not None
    assert accounts.authenticate(redis_client, "alice", PASSWORD + "x") is None
    assert accounts.authenticate(redis_client, "nobody", PASSWORD) is None


@pytest.mark.parametrize(
    ("name", "password", "message"),
    [
        ("alice", "short", "at least 10"),
        ("a", PASSWORD, "2-32 characters"),
        ("bad name", PASSWORD, "2-32 characters"),
        ("x" * 40, PASSWORD, "2-32 characters"),
    ],
)
def test_bad_names_and_short_passwords_are_refused(redis_client, name, password, message):
    with pytest.raises(accounts.AccountError, match=message):
        accounts.create(redis_client, name, password)


def test_a_name_is_taken_once(redis_client):
    accounts.create(redis_client, "alice", PASSWORD)
    with pytest.raises(accounts.AccountError, match="already exists"):
        accounts.create(redis_client, "alice", "another password", admin=True)
    assert accounts.get(redis_client, "alice").role == "operator"


def test_disabled_accounts_cannot_authenticate(redis_client):
    accounts.create(redis_client, "bob", PASSWORD, admin=True)
    assert accounts.set_disabled(redis_client, "bob")
    assert accounts.authenticate(redis_client, "bob", PASSWORD) is None
    assert accounts.set_disabled(redis_client, "bob", False)
    assert accounts.authenticate(redis_client, "bob", PASSWORD).is_admin
    assert not accounts.set_disabled(redis_client, "nobody")


def test_cli_add_asks_the_password_twice(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["operators", "add", "alice"],
        input=f"{PASSWORD}\ntypo typo typo\n{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output.lower()
    assert PASSWORD not in result.output  # hidden input
    assert "created operator alice" in result.output
    assert accounts.authenticate(app.redis, "alice", PASSWORD) is not None


def test_cli_add_admin_from_a_file_and_from_stdin(app, tmp_path):
    runner = app.test_cli_runner()
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD + "\n")
    result = runner.invoke(
        args=["operators", "add", "root", "--admin", "--password-file", str(secret)]
    )
    assert result.exit_code == 0 and "created admin root" in result.output
    result = runner.invoke(
        args=["operators", "add", "carol", "--password-file", "-"], input=PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    assert accounts.authenticate(app.redis, "root", PASSWORD).is_admin
    assert accounts.authenticate(app.redis, "carol", PASSWORD) is not None


def test_cli_refuses_short_passwords_and_duplicates(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["operators", "add", "dave", "--password-file", "-"], input="short\n"
    )
    assert result.exit_code != 0 and "at least 10" in result.output
    runner.invoke(args=["operators", "add", "dave", "--password-file", "-"], input=PASSWORD)
    result = runner.invoke(
        args=["operators", "add", "dave", "--password-file", "-"], input=PASSWORD
    )
    assert result.exit_code != 0 and "already exists" in result.output


def test_cli_list_and_disable(app):
    runner = app.test_cli_runner()
    assert "no accounts yet" in runner.invoke(args=["operators", "list"]).output
    for name, flag in (("alice", []), ("root", ["--admin"])):
        runner.invoke(
            args=["operators", "add", name, "--password-file", "-", *flag], input=PASSWORD
        )
    result = runner.invoke(args=["operators", "disable", "alice"])
    assert result.exit_code == 0 and "disabled alice" in result.output
    lines = runner.invoke(args=["operators", "list"]).output.splitlines()
    assert [line.split() for line in lines] == [
        ["alice", "operator", "disabled"],
        ["root", "admin", "active"],
    ]
    assert runner.invoke(args=["operators", "disable", "nobody"]).exit_code != 0
    assert accounts.authenticate(app.redis, "alice", PASSWORD) is None
