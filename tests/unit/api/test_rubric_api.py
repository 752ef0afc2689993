"""The rubric API and who may see what: staff grade, edit items and release; a student never sees the rubric or
their grading before release (then only the items applied to their own report), nor anyone else's PDF."""
from __future__ import annotations

import pytest

from gradeflow_core.models import Assignment, Submission
from gradeflow_core.publishing import publish_folder
from tests.db_helpers import CHECKS
from tests.pdf_bytes import make_pdf
from tests.unit.api.staff_app import StaffApp, make_staff_app
from tests.unit.core.test_rubric import REPORT_TOML

# a [report] section whose max_pdf_mb (about 2 KB) a ten-page test PDF is over
SMALL = REPORT_TOML.replace("\n[[report.questions]]", "\n[report]\nmax_pdf_mb = 0.002\n\n[[report.questions]]", 1)


@pytest.fixture
def api(tmp_path) -> StaffApp:
    staff_app = make_staff_app(tmp_path)
    folder = tmp_path / "essay"
    (folder / "checks").mkdir(parents=True)
    (folder / "assignment.toml").write_text(SMALL)
    (folder / "checks" / "checks.py").write_text(CHECKS)
    with staff_app.session() as session:
        version = publish_folder(session, staff_app.app.state.blobs, course=session.merge(staff_app.world.course),
                                 folder=folder)
        session.commit()
        staff_app.report_id = version.assignment_id
    return staff_app


def upload(api: StaffApp, who: str, data: bytes, name: str = "report.pdf"):
    return api.client.post(f"/api/v1/assignments/{api.report_id}/submissions", headers=api.headers(who),
                           files={"file": (name, data, "application/pdf")})


def two_reports(api: StaffApp) -> tuple[int, int]:
    ids = [upload(api, who, make_pdf(who)).json()["id"] for who in ("alice", "bob")]
    api.work_queue(default=0)
    return ids[0], ids[1]


def rubric(api: StaffApp, who: str = "tina"):
    return api.client.get(f"/api/v1/assignments/{api.report_id}/rubric", headers=api.headers(who))


def grade(api: StaffApp, sid: int, body: dict, who: str = "tina"):
    return api.client.put(f"/api/v1/submissions/{sid}/rubric", json=body, headers=api.headers(who))


def test_an_upload_must_be_a_pdf_under_the_reports_limit(api):
    not_pdf = upload(api, "alice", b"just text, not a PDF\n")
    assert not_pdf.status_code == 422 and "not a PDF" in not_pdf.json()["detail"]
    big = upload(api, "alice", make_pdf(pages=10))
    assert big.status_code == 413 and "the limit is 3 KB" in big.json()["detail"]
    ok = upload(api, "alice", make_pdf())
    assert ok.status_code == 202 and ok.json()["kind"] == "report"


def test_only_staff_read_and_change_the_rubric(api):
    assert [rubric(api, who).status_code for who in ("alice", "olga", "tina", "prof")] == [403, 404, 200, 200]
    qid = rubric(api).json()["questions"][0]["id"]
    add = api.client.post(f"/api/v1/rubric/questions/{qid}/items", json={"points": -0.5, "text": "Typos"},
                          headers=api.headers("alice"))
    assert add.status_code == 403
    release = api.client.post(f"/api/v1/assignments/{api.report_id}/rubric/release", headers=api.headers("bob"))
    assert release.status_code == 403


def test_grading_editing_and_release_as_students_see_them(api):
    alice_sub, bob_sub = two_reports(api)
    questions = rubric(api).json()["questions"]
    method, results = questions
    partial = next(i["id"] for i in method["items"] if i["text"] == "Partial")
    some = next(i["id"] for i in results["items"] if i["text"] == "Some results")
    for sid, adjustment in ((alice_sub, 0.5), (bob_sub, 0)):
        r = grade(api, sid, {"questions": [
            {"question_id": method["id"], "item_ids": [partial], "comment": "Good method", "adjustment": adjustment},
            {"question_id": results["id"], "item_ids": [some], "comment": "", "adjustment": 0}]})
        assert r.status_code == 200 and r.json()["complete"]
    mine = api.client.get(f"/api/v1/submissions/{alice_sub}/rubric", headers=api.headers("alice")).json()
    assert mine == {"submission_id": alice_sub, "released": False, "score": None, "max_score": 10, "complete": False,
                    "questions": []}  # nothing before release
    edited = api.client.patch(f"/api/v1/rubric/items/{partial}", json={"points": 3}, headers=api.headers("tina"))
    assert edited.json()["submissions"] == 2
    staff_view = [api.client.get(f"/api/v1/submissions/{sid}/rubric", headers=api.headers("tina")).json()["score"]
                  for sid in (alice_sub, bob_sub)]
    assert staff_view == [6.5, 6]  # 3 + 0.5 + 3 and 3 + 3
    progress = rubric(api).json()["progress"]
    assert (progress["graded"], progress["total"], progress["next_ungraded"]) == (2, 2, None)
    released = api.client.post(f"/api/v1/assignments/{api.report_id}/rubric/release", headers=api.headers("tina"))
    assert released.json()["released"]
    mine = api.client.get(f"/api/v1/submissions/{alice_sub}/rubric", headers=api.headers("alice")).json()
    assert mine["score"] == 6.5 and mine["questions"][0]["comment"] == "Good method"
    assert [[i["text"] for i in q["items"]] for q in mine["questions"]] == [["Partial"], ["Some results"]]
    other = api.client.get(f"/api/v1/submissions/{bob_sub}/rubric", headers=api.headers("alice"))
    assert other.status_code == 404


def test_a_bad_grading_changes_nothing(api):
    alice_sub, _ = two_reports(api)
    method, results = rubric(api).json()["questions"]
    wrong = grade(api, alice_sub, {"questions": [
        {"question_id": method["id"], "item_ids": [method["items"][0]["id"]]},
        {"question_id": results["id"], "item_ids": [method["items"][1]["id"]]}]})  # an item of another question
    assert wrong.status_code == 422 and "not items of \"Results\"" in wrong.json()["detail"]
    after = api.client.get(f"/api/v1/submissions/{alice_sub}/rubric", headers=api.headers("tina")).json()
    assert not any(q["graded"] for q in after["questions"]) and after["score"] == 0


def test_the_pdf_goes_to_its_owner_as_a_sandboxed_attachment_and_to_staff_inline(api):
    alice_sub, bob_sub = two_reports(api)
    mine = api.client.get(f"/api/v1/submissions/{alice_sub}/report.pdf", headers=api.headers("alice"))
    assert mine.status_code == 200 and mine.content == make_pdf("alice")
    assert mine.headers["content-disposition"].startswith("attachment;")
    assert mine.headers["content-security-policy"].startswith("sandbox; default-src 'none'")
    assert mine.headers["x-content-type-options"] == "nosniff" and mine.headers["content-type"] == "application/pdf"
    assert api.client.get(f"/api/v1/submissions/{bob_sub}/report.pdf", headers=api.headers("alice")).status_code == 404
    assert api.client.get(f"/api/v1/submissions/{bob_sub}/report.pdf", headers=api.headers("olga")).status_code == 404
    staff = api.client.get(f"/api/v1/submissions/{bob_sub}/report.pdf", headers=api.headers("tina"))
    assert staff.headers["content-disposition"].startswith("inline;") and staff.content == make_pdf("bob")
    with api.session() as session:
        code = Submission(user_id=api.world.users["alice"].id, assignment_id=api.report_id, filename="a.py",
                          version_id=session.get(Assignment, api.report_id).current_version_id, kind="script",
                          blob_sha256="0" * 64, size=1)
        session.add(code)
        session.commit()
        code_id = code.id
    assert api.client.get(f"/api/v1/submissions/{code_id}/report.pdf", headers=api.headers("alice")).status_code == 404


def test_every_staff_rubric_route_answers_outsiders_404_students_403_and_strangers_401(api):
    alice_sub, _ = two_reports(api)
    method = rubric(api).json()["questions"][0]
    item = method["items"][0]["id"]
    calls = [("get", f"/api/v1/assignments/{api.report_id}/rubric", None),
             ("post", f"/api/v1/rubric/questions/{method['id']}/items", {"points": 1, "text": "x"}),
             ("patch", f"/api/v1/rubric/items/{item}", {"points": 1}),
             ("delete", f"/api/v1/rubric/items/{item}", None),
             ("put", f"/api/v1/submissions/{alice_sub}/rubric", {"questions": [{"question_id": method["id"]}]}),
             ("post", f"/api/v1/assignments/{api.report_id}/rubric/release", None),
             ("post", f"/api/v1/assignments/{api.report_id}/rubric/unrelease", None)]
    for method_name, url, body in calls:
        answers = [getattr(api.client, method_name)(url, headers=api.headers(who), **({"json": body} if body else {}))
                   .status_code for who in (None, "olga", "alice")]
        assert answers == [401, 404, 403], (method_name, url, answers)
    assert rubric(api).json()["questions"][0]["items"][0]["id"] == item  # nothing changed
