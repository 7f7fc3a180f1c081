"""The student-facing side of the tests: assertions that explain themselves, and a summary.

Every graded exercise has one test cell. Its visible part is a function decorated with
:func:`visible_test`, which runs at once and is remembered, so that the closing "check
your work" cell can run every visible test again and print one table (:func:`summary`).
The ``expect_*`` helpers raise :class:`CheckFailed` (an ``AssertionError``) with a
message that says, in words, what was expected and what came back.

>>> @visible_test("double")
... def _():
...     expect_equal(2 * 2, 4, "2 * 2")
✓ double: the visible tests pass (the hidden tests run when your work is graded).
"""

from __future__ import annotations

import ast
import dis
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from cvcourse import wire
from cvcourse.grading_agent import foreign_classes


class CheckFailed(AssertionError):
    """A visible or hidden test failed; the message says what was expected.

    In a notebook it shows as that message alone, not as a traceback through this module (IPython
    asks ``_render_traceback_``); :func:`show_traceback` prints the whole traceback when wanted.
    """

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[0;31m✗ {self}\x1b[0m", "  (the traceback: cvcourse.checks.show_traceback())"]


def show_traceback() -> None:
    """Print the full traceback of the last error in this kernel (a failed check shows its message only)."""
    error = getattr(sys, "last_exc", None) or getattr(sys, "last_value", None)
    if error is None:
        print("no error yet in this kernel")
        return
    traceback.print_exception(error)


@dataclass
class CheckResult:
    """The outcome of one exercise's visible tests."""

    name: str
    passed: bool
    message: str
    seconds: float


_registry: dict[str, Callable[[], None]] = {}


def _describe_failure(exc: BaseException) -> str:
    """A failure in words, with the line and function that raised it. An exception the grader brought
    from the student's kernel (``grader/testrunner.py``) says where it was raised there in ``where``."""
    if isinstance(exc, NotImplementedError):
        return "not written yet: replace `raise NotImplementedError()` with your code."
    if isinstance(exc, AssertionError) and str(exc):
        return str(exc)
    where = getattr(exc, "where", None)
    if where is None:
        frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        where = f"line {frame.lineno} of {frame.name}" if frame else ""
    return f"raised {type(exc).__name__}: {exc}" + (f" ({where})" if where else "")


def _run(name: str, test: Callable[[], None]) -> CheckResult:
    start = time.perf_counter()
    try:
        test()
    except Exception as exc:  # noqa: BLE001 - every failure is reported in words
        return CheckResult(name, False, _describe_failure(exc), time.perf_counter() - start)
    return CheckResult(name, True, "visible tests pass", time.perf_counter() - start)


def visible_test(name: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Register a test function for exercise ``name`` and run it now.

    On success it prints one line; on failure it raises :class:`CheckFailed` whose
    message explains the problem (so nbgrader scores the cell as failed).

    >>> @visible_test("square")
    ... def _():
    ...     expect_equal(3**2, 9, "3**2")
    ✓ square: the visible tests pass (the hidden tests run when your work is graded).
    """

    def decorate(test: Callable[[], None]) -> Callable[[], None]:
        _registry[name] = test
        result = _run(name, test)
        if not result.passed:
            raise CheckFailed(f"{name}: {result.message}")
        print(f"✓ {name}: the visible tests pass (the hidden tests run when your work is graded).")
        return test

    return decorate


_scores: dict[str, tuple[float, float]] = {}  # exercise -> (points, out of) of a scored exercise


def scored(name: str, points: float, out_of: float) -> float:
    """Record the points exercise ``name`` earned (an accuracy target's partial credit) for
    :func:`summary`, and return them: the last line of a scored test cell, whose value nbgrader takes
    as the cell's score.

    >>> scored("square_fit", 2.5, 5)
    2.5
    """
    _scores[name] = (float(points), float(out_of))
    return points


def summary(exercises: Iterable[str]) -> None:
    """Run the visible tests of ``exercises`` again and print one line per exercise: for a scored
    exercise (:func:`scored`), the points it earned when its test cell last ran.

    An exercise whose test cell has not been run yet is listed as such. Never raises.

    >>> summary(["square"])  # doctest: +ELLIPSIS
    exercise ...
    """
    results = []
    for name in exercises:
        test = _registry.get(name)
        if test is None:
            results.append(CheckResult(name, False, "test cell not run yet: run it first.", 0.0))
        else:
            results.append(_run(name, test))
    width = max([len("exercise")] + [len(r.name) for r in results])
    print(f"{'exercise':<{width}}  result  details")
    print(f"{'-' * width}  ------  -------")
    for r in results:
        mark, message = "pass" if r.passed else "FAIL", r.message
        if r.passed and r.name in _scores:
            got, out_of = _scores[r.name]
            mark, message = f"{got:g}/{out_of:g}", f"{message}; {got:g} of {out_of:g} points when it last ran"
        print(f"{r.name:<{width}}  {mark:<6}  {message}")
    passed = sum(r.passed for r in results)
    print(f"\n{passed} of {len(results)} exercises pass their visible tests.")
    if passed == len(results):
        print("The hidden tests check more cases (random inputs, edge cases) when your work is graded.")


def _preview(array: np.ndarray, limit: int = 6) -> str:
    text = np.array2string(np.asarray(array), precision=4, threshold=limit * limit, edgeitems=3)
    return text if len(text) < 400 else text[:400] + " ..."


def expect_shape(got, expected_shape: tuple, what: str = "the result") -> None:
    """Fail unless ``got`` has shape ``expected_shape``.

    >>> expect_shape(np.zeros((2, 3)), (2, 3), "zeros")
    """
    got_shape = np.shape(got)
    if tuple(got_shape) != tuple(expected_shape):
        raise CheckFailed(
            f"{what} should have shape {tuple(expected_shape)} but has shape {tuple(got_shape)}."
        )


def expect_close(got, expected, what: str = "the result", atol: float = 1e-5, rtol: float = 1e-5) -> None:
    """Fail unless ``got`` has the shape of ``expected`` and the same values, to a tolerance.

    The message names the first wrong position and shows both arrays.

    >>> expect_close([1.0, 2.0], np.array([1.0, 2.0 + 1e-9]), "values")
    """
    if got is None:
        raise CheckFailed(f"{what} is None: did you forget a `return`?")
    got_array = np.asarray(got, dtype=np.float64)
    expected_array = np.asarray(expected, dtype=np.float64)
    expect_shape(got_array, expected_array.shape, what)
    if not np.all(np.isfinite(got_array)):
        raise CheckFailed(f"{what} contains NaN or infinite values.")
    wrong = ~np.isclose(got_array, expected_array, atol=atol, rtol=rtol)
    if wrong.any():
        index = tuple(int(i) for i in np.argwhere(wrong)[0])
        raise CheckFailed(
            f"{what} is wrong at {wrong.sum()} of {wrong.size} positions; first at index {index}: "
            f"expected {expected_array[index]:.6g}, got {got_array[index]:.6g}.\n"
            f"expected:\n{_preview(expected_array)}\ngot:\n{_preview(got_array)}"
        )


def expect_equal(got, expected, what: str = "the result") -> None:
    """Fail unless ``got == expected`` (for plain values such as ints, strings, tuples).

    >>> expect_equal(1 + 2, 3, "1 + 2")
    """
    if isinstance(expected, (int, np.integer)) and not isinstance(expected, bool):
        if isinstance(got, (float, np.floating)) and float(got).is_integer():
            raise CheckFailed(f"{what} should be the integer {expected}, not the float {got!r}.")
    if got != expected:
        raise CheckFailed(f"{what}: expected {expected!r}, got {got!r}.")


def _handle_of(value):
    """The handle of the grader's stand-in for an object in the student's kernel
    (``grader/testrunner.py``), or None for an object of this process."""
    handle = None if isinstance(value, type) else getattr(value, "_handle", None)
    return handle if isinstance(handle, wire.Handle) else None


def is_instance(value, cls) -> bool:
    """``isinstance(value, cls)``, also where the grader holds ``value`` or the student's class
    ``cls`` in the student's kernel: it then compares the classes' ``module.qualname``.

    >>> is_instance(np.zeros(2), np.ndarray)
    True
    """
    value_handle, class_handle = _handle_of(value), _handle_of(cls)
    if value_handle is None and class_handle is None:
        return isinstance(value, cls)
    if class_handle is not None:
        name = class_handle.bases[0] if class_handle.bases else ""
    else:
        name = f"{cls.__module__}.{cls.__qualname__}"
    if value_handle is not None:
        return name in value_handle.bases
    return name in {f"{c.__module__}.{c.__qualname__}" for c in type(value).__mro__}


def class_name(value) -> str:
    """The name of ``value``'s class, also where the grader holds ``value`` in the student's kernel.

    >>> class_name(np.zeros(2))
    'ndarray'
    """
    handle = _handle_of(value)
    return handle.kind.rsplit(".", 1)[-1] if handle is not None else type(value).__qualname__


def keras_config(layer) -> dict:
    """The serialised config of a Keras layer or model (``keras.saving.serialize_keras_object``), also
    where the grader holds it in the student's kernel; {} when its ``get_config`` fails.

    >>> keras_config(keras.layers.Dense(2))["class_name"]  # doctest: +SKIP
    'Dense'
    """
    import json

    import keras

    handle = _handle_of(layer)
    try:
        if handle is not None:
            return json.loads(handle.config) if handle.config else {}
        return keras.saving.serialize_keras_object(layer)
    except Exception:  # noqa: BLE001 - the student's get_config, whatever it does
        return {}


def portable_function(code: str) -> wire.Source:
    """A function a test passes to the student's code, written as source so that the grader can send it
    to the student's kernel (with ``np``, ``tf`` and ``keras`` in scope); it is called like the function.

    >>> portable_function("lambda x: 2 * x + 1")(3)
    7
    """
    return wire.Source(code)


def layers_within(model) -> list:
    """Every layer of the Keras model ``model`` (its ``layers``), and those of the models nested in
    it, depth first; a layer class of the student's own is not opened. Works where the grader holds
    the model in the student's kernel, too.

    >>> [type(layer).__name__ for layer in layers_within(model)]  # doctest: +SKIP
    ['InputLayer', 'Conv2D', 'Sequential', 'ResidualUnit', 'ResidualUnit', 'Dense']
    """
    import keras

    found = []
    for layer in list(model.layers):
        found.append(layer)
        if is_instance(layer, keras.Model):
            found += layers_within(layer)
    return found


def expect_keras_layers_only(model, what: str = "the model") -> None:
    """Check that ``model`` is a Functional or Sequential Keras model of Keras' own layers (no
    ``Lambda``, no classes of the student's own): a model the grader can rebuild from its
    configuration, as it does to train and score it.

    >>> expect_keras_layers_only(model)  # doctest: +SKIP
    """
    import keras

    if not isinstance(model, keras.Model):
        raise CheckFailed(
            f"{what} should be a keras.Model of Keras' own layers (no Lambda, no classes of your own), "
            f"got {repr(model)[:80]}."
        )
    foreign = foreign_classes(model)
    if foreign:
        raise CheckFailed(
            f"{what} uses {', '.join(foreign)}: build it from Keras' own layers with keras.Model(inputs, "
            "outputs) or keras.Sequential (no Lambda, no classes of your own); the grader rebuilds the "
            "model from its configuration."
        )


def expect_dtype(got, kind: str, what: str = "the result") -> None:
    """Fail unless ``got`` is an array whose dtype kind is ``kind`` ('f' float, 'i' int, 'u' uint).

    >>> expect_dtype(np.zeros(2, np.float32), "f", "zeros")
    """
    names = {"f": "floating-point", "i": "signed integer", "u": "unsigned integer", "b": "boolean"}
    if not hasattr(got, "dtype"):
        raise CheckFailed(f"{what} should be a NumPy array, got {type(got).__name__}.")
    if got.dtype.kind != kind:
        raise CheckFailed(f"{what} should have a {names.get(kind, kind)} dtype, got {got.dtype}.")


def _references(code) -> tuple[set[str], set[str]]:
    """(global or free variable names, attribute and imported names) that ``code`` and nested code use."""
    variables, attributes = set(), set()
    for instruction in dis.get_instructions(code):
        if instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME", "LOAD_DEREF"):
            variables.add(str(instruction.argval))
        elif instruction.opname in ("LOAD_ATTR", "LOAD_METHOD", "IMPORT_FROM", "IMPORT_NAME"):
            attributes.update(str(instruction.argval).split("."))
    for const in code.co_consts:
        if hasattr(const, "co_code"):
            nested_variables, nested_attributes = _references(const)
            variables |= nested_variables
            attributes |= nested_attributes
    return variables, attributes


_submitted_source: list[str] | None = None  # set by the grader: the submission's cells, read as text
_DYNAMIC = frozenset({"eval", "exec", "compile", "__import__", "importlib", "globals", "vars", "locals"})


def use_submitted_source(cells: list[str] | None) -> None:
    """Make :func:`expect_written_by_hand` read these cells' source instead of live bytecode.

    The grader calls this in its own process with the submitted notebook's code cells, so the
    check reads what the student wrote and never runs it.

    >>> use_submitted_source(["def add(a, b):\\n    return a + b\\n"])
    >>> expect_written_by_hand(type("Stand-in", (), {"__name__": "add"})(), {"np.add": np.add})
    >>> use_submitted_source(None)
    """
    global _submitted_source
    _submitted_source = None if cells is None else list(cells)


def _top_level(cells: list[str]) -> tuple[dict, dict]:
    """({name: the last top-level node that defines it}, {name: dotted import path}) of the cells."""
    definitions, imports = {}, {}
    for source in cells:
        text = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                definitions[node.name] = node
                imports.pop(node.name, None)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    for name in ast.walk(target):
                        if isinstance(name, ast.Name):
                            definitions[name.id] = node
                            imports.pop(name.id, None)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    bound = alias.asname or alias.name.split(".")[0]
                    imports[bound] = alias.name if alias.asname else bound
            elif isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    imports[alias.asname or alias.name] = f"{node.module or ''}.{alias.name}"
    return definitions, imports


def _check_source(name: str | None, banned: dict, what: str) -> None:
    """:func:`expect_written_by_hand` on the submitted source: the definition of ``name`` and its helpers."""
    banned_attributes = {key.rsplit(".", 1)[-1]: key for key in banned}
    definitions, imports = _top_level(_submitted_source or [])
    if name not in definitions:
        raise CheckFailed(f"{what}: the grader found no `def {name}` (or assignment) in your notebook.")

    def refuse(used: str) -> None:
        raise CheckFailed(
            f"{what} uses {used}: this exercise asks you to write the computation yourself (NumPy is fine)."
        )

    seen: set[str] = set()

    def visit(defined: str) -> None:
        seen.add(defined)
        definition = definitions[defined]
        nodes = list(ast.walk(definition))
        local = {
            a.arg
            for node in nodes
            if isinstance(node, ast.arguments)
            for a in [*node.posonlyargs, *node.args, *node.kwonlyargs, node.vararg, node.kwarg]
            if a
        }
        local |= {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        if not isinstance(definition, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            local = set()  # a top-level assignment: its names are the globals themselves
        for node in ast.walk(definition):
            if isinstance(node, ast.Attribute) and node.attr in banned_attributes:
                refuse(banned_attributes[node.attr])
            if isinstance(node, (ast.Import, ast.ImportFrom)):  # an import inside the definition
                for alias in node.names:
                    if alias.name.rsplit(".", 1)[-1] in banned_attributes:
                        refuse(banned_attributes[alias.name.rsplit(".", 1)[-1]])
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr":
                attribute = node.args[1] if len(node.args) > 1 else None
                if not (isinstance(attribute, ast.Constant) and isinstance(attribute.value, str)):
                    refuse("getattr with a computed name (the grader must be able to read your code)")
                if attribute.value in banned_attributes:
                    refuse(banned_attributes[attribute.value])
            if not isinstance(node, ast.Name):
                continue
            if node.id in _DYNAMIC:
                refuse(f"{node.id} (the grader must be able to read your code)")
            if node.id in imports and imports[node.id].rsplit(".", 1)[-1] in banned_attributes:
                refuse(banned_attributes[imports[node.id].rsplit(".", 1)[-1]])
            if node.id in definitions and node.id not in seen and node.id not in local:
                visit(node.id)

    visit(name)


def expect_written_by_hand(function, banned: dict, what: str | None = None) -> None:
    """Fail if ``function`` (or a helper function it calls) uses one of the ``banned`` library calls.

    ``banned`` maps a readable name to the library function, e.g.
    ``{"tf.nn.conv2d": tf.nn.conv2d}``. A call is found by the object a global name refers
    to (``from scipy.signal import correlate2d as cc``) or by the attribute name
    (``tf.nn.conv2d(...)``, ``scipy.signal.correlate2d(...)``). When the grader has given the
    submitted source (:func:`use_submitted_source`), the check reads that text instead.

    >>> def mine(x):
    ...     return np.sum(x)
    >>> expect_written_by_hand(mine, {"np.convolve": np.convolve})
    """
    what = what or getattr(function, "_cvcourse_name", None) or getattr(function, "__name__", "your function")
    if _submitted_source is not None or not hasattr(function, "__code__"):
        name = getattr(function, "_cvcourse_name", None) or getattr(function, "__name__", None)
        _check_source(name, banned, what)
        return
    banned_objects = {id(obj): name for name, obj in banned.items()}
    banned_attributes = {name.rsplit(".", 1)[-1]: name for name in banned}
    seen: set[int] = set()

    def refuse(name: str) -> None:
        raise CheckFailed(
            f"{what} uses {name}: this exercise asks you to write the computation yourself (NumPy is fine)."
        )

    def visit(fn) -> None:
        code = getattr(fn, "__code__", None)
        if code is None or id(code) in seen:
            return
        seen.add(id(code))
        namespace = dict(getattr(fn, "__globals__", {}))
        for name, cell in zip(code.co_freevars, getattr(fn, "__closure__", None) or (), strict=False):
            namespace[name] = cell.cell_contents
        variables, attributes = _references(code)
        for name in attributes & set(banned_attributes):
            refuse(banned_attributes[name])
        for name in variables & set(namespace):
            value = namespace[name]
            if id(value) in banned_objects:
                refuse(banned_objects[id(value)])
            if callable(value) and getattr(value, "__module__", None) == getattr(fn, "__module__", None):
                visit(value)

    visit(function)


def accuracy_points(
    accuracy: float, target: float, floor: float, points: float, what: str = "test accuracy"
) -> float:
    """Points for an accuracy target, on a linear scale, and print what was reached.

    ``points`` at ``accuracy >= target``, zero at or below ``floor``, proportional in between
    (rounded to two decimals). Raises ``ValueError`` unless ``floor < target``.

    >>> accuracy_points(0.93, target=0.91, floor=0.85, points=5)
    test accuracy 0.9300 >= target 0.91: 5 of 5 points.
    5.0
    >>> accuracy_points(0.88, target=0.91, floor=0.85, points=5)
    test accuracy 0.8800 is below the target 0.91 (zero points at 0.85 or less): 2.5 of 5 points.
    2.5
    """
    if not floor < target:
        raise ValueError(f"floor ({floor}) must be below target ({target})")
    accuracy = float(accuracy)
    if not np.isfinite(accuracy):
        print(f"{what} is {accuracy}: 0 of {points:g} points.")
        return 0.0
    if accuracy >= target:
        print(f"{what} {accuracy:.4f} >= target {target:g}: {points:g} of {points:g} points.")
        return float(points)
    score = round(float(points) * max(0.0, (accuracy - floor) / (target - floor)), 2)
    print(
        f"{what} {accuracy:.4f} is below the target {target:g} (zero points at {floor:g} or less): "
        f"{score:g} of {points:g} points."
    )
    return score
