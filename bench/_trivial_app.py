"""The yardstick for bench/status.py: a FastAPI app answering a constant JSON on the status poll's path,
served by uvicorn exactly as `gradeflow serve` serves the real API (gradeflow_api.service.serve)."""
from __future__ import annotations

import sys

from fastapi import FastAPI

BODY = {"id": 1, "status": "queued", "status_text": "Waiting for a grader", "score": None, "max_score": None}

app = FastAPI()


@app.get("/api/v1/submissions/{submission_id}")
async def submission(submission_id: int) -> dict:
    return BODY


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="info")  # as gradeflow_api.service.serve
