"""The student's side of trusted grading: answers the grader's requests in the student's kernel.

When a notebook is graded, its test cells run in a process of the grader's own; this kernel
runs only the student's cells. Between them, the grader asks this module (through the kernel,
one request per execution) to look up a name, call a function or class, or read an attribute,
and gets back plain data (:mod:`cvcourse.wire`): values, or handles to objects that stay here.
Nothing here is trusted by the grader: it only carries what the student's code returns.

>>> reply = wire.decode(answer(wire.encode({"op": "lookup", "name": "x"}), {"x": 3}))
>>> reply["ok"]
3
"""

from __future__ import annotations

import base64
import itertools
import json
import sys
import traceback

import numpy as np

from cvcourse import wire

_objects: dict[int, object] = {}  # handle number -> object that stays here
_numbers = itertools.count(1)


def _keras():
    return sys.modules.get("keras")


def _held_layers(value, keras, seen: set[int]):
    """The Keras layers in ``value``: the value itself, or those in a list, tuple, set or dict of it."""
    if isinstance(value, keras.layers.Layer):
        yield value
    elif isinstance(value, (list, tuple, set, frozenset, dict)) and id(value) not in seen:
        seen.add(id(value))
        for element in value.values() if isinstance(value, dict) else value:
            yield from _held_layers(element, keras, seen)


def layers_inside(layer) -> list:
    """Every layer inside the Keras layer or model ``layer``, each once, depth first: a model's
    ``layers``, and the layers any other layer holds in its attributes (alone or in lists, tuples,
    sets, dicts), as a ResidualUnit holds its Conv2D and BatchNormalization layers. Keras 3 lists
    sublayers publicly for models only; a layer's are the attributes Keras tracks, read with ``vars``.

    >>> inner = keras.Sequential([keras.layers.BatchNormalization()])
    >>> [type(each).__name__ for each in layers_inside(keras.Sequential([keras.Input((4,)), inner]))]
    ['Sequential', 'BatchNormalization']
    """
    keras = _keras()
    found, seen = [], {id(layer)}

    def visit(outer) -> None:
        inner = outer.layers if isinstance(outer, keras.Model) else _held_layers(vars(outer), keras, set())
        for sublayer in list(inner):
            if id(sublayer) not in seen:
                seen.add(id(sublayer))
                found.append(sublayer)
                visit(sublayer)

    visit(layer)
    return found


def foreign_classes(model) -> list[str]:
    """What of a Keras model the grader will not rebuild from its configuration (``module.name``):
    a model class other than Functional or Sequential, a layer class of the student's own, Lambda
    (code). Empty for a model of Keras' own layers.

    >>> foreign_classes(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]))  # doctest: +SKIP
    []
    """
    classes = [type(model)] + [type(layer) for layer in layers_inside(model)]
    foreign = [
        cls
        for cls in classes
        if not cls.__module__.startswith("keras.")
        or cls.__name__ == "Lambda"
        or (cls is type(model) and cls.__name__ not in ("Functional", "Sequential"))
    ]
    names = (
        cls.__qualname__ if cls.__module__.startswith("keras.") else f"{cls.__module__}.{cls.__qualname__}"
        for cls in foreign
    )  # Keras' Lambda by its name, a student's class with its module
    return list(dict.fromkeys(names))


def _is_keras_builtin_model(value) -> bool:
    """A Functional or Sequential model of Keras' own layers (Lambda included: the grader says why it
    refuses one)."""
    keras = _keras()
    if keras is None or not isinstance(value, keras.Model):
        return False
    return all(name == "Lambda" for name in foreign_classes(value))


def as_data(keras_object) -> wire.ModelData:
    """A Keras model or layer as its serialised config and its weights."""
    import json

    import keras

    config = json.dumps(keras.saving.serialize_keras_object(keras_object))
    return wire.ModelData(config, tuple(np.asarray(w) for w in keras_object.get_weights()))


def from_data(data: wire.ModelData, safe_mode: bool = True, custom_objects: dict | None = None):
    """The Keras model or layer ``data`` describes, with its weights (built from its build config);
    ``custom_objects`` as Keras' ``deserialize_keras_object`` takes them."""
    import json

    import keras

    rebuilt = keras.saving.deserialize_keras_object(
        json.loads(data.config), custom_objects=custom_objects, safe_mode=safe_mode
    )
    restore_trainable(rebuilt, json.loads(data.config))  # a fresh copy: Keras pops keys of the one it reads
    if data.weights:  # none: the weights it drew when it was built here
        rebuilt.set_weights(list(data.weights))
    return rebuilt


def set_trainable(layer, flag: bool) -> None:
    """``layer.trainable = flag``, for it and the layers in it, even where the flag it has is ``flag``
    already: the TensorFlow backend skips an assignment of the value an attribute has, and a nested
    model may say ``trainable`` while the layers in it are frozen."""
    import keras

    keras.layers.Layer.trainable.fset(layer, bool(flag))


def restore_trainable(layer, config: dict) -> None:
    """Give ``layer`` and the layers in it the trainable flags of its serialised ``config`` (parents
    first): Keras rebuilds a nested Sequential as trainable whatever its config says."""
    inner = config.get("config", {}) if isinstance(config, dict) else {}
    if isinstance(inner.get("trainable"), bool):
        set_trainable(layer, inner["trainable"])
    for child in inner.get("layers", []) if hasattr(layer, "get_layer") else []:
        try:
            restore_trainable(layer.get_layer(child["config"]["name"]), child)
        except (KeyError, TypeError, ValueError):
            continue


def _describe(value):
    """What a value that is not plain data becomes: a symbolic tensor, model data, an array, a handle."""
    keras = _keras()
    if keras is not None and isinstance(value, keras.KerasTensor):
        return wire.SymbolicTensor(tuple(value.shape), str(value.dtype))
    if _is_keras_builtin_model(value) or _is_keras_builtin_layer(value):
        return as_data(value)
    is_layer = keras is not None and isinstance(value, (keras.layers.Layer, keras.Model))
    if hasattr(value, "__array__") and not is_layer and not isinstance(value, type):
        return value  # a tensor: the wire converts it to its array
    number = next(_numbers)
    _objects[number] = value
    cls = value if isinstance(value, type) else type(value)
    bases = tuple(f"{c.__module__}.{c.__qualname__}" for c in getattr(cls, "__mro__", (cls,)))
    config = _keras_config(value) if is_layer else ""
    kind = f"{type(value).__module__}.{type(value).__qualname__}"
    return wire.Handle(number, kind, bases, callable(value), config)


def _keras_config(layer) -> str:
    """A layer's or model's serialised config as JSON text ('' when the student's ``get_config``
    fails): the grader reads it as data, and may rebuild a model around its own versions of the
    student's layer classes."""
    import keras

    try:
        return json.dumps(keras.saving.serialize_keras_object(layer))
    except Exception:  # noqa: BLE001 - the student's get_config: the model stays here
        return ""


def _from_handle(handle: wire.Handle):
    try:
        return _objects[handle.number]
    except KeyError:
        raise wire.WireError(f"no object number {handle.number} here") from None


def _symbolic_inputs(made: list):
    """A decoder of symbolic tensors into ``keras.Input``s, which it records in ``made``."""

    def make(tensor: wire.SymbolicTensor):
        import keras

        made.append(keras.Input(batch_shape=tensor.shape, dtype=tensor.dtype))
        return made[-1]

    return make


def _traced(inputs: list, result):
    """The graph from a call's symbolic ``inputs`` to its symbolic ``result``, as model data, if it
    is made of Keras' own layers; else ``result`` itself (it crosses as shapes)."""
    keras = _keras()
    outputs = result if isinstance(result, (list, tuple)) else [result]
    if not inputs or keras is None or not all(isinstance(o, keras.KerasTensor) for o in outputs):
        return result
    try:
        model = keras.Model(inputs, result)
    except Exception:  # noqa: BLE001 - not a graph of its inputs: the shapes only
        return result
    if not _is_keras_builtin_model(model):
        return result
    data = as_data(model)
    return wire.ModelData(data.config, data.weights, traced=True)


def _is_keras_builtin_layer(value) -> bool:
    """A layer (not a model) of one of Keras' own classes."""
    keras = _keras()
    return (
        keras is not None
        and isinstance(value, keras.layers.Layer)
        and not isinstance(value, keras.Model)
        and type(value).__module__.startswith("keras.")
    )


def _models_from_data(rebuilt: list):
    """A decoder of model data into Keras objects, which it records in ``rebuilt``."""

    def make(data: wire.ModelData):
        rebuilt.append(from_data(data, safe_mode=False))  # the student's kernel: its own code runs anyway
        return rebuilt[-1]

    return make


def _resolve(request: dict) -> dict:
    """The call's arguments with each :class:`wire.Source` made a function and each
    :class:`wire.LayerOf` made that layer of the argument it names."""
    args, kwargs = list(request.get("args", ())), dict(request.get("kwargs", {}))

    def resolved(value):
        if isinstance(value, wire.Source):
            return wire.evaluate(value)
        if isinstance(value, wire.LayerOf):
            layer = args[value.argument] if isinstance(value.argument, int) else kwargs[value.argument]
            for name in value.path:
                layer = layer.get_layer(name)
            return layer
        return value

    args = [resolved(v) for v in args]  # a LayerOf names an argument that is a model, never another LayerOf
    kwargs = {k: resolved(v) for k, v in kwargs.items()}
    return {**request, "args": args, "kwargs": kwargs}


def path_to(model, layer) -> list[str] | None:
    """The names leading from Keras model ``model`` to ``layer`` inside it (nested models opened),
    or None when ``layer`` is not in it.

    >>> path_to(transfer_model, base)  # doctest: +SKIP
    ['tiny_base']
    """
    import keras

    for inner in model.layers:
        if inner is layer:
            return [inner.name]
        if isinstance(inner, keras.Model):
            deeper = path_to(inner, layer)
            if deeper is not None:
                return [inner.name, *deeper]
    return None


def _sharing(result, arguments: list):
    """``result`` as model data that names the ``arguments`` (position or keyword, object) it holds
    itself; ``result`` unchanged when it is not a Keras model of Keras' own layers or holds none."""
    if not arguments or not _is_keras_builtin_model(result):
        return result
    shares = tuple((where, tuple(path)) for where, obj in arguments if (path := path_to(result, obj)))
    if not shares:
        return result
    data = as_data(result)
    return wire.ModelData(data.config, data.weights, shares=shares)


def _compile_mark(layer):
    """What changes each time ``compile`` is called on a model (Keras keeps a new compile config
    object per call, even for the same optimizer and loss), or None for a model never compiled."""
    return id(getattr(layer, "_compile_config", None)) if getattr(layer, "compiled", False) else None


def keras_state(layer, compiled_since=None) -> dict:
    """What a call may change in a Keras model or layer it was given, as plain data: the trainable
    flags of it and of every layer in it (by the path of names), and its compile config when it was
    compiled again since ``compiled_since`` (what :func:`_compile_mark` gave before the call).

    >>> keras_state(keras.layers.Dense(2))  # doctest: +SKIP
    {'trainable': [[[], True]], 'compile': None}
    """
    import keras

    flags = [[[], bool(layer.trainable)]]

    def walk(model, path):
        for inner in model.layers:
            flags.append([[*path, inner.name], bool(inner.trainable)])
            if isinstance(inner, keras.Model):
                walk(inner, [*path, inner.name])

    if isinstance(layer, keras.Model):
        walk(layer, [])
    recompiled = _compile_mark(layer) not in (None, compiled_since)
    return {"trainable": flags, "compile": layer.get_compile_config() if recompiled else None}


def _sent_as_data(request: dict, rebuilt: list) -> list:
    """(position or keyword, object) of the call's arguments that the grader sent as model data."""
    pairs = [*enumerate(request.get("args", ())), *dict(request.get("kwargs", {})).items()]
    return [(where, value) for where, value in pairs if any(value is model for model in rebuilt)]


def _arrays(value, path=()):
    """(path, array) of every NumPy array in ``value`` (in lists, tuples and dicts too)."""
    if isinstance(value, np.ndarray):
        yield path, value
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _arrays(item, (*path, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, (str, int)):
                yield from _arrays(item, (*path, key))


def _error(error: BaseException) -> dict:
    """The error as plain data: its type, builtin bases, message, and where it was raised (the line
    and function of the deepest frame outside this module, as a visible test reports it)."""
    bases = [c.__name__ for c in type(error).__mro__ if c.__module__ == "builtins"]
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename != __file__]
    where = f"line {frames[-1].lineno} of {frames[-1].name}" if frames else ""
    return {
        "error": {"type": type(error).__name__, "bases": bases, "message": str(error)[:4000], "where": where}
    }


def _run(request: dict, namespace: dict):
    op = request.get("op")
    if op == "lookup":
        name = request["name"]
        if name not in namespace:
            raise NameError(f"name {name!r} is not defined")
        return namespace[name]
    target = request.get("target")
    if op == "call":
        return target(*request.get("args", ()), **request.get("kwargs", {}))
    if op == "getattr":
        return getattr(target, request["name"])
    if op == "getitem":
        return target[request["key"]]
    if op == "len":
        return len(target)
    if op == "list":
        return list(target)
    if op == "str":
        return str(target)
    if op == "repr":
        return repr(target)
    raise ValueError(f"unknown request {op!r}")


def answer(message: bytes, namespace: dict) -> bytes:
    """The reply to one request (both in the wire format), run against ``namespace``."""
    try:
        made: list = []  # the keras.Inputs standing for the request's symbolic tensors
        rebuilt: list = []  # the Keras objects rebuilt from the request's model data
        request = wire.decode(
            message, _from_handle, _symbolic_inputs(made), _models_from_data(rebuilt), accept_source=True
        )
        if request.get("op") == "call":
            request = _resolve(request)
        arguments = {"args": request.get("args", ()), "kwargs": request.get("kwargs", {})}
        before = [(path, array.copy()) for path, array in _arrays(arguments)]
        states = [  # an argument's state before the call, and its compile mark
            (where, layer, json.dumps(keras_state(layer)["trainable"]), _compile_mark(layer))
            for where, layer in _sent_as_data(request, rebuilt)
        ]
        result = _run(request, namespace)
        if request.get("op") == "call":
            result = _sharing(_traced(made, result), _sent_as_data(request, rebuilt))
        changed = [
            [list(path), array]
            for (path, old), (_, array) in zip(before, _arrays(arguments), strict=False)
            if old.shape != array.shape or old.tobytes() != array.tobytes()
        ]
        keras_changed = [
            [where, state]
            for where, layer, flags, mark in states
            if (state := keras_state(layer, mark))["compile"] is not None
            or json.dumps(state["trainable"]) != flags
        ]
        return wire.encode({"ok": result, "changed": changed, "keras_changed": keras_changed}, _describe)
    except Exception as error:  # noqa: BLE001 - every failure goes back as its type and message
        return wire.encode(_error(error))


def serve(request: str, mime: str) -> None:
    """Entry point the grader executes in the kernel: answer ``request`` (base64) as display data ``mime``."""
    _reply(base64.b64decode(request), mime)


def serve_file(path: str, mime: str) -> None:
    """:func:`serve` for a large request, which the grader wrote to the file ``path``."""
    with open(path, "rb") as handle:
        request = handle.read()
    _reply(request, mime)


def _reply(request: bytes, mime: str) -> None:
    from IPython import get_ipython
    from IPython.display import publish_display_data

    shell = get_ipython()
    reply = answer(request, shell.user_ns if shell is not None else {})
    publish_display_data({mime: base64.b64encode(reply).decode()})
