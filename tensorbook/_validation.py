"""Input checks shared by the public functions.

Every message names the argument, the rule it broke, and what came instead.
"""

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


def check_mode(mode, ndim, name="mode"):
    """Return ``mode`` as a non-negative int in ``range(ndim)``; negatives count from the end."""
    if isinstance(mode, bool) or not isinstance(mode, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(mode).__name__}")
    mode = int(mode)
    if not -ndim <= mode < ndim:
        raise ValueError(
            f"{name} must be in [{-ndim}, {ndim - 1}] for a tensor with {ndim} modes, got {mode}"
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
