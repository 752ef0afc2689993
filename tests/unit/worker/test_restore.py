"""Locked cells (nbgrader) restored before the student's cells run, with nbgrader's checksums in the TA log."""
import json

import nbformat
from gradeflow_graders.importers.nbgrader import restore_spec, student_version
from gradeflow_graders.nbgrader_cells import compute_checksum
from gradeflow_worker.restore import (
    RESTORE_FILE,
    load_restore_spec,
    log_lines,
    restore_locked_cells,
    run_note,
)

from tests.integration import nbgrader_material as material

RELEASED = student_version(material.notebook(material.ONE))
SPEC = restore_spec(RELEASED)


def submitted(answers, edits=None, drop=()):
    book = material.answered(RELEASED, answers, edits)
    book["cells"] = [c for c in book["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") not in drop]
    return json.dumps(book).encode()


def sources(data):
    return [(c.metadata.get("nbgrader", {}).get("grade_id"), c.source) for c in nbformat.reads(data.decode(), 4).cells]


def test_the_spec_lists_the_locked_cells_as_students_got_them():
    assert [c["grade_id"] for c in SPEC["cells"]] == ["intro", "setup", "test_square", "test_mean"]
    square = next(c for c in SPEC["cells"] if c["grade_id"] == "test_square")
    assert square["source"] == "assert square(3) == 9" and "HIDDEN" not in json.dumps(SPEC)  # hidden tests stay out
    assert SPEC["order"][:3] == ["intro", "setup", "square"]


def test_an_untouched_notebook_is_left_as_it_is():
    data = submitted({"square": material.SQUARE})
    assert restore_locked_cells(data, SPEC) == (data, [])


def test_an_edited_locked_cell_is_replaced_and_reported_with_both_checksums():
    data, changed = restore_locked_cells(submitted({}, {"setup": "math = None", "test_square": "pass"}), SPEC)
    assert dict(sources(data))["setup"] == "import math" and dict(sources(data))["test_square"] == "assert square(3) == 9"
    assert [(c.grade_id, c.change) for c in changed] == [("setup", "edited"), ("test_square", "edited")]
    student_cell = {"cell_type": "code", "source": "math = None",
                    "metadata": next(c for c in RELEASED["cells"] if c["metadata"]["nbgrader"]["grade_id"] == "setup")["metadata"]}
    assert changed[0].student_checksum == compute_checksum(student_cell) != changed[0].source_checksum
    lines = log_lines(changed)
    assert lines[0] == (f"locked cell setup edited by the student (checksum {changed[0].student_checksum}, "
                        f"source {changed[0].source_checksum}); restored")
    assert run_note(changed).endswith("(edited: setup, test_square)")


def test_metadata_edits_count_as_edits():
    book = json.loads(submitted({}))
    book["cells"][1]["metadata"]["nbgrader"]["locked"] = False
    _, changed = restore_locked_cells(json.dumps(book).encode(), SPEC)
    assert [(c.grade_id, c.change) for c in changed] == [("setup", "edited")]


def test_a_deleted_locked_cell_goes_back_at_its_place():
    data, changed = restore_locked_cells(submitted({"square": material.SQUARE}, drop={"setup", "test_square"}), SPEC)
    ids = [grade_id for grade_id, _ in sources(data)]
    assert ids[:4] == ["intro", "setup", "square", "test_square"]
    assert [(c.grade_id, c.change, c.student_checksum) for c in changed] == [("setup", "deleted", None),
                                                                             ("test_square", "deleted", None)]
    assert "deleted: setup, test_square" in run_note(changed)
    data, _ = restore_locked_cells(submitted({}, drop={"intro", "setup"}), SPEC)
    assert [grade_id for grade_id, _ in sources(data)][:2] == ["intro", "setup"]  # nothing earlier: at the top


def test_the_bundle_may_not_have_a_spec(tmp_path):
    assert load_restore_spec(tmp_path) is None
    (tmp_path / RESTORE_FILE).write_text(json.dumps(SPEC))
    assert load_restore_spec(tmp_path) == SPEC
