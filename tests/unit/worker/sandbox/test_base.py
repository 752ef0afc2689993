"""The contract every backend shares (base.py): which limits are reported, the RLIMIT_CPU formula."""
from gradeflow_protocol.messages import Limits
from gradeflow_worker.sandbox.base import REPORTABLE_LIMITS, cpu_time_limit_s, not_enforced_of, reportable_limits
from gradeflow_worker.sandbox.docker_spec import enforced_by_docker
from gradeflow_worker.sandbox.local import rlimits_for

LIMITS = Limits(time_limit_s=100)


def test_gpu_is_reportable_only_when_asked():
    assert reportable_limits(LIMITS) == set(REPORTABLE_LIMITS)
    assert reportable_limits(LIMITS.model_copy(update={"gpu": True})) == set(REPORTABLE_LIMITS) | {"gpu"}


def test_not_enforced_is_what_is_reportable_and_missing():
    assert not_enforced_of(LIMITS, {"memory": "x", "network": "y", "cpu": "z"}) == ["cpu_time", "disk", "open_files",
                                                                                     "processes"]
    gpu = LIMITS.model_copy(update={"gpu": True})
    assert "gpu" in not_enforced_of(gpu, {}) and not_enforced_of(gpu, enforced_by_docker(gpu, 65534)) == []


def test_every_backend_uses_the_one_cpu_time_formula():
    assert cpu_time_limit_s(LIMITS) == 105
    rlimits, by_rlimit = rlimits_for(LIMITS, {})
    assert rlimits["cpu"] == 105 and by_rlimit["cpu_time"] == "RLIMIT_CPU=105s"
    assert enforced_by_docker(LIMITS, 65534)["cpu_time"].startswith("RLIMIT_CPU=105s")
