"""The worker's only way to the service: HTTP to the API with the attempt's token."""
from __future__ import annotations

import httpx

from gradeflow_protocol.messages import GradeTask, JobSpec, ResultPost


class Refused(Exception):
    """The API says this attempt must not run (graded, superseded, busy elsewhere, out of runs)."""


class ApiClient:
    def __init__(self, base_url: str, task: GradeTask, *, timeout: float = 30.0) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=timeout,
                                 headers={"Authorization": f"Bearer {task.token}"})

    def _checked(self, response: httpx.Response) -> httpx.Response:
        if response.status_code == 409:
            raise Refused(response.json().get("detail", "refused"))
        response.raise_for_status()
        return response

    def claim(self, worker: str) -> JobSpec:
        return JobSpec(**self._checked(self.http.post("/api/v1/worker/claim", json={"worker": worker})).json())

    def submission_file(self) -> bytes:
        return self._checked(self.http.get("/api/v1/worker/submission-file")).content

    def bundle(self) -> bytes:
        return self._checked(self.http.get("/api/v1/worker/bundle")).content

    def heartbeat(self, progress: str) -> None:
        self.http.post("/api/v1/worker/heartbeat", json={"progress": progress})

    def post_result(self, result: ResultPost) -> bool:
        return bool(self._checked(self.http.post("/api/v1/worker/result", json=result.model_dump(mode="json"))).json()["stored"])

    def release(self, error: str) -> None:
        self.http.post("/api/v1/worker/release", json={"error": error[:4000]})

    def close(self) -> None:
        self.http.close()
