"""The CLI's credentials file."""
from __future__ import annotations

import json
import stat

import pytest

from gradeflow_cli import config
from gradeflow_cli.app import CliError


@pytest.fixture(autouse=True)
def private_config(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADEFLOW_CLI_CONFIG", str(tmp_path / "sub" / "credentials.json"))
    monkeypatch.delenv("GRADEFLOW_CLI_API", raising=False)
    return tmp_path / "sub" / "credentials.json"


def test_defaults_without_a_file():
    assert config.load() == config.Credentials()


def test_save_is_private_and_round_trips(private_config):
    creds = config.Credentials(api_url="http://h:1", token="t", username="u", course="c")
    assert config.save(creds) == private_config
    assert stat.S_IMODE(private_config.stat().st_mode) == 0o600
    assert config.load() == creds


def test_env_overrides_the_address(monkeypatch):
    config.save(config.Credentials(api_url="http://saved", token="t"))
    monkeypatch.setenv("GRADEFLOW_CLI_API", "http://other:9")
    assert config.load().api_url == "http://other:9" and config.load().token == "t"


def test_forget_keeps_address_and_course():
    config.save(config.Credentials(api_url="http://h", token="secret", username="u", course="c"))
    assert config.forget()
    assert config.load() == config.Credentials(api_url="http://h", course="c")


def test_unknown_keys_are_ignored_and_broken_files_explained(private_config):
    private_config.parent.mkdir(parents=True)
    private_config.write_text(json.dumps({"token": "t", "future": 1}))
    assert config.load().token == "t"
    private_config.write_text("{nope")
    with pytest.raises(CliError, match="not valid JSON"):
        config.load()


def test_default_location(monkeypatch, tmp_path):
    monkeypatch.delenv("GRADEFLOW_CLI_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert config.config_path() == tmp_path / "gradeflow" / "credentials.json"
