"""The trusted harness: run a submission in a sandboxed kernel, then run the hidden checks outside it."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gradeflow_protocol.enums import RunOutcome, SubmissionKind
from gradeflow_protocol.messages import CheckResult, JobSpec, Limits, ResultPost, RunFailure, RunReport
from gradeflow_protocol.words import describe_failure, describe_later_failures, describe_outcome
from gradeflow_graders.api import CheckSpec, KernelDied
from gradeflow_graders.runner import not_run, run_check
from gradeflow_worker.sandbox.base import Sandbox, SandboxProcess, SandboxSpec
from gradeflow_worker.cells import numbered_cells
from gradeflow_worker.contest_run import bundle_checks, contest_config, grade_predictions, kernel_contest
from gradeflow_worker.failures import Cell, StudentFile, classify, clean_traceback, empty_failure, mark_blocked
from gradeflow_worker.environments import StudentEnvironment, resolve_environment
from gradeflow_worker.kernel import ExecResult, ExecStatus, OutputSink, SandboxedKernel
from gradeflow_worker.report_check import report_result
from gradeflow_worker.notebook_set import grade_set, load_plan, plan_files
from gradeflow_worker.restore import load_restore_spec, log_lines, restore_locked_cells, run_note
from gradeflow_worker.student import KernelStudent
from gradeflow_worker.unpack import Submission, UnreadableSubmission, unpack_submission
from gradeflow_worker.warm import KernelPool, Slot, WarmKey, hand_over, new_run_root

Progress = Callable[[str], None]


@dataclass
class RunState:
    """What happened while the student's cells ran."""

    outcome: RunOutcome = RunOutcome.COMPLETED
    detail: str = ""
    notes: list[str] = field(default_factory=list)
    kernel_alive: bool = True
    failure: RunFailure | None = None  # the first place the student's code stopped short
    later_failures: list[int] = field(default_factory=list)  # notebook code cells that raised after that one
    tracebacks: dict[str, str] = field(default_factory=dict)  # the kernel's traceback -> in the file's terms


@dataclass(frozen=True)
class HarnessConfig:
    run_dir: Path
    python: str  # the default environment's interpreter (the worker's own unless GRADEFLOW_SANDBOX_PYTHON)
    environments_dir: Path | None = None  # the built student environments (WorkerSettings.environments_path)


@dataclass
class RunRecord:
    """Everything one run produces besides the verdict: the two output streams, the TA log, the sandbox's report."""

    student_out: OutputSink
    check_out: OutputSink
    log: list[str] = field(default_factory=list)
    enforced: dict[str, str] = field(default_factory=dict)
    not_enforced: list[str] = field(default_factory=list)
    sandbox_log: str = ""
    environment: StudentEnvironment | None = None

    @classmethod
    def for_limits(cls, limits: Limits) -> "RunRecord":
        return cls(OutputSink(limits.max_output_kb * 1024), OutputSink(limits.max_output_kb * 1024))

    def capture(self, process: SandboxProcess | None) -> None:
        if process is not None:
            self.enforced, self.not_enforced = dict(process.enforced), list(process.not_enforced)
            self.sandbox_log = process.stderr_tail()


def grade(job: JobSpec, *, submission: bytes, bundle_dir: Path, sandbox: Sandbox, config: HarnessConfig,
          progress: Progress = lambda _: None, pool: KernelPool | None = None) -> ResultPost:
    """Grade one attempt, in a warm kernel from `pool` when one fits the job's limits and environment, else in one
    started now. Raises only for infrastructure failures (the caller retries); EnvironmentMissing when the job's
    environment is not built here."""
    if job.kind is SubmissionKind.PREDICTIONS:  # a contest's .csv: scored in the harness, no kernel, no sandbox
        return grade_predictions(job, submission=submission, bundle_dir=bundle_dir)
    if job.kind is SubmissionKind.REPORT:  # a PDF: opened in a limited child, graded by staff with the rubric
        return report_result(job, submission)
    began, contest, plan = time.monotonic(), contest_config(bundle_dir), load_plan(bundle_dir)
    specs = bundle_checks(bundle_dir, contest)
    try:
        submitted = unpack_submission(filename=job.filename, kind=job.kind, data=submission,
                                      notebooks=plan_files(plan) if plan else ())
    except UnreadableSubmission as exc:
        return _refused(job, specs, str(exc))
    one = {"bundle_dir": bundle_dir, "sandbox": sandbox, "config": config, "progress": progress, "pool": pool,
           "began": began, "contest": contest}
    if plan is not None:  # several notebooks: each in a fresh kernel (gradeflow_worker.notebook_set)
        return grade_set(job, submitted=submitted, specs=specs, plan=plan, run_one=lambda *part: _graded(*part, **one))
    restore = load_restore_spec(bundle_dir) if submitted.kind is SubmissionKind.NOTEBOOK else None
    return _graded(job, submitted, specs, restore, **one)


def _graded(job: JobSpec, submitted: Submission, specs: list[CheckSpec], restore: dict | None, *, bundle_dir: Path,
            sandbox: Sandbox, config: HarnessConfig, progress: Progress, pool: KernelPool | None,
            began: float, contest) -> ResultPost:
    """One notebook or script run in one kernel, its checks after its cells (`restore`: its locked cells)."""
    began_epoch = time.time() - (time.monotonic() - began)
    record = RunRecord.for_limits(job.limits)
    if submitted.zip_name is not None:
        record.log.append(f"zip {submitted.zip_name}: running {submitted.filename}; beside it: "
                          f"{', '.join(submitted.support_files) or 'nothing'}")
    cells_source, restored = restore_locked_cells(submitted.data, restore) if restore else (submitted.data, [])
    record.log += log_lines(restored)
    record.environment = job_environment(job, sandbox=sandbox, config=config, log=record.log.append)
    start = time.monotonic()
    record.log.append(f"timing: harness began at epoch {began_epoch:.3f}; checks loaded in {start - began:.3f} s")
    key = WarmKey(job.limits, record.environment)
    slot = pool.take(key) if pool is not None else None
    if pool is not None:
        pool.refill(key)  # the next kernel starts while this one runs
    try:
        if slot is not None:
            record.log.append(f"warm kernel (started in {slot.started_s:.2f} s, before this submission arrived)")
            hand_over(slot, files=submitted.files, public_src=bundle_dir / "data" / "public")
        else:
            slot = _cold_slot(job, submitted=submitted, bundle_dir=bundle_dir, sandbox=sandbox,
                              environment=record.environment, run_dir=config.run_dir)
        kernel = slot.kernel
        record.log.append(f"timing: kernel ready for the cells {time.monotonic() - start:.3f} s after the checks loaded")
        progress("running")
        student = StudentFile(submitted.filename, submitted.kind, tuple(numbered_cells(submitted.kind, cells_source)))
        state, checks = _drive(kernel, job, specs, student, record, deadline=start + job.limits.time_limit_s,
                               progress=progress)
        scored, contest_result = kernel_contest(kernel, contest=contest, job=job, bundle_dir=bundle_dir,
                                                sink=record.check_out, log=record.log.append)
        state.notes += [run_note(restored)] if restored else []
        record.capture(kernel.process)
    finally:
        if slot is not None:
            closing = time.monotonic()
            slot.close()
            record.log.append(f"timing: sandbox closed in {time.monotonic() - closing:.3f} s; "
                              f"harness ended at epoch {time.time():.3f}")
    result = _result(job, state, checks + scored, record, wall=time.monotonic() - start)
    return result.model_copy(update={"contest": contest_result}) if contest_result else result


def job_environment(job: JobSpec, *, sandbox: Sandbox, config: HarnessConfig, log: Callable[[str], None]
                    ) -> StudentEnvironment:
    """The environment the job's kernel runs in (raises EnvironmentMissing when it is not built here)."""
    environment = student_environment(job.environment, sandbox=sandbox, config=config)
    where = f", image {environment.image}" if environment.image else ""
    log(f"environment: {environment.name} (digest {environment.digest or 'unknown'}{where})")
    return environment


def student_environment(name: str, *, sandbox: Sandbox, config: HarnessConfig) -> StudentEnvironment:
    """A named environment as this backend runs it: a container backend's image of it, else its venv."""
    environment = sandbox.container_environment(name)
    if environment is None:
        environment = resolve_environment(name, environments_dir=config.environments_dir, default_python=config.python)
    return environment


def _cold_slot(job: JobSpec, *, submitted: Submission, bundle_dir: Path, sandbox: Sandbox,
               environment: StudentEnvironment, run_dir: Path) -> Slot:
    """A kernel started for this submission alone, with its file and public data in place from the start (a
    zip's members, which may sit in subfolders, are handed over as to a warm kernel once it has started)."""
    run_root = new_run_root(run_dir)
    files = {submitted.filename: submitted.data} if submitted.zip_name is None else {}
    spec = SandboxSpec(run_id=run_root.name, argv=[], ipc_dir=run_root / "ipc", files=files,
                       public_dir=bundle_dir / "data" / "public", limits=job.limits)
    slot = Slot(kernel=SandboxedKernel(sandbox, spec, python=environment.python, image=environment.image),
                run_root=run_root,
                public_dir=bundle_dir / "data" / "public", key=WarmKey(job.limits, environment), started_s=0.0)
    began = time.monotonic()
    try:
        slot.kernel.start()
    except BaseException:
        slot.close()
        raise
    slot.started_s = time.monotonic() - began
    if submitted.zip_name is not None:
        try:
            hand_over(slot, files=submitted.files, public_src=None)
        except BaseException:
            slot.close()
            raise
    return slot


def _refused(job: JobSpec, specs: list[CheckSpec], reason: str) -> ResultPost:
    """The verdict for a submission the worker will not run (a zip its own safezip check refuses)."""
    run = RunReport(outcome=RunOutcome.CRASHED, wall_seconds=0.0, message=reason[:2000])
    return ResultPost(submission_id=job.submission_id, attempt=job.attempt, checks=not_run(specs, f"Not run: {reason}"),
                      run=run, output="", log=f"seed: {job.seed}\nrefused before any code ran: {reason}")


def _drive(kernel: SandboxedKernel, job: JobSpec, specs: list[CheckSpec], student: StudentFile, record: RunRecord,
           *, deadline: float, progress: Progress) -> tuple[RunState, list[CheckResult]]:
    """The student's cells, then the checks, each outcome explained by the sandbox's limits where it can be; the
    checks that failed only because the code stopped early are marked so."""
    began = time.monotonic()
    state = _run_cells(kernel, student, sink=record.student_out, deadline=deadline, limits=job.limits,
                       progress=progress)
    _refine_outcome(kernel, state)
    record.log.append(f"timing: {len(student.cells)} cells ran in {time.monotonic() - began:.3f} s")
    began = time.monotonic()
    checks = _run_checks(kernel, specs, state, sink=record.check_out, job=job, deadline=deadline,
                         log=record.log.append, progress=progress)
    _refine_outcome(kernel, state)
    record.log.append(f"timing: {len(specs)} checks ran in {time.monotonic() - began:.3f} s")
    return state, mark_blocked(checks, failure=state.failure, outcome=state.outcome, notebook=student.notebook)


def _result(job: JobSpec, state: RunState, checks: list[CheckResult], record: RunRecord, *, wall: float) -> ResultPost:
    limits = job.limits
    ta_log = "\n".join([f"seed: {job.seed}", *record.log, "--- output while checks ran ---", record.check_out.text(),
                        "--- sandbox log ---", record.sandbox_log])
    environment = record.environment
    message = _run_message(state, limits, environment=environment.name if environment else None)
    run = RunReport(outcome=state.outcome, wall_seconds=round(wall, 3), message=message[:2000],
                    enforced=record.enforced, not_enforced=record.not_enforced,
                    environment=environment.name if environment else None,
                    environment_digest=environment.digest if environment else None, failure=state.failure)
    output = _shown_output(record.student_out, limits.shown_output_kb * 1024, tracebacks=state.tracebacks)
    return ResultPost(submission_id=job.submission_id, attempt=job.attempt, checks=checks, run=run,
                      output=output, log=ta_log[-200_000:])


def _run_cells(kernel: SandboxedKernel, student: StudentFile, *, sink: OutputSink, deadline: float, limits,
               progress: Progress) -> RunState:
    state = RunState(failure=empty_failure(student))
    for index, cell in enumerate(student.cells, start=1):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            state.outcome, state.detail = RunOutcome.TIMEOUT, f"the whole run passed {limits.time_limit_s:g} s"
            break
        progress(f"cell {index}/{len(student.cells)}")
        result = kernel.execute(cell.source, timeout=min(limits.cell_timeout_s, remaining), sink=sink)
        if _apply_cell_result(state, result, cell=cell, student=student, limits=limits, remaining=remaining):
            break
    return state


def _apply_cell_result(state: RunState, result: ExecResult, *, cell: Cell, student: StudentFile, limits,
                       remaining: float) -> bool:
    """Update the state from one cell; True when no further cell should run."""
    where = student.where(cell)
    if result.status is ExecStatus.ERROR:
        if result.ename == "MemoryError":
            state.outcome, state.detail = RunOutcome.MEMORY_LIMIT, f"{where} raised MemoryError"
            return True
        if result.traceback:
            state.tracebacks[result.traceback] = clean_traceback(result.traceback, cell=cell, student=student)
        if state.failure is None:
            state.failure = classify(result, cell=cell, student=student)
        else:
            state.later_failures.append(cell.number)
        return False
    if result.status is ExecStatus.TIMEOUT:
        limit = min(limits.cell_timeout_s, remaining)
        state.outcome, state.detail = RunOutcome.TIMEOUT, f"{where} ran longer than {limit:.0f} s"
        state.kernel_alive = result.alive
        return True
    if result.status is ExecStatus.DIED:
        state.outcome, state.detail, state.kernel_alive = RunOutcome.CRASHED, f"the process ended while {where} ran", False
        return True
    if result.status is ExecStatus.OUTPUT_LIMIT:
        state.outcome, state.detail = RunOutcome.OUTPUT_LIMIT, f"{where} printed more than {limits.max_output_kb} KB"
        state.kernel_alive = False
        return True
    return False


def _run_checks(kernel: SandboxedKernel, specs: list[CheckSpec], state: RunState, *, sink: OutputSink, job: JobSpec,
                deadline: float, log, progress: Progress) -> list[CheckResult]:
    if not state.kernel_alive or not kernel.alive():
        kernel.kill()
        return not_run(specs, f"Not run: {describe_outcome(state.outcome, detail=state.detail)}")
    student = KernelStudent(kernel, sink=sink)
    results: list[CheckResult] = []
    for index, spec in enumerate(specs):
        progress(f"check {index + 1}/{len(specs)}")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            state.outcome, state.detail = RunOutcome.TIMEOUT, "the checks ran past the run's time limit"
            return results + not_run(specs[index:], "Not run: the time limit for the whole run was reached.")
        try:
            began = time.monotonic()
            results.append(run_check(spec, student, seed=job.seed, timeout=min(job.limits.check_timeout_s, remaining),
                                     log=log))
            log(f"timing: check {spec.name} {time.monotonic() - began:.3f} s")
        except KernelDied as exc:
            state.outcome, state.detail, state.kernel_alive = RunOutcome.CRASHED, "while the checks were running", False
            results.append(CheckResult(name=spec.name, score=0, max_score=spec.points, passed=False, message=str(exc)))
            return results + not_run(specs[index + 1 :], "Not run: the Python process running your code had ended.")
    return results


def _refine_outcome(kernel: SandboxedKernel, state: RunState) -> None:
    """A crash or stall explained by a cgroup limit gets that limit's outcome."""
    if kernel.process is None:
        return
    usage = kernel.process.usage()
    if usage.memory_exceeded and state.outcome in (RunOutcome.CRASHED, RunOutcome.COMPLETED, RunOutcome.TIMEOUT):
        state.outcome, state.detail = RunOutcome.MEMORY_LIMIT, state.detail
    elif usage.processes_exceeded and state.outcome in (RunOutcome.CRASHED, RunOutcome.COMPLETED, RunOutcome.TIMEOUT):
        state.outcome = RunOutcome.PROCESS_LIMIT


def _run_message(state: RunState, limits, *, environment: str | None = None) -> str:
    """How the run ended (a limit), then where the student's code stopped short (said once), else that it ran."""
    limit = {
        RunOutcome.TIMEOUT: f"{limits.cell_timeout_s:g} s per cell, {limits.time_limit_s:g} s in all",
        RunOutcome.MEMORY_LIMIT: f"{limits.memory_mb} MB",
        RunOutcome.PROCESS_LIMIT: f"{limits.max_processes} processes",
        RunOutcome.OUTPUT_LIMIT: f"{limits.max_output_kb} KB",
    }.get(state.outcome, "")
    text = describe_outcome(state.outcome, limit=limit, detail=state.detail if state.outcome is RunOutcome.CRASHED else "")
    if state.detail and state.outcome is not RunOutcome.CRASHED:
        text += f" ({state.detail})"
    parts = [text] if state.outcome is not RunOutcome.COMPLETED or state.failure is None else []
    if state.failure is not None:
        parts.append(describe_failure(state.failure, environment=environment))
    if state.later_failures:
        parts.append(describe_later_failures(state.later_failures))
    return " ".join([*parts, *[n[0].upper() + n[1:] + "." for n in state.notes]])


def _shown_output(sink: OutputSink, cap: int, *, tracebacks: dict[str, str] | None = None) -> str:
    """The student's output, capped, with the kernel's tracebacks in the terms of their file."""
    text = sink.text()
    for raw, clean in (tracebacks or {}).items():
        text = text.replace(raw, clean)
    if len(text.encode()) <= cap and sink.total <= cap:
        return text
    return text.encode()[:cap].decode("utf-8", "ignore") + f"\n[output truncated: {sink.total} bytes in all]"
