"""Every message is a frozen, validated schema with each field documented, declared once."""
from __future__ import annotations

import inspect

import pytest
from pydantic import ValidationError

from gradeflow_protocol import messages
from gradeflow_protocol.paths import WORKER_PREFIX, WorkerPath

MODELS = [m for _, m in inspect.getmembers(messages, inspect.isclass)
          if issubclass(m, messages.Frozen) and m is not messages.Frozen and m.__module__ == messages.__name__]


def test_the_worker_protocol_and_the_kernel_reply_are_declared_here():
    names = {m.__name__ for m in MODELS}
    assert {"GradeTask", "JobSpec", "ResultPost", "ClaimBody", "HeartbeatBody", "HeartbeatReply", "ResultReply",
            "ReleaseBody", "ReleaseReply", "Refusal", "KernelReply"} <= names


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_message_is_frozen_strict_about_fields_and_documented(model):
    assert model.model_config["frozen"] and model.model_config["extra"] == "forbid"
    undocumented = [name for name, field in model.model_fields.items() if not field.description]
    assert undocumented == [], f"{model.__name__}: document {undocumented}"


def test_bodies_are_validated():
    with pytest.raises(ValidationError):
        messages.ClaimBody(worker="w" * 201)
    with pytest.raises(ValidationError):
        messages.HeartbeatBody(progress="p", extra=1)
    with pytest.raises(ValidationError):
        messages.ReleaseBody(error="e" * 4001)
    reply = messages.ResultReply(stored=True)
    with pytest.raises(ValidationError):
        reply.stored = False


def test_the_kernel_reply_wants_a_real_boolean():
    with pytest.raises(ValidationError):
        messages.KernelReply.model_validate_json(b'{"ok": "true"}')
    assert messages.KernelReply.model_validate_json(b'{"ok": true}').value is None


def test_worker_paths_are_named_once():
    assert WorkerPath.CLAIM.url == f"{WORKER_PREFIX}/claim"
    assert len({p.url for p in WorkerPath}) == len(WorkerPath)
