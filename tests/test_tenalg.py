"""unfold / fold against TensorLy and NumPy (independent oracles)."""

import numpy as np
import pytest
import tensorly as tl
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import tensorbook as tb

shapes = array_shapes(min_dims=1, max_dims=5, min_side=1, max_side=4)


@settings(max_examples=60, deadline=None)
@given(shape=shapes, data=st.data(), fortran=st.booleans(), dtype=st.sampled_from([np.float32, np.float64]))
def test_unfold_matches_tensorly_and_fold_inverts(shape, data, fortran, dtype):
    rng = np.random.default_rng(len(shape))
    x = rng.standard_normal(shape).astype(dtype)
    if fortran:
        x = np.asfortranarray(x)
    mode = data.draw(st.integers(0, len(shape) - 1))
    ours = tb.unfold(x, mode)
    np.testing.assert_array_equal(ours, tl.unfold(x, mode))
    assert ours.dtype == dtype
    np.testing.assert_array_equal(tb.fold(ours, mode, shape), x)
    np.testing.assert_array_equal(tb.fold(tl.unfold(x, mode), mode, shape), tl.fold(tl.unfold(x, mode), mode, shape))


def test_unfold_non_contiguous_and_negative_mode():
    x = np.arange(120.0).reshape(4, 5, 6)[:, ::2, 1:]
    np.testing.assert_array_equal(tb.unfold(x, -1), tl.unfold(x, 2))
    # row i of the mode-1 unfolding is the C-order flattening of slice x[:, i, :]
    np.testing.assert_array_equal(tb.unfold(x, 1)[2], x[:, 2, :].ravel())


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: tb.unfold(np.zeros((2, 3)), 2), ValueError, r"mode must be in \[-2, 1\].*got 2"),
        (lambda: tb.unfold(np.zeros((2, 3)), 1.0), TypeError, "mode must be an integer, got float"),
        (lambda: tb.unfold(np.float64(3.0), 0), ValueError, "tensor must have at least 1 dimension"),
        (lambda: tb.unfold(np.array(["a", "b"]), 0), TypeError, "tensor must be an array of numbers"),
        (lambda: tb.unfold(np.zeros((2, 0, 3)), 0), ValueError, r"tensor must not have a mode of size 0, got shape \(2, 0, 3\)"),
        (lambda: tb.fold(np.zeros((3, 4)), 0, (3, 5)), ValueError, r"unfolded must have shape \(3, 5\).*got \(3, 4\)"),
        (lambda: tb.fold(np.zeros((3, 4)), 0, (3, 0)), ValueError, "shape must contain positive integers"),
        (lambda: tb.fold(np.zeros((3, 4)), 0, ()), ValueError, r"shape must have at least one mode, got \(\)"),
    ],
)
def test_bad_input_is_named(call, error, match):
    with pytest.raises(error, match=match):
        call()
