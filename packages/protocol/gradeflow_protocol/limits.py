"""The operator's default limits and caps, from the settings (shared by the API and local validation)."""
from __future__ import annotations

from gradeflow_protocol.messages import Limits
from gradeflow_protocol.settings import CommonSettings


def limits_from_settings(settings: CommonSettings) -> tuple[Limits, Limits]:
    """(defaults, caps): an assignment's resources override the defaults and are clipped to the caps."""
    defaults = Limits(time_limit_s=settings.time_limit_s, cell_timeout_s=settings.cell_timeout_s,
                      check_timeout_s=settings.check_timeout_s, memory_mb=settings.memory_mb,
                      max_processes=settings.max_processes, max_output_kb=settings.max_output_kb,
                      shown_output_kb=settings.shown_output_kb, scratch_mb=settings.scratch_mb,
                      max_open_files=settings.max_open_files)
    caps = Limits(time_limit_s=settings.cap_time_limit_s, cell_timeout_s=settings.cap_cell_timeout_s,
                  memory_mb=settings.cap_memory_mb, max_processes=settings.cap_max_processes)
    return defaults, caps


CAPPED = ("time_limit_s", "cell_timeout_s", "memory_mb", "max_processes")


def clip_limits(defaults: Limits, caps: Limits, *, wanted: dict | None = None, gpu: bool = False) -> Limits:
    """The limits of a run: defaults overridden by what an assignment asks for, clipped to the operator's caps."""
    merged = defaults.model_dump() | (wanted or {})
    for key in CAPPED:
        merged[key] = min(merged[key], getattr(caps, key))
    merged["gpu"] = gpu
    return Limits(**merged)


def default_job_limits(settings: CommonSettings) -> Limits:
    """What a CPU assignment that sets no resources runs with (what a warm kernel is started with first)."""
    return clip_limits(*limits_from_settings(settings))
