"""`gradeflow up`: the whole service on one machine, supervised.

Starts Redis when none answers at GRADEFLOW_REDIS_URL (as a supervised child), creates or upgrades the schema,
seeds the demo course, then runs the API and N grading workers (one Celery process each, concurrency 1, so a
dead worker loses one run), restarting any that exit (gradeflow_cli.supervise). Ctrl-C stops everything.
"""
from __future__ import annotations

import os
import secrets
import shutil
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import typer

from gradeflow_cli.app import CliError
from gradeflow_cli.supervise import Program, Supervisor, stop_on_signals

CLI = (sys.executable, "-m", "gradeflow_cli.main")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", ""}


@dataclass(frozen=True)
class UpOptions:
    host: str
    port: int
    workers: int
    queues: str
    var_dir: Path


def default_workers(env: Mapping[str, str] | None = None) -> int:
    """GRADEFLOW_WORKERS when set, else one worker per core."""
    env = os.environ if env is None else env
    if env.get("GRADEFLOW_WORKERS"):
        try:
            return max(0, int(env["GRADEFLOW_WORKERS"]))
        except ValueError:
            raise CliError(f"GRADEFLOW_WORKERS must be a whole number, not {env['GRADEFLOW_WORKERS']!r}") from None
    return os.cpu_count() or 1


def ensure_secret(var_dir: Path, env: dict[str, str]) -> None:
    """Sign tokens with GRADEFLOW_SECRET_KEY, or with a key generated once under var/ (kept across runs)."""
    if env.get("GRADEFLOW_SECRET_KEY"):
        return
    path = var_dir / "secret"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32) + "\n")
        path.chmod(0o600)
    env["GRADEFLOW_SECRET_KEY"] = path.read_text().strip()


def redis_answers(url: str) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError, ValueError):
        return False


def redis_program(url: str, var_dir: Path) -> Program:
    """A local redis-server for a URL nothing answers at (its data file and log under var/)."""
    parts = urlsplit(url)
    if parts.hostname not in LOCAL_HOSTS:
        raise CliError(f"nothing answers at GRADEFLOW_REDIS_URL={url}, and it is not on this machine: start it there")
    binary = shutil.which("redis-server")
    if binary is None:
        raise CliError("redis-server is not installed: run scripts/install.sh (or apt-get install redis-server)")
    argv = [binary, "--bind", "127.0.0.1", "--port", str(parts.port or 6379), "--dir", str(var_dir),
            "--logfile", str(var_dir / "redis.log")]
    return Program(name="redis", argv=argv, group="redis", ready=lambda: redis_answers(url))


def worker_command(index: int, queues: str) -> list[str]:
    """`gradeflow worker` for worker number `index` (its Celery hostname names it)."""
    return [*CLI, "worker", "--queues", queues, "--concurrency", "1", "--hostname", f"w{index}@%h"]


def plan(options: UpOptions, env: Mapping[str, str], *, redis: Program | None = None,
         worker_argv: Callable[[int, str], list[str]] = worker_command) -> list[Program]:
    """What to supervise: Redis (when this run starts it), the API, then the workers."""
    logs = options.var_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    api = Program(name="api", argv=[*CLI, "serve", "--host", options.host, "--port", str(options.port)], env=env,
                  group="api")
    workers = [Program(name=f"worker-{i}", argv=worker_argv(i, options.queues), env=env, group="workers",
                       log=logs / f"worker-{i}.log") for i in range(1, options.workers + 1)]
    return ([redis] if redis else []) + [api] + workers


def child_env(options: UpOptions) -> dict[str, str]:
    """The children's environment: this one, with the var dir, the secret and where workers find the API."""
    env = dict(os.environ)
    env["GRADEFLOW_VAR_DIR"] = str(options.var_dir)
    ensure_secret(options.var_dir, env)
    api_host = "127.0.0.1" if options.host in ("0.0.0.0", "::", "") else options.host
    env.setdefault("GRADEFLOW_API_URL", f"http://{api_host}:{options.port}")
    return env


def prepare(options: UpOptions, env: dict[str, str], *, assignments: Path) -> None:
    """Schema and demo course, in this process, with the children's settings."""
    from gradeflow_api import service
    from gradeflow_api.settings import ApiSettings

    settings = ApiSettings(var_dir=options.var_dir, secret_key=env["GRADEFLOW_SECRET_KEY"])
    typer.echo(f"schema up to date: {service.upgrade_schema(settings)}")
    shown = service.seed_demo_course(settings, assignments)
    typer.echo(f"demo course 'mathdl' ready; users student1, student2, ta1, prof; password: {shown}")


def run_up(options: UpOptions, *, assignments: Path,
           worker_argv: Callable[[int, str], list[str]] = worker_command) -> None:
    """Everything `gradeflow up` does; blocks until Ctrl-C or SIGTERM."""
    options.var_dir.mkdir(parents=True, exist_ok=True)
    env = child_env(options)
    url = env.get("GRADEFLOW_REDIS_URL", "redis://127.0.0.1:6379/0")
    redis = None if redis_answers(url) else redis_program(url, options.var_dir)
    prepare(options, env, assignments=assignments)
    programs = plan(options, env, redis=redis, worker_argv=worker_argv)
    supervisor = Supervisor(programs, state_file=options.var_dir / "up.json")
    stop = threading.Event()
    stop_on_signals(stop, supervisor)
    typer.echo(f"API on http://{options.host}:{options.port} (docs at /docs); {options.workers} worker(s), logs in "
               f"{options.var_dir / 'logs'}; Ctrl-C stops everything")
    supervisor.run(stop)


def up(host: str = typer.Option("127.0.0.1", help="where the API listens"),
       port: int = typer.Option(8000, help="the API's port"),
       workers: int = typer.Option(None, help="grading workers; default GRADEFLOW_WORKERS, else one per core"),
       queues: str = typer.Option("cpu", help="queues the workers serve, comma-separated"),
       assignments: Path = typer.Option(Path("assignments"), help="folder holding the demo's ode-theta/")) -> None:
    """Run the whole service here (Redis if none answers, schema, demo course, API, workers), restarting any
    process that exits; Ctrl-C stops everything."""
    from gradeflow_api.settings import ApiSettings

    var_dir = ApiSettings().var_dir.resolve()
    count = default_workers() if workers is None else workers
    run_up(UpOptions(host=host, port=port, workers=count, queues=queues, var_dir=var_dir), assignments=assignments)
