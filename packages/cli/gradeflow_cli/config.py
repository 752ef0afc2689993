"""Where the CLI keeps its API address and token: GRADEFLOW_CLI_CONFIG or ~/.config/gradeflow/credentials.json."""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from gradeflow_cli.app import CliError

DEFAULT_API = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Credentials:
    api_url: str = DEFAULT_API
    token: str = ""
    username: str = ""
    course: str = ""  # the course commands use when --course is not given


def config_path() -> Path:
    custom = os.environ.get("GRADEFLOW_CLI_CONFIG")
    if custom:
        return Path(custom).expanduser()
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "gradeflow" / "credentials.json"


def load() -> Credentials:
    """The stored credentials (empty ones when there is no file); GRADEFLOW_CLI_API overrides the address."""
    path = config_path()
    data = {}
    if path.is_file():
        try:
            data = json.loads(path.read_text("utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise CliError(f"{path} is not valid JSON; delete it and run `gradeflow login`.") from None
    known = {k: str(v) for k, v in data.items() if k in Credentials.__dataclass_fields__}
    creds = Credentials(**known)
    if os.environ.get("GRADEFLOW_CLI_API"):
        creds = Credentials(**(asdict(creds) | {"api_url": os.environ["GRADEFLOW_CLI_API"]}))
    return creds


def save(creds: Credentials) -> Path:
    """Write the credentials readable by the owner only (the token is a password for 12 hours)."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(asdict(creds), fh, indent=2)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def forget() -> bool:
    path = config_path()
    if not path.exists():
        return False
    creds = load()
    save(Credentials(api_url=creds.api_url, course=creds.course))
    return True
