"""Input checks shared by the public functions.

Every message names the argument, the rule it broke, and what came instead.
"""

import math
import numbers

import numpy as np


def as_array(value, name, *, min_ndim=0, allow_complex=False):
    """Return ``value`` as a NumPy array of numbers, or raise a clear error."""
    try:
        arr = np.asarray(value)
    except Exception as exc:  # pragma: no cover - exotic objects
        raise TypeError(f"{name} must be array-like, got {type(value).__name__}") from exc
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_
    ):
        raise TypeError(f"{name} must be an array of numbers, got dtype {arr.dtype}")
    if not allow_complex and np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real, got dtype {arr.dtype}")
    if arr.ndim < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} dimension(s), got shape {arr.shape}"
        )
    return arr


def check_mode(mode, ndim, name="mode", of="a tensor with {n} modes"):
    """Return ``mode`` as a non-negative int in ``range(ndim)``; negatives count from the end.

    ``of`` describes what is indexed, for the error message.
    """
    if isinstance(mode, bool) or not isinstance(mode, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(mode).__name__}")
    mode = int(mode)
    if not -ndim <= mode < ndim:
        raise ValueError(
            f"{name} must be in [{-ndim}, {ndim - 1}] for {of.format(n=ndim)}, got {mode}"
        )
    return mode % ndim


def check_shape(shape, name="shape"):
    """Return ``shape`` as a tuple of positive ints."""
    try:
        shape = tuple(shape)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of positive integers, got {shape!r}") from None
    for size in shape:
        if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
            raise ValueError(f"{name} must contain positive integers only, got {shape}")
    return tuple(int(s) for s in shape)


def as_float_array(value, name, *, ndim=None, min_ndim=0):
    """``value`` as a float32 or float64 array (integers and booleans become float64)."""
    arr = as_array(value, name, min_ndim=min_ndim)
    if ndim is not None and arr.ndim not in np.atleast_1d(ndim):
        want = " or ".join(f"{d}-D" for d in np.atleast_1d(ndim))
        raise ValueError(f"{name} must be {want}, got shape {arr.shape}")
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)
    return arr


def check_finite(inputs):
    """Raise a ValueError naming the first input holding NaN or infinity.

    ``inputs`` maps argument names to arrays, or to sequences of arrays.
    """
    for name, value in inputs.items():
        items = value if isinstance(value, (list, tuple)) else [value]
        for k, item in enumerate(items):
            if item is not None and not np.all(np.isfinite(item)):
                label = name if item is value else f"{name}[{k}]"
                raise ValueError(
                    f"{label} must contain only finite values, got NaN or infinity "
                    "(they would propagate silently into every entry they touch)"
                )


def check_finite_result(result, inputs):
    """Return ``result``; if it holds NaN or infinity, blame the input that does.

    A NaN or infinity in the input of a linear operation always reaches its
    output (in IEEE arithmetic ``nan * 0`` is ``nan`` and ``inf * 0`` is
    ``nan``), so checking the usually smaller output first costs one cheap
    pass. A non-finite result from finite inputs is a genuine overflow and is
    returned unchanged, as NumPy would. The test is a plain sum, which is
    finite exactly when every term is (barring overflow of the sum itself,
    which the exact check then clears): one pass, no temporary array.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.sum(result)
    if not np.isfinite(total) and not np.all(np.isfinite(result)):
        check_finite(inputs)
    return result


def check_random_state(random_state, name="random_state"):
    """A numpy Generator from None, an integer seed or a Generator."""
    if random_state is None or (isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool)):
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    raise TypeError(f"{name} must be None, an integer seed or a numpy.random.Generator, got {type(random_state).__name__}")


def check_int(value, name, *, minimum=1):
    """``value`` as an int >= ``minimum`` (booleans and floats refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_real(value, name, *, low=-math.inf, high=math.inf, low_open=False, high_open=False):
    """``value`` as a float in the interval from ``low`` to ``high``, or a ValueError naming ``name``.

    Booleans, non-numbers and NaN are refused; an infinite bound excludes
    infinity (``low=0, low_open=True`` is "a finite number > 0"). The message
    states the interval: ``validation_fraction must be a number in (0, 0.5],
    got 0.7``.
    """
    ok = not isinstance(value, bool) and isinstance(value, numbers.Real) and not math.isnan(value)
    if ok:
        number = float(value)
        ok = ((number > low if low_open or low == -math.inf else number >= low)
              and (number < high if high_open or high == math.inf else number <= high))
    if not ok:
        raise ValueError(f"{name} must be {_interval(low, high, low_open, high_open)}, got {value!r}")
    return number


def _interval(low, high, low_open, high_open):
    if low == -math.inf and high == math.inf:
        return "a finite number"
    if high == math.inf:
        return f"a finite number {'>' if low_open else '>='} {low:g}"
    if low == -math.inf:
        return f"a finite number {'<' if high_open else '<='} {high:g}"
    return f"a number in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"


def check_tol(tol, name="tol"):
    """``tol`` as a float >= 0."""
    return check_real(tol, name, low=0)
