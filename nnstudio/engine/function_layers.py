"""Layers made from cs231n-style layer functions, with no wrapper to write.

A user's file in this convention (see README "Your own layer functions")::

    NAME = "student_bn"
    PARAMS = {"gamma": (("D",), "ones"), "beta": (("D",), "zeros")}
    LAYER_PARAM = {"eps": 1e-5, "momentum": 0.9}
    def forward(x, gamma, beta, bn_param): ...; return out, cache
    def backward(dout, cache): ...; return dx, dgamma, dbeta

becomes a :class:`FunctionLayer` subclass (made by :func:`make_function_layer`) that the
spec grammar, projects and the checker use like a built-in layer. Reading such a file
(and cs231n's whole ``layers.py``) is ``function_layer_files``; this module is the layer.

The layer owns one ``LAYER_PARAM`` dict for its life, as cs231n's ``bn_param``: before each
call ``"mode"`` is set from the context (``"train"`` with batch statistics, else
``"test"``) and ``"seed"`` from ``ctx.rng`` (the same in every evaluation of a check, a
fresh draw per training step). Arrays the function stores there (``running_mean``) are
the layer's ``buffers``: they persist while training, are saved in projects, and when
``ctx.update_stats`` is False (a check, a prediction) the function works on copies, so
every check evaluation starts from the same state. Every call into the user's functions
goes through :func:`~nnstudio.engine.user_code.call_user`; what they return is checked
(count, shapes, float dtype) and a violation is a :class:`UserCodeError` at the line.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

import numpy as np

from .context import Context
from .layers import Layer
from .user_code import UserCodeError, call_user

INITS = ("zeros", "ones", "he", "xavier")
DIMENSIONS = ("D", "units")
#: LAYER_PARAM keys the layer sets itself before every call; never settings
MANAGED_KEYS = ("mode", "seed")
_SEED_RANGE = 2**31 - 1
_PROBE_ROWS = 4


@dataclass(frozen=True)
class ParamSpec:
    """One learned array: name, shape (``"D"``, ``"units"`` or integers) and init."""

    name: str
    shape: tuple[str | int, ...]
    init: str | float

    def resolve(self, input_dim: int, units: int | None) -> tuple[int, ...]:
        # units is None only for conventions whose shapes never name it
        sizes: dict[str, Any] = {"D": input_dim, "units": units}
        return tuple(sizes[d] if isinstance(d, str) else int(d) for d in self.shape)


@dataclass(frozen=True)
class Convention:
    """Everything read from a user's file about one layer.

    ``layer_param`` is None when the file has no ``LAYER_PARAM`` (forward takes no dict).
    ``lines`` maps "forward" / "backward" to the (file, line) a contract violation is
    reported at (the function's single ``return``, else its ``def``). ``kink`` is "relu" for a
    ReLU-like layer, whose on/off pattern the checker can compare between θ±h.
    """

    name: str
    params: tuple[ParamSpec, ...]
    layer_param: dict[str, Any] | None
    output: str | int
    forward: Callable
    backward: Callable
    path: str
    lines: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    kink: str | None = None
    description: str = ""

    @property
    def uses_units(self) -> bool:
        return self.output == "units" or any("units" in p.shape for p in self.params)

    @property
    def settings(self) -> tuple[str, ...]:
        """LAYER_PARAM keys that spec arguments and project settings may override."""
        return tuple(key for key, value in (self.layer_param or {}).items()
                     if key not in MANAGED_KEYS and _is_plain(value))

    @property
    def arguments(self) -> tuple[str, ...]:
        """Positional spec arguments in order: units first (if used), then settings."""
        return (("units",) if self.uses_units else ()) + self.settings


def _is_plain(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def parse_params(params: Any) -> tuple[ParamSpec, ...]:
    """Validate a file's ``PARAMS``; raise ValueError with a message a user can act on."""
    if not isinstance(params, dict):
        raise ValueError(f"PARAMS must be a dict of name -> (shape, init), got {type(params).__name__}")
    specs = []
    for name, entry in params.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"PARAMS: {name!r} is not a valid parameter name")
        if not (isinstance(entry, (tuple, list)) and len(entry) == 2):
            raise ValueError(f"PARAMS[{name!r}] must be (shape, init), e.g. ((\"D\",), \"ones\")")
        shape, init = entry
        if isinstance(shape, (str, int)):
            shape = (shape,)
        if not isinstance(shape, (tuple, list)) or not all(
                (isinstance(d, str) and d in DIMENSIONS)
                or (isinstance(d, int) and not isinstance(d, bool) and d >= 1) for d in shape):
            raise ValueError(f"PARAMS[{name!r}]: shape {shape!r} must be a tuple of \"D\", "
                             "\"units\" or positive integers")
        if not (init in INITS or (isinstance(init, (int, float)) and not isinstance(init, bool))):
            raise ValueError(f"PARAMS[{name!r}]: init {init!r} must be one of {', '.join(INITS)} "
                             "or a number")
        specs.append(ParamSpec(name, tuple(shape), init))
    return tuple(specs)


def initial_value(spec: ParamSpec, shape: tuple[int, ...], rng: np.random.Generator,
                  dtype: np.dtype) -> np.ndarray:
    """He: N(0, 2/fan_in); Xavier: N(0, 2/(fan_in+fan_out)); a number fills the array."""
    if spec.init in ("he", "xavier"):
        fan_in = shape[0] if shape else 1
        fan_out = shape[-1] if len(shape) > 1 else fan_in
        variance = 2.0 / fan_in if spec.init == "he" else 2.0 / (fan_in + fan_out)
        return (rng.standard_normal(shape) * np.sqrt(variance)).astype(dtype)
    fills: dict[str | float, str | float] = {"zeros": 0.0, "ones": 1.0}
    fill = fills.get(spec.init, spec.init)
    return np.full(shape, float(fill), dtype=dtype)


def stats_mode(ctx: Context) -> str:
    """cs231n's mode: "train" with batch statistics (training, a check's fit phase), else "test"."""
    return "train" if ctx.uses_batch_stats() else "test"


class FunctionLayer(Layer):
    """A layer whose forward and backward are a user's cs231n-style functions.

    Subclasses are made by :func:`make_function_layer`; ``convention`` says how to call
    the functions. Constructor: positional spec arguments (``convention.arguments``: units,
    then ``LAYER_PARAM`` settings in order) or the same names as keywords (``config()``).
    """

    convention: ClassVar[Convention]
    accepts_stacked_inputs = False  # cs231n code reduces over axis 0; it gets plain (N, D)

    def __init__(self, *args: Any, **settings: Any) -> None:
        super().__init__()
        conv = self.convention
        names = conv.arguments
        if len(args) > len(names):
            listed = ", ".join(names) or "none"
            raise ValueError(f"{conv.name} takes at most {len(names)} arguments ({listed}), "
                             f"got {len(args)}")
        values = dict(zip(names, args))
        for key, value in settings.items():
            if key not in names:
                raise ValueError(f"{conv.name} has no setting {key!r}; settings: "
                                 f"{', '.join(names) or 'none'}")
            values[key] = value
        self.units: int | None = None
        if conv.uses_units:
            units = values.pop("units", None)
            if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units < 1:
                raise ValueError(f"{conv.name} needs a positive number of units, e.g. "
                                 f"{conv.name}:16; got {units!r}")
            self.units = int(units)
        self.layer_param: dict[str, Any] = copy.deepcopy(dict(conv.layer_param or {}))
        for key, value in values.items():
            self.layer_param[key] = value.item() if isinstance(value, np.generic) else value

    # -- description ----------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        data: dict[str, Any] = {"units": self.units} if self.units is not None else {}
        data.update({key: self.layer_param[key] for key in self.convention.settings})
        return data

    def describe(self) -> str:
        defaults = self.convention.layer_param or {}
        shown = [str(self.units)] if self.units is not None else []
        shown += [f"{key}={self.layer_param[key]:g}" if isinstance(self.layer_param[key], float)
                  else f"{key}={self.layer_param[key]}"
                  for key in self.convention.settings if self.layer_param[key] != defaults[key]]
        return f"{self.type_name}({', '.join(shown)})" if shown else self.type_name

    # -- construction -----------------------------------------------------------------
    def build(self, input_dim: int, rng: np.random.Generator, dtype: np.dtype) -> int:
        conv = self.convention
        self.input_dim = int(input_dim)
        output = conv.output
        self.output_dim = self.input_dim if output == "D" else (
            self.units if output == "units" else int(output))
        self.params, self.grads, self.buffers = {}, {}, {}
        for spec in conv.params:
            shape = spec.resolve(self.input_dim, self.units)
            self._init_param(spec.name, initial_value(spec, shape, rng, np.dtype(dtype)))
        for key in [k for k, v in self.layer_param.items() if isinstance(v, np.ndarray)]:
            self.buffers[key] = np.array(self.layer_param.pop(key), dtype=dtype)
        if conv.layer_param is not None:
            self._probe_buffers(np.dtype(dtype))
        assert self.output_dim is not None  # a "units" output has units (see __init__)
        return self.output_dim

    def _probe_buffers(self, dtype: np.dtype) -> None:
        """Find the arrays forward stores in LAYER_PARAM (cs231n's batchnorm stores its
        initial running statistics in test mode), so a fresh layer already has the buffers
        a saved one has. A probe that fails is ignored: the real call will report it."""
        assert self.input_dim is not None  # called by build()
        x = np.random.default_rng(0).standard_normal((_PROBE_ROWS, self.input_dim)).astype(dtype)
        param = self._param_dict("test", 0, persist=False)
        state = np.random.get_state()
        try:
            self.convention.forward(x, *[v.copy() for v in self.params.values()], param)
        except (Exception, SystemExit):  # noqa: BLE001 - user code; reported when it really runs
            return
        finally:
            np.random.set_state(state)
        for key, value in param.items():
            if key not in MANAGED_KEYS and isinstance(value, np.ndarray) and key not in self.buffers:
                self.buffers[key] = _buffer(value, dtype)

    def adopt_buffers(self, arrays: dict[str, np.ndarray]) -> None:
        """Create buffers a saved layer had (stored by forward after the probe) before
        its state is loaded into them."""
        for key, value in arrays.items():
            if key not in self.params and key not in self.buffers:
                self.buffers[key] = np.array(value)

    # -- computation ------------------------------------------------------------------
    def forward(self, x: np.ndarray, ctx: Context) -> np.ndarray:
        self._require_built()
        self._check_input(x)
        mode = stats_mode(ctx)
        seed = int(ctx.rng.integers(_SEED_RANGE)) if ctx.rng is not None else 0
        self.cache.clear()
        if x.ndim > 2:  # copies along leading axes: one plain (N, D) call each, same seed
            outs = [self._call_forward(x[index], mode, seed, persist=False)[0]
                    for index in np.ndindex(x.shape[:-2])]
            out = np.stack(outs).reshape(x.shape[:-1] + (self.output_dim,))
        else:
            out, self.cache["user"] = self._call_forward(x, mode, seed, ctx.update_stats)
        if self.convention.kink == "relu":
            self.cache["pattern"] = x > 0
        self.cache["x_shape"] = x.shape
        return out

    def _call_forward(self, x: np.ndarray, mode: str, seed: int,
                      persist: bool) -> tuple[np.ndarray, Any]:
        conv = self.convention
        # copies: user code may write into its inputs (x -= mean), which are our caches
        args: list[Any] = [np.array(x)] + [value.copy() for value in self.params.values()]
        param = None
        if conv.layer_param is not None:
            param = self._param_dict(mode, seed, persist)
            args.append(param)
        result = call_user(conv.forward, *args, context=f"in forward of {self.describe()}")
        out, cache = self._check_forward(result, x)
        if persist and param is not None:
            self._keep(param)
        return out, cache

    def _param_dict(self, mode: str, seed: int, persist: bool) -> dict[str, Any]:
        if persist:
            param = dict(self.layer_param)
            param.update(self.buffers)
        else:  # the function gets copies: nothing it does can move the layer's state
            param = copy.deepcopy(self.layer_param)
            param.update({key: value.copy() for key, value in self.buffers.items()})
        param["mode"], param["seed"] = mode, seed
        return param

    def _keep(self, param: dict[str, Any]) -> None:
        """Adopt what a training call stored: arrays into the (same) buffer objects."""
        dtype = self.params[next(iter(self.params))].dtype if self.params else np.dtype(np.float32)
        for key, value in param.items():
            if key in MANAGED_KEYS:
                continue
            if isinstance(value, np.ndarray):
                target = self.buffers.get(key)
                if target is not None and target.shape == value.shape:
                    if target is not value:
                        np.copyto(target, value, casting="unsafe")
                else:
                    self.buffers[key] = _buffer(value, dtype)
                self.layer_param.pop(key, None)
            else:
                self.layer_param[key] = value

    def _check_forward(self, result: Any, x: np.ndarray) -> tuple[np.ndarray, Any]:
        if not (isinstance(result, tuple) and len(result) == 2):
            got = f"a tuple of {len(result)}" if isinstance(result, tuple) else type(result).__name__
            self._fail("forward", f"forward returned {got}; expected (out, cache)")
        out, cache = result
        if not isinstance(out, np.ndarray):
            self._fail("forward", f"forward returned out as {type(out).__name__}; expected a "
                                  "numpy array")
        if not np.issubdtype(out.dtype, np.floating):
            self._fail("forward", f"forward returned out of dtype {out.dtype}; expected floats "
                                  "(an integer or boolean output has no gradient)")
        expected = x.shape[:-1] + (self.output_dim,)
        if out.shape != expected:
            self._fail("forward", f"forward returned out of shape {out.shape}; expected {expected}")
        return out.astype(x.dtype, copy=False), cache

    def backward(self, dout: np.ndarray) -> np.ndarray:
        if "user" not in self.cache:
            raise ValueError(f"{self.describe()}: backward needs a forward on a plain (N, D) "
                             "batch first")
        result = call_user(self.convention.backward, np.array(dout), self.cache["user"],
                           context=f"in backward of {self.describe()}")
        arrays = self._check_backward(result)
        for name, grad in zip(self.params, arrays[1:]):
            self.grads[name] += grad
        return arrays[0].astype(dout.dtype, copy=False)

    def _check_backward(self, result: Any) -> list[np.ndarray]:
        names = ["dx"] + [f"d{name}" for name in self.params]
        expected = ", ".join(names)
        if not self.params and isinstance(result, np.ndarray):
            result = (result,)
        if isinstance(result, np.ndarray) or not isinstance(result, (tuple, list)):
            got = "one array" if isinstance(result, np.ndarray) else type(result).__name__
            self._fail("backward", f"backward returned {got}; expected {expected}")
        if len(result) != len(names):
            count = f"{len(result)} array{'s' if len(result) != 1 else ''}"
            self._fail("backward", f"backward returned {count}; expected {expected}"
                       + ("" if self.params else " (dx alone, as an array)"))
        targets = [("x", self.cache["x_shape"])] + [(n, v.shape) for n, v in self.params.items()]
        arrays = []
        for dname, value, (target, shape) in zip(names, result, targets):
            if not isinstance(value, (np.ndarray, float, int)) or isinstance(value, bool):
                self._fail("backward", f"{dname} is {type(value).__name__}; expected an array "
                                       f"of shape {shape}")
            value = np.asarray(value)
            if not (np.issubdtype(value.dtype, np.floating) or np.issubdtype(value.dtype, np.integer)):
                self._fail("backward", f"{dname} has dtype {value.dtype}; expected floats")
            if value.shape != shape:
                self._fail("backward", f"{dname} has shape {value.shape}, {target} has {shape}")
            arrays.append(value)
        return arrays

    def _fail(self, function: str, message: str) -> None:
        conv = self.convention
        path, line = conv.lines.get(function, (conv.path, None))
        raise UserCodeError(path, line, "ValueError", message,
                            f"in {function} of {self.describe()}")

    def kink_pattern(self) -> np.ndarray | None:
        return self.cache.get("pattern")


def _buffer(value: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return np.array(value, dtype=dtype if np.issubdtype(value.dtype, np.floating) else value.dtype)


def make_function_layer(convention: Convention, module_name: str) -> type[FunctionLayer]:
    """A new :class:`FunctionLayer` subclass for ``convention`` (not yet registered)."""
    class_name = "".join(part.capitalize() for part in convention.name.split("_")) or "Layer"
    regularized = tuple(p.name for p in convention.params if len(p.shape) >= 2)
    # what the window's palette starts a new layer with: units cannot be guessed
    palette = {"units": 16} if convention.uses_units else {}
    description = convention.description or f"{convention.name}: layer functions from {convention.path}"
    return type(class_name, (FunctionLayer,), {
        "type_name": convention.name, "description": description, "convention": convention,
        "regularized": regularized, "palette_settings": palette, "__module__": module_name,
        "__doc__": f"Layer functions {convention.name} from {convention.path}.",
    })


__all__ = ["Convention", "FunctionLayer", "INITS", "ParamSpec", "initial_value",
           "make_function_layer", "parse_params", "stats_mode"]
