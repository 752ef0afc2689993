"""Code the harness sends into the student's kernel to serve one request.

The snippet is self-contained (it imports what it needs afresh) and only moves
data: it never sees reference values, checks or scores. What it writes is a
gradeflow_protocol.messages.KernelReply in JSON (the kernel cannot import the
protocol, so the shape is spelled here and held to the model by a unit test);
whatever it writes is treated as hostile by codec.py.
"""
from __future__ import annotations

import json

_SERVE = r'''
def __gf_serve(_request, _dir, _nonce):
    import json as _json, os as _os, sys as _sys, numpy as _np
    _g = globals()
    _count = [0]

    class GradeflowNeedsTorch(Exception):
        pass

    def _torch():
        if _sys.modules.get("torch") is not None:
            return _sys.modules["torch"]
        try:
            import torch
        except Exception as exc:
            raise GradeflowNeedsTorch(f"torch cannot be imported in this environment ({type(exc).__name__})") from None
        return torch

    def _load(name):
        return _np.load(_os.path.join(_dir, name), allow_pickle=False)

    def _tensor(v):
        torch = _torch()
        t = torch.tensor(_load(v["__gf_tensor__"]))
        t = t.to(getattr(torch, v["dtype"])) if v["dtype"] else t
        t = t.to(v["device"]) if v["device"] else t
        return t.requires_grad_(True) if v["requires_grad"] else t

    def _dec(v):
        if isinstance(v, dict):
            if set(v) == {"__gf_ref__"}:
                return _g[v["__gf_ref__"]]
            if set(v) == {"__gf_npy__"}:
                return _load(v["__gf_npy__"])
            if set(v) == {"__gf_tensor__", "dtype", "requires_grad", "device"}:
                return _tensor(v)
            return {k: _dec(x) for k, x in v.items()}
        if isinstance(v, list):
            return [_dec(x) for x in v]
        return v

    def _untensor(v):
        torch = _sys.modules["torch"]
        v = v.detach()
        v = v.to_dense() if v.layout != torch.strided else v
        v = v.float() if v.dtype == torch.bfloat16 or "float8" in str(v.dtype) else v
        return v.cpu().resolve_conj().resolve_neg().numpy()

    def _enc(v, depth=0):
        if depth > 8:
            raise TypeError("value nested too deeply")
        if v is None or type(v) in (bool, int, float, str):
            return v
        if _sys.modules.get("torch") is not None and isinstance(v, _sys.modules["torch"].Tensor):
            v = _untensor(v)
        if isinstance(v, _np.generic) and v.dtype.kind in "biufc":
            return v.item() if v.dtype.kind != "c" else [v.real.item(), v.imag.item()]
        if isinstance(v, _np.ndarray):
            if v.dtype.kind not in "biufc":
                raise TypeError(f"an array of dtype {v.dtype} cannot be sent back; use numbers")
            _count[0] += 1
            name = "out-%s-%d.npy" % (_nonce, _count[0])
            _np.save(_os.path.join(_dir, name), _np.ascontiguousarray(v), allow_pickle=False)
            return {"__gf_npy__": name}
        if isinstance(v, (list, tuple)):
            return [_enc(x, depth + 1) for x in v]
        if isinstance(v, dict):
            return {str(k): _enc(x, depth + 1) for k, x in v.items()}
        if isinstance(v, (int, float)):
            return float(v) if isinstance(v, float) else int(v)
        raise TypeError(f"a value of type {type(v).__name__} cannot be sent back")

    def _name(name):
        if name not in _g:
            raise NameError(f"name '{name}' is not defined")
        return _g[name]

    def _path(obj, path):
        for part in path.split(".") if path else ():
            obj = obj[int(part)] if part.isdigit() and not hasattr(obj, part) else getattr(obj, part)
        return obj

    def _call(fn, req, no_grad=False):
        args, kwargs = _dec(req["args"]), _dec(req["kwargs"])
        if not no_grad:
            return fn(*args, **kwargs)
        with _torch().no_grad():
            return fn(*args, **kwargs)

    def _seed(value):
        import random, importlib.util
        random.seed(value)
        _np.random.seed(value)
        seeded = ["random", "numpy"]
        if _sys.modules.get("torch") is not None or importlib.util.find_spec("torch") is not None:
            try:
                _torch().manual_seed(value)
                seeded.append("torch")
            except GradeflowNeedsTorch:
                pass
        return seeded

    def _file(name, cap):
        import base64
        for folder in (_os.getcwd(), _os.path.expanduser("~")):
            path = _os.path.join(folder, name)
            if _os.path.isfile(path):
                with open(path, "rb") as fh:
                    return base64.b64encode(fh.read(cap + 1)).decode("ascii")
        return None

    def _answer(req, op):
        if op == "file":
            return _file(req["name"], req["cap"])
        if op == "has":
            return req["name"] in _g
        if op == "get":
            return _name(req["name"])
        if op == "eval":
            return eval(req["expr"], _g)
        if op == "define":
            _g[req["name"]] = eval(req["expr"], _g)
            return None
        if op == "seed":
            return _seed(req["value"])
        if op == "attr":
            return _path(_name(req["target"]), req["path"])
        if op == "method":
            return _call(_path(_name(req["target"]), req["path"]), req, no_grad=req["no_grad"])
        return _call(_name(req["function"]), req)

    request = _json.loads(_request)
    try:
        reply = {"ok": True, "value": _enc(_answer(request, request["op"]))}
    except BaseException as exc:
        reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:1000], "ename": type(exc).__name__[:200]}
    with open(_os.path.join(_dir, "out-%s.json" % _nonce), "w") as fh:
        _json.dump(reply, fh)
'''

NEEDS_TORCH = "GradeflowNeedsTorch"  # the ename of a reply whose request needed torch where there is none


SERVER_NAME = "__gf_serve"  # left defined in the kernel after the first request, so later ones are one line


def request_code(request: dict, *, ipc_inside: str, nonce: str, define: bool = True) -> str:
    """Python source that serves `request` in the kernel and writes out-<nonce>.json.

    Ops: has, get, eval, define, call (function, args, kwargs), method (target, path, args, kwargs, no_grad),
    attr (target, path), seed (value), file (name, cap: up to cap + 1 bytes of a file in the working folder, else
    the home, as base64; None when neither holds one). Arguments decode as the codec encoded them (.npy arrays,
    Refs, Tensors); the value goes back through JSON and .npy (torch tensors as numpy arrays of their dtype).

    With `define` the server function is (re)defined first; without, the request is a single call of the one a
    previous request left (compiling the server is most of a request's cost: ~15 of ~20 ms). The student's code
    could replace it, as it could monkeypatch anything the server uses: what comes back is hostile either way."""
    call = f"{SERVER_NAME}({json.dumps(request)!r}, {ipc_inside!r}, {nonce!r})"
    return f"{_SERVE}\n{call}\n" if define else f"{call}\n"


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
    return "\n".join(lines) + "\n" + IMPORTABLE_PUBLIC_CODE


# An assignment's data/public/python/ (read-only at ~/data/python) is importable, after everything else: support
# modules, and the stand-in `otter` package of imported otter assignments (so `import otter` cells work).
IMPORTABLE_PUBLIC_CODE = "__import__('sys').path.append(__import__('os').path.expanduser('~/data/python'))\n"
