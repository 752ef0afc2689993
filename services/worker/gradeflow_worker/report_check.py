"""A report (PDF) is checked before staff grade it: it opens, it is not encrypted, it has pages.

No student code runs, but the PDF is hostile input to a parser: pypdf opens it in a child process
(`python -m gradeflow_worker.report_check`, the bytes on stdin) under an address-space and CPU-time limit and a
wall-clock timeout, so a parser bug can neither hang nor bloat the worker. The child answers one line of JSON on
stdout, read size-capped. The verdict is one check worth 0 points: the rubric gives the points.
"""
from __future__ import annotations

import io
import json
import resource
import subprocess
import sys
import time
from dataclasses import dataclass

from gradeflow_protocol.enums import RunOutcome
from gradeflow_protocol.messages import CheckResult, JobSpec, ResultPost, RunReport

MAX_PDF_BYTES = 100 * 1048576  # the largest report.max_pdf_mb a config may set
TIME_LIMIT_S = 20.0
MEMORY_MB = 768
MAX_ANSWER_BYTES = 4096
RECEIVED = "Report received"
REFUSED = "Report could not be opened"


@dataclass(frozen=True)
class PdfVerdict:
    pages: int | None  # None: refused
    problem: str = ""  # what is wrong, for the student


def _limit_self(memory_mb: int, time_s: float) -> None:
    """In the child, before it reads a byte of the PDF (no preexec_fn: the worker process has threads)."""
    memory = memory_mb * 1048576
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = max(int(time_s) + 1, 1)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def check_pdf(data: bytes, *, time_s: float = TIME_LIMIT_S, memory_mb: int = MEMORY_MB) -> PdfVerdict:
    """Open the PDF in a limited child process; its page count, or the problem in words."""
    if len(data) > MAX_PDF_BYTES:
        return PdfVerdict(None, f"The PDF is over {MAX_PDF_BYTES // 1048576} MB; upload a smaller export.")
    if not data.startswith(b"%PDF-"):
        return PdfVerdict(None, "This is not a PDF (it does not start with %PDF-); export your report to PDF and upload "
                                "that file.")
    try:
        done = subprocess.run([sys.executable, "-I", "-m", "gradeflow_worker.report_check", str(memory_mb),
                               str(time_s)], input=data, capture_output=True, timeout=time_s, start_new_session=True,
                              check=False)
    except subprocess.TimeoutExpired:  # run() kills the child before raising
        return PdfVerdict(None, f"The PDF took more than {time_s:g} s to open; it may be damaged. Export it "
                                "again (File > Export as PDF) and upload the new file.")
    return _read_answer(done)


def _read_answer(done: subprocess.CompletedProcess) -> PdfVerdict:
    try:
        answer = json.loads(done.stdout[:MAX_ANSWER_BYTES].decode("utf-8"))
        pages, problem = answer.get("pages"), str(answer.get("problem", ""))[:500]
    except (ValueError, AttributeError):
        answer, pages, problem = None, None, ""
    if isinstance(pages, int) and not isinstance(pages, bool) and pages > 0:
        return PdfVerdict(pages)
    if answer is not None and problem:
        return PdfVerdict(None, problem)
    if done.returncode < 0 or b"MemoryError" in done.stderr[-4096:]:
        return PdfVerdict(None, "The PDF needs too much memory (or time) to open; it may be damaged. Export it "
                                "again and upload the new file.")
    return PdfVerdict(None, "The PDF could not be read; it may be damaged. Export it again and upload the new file.")


def _open(data: bytes) -> dict:
    """In the child: open with pypdf and count pages."""
    from pypdf import PdfReader  # imported here: the limits already apply
    from pypdf.errors import LimitReachedError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            return {"problem": "The PDF is encrypted or password-protected; save it without a password and upload "
                               "it again."}
        pages = len(reader.pages)
    except (MemoryError, LimitReachedError):
        return {"problem": "The PDF is too large or too complex to open (a limit was reached); it may be damaged. "
                           "Export it again and upload the new file."}
    except Exception as exc:  # noqa: BLE001 - a parser bug on hostile input is a verdict, in this child only
        return {"problem": f"The PDF could not be read ({type(exc).__name__}); it may be damaged or incomplete. "
                           "Export it again and upload the new file."}
    if pages < 1:
        return {"problem": "The PDF has no pages; export your report again and upload the new file."}
    return {"pages": pages}


def _child(memory_mb: int, time_s: float) -> None:
    _limit_self(memory_mb, time_s)
    try:
        answer = _open(sys.stdin.buffer.read(MAX_PDF_BYTES + 1))
    except MemoryError:
        answer = {"problem": "The PDF needs too much memory to open; it may be damaged. Export it again and "
                             "upload the new file."}
    sys.stdout.write(json.dumps(answer))


def report_result(job: JobSpec, data: bytes) -> ResultPost:
    """The verdict posted for a report: one 0-point check saying it was received (with its page count) or why not."""
    began = time.monotonic()
    verdict = check_pdf(data)
    wall = time.monotonic() - began
    if verdict.pages is not None:
        word = "page" if verdict.pages == 1 else "pages"
        check = CheckResult(name=f"{RECEIVED}: {verdict.pages} {word}", score=0, max_score=0, passed=True,
                            message="Staff grade it with the rubric; you will see the grades once they are released.")
    else:
        check = CheckResult(name=REFUSED, score=0, max_score=0, passed=False, message=verdict.problem)
    run = RunReport(outcome=RunOutcome.COMPLETED, wall_seconds=round(wall, 3))
    log = f"report {job.filename}: {len(data)} bytes, " + (f"{verdict.pages} pages" if verdict.pages else
                                                           f"refused: {verdict.problem}")
    return ResultPost(submission_id=job.submission_id, attempt=job.attempt, checks=[check], run=run, output="",
                      log=log)


if __name__ == "__main__":
    _child(int(sys.argv[1]), float(sys.argv[2]))
