"""Sandbox backends behind one interface: bwrap (tests, single host), docker (production), process (local look only)."""
from gradeflow_worker.sandbox.base import Sandbox, SandboxProcess, SandboxSpec, SandboxUsage

__all__ = ["Sandbox", "SandboxProcess", "SandboxSpec", "SandboxUsage", "make_sandbox"]


def make_sandbox(settings):  # noqa: ANN001 - WorkerSettings
    """The backend the settings name."""
    if settings.sandbox_backend == "bwrap":
        from gradeflow_worker.sandbox.bwrap import BubblewrapSandbox

        return BubblewrapSandbox(python=settings.sandbox_python or None, uid=settings.sandbox_uid)
    if settings.sandbox_backend == "docker":
        from gradeflow_worker.sandbox.docker import DockerSandbox

        return DockerSandbox(image=settings.docker_image, docker_host=settings.docker_host or None, uid=settings.sandbox_uid)
    if settings.mode == "production":
        raise RuntimeError("the 'process' sandbox refuses to start in production mode")
    from gradeflow_worker.sandbox.process import ProcessSandbox

    return ProcessSandbox()
