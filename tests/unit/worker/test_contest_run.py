"""Contest scoring in the worker, on fakes (no kernel, no sandbox): a predictions upload is scored in the harness,
every unscorable file gets its row-numbered message and no scores (void), the private score never reaches what a
student or a TA reads, the interval is the seed's; a code competition's file is read back through the kernel."""
from __future__ import annotations

import csv
import json
import sys
import types
from pathlib import Path

import pytest

from gradeflow_graders.contest import Metric, Solution, parse_predictions, score_split
from gradeflow_protocol.bundles import read_config
from gradeflow_protocol.enums import RunOutcome, SubmissionKind
from gradeflow_protocol.messages import JobSpec, Limits, ResultPost
from gradeflow_worker import contest_run
from gradeflow_worker.harness import HarnessConfig, grade
from gradeflow_worker.kernel import OutputSink
from gradeflow_worker.student import KernelStudent
from tests.conftest import ASSIGNMENTS
from tests.fakes.kernel import ExecKernel

BUNDLE = ASSIGNMENTS / "wafer-defects"
CONTEST = read_config(BUNDLE).contest
SOLUTION = Solution.read(BUNDLE / "hidden" / "solution.csv")
SAMPLE = (BUNDLE / "data" / "public" / "sample_submission.csv").read_bytes()


def job(kind: SubmissionKind = SubmissionKind.PREDICTIONS, *, seed: int = 7, filename: str = "predictions.csv"):
    return JobSpec(submission_id=1, attempt=1, kind=kind, filename=filename, submission_sha256="0" * 64,
                   bundle_sha256="0" * 64, assignment_slug="wafer-defects", limits=Limits(), seed=seed,
                   environment="scientific")


def csv_of(rows: list[list[str]], header: str = "id,label") -> bytes:
    return "\n".join([header, *(",".join(row) for row in rows)]).encode() + b"\n"


def half_right() -> list[list[str]]:
    """Right on the even rows, 'none' elsewhere: public and private scores that differ."""
    return [[id_, label if i % 2 == 0 else "none"] for i, (id_, label) in enumerate(zip(SOLUTION.ids,
                                                                                       SOLUTION.labels))]


class NoSandbox:
    """A sandbox that fails the test if the harness reaches for it."""

    def __getattr__(self, name):
        raise AssertionError(f"the harness used the sandbox ({name}) for a predictions file")


def grade_upload(data: bytes, *, seed: int = 7, tmp_path: Path) -> ResultPost:
    return grade(job(seed=seed), submission=data, bundle_dir=BUNDLE, sandbox=NoSandbox(),
                 config=HarnessConfig(run_dir=tmp_path, python="/nonexistent/python"))


ROWS = half_right()
BAD = [
    ("wrong header", csv_of(ROWS, header="Id,Predicted"),
     "row 1: the header is 'Id,Predicted'; expected 'id,label' (as in sample_submission.csv)"),
    ("semicolons", "\n".join(["id;label", *(";".join(r) for r in ROWS)]).encode(),
     "the file separates fields with semicolons: save it with commas"),
    ("missing ids", csv_of(ROWS[:-3]), "3 test ids have no prediction, the first is 'w0397'"),
    ("duplicate id", csv_of([*ROWS[:5], ROWS[2], *ROWS[5:]]), "row 7: id 'w0002' appears twice (first at row 4)"),
    ("unknown label", csv_of([ROWS[0], [ROWS[1][0], "Scratch"], *ROWS[2:]]),
     "row 3: the label is 'Scratch'; expected one of center, edge_ring, none, particle, scratch"),
    ("NaN label", csv_of([[ROWS[0][0], "NaN"], *ROWS[1:]]), "row 2: the label is 'NaN'; expected one of"),
    ("empty label", csv_of([[ROWS[0][0], ""], *ROWS[1:]]), "row 2: the label is empty"),
    ("unknown id", csv_of([["x9999", "none"], *ROWS[1:]]), "row 2: unknown id 'x9999'"),
    ("too many rows", csv_of(ROWS + [[f"extra{k}", "none"] for k in range(500)]),
     "row 402: too many rows: every one of the test set's 400 ids already has its prediction"),
    ("far too many rows", csv_of(ROWS * 3), "row 402: too many rows"),
    ("a field too long", csv_of([[ROWS[0][0], "x" * 300], *ROWS[1:]]), "row 2: a field is longer than 200"),
    ("not UTF-8", "id,label\nw0000,n\u00f6ne\n".encode("latin-1"), "not UTF-8 text (byte 16, line 2)"),
    ("empty", b"", "the file is empty"),
    ("blank", b"\n\n  \n", "the file is empty"),
    ("header only", b"id,label\n", "400 test ids have no prediction, the first is 'w0000'"),
    ("too large", b"id,label\n" + b"w0000,none\n" * 500_000, "the limit is 5 MB"),
    ("binary", b"\x00\x01\x02PK", "NUL bytes"),
    ("a header of 20000 fields", b",".join([b"h"] * 20_000) + b"\n", "row 1: the header is 'h,h,h,h"),
    ("a row of 20000 fields", b"id,label\n" + b",".join([b"w0000"] * 20_000) + b"\n", "row 2: 20000 fields"),
]


@pytest.mark.parametrize(("case", "data", "message"), BAD, ids=[case for case, _, _ in BAD])
def test_an_unscorable_file_names_its_first_bad_row_and_is_void(case, data, message, tmp_path):
    result = grade_upload(data, tmp_path=tmp_path)
    [check] = result.checks
    assert message in check.message, check.message
    assert check.message.startswith("Your predictions could not be scored: ")
    assert (check.score, check.max_score, check.passed) == (0.0, 1.0, False)
    assert check.name == "Public score (macro-F1)"
    assert result.contest is not None and result.contest.public is None and result.contest.private is None
    assert result.contest.private_low is None and result.contest.problem == check.message
    assert result.run.outcome is RunOutcome.COMPLETED and result.run.environment is None
    assert message in result.run.message and "does not count against your daily limit" in result.run.message
    assert result.output == "" and result.error is None


def test_a_predictions_upload_is_scored_without_a_sandbox_and_its_score_is_the_public_one(tmp_path):
    result = grade_upload(csv_of(ROWS), tmp_path=tmp_path)
    public, private = score_split(parse_predictions(csv_of(ROWS), SOLUTION, Metric.MACRO_F1), SOLUTION,
                                  Metric.MACRO_F1)
    [check] = result.checks
    assert check.score == round(public, 4) == result.score and result.max_score == 1.0 and check.passed
    assert f"{round(public, 4):.4f}" in check.message and "120 of its 400 rows" in check.message
    contest = result.contest
    assert contest.metric is Metric.MACRO_F1 and contest.public == round(public, 4)
    assert contest.private == round(private, 4) and contest.private != contest.public
    assert contest.private_low <= contest.private <= contest.private_high and contest.problem == ""
    assert result.run.outcome is RunOutcome.COMPLETED and "no code ran" in result.run.message
    assert "no kernel or sandbox started" in result.log and "seed: 7" in result.log


def secrets_of(result: ResultPost) -> list[str]:
    """How the private score and its interval could be written: 4 digits, shorter, and in full."""
    contest = result.contest
    values = [contest.private, contest.private_low, contest.private_high]
    return [text for value in values for text in (f"{value:.4f}", f"{value:.3f}", f"{value:g}", repr(value))]


def test_the_private_score_is_in_the_contest_result_only(tmp_path):
    result = grade_upload(csv_of(ROWS), tmp_path=tmp_path)
    shown = json.dumps({"checks": [c.model_dump() for c in result.checks], "run": result.run.model_dump(mode="json"),
                        "output": result.output, "log": result.log})
    leaked = [text for text in secrets_of(result) if text in shown]
    assert not leaked, (leaked, shown)
    assert "private" in result.log  # the TA log says where it went, not what it is


def test_the_interval_is_the_seeds(tmp_path):
    first = grade_upload(csv_of(ROWS), seed=11, tmp_path=tmp_path).contest
    again = grade_upload(csv_of(ROWS), seed=11, tmp_path=tmp_path).contest
    other = grade_upload(csv_of(ROWS), seed=12, tmp_path=tmp_path).contest
    assert (first.private_low, first.private_high) == (again.private_low, again.private_high)
    assert (first.private_low, first.private_high) != (other.private_low, other.private_high)
    assert first.private == other.private and first.public == other.public  # only the interval is drawn


def test_the_sample_submission_scores_as_recorded_and_a_perfect_file_full_marks(tmp_path):
    assert grade_upload(SAMPLE, tmp_path=tmp_path).score == 0.1487
    perfect = grade_upload((BUNDLE / "solution.csv").read_bytes(), tmp_path=tmp_path)
    assert perfect.score == 1.0 and perfect.contest.private == 1.0


def test_a_csv_for_an_assignment_without_a_contest_is_not_scored(tmp_path):
    (tmp_path / "bundle").mkdir()
    (tmp_path / "bundle" / "assignment.toml").write_text('id = "plain"\ntitle = "Plain"\nkind = "notebook"\n'
                                                         'points = 1\naccepts = [".ipynb", ".csv"]\n')
    result = grade(job(), submission=SAMPLE, bundle_dir=tmp_path / "bundle", sandbox=NoSandbox(),
                   config=HarnessConfig(run_dir=tmp_path, python="/nonexistent/python"))
    assert result.contest is None and result.score == 0 and "has no contest" in result.checks[0].message


def test_a_bundle_without_a_contest_keeps_its_checks(tmp_path):
    assert contest_run.contest_config(tmp_path) is None  # no assignment.toml: a bare checks folder
    assert contest_run.bundle_checks(BUNDLE, CONTEST) == []  # a contest needs no checks/
    assert len(contest_run.bundle_checks(ASSIGNMENTS / "ode-theta", None)) > 0


# --- a code competition: the file the student's code wrote, read back through the kernel


def write_predictions(rows: list[list[str]]) -> str:
    """Student code that writes predictions.csv in the working folder."""
    return f"import csv\nwith open('predictions.csv', 'w', newline='') as fh:\n    csv.writer(fh).writerows({rows!r})\n"


class DeadKernel(ExecKernel):
    def alive(self) -> bool:
        return False


def run_kernel(tmp_path: Path, source: str, *, kernel_class=ExecKernel, kind=SubmissionKind.NOTEBOOK):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (tmp_path / "ipc").mkdir(exist_ok=True)
    kernel = kernel_class(tmp_path / "ipc", source)
    log: list[str] = []
    checks, contest = contest_run.kernel_contest(kernel, contest=CONTEST, job=job(kind, filename="nb.ipynb"),
                                                 bundle_dir=BUNDLE, sink=OutputSink(10_000), log=log.append)
    return checks, contest, log


@pytest.fixture
def in_home(tmp_path, monkeypatch):
    (tmp_path / "home").mkdir()
    monkeypatch.chdir(tmp_path / "home")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path


def test_a_notebooks_predictions_are_read_back_and_scored_as_an_upload(in_home):
    checks, contest, log = run_kernel(in_home, write_predictions([["id", "label"], *ROWS]))
    upload = contest_run.score_predictions(csv_of(ROWS), contest=CONTEST, bundle_dir=BUNDLE, seed=7)
    assert checks == [upload.check] and contest == upload.contest and contest.private is not None
    assert not any(text in "\n".join(log) for text in (f"{contest.private:.4f}", repr(contest.private)))


def test_no_predictions_file_says_so_and_counts_as_a_run(in_home):
    checks, contest, _ = run_kernel(in_home, "x = 1\n")
    assert checks[0].score == 0 and contest is None
    assert "your notebook did not write predictions.csv in its working folder" in checks[0].message
    checks, _, _ = run_kernel(in_home, "x = 1\n", kind=SubmissionKind.SCRIPT)
    assert "your script did not write predictions.csv" in checks[0].message


def test_a_bad_file_from_a_notebook_gets_the_uploads_message(in_home):
    checks, contest, _ = run_kernel(in_home, write_predictions([["ID", "label"], *ROWS]))
    assert contest is None and "row 1: the header is 'ID,label'" in checks[0].message
    big = "with open('predictions.csv', 'wb') as fh:\n    fh.write(b'id,label\\n' + b'w0000,none\\n' * 500_000)\n"
    checks, _, _ = run_kernel(in_home, big)
    assert "the limit is 5 MB" in checks[0].message


def test_a_predictions_folder_or_a_dead_kernel_is_not_scored(in_home):
    checks, _, _ = run_kernel(in_home, "import os\nos.mkdir('predictions.csv')\n")
    assert "did not write predictions.csv" in checks[0].message
    checks, contest, _ = run_kernel(in_home, "x = 1\n", kernel_class=DeadKernel)
    assert contest is None and "stopped before predictions.csv could be read" in checks[0].message


@pytest.mark.parametrize("encoded", [b"@@not base64@@", 12, b"QUJD" * 2_000_000])
def test_a_hostile_reply_is_a_clean_zero(in_home, monkeypatch, encoded):
    """The student's code can replace what the kernel-side reader uses (here its base64 module; the fake kernel
    shares this process, so the module is swapped for the test only): what comes back is checked here."""
    fake = types.ModuleType("base64")
    fake.b64encode = lambda data: encoded
    monkeypatch.setitem(sys.modules, "base64", fake)
    checks, contest, _ = run_kernel(in_home, write_predictions([["id", "label"], *ROWS]))
    assert contest is None and checks[0].score == 0
    assert "Not scored: predictions.csv could not be read back from your run" in checks[0].message


def test_only_a_plain_file_name_is_read():
    kernel = ExecKernel(Path("/nonexistent"), "")
    with pytest.raises(ValueError, match="not a plain file name"):
        KernelStudent(kernel, sink=OutputSink(100)).read_file("../etc/passwd", cap=100)


def test_the_starter_notebook_writes_a_scorable_file(in_home):
    """The starter, run cell by cell in this process with the public data beside it, beats the sample."""
    import nbformat

    (in_home / "home" / "data").symlink_to(BUNDLE / "data" / "public")
    notebook = nbformat.read(BUNDLE / "starter.ipynb", as_version=4)
    namespace: dict = {}
    for cell in notebook.cells:
        if cell.cell_type == "code":
            exec(cell.source, namespace)
    with open(in_home / "home" / "predictions.csv", newline="") as handle:
        assert next(csv.reader(handle)) == ["id", "label"]
    scored = contest_run.score_predictions((in_home / "home" / "predictions.csv").read_bytes(), contest=CONTEST,
                                           bundle_dir=BUNDLE, seed=0)
    assert scored.scored and scored.check.score > 0.6
