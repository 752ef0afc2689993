"""Contest scoring: hostile predictions files get a message naming the first bad row; metrics, splits, the
bootstrap interval and the Ladder; the wafer-defects data generator is deterministic."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from gradeflow_graders.contest import (PRIVATE, PUBLIC, Metric, PredictionsError, Solution, bootstrap_interval,
                                       ladder, parse_predictions, sample_submission, score, score_split)
from tests.conftest import REPO

SOLUTION = Solution(ids=("a", "b", "c", "d", "e", "f"), labels=("x", "y", "x", "z", "y", "x"),
                    usage=(PUBLIC, PRIVATE, PUBLIC, PRIVATE, PRIVATE, PUBLIC))


def csv_of(rows: list[str], header: str = "id,label") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


PERFECT = [f"{i},{label}" for i, label in zip(SOLUTION.ids, SOLUTION.labels)]


@pytest.mark.parametrize("data, message", [
    (csv_of(PERFECT, header="ID,Label"), r"row 1: the header is 'ID,Label'; expected 'id,label'"),
    (csv_of(PERFECT[:-1]), r"1 test ids have no prediction, the first is 'f'"),
    (csv_of([*PERFECT[:2], "a,y", *PERFECT[2:]]), r"row 4: id 'a' appears twice \(first at row 2\)"),
    (csv_of(["a,w", *PERFECT[1:]]), r"row 2: the label is 'w'; expected one of x, y, z"),
    (csv_of(["a,", *PERFECT[1:]]), r"row 2: the label is empty"),
    (csv_of([*PERFECT, "g,x"]), r"row 8: too many rows: every one of the test set's 6 ids already has its"),
    (csv_of([*PERFECT, *PERFECT, *PERFECT]), r"row 8: too many rows"),
    (csv_of([*PERFECT[:3]] + [f"n{k},x" for k in range(30)]), r"row 5: unknown id 'n0'"),
    (csv_of([*PERFECT[:3], *PERFECT[:3]]), r"row 5: id 'a' appears twice \(first at row 2\)"),
    (csv_of(PERFECT, header="id;label"), r"row 1: the header is 'id;label'; .* separates fields with semicolons"),
    (csv_of(PERFECT, header="id\tlabel"), r"separates fields with tabs: save it with commas"),
    (b"\n\n", r"the file is empty"),
    (b'id,label\n"a,x\n', r"not a valid CSV"),
    (csv_of(["q,x", *PERFECT[1:]]), r"row 2: unknown id 'q'"),
    (csv_of(["a,x,1", *PERFECT[1:]]), r"row 2: 3 fields; expected 2"),
    ("id,label\na,\u00e9\n".encode("latin-1"), r"not UTF-8 text \(byte 11, line 2\)"),
    (b"", r"the file is empty"),
    (b"\x00\x01id,label", r"NUL bytes"),
    (b"id,label\n" + b"a," + b"x" * 300 + b"\n", r"row 2: a field is longer than 200"),
    (b"x" * (5 * 1024 * 1024 + 1), r"the limit is 5 MB"),
])
def test_a_bad_predictions_file_names_the_first_bad_row(data, message):
    with pytest.raises(PredictionsError, match=message):
        parse_predictions(data, SOLUTION, Metric.ACCURACY)


def test_probabilities_must_be_numbers_between_0_and_1_and_never_nan():
    header = "id,x,y,z"
    good = [f"{i},0.2,0.3,0.5" for i in SOLUTION.ids]
    parse_predictions(csv_of(good, header), SOLUTION, Metric.ROC_AUC)
    for bad, message in [("nan", r"row 3: y is nan; expected a probability"), ("1.5", r"row 3: y is 1.5"),
                         ("high", r"row 3: y is 'high'")]:
        rows = [*good[:1], f"b,0.2,{bad},0.5", *good[2:]]
        with pytest.raises(PredictionsError, match=message):
            parse_predictions(csv_of(rows, header), SOLUTION, Metric.ROC_AUC)


def test_a_bom_blank_lines_and_any_row_order_are_accepted():
    data = b"\xef\xbb\xbf" + csv_of(list(reversed(PERFECT)) + [""])
    predictions = parse_predictions(data, SOLUTION, Metric.ACCURACY)
    assert predictions.labels == SOLUTION.labels


def test_scores_are_scikit_learns_on_each_split():
    from sklearn.metrics import f1_score

    guess = ["a,x", "b,x", "c,y", "d,z", "e,y", "f,x"]
    predictions = parse_predictions(csv_of(guess), SOLUTION, Metric.MACRO_F1)
    public, private = score_split(predictions, SOLUTION, Metric.MACRO_F1)
    truth, pred = np.array(SOLUTION.labels), np.array([g[-1] for g in guess])
    usage = np.array(SOLUTION.usage)
    assert public == pytest.approx(f1_score(truth[usage == PUBLIC], pred[usage == PUBLIC], average="macro",
                                            labels=["x", "y", "z"], zero_division=0))
    assert private == pytest.approx(f1_score(truth[usage == PRIVATE], pred[usage == PRIVATE], average="macro",
                                             labels=["x", "y", "z"], zero_division=0))
    assert score(predictions, SOLUTION, Metric.ACCURACY) == pytest.approx(4 / 6)


def test_roc_auc_of_perfect_probabilities_is_one():
    onehot = {"x": "1,0,0", "y": "0,1,0", "z": "0,0,1"}
    rows = [f"{i},{onehot[label]}" for i, label in zip(SOLUTION.ids, SOLUTION.labels)]
    predictions = parse_predictions(csv_of(rows, "id,x,y,z"), SOLUTION, Metric.ROC_AUC)
    assert score(predictions, SOLUTION, Metric.ROC_AUC) == 1.0


def test_the_bootstrap_interval_brackets_the_score_and_narrows_with_more_rows():
    rng = np.random.default_rng(0)
    n = 400
    labels = tuple(rng.choice(["x", "y"], size=n))
    solution = Solution(ids=tuple(f"i{k}" for k in range(n)), labels=labels, usage=(PRIVATE,) * n)
    noisy = [label if rng.random() < 0.8 else ("y" if label == "x" else "x") for label in labels]
    predictions = parse_predictions(csv_of([f"i{k},{p}" for k, p in enumerate(noisy)]), solution, Metric.ACCURACY)
    point = score(predictions, solution, Metric.ACCURACY, PRIVATE)
    low, high = bootstrap_interval(predictions, solution, Metric.ACCURACY, resamples=300)
    assert low < point < high and high - low < 0.12
    assert bootstrap_interval(predictions, solution, Metric.ACCURACY, resamples=300) == (low, high)  # seeded


def test_the_ladder_shows_only_significant_improvements():
    assert ladder([0.70, 0.705, 0.72, 0.719, 0.80], step=0.01) == pytest.approx([0.70, 0.70, 0.72, 0.72, 0.80])


def test_the_sample_submission_is_itself_a_valid_submission():
    for metric in Metric:
        text = sample_submission(SOLUTION, metric)
        parse_predictions(text.encode(), SOLUTION, metric)


def test_the_wafer_data_is_deterministic_imbalanced_and_its_sample_scores(tmp_path):
    spec = importlib.util.spec_from_file_location("make_data", REPO / "assignments" / "wafer-defects" / "make_data.py")
    make_data = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_data)
    counts = make_data.generate(tmp_path / "a", seed=7, train=200, test=100)
    make_data.generate(tmp_path / "b", seed=7, train=200, test=100)
    for name in ("data/public/train_images.npy", "data/public/sample_submission.csv", "hidden/solution.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    images = np.load(tmp_path / "a" / "data" / "public" / "train_images.npy", allow_pickle=False)
    assert images.shape == (200, 32, 32) and images.dtype == np.uint8
    assert counts["none"] > counts["scratch"] > counts["center"] > 0
    solution = Solution.read(tmp_path / "a" / "hidden" / "solution.csv")
    assert not (tmp_path / "a" / "data" / "public" / "solution.csv").exists()  # the labels stay hidden
    sample = (tmp_path / "a" / "data" / "public" / "sample_submission.csv").read_bytes()
    public, private = score_split(parse_predictions(sample, solution, Metric.MACRO_F1), solution, Metric.MACRO_F1)
    assert 0 < public < 0.5 and 0 < private < 0.5
    assert {"Public", "Private"} == set(solution.usage)


def test_the_first_problem_is_reported_before_the_rest_is_read():
    """A file is validated as it is read: a bad row early is reported even when a later row would fail too."""
    data = csv_of(["a,w", *PERFECT[1:], *PERFECT * 1000])
    with pytest.raises(PredictionsError, match=r"^row 2: the label is 'w'"):
        parse_predictions(data, SOLUTION, Metric.ACCURACY)


def test_the_vectorised_bootstrap_scores_every_resample_as_scikit_learn_does():
    from gradeflow_graders.contest import Predictions, _label_scores, _metric_value

    rng = np.random.default_rng(3)
    solution = Solution(ids=tuple(f"i{k}" for k in range(80)), labels=tuple(rng.choice(["p", "q", "r", "s"], 80)),
                        usage=tuple([PUBLIC, PRIVATE] * 40))
    guesses = Predictions(labels=tuple(rng.choice(["p", "q", "r"], 80)), probabilities=None)  # "s" never guessed
    samples = rng.choice(np.arange(80), size=(40, 25))
    for metric in (Metric.ACCURACY, Metric.MACRO_F1):
        fast = _label_scores(metric, guesses, solution, samples)
        slow = [_metric_value(metric, solution.labels, guesses, rows, solution.classes) for rows in samples]
        assert np.allclose(fast, slow, rtol=0, atol=1e-12), metric


def test_the_committed_wafer_data_is_what_the_seed_regenerates(tmp_path):
    """assignments/wafer-defects/data and hidden are make_data.py's output for its default seed, byte for byte."""
    folder = REPO / "assignments" / "wafer-defects"
    spec = importlib.util.spec_from_file_location("make_data", folder / "make_data.py")
    make_data = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_data)
    make_data.generate(tmp_path)
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(folder) for d in ("data", "hidden") for p in (folder / d).rglob("*")
                       if p.is_file())
    assert made == committed
    for name in made:
        assert (tmp_path / name).read_bytes() == (folder / name).read_bytes(), name
    assert sum((folder / name).stat().st_size for name in committed) < 2_000_000  # commit-sized
    assert (folder / "wrong" / "sample_submission.csv").read_bytes() == \
        (folder / "data" / "public" / "sample_submission.csv").read_bytes()


def test_a_non_utf8_csv_is_refused_at_upload_with_the_fix():
    """An upload that is not UTF-8 never reaches the worker: nothing is stored, so nothing counts."""
    from gradeflow_core.uploads import UploadError, check_upload

    with pytest.raises(UploadError, match=r"not UTF-8 text \(byte 16 is invalid\)\. Save it as UTF-8"):
        check_upload(filename="predictions.csv", data="id,label\nw0000,n\u00f6ne\n".encode("latin-1"),
                     accepted=[".csv", ".ipynb"], max_bytes=10_000_000)
    assert check_upload(filename="predictions.csv", data=b"\xef\xbb\xbfid,label\n", accepted=[".csv"],
                        max_bytes=100).kind.value == "predictions"
