"""tensorbook.tenalg against independent oracles: numpy.einsum, NumPy and TensorLy."""

import functools
import itertools
import math

import numpy as np
import pytest
import tensorly as tl
from hypothesis import HealthCheck, given, settings
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


# ==========================================================================
# Tensor algebra against independent oracles: numpy.einsum and TensorLy.
#
# Every oracle is computed in float64 from (exact) float64 copies of the
# inputs; a result is accepted when |ours - oracle| <= rtol * scale, entry by
# entry, where ``scale`` is the same contraction taken over absolute values
# (the standard bound on the rounding error of a sum of products), and rtol
# depends on the least precise dtype among the inputs (see ``precision``).
# ==========================================================================

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RTOL = {np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-10}
LETTERS = "abcde"  # tensor modes; new modes and ranks use other letters
DTYPES = st.sampled_from([np.float32, np.float64, np.int64])
LAYOUTS = st.sampled_from(["C", "F", "strided", "reversed"])
SEEDS = st.integers(0, 2**32 - 1)
tensor_shapes = array_shapes(min_dims=1, max_dims=5, min_side=1, max_side=5)


def make(rng, shape, dtype, layout="C"):
    """A random array of ``shape`` and ``dtype`` with the given memory layout.

    "strided" is a view taking every other entry along every axis (so not
    contiguous in any order), "reversed" a view with a negative stride on the
    first axis, "F" a Fortran-ordered copy.
    """
    shape = tuple(shape)

    def draw(s):
        if np.issubdtype(dtype, np.integer):
            return rng.integers(-4, 5, size=s).astype(dtype)
        return rng.standard_normal(s).astype(dtype)

    if layout == "strided":
        x = draw(tuple(2 * s for s in shape))[tuple(slice(None, None, 2) for _ in shape)]
        if x.size > 1:
            assert not x.flags.c_contiguous and not x.flags.f_contiguous
        return x
    if layout == "reversed":
        return draw(shape)[::-1] if shape else draw(shape)
    if layout == "F":
        return np.asfortranarray(draw(shape))
    return draw(shape)


def f64(a):
    return None if a is None else np.array(a, dtype=np.float64)


def expected_dtype(*arrays):
    """float32 when every input is float32, float64 otherwise (integers included)."""
    arrays = [a for a in arrays if a is not None]
    return np.dtype(np.float32) if all(a.dtype == np.float32 for a in arrays) else np.dtype(np.float64)


def precision(*arrays):
    """The dtype whose rounding bounds the error: float32 if any input is float32.

    (A product mixing float32 and float64 inputs is float64, but some of its
    partial products, e.g. the first products of a multi_mode_dot, may be
    rounded in float32 before the float64 operand comes in.)
    """
    arrays = [a for a in arrays if a is not None]
    return np.dtype(np.float32) if any(a.dtype == np.float32 for a in arrays) else np.dtype(np.float64)


def assert_close(got, want, scale, dtype):
    got = np.asarray(got)
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"shape {got.shape}, expected {want.shape}"
    bound = RTOL[np.dtype(dtype)] * np.broadcast_to(np.asarray(scale, dtype=np.float64), want.shape)
    err = np.abs(got.astype(np.float64) - want)
    bad = ~(err <= bound)
    assert not bad.any(), (
        f"{bad.sum()} of {bad.size} entries off; worst error {err.max()} "
        f"(bound {bound.min()}), got {got.ravel()[:6]}, expected {want.ravel()[:6]}"
    )


def einsum_oracle(spec, *operands):
    """(value, scale): the einsum in float64 and the same einsum over absolute values."""
    ops = [f64(o) for o in operands]
    return np.einsum(spec, *ops), np.einsum(spec, *[np.abs(o) for o in ops])


def np_unfold(x, mode):
    """The C-order mode-``mode`` unfolding, written out independently of tensorbook."""
    return np.moveaxis(x, mode, 0).reshape(x.shape[mode], -1)


# --------------------------------------------------------------------------
# mode_dot
# --------------------------------------------------------------------------


@SETTINGS
@given(shape=tensor_shapes, data=st.data(), seed=SEEDS, dtype_x=DTYPES, dtype_u=DTYPES,
       layout_x=LAYOUTS, layout_u=LAYOUTS, transpose=st.booleans(), negative=st.booleans())
def test_mode_dot_matrix_matches_einsum_tensorly_and_unfolding(
    shape, data, seed, dtype_x, dtype_u, layout_x, layout_u, transpose, negative
):
    rng = np.random.default_rng(seed)
    n = len(shape)
    mode = data.draw(st.integers(0, n - 1))
    j = data.draw(st.integers(1, 5))
    x = make(rng, shape, dtype_x, layout_x)
    u = make(rng, (shape[mode], j) if transpose else (j, shape[mode]), dtype_u, layout_u)
    arg_mode = mode - n if negative else mode

    got = tb.mode_dot(x, u, arg_mode, transpose=transpose)

    dtype = expected_dtype(x, u)
    assert got.dtype == dtype
    xs = LETTERS[:n]
    us = xs[mode] + "z" if transpose else "z" + xs[mode]
    spec = f"{xs},{us}->{xs.replace(xs[mode], 'z')}"  # e.g. "abc,zb->azc"
    want, scale = einsum_oracle(spec, x, u)
    assert got.shape == shape[:mode] + (j,) + shape[mode + 1:]
    assert_close(got, want, scale, dtype)
    assert_close(got, tl.tenalg.mode_dot(f64(x), f64(u), mode, transpose=transpose), scale, dtype)
    # the unfolded form: unfold(X x_m U, m) == U @ unfold(X, m)  (U.T with transpose=True)
    u_op = f64(u).T if transpose else f64(u)
    assert_close(tb.unfold(got, mode), u_op @ np_unfold(f64(x), mode),
                 np.abs(u_op) @ np.abs(np_unfold(f64(x), mode)), dtype)
    # transpose=True is exactly a product with U.T
    if transpose:
        assert_close(got, tb.mode_dot(x, np.ascontiguousarray(u.T), mode), scale, dtype)


@SETTINGS
@given(shape=tensor_shapes, data=st.data(), seed=SEEDS, dtype_x=DTYPES, dtype_v=DTYPES,
       layout_x=LAYOUTS, layout_v=LAYOUTS, negative=st.booleans())
def test_mode_dot_vector_removes_the_mode(shape, data, seed, dtype_x, dtype_v, layout_x, layout_v, negative):
    rng = np.random.default_rng(seed)
    n = len(shape)
    mode = data.draw(st.integers(0, n - 1))
    x = make(rng, shape, dtype_x, layout_x)
    v = make(rng, (shape[mode],), dtype_v, layout_v)

    got = tb.mode_dot(x, v, mode - n if negative else mode)

    dtype = expected_dtype(x, v)
    assert got.dtype == dtype
    xs = LETTERS[:n]
    spec = f"{xs},{xs[mode]}->{xs.replace(xs[mode], '')}"  # e.g. "abc,b->ac"
    want, scale = einsum_oracle(spec, x, v)
    assert got.shape == shape[:mode] + shape[mode + 1:]
    assert_close(got, want, scale, dtype)
    assert_close(got, tl.tenalg.mode_dot(f64(x), f64(v), mode), scale, dtype)
    # the vector product is the matrix product with v as a 1-row matrix, mode squeezed
    assert_close(got, np.squeeze(tb.mode_dot(x, v[None, :], mode), axis=mode), scale, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", [0, 1, 2, -1])
def test_mode_dot_large_enough_for_the_threaded_slices(dtype, mode):
    # 2 * 300 * (6 * 300 * 40) flops > the threshold above which the middle-mode
    # slices are split between threads
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(7)
    x = make(rng, (6, 300, 40), dtype)
    u = make(rng, (250, x.shape[mode]), dtype)
    with threadpool_limits(limits=2, user_api="blas"):  # so that the threaded path is taken
        got = tb.mode_dot(x, u, mode)
    spec = {0: "abc,za->zbc", 1: "abc,zb->azc", 2: "abc,zc->abz", -1: "abc,zc->abz"}[mode]
    want, scale = einsum_oracle(spec, x, u)
    assert got.dtype == dtype
    assert_close(got, want, scale, dtype)


def test_mode_dot_small_worked_example():
    x = np.arange(24.0).reshape(2, 3, 4)
    v = np.array([1.0, 0.0, 0.0])
    np.testing.assert_array_equal(tb.mode_dot(x, v, 1), x[:, 0, :])
    np.testing.assert_array_equal(tb.mode_dot(x, v, np.int64(-2)), x[:, 0, :])  # numpy integer mode
    u = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 2.0]])
    np.testing.assert_array_equal(tb.mode_dot(x, u, 1), np.stack([x[:, 0, :], 2 * x[:, 2, :]], axis=1))
    np.testing.assert_array_equal(tb.mode_dot(x, u.T, 1, transpose=True), tb.mode_dot(x, u, 1))
    # the 1-D tensor times a vector is the dot product, a 0-d array
    got = tb.mode_dot(np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0]), 0)
    assert np.shape(got) == () and float(got) == 32.0


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("mode", [0, 1, 2])
def test_mode_dot_finds_a_non_finite_entry_anywhere_even_where_row_0_of_u_is_zero(bad, mode):
    # the first and last modes check one row of the product and U: a NaN or an
    # infinity anywhere in X must still reach it (inf * 0 is nan)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 7, 8))
    u = rng.standard_normal((3, x.shape[mode]))
    for where in [(0, 0, 0), (5, 6, 7), (2, 3, 4)]:
        y = x.copy()
        y[where] = bad
        v = u.copy()
        v[0, where[mode]] = 0.0
        with pytest.raises(ValueError, match="tensor must contain only finite values"):
            tb.mode_dot(y, v, mode)
    v = u.copy()
    v[2, 1] = bad
    with pytest.raises(ValueError, match="matrix_or_vector must contain only finite values"):
        tb.mode_dot(x, v, mode)


def test_mode_dot_genuine_overflow_is_returned_not_blamed_on_the_inputs():
    x = np.full((2, 2), 1e200)
    u = np.full((1, 2), 1e200)
    with np.errstate(over="ignore"):
        got = tb.mode_dot(x, u, 0)
        want = np.einsum("ab,za->zb", x, u)
    np.testing.assert_array_equal(got, want)
    assert np.all(np.isinf(got))


# --------------------------------------------------------------------------
# multi_mode_dot
# --------------------------------------------------------------------------


@SETTINGS
@given(shape=tensor_shapes, data=st.data(), seed=SEEDS, dtype=DTYPES, layout=LAYOUTS,
       transpose=st.booleans())
def test_multi_mode_dot_matches_einsum_and_tensorly(shape, data, seed, dtype, layout, transpose):
    rng = np.random.default_rng(seed)
    n = len(shape)
    order = data.draw(st.permutations(range(n)))
    count = data.draw(st.integers(1, n))
    modes = list(order[:count])  # any subset of the modes, in any order
    kinds = [data.draw(st.sampled_from(["matrix", "vector"])) for _ in modes]
    skip = data.draw(st.none() | st.integers(0, count - 1))
    negative = [data.draw(st.booleans()) for _ in modes]
    x = make(rng, shape, dtype, layout)
    mats = []
    for m, kind in zip(modes, kinds):
        u_dtype = data.draw(DTYPES)
        u_layout = data.draw(LAYOUTS)
        if kind == "vector":
            mats.append(make(rng, (shape[m],), u_dtype, u_layout))
        else:
            j = data.draw(st.integers(1, 4))
            mats.append(make(rng, (shape[m], j) if transpose else (j, shape[m]), u_dtype, u_layout))
    arg_modes = [m - n if neg else m for m, neg in zip(modes, negative)]
    if modes == list(range(count)) and data.draw(st.booleans()):
        arg_modes = None  # the default: one matrix per leading mode

    got = tb.multi_mode_dot(x, mats, modes=arg_modes, skip=skip, transpose=transpose)

    active = [k for k in range(count) if k != skip]
    dtype_out = expected_dtype(x, *[mats[k] for k in active])
    assert got.dtype == dtype_out
    tol = precision(x, *[mats[k] for k in active])
    # einsum: each matrix replaces its mode by a new letter, each vector removes it;
    # modes always refer to the modes of the input tensor
    xs = LETTERS[:n]
    out = list(xs)
    specs = []
    for k in active:
        m, letter = modes[k], xs[modes[k]]
        if mats[k].ndim == 1:
            specs.append(letter)
            out.remove(letter)
        else:
            new = "vwxyz"[k]
            specs.append(letter + new if transpose else new + letter)
            out[out.index(letter)] = new
    spec = ",".join([xs, *specs]) + "->" + "".join(out)
    want, scale = einsum_oracle(spec, x, *[mats[k] for k in active])
    assert_close(got, want, scale, tol)
    # TensorLy sorts the products by mode and counts skip in that sorted order
    by_mode = sorted(range(count), key=lambda k: modes[k])
    tl_skip = None if skip is None else by_mode.index(skip)
    theirs = tl.tenalg.multi_mode_dot(
        f64(x), [f64(mats[k]) for k in by_mode], modes=[modes[k] for k in by_mode],
        skip=tl_skip, transpose=transpose,
    )
    assert_close(got, theirs, scale, tol)


def test_multi_mode_dot_all_vectors_gives_a_number_and_skip_keeps_a_mode():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 4))
    a, b, c = (rng.standard_normal(s) for s in x.shape)
    got = tb.multi_mode_dot(x, [a, b, c])
    assert np.shape(got) == ()
    np.testing.assert_allclose(got, np.einsum("ijk,i,j,k->", x, a, b, c), rtol=1e-12)
    # skipping the vector of mode 1 leaves that mode in the result
    np.testing.assert_allclose(tb.multi_mode_dot(x, [a, b, c], skip=1),
                               np.einsum("ijk,i,k->j", x, a, c), rtol=1e-12)
    # vectors given for modes (2, 0): the modes are those of the input tensor
    np.testing.assert_allclose(tb.multi_mode_dot(x, [c, a], modes=[2, 0]),
                               np.einsum("ijk,i,k->j", x, a, c), rtol=1e-12)
    u = rng.standard_normal((5, 3))
    np.testing.assert_allclose(tb.multi_mode_dot(x, [u, c, a], modes=[1, -1, 0]),
                               np.einsum("ijk,zj,k,i->z", x, u, c, a), rtol=1e-12)


def test_multi_mode_dot_skip_is_an_index_like_modes():
    # skip indexes matrices/modes; a negative skip counts from the end (as modes
    # and khatri_rao's skip do) or is refused, and an out-of-range skip is
    # refused: neither may be ignored silently, which would apply every product
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 4))
    mats = [rng.standard_normal((5, s)) for s in x.shape]
    want = np.einsum("abc,ia,jb->ijc", x, mats[0], mats[1])
    np.testing.assert_allclose(tb.multi_mode_dot(x, mats, skip=2), want, rtol=1e-12)
    try:
        got = tb.multi_mode_dot(x, mats, skip=-1)
    except ValueError as exc:
        assert "skip" in str(exc)
    else:
        assert got.shape == want.shape, f"skip=-1 was ignored: result of shape {got.shape}"
        np.testing.assert_allclose(got, want, rtol=1e-12)
    with pytest.raises(ValueError, match="skip"):
        tb.multi_mode_dot(x, mats, skip=3)


# --------------------------------------------------------------------------
# kronecker and khatri_rao
# --------------------------------------------------------------------------


@SETTINGS
@given(data=st.data(), seed=SEEDS, count=st.integers(1, 4))
def test_kronecker_matches_chained_kron_einsum_and_tensorly(data, seed, count):
    rng = np.random.default_rng(seed)
    shapes = [(data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))) for _ in range(count)]
    mats = [make(rng, s, data.draw(DTYPES), data.draw(LAYOUTS)) for s in shapes]

    got = tb.kronecker(mats)

    assert got.dtype == expected_dtype(*mats)
    dtype = precision(*mats)
    rows, cols = math.prod(s[0] for s in shapes), math.prod(s[1] for s in shapes)
    r, c = "abcd"[:count], "ijkl"[:count]
    spec = ",".join(r[k] + c[k] for k in range(count)) + f"->{r}{c}"  # e.g. "ai,bj->abij"
    want, scale = einsum_oracle(spec, *mats)
    want, scale = want.reshape(rows, cols), scale.reshape(rows, cols)
    assert_close(got, want, scale, dtype)
    assert_close(got, functools.reduce(np.kron, [f64(m) for m in mats]), scale, dtype)
    assert_close(got, tl.tenalg.kronecker([f64(m) for m in mats]), scale, dtype)
    assert got.flags.c_contiguous


@SETTINGS
@given(data=st.data(), seed=SEEDS, count=st.integers(1, 4), rank=st.integers(1, 5),
       weighted=st.booleans())
def test_khatri_rao_with_skip_and_weights_matches_einsum_and_tensorly(data, seed, count, rank, weighted):
    rng = np.random.default_rng(seed)
    mats = [make(rng, (data.draw(st.integers(1, 5)), rank), data.draw(DTYPES), data.draw(LAYOUTS))
            for _ in range(count)]
    skip = data.draw(st.none() | st.integers(-count, count - 1)) if count > 1 else None
    weights = make(rng, (rank,), data.draw(DTYPES), data.draw(LAYOUTS)) if weighted else None

    got = tb.khatri_rao(mats, skip=skip, weights=weights)

    kept = [m for k, m in enumerate(mats) if skip is None or k != skip % count]
    assert got.dtype == expected_dtype(*kept, weights)
    dtype = precision(*kept, weights)
    rows = "abcd"[:len(kept)]
    operands = kept + ([weights] if weighted else [])
    spec = ",".join([f"{a}r" for a in rows] + (["r"] if weighted else [])) + f"->{rows}r"
    want, scale = einsum_oracle(spec, *operands)  # e.g. "ar,br,r->abr"
    want, scale = want.reshape(-1, rank), scale.reshape(-1, rank)
    assert_close(got, want, scale, dtype)
    if not (weighted and len(kept) == 1):  # TensorLy ignores the weights of a single matrix
        theirs = tl.tenalg.khatri_rao([f64(m) for m in mats], weights=f64(weights),
                                      skip_matrix=None if skip is None else skip % count)
        assert_close(got, theirs, scale, dtype)
    # column r is the Kronecker product of the columns r
    r = data.draw(st.integers(0, rank - 1))
    col = functools.reduce(np.kron, [f64(m)[:, r] for m in kept]) * (1.0 if weights is None else weights[r])
    assert_close(got[:, r], col, scale[:, r], dtype)


def test_khatri_rao_small_worked_example():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    b = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    want = np.array([[1, 0], [0, 2], [1, 2], [3, 0], [0, 4], [3, 4]], dtype=float)
    np.testing.assert_array_equal(tb.khatri_rao([a, b]), want)
    np.testing.assert_array_equal(tb.khatri_rao([b, a, b], skip=-1), tb.khatri_rao([b, a]))
    np.testing.assert_array_equal(tb.khatri_rao([a, b], weights=[2.0, -1.0]), want * [2.0, -1.0])


# --------------------------------------------------------------------------
# mttkrp
# --------------------------------------------------------------------------


def check_mttkrp(x, factors, mode, none_at_mode=False):
    """mttkrp(x, factors, mode) against einsum, unfold @ khatri_rao and TensorLy."""
    n = x.ndim
    m = mode % n
    args = list(factors)
    if none_at_mode:
        args[m] = None
    got = tb.mttkrp(x, args, mode)
    rank = factors[0].shape[1]
    dtype = expected_dtype(x, *[f for k, f in enumerate(factors) if k != m])
    if none_at_mode or expected_dtype(x, *factors) == dtype:
        # (the dtype of an unused factors[mode] leaks into the result: see
        # test_mttkrp_dtype_does_not_depend_on_the_unused_factor)
        assert got.dtype == dtype
    dtype = precision(x, *factors)
    assert got.shape == (x.shape[m], rank)
    xs = LETTERS[:n]
    spec = ",".join([xs] + [f"{xs[k]}r" for k in range(n) if k != m]) + f"->{xs[m]}r"  # "abc,ar,cr->br"
    want, scale = einsum_oracle(spec, x, *[f for k, f in enumerate(factors) if k != m])
    assert_close(got, want, scale, dtype)
    kr = f64(tb.khatri_rao([f64(f) for f in factors], skip=m))
    assert_close(got, np_unfold(f64(x), m) @ kr, scale, dtype)
    assert_close(got, tl.tenalg.unfolding_dot_khatri_rao(f64(x), (None, [f64(f) for f in factors]), m),
                 scale, dtype)
    return got


@SETTINGS
@given(shape=array_shapes(min_dims=2, max_dims=5, min_side=1, max_side=5), data=st.data(),
       seed=SEEDS, rank=st.integers(1, 6), dtype=DTYPES, layout=LAYOUTS)
def test_mttkrp_every_mode_matches_einsum_khatri_rao_and_tensorly(shape, data, seed, rank, dtype, layout):
    rng = np.random.default_rng(seed)
    x = make(rng, shape, dtype, layout)
    factors = [make(rng, (s, rank), data.draw(DTYPES), data.draw(LAYOUTS)) for s in shape]
    for mode in range(len(shape)):
        arg = mode - len(shape) if data.draw(st.booleans()) else mode
        check_mttkrp(x, factors, arg, none_at_mode=data.draw(st.booleans()))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shape, mode, rank",
    [
        ((1, 3, 4), 2, 3),     # last mode, fewer slices (1) than threads
        ((1, 3, 4), -1, 5),
        ((3, 1, 4), 1, 2),     # inner kernel, fewer rows of the target mode than threads
        ((1, 4), 0, 1),        # matrix, first mode, rank 1
        ((5, 2), 1, 1),        # matrix, last mode
        ((3, 9, 5), 2, 5),     # last mode: 27 rows, one block of 16 rows plus 11
        ((2, 17, 3), 2, 4),    # 34 rows: two blocks of 16 plus two
        ((4, 7, 6), 2, 9),     # 28 rows; rank 9 = a tile of 5 ranks and one of 4
        ((4, 8, 6), 2, 8),     # 32 rows: exactly two blocks of 16
        ((6, 13, 7, 11), 0, 5),
        ((6, 13, 7, 11), 1, 5),
        ((6, 13, 7, 11), 2, 7),
        ((6, 13, 7, 11), 3, 5),
        ((3, 2, 4, 2, 19), 4, 6),
        ((3, 2, 4, 2, 19), 2, 3),
    ],
)
def test_mttkrp_kernel_edge_cases(shape, mode, rank, dtype):
    rng = np.random.default_rng(sum(shape) + rank)
    x = make(rng, shape, dtype)
    factors = [make(rng, (s, rank), dtype) for s in shape]
    check_mttkrp(x, factors, mode)
    check_mttkrp(x, factors, mode, none_at_mode=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_k", [1, 3, 4, 5, 8, 11, 12, 16, 19, 24, 33, 40])
@pytest.mark.parametrize("rank", [1, 2, 3, 4, 5, 6, 9, 11])
def test_mttkrp_last_mode_tiles(n_k, rank, dtype):
    # the last mode is added in register tiles of at most 5 ranks by one 64-byte
    # line (8 float64, 16 float32), then one vector (4 or 8), then column by
    # column; 3 * 7 = 21 rows are one block of 16 plus 5 (in one chunk). Every
    # split of the columns into ranges and every prefetch distance gives the same bits.
    from tensorbook import _kernels

    rng = np.random.default_rng(100 * n_k + rank)
    x = make(rng, (3, 7, n_k), dtype)
    factors = [make(rng, (s, rank), dtype) for s in x.shape]
    got = check_mttkrp(x, factors, 2)
    xm = np.ascontiguousarray(x).reshape(-1, n_k)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for n_chunks in (1, 2):  # rows 0-20 in one chunk (a block of 16, then 5), or 0-9 and 10-20
        results = []
        for n_k_chunks, ahead in [(1, 0), (1, 16), (2, 0), (3, 16), (7, 3)]:
            parts = np.zeros((n_chunks, rank, n_k), dtype=dtype)
            _kernels.mttkrp_cols(xm, 7, factors[0], factors[1], parts, n_k_chunks, ahead)
            results.append(parts)
        for parts in results[1:]:
            np.testing.assert_array_equal(parts, results[0])
        np.testing.assert_allclose(results[0].sum(axis=0).T, got, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shape, rank",
    [
        ((40, 30, 50), 10),      # the benchmark's layout, smaller: chunks over the target mode
        ((3, 700, 40), 7),       # mode 0 shorter than the task count: chunks over b too
        ((2, 3, 5, 401), 11),    # short leading modes, a long last mode
        ((9000, 6), 3),          # a tall matrix: many row chunks for the last mode
        ((5, 20000), 4),         # a wide matrix: the last mode split in ranges of k
    ],
)
def test_mttkrp_does_not_depend_on_the_thread_count(shape, rank, dtype):
    # the chunks whose partial sums are added depend on the shape only, so 1, 2
    # and 3 Numba threads must give the same bits, and match einsum
    import numba

    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal(shape).astype(dtype)
    factors = [rng.standard_normal((s, rank)).astype(dtype) for s in shape]
    before = numba.get_num_threads()
    try:
        for mode in range(len(shape)):
            results = []
            for threads in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS), min(3, numba.config.NUMBA_NUM_THREADS)}):
                numba.set_num_threads(threads)
                results.append(tb.mttkrp(x, factors, mode))
            for got in results[1:]:
                np.testing.assert_array_equal(got, results[0])
            check_mttkrp(x, factors, mode)
    finally:
        numba.set_num_threads(before)


@pytest.mark.parametrize("shape, rank", [((40, 30, 50), 10), ((3, 700, 40), 7), ((2, 3, 5, 401), 11),
                                         ((9000, 6), 3), ((5, 20000), 4), ((17, 9), 1)])
def test_mttkrp_prefetching_changes_nothing_but_the_speed(shape, rank, monkeypatch):
    # tensors larger than the last-level cache are read with prefetches a few
    # rows ahead: same bits as without, near the end of the tensor included
    import tensorbook.tenalg as tenalg

    rng = np.random.default_rng(len(shape) + rank)
    x = rng.standard_normal(shape)
    factors = [rng.standard_normal((s, rank)) for s in shape]
    plain = [tb.mttkrp(x, factors, m) for m in range(len(shape))]
    monkeypatch.setattr(tenalg, "_last_level_cache_bytes", lambda: 0)
    for m in range(len(shape)):
        np.testing.assert_array_equal(tb.mttkrp(x, factors, m), plain[m])
        check_mttkrp(x, factors, m)


@pytest.mark.parametrize("shape, mode", [((30, 25, 20, 35), 0), ((30, 25, 20, 35), 2), ((30, 25, 20, 35), 3),
                                         ((150, 120, 100), 1)])
def test_mttkrp_never_forms_the_full_khatri_rao_product(shape, mode):
    # the (prod_{k != n} I_k, R) Khatri-Rao product would take `full` bytes; the
    # Python-level allocations of the call (partial products, partial sums)
    # stay far below it
    import tracemalloc

    rank = 16
    rng = np.random.default_rng(4)
    x = rng.standard_normal(shape)
    factors = [rng.standard_normal((s, rank)) for s in shape]
    tb.mttkrp(x, factors, mode)  # compile or load the kernels first
    full = math.prod(s for k, s in enumerate(shape) if k != mode) * rank * 8
    tracemalloc.start()
    try:
        got = tb.mttkrp(x, factors, mode)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < full / 4, f"peak {peak} bytes, the full Khatri-Rao product {full}"
    check_mttkrp(x, factors, mode)
    assert got.shape == (shape[mode], rank)


def test_chapter_2_describes_the_last_mode_kernel_it_ships():
    # chapter 2's MTTKRP paragraph quotes the last-mode kernel's block of rows and tile of ranks
    from pathlib import Path

    from tensorbook import _kernels

    words = {5: "five", 4: "four", 6: "six", 8: "eight"}
    text = (Path(__file__).parent.parent / "notebooks" / "02_tensor_operations.md").read_text()
    assert f"blocks of {_kernels._LAST_MODE_ROWS} fibres" in text
    assert f"({words[_kernels._TILE_RANKS]} rank columns by one 64-byte cache line" in text


@pytest.mark.parametrize("shape", [(2, 3, 4), (5, 7), (2, 3, 4, 70)])
def test_mttkrp_of_rank_zero_factors_is_empty(shape):
    # no rank columns: an (I_n, 0) result in every mode, as einsum gives
    x = np.random.default_rng(0).standard_normal(shape)
    factors = [np.ones((s, 0)) for s in shape]
    for mode in range(len(shape)):
        got = tb.mttkrp(x, factors, mode)
        want = np.einsum(x, list(range(len(shape))), *[a for k, f in enumerate(factors) if k != mode
                                                      for a in (f, [k, len(shape)])], [mode, len(shape)])
        assert got.shape == want.shape == (shape[mode], 0)


def test_mttkrp_dtype_does_not_depend_on_the_unused_factor():
    # factors[mode] is not used (it may be None), so it must not change the
    # result: with float32 tensor and used factors the result stays float32
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 4, 5)).astype(np.float32)
    f = [rng.standard_normal((s, 2)).astype(np.float32) for s in x.shape]
    want = tb.mttkrp(x, [None, f[1], f[2]], 0)
    assert want.dtype == np.float32
    got = tb.mttkrp(x, [f[0].astype(np.float64), f[1], f[2]], 0)
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_mttkrp_of_a_cp_tensor_is_the_normal_equations_right_hand_side():
    # X = [[A, B, C]] exactly, so mttkrp(X, ., 0) = A @ ((B'B) * (C'C))
    rng = np.random.default_rng(11)
    a, b, c = (rng.standard_normal((s, 3)) for s in (4, 5, 6))
    x = np.einsum("ir,jr,kr->ijk", a, b, c)
    np.testing.assert_allclose(tb.mttkrp(x, [None, b, c], 0), a @ ((b.T @ b) * (c.T @ c)), rtol=1e-10)
    np.testing.assert_allclose(tb.mttkrp(x, [a, b, None], 2), c @ ((a.T @ a) * (b.T @ b)), rtol=1e-10)


# --------------------------------------------------------------------------
# outer, inner, norm
# --------------------------------------------------------------------------


@SETTINGS
@given(data=st.data(), seed=SEEDS, count=st.integers(1, 5))
def test_outer_matches_einsum_and_tensorly(data, seed, count):
    rng = np.random.default_rng(seed)
    vecs = [make(rng, (data.draw(st.integers(1, 5)),), data.draw(DTYPES), data.draw(LAYOUTS))
            for _ in range(count)]
    got = tb.outer(vecs)
    assert got.dtype == expected_dtype(*vecs)
    dtype = precision(*vecs)
    assert got.flags.c_contiguous
    spec = ",".join(LETTERS[:count]) + "->" + LETTERS[:count]  # e.g. "a,b,c->abc"
    want, scale = einsum_oracle(spec, *vecs)
    assert_close(got, want, scale, dtype)
    assert_close(got, tl.tenalg.outer([f64(v) for v in vecs]), scale, dtype)


@SETTINGS
@given(shape=tensor_shapes, seed=SEEDS, dtype_a=DTYPES, dtype_b=DTYPES, layout_a=LAYOUTS, layout_b=LAYOUTS)
def test_inner_matches_einsum_and_tensorly(shape, seed, dtype_a, dtype_b, layout_a, layout_b):
    rng = np.random.default_rng(seed)
    a = make(rng, shape, dtype_a, layout_a)
    b = make(rng, shape, dtype_b, layout_b)
    got = tb.inner(a, b)
    dtype = expected_dtype(a, b)
    assert np.ndim(got) == 0 and np.asarray(got).dtype == dtype
    xs = LETTERS[:len(shape)]
    want, scale = einsum_oracle(f"{xs},{xs}->", a, b)  # e.g. "abc,abc->"
    assert_close(got, want, scale, dtype)
    assert_close(got, tl.tenalg.inner(f64(a), f64(b)), scale, dtype)
    assert_close(tb.inner(a, a), tb.norm(a) ** 2, np.sum(f64(a) ** 2), precision(a))


@SETTINGS
@given(shape=tensor_shapes, seed=SEEDS, dtype=DTYPES, layout=LAYOUTS, order=st.sampled_from([1, 2, np.inf]))
def test_norm_matches_numpy_and_tensorly(shape, seed, dtype, layout, order):
    rng = np.random.default_rng(seed)
    x = make(rng, shape, dtype, layout)
    got = tb.norm(x, order)
    out_dtype = expected_dtype(x)
    assert np.ndim(got) == 0 and np.asarray(got).dtype == out_dtype
    want = np.linalg.norm(f64(x).ravel(), ord=order)
    scale = np.linalg.norm(f64(x).ravel(), ord=order)  # a sum of non-negative terms: relative bound
    assert_close(got, want, scale, out_dtype)
    assert_close(got, tl.norm(f64(x), "inf" if order == np.inf else order), scale, out_dtype)


def extreme_norm_oracle(x, order):
    """The norm of the float64 copy of ``x``, computed without over- or underflow."""
    flat = f64(x).ravel()
    if order == 2:
        return math.hypot(*flat)  # Python scales internally: exact to an ulp or so
    if order == 1:
        return math.fsum(np.abs(flat))
    return np.max(np.abs(flat))


@pytest.mark.parametrize("order", [1, 2, np.inf])
@pytest.mark.parametrize(
    "dtype, magnitude",
    [
        (np.float64, 1e200),   # squares overflow
        (np.float64, 1e300),
        (np.float64, 1e-200),  # squares underflow to zero
        (np.float64, 1e-160),  # squares are subnormal: digits lost
        (np.float32, 1e30),
        (np.float32, 1e-30),
        (np.float32, 1e-21),
    ],
)
def test_norm_of_huge_and_tiny_entries(dtype, magnitude, order):
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((3, 4, 5)) * magnitude).astype(dtype)
    assert np.all(np.isfinite(x)) and np.all(x != 0)
    got = tb.norm(x, order)
    want = extreme_norm_oracle(x, order)
    # the same value by exact power-of-two rescaling and NumPy
    s = 2.0 ** round(math.log2(magnitude))
    np.testing.assert_allclose(s * np.linalg.norm(f64(x).ravel() / s, ord=order), want, rtol=1e-13)
    assert np.asarray(got).dtype == dtype
    np.testing.assert_allclose(float(got), want, rtol=RTOL[np.dtype(dtype)])


@pytest.mark.parametrize(
    "entries, want",
    [([3e200, 4e200], 5e200), ([3e-200, 4e-200], 5e-200), ([-3e-160, 4e-160], 5e-160), ([3.0, -4.0], 5.0)],
)
def test_norm_worked_examples(entries, want):
    np.testing.assert_allclose(float(tb.norm(np.array(entries))), want, rtol=1e-14)


# --------------------------------------------------------------------------
# T(I, v, v) and T(v, v, v)
# --------------------------------------------------------------------------


@SETTINGS
@given(k=st.integers(1, 5), batch=st.none() | st.integers(1, 4), seed=SEEDS, dtype_t=DTYPES,
       dtype_v=DTYPES, layout_t=LAYOUTS, layout_v=LAYOUTS, symmetric=st.booleans())
def test_tensor_ivv_and_vvv_match_einsum_and_tensorly(k, batch, seed, dtype_t, dtype_v, layout_t, layout_v,
                                                      symmetric):
    rng = np.random.default_rng(seed)
    t = make(rng, (k, k, k), dtype_t, layout_t)
    if symmetric:
        t = sum(np.transpose(t, p) for p in [(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)])
        t = make_layout_like(t, layout_t)
    v = make(rng, (k,) if batch is None else (batch, k), dtype_v, layout_v)
    dtype = expected_dtype(t, v)

    ivv = tb.tensor_ivv(t, v)
    vvv = tb.tensor_vvv(t, v)

    assert ivv.dtype == dtype and np.asarray(vvv).dtype == dtype
    if batch is None:
        want_ivv, scale_ivv = einsum_oracle("ijk,j,k->i", t, v, v)
        want_vvv, scale_vvv = einsum_oracle("ijk,i,j,k->", t, v, v, v)
        assert ivv.shape == (k,) and np.ndim(vvv) == 0
        assert_close(ivv, tl.tenalg.multi_mode_dot(f64(t), [f64(v), f64(v)], modes=[1, 2]), scale_ivv, dtype)
        assert_close(vvv, tl.tenalg.multi_mode_dot(f64(t), [f64(v)] * 3), scale_vvv, dtype)
    else:
        want_ivv, scale_ivv = einsum_oracle("ijk,bj,bk->bi", t, v, v)
        want_vvv, scale_vvv = einsum_oracle("ijk,bi,bj,bk->b", t, v, v, v)
        assert ivv.shape == (batch, k) and vvv.shape == (batch,)
        for b in range(batch):  # each row of the batch is the single-vector result
            assert_close(ivv[b], tb.tensor_ivv(t, v[b]), scale_ivv[b], dtype)
            assert_close(vvv[b], tb.tensor_vvv(t, v[b]), scale_vvv[b], dtype)
    assert_close(ivv, want_ivv, scale_ivv, dtype)
    assert_close(vvv, want_vvv, scale_vvv, dtype)


def make_layout_like(t, layout):
    if layout == "F":
        return np.asfortranarray(t)
    if layout == "strided":
        big = np.zeros(tuple(2 * s for s in t.shape), dtype=t.dtype)
        big[::2, ::2, ::2] = t
        return big[::2, ::2, ::2]
    return np.ascontiguousarray(t)


def test_tensor_ivv_worked_example():
    e0, e1 = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    t = 3.0 * tb.outer([e0, e0, e0]) - 2.0 * tb.outer([e1, e1, e1])
    v = np.array([0.6, 0.8])
    np.testing.assert_allclose(tb.tensor_ivv(t, v), [3 * 0.36, -2 * 0.64], rtol=1e-14)
    np.testing.assert_allclose(tb.tensor_vvv(t, v), 3 * 0.216 - 2 * 0.512, rtol=1e-14)
    np.testing.assert_allclose(tb.tensor_ivv(t, np.stack([e0, e1, v])),
                               [[3.0, 0.0], [0.0, -2.0], [1.08, -1.28]], rtol=1e-14)


# --------------------------------------------------------------------------
# dtypes: float32 stays float32, integers become float64
# --------------------------------------------------------------------------

_I = np.arange(1, 25).reshape(2, 3, 4)
_CALLS = {
    "mode_dot": lambda c: tb.mode_dot(c(_I), c(np.arange(6).reshape(2, 3)), 1),
    "mode_dot vector": lambda c: tb.mode_dot(c(_I), c(np.arange(4)), -1),
    "multi_mode_dot": lambda c: tb.multi_mode_dot(c(_I), [c(np.ones((2, 2), int)), c(np.arange(4))], modes=[0, 2]),
    "kronecker": lambda c: tb.kronecker([c(np.arange(4).reshape(2, 2)), c(np.arange(3).reshape(3, 1))]),
    "khatri_rao": lambda c: tb.khatri_rao([c(np.arange(4).reshape(2, 2)), c(np.arange(6).reshape(3, 2))],
                                          weights=c(np.array([1, 2]))),
    "mttkrp": lambda c: tb.mttkrp(c(_I), [c(np.ones((2, 2), int)), None, c(np.arange(8).reshape(4, 2))], 1),
    "outer": lambda c: tb.outer([c(np.arange(2)), c(np.arange(3))]),
    "inner": lambda c: tb.inner(c(_I), c(_I)),
    "norm": lambda c: tb.norm(c(_I)),
    "norm 1": lambda c: tb.norm(c(_I), 1),
    "norm inf": lambda c: tb.norm(c(_I), np.inf),
    "tensor_ivv": lambda c: tb.tensor_ivv(c(np.arange(8).reshape(2, 2, 2)), c(np.array([1, 2]))),
    "tensor_vvv": lambda c: tb.tensor_vvv(c(np.arange(8).reshape(2, 2, 2)), c(np.array([[1, 2], [3, -1]]))),
}


@pytest.mark.parametrize("name", list(_CALLS))
def test_integers_become_float64_and_float32_stays_float32(name):
    call = _CALLS[name]
    from_int = np.asarray(call(lambda a: np.asarray(a, dtype=np.int64)))
    from_f64 = np.asarray(call(lambda a: np.asarray(a, dtype=np.float64)))
    from_f32 = np.asarray(call(lambda a: np.asarray(a, dtype=np.float32)))
    assert from_int.dtype == np.float64
    assert from_f64.dtype == np.float64
    assert from_f32.dtype == np.float32
    np.testing.assert_array_equal(from_int, from_f64)  # small integers: exact in both
    np.testing.assert_allclose(from_f32, from_f64, rtol=1e-6)


# --------------------------------------------------------------------------
# bad input: every rule has a message naming the argument and the rule
# --------------------------------------------------------------------------

_X = np.ones((2, 3, 4))
_F = [np.ones((2, 2)), np.ones((3, 2)), np.ones((4, 2))]
_NAN = np.nan
FINITE = "must contain only finite values"


def _with(a, index, value):
    a = np.array(a, dtype=float)
    a[index] = value
    return a


@pytest.mark.parametrize(
    "call, error, match",
    [
        # mode_dot
        (lambda: tb.mode_dot(_X, np.ones((5, 3)), 3), ValueError,
         r"mode must be in \[-3, 2\] for a tensor with 3 modes, got 3"),
        (lambda: tb.mode_dot(_X, np.ones((5, 3)), -4), ValueError,
         r"mode must be in \[-3, 2\] for a tensor with 3 modes, got -4"),
        (lambda: tb.mode_dot(_X, np.ones((5, 3)), True), TypeError, "mode must be an integer, got bool"),
        (lambda: tb.mode_dot(_X, np.ones((5, 4)), 1), ValueError,
         r"matrix_or_vector must have columns equal to the size of mode 1 of tensor \(3\), got shape \(5, 4\)"),
        (lambda: tb.mode_dot(_X, np.ones((5, 3)), 1, transpose=True), ValueError,
         r"matrix_or_vector must have rows \(transpose=True\) equal to the size of mode 1 of tensor \(3\), "
         r"got shape \(5, 3\)"),
        (lambda: tb.mode_dot(_X, np.ones(4), 1), ValueError,
         r"matrix_or_vector must have length equal to the size of mode 1 of tensor \(3\), got shape \(4,\)"),
        (lambda: tb.mode_dot(_X, np.ones((2, 2, 3)), 1), ValueError,
         r"matrix_or_vector must be 1-D or 2-D, got shape \(2, 2, 3\)"),
        (lambda: tb.mode_dot(_with(_X, (1, 2, 3), _NAN), np.ones((5, 3)), 1), ValueError, f"tensor {FINITE}"),
        (lambda: tb.mode_dot(_with(_X, (0, 0, 0), np.inf), np.ones(3), 1), ValueError, f"tensor {FINITE}"),
        (lambda: tb.mode_dot(_X, _with(np.ones((5, 3)), (4, 2), np.inf), 1), ValueError,
         f"matrix_or_vector {FINITE}"),
        (lambda: tb.mode_dot(_X, _with(np.ones(4), 0, _NAN), -1), ValueError, f"matrix_or_vector {FINITE}"),
        (lambda: tb.mode_dot(_X.astype(str), np.ones((5, 3)), 1), TypeError,
         "tensor must be an array of numbers, got dtype <U"),
        (lambda: tb.mode_dot(_X, np.ones((5, 3)).astype(str), 1), TypeError,
         "matrix_or_vector must be an array of numbers, got dtype <U"),
        # NaN times zero is NaN: a zero operand does not hide a NaN of the other
        (lambda: tb.mode_dot(_with(_X, (1, 2, 3), _NAN), np.zeros((5, 3)), 1), ValueError, f"tensor {FINITE}"),
        (lambda: tb.mode_dot(_with(_X, (1, 2, 3), _NAN), np.zeros(4), 2), ValueError, f"tensor {FINITE}"),
        (lambda: tb.mode_dot(_X, _with(np.zeros((2, 2)), (1, 1), _NAN), 0), ValueError,
         f"matrix_or_vector {FINITE}"),
        # multi_mode_dot
        (lambda: tb.multi_mode_dot(_X, np.ones((3, 2, 2))), TypeError,
         "matrices must be a list of matrices or vectors, got ndarray"),
        (lambda: tb.multi_mode_dot(_X, [np.ones((2, 3)), np.ones((2, 3))], modes=[1, 1]), ValueError,
         r"modes must not repeat a mode, got \[1, 1\]"),
        (lambda: tb.multi_mode_dot(_X, [np.ones((2, 3)), np.ones((2, 3))], modes=[1, -2]), ValueError,
         r"modes must not repeat a mode, got \[1, 1\]"),
        (lambda: tb.multi_mode_dot(_X, [np.ones((2, 3))], modes=[1, 2]), ValueError,
         r"matrices must have one entry per mode in modes \(2\), got 1"),
        (lambda: tb.multi_mode_dot(_X, [np.ones((2, 3))], modes=[3]), ValueError,
         r"modes must be in \[-3, 2\] for a tensor with 3 modes, got 3"),
        (lambda: tb.multi_mode_dot(_X, [np.ones((2, 2)), np.ones((2, 4))]), ValueError,
         r"matrices\[1\] must have 3 columns to match mode 1 of tensor, got shape \(2, 4\)"),
        (lambda: tb.multi_mode_dot(_X, [np.ones((2, 5))], modes=[1], transpose=True), ValueError,
         # the shape reported must be the one the caller passed, (2, 5)
         r"matrices\[0\] must have 3 rows \(transpose=True\) to match mode 1 of tensor, got shape \(2, 5\)"),
        (lambda: tb.multi_mode_dot(_X, [np.ones((2, 2, 2))]), ValueError,
         r"matrices\[0\] must be 1-D or 2-D, got shape \(2, 2, 2\)"),
        (lambda: tb.multi_mode_dot(_with(_X, (1, 1, 1), _NAN), [np.ones((2, 2))]), ValueError, f"tensor {FINITE}"),
        (lambda: tb.multi_mode_dot(_X, [np.ones((2, 2)), _with(np.ones((2, 3)), (0, 0), _NAN)]), ValueError,
         f"matrices.* {FINITE}"),
        # kronecker
        (lambda: tb.kronecker(np.ones((2, 2, 2))), TypeError, "matrices must be a list of matrices, got ndarray"),
        (lambda: tb.kronecker([]), ValueError, "matrices must hold at least 1 matrix, got 0"),
        (lambda: tb.kronecker([np.ones((2, 2)), np.ones(3)]), ValueError, r"matrices\[1\] must be 2-D, got shape \(3,\)"),
        (lambda: tb.kronecker([np.ones((2, 2)), _with(np.ones((2, 3)), (1, 1), np.inf)]), ValueError,
         rf"matrices\[1\] {FINITE}"),
        (lambda: tb.kronecker([np.array([["a"]])]), TypeError, r"matrices\[0\] must be an array of numbers"),
        # khatri_rao
        (lambda: tb.khatri_rao(np.ones((2, 2, 2))), TypeError, "matrices must be a list of matrices, got ndarray"),
        (lambda: tb.khatri_rao([np.ones((2, 2)), np.ones((3, 3))]), ValueError,
         r"matrices must all have the same number of columns \(the rank\): matrices\[0\] has 2, matrices\[1\] has 3"),
        (lambda: tb.khatri_rao([np.ones((2, 3)), np.ones((2, 2)), np.ones((3, 3))], skip=0), ValueError,
         r"matrices must all have the same number of columns \(the rank\): .*matrices\[2\] has 3"),
        (lambda: tb.khatri_rao([np.ones((2, 2)), np.ones((3, 2))], weights=np.ones(3)), ValueError,
         r"weights must have shape \(2,\), one per column, got \(3,\)"),
        (lambda: tb.khatri_rao([np.ones((2, 2)), np.ones((3, 2))], weights=np.ones((1, 2))), ValueError,
         r"weights must be 1-D, got shape \(1, 2\)"),
        (lambda: tb.khatri_rao([np.ones((2, 2)), np.ones((3, 2))], skip=2), ValueError,
         r"skip must be in \[-2, 1\].*got 2"),
        (lambda: tb.khatri_rao([np.ones((2, 2))], skip=0), ValueError,
         "matrices must hold at least one matrix besides the skipped one"),
        (lambda: tb.khatri_rao([np.ones((2, 2)), _with(np.ones((3, 2)), (2, 1), _NAN)]), ValueError,
         rf"matrices\[1\] {FINITE}"),
        (lambda: tb.khatri_rao([np.ones((2, 2)), np.ones((3, 2)), _with(np.ones((3, 2)), (2, 1), _NAN)], skip=0),
         ValueError, rf"matrices\[2\] {FINITE}"),
        (lambda: tb.khatri_rao([np.ones((2, 2)), np.ones((3, 2))], weights=[1.0, _NAN]), ValueError,
         f"weights {FINITE}"),
        # mttkrp
        (lambda: tb.mttkrp(_X, _F, 3), ValueError, r"mode must be in \[-3, 2\] for a tensor with 3 modes, got 3"),
        (lambda: tb.mttkrp(_X, _F[:2], 0), ValueError,
         r"factors must hold one matrix per mode of tensor \(3\), got 2"),
        (lambda: tb.mttkrp(_X, [_F[0], np.ones((4, 2)), _F[2]], 0), ValueError,
         r"factors\[1\] must have 3 rows \(the size of mode 1\), got shape \(4, 2\)"),
        (lambda: tb.mttkrp(_X, [_F[0], _F[1], np.ones((4, 3))], 0), ValueError,
         r"factors must all have the same number of columns \(the rank\): factors\[2\] has 3, "
         r"an earlier factor has 2"),
        (lambda: tb.mttkrp(_X, [None, _F[1], _F[2]], 1), TypeError, r"factors\[0\] must be an array of numbers"),
        (lambda: tb.mttkrp(_X, [_F[0], np.ones(3), _F[2]], 0), ValueError, r"factors\[1\] must be 2-D"),
        (lambda: tb.mttkrp(_X, np.ones((3, 2, 2)), 0), TypeError, "factors must be a list of matrices, got ndarray"),
        (lambda: tb.mttkrp(np.ones(3), [np.ones((3, 1))], 0), ValueError,
         r"tensor must have at least 2 dimension\(s\), got shape \(3,\)"),
        (lambda: tb.mttkrp(_with(_X, (1, 2, 3), _NAN), _F, 0), ValueError, f"tensor {FINITE}"),
        (lambda: tb.mttkrp(_with(_X, (0, 0, 0), np.inf), _F, 2), ValueError, f"tensor {FINITE}"),
        (lambda: tb.mttkrp(_X, [_with(_F[0], (1, 1), np.inf), _F[1], _F[2]], 1), ValueError,
         rf"factors\[0\] {FINITE}"),
        (lambda: tb.mttkrp(_X, [_F[0], _with(_F[1], (0, 0), _NAN), _F[2]], 2), ValueError,
         rf"factors\[1\] {FINITE}"),
        (lambda: tb.mttkrp(_X, [_F[0], _F[1], _with(_F[2], (3, 1), _NAN)], 0), ValueError,
         rf"factors\[2\] {FINITE}"),
        (lambda: tb.mttkrp(np.ones((2, 3, 4, 5)), [*_F, _with(np.ones((5, 2)), (4, 1), _NAN)], 1), ValueError,
         rf"factors\[3\] {FINITE}"),
        (lambda: tb.mttkrp(np.ones((2, 3, 4, 5)), [*_F[:2], _with(_F[2], (0, 0), np.inf), np.ones((5, 2))], 0),
         ValueError, rf"factors\[2\] {FINITE}"),
        (lambda: tb.mttkrp(_X.astype(str), _F, 0), TypeError, "tensor must be an array of numbers"),
        *[(lambda m=m: tb.mttkrp(_with(_X, (1, 2, 3), _NAN), [np.zeros_like(f) for f in _F], m), ValueError,
           f"tensor {FINITE}") for m in range(3)],
        # outer, inner, norm
        (lambda: tb.outer(np.ones((2, 3))), TypeError, "vectors must be a list of vectors, got ndarray"),
        (lambda: tb.outer([]), ValueError, "vectors must hold at least one vector, got none"),
        (lambda: tb.outer([np.ones(2), np.ones((2, 2))]), ValueError, r"vectors\[1\] must be 1-D, got shape \(2, 2\)"),
        (lambda: tb.outer([_with(np.ones(2), 1, _NAN), np.ones(2)]), ValueError, rf"vectors\[0\] {FINITE}"),
        (lambda: tb.inner(np.ones((2, 3)), np.ones((3, 2))), ValueError,
         r"a and b must have the same shape, got \(2, 3\) and \(3, 2\)"),
        (lambda: tb.inner(np.ones((2, 3)), _with(np.ones((2, 3)), (1, 2), np.inf)), ValueError, f"b {FINITE}"),
        (lambda: tb.inner(_with(np.ones((2, 3)), (0, 2), _NAN), np.ones((2, 3))), ValueError, f"a {FINITE}"),
        (lambda: tb.inner(np.array(["a"]), np.ones(1)), TypeError, "a must be an array of numbers"),
        (lambda: tb.norm(_X, 3), ValueError, "order must be 1, 2 or np.inf, got 3"),
        (lambda: tb.norm(_X, "fro"), ValueError, "order must be 1, 2 or np.inf, got 'fro'"),
        (lambda: tb.norm(_with(_X, (1, 1, 1), _NAN)), ValueError, f"tensor {FINITE}"),
        (lambda: tb.norm(_with(_X, (1, 1, 1), np.inf), 1), ValueError, f"tensor {FINITE}"),
        (lambda: tb.norm(_with(_X, (1, 1, 1), _NAN), np.inf), ValueError, f"tensor {FINITE}"),
        (lambda: tb.norm(np.array(["x", "y"])), TypeError, "tensor must be an array of numbers, got dtype <U1"),
        # tensor_ivv / tensor_vvv
        (lambda: tb.tensor_ivv(np.ones((2, 2, 3)), np.ones(2)), ValueError,
         r"tensor must be cubic \(k, k, k\), got shape \(2, 2, 3\)"),
        (lambda: tb.tensor_vvv(np.ones((2, 2, 3)), np.ones(2)), ValueError,
         r"tensor must be cubic \(k, k, k\), got shape \(2, 2, 3\)"),
        (lambda: tb.tensor_ivv(np.ones((2, 2)), np.ones(2)), ValueError, r"tensor must be 3-D, got shape \(2, 2\)"),
        (lambda: tb.tensor_ivv(np.ones((2, 2, 2)), np.ones(3)), ValueError,
         r"v must have length 2 \(or shape \(batch, 2\)\) to match tensor of shape \(2, 2, 2\), got shape \(3,\)"),
        (lambda: tb.tensor_vvv(np.ones((2, 2, 2)), np.ones((4, 3))), ValueError,
         r"v must have length 2 \(or shape \(batch, 2\)\) .*got shape \(4, 3\)"),
        (lambda: tb.tensor_ivv(np.ones((2, 2, 2)), np.ones((1, 1, 2))), ValueError, "v must be 1-D or 2-D"),
        (lambda: tb.tensor_ivv(_with(np.ones((2, 2, 2)), (1, 0, 1), _NAN), np.ones(2)), ValueError,
         f"tensor {FINITE}"),
        (lambda: tb.tensor_vvv(_with(np.ones((2, 2, 2)), (1, 0, 1), np.inf), np.ones((3, 2))), ValueError,
         f"tensor {FINITE}"),
        (lambda: tb.tensor_ivv(np.ones((2, 2, 2)), _with(np.ones((3, 2)), (2, 1), _NAN)), ValueError, f"v {FINITE}"),
        (lambda: tb.tensor_vvv(np.ones((2, 2, 2)), [1.0, np.inf]), ValueError, f"v {FINITE}"),
        (lambda: tb.tensor_ivv(np.ones((2, 2, 2)).astype(str), np.ones(2)), TypeError,
         "tensor must be an array of numbers"),
    ],
)
def test_tenalg_bad_input_is_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --- review fixes: threads, fork, empty modes, skipped None, product order ---------------


def test_concurrent_middle_mode_products_restore_blas_threads():
    """Split products in several threads at once: right results, BLAS thread count restored."""
    import threading

    from threadpoolctl import threadpool_info

    def blas_threads():
        return sorted(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")

    before = blas_threads()
    rng = np.random.default_rng(5)
    X = rng.standard_normal((64, 120, 120))
    U = rng.standard_normal((30, 120))
    expected = np.einsum("ji,aib->ajb", U, X)
    failures = []

    def work():
        for _ in range(15):
            if not np.allclose(tb.mode_dot(X, U, 1), expected):
                failures.append("wrong result")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    assert blas_threads() == before


def test_mode_dot_in_a_forked_child_after_the_pool_ran():
    import multiprocessing as mp

    rng = np.random.default_rng(6)
    X = rng.standard_normal((64, 120, 120))
    U = rng.standard_normal((30, 120))
    tb.mode_dot(X, U, 1)  # starts the thread pool in this process
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=lambda: queue.put(float(np.sum(tb.mode_dot(X, U, 1)))))
    child.start()
    child.join(60)
    assert child.exitcode == 0, "the forked child hung or failed"
    assert np.isclose(queue.get(timeout=5), np.sum(np.einsum("ji,aib->ajb", U, X)))


def test_mttkrp_with_an_empty_mode_is_zero_like_einsum():
    factors = [np.ones((0, 2)), np.ones((3, 2)), np.ones((4, 2))]
    for mode in range(3):
        out = tb.mttkrp(np.ones((0, 3, 4)), factors, mode)
        spec = {0: "ijk,jr,kr->ir", 1: "ijk,ir,kr->jr", 2: "ijk,ir,jr->kr"}[mode]
        ref = np.einsum(spec, np.ones((0, 3, 4)), *[f for m, f in enumerate(factors) if m != mode])
        assert out.shape == ref.shape
        np.testing.assert_array_equal(out, ref)


def test_khatri_rao_skipped_entry_may_be_none():
    rng = np.random.default_rng(7)
    B, C = rng.standard_normal((3, 2)), rng.standard_normal((4, 2))
    np.testing.assert_allclose(tb.khatri_rao([None, B, C], skip=0), tl.tenalg.khatri_rao([B, C]))


def test_multi_mode_dot_picks_the_order_with_fewest_flops():
    from tensorbook.tenalg import _cheapest_order

    rng = np.random.default_rng(8)
    shape = (1000, 5, 40)
    mats = [(0, rng.standard_normal((500, 1000))), (1, rng.standard_normal((3, 5))), (2, rng.standard_normal(40))]

    def flops(order):  # replay the products on shapes only: 2 * (output entries) * (contracted size)
        current, total = list(shape), 0
        alive = [0, 1, 2]
        for m, u in order:
            axis = alive.index(m)
            out = current[:axis] + ([u.shape[0]] if u.ndim == 2 else []) + current[axis + 1:]
            total += 2 * int(np.prod(out)) * current[axis]
            current = out
            if u.ndim == 1:
                alive.pop(axis)
        return total

    best = min(flops(p) for p in itertools.permutations(mats))
    assert flops(_cheapest_order(mats, shape)) == best
    X = rng.standard_normal(shape)
    np.testing.assert_allclose(
        tb.multi_mode_dot(X, [u for _, u in mats]), np.einsum("abc,ia,jb,c->ij", X, mats[0][1], mats[1][1], mats[2][1]),
        rtol=1e-10, atol=1e-8,
    )
