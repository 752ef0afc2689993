"""Warm sandboxes through the real worker: a submission takes a kernel started before it arrived, and nothing
of one student's run is visible to the next (each kernel and its sandbox serve exactly one submission)."""
from __future__ import annotations

import time

import pytest

from tests.integration.test_spine import reference_script

pytestmark = [pytest.mark.integration, pytest.mark.bwrap, pytest.mark.redis]

LEAVE_TRACES = b"""
import os, pathlib
pathlib.Path('/tmp/left-behind').write_text('secret of the first student')
pathlib.Path('left-in-home').write_text('secret')
os.environ['GF_LEFT'] = 'secret'
LEFT_GLOBAL = 'secret'
"""
LOOK_FOR_TRACES = b"""
import os, pathlib, sys
found = [pathlib.Path('/tmp/left-behind').exists(), pathlib.Path('left-in-home').exists(),
         'GF_LEFT' in os.environ, 'LEFT_GLOBAL' in globals()]
print('traces found:', found, 'files here:', sorted(os.listdir('.')))
"""


def test_a_warm_kernel_serves_one_submission_and_keeps_nothing_for_the_next(stack):
    first = stack.grade("traces.py", LEAVE_TRACES + reference_script())
    assert first["score"] == 10, first
    time.sleep(3)  # the next kernel starts while nobody waits
    second = stack.grade("look.py", LOOK_FOR_TRACES + reference_script(), username="student2")
    assert second["score"] == 10, second
    assert "traces found: [False, False, False, False]" in second["output"], second["output"]
    assert "'look.py'" in second["output"] and "traces.py" not in second["output"]  # its own file, in its home
    staff = stack.get(second["id"], username="ta1").json()
    assert "warm kernel (started in" in staff["log"]  # it did not wait for a kernel to start
    assert staff["enforced"]["memory"].startswith("cgroup") and staff["enforced"]["network"]  # same limits as cold
