"""HTTP to the gradeflow API with the stored token; every failure becomes a CliError that says what to do."""
from __future__ import annotations

import os
from typing import Any

import httpx

from gradeflow_cli import config
from gradeflow_cli.app import CliError

TIMEOUT = float(os.environ.get("GRADEFLOW_CLI_TIMEOUT", "60"))


def detail(response: httpx.Response) -> str:
    """The API's message in an error response."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:500] or response.reason_phrase
    found = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(found, dict):
        return str(found.get("message", found))
    if isinstance(found, list):  # FastAPI's validation errors
        return "; ".join(f"{'.'.join(str(p) for p in e.get('loc', [])[1:])}: {e.get('msg')}" for e in found)
    return str(found)


def _failure(response: httpx.Response, api_url: str) -> CliError:
    code = response.status_code
    if code == 401:
        return CliError(f"{detail(response)} Run `gradeflow login` (API: {api_url}).")
    if code >= 500:
        return CliError(f"The API at {api_url} failed ({code}): {detail(response)}. Try again; if it persists, "
                        "its log says why.")
    return CliError(detail(response))


class Api:
    """A thin client: `get/post/put/delete(path, ...)` return parsed JSON (or the response for raw=True)."""

    def __init__(self, creds: config.Credentials | None = None, *, anonymous: bool = False,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.creds = creds or config.load()
        if not anonymous and not self.creds.token:
            raise CliError("Not signed in: run `gradeflow login` first.")
        headers = {"Authorization": f"Bearer {self.creds.token}"} if self.creds.token and not anonymous else {}
        self.http = httpx.Client(base_url=self.creds.api_url.rstrip("/"), headers=headers, timeout=TIMEOUT,
                                 transport=transport)

    def request(self, method: str, path: str, *, raw: bool = False, ok: tuple[int, ...] = (), **kwargs) -> Any:
        try:
            response = self.http.request(method, "/api/v1" + path, **kwargs)
        except httpx.TransportError as exc:
            raise CliError(f"Cannot reach the gradeflow API at {self.creds.api_url} ({type(exc).__name__}). Is it "
                           "running? Use `gradeflow login --api URL` (or GRADEFLOW_CLI_API) for another "
                           "address.") from None
        if response.status_code >= 400 and response.status_code not in ok:
            raise _failure(response, self.creds.api_url)
        if raw:
            return response
        return response.json() if response.content else None

    def get(self, path: str, **kwargs) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> Any:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs) -> Any:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs) -> Any:
        return self.request("DELETE", path, **kwargs)

    def course(self, given: str | None) -> str:
        """The course a command works on: --course, GRADEFLOW_COURSE, or the one saved at login."""
        course = given or os.environ.get("GRADEFLOW_COURSE") or self.creds.course
        if not course:
            raise CliError("Which course? Pass --course SLUG (or set GRADEFLOW_COURSE).")
        return course

    def assignment(self, course: str, ref: str) -> dict:
        """An assignment of the course by slug or id, as staff see it."""
        rows = self.get(f"/courses/{course}/assignments")
        for row in rows:
            if row["slug"] == ref or str(row["id"]) == ref:
                return row
        known = ", ".join(r["slug"] for r in rows) or "none yet"
        raise CliError(f"No assignment '{ref}' in {course} (it has: {known}).")

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "Api":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
