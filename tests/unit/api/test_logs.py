"""The kernel's start-up banner is left out of the log staff read (gradeflow_api/logs.py)."""
from gradeflow_api.logs import without_kernel_banner

# Captured from a real start: ipykernel 7.4.0 launched as the sandbox launches it (ipc transport), stdout+stderr.
BANNER = """NOTE: When using the `ipython kernel` entry point, Ctrl-C will not work.

To exit, you will have to explicitly quit this process, by either sending
"quit" from a client, or using Ctrl-\\ in UNIX-like environments.

To read more about this, see https://github.com/ipython/ipython/issues/2049


To connect another client to this kernel, use:
    --existing /tmp/kcap/ipc/kernel.json
"""


def test_the_banner_is_dropped_and_the_rest_kept():
    log = f"seed: 7\ntiming: checks loaded\n--- sandbox log ---\n{BANNER}Traceback: real trouble\n"
    shown = without_kernel_banner(log)
    assert "Ctrl-C will not work" not in shown and "--existing" not in shown and "ipython/issues" not in shown
    assert shown == "seed: 7\ntiming: checks loaded\n--- sandbox log ---\nTraceback: real trouble\n"


def test_a_banner_at_the_very_end_and_twice():
    assert without_kernel_banner("a\n" + BANNER.rstrip("\n")) == "a\n"
    assert without_kernel_banner(BANNER + "x\n" + BANNER) == "x\n"


def test_a_student_printing_one_banner_line_is_kept():
    line = "NOTE: When using the `ipython kernel` entry point, Ctrl-C will not work.\nsomething else\n"
    assert without_kernel_banner(line) == line
    assert without_kernel_banner("") == ""
