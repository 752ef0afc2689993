"""What a submission puts in the kernel's home, and which file's cells run: the upload itself, or, for a zip,
every member (read again with safezip here: the API's check is not trusted) with its one notebook or script."""
from __future__ import annotations

from dataclasses import dataclass, field

from gradeflow_protocol.enums import SubmissionKind
from gradeflow_protocol.safezip import UnsafeZip
from gradeflow_protocol.zipsubmission import is_zip_name, open_submission_zip


class UnreadableSubmission(ValueError):
    """The submission cannot be graded as sent (a zip refused here); the words are for the student."""


@dataclass(frozen=True)
class Submission:
    filename: str  # the file whose cells run: the upload, or the notebook or script inside the zip
    kind: SubmissionKind
    data: bytes
    files: dict[str, bytes] = field(default_factory=dict)  # what the home receives, by relative path
    zip_name: str | None = None  # the uploaded zip's name, when it came as one
    notebooks: tuple[str, ...] = ()  # several notebooks (an nbgrader assignment's), each run in its own kernel

    @property
    def support_files(self) -> list[str]:
        return sorted(name for name in self.files if name != self.filename)


def unpack_submission(*, filename: str, kind: SubmissionKind, data: bytes, notebooks: tuple[str, ...] = ()
                      ) -> Submission:
    """The submission as the kernel gets it; raises UnreadableSubmission for a zip that safezip refuses.
    `notebooks`: the assignment's several notebooks (see gradeflow_worker.notebook_set)."""
    if not is_zip_name(filename):
        return Submission(filename=filename, kind=kind, data=data, files={filename: data})
    try:
        found = open_submission_zip(data, notebooks=notebooks)
    except UnsafeZip as exc:
        raise UnreadableSubmission(f"The zip {filename} was refused: {exc}.") from None
    return Submission(filename=found.main, kind=found.kind, data=found.files[found.main], files=found.files,
                      zip_name=filename, notebooks=found.notebooks)
