"""One typed settings object per deployable, read from GRADEFLOW_* variables."""
import pytest
from pydantic import ValidationError

from gradeflow_api.main import create_app
from gradeflow_api.queue import ListEnqueuer
from gradeflow_api.settings import ApiSettings
from gradeflow_worker.settings import WorkerSettings


def test_the_api_refuses_a_placeholder_secret_in_production(tmp_path):
    with pytest.raises(ValueError, match="SECRET_KEY"):
        create_app(ApiSettings(mode="production", var_dir=tmp_path), enqueuer=ListEnqueuer(), sweeper=False)
    create_app(ApiSettings(mode="production", var_dir=tmp_path, secret_key="x" * 40), enqueuer=ListEnqueuer(),
               sweeper=False)


def test_a_worker_needs_no_secret_in_production_and_has_none():
    settings = WorkerSettings(mode="production")
    assert settings.mode == "production"
    assert not {"secret_key", "database_url"} & set(WorkerSettings.model_fields)


def test_the_process_sandbox_is_refused_in_production():
    with pytest.raises(ValidationError, match="process"):
        WorkerSettings(mode="production", sandbox_backend="process")


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("GRADEFLOW_MEMORY_MB", "2048")
    monkeypatch.setenv("GRADEFLOW_SANDBOX_BACKEND", "docker")
    monkeypatch.setenv("GRADEFLOW_MAX_RUNS", "5")
    worker, api = WorkerSettings(), ApiSettings()
    assert worker.memory_mb == 2048 and worker.sandbox_backend == "docker"
    assert api.memory_mb == 2048 and api.max_runs == 5
