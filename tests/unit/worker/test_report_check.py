"""A report (PDF) is opened in a limited child process: valid, not a PDF, truncated, encrypted, hostile, and the
harness's verdict (one 0-point check) without any sandbox or kernel."""
from __future__ import annotations

import io

import pytest
from pypdf import PdfWriter

from gradeflow_protocol.enums import SubmissionKind
from gradeflow_protocol.messages import JobSpec, Limits
from gradeflow_worker.harness import HarnessConfig, grade
from gradeflow_worker.report_check import REFUSED, check_pdf, report_result
from tests.pdf_bytes import huge_page_tree, make_pdf


def job(kind: SubmissionKind = SubmissionKind.REPORT) -> JobSpec:
    return JobSpec(submission_id=5, attempt=2, kind=kind, filename="report.pdf", submission_sha256="0" * 64,
                   bundle_sha256="1" * 64, assignment_slug="project-features", limits=Limits(), seed=1)


def encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt("secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_valid_pdf_opens_and_its_pages_are_counted():
    assert check_pdf(make_pdf()).pages == 1
    assert check_pdf(make_pdf("Results", pages=3)).pages == 3


@pytest.mark.parametrize("data, words", [
    (b"print('hello')\n", "not a PDF"),
    (make_pdf(pages=2)[:250], "could not be read"),  # truncated: cut in the middle of the objects
    (b"%PDF-1.7\n" + b"\x00garbage" * 50, "could not be read"),
    (encrypted_pdf(), "encrypted"),
], ids=["python-source", "truncated", "garbage", "encrypted"])  # stable ids: the encrypted file is random
def test_a_bad_pdf_is_refused_with_what_to_do(data, words):
    verdict = check_pdf(data)
    assert verdict.pages is None
    assert words in verdict.problem and "upload" in verdict.problem


def test_a_hostile_page_tree_is_refused_by_the_parsers_limits_in_the_child():
    verdict = check_pdf(huge_page_tree())  # 12 MB of one array: pypdf stops at its element limit
    assert verdict.pages is None and "too large or too complex" in verdict.problem


def test_a_child_out_of_memory_is_a_verdict_not_a_crash():
    verdict = check_pdf(make_pdf(), memory_mb=40)  # too little to even import pypdf: the child dies, we answer
    assert verdict.pages is None and "too much memory" in verdict.problem


def test_a_child_past_its_time_is_killed_and_said_so():
    verdict = check_pdf(make_pdf(), time_s=0.001)  # an interpreter cannot even start in a millisecond
    assert verdict.pages is None and "took more than 0.001 s" in verdict.problem


def test_the_result_is_one_check_worth_nothing_the_rubric_gives_the_points():
    post = report_result(job(), make_pdf(pages=2))
    assert [(c.name, c.score, c.max_score, c.passed) for c in post.checks] == [("Report received: 2 pages", 0, 0, True)]
    assert (post.submission_id, post.attempt, post.score, post.max_score) == (5, 2, 0, 0)
    refused = report_result(job(), make_pdf()[:200]).checks
    assert [(c.name, c.passed) for c in refused] == [(REFUSED, False)] and "damaged" in refused[0].message


def test_the_harness_checks_a_report_without_a_sandbox_or_the_bundles_checks(tmp_path):
    class NoSandbox:  # any use would fail the test
        def __getattr__(self, name):
            raise AssertionError(f"a report must not touch the sandbox ({name})")

    post = grade(job(), submission=make_pdf(), bundle_dir=tmp_path / "no-bundle", sandbox=NoSandbox(),
                 config=HarnessConfig(run_dir=tmp_path, python="/nonexistent/python"))
    assert post.checks[0].name == "Report received: 1 page" and post.error is None
