"""Contest scoring: a predictions CSV (Kaggle's convention) read as hostile input, scored against hidden labels.

Nothing here runs student code. A predictions file is bytes from a student (or from a student's notebook that
wrote `predictions.csv` in its sandbox); it is decoded, capped and validated row by row, and the first
problem is reported with its row number and what was expected:

    solution = Solution.read(Path("hidden/solution.csv"))           # id,label,usage (Public/Private)
    predictions = parse_predictions(data, solution, Metric.MACRO_F1)  # PredictionsError on a bad file
    public, private = score_split(predictions, solution, Metric.MACRO_F1)
    low, high = bootstrap_interval(predictions, solution, Metric.MACRO_F1, usage="Private")

Metrics are scikit-learn's (accuracy, macro-F1, one-vs-rest ROC-AUC). For accuracy and macro-F1 the file has
`id,label`; for ROC-AUC it has `id` and one probability column per class (named as the classes are), as
Kaggle's multi-class AUC contests do. `ladder` is the Ladder of Blum and Hardt (2015): the shown score moves
only on a significant improvement, so probing the public split teaches little.
"""
from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from gradeflow_protocol.enums import ContestMetric

import numpy as np

MAX_PREDICTIONS_BYTES = 5 * 1024 * 1024
MAX_FIELD_CHARS = 200
PUBLIC, PRIVATE = "Public", "Private"


Metric = ContestMetric  # declared once, in the protocol (assignment.toml's [contest] metric names it)


class PredictionsError(ValueError):
    """A predictions file that cannot be scored; the message names the first bad row and what was expected."""

    def __init__(self, message: str, row: int | None = None) -> None:
        super().__init__(message if row is None else f"row {row}: {message}")
        self.row = row


@dataclass(frozen=True)
class Solution:
    """The hidden answers: test ids in order, their labels, and which split (Public/Private) each belongs to."""

    ids: tuple[str, ...]
    labels: tuple[str, ...]
    usage: tuple[str, ...]
    id_column: str = "id"
    target_column: str = "label"

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.labels)))

    @classmethod
    def read(cls, path: Path) -> "Solution":
        """A solution file `id,label,usage`, written by the staff (trusted, but checked for consistency)."""
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        header, body = rows[0], rows[1:]
        if len(header) != 3 or header[2] != "usage":
            raise ValueError(f"{path}: the header must be ID_COLUMN,TARGET_COLUMN,usage, not {header}")
        if {row[2] for row in body} - {PUBLIC, PRIVATE}:
            raise ValueError(f"{path}: usage must be {PUBLIC} or {PRIVATE}")
        return cls(ids=tuple(r[0] for r in body), labels=tuple(r[1] for r in body), usage=tuple(r[2] for r in body),
                   id_column=header[0], target_column=header[1])

    def expected_header(self, metric: Metric) -> list[str]:
        if metric is Metric.ROC_AUC:
            return [self.id_column, *self.classes]
        return [self.id_column, self.target_column]


@dataclass(frozen=True)
class Predictions:
    """A validated predictions file, in the solution's id order: labels, or one probability row per id."""

    labels: tuple[str, ...] | None
    probabilities: np.ndarray | None  # (n, classes), for ROC-AUC


def _decode(data: bytes) -> str:
    if len(data) > MAX_PREDICTIONS_BYTES:
        raise PredictionsError(f"the file is {len(data) / 1e6:.1f} MB; the limit is "
                               f"{MAX_PREDICTIONS_BYTES / 1e6:.0f} MB")
    if not data.strip():
        raise PredictionsError("the file is empty; start from sample_submission.csv")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise PredictionsError(f"not UTF-8 text (byte {exc.start}, line {line}); save the file as UTF-8 CSV") from None
    if "\0" in text:
        raise PredictionsError("the file holds NUL bytes; it is not a CSV text file")
    return text


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """The non-blank rows, header first, with their 1-based line numbers (header = row 1), fields stripped; read
    as they are validated, so the first problem is the one reported."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for fields in reader:
            if not fields or all(not f.strip() for f in fields):
                continue
            if any(len(f) > MAX_FIELD_CHARS for f in fields):
                raise PredictionsError(f"a field is longer than {MAX_FIELD_CHARS} characters", reader.line_num)
            yield reader.line_num, [f.strip() for f in fields]
    except csv.Error as exc:
        raise PredictionsError(f"not a valid CSV ({exc})", reader.line_num) from None


def _probability(value: str, row: int, column: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise PredictionsError(f"{column} is {value!r}; expected a probability between 0 and 1", row) from None
    if not math.isfinite(number) or not 0.0 <= number <= 1.0:
        raise PredictionsError(f"{column} is {value}; expected a probability between 0 and 1 (no NaN)", row)
    return number


def _clipped(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _separator_hint(header: list[str]) -> str:
    """Why a header did not split (a spreadsheet's regional CSV uses ';' or tabs between fields)."""
    found = next((name for sep, name in ((";", "semicolons"), ("\t", "tabs")) if len(header) == 1 and sep in header[0]),
                 None)
    return f"; the file separates fields with {found}: save it with commas" if found else ""


def parse_predictions(data: bytes, solution: Solution, metric: Metric) -> Predictions:
    """Validate a predictions file against the test ids; raises PredictionsError at the first problem."""
    records = _records(_decode(data))
    header = next(records, (1, None))[1]
    if header is None:
        raise PredictionsError("the file has no header row; start from sample_submission.csv")
    expected = solution.expected_header(metric)
    if header != expected:
        raise PredictionsError(f"the header is {_clipped(','.join(header))!r}; expected {','.join(expected)!r} "
                               f"(as in sample_submission.csv){_separator_hint(header)}", 1)
    index = {id_: i for i, id_ in enumerate(solution.ids)}
    seen: dict[str, int] = {}
    labels: list[str | None] = [None] * len(solution.ids)
    probabilities = np.zeros((len(solution.ids), len(solution.classes))) if metric is Metric.ROC_AUC else None
    for line, fields in records:
        id_ = _checked_id(fields, line=line, expected=expected, index=index, seen=seen)
        if probabilities is not None:
            probabilities[index[id_]] = [_probability(v, line, c) for v, c in zip(fields[1:], expected[1:])]
        else:
            labels[index[id_]] = _checked_label(fields[1], line=line, known=solution.classes)
    if len(seen) < len(solution.ids):
        missing = next(id_ for id_ in solution.ids if id_ not in seen)
        raise PredictionsError(f"{len(solution.ids) - len(seen)} test ids have no prediction, the first is "
                               f"{missing!r}; expected one row per id of sample_submission.csv")
    return Predictions(labels=None if probabilities is not None else tuple(labels),  # type: ignore[arg-type]
                       probabilities=probabilities)


def _checked_id(fields: list[str], *, line: int, expected: list[str], index: dict[str, int],
                seen: dict[str, int]) -> str:
    """The row's id, once its field count and id are valid (recorded in `seen`)."""
    if len(seen) == len(index):
        raise PredictionsError(f"too many rows: every one of the test set's {len(index)} ids already has its "
                               "prediction; expected one row per id", line)
    if len(fields) != len(expected):
        raise PredictionsError(f"{len(fields)} fields; expected {len(expected)} ({','.join(expected)})", line)
    id_ = fields[0]
    if id_ not in index:
        raise PredictionsError(f"unknown id {id_!r}; every id must be one of the test set's "
                               "(see sample_submission.csv)", line)
    if id_ in seen:
        raise PredictionsError(f"id {id_!r} appears twice (first at row {seen[id_]})", line)
    seen[id_] = line
    return id_


def _checked_label(label: str, *, line: int, known: tuple[str, ...]) -> str:
    if label not in known:
        shown = "empty" if not label else repr(label)
        raise PredictionsError(f"the label is {shown}; expected one of {', '.join(sorted(known))}", line)
    return label


def _metric_value(metric: Metric, truth: Sequence[str], predictions: Predictions, rows: np.ndarray,
                  classes: Sequence[str]) -> float:
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

    y_true = np.asarray(truth)[rows]
    if metric is Metric.ROC_AUC:
        assert predictions.probabilities is not None
        scores = predictions.probabilities[rows]
        present = [i for i, c in enumerate(classes) if c in set(y_true)]
        if len(present) < 2:
            return float("nan")  # AUC needs two classes in the sample
        if len(classes) == 2:
            return float(roc_auc_score(y_true == classes[1], scores[:, 1]))
        return float(roc_auc_score(y_true, scores, labels=list(classes), multi_class="ovr", average="macro"))
    assert predictions.labels is not None
    y_pred = np.asarray(predictions.labels)[rows]
    if metric is Metric.ACCURACY:
        return float(accuracy_score(y_true, y_pred))
    return float(f1_score(y_true, y_pred, labels=list(classes), average="macro", zero_division=0))


def score(predictions: Predictions, solution: Solution, metric: Metric, usage: str | None = None) -> float:
    """The metric over the rows of one split (None: all rows)."""
    rows = np.arange(len(solution.ids)) if usage is None else np.flatnonzero(np.asarray(solution.usage) == usage)
    return _metric_value(metric, solution.labels, predictions, rows, solution.classes)


def score_split(predictions: Predictions, solution: Solution, metric: Metric) -> tuple[float, float]:
    """(public score, private score)."""
    return score(predictions, solution, metric, PUBLIC), score(predictions, solution, metric, PRIVATE)


def bootstrap_interval(predictions: Predictions, solution: Solution, metric: Metric, *, usage: str = PRIVATE,
                       resamples: int = 1000, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """A percentile bootstrap confidence interval of the score on one split (rows resampled with replacement)."""
    rows = np.flatnonzero(np.asarray(solution.usage) == usage)
    samples = np.random.default_rng(seed).choice(rows, size=(resamples, rows.size))
    if metric is Metric.ROC_AUC:
        values = np.asarray([_metric_value(metric, solution.labels, predictions, sample, solution.classes)
                             for sample in samples])
    else:
        values = _label_scores(metric, predictions, solution, samples)
    values = values[np.isfinite(values)]
    tail = (1.0 - level) / 2 * 100
    return float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))


def _label_scores(metric: Metric, predictions: Predictions, solution: Solution, samples: np.ndarray) -> np.ndarray:
    """Accuracy or macro-F1 of every resample (a row of `samples`) as scikit-learn computes them (every class in
    the average, 0 where a class's F1 is undefined), counted with NumPy a block of resamples at a time."""
    assert predictions.labels is not None
    code = {label: i for i, label in enumerate(solution.classes)}
    truth = np.asarray([code[label] for label in solution.labels])
    guess = np.asarray([code[label] for label in predictions.labels])
    classes = np.arange(len(code))[:, None, None]
    block = max(1, 4_000_000 // max(1, samples.shape[1] * len(code)))
    values = []
    for start in range(0, len(samples), block):
        t, p = truth[samples[start:start + block]], guess[samples[start:start + block]]
        if metric is Metric.ACCURACY:
            values.append((t == p).mean(axis=1))
            continue
        is_t, is_p = t == classes, p == classes  # (classes, resamples, rows)
        hits = (is_t & is_p).sum(axis=2)
        denominator = is_t.sum(axis=2) + is_p.sum(axis=2)  # 2 tp + fp + fn
        f1 = np.divide(2 * hits, denominator, out=np.zeros(denominator.shape), where=denominator > 0)
        values.append(f1.mean(axis=0))
    return np.concatenate(values)


def ladder(scores: Sequence[float], step: float) -> list[float]:
    """The Ladder (Blum and Hardt, 2015): each submission's shown score, in submission order. A score is shown
    (rounded to a multiple of `step`) only when it beats the best shown so far by at least `step`; otherwise
    the best shown so far is repeated. A common `step` is 1/sqrt(public rows)."""
    shown: list[float] = []
    best = -math.inf
    for value in scores:
        if value >= best + step:
            best = round(value / step) * step
        shown.append(best)
    return shown


def sample_submission(solution: Solution, metric: Metric, placeholder: str | None = None) -> str:
    """Kaggle's sample_submission.csv: the header and every test id with a placeholder prediction (a valid file)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = solution.expected_header(metric)
    writer.writerow(header)
    for id_ in solution.ids:
        if metric is Metric.ROC_AUC:
            writer.writerow([id_, *[f"{1 / len(solution.classes):.6f}"] * len(solution.classes)])
        else:
            writer.writerow([id_, placeholder or solution.classes[0]])
    return out.getvalue()
