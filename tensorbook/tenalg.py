"""Tensor algebra: unfoldings, mode-n products, Kronecker and Khatri-Rao
products, MTTKRP, inner products and norms, and the symmetric contractions
T(I, v, v) and T(v, v, v).

Convention (the notation page of the book): modes are 0-based, and the mode-n
unfolding is TensorLy's C-order one, ``moveaxis(X, n, 0).reshape(I_n, -1)``,
so every result here compares one to one with TensorLy's.

The public functions are thin wrappers: they validate, cast (integers become
float64; float32 stays float32), allocate, and hand the loops to BLAS (a
mode-n product is a batch of matrix products) or to the Numba kernels of
:mod:`tensorbook._kernels` (MTTKRP).
"""

import functools
import glob
import itertools
import math

import numpy as np

from ._threads import split_between_threads
from ._validation import (
    as_array,
    as_float_array,
    check_finite,
    check_finite_result,
    check_mode,
    check_shape,
)

__all__ = [
    "unfold",
    "fold",
    "mode_dot",
    "multi_mode_dot",
    "kronecker",
    "khatri_rao",
    "mttkrp",
    "outer",
    "inner",
    "norm",
    "tensor_ivv",
    "tensor_vvv",
]


def unfold(tensor, mode):
    """Mode-``mode`` unfolding (matricisation) of a tensor.

    Row ``i`` of the result is the mode-``mode`` slice ``tensor[..., i, ...]``
    flattened in C order, so ``unfold(X, n)`` has shape
    ``(X.shape[n], X.size // X.shape[n])``. This is TensorLy's convention;
    Kolda & Bader order the columns differently (see the notation page).

    Parameters
    ----------
    tensor : array_like, at least 1-D
    mode : int
        Mode to put in the rows; negative values count from the end.

    Returns
    -------
    numpy.ndarray
        The unfolded matrix, a view of ``tensor`` when possible.

    Raises
    ------
    ValueError
        If ``mode`` is not a mode of ``tensor``.

    Examples
    --------
    >>> import numpy as np
    >>> import tensorbook as tb
    >>> X = np.arange(24).reshape(3, 4, 2)
    >>> tb.unfold(X, 1)[0]
    array([ 0,  1,  8,  9, 16, 17])
    >>> tb.unfold(X, 2).shape
    (2, 12)
    """
    tensor = as_array(tensor, "tensor", min_ndim=1)
    mode = check_mode(mode, tensor.ndim)
    if tensor.size == 0:
        raise ValueError(f"tensor must not have a mode of size 0, got shape {tensor.shape}")
    return np.reshape(np.moveaxis(tensor, mode, 0), (tensor.shape[mode], -1))


def fold(unfolded, mode, shape):
    """Inverse of :func:`unfold`: refold a matrix into a tensor of ``shape``.

    Parameters
    ----------
    unfolded : array_like, 2-D
        A matrix of shape ``(shape[mode], prod(shape) // shape[mode])``.
    mode : int
        The mode that was unfolded into the rows.
    shape : sequence of int
        Shape of the tensor to rebuild.

    Returns
    -------
    numpy.ndarray
        Tensor ``X`` with ``unfold(X, mode) == unfolded``.

    Examples
    --------
    >>> import numpy as np
    >>> import tensorbook as tb
    >>> X = np.arange(24).reshape(3, 4, 2)
    >>> np.array_equal(tb.fold(tb.unfold(X, 1), 1, X.shape), X)
    True
    """
    unfolded = as_array(unfolded, "unfolded")
    shape = check_shape(shape)
    if not shape:
        raise ValueError("shape must have at least one mode, got ()")
    mode = check_mode(mode, len(shape))
    expected = (shape[mode], int(np.prod(shape)) // shape[mode])
    if unfolded.shape != expected:
        raise ValueError(
            f"unfolded must have shape {expected} to fold along mode {mode} into shape "
            f"{shape}, got {unfolded.shape}"
        )
    moved = (shape[mode], *shape[:mode], *shape[mode + 1:])
    return np.moveaxis(np.reshape(unfolded, moved), 0, mode)


# --------------------------------------------------------------------------
# mode-n products
# --------------------------------------------------------------------------

# A mode-n product is a set of GEMMs on blocks of the tensor: column blocks of
# the unfolding for the first and last modes, runs of slices for a middle mode.
# Each block's output is checked for NaN/infinity while it is still in cache
# (a separate pass over the result would cost 5-10 % of the product), and
# above _PARALLEL_FLOPS the blocks are split between as many Python threads as
# BLAS has, each running single-threaded BLAS: a middle-mode slice is too small
# a GEMM to keep several BLAS threads busy, and the split also runs the checks
# in parallel.
_PARALLEL_FLOPS = 2e7
_BLOCK_BYTES = 2 << 20  # output bytes per block: stays in cache for its check


def _all_finite(block):
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(np.sum(block)))


def _product_in_blocks(block, n_items, item_bytes, flops):
    """Run ``block(lo, hi)`` (which computes and returns one output block) over ``range(n_items)``.

    Returns True when every output entry is finite. Splits the items between
    threads (BLAS limited to one thread each) when the product is large and
    BLAS has several threads. While that runs, BLAS is limited to one thread
    process-wide (threadpoolctl cannot limit one thread only): other threads'
    BLAS calls run single-threaded for those milliseconds, and a product
    started meanwhile in another thread runs unsplit.
    """
    chunk = max(1, _BLOCK_BYTES // max(item_bytes, 1))

    def run(lo, hi):
        finite = True
        for start in range(lo, hi, chunk):
            finite &= _all_finite(block(start, min(start + chunk, hi)))
        return finite

    if flops >= _PARALLEL_FLOPS:
        parts = split_between_threads(run, n_items)
        if parts is not None:
            return all(parts)
    return run(0, n_items)


def mode_dot(tensor, matrix_or_vector, mode, transpose=False):
    r"""Mode-n product :math:`\mathcal{X} \times_n U` of a tensor with a matrix or a vector.

    With a matrix ``U`` of shape ``(J, I_n)``, mode ``n`` of size ``I_n`` is
    replaced by one of size ``J``: ``Y[..., j, ...] = sum_i U[j, i] X[..., i,
    ...]``, or in unfolded form ``unfold(Y, n) = U @ unfold(X, n)``. With a
    vector ``v`` of length ``I_n`` the mode is contracted away.

    The product is computed as matrix products on the C-order memory of the
    tensor, without the transposing copy of the unfolding: one GEMM for the
    first or last mode, one GEMM per slice for a middle mode (split across
    threads when the work is large enough).

    Parameters
    ----------
    tensor : array_like, at least 1-D
    matrix_or_vector : array_like, 2-D of shape (J, I_n), or 1-D of length I_n
    mode : int
        The mode to multiply (0-based; negative counts from the end).
    transpose : bool, default False
        Multiply by the transpose of the matrix, which then has shape ``(I_n, J)``.

    Returns
    -------
    numpy.ndarray
        Of the common floating dtype of the inputs (float32 stays float32,
        integers become float64). C-contiguous, except for a product in the
        last mode of a tensor with two or more modes, which is returned (as
        in TensorLy) as a transposed view of the GEMM's output rather than
        paying for a copy.

    Raises
    ------
    ValueError
        If ``mode`` is out of range, the sizes do not match, or an input holds
        NaN or infinity.

    See Also
    --------
    multi_mode_dot : several modes at once.

    Examples
    --------
    >>> import numpy as np
    >>> import tensorbook as tb
    >>> X = np.arange(24.0).reshape(2, 3, 4)
    >>> U = np.ones((5, 3))
    >>> tb.mode_dot(X, U, 1).shape
    (2, 5, 4)
    >>> np.allclose(tb.mode_dot(X, U, 1), np.einsum("ji,aib->ajb", U, X))
    True
    >>> tb.mode_dot(X, np.array([1.0, 0.0, 0.0]), 1)  # picks the slice X[:, 0, :]
    array([[ 0.,  1.,  2.,  3.],
           [12., 13., 14., 15.]])
    """
    x = as_float_array(tensor, "tensor", min_ndim=1)
    u = as_float_array(matrix_or_vector, "matrix_or_vector", ndim=(1, 2))
    mode = check_mode(mode, x.ndim)
    size = x.shape[mode]
    if u.ndim == 2 and transpose:
        u = u.T
    if u.shape[-1] != size:
        what = "length" if u.ndim == 1 else ("rows (transpose=True)" if transpose else "columns")
        raise ValueError(
            f"matrix_or_vector must have {what} equal to the size of mode {mode} of tensor "
            f"({size}), got shape {np.shape(matrix_or_vector)}"
        )
    dtype = np.result_type(x.dtype, u.dtype)
    x = np.ascontiguousarray(x, dtype=dtype)
    u = np.ascontiguousarray(u, dtype=dtype)
    left = math.prod(x.shape[:mode])
    right = math.prod(x.shape[mode + 1:])
    x3 = x.reshape(left, size, right)
    if u.ndim == 1:
        out_shape = x.shape[:mode] + x.shape[mode + 1:]
        if right == 1:
            result = x3.reshape(left, size) @ u
        else:
            result = np.matmul(u, x3)  # (left, right)
        check_finite_result(result, {"tensor": x, "matrix_or_vector": u})
        return result.reshape(out_shape)
    rows = u.shape[0]
    out_shape = x.shape[:mode] + (rows,) + x.shape[mode + 1:]
    flops = 2.0 * rows * x.size
    if left == 1 or right == 1:
        # U @ X_(n) in one GEMM on BLAS's own threads, the unfolding read in
        # place (transposed for the last mode: the layout BLAS runs fastest;
        # the result is then returned as a view). A NaN or infinity in column c
        # of X_(n) reaches every row of column c of the product (nan * 0 and
        # inf * 0 are nan), so one row of the result and U itself show whether
        # an input is not finite, without a second pass over the result.
        unfolded = x3.reshape(size, right) if left == 1 else x3.reshape(left, size).T
        out = np.matmul(u, unfolded)
        finite = _all_finite(out[:1]) and _all_finite(u)
        result = out if left == 1 else out.T
    else:  # one GEMM per slice
        out = np.empty((left, rows, right), dtype=dtype)
        finite = _product_in_blocks(
            lambda lo, hi: np.matmul(u, x3[lo:hi], out=out[lo:hi]),
            left, rows * right * dtype.itemsize, flops,
        )
        result = out
    if not finite:
        check_finite({"tensor": x, "matrix_or_vector": u})
    return result.reshape(out_shape)


def multi_mode_dot(tensor, matrices, modes=None, skip=None, transpose=False):
    r"""Product of a tensor with several matrices or vectors, one per mode.

    ``multi_mode_dot(X, [U0, U1, U2])`` is :math:`\mathcal{X} \times_0 U_0
    \times_1 U_1 \times_2 U_2`. The products commute, so they are applied in
    the order with the fewest flops; vectors contract their mode
    away (as in TensorLy, ``modes`` always refer to the modes of the input).

    Parameters
    ----------
    tensor : array_like
    matrices : sequence of array_like
        Matrices (or vectors), one per entry of ``modes``.
    modes : sequence of int, optional
        The modes to multiply; default ``range(len(matrices))``.
    skip : int, optional
        Index into ``matrices``/``modes`` of one product to leave out
        (negative counts from the end).
    transpose : bool, default False
        Multiply by the transposes of the matrices.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> import numpy as np
    >>> import tensorbook as tb
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((3, 4, 5))
    >>> U = [rng.standard_normal((2, n)) for n in X.shape]
    >>> Y = tb.multi_mode_dot(X, U)
    >>> Y.shape
    (2, 2, 2)
    >>> np.allclose(Y, np.einsum("abc,ia,jb,kc->ijk", X, *U))
    True
    """
    x = as_float_array(tensor, "tensor", min_ndim=1)
    if isinstance(matrices, np.ndarray) or not hasattr(matrices, "__len__"):
        raise TypeError(f"matrices must be a list of matrices or vectors, got {type(matrices).__name__}")
    matrices = list(matrices)
    if modes is None:
        modes = list(range(len(matrices)))
    elif not hasattr(modes, "__len__"):
        raise TypeError(f"modes must be a list of modes, one per matrix, got {type(modes).__name__}")
    modes = [check_mode(m, x.ndim, "modes") for m in modes]
    if len(modes) != len(matrices):
        raise ValueError(
            f"matrices must have one entry per mode in modes ({len(modes)}), got {len(matrices)}"
        )
    if len(set(modes)) != len(modes):
        raise ValueError(f"modes must not repeat a mode, got {modes}")
    if skip is not None:
        skip = check_mode(skip, len(matrices), "skip", of="{n} matrices")
    mats = []
    for k, (m, u) in enumerate(zip(modes, matrices)):
        if k == skip:
            continue
        name = f"matrices[{k}]"
        u = as_float_array(u, name, ndim=(1, 2))
        if u.ndim == 2 and transpose:
            if u.shape[0] != x.shape[m]:
                raise ValueError(
                    f"{name} must have {x.shape[m]} rows (transpose=True) to match mode {m} of "
                    f"tensor, got shape {u.shape}"
                )
            u = u.T
        elif u.shape[-1] != x.shape[m]:
            what = "entries" if u.ndim == 1 else "columns"
            raise ValueError(
                f"{name} must have {x.shape[m]} {what} to match mode {m} of tensor, got shape {u.shape}"
            )
        check_finite({name: u})
        mats.append((m, u))
    result = x
    alive = list(range(x.ndim))  # alive[k] = input mode now at axis k
    for m, u in _cheapest_order(mats, x.shape):
        axis = alive.index(m)
        result = mode_dot(result, u, axis)
        if u.ndim == 1:
            alive.pop(axis)
    return result.copy() if result is x else result


def _cheapest_order(mats, shape):
    """The order of mode products with the fewest flops.

    A product in mode m with a J x I_m matrix (J = 1 for a vector) on a tensor
    of S entries costs 2 J S flops and leaves S J / I_m entries, so the cost of
    an order is a sum of J's times running products of the ratios J / I_m:
    every order is tried up to 6 products; beyond, adjacent products are
    ordered by the exchange rule (a before b when it is cheaper as a pair).
    """
    def cost(order):
        total, scale = 0.0, 1.0
        for m, u in order:
            rows = u.shape[0] if u.ndim == 2 else 1
            total += rows * scale
            scale *= rows / shape[m]
        return total

    if len(mats) <= 6:
        return min(itertools.permutations(mats), key=cost)

    def before(a, b):
        return cost((a, b)) - cost((b, a))

    return sorted(mats, key=functools.cmp_to_key(before))


# --------------------------------------------------------------------------
# Kronecker and Khatri-Rao products, MTTKRP
# --------------------------------------------------------------------------


def _matrix_list(matrices, name, *, min_count=1):
    if isinstance(matrices, np.ndarray) or not hasattr(matrices, "__len__"):
        raise TypeError(f"{name} must be a list of matrices, got {type(matrices).__name__}")
    mats = [as_float_array(m, f"{name}[{k}]", ndim=2) for k, m in enumerate(matrices)]
    if len(mats) < min_count:
        raise ValueError(f"{name} must hold at least {min_count} matrix, got {len(mats)}")
    return mats


def kronecker(matrices):
    r"""Kronecker product :math:`A_0 \otimes A_1 \otimes \cdots` of a list of matrices.

    Entry ``((i0, i1, ...), (j0, j1, ...))`` (row and column indices in C
    order, the first matrix varying slowest) is ``prod_k A_k[i_k, j_k]``, as
    in :func:`numpy.kron`.

    Parameters
    ----------
    matrices : sequence of 2-D array_like

    Returns
    -------
    numpy.ndarray of shape ``(prod rows, prod columns)``

    Examples
    --------
    >>> import numpy as np
    >>> import tensorbook as tb
    >>> A, B = np.eye(2), np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> np.array_equal(tb.kronecker([A, B]), np.kron(A, B))
    True
    """
    mats = _matrix_list(matrices, "matrices")
    check_finite({"matrices": mats})
    result = mats[0]
    for m in mats[1:]:
        result = (result[:, None, :, None] * m[None, :, None, :]).reshape(
            result.shape[0] * m.shape[0], result.shape[1] * m.shape[1]
        )
    return result.copy() if len(mats) == 1 else np.ascontiguousarray(result)


def khatri_rao(matrices, skip=None, weights=None):
    r"""Khatri-Rao (column-wise Kronecker) product :math:`A_0 \odot A_1 \odot \cdots`.

    All matrices share their number of columns ``R``; column ``r`` of the
    result is ``kron(A_0[:, r], A_1[:, r], ...)``, the first matrix varying
    slowest, as in TensorLy. With these conventions, for a CP tensor
    ``unfold(X, 0) == A_0 @ khatri_rao([A_1, A_2]).T`` (see the notation page).

    Parameters
    ----------
    matrices : sequence of 2-D array_like, all with ``R`` columns
    skip : int, optional
        Index of a matrix to leave out (as in an MTTKRP); that entry may be ``None``.
    weights : array_like of shape (R,), optional
        Column weights, multiplied in.

    Returns
    -------
    numpy.ndarray of shape ``(prod rows, R)``

    Examples
    --------
    >>> import numpy as np
    >>> import tensorbook as tb
    >>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> B = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> tb.khatri_rao([A, B])
    array([[1., 0.],
           [0., 2.],
           [1., 2.],
           [3., 0.],
           [0., 4.],
           [3., 4.]])
    """
    if isinstance(matrices, np.ndarray) or not hasattr(matrices, "__len__"):
        raise TypeError(f"matrices must be a list of matrices, got {type(matrices).__name__}")
    keep = list(range(len(matrices)))
    if skip is not None:
        keep.remove(check_mode(skip, len(matrices), "skip", of="{n} matrices"))
    if not keep:
        raise ValueError("matrices must hold at least one matrix"
                         + (" besides the skipped one" if skip is not None else ", got none"))
    mats = {k: as_float_array(matrices[k], f"matrices[{k}]", ndim=2) for k in keep}
    rank = mats[keep[0]].shape[1]
    for k in keep:
        if mats[k].shape[1] != rank:
            raise ValueError(
                f"matrices must all have the same number of columns (the rank): "
                f"matrices[{keep[0]}] has {rank}, matrices[{k}] has {mats[k].shape[1]}"
            )
    if weights is not None:
        weights = as_float_array(weights, "weights", ndim=1)
        if weights.shape != (rank,):
            raise ValueError(f"weights must have shape ({rank},), one per column, got {weights.shape}")
    for k in keep:
        check_finite({f"matrices[{k}]": mats[k]})
    check_finite({"weights": weights})
    mats = [mats[k] for k in keep]
    if weights is not None:
        smallest = min(range(len(mats)), key=lambda k: mats[k].shape[0])
        mats[smallest] = mats[smallest] * weights
    result = mats[0]
    for m in mats[1:]:
        result = (result[:, None, :] * m[None, :, :]).reshape(-1, rank)
    return result.copy() if len(mats) == 1 else np.ascontiguousarray(result)


#: Chunks of an MTTKRP whose partial sums are added afterwards (fixed by the shape: at most this many),
#: and the most entries of the per-chunk partial results of its last-mode kernel. Chunks that change
#: nothing in the result (rows of the target mode, ranges of the last mode) follow the thread count.
_MIN_TASKS = 16
_MAX_PARTS = 1 << 23
#: How many rows of the tensor ahead of the current ones its MTTKRP kernels prefetch. The kernel
#: for a mode before the last prefetches when the tensor is larger than the last-level cache (a
#: tensor that fits is mostly read from the cache, where prefetching only costs instructions:
#: float32 200^3 on the reference machine, 32 MB in a 32 MiB L3, is 5-7 % slower with it; float64,
#: 64 MB, 14 % faster); the last mode's kernel, which reads each block of 16 rows one 64-byte line
#: of every row at a time, beyond 1/16 of it (2 MiB here): from the L3 too its reads wait without it
#: (one thread, 20x200x200: float32 0.76 ms without, 0.53 ms with; on 1.2 MB and less, within 6 %).
_AHEAD_ROWS, _AHEAD_ROWS_LAST = 8, 16


@functools.lru_cache(maxsize=None)
def _last_level_cache_bytes():
    """Size of the largest CPU cache (Linux sysfs), or 32 MiB where it cannot be read."""
    sizes = []
    for path in glob.glob("/sys/devices/system/cpu/cpu0/cache/index*/size"):
        try:
            with open(path) as f:
                text = f.read().strip()
            sizes.append(int(text[:-1]) * {"K": 1 << 10, "M": 1 << 20}[text[-1]] if text[-1] in "KM" else int(text))
        except (OSError, ValueError, IndexError):
            continue
    return max(sizes) if sizes else 32 << 20


def mttkrp(tensor, factors, mode):
    r"""Matricised tensor times Khatri-Rao product, for the factor of ``mode``.

    ``mttkrp(X, [A_0, ..., A_{N-1}], n)`` equals ``unfold(X, n) @
    khatri_rao(factors, skip=n)``: the heart of every CP-ALS step. It is
    computed in one pass over the tensor by parallel Numba kernels, the
    "two-step" MTTKRP of Phan, Tichavsky and Cichocki (2013) with both steps
    fused: for a mode before the last, each row of ``X`` along the last mode
    is multiplied by the last factor (two rows by five rank columns held in
    registers), then weighted by the rows of the other factors and added to
    its row of the result; for the last mode, blocks of 16 rows of ``X`` are
    weighted and added along the last mode, tile by tile of the result (five
    rank columns by one 64-byte line, held in vector registers). The
    ``(prod_{k != n} I_k, R)`` Khatri-Rao product is never formed; only those
    of the factors before ``n`` and of those strictly between ``n`` and the
    last mode are. On a large tensor the work is bound by one read of the
    tensor from memory (``benchmarks/tenalg_bench.py`` reports the share of
    that limit).

    The result does not depend on the number of threads: the work is split
    into chunks fixed by the shape, and partial sums are added in order.

    Parameters
    ----------
    tensor : array_like, at least 2-D
    factors : sequence of 2-D array_like
        One factor per mode, ``factors[k]`` of shape ``(tensor.shape[k], R)``.
        ``factors[mode]`` is not used and may be ``None``.
    mode : int

    Returns
    -------
    numpy.ndarray of shape ``(tensor.shape[mode], R)``

    Raises
    ------
    ValueError
        If the number of factors is not the number of modes, a factor's row
        count does not match its mode, the ranks disagree, or an input holds
        NaN or infinity.

    Notes
    -----
    The kernel runs on Numba's threads (``numba.set_num_threads``). Right
    after a large multi-threaded BLAS call, OpenBLAS's idle threads keep
    spinning for some tens of milliseconds; on a machine with few cores they
    hold a core the kernel needs, and it can run ten times slower. Small BLAS
    calls (Gram matrices, R x R solves, as in CP-ALS) do not wake them.

    Examples
    --------
    >>> import numpy as np
    >>> import tensorbook as tb
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((4, 5, 6))
    >>> F = [rng.standard_normal((n, 3)) for n in X.shape]
    >>> np.allclose(tb.mttkrp(X, F, 1), tb.unfold(X, 1) @ tb.khatri_rao(F, skip=1))
    True
    """
    from numba import get_num_threads

    from . import _kernels

    x = as_float_array(tensor, "tensor", min_ndim=2)
    mode = check_mode(mode, x.ndim)
    if isinstance(factors, np.ndarray) or not hasattr(factors, "__len__"):
        raise TypeError(f"factors must be a list of matrices, got {type(factors).__name__}")
    if len(factors) != x.ndim:
        raise ValueError(
            f"factors must hold one matrix per mode of tensor ({x.ndim}), got {len(factors)}"
        )
    mats = [None] * x.ndim
    rank = None
    for k, f in enumerate(factors):
        if k == mode and f is None:
            continue
        f = as_float_array(f, f"factors[{k}]", ndim=2)
        if f.shape[0] != x.shape[k]:
            raise ValueError(
                f"factors[{k}] must have {x.shape[k]} rows (the size of mode {k}), got shape {f.shape}"
            )
        if rank is None:
            rank = f.shape[1]
        elif f.shape[1] != rank:
            raise ValueError(
                f"factors must all have the same number of columns (the rank): "
                f"factors[{k}] has {f.shape[1]}, an earlier factor has {rank}"
            )
        mats[k] = f
    mats[mode] = None  # validated, but not used
    check_finite({"factors": mats})
    dtype = np.result_type(x.dtype, *[m.dtype for m in mats if m is not None])
    x = np.ascontiguousarray(x, dtype=dtype)
    mats = [None if m is None else np.ascontiguousarray(m, dtype=dtype) for m in mats]
    ones = np.ones((1, rank), dtype=dtype)

    def kr(group):
        return khatri_rao(group) if group else ones

    shape, last = x.shape, x.ndim - 1
    if x.size == 0 or rank == 0:  # empty sums, or no columns
        return np.zeros((shape[mode], rank), dtype=dtype)
    # Tasks for Numba's threads. Chunks whose partial results are summed
    # afterwards (over a and b below, over rows for the last mode) depend on
    # the shape only, so that the result does not depend on the thread count.
    n_threads = get_num_threads()
    tasks = max(_MIN_TASKS, 4 * n_threads)
    llc = _last_level_cache_bytes()
    xm = x.reshape(-1, shape[last])
    if mode < last:
        left = kr(mats[:mode])
        right = kr(mats[mode + 1:last])
        n_i = shape[mode]
        need = -(-_MIN_TASKS // n_i)  # a and b chunks only when the target mode is short
        n_a_chunks = min(left.shape[0], need)
        n_b_chunks = min(right.shape[0], -(-need // n_a_chunks))
        ct = np.zeros((-(-rank // 5) * 5, shape[last]), dtype=dtype)
        ct[:rank] = mats[last].T
        parts = np.zeros((n_a_chunks * n_b_chunks, n_i, rank), dtype=dtype)
        _kernels.mttkrp_rows(xm, n_i, right.shape[0], left, right, ct, parts,
                             n_a_chunks, min(n_i, n_threads), n_b_chunks,
                             _AHEAD_ROWS if x.nbytes > llc else 0)
    else:
        left = kr(mats[:last - 1])
        n_rows, n_k = xm.shape
        n_chunks = max(1, min(_MIN_TASKS, -(-n_rows // 64), _MAX_PARTS // (rank * n_k)))
        parts = np.zeros((n_chunks, rank, n_k), dtype=dtype)
        n_k_chunks = max(1, min(-(-tasks // n_chunks), n_k // 64))
        _kernels.mttkrp_cols(xm, shape[last - 1], left, mats[last - 1], parts, n_k_chunks,
                             _AHEAD_ROWS_LAST if x.nbytes > llc // 16 else 0)
        parts = parts.transpose(0, 2, 1)
    out = np.ascontiguousarray(parts[0] if len(parts) == 1 else parts.sum(axis=0))
    return check_finite_result(out, {"tensor": x})


# --------------------------------------------------------------------------
# outer and inner products, norms
# --------------------------------------------------------------------------


def outer(vectors):
    r"""Outer product :math:`v_0 \circ v_1 \circ \cdots` of a list of vectors.

    Parameters
    ----------
    vectors : sequence of 1-D array_like

    Returns
    -------
    numpy.ndarray of shape ``(len(v_0), len(v_1), ...)``

    Examples
    --------
    >>> import numpy as np
    >>> import tensorbook as tb
    >>> tb.outer([np.array([1.0, 2.0]), np.array([1.0, 10.0, 100.0])])
    array([[  1.,  10., 100.],
           [  2.,  20., 200.]])
    """
    if isinstance(vectors, np.ndarray) or not hasattr(vectors, "__len__"):
        raise TypeError(f"vectors must be a list of vectors, got {type(vectors).__name__}")
    vecs = [as_float_array(v, f"vectors[{k}]", ndim=1) for k, v in enumerate(vectors)]
    if not vecs:
        raise ValueError("vectors must hold at least one vector, got none")
    check_finite({"vectors": vecs})
    result = vecs[0]
    for v in vecs[1:]:
        result = np.multiply.outer(result, v)
    return np.array(result, copy=True, order="C")


def inner(a, b):
    r"""Inner product :math:`\langle \mathcal{A}, \mathcal{B} \rangle = \sum a_{i\ldots} b_{i\ldots}` of two tensors of the same shape.

    Examples
    --------
    >>> import numpy as np
    >>> import tensorbook as tb
    >>> X = np.arange(6.0).reshape(2, 3)
    >>> float(tb.inner(X, X)) == float(np.sum(X * X))
    True
    """
    a = as_float_array(a, "a")
    b = as_float_array(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    dtype = np.result_type(a.dtype, b.dtype)
    value = np.dot(np.ravel(a).astype(dtype, copy=False), np.ravel(b).astype(dtype, copy=False))
    return check_finite_result(value, {"a": a, "b": b})


def norm(tensor, order=2):
    r"""Entry-wise norm of a tensor: Frobenius (``order=2``), sum of absolute values (``1``) or largest absolute value (``np.inf``).

    The Frobenius norm is :math:`\sqrt{\langle \mathcal{X}, \mathcal{X} \rangle}`,
    rescaled when the squares would overflow.

    Examples
    --------
    >>> import numpy as np
    >>> import tensorbook as tb
    >>> float(tb.norm(np.full((2, 2, 2), 0.5)))
    1.4142135623730951
    >>> float(tb.norm(np.array([3e200, 4e200])))  # no overflow
    5e+200
    """
    x = as_float_array(tensor, "tensor")
    if isinstance(order, bool) or order not in (1, 2, np.inf):
        raise ValueError(f"order must be 1, 2 or np.inf, got {order!r}")
    flat = np.ravel(x)
    if order == 1:
        value = np.sum(np.abs(flat))
    elif order == np.inf:
        value = np.max(np.abs(flat)) if flat.size else x.dtype.type(0)
    else:
        with np.errstate(over="ignore", under="ignore"):
            value = np.sqrt(np.dot(flat, flat))
        info = np.finfo(x.dtype)
        # Squares below sqrt(tiny) underflow; they are negligible (below eps
        # relative) only if the norm is at least sqrt(tiny) / eps.
        if not np.isfinite(value) or value < np.sqrt(info.tiny) / info.eps:
            check_finite({"tensor": x})
            scale = np.max(np.abs(flat)) if flat.size else x.dtype.type(0)
            if scale > 0:
                scaled = flat / scale
                value = scale * np.sqrt(np.dot(scaled, scaled))
    return check_finite_result(value, {"tensor": x})


# --------------------------------------------------------------------------
# symmetric contractions T(I, v, v) and T(v, v, v)
# --------------------------------------------------------------------------


def _cubic(tensor):
    """``tensor`` as a float array of shape (k, k, k), or a clear error."""
    t = as_float_array(tensor, "tensor", ndim=3)
    k = t.shape[0]
    if t.shape != (k, k, k):
        raise ValueError(f"tensor must be cubic (k, k, k), got shape {t.shape}")
    return t


def _cubic_and_vectors(tensor, v):
    t = _cubic(tensor)
    k = t.shape[0]
    v = as_float_array(v, "v", ndim=(1, 2))
    if v.shape[-1] != k:
        raise ValueError(
            f"v must have length {k} (or shape (batch, {k})) to match tensor of shape {t.shape}, "
            f"got shape {v.shape}"
        )
    dtype = np.result_type(t.dtype, v.dtype)
    return (np.ascontiguousarray(t, dtype=dtype), np.ascontiguousarray(np.atleast_2d(v), dtype=dtype),
            v.ndim == 1)


def tensor_ivv(tensor, v):
    r"""The vector :math:`T(I, v, v)_i = \sum_{j,k} T_{ijk} v_j v_k`, for one ``v`` or a batch.

    This is the step of the tensor power method. Modes 1 and 2 are
    contracted, which for a symmetric tensor is the same as any two modes.
    It costs one GEMM of the ``(k*k, k)`` reshaped tensor with the batch.

    Parameters
    ----------
    tensor : array_like of shape (k, k, k)
    v : array_like of shape (k,) or (batch, k)

    Returns
    -------
    numpy.ndarray of shape (k,) or (batch, k)

    Examples
    --------
    >>> import numpy as np
    >>> import tensorbook as tb
    >>> e0 = np.array([1.0, 0.0])
    >>> T = 3.0 * tb.outer([e0, e0, e0])
    >>> tb.tensor_ivv(T, e0)
    array([3., 0.])
    >>> tb.tensor_ivv(T, np.array([[1.0, 0.0], [0.0, 1.0]]))
    array([[3., 0.],
           [0., 0.]])
    """
    t, vs, single = _cubic_and_vectors(tensor, v)
    result = check_finite_result(_ivv(t, vs), {"tensor": t, "v": vs})
    return result[0] if single else result


def _ivv(t, vs):
    """:func:`tensor_ivv` of a C-contiguous (k, k, k) ``t`` and a (batch, k) ``vs``, unchecked (for hot loops)."""
    k = t.shape[0]
    w = (t.reshape(k * k, k) @ vs.T).reshape(k, k, vs.shape[0])  # w[i, j, b] = T(I, I, v_b)[i, j]
    return np.einsum("ijb,bj->bi", w, vs)


def tensor_vvv(tensor, v):
    r"""The number :math:`T(v, v, v) = \sum_{i,j,k} T_{ijk} v_i v_j v_k`, for one ``v`` or a batch.

    Parameters
    ----------
    tensor : array_like of shape (k, k, k)
    v : array_like of shape (k,) or (batch, k)

    Returns
    -------
    float or numpy.ndarray of shape (batch,)

    Examples
    --------
    >>> import numpy as np
    >>> import tensorbook as tb
    >>> e0 = np.array([1.0, 0.0])
    >>> float(tb.tensor_vvv(3.0 * tb.outer([e0, e0, e0]), np.array([0.6, 0.8])))
    0.648
    """
    t, vs, single = _cubic_and_vectors(tensor, v)
    result = np.einsum("bi,bi->b", tensor_ivv(t, vs), vs)
    return result[0] if single else result
