"""Code the harness sends into the student's kernel to serve one request.

The snippet is self-contained (it imports what it needs afresh) and only moves
data: it never sees reference values, checks or scores. What it writes is a
gradeflow_protocol.messages.KernelReply in JSON (the kernel cannot import the
protocol, so the shape is spelled here and held to the model by a unit test);
whatever it writes is treated as hostile by codec.py.
"""
from __future__ import annotations

import json

_TEMPLATE = r'''
def __gf_serve():
    import json as _json, os as _os, numpy as _np
    __gf_req = _json.loads({req!r})
    _dir = {ipc!r}
    _g = globals()
    _count = [0]

    def _dec(v):
        if isinstance(v, dict):
            if set(v) == {{"__gf_ref__"}}:
                return _g[v["__gf_ref__"]]
            if set(v) == {{"__gf_npy__"}}:
                return _np.load(_os.path.join(_dir, v["__gf_npy__"]), allow_pickle=False)
            return {{k: _dec(x) for k, x in v.items()}}
        if isinstance(v, list):
            return [_dec(x) for x in v]
        return v

    def _enc(v, depth=0):
        if depth > 8:
            raise TypeError("value nested too deeply")
        if v is None or type(v) in (bool, int, float, str):
            return v
        if isinstance(v, _np.generic) and v.dtype.kind in "biufc":
            return v.item() if v.dtype.kind != "c" else [v.real.item(), v.imag.item()]
        if isinstance(v, _np.ndarray):
            if v.dtype.kind not in "biufc":
                raise TypeError(f"an array of dtype {{v.dtype}} cannot be sent back; use numbers")
            _count[0] += 1
            name = "out-{nonce}-%d.npy" % _count[0]
            _np.save(_os.path.join(_dir, name), _np.ascontiguousarray(v), allow_pickle=False)
            return {{"__gf_npy__": name}}
        if isinstance(v, (list, tuple)):
            return [_enc(x, depth + 1) for x in v]
        if isinstance(v, dict):
            return {{str(k): _enc(x, depth + 1) for k, x in v.items()}}
        if isinstance(v, (int, float)):
            return float(v) if isinstance(v, float) else int(v)
        raise TypeError(f"a value of type {{type(v).__name__}} cannot be sent back")

    op = __gf_req["op"]
    try:
        if op == "has":
            value = __gf_req["name"] in _g
        elif op == "get":
            if __gf_req["name"] not in _g:
                raise NameError(f"name '{{__gf_req['name']}}' is not defined")
            value = _g[__gf_req["name"]]
        elif op == "eval":
            value = eval(__gf_req["expr"], _g)
        elif op == "define":
            _g[__gf_req["name"]] = eval(__gf_req["expr"], _g)
            value = None
        else:
            target = __gf_req["function"]
            fn = _g[target] if target in _g else None
            if fn is None:
                raise NameError(f"name '{{target}}' is not defined")
            value = fn(*_dec(__gf_req["args"]), **_dec(__gf_req["kwargs"]))
        reply = {{"ok": True, "value": _enc(value)}}
    except BaseException as exc:
        reply = {{"ok": False, "error": f"{{type(exc).__name__}}: {{exc}}"[:1000], "ename": type(exc).__name__[:200]}}
    with open(_os.path.join(_dir, "out-{nonce}.json"), "w") as fh:
        _json.dump(reply, fh)

__gf_serve()
del __gf_serve
'''


def request_code(request: dict, *, ipc_inside: str, nonce: str) -> str:
    """Python source that serves `request` in the kernel and writes out-<nonce>.json."""
    return _TEMPLATE.format(req=json.dumps(request), ipc=ipc_inside, nonce=nonce)


_GOVERNOR = r'''
def __gf_govern(cap):
    import sys
    used = [0]

    def wrap(stream):
        original = stream.write

        def write(text):
            if not isinstance(text, str) or used[0] > cap:
                return original(text) if not isinstance(text, str) else len(text)
            used[0] += len(text.encode("utf-8", "replace"))
            return original(text)
        stream.write = write

    wrap(sys.stdout)
    wrap(sys.stderr)

__gf_govern({cap})
del __gf_govern
'''


def output_governor_code(cap_bytes: int) -> str:
    """Kernel start-up code that stops buffering output once `cap_bytes` have been written.

    A print loop fills ipykernel's buffer far faster than it is flushed (229 MB in
    the first message, 1.4 GB resident, measured here), so without this a flood
    ends as an out-of-memory kill rather than the output limit. This code runs in
    the student's process and only protects the student: the harness counts what
    arrives and enforces the limit itself, whatever this code is turned into.
    """
    return _GOVERNOR.format(cap=int(cap_bytes))


PRELOAD_MODULES = ("numpy",)  # what every environment's students import: paid for before a submission arrives


def preload_code(modules: tuple[str, ...] = PRELOAD_MODULES) -> str:
    """Kernel start-up code importing `modules` into sys.modules (not the student's namespace); a missing one is
    skipped, so the student's own import reports it."""
    lines = [f"try:\n    __import__({name!r})\nexcept ImportError:\n    pass" for name in modules]
    return "\n".join(lines) + "\n"
