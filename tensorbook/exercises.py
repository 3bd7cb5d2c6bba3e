"""Immediate right/wrong feedback on a reader's answer to an exercise.

Two layers:

* :func:`check` compares any answer with an expected value (type, shape, then
  values within a tolerance) and returns a :class:`Feedback` that displays as a
  coloured box in a notebook and is truthy only when the answer is right.
* :func:`exercise` looks up a chapter's exercise by its number ("1.2"); its
  :meth:`Exercise.check` computes the expected value from the package's own
  reference code (written independently of the book's solutions) and calls
  :func:`check`.

* :func:`check_function` runs a reader's *function* on fresh inputs that the
  chapter never used and compares it with a reference implementation, with
  the functions an exercise rules out ("without einsum") made unavailable to
  the reader's code; an exercise whose bank entry has ``cases`` checks this
  way.

An unanswered exercise (``answer = ...``) gives a gentle "not answered yet" and
never raises, so a reader's half-done notebook still runs top to bottom. When
the environment variable ``TENSORBOOK_STRICT_EXERCISES`` is ``1`` (the book
build and the tests set it), a *wrong* answer raises :class:`ExerciseError`,
so a broken solution fails the build instead of printing a red box.
"""

from __future__ import annotations

import contextlib
import html
import importlib
import numbers
import os
import sys
import tracemalloc
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

__all__ = ["check", "check_function", "exercise", "Exercise", "Feedback", "ExerciseError"]

STRICT_ENV = "TENSORBOOK_STRICT_EXERCISES"


class ExerciseError(AssertionError):
    """A wrong answer while strict checking is on (book build and tests)."""


@dataclass(frozen=True)
class Feedback:
    """The verdict on one answer: truthy when correct.

    Attributes
    ----------
    correct : bool
    answered : bool
        False when the answer was still the placeholder ``...`` (or None).
    message : str
        What was right or wrong, with the hint when wrong.
    """

    correct: bool
    answered: bool
    message: str

    def __bool__(self) -> bool:
        return self.correct

    def __repr__(self) -> str:
        mark = "correct" if self.correct else ("not answered yet" if not self.answered else "not quite")
        return f"[{mark}] {self.message}"

    def _repr_html_(self) -> str:
        if self.correct:
            colour, border, icon = "#e6f4ea", "#1e8e3e", "&#10004;"
        elif not self.answered:
            colour, border, icon = "#f1f3f4", "#80868b", "&#9998;"
        else:
            colour, border, icon = "#fce8e6", "#d93025", "&#10008;"
        text = html.escape(self.message).replace("\n", "<br>")
        return (
            f'<div class="tensorbook-feedback" style="background:{colour};'
            f"border-left:4px solid {border};padding:0.4em 0.8em;margin:0.3em 0\">"
            f"{icon} {text}</div>"
        )


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"a NumPy array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"[:200]


def _is_real_number(value) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, numbers.Real):
        return True
    return isinstance(value, np.ndarray) and value.ndim == 0 and np.issubdtype(value.dtype, np.number)


def _compare(answer, expected, rtol, atol) -> tuple[bool, str]:
    """Return (correct, explanation) without any hint or strictness."""
    if isinstance(expected, str):
        if not isinstance(answer, str):
            return False, f"Expected a string, got {_describe(answer)}."
        ok = answer.strip().lower() == expected.strip().lower()
        return ok, "Correct." if ok else f"The answer {answer!r} is not the expected one."

    if isinstance(expected, tuple) and any(isinstance(e, np.ndarray) for e in expected):
        if not isinstance(answer, (tuple, list)) or len(answer) != len(expected):
            return False, f"Expected a tuple of {len(expected)} arrays, got {_describe(answer)}."
        for i, (a, e) in enumerate(zip(answer, expected)):
            ok, why = _compare(a, e, rtol, atol)
            if not ok:
                return False, f"Item {i} of {len(expected)}: {why}"
        return True, "Correct."

    if isinstance(expected, tuple):
        try:
            ok = tuple(answer) == expected
        except TypeError:
            return False, f"Expected a tuple such as a shape, got {_describe(answer)}."
        return ok, "Correct." if ok else f"Expected a tuple of length {len(expected)}; {tuple(answer)} is not it."

    if _is_real_number(expected):
        if not _is_real_number(answer):
            return False, f"Expected a single number, got {_describe(answer)}."
        answer, expected_f = float(answer), float(expected)
        if not np.isfinite(answer):
            return False, f"The answer is {answer}, not a finite number."
        if abs(answer - expected_f) <= atol + rtol * abs(expected_f):
            return True, "Correct."
        return False, f"The number {answer:.6g} is not within tolerance of the expected value."

    expected = np.asarray(expected)
    if isinstance(answer, (list, tuple)):
        try:
            answer = np.asarray(answer)
        except ValueError:
            return False, "The answer is a ragged list; expected a rectangular array."
    if not isinstance(answer, np.ndarray):
        return False, f"Expected a NumPy array of shape {expected.shape}, got {_describe(answer)}."
    if answer.shape != expected.shape:
        return False, f"Expected shape {expected.shape}, got shape {answer.shape}."
    if not (np.issubdtype(answer.dtype, np.number) or answer.dtype == np.bool_):
        return False, f"Expected an array of numbers, got dtype {answer.dtype}."
    if expected.dtype == np.bool_ or np.issubdtype(expected.dtype, np.integer):
        if np.array_equal(answer, expected):
            return True, "Correct."
        wrong = int(np.count_nonzero(answer != expected))
        return False, f"{wrong} of {expected.size} entries differ from the expected values."
    if not np.all(np.isfinite(answer)):
        return False, "The answer contains NaN or infinite entries."
    if np.allclose(answer, expected, rtol=rtol, atol=atol):
        return True, "Correct."
    err = float(np.max(np.abs(answer - expected)))
    return False, f"Right shape, but the values are off (largest absolute difference {err:.3g})."


def check(answer, expected, *, rtol=1e-7, atol=1e-12, hint=None, name="answer") -> Feedback:
    """Compare a reader's answer with the expected value and explain the verdict.

    Parameters
    ----------
    answer : object
        What the reader computed. ``...`` (Ellipsis) or ``None`` means "not
        answered yet", which never raises.
    expected : number, array_like, tuple or str
        Numbers and float arrays are compared within ``atol + rtol * |expected|``;
        integer and boolean arrays, tuples (such as shapes) and strings exactly
        (strings ignoring case and surrounding spaces). Type and shape are
        checked first, so the message says which of them is wrong.
    rtol, atol : float
        Relative and absolute tolerance for floating-point values.
    hint : str, optional
        Shown when the answer is wrong.
    name : str
        How the answer is called in the messages (for example "Exercise 1.2").

    Returns
    -------
    Feedback
        Truthy when correct; displays as a coloured box in a notebook.

    Raises
    ------
    ExerciseError
        Only when the environment variable ``TENSORBOOK_STRICT_EXERCISES=1``
        is set and the answer is wrong (not when it is unanswered).

    Examples
    --------
    >>> import numpy as np
    >>> from tensorbook import check
    >>> check(np.ones((2, 3)), np.ones((2, 3))).correct
    True
    >>> check(np.ones((3, 2)), np.ones((2, 3)), hint="Transpose?", name="Ex 0")
    [not quite] Ex 0: Expected shape (2, 3), got shape (3, 2). Hint: Transpose?
    >>> check(..., 42).answered
    False
    """
    if answer is Ellipsis or answer is None:
        return _unanswered(name)
    return _verdict(*_compare(answer, expected, rtol, atol), name=name, hint=hint)


def _unanswered(name) -> Feedback:
    return Feedback(False, False, f"{name}: not answered yet. Replace `...` with your code and run the cell again.")


def _verdict(correct, why, *, name, hint) -> Feedback:
    """The Feedback for a checked answer; a wrong one raises under strict checking."""
    if correct:
        return Feedback(True, True, f"{name}: {why}")
    message = f"{name}: {why}" + (f" Hint: {hint}" if hint else "")
    if os.environ.get(STRICT_ENV) == "1":
        raise ExerciseError(message)
    return Feedback(False, True, message)


class _ForbiddenCall(Exception):
    """Raised when the reader's own code calls a function the exercise rules out."""


def _functions(dotted):
    """``(dotted name, function)`` for a dotted function name, or for every callable a module defines."""
    import types

    try:
        target = importlib.import_module(dotted)
    except ImportError:
        module_name, attr = dotted.rsplit(".", 1)
        return [(dotted, vars(importlib.import_module(module_name))[attr])]
    if not isinstance(target, types.ModuleType):
        raise TypeError(f"{dotted!r} is not a module")
    return [(f"{dotted}.{name}", value) for name, value in vars(target).items()
            if callable(value) and getattr(value, "__module__", None) == dotted and not name.startswith("__")]


@contextlib.contextmanager
def _watching(forbidden, required, user_globals, closure=()):
    """While active, each function named in ``forbidden`` raises when called from code whose globals are
    ``user_globals`` (the reader's notebook), and each call of a function named in ``required`` from that code is
    counted in the dict this yields. Calls from anywhere else (the package's own internals) go through unchanged.
    The functions are replaced wherever the package binds them (``numpy.einsum`` is also ``numpy._core.einsum``),
    in ``user_globals`` (``from numpy import einsum``) and in the cells of ``closure``. A dotted name may be a
    module: every function it defines."""
    calls = {}
    restore = []

    def replace_everywhere(dotted, original, replacement):
        top = dotted.split(".")[0]
        spaces = [vars(m) for name, m in list(sys.modules.items())
                  if m is not None and (name == top or name.startswith(top + "."))]
        for space in spaces + [user_globals]:
            for key, value in list(space.items()):
                if value is original:
                    restore.append((space, key, value))
                    space[key] = replacement
        for cell in closure or ():
            try:
                if cell.cell_contents is original:
                    restore.append((cell, None, original))
                    cell.cell_contents = replacement
            except ValueError:  # an empty cell
                pass

    installed = set()  # the guards and counters already in place: a function named twice is wrapped once
    try:
        for dotted, original in (f for name in forbidden for f in _functions(name)):
            if id(original) in installed:
                continue

            def guard(*args, _original=original, _dotted=dotted, **kwargs):
                if sys._getframe(1).f_globals is user_globals:
                    raise _ForbiddenCall(_dotted)
                return _original(*args, **kwargs)

            installed.add(id(guard))
            replace_everywhere(dotted, original, guard)
        for dotted, original in (f for name in required for f in _functions(name)):
            if id(original) in installed:
                continue
            calls[dotted] = 0

            def counter(*args, _original=original, _dotted=dotted, **kwargs):
                if sys._getframe(1).f_globals is user_globals:
                    calls[_dotted] += 1
                return _original(*args, **kwargs)

            installed.add(id(counter))
            replace_everywhere(dotted, original, counter)
        yield calls
    finally:
        for space, key, value in reversed(restore):
            if key is None:
                space.cell_contents = value
            else:
                space[key] = value


def _describe_inputs(args) -> str:
    parts = []
    for value in args:
        if isinstance(value, np.ndarray):
            parts.append(f"an array of shape {value.shape}")
        elif hasattr(value, "nnz") and hasattr(value, "shape"):
            parts.append(f"a sparse {value.shape[0]} x {value.shape[1]} matrix")
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, np.ndarray) for v in value):
            shapes = ", ".join(str(v.shape) for v in value)
            parts.append(f"a {type(value).__name__} of {len(value)} arrays of shapes {shapes}")
        else:
            parts.append(_describe(value)[:60])
    return ", ".join(parts)


def check_function(function, reference, cases, *, forbidden=(), required=(), max_peak_bytes=None, rtol=1e-7,
                   atol=1e-12, hint=None, name="function") -> Feedback:
    """Run a reader's function on fresh inputs and compare each result with a reference implementation.

    Parameters
    ----------
    function : callable
        The reader's function. ``...`` or ``None`` means "not answered yet".
    reference : callable
        Called with the same arguments; returns the expected value (compared
        as in :func:`check`).
    cases : iterable of tuples
        The argument tuples to try: inputs the reader has not seen.
    forbidden : sequence of str
        Dotted names (``"numpy.einsum"``, ``"tensorbook.mode_dot"``) that the
        reader's own code may not call while it runs: such a call makes the
        answer wrong, with a message naming the function. Calls made by other
        code (the package's internals) are not affected. A module's name
        (``"tensorbook.nn"``) forbids every function it defines.
    required : sequence of str
        Dotted names the reader's code must call (``"numpy.einsum"`` for "with
        einsum"), at least once per case.
    max_peak_bytes : int, optional
        The most memory the reader's function may allocate at once (traced by
        :mod:`tracemalloc`, to which NumPy reports its arrays), for exercises
        that say "without forming" a large intermediate.
    rtol, atol, hint, name
        As in :func:`check`.

    Returns
    -------
    Feedback

    Examples
    --------
    >>> import numpy as np
    >>> from tensorbook.exercises import check_function
    >>> cases = [(np.arange(6.0).reshape(2, 3),), (np.ones((4, 2)),)]
    >>> check_function(lambda A: A.sum(axis=0), lambda A: np.einsum("ij->j", A), cases).correct
    True
    >>> check_function(lambda A: np.sum(A, axis=0), lambda A: A.sum(axis=0), cases, forbidden=["numpy.sum"])
    [not quite] function: Your function called numpy.sum, which this exercise asks you to do without.
    """
    if function is Ellipsis or function is None:
        return _unanswered(name)
    if not callable(function):
        return _verdict(False, f"Expected a function (def ...), got {_describe(function)}.", name=name, hint=hint)
    user_globals = getattr(function, "__globals__", None)
    cases = list(cases)
    for i, args in enumerate(cases):
        expected = reference(*args)
        if user_globals is None:  # a builtin or a C function: nothing of the reader's to watch
            forbidden = required = ()
        tracing = max_peak_bytes is not None and not tracemalloc.is_tracing()
        try:
            with _watching(forbidden, required, user_globals, getattr(function, "__closure__", None)) as calls:
                if tracing:
                    tracemalloc.start()
                answer = function(*args)
                peak = tracemalloc.get_traced_memory()[1] if tracing else 0
        except _ForbiddenCall as call:
            return _verdict(False, f"Your function called {call}, which this exercise asks you to do without.",
                            name=name, hint=hint)
        except Exception as error:  # the reader's bug, reported as a wrong answer
            return _verdict(False, f"On a fresh input ({_describe_inputs(args)}) your function raised "
                                   f"{type(error).__name__}: {error}", name=name, hint=hint)
        finally:
            if tracing:
                tracemalloc.stop()
        if tracing and peak > max_peak_bytes:
            return _verdict(False, f"On a fresh input ({_describe_inputs(args)}) your function allocated "
                                   f"{peak / 1e6:.2f} MB at its peak, more than the {max_peak_bytes / 1e6:.2f} MB "
                                   f"this exercise allows: it formed something it should not.", name=name, hint=hint)
        missing = [dotted for dotted, count in calls.items() if count == 0]
        if missing:
            return _verdict(False, f"Your function did not call {' or '.join(missing)}, which this exercise asks "
                                   f"you to use.", name=name, hint=hint)
        correct, why = _compare(answer, expected, rtol, atol)
        if not correct:
            return _verdict(False, f"On a fresh input ({_describe_inputs(args)}): {why}", name=name, hint=hint)
    return _verdict(True, f"Correct on {len(cases)} fresh inputs that the chapter did not use.", name=name, hint=hint)


@dataclass(frozen=True)
class Exercise:
    """One exercise of the book: its number, a reference solution and a hint.

    The reference is a callable returning the expected value; it is computed
    when an answer is checked, from the package's data, by code written
    independently of the solution shown in the book. A *function exercise*
    also has ``cases``, a callable returning fresh argument tuples: the
    answer is then the reader's function, run on each case (with the
    ``forbidden`` functions unavailable to it) and compared with
    ``reference(*case)`` (see :func:`check_function`).
    """

    number: str
    title: str
    reference: Callable[..., Any]
    hint: str = ""
    rtol: float = 1e-7
    atol: float = 1e-12
    cases: Callable[[], list] | None = None
    forbidden: tuple = ()
    required: tuple = ()
    max_peak_bytes: int | None = None

    def check(self, answer) -> Feedback:
        """Check ``answer`` against the reference; see :func:`check`.

        The reference is only computed for an actual answer: an unanswered
        cell (``...`` or ``None``) costs nothing.
        """
        if answer is Ellipsis or answer is None:
            return check(answer, None, name=f"Exercise {self.number}")
        if self.cases is not None:
            return check_function(answer, self.reference, self.cases(), forbidden=self.forbidden,
                                  required=self.required, max_peak_bytes=self.max_peak_bytes, rtol=self.rtol,
                                  atol=self.atol, hint=self.hint or None,
                                  name=f"Exercise {self.number}")
        return check(
            answer, self.reference(), rtol=self.rtol, atol=self.atol,
            hint=self.hint or None, name=f"Exercise {self.number}",
        )

    def __repr__(self) -> str:
        return f"Exercise {self.number}: {self.title}"


def exercise(number: str) -> Exercise:
    """Look up an exercise of the book by its number.

    Parameters
    ----------
    number : str
        Chapter and exercise, such as ``"1.2"``.

    Examples
    --------
    >>> import tensorbook as tb
    >>> tb.exercise("1.4")
    Exercise 1.4: parameters of a bilinear VQA classifier
    >>> tb.exercise("1.4").check(...).answered
    False
    """
    from ._exercise_bank import EXERCISES

    key = str(number)
    if key not in EXERCISES:
        known = ", ".join(sorted(EXERCISES))
        raise KeyError(f"number must name an exercise of the book ({known}), got {number!r}")
    return Exercise(**EXERCISES[key])
