"""Grading logs as staff read them: without the boilerplate ipykernel prints to the sandbox's output at start.

The worker keeps the sandbox's output whole (it is evidence); only what is shown leaves the banner out. Only the
exact banner block is dropped, so a student's code printing one of its lines elsewhere still shows.
"""
from __future__ import annotations

import re

# ipykernel/kernelapp.py: `_ctrl_c_message` and `log_connection_info`, printed when a kernel starts outside a
# kernel manager (as the sandbox starts it); blank lines between the parts vary with the version.
_GAP = r"[ \t]*\n(?:[ \t]*\n)*"
_CTRL_C = (r"NOTE: When using the `ipython kernel` entry point, Ctrl-C will not work\." + _GAP
           + r"To exit, you will have to explicitly quit this process, by either sending" + r"[ \t]*\n"
           + r"\"quit\" from a client, or using Ctrl-\\ in UNIX-like environments\." + _GAP
           + r"To read more about this, see https://github\.com/ipython/ipython/issues/2049[ \t]*(?:\n(?:[ \t]*\n)*|$)")
_CONNECT = r"To connect another client to this kernel, use:[ \t]*\n[ \t]*--existing [^\n]*(?:\n|$)"
KERNEL_BANNER = re.compile(rf"(?m)^(?:{_CTRL_C}(?:{_CONNECT})?|{_CONNECT})")


def without_kernel_banner(log: str) -> str:
    """The log with every ipykernel start-up banner taken out."""
    return KERNEL_BANNER.sub("", log)
