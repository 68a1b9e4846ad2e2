"""The grading child: imports one submission and answers the parent's calls with plain arrays.

Run by the parent as ``python -I -B child.py RESULT_FD`` in a fresh working directory that
holds a copy of the submission. It depends on the standard library and numpy only (never on
NN Studio, so nothing a submission patches in NN Studio matters here, and the sandbox needs
no more than the interpreter and numpy).

Protocol. The parent writes one JSON request on stdin and closes it::

    {"nonce": str, "file": "batchnorm.py", "convention": "functions" | "model",
     "arrays": {NAME: {"shape": [...], "data": [floats]}},
     "calls": [{"id": int, "op": ..., ...}, ...]}

The request is read completely *before* the submission is imported. The child answers on
the file descriptor RESULT_FD (not stdout: whatever the submission prints goes to a log the
parent keeps apart). Each answer is one frame: a JSON header line, then the raw
little-endian float64 bytes of the arrays it lists, in order::

    {"nonce": ..., "id": 3, "ok": true, "arrays": [{"name": "out", "shape": [8, 5]}, ...]}\\n<bytes>

and a last frame ``{"nonce": ..., "end": true}``. A failed call's frame has ``"ok": false``
and ``"error": {"type", "message", "file", "line", "traceback"}``. The parent trusts none of
it beyond "these are the numbers the submission returned": it checks the nonce, every shape
and every value, and computes the grade itself.
"""
import copy
import importlib.util
import json
import os
import sys
import traceback

import numpy as np

_float64 = np.float64  # bound before the submission runs: a patched numpy cannot swap them
_array = np.array
_random_seed = np.random.seed
_dumps = json.dumps
_write = os.write


def main(argv):
    result_fd = int(argv[1])
    request = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    nonce = request["nonce"]
    arrays = {name: _array(spec["data"], dtype=_float64).reshape(spec["shape"])
              for name, spec in request["arrays"].items()}
    out = _Frames(result_fd, nonce)
    sys.path.insert(0, os.getcwd())  # the submission's own helper modules import
    try:
        module = _import(request["file"])
    except BaseException as exc:  # SyntaxError, SystemExit, MemoryError: all the student's
        out.frame(-1, error=_describe(exc, "while importing the submission"))
        out.end()
        return 0
    runner = _Runner(module, request, arrays)
    for call in request["calls"]:
        try:
            results = runner.run(call)
        except BaseException as exc:
            out.frame(call["id"], error=_describe(exc, call.get("context", "")))
        else:
            out.frame(call["id"], results=results)
    out.end()
    return 0


def _import(filename):
    path = os.path.join(os.getcwd(), filename)
    spec = importlib.util.spec_from_file_location("submission", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["submission"] = module
    spec.loader.exec_module(module)
    return module


class _Runner:
    """Carries out one call on fresh copies of the parent's inputs (nothing drifts)."""

    def __init__(self, module, request, arrays):
        self.module, self.arrays = module, arrays
        self.model = None
        self.request = request
        self.warmed = {}

    def base_model(self):
        if self.model is None:
            factory = self.function(self.request["factory"])
            self.model = factory(**self.request.get("factory_kwargs", {}))
        return self.model

    def value(self, ref):
        """A fresh copy of an argument: an array reference, maybe perturbed, or a scalar."""
        if isinstance(ref, dict) and "array" in ref:
            value = self.arrays[ref["array"]].copy()
            if "perturb" in ref:
                index, delta = ref["perturb"]
                value.reshape(-1)[index] += delta
            return value
        if isinstance(ref, dict):
            return {key: self.value(item) for key, item in ref.items()}
        return ref

    def run(self, call):
        if call.get("seed") is not None:
            _random_seed(call["seed"])  # code that draws from np.random gets one mask per call
        op = call["op"]
        if op in ("forward", "forward_backward"):
            return self.layer(call, backward=op == "forward_backward")
        if op == "model_loss":
            return self.model_loss(call)
        if op == "model_params":
            params = getattr(self.base_model(), "params", None)
            if not isinstance(params, dict):
                raise _Contract("the model has no 'params' dict")
            return [(f"param.{name}", value) for name, value in params.items()]
        raise ValueError(f"unknown operation {op!r}")

    def function(self, name):
        function = getattr(self.module, name, None)
        if not callable(function):
            raise _Contract(f"the file defines no function {name}()")
        return function

    def layer(self, call, backward):
        args = [self.value(ref) for ref in call["args"]]
        param = self.value(call["param"]) if call.get("param") is not None else None
        if param is not None:
            args.append(param)
        result = self.function(call["forward"])(*args)
        if call.get("returns_cache", True):
            if not isinstance(result, tuple) or len(result) != 2:
                raise _Contract(f"{call['forward']}() must return (out, cache), "
                                f"got {_kind(result)}")
            out, cache = result
        else:
            out, cache = result, None
        results = [("out", out)]
        for key in call.get("state", []):
            if param is None or key not in param:
                raise _Contract(f"{call['forward']}() left no {key!r} in its parameter dict")
            results.append((f"state.{key}", param[key]))
        if backward:
            grads = self.function(call["backward"])(self.value(call["dout"]), cache)
            names = call["grad_names"]
            if len(names) == 1 and not isinstance(grads, (tuple, list)):
                grads = (grads,)
            if not isinstance(grads, (tuple, list)) or len(grads) != len(names):
                count = len(grads) if isinstance(grads, (tuple, list)) else 1
                raise _Contract(f"{call['backward']}() returned {count} "
                                f"array{'s' if count != 1 else ''}; expected {', '.join(names)}")
            results += list(zip(names, grads))
        return results

    def model_loss(self, call):
        model = copy.deepcopy(self.warm(call) if call["mode"] == "test" else self.base_model())
        self.set_params(model, call["params"])
        _set_mode(model, call["mode"])
        result = model.loss(self.value(call["x"]), _array(call["y"], dtype=np.int64))
        if not isinstance(result, tuple) or len(result) != 2:
            raise _Contract(f"loss(X, y) must return (loss, grads), got {_kind(result)}")
        loss, grads = result
        results = [("loss", loss)]
        if call.get("grads"):
            if not isinstance(grads, dict):
                raise _Contract(f"loss(X, y) returned grads as {_kind(grads)}, not a dict")
            for name in call["params"]:
                if name not in grads:
                    raise _Contract(f"grads has no entry {name!r} (params has it)")
                results.append((f"grad.{name}", grads[name]))
        return results


    def set_params(self, model, refs):
        params = getattr(model, "params", None)
        if not isinstance(params, dict):
            raise _Contract("the model has no 'params' dict")
        for name, ref in refs.items():
            params[name] = self.value(ref)

    def warm(self, call):
        """A model whose running statistics come from a few training passes on the batch
        (the same for every call of a check), so the test phase sees realistic ones."""
        key = call["x"]["array"]
        if key not in self.warmed:
            model = copy.deepcopy(self.base_model())
            self.set_params(model, {n: {"array": r["array"]} for n, r in call["params"].items()})
            _set_mode(model, "train")
            for _ in range(5):
                model.loss(self.value(call["x"]), _array(call["y"], dtype=np.int64))
            self.warmed[key] = model
        return self.warmed[key]


def _set_mode(model, mode):
    if callable(getattr(model, "set_mode", None)):
        model.set_mode(mode)
        return
    for bn_param in getattr(model, "bn_params", None) or []:
        bn_param["mode"] = mode
    dropout_param = getattr(model, "dropout_param", None)
    if isinstance(dropout_param, dict):
        dropout_param["mode"] = mode
        dropout_param["seed"] = 0


class _Contract(Exception):
    """The submission broke the calling convention (reported like its own exceptions)."""


def _kind(value):
    if isinstance(value, tuple):
        return f"a tuple of {len(value)}"
    return type(value).__name__


def _plain(name, value):
    """A plain float64 ndarray copy: subclasses, custom __eq__ and views are dropped."""
    try:
        array = _array(value, dtype=_float64, copy=True, subok=False)
    except BaseException as exc:
        raise _Contract(f"{name} is not numeric ({_kind(value)}: {exc})") from None
    return array


class _Frames:
    def __init__(self, fd, nonce):
        self.fd, self.nonce = fd, nonce

    def frame(self, call_id, results=None, error=None):
        header = {"nonce": self.nonce, "id": call_id, "ok": error is None}
        payload = []
        if error is None:
            try:
                plain = [(name, _plain(name, value)) for name, value in results]
            except _Contract as exc:
                return self.frame(call_id, error=_describe(exc, ""))
            header["arrays"] = [{"name": name, "shape": list(a.shape)} for name, a in plain]
            payload = [a.astype("<f8").tobytes() for _, a in plain]
        else:
            header["error"] = error
        self.send(_dumps(header).encode("utf-8") + b"\n" + b"".join(payload))

    def end(self):
        self.send(_dumps({"nonce": self.nonce, "end": True}).encode("utf-8") + b"\n")

    def send(self, data):
        view = memoryview(data)
        while view:
            view = view[_write(self.fd, view):]


def _describe(exc, context):
    """Type, message and the innermost frame in the submission's folder."""
    here = os.getcwd() + os.sep
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(here)]
    if isinstance(exc, SyntaxError) and exc.filename and str(exc.filename).startswith(here):
        file, line = exc.filename, exc.lineno
    elif frames:
        file, line = frames[-1].filename, frames[-1].lineno
    else:
        file, line = None, None
    # the student's own relative paths, not the grader's temporary folder
    shown = "".join(traceback.format_list(frames)).replace(here, "") if frames else ""
    if isinstance(exc, SystemExit):
        message = f"the submission called sys.exit({exc.code!r})"
    else:
        message = str(exc)
    return {"type": type(exc).__name__, "message": message[:2000],
            "file": os.path.relpath(file, here) if file else None, "line": line,
            "traceback": shown[-4000:], "context": context,
            "contract": isinstance(exc, _Contract)}


if __name__ == "__main__":
    sys.exit(main(sys.argv))
