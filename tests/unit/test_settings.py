import pytest
from pydantic import ValidationError

from gradeflow.api.app import create_app
from gradeflow.api.queue import ListEnqueuer
from gradeflow.settings import Settings


def test_the_api_refuses_a_placeholder_secret_in_production(tmp_path):
    with pytest.raises(ValueError, match="SECRET_KEY"):
        create_app(Settings(mode="production", var_dir=tmp_path), enqueuer=ListEnqueuer(), sweeper=False)
    create_app(Settings(mode="production", var_dir=tmp_path, secret_key="x" * 40), enqueuer=ListEnqueuer(), sweeper=False)


def test_a_worker_needs_no_secret_in_production():
    assert Settings(mode="production").mode == "production"


def test_the_process_sandbox_is_refused_in_production():
    with pytest.raises(ValidationError, match="process"):
        Settings(mode="production", sandbox_backend="process")


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("GRADEFLOW_MEMORY_MB", "2048")
    monkeypatch.setenv("GRADEFLOW_SANDBOX_BACKEND", "docker")
    settings = Settings()
    assert settings.memory_mb == 2048 and settings.sandbox_backend == "docker"
