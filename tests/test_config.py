"""Configuration comes from the environment; a value that cannot be used stops start-up."""

from __future__ import annotations

import pytest

from bot import create_app
from bot.config import Config, ConfigError, retention_seconds


@pytest.mark.parametrize(
    ("name", "value"),
    [("RETENTION_DAYS", "thirty"), ("PORT_IS_NOT_READ", "x"), ("UPKEEP_SECONDS", "soon")],
)
def test_a_bad_number_stops_start_up_with_its_name(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    if name == "PORT_IS_NOT_READ":
        Config()  # a variable the app does not read is no error
        return
    with pytest.raises(ConfigError, match=name):
        Config()


def test_the_app_will_not_start_on_a_bad_setting(monkeypatch, app_config):
    monkeypatch.setenv("LOGIN_MAX_PER_NAME", "5x")
    with pytest.raises(ConfigError, match="LOGIN_MAX_PER_NAME must be a whole number"):
        create_app(app_config)


def test_retention_is_computed_in_one_place(monkeypatch):
    monkeypatch.setenv("RETENTION_DAYS", "7")
    config = Config()
    assert retention_seconds(config) == retention_seconds(config.as_mapping()) == 7 * 86400
