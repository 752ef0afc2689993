"""Signing in: `gradeflow login`, `logout`, `whoami`, and `account set-password` for invited users."""
from __future__ import annotations

import typer

from gradeflow_cli import config
from gradeflow_cli.app import CliError, GradeflowTyper, out
from gradeflow_cli.client import Api, detail

account_app = GradeflowTyper(help="Your account: set a password from an invitation.")


def login(api: str = typer.Option(None, "--api", help="the API's address (default: the saved one, or "
                                                      f"{config.DEFAULT_API})"),
          username: str = typer.Option(..., "--username", "-u", prompt=True),
          password: str = typer.Option(..., "--password", "-p", prompt=True, hide_input=True,
                                       help="prompted for when left out (safer than the command line)")) -> None:
    """Sign in and save a token for the other commands."""
    saved = config.load()
    creds = config.Credentials(api_url=(api or saved.api_url).rstrip("/"), course=saved.course)
    with Api(creds, anonymous=True) as client:
        response = client.post("/auth/token", data={"username": username, "password": password}, raw=True, ok=(401,))
        if response.status_code == 401:
            raise CliError(f"{detail(response)} (user '{username}' at {creds.api_url})")
        token = response.json()["access_token"]
    creds = config.Credentials(api_url=creds.api_url, token=token, username=username, course=creds.course)
    with Api(creds) as client:
        me = client.get("/me")
    staff = [c for c in me["courses"] if c["role"] in ("ta", "instructor")]
    course = creds.course or (staff[0]["slug"] if len(staff) == 1 else "")
    path = config.save(config.Credentials(api_url=creds.api_url, token=token, username=username, course=course))
    roles = ", ".join(f"{c['role']} in {c['slug']}" for c in me["courses"]) or "no courses yet"
    out.print(f"signed in as {username} ({roles}) at {creds.api_url}; token saved in {path}")


def logout() -> None:
    """Forget the saved token."""
    out.print("signed out" if config.forget() else "was not signed in")


def whoami() -> None:
    """Who the saved token belongs to, and your courses."""
    with Api() as client:
        me = client.get("/me")
    out.print(f"{me['username']} ({me['name']}){' - site admin' if me['is_admin'] else ''} at {client.creds.api_url}")
    for course in me["courses"]:
        out.print(f"  {course['slug']}: {course['role']}  {course['title']}")


@account_app.command("set-password")
def set_password(token: str = typer.Option(..., "--token", help="the invitation token from your instructor"),
                 password: str = typer.Option(..., "--password", prompt=True, hide_input=True,
                                              confirmation_prompt=True),
                 api: str = typer.Option(None, "--api", help="the API's address")) -> None:
    """Choose your password with the invitation token a roster import gave you."""
    saved = config.load()
    creds = config.Credentials(api_url=(api or saved.api_url).rstrip("/"))
    with Api(creds, anonymous=True) as client:
        me = client.post("/auth/set-password", json={"token": token, "password": password})
    out.print(f"password set for {me['username']}; now run `gradeflow login -u {me['username']}`")


def register(app: typer.Typer) -> None:
    for command in (login, logout, whoami):
        app.command()(command)
    app.add_typer(account_app, name="account")
