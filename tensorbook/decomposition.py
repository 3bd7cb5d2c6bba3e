"""Low-rank tensors: CP, Tucker and tensor-train containers and the algorithms that find them.

Containers (validated once, on construction; they unpack like TensorLy's, so
``tensorly.cp_to_tensor(cp)``, ``tensorly.tucker_to_tensor(tucker)`` and
``tensorly.tt_to_tensor(tt)`` accept them):

- :class:`CPTensor` ``(weights, factors)``: ``sum_r w_r a_r^(0) o ... o a_r^(N-1)``;
- :class:`TuckerTensor` ``(core, factors)``: ``G x_0 U_0 x_1 ... x_{N-1} U_{N-1}``;
- :class:`TTTensor` ``(cores)``: cores of shape ``(r_k, I_k, r_{k+1})``, ``r_0 = r_N = 1``.

Algorithms, built on :mod:`tensorbook.tenalg`: :func:`cp_als` (alternating
least squares, the MTTKRP kernel doing the heavy lifting), :func:`tucker`
(HOSVD and HOOI), :func:`tt_svd` (Oseledets 2011),
:func:`symmetric_power_method` (the robust tensor power method of
Anandkumar, Ge, Hsu, Kakade & Telgarsky, 2014, on a dense tensor or an
implicit operator) and :func:`jennrich` (simultaneous diagonalisation: a
non-orthogonal 3-way CP decomposition with no iterations).
"""

import math
import numbers
import warnings

import numpy as np

from ._validation import (
    as_float_array, check_finite, check_int, check_random_state, check_real, check_shape, check_tol,
)
from ._progress import progress_bar
from ._threads import single_threaded_blas
from .tenalg import _cubic, _ivv, _matrix_list, khatri_rao, mttkrp, multi_mode_dot, norm, unfold

__all__ = [
    "CPTensor",
    "TuckerTensor",
    "TTTensor",
    "cp_to_tensor",
    "tucker_to_tensor",
    "tt_to_tensor",
    "cp_als",
    "tucker",
    "tt_svd",
    "symmetric_power_method",
    "random_cp",
    "random_tucker",
    "random_tt",
]


# --------------------------------------------------------------------------
# containers
# --------------------------------------------------------------------------


def _factor_list(factors, name):
    mats = _matrix_list(factors, name)
    check_finite({name: mats})
    return mats


class CPTensor(tuple):
    """A CP (CANDECOMP/PARAFAC) tensor: ``weights`` (R,) and ``factors``, one (I_k, R) matrix per mode.

    Unpacks as ``weights, factors``. ``errors`` holds the relative error
    history when the tensor comes from :func:`cp_als` (empty otherwise).

    Examples
    --------
    >>> import numpy as np
    >>> import tensorbook as tb
    >>> cp = tb.CPTensor(np.array([2.0]), [np.ones((2, 1)), np.ones((3, 1))])
    >>> cp.shape, cp.rank, cp.n_params
    ((2, 3), 1, 6)
    >>> cp.to_tensor()
    array([[2., 2., 2.],
           [2., 2., 2.]])
    """

    def __new__(cls, weights, factors, *, errors=()):
        factors = _factor_list(factors, "factors")
        rank = factors[0].shape[1]
        for k, f in enumerate(factors):
            if f.shape[1] != rank:
                raise ValueError(
                    f"factors must all have the same number of columns (the rank): factors[0] has "
                    f"{rank}, factors[{k}] has {f.shape[1]}"
                )
        if weights is None:
            weights = np.ones(rank, dtype=factors[0].dtype)
        weights = as_float_array(weights, "weights", ndim=1)
        if weights.shape != (rank,):
            raise ValueError(f"weights must have shape ({rank},), one per column of the factors, got {weights.shape}")
        check_finite({"weights": weights})
        self = super().__new__(cls, (weights, list(factors)))
        self.errors = tuple(errors)
        return self

    def __getnewargs_ex__(self):  # copy and pickle rebuild through __new__
        return tuple(self), {"errors": self.errors}

    weights = property(lambda self: self[0], doc="The (R,) weights.")
    factors = property(lambda self: self[1], doc="The list of (I_k, R) factor matrices.")
    shape = property(lambda self: tuple(f.shape[0] for f in self[1]), doc="Shape of the full tensor.")
    rank = property(lambda self: self[1][0].shape[1], doc="The number of components R.")

    @property
    def n_params(self):
        """Entries stored: the factors and the weights."""
        return sum(f.size for f in self.factors) + self.weights.size

    def to_tensor(self):
        """The full tensor (see :func:`cp_to_tensor`)."""
        return cp_to_tensor(self)

    def __repr__(self):
        return f"CPTensor(shape={self.shape}, rank={self.rank})"


class TuckerTensor(tuple):
    """A Tucker tensor: a ``core`` of shape (R_0, ..., R_{N-1}) and ``factors``, one (I_k, R_k) matrix per mode.

    Unpacks as ``core, factors``. ``errors`` holds the relative error history
    when it comes from :func:`tucker`.

    Examples
    --------
    >>> import numpy as np
    >>> import tensorbook as tb
    >>> t = tb.TuckerTensor(np.ones((1, 2)), [np.ones((3, 1)), np.ones((4, 2))])
    >>> t.shape, t.rank, t.n_params
    ((3, 4), (1, 2), 13)
    """

    def __new__(cls, core, factors, *, errors=()):
        core = as_float_array(core, "core", min_ndim=1)
        check_finite({"core": core})
        factors = _factor_list(factors, "factors")
        if len(factors) != core.ndim:
            raise ValueError(
                f"factors must hold one matrix per mode of the core ({core.ndim}), got {len(factors)}"
            )
        for k, f in enumerate(factors):
            if f.shape[1] != core.shape[k]:
                raise ValueError(
                    f"factors[{k}] must have {core.shape[k]} columns (the size of mode {k} of the core), "
                    f"got shape {f.shape}"
                )
        self = super().__new__(cls, (core, list(factors)))
        self.errors = tuple(errors)
        return self

    def __getnewargs_ex__(self):  # copy and pickle rebuild through __new__
        return tuple(self), {"errors": self.errors}

    core = property(lambda self: self[0], doc="The core tensor.")
    factors = property(lambda self: self[1], doc="The list of (I_k, R_k) factor matrices.")
    shape = property(lambda self: tuple(f.shape[0] for f in self[1]), doc="Shape of the full tensor.")
    rank = property(lambda self: self[0].shape, doc="The multilinear rank (R_0, ..., R_{N-1}).")

    @property
    def n_params(self):
        """Entries stored: the core and the factors."""
        return self.core.size + sum(f.size for f in self.factors)

    def to_tensor(self):
        """The full tensor (see :func:`tucker_to_tensor`)."""
        return tucker_to_tensor(self)

    def __repr__(self):
        return f"TuckerTensor(shape={self.shape}, rank={self.rank})"


class TTTensor(tuple):
    """A tensor train: ``cores``, core k of shape (r_k, I_k, r_{k+1}) with r_0 = r_N = 1.

    Unpacks (and indexes) as the sequence of cores, as TensorLy's does.

    Examples
    --------
    >>> import numpy as np
    >>> import tensorbook as tb
    >>> tt = tb.TTTensor([np.ones((1, 2, 3)), np.ones((3, 4, 1))])
    >>> tt.shape, tt.rank, tt.n_params
    ((2, 4), (1, 3, 1), 18)
    """

    def __new__(cls, cores):
        if isinstance(cores, np.ndarray) or not hasattr(cores, "__len__"):
            raise TypeError(f"cores must be a list of 3-D arrays, got {type(cores).__name__}")
        if len(cores) == 0:
            raise ValueError("cores must hold at least one core, got none")
        cores = [as_float_array(c, f"cores[{k}]", ndim=3) for k, c in enumerate(cores)]
        check_finite({"cores": cores})
        if cores[0].shape[0] != 1:
            raise ValueError(f"cores[0].shape[0] must be 1 (the boundary rank r_0), got {cores[0].shape[0]}")
        if cores[-1].shape[2] != 1:
            raise ValueError(
                f"cores[{len(cores) - 1}].shape[2] must be 1 (the boundary rank r_N), got {cores[-1].shape[2]}"
            )
        for k in range(1, len(cores)):
            if cores[k].shape[0] != cores[k - 1].shape[2]:
                raise ValueError(
                    f"cores[{k}].shape[0] must equal cores[{k - 1}].shape[2] (the rank between modes "
                    f"{k - 1} and {k}), got {cores[k].shape[0]} and {cores[k - 1].shape[2]}"
                )
        return super().__new__(cls, cores)

    cores = property(lambda self: list(self), doc="The list of cores.")
    shape = property(lambda self: tuple(c.shape[1] for c in self), doc="Shape of the full tensor.")
    rank = property(lambda self: (1,) + tuple(c.shape[2] for c in self), doc="The TT ranks (r_0, ..., r_N).")

    @property
    def n_params(self):
        """Entries stored in the cores."""
        return sum(c.size for c in self)

    def to_tensor(self):
        """The full tensor (see :func:`tt_to_tensor`)."""
        return tt_to_tensor(self)

    def __repr__(self):
        return f"TTTensor(shape={self.shape}, rank={self.rank})"


def cp_to_tensor(cp):
    """The full tensor of a CP tensor ``(weights, factors)``: ``unfold(X, 0) = A_0 diag(w) khatri_rao(A_1, ...)^T``.

    Examples
    --------
    >>> import numpy as np
    >>> import tensorbook as tb
    >>> a, b = np.array([[1.0], [2.0]]), np.array([[1.0], [10.0]])
    >>> tb.cp_to_tensor((None, [a, b]))
    array([[ 1., 10.],
           [ 2., 20.]])
    """
    cp = cp if isinstance(cp, CPTensor) else CPTensor(*cp)
    weights, factors = cp
    first = factors[0] * weights
    if len(factors) == 1:
        return first.sum(axis=1)
    return (first @ khatri_rao(factors[1:]).T).reshape(cp.shape)


def tucker_to_tensor(tucker_tensor):
    """The full tensor of a Tucker tensor ``(core, factors)``: ``core x_0 U_0 x_1 U_1 ...``.

    Examples
    --------
    >>> import numpy as np
    >>> import tensorbook as tb
    >>> tb.tucker_to_tensor((np.array([[2.0]]), [np.ones((2, 1)), np.ones((1, 1))]))
    array([[2.],
           [2.]])
    """
    t = tucker_tensor if isinstance(tucker_tensor, TuckerTensor) else TuckerTensor(*tucker_tensor)
    return multi_mode_dot(t.core, t.factors)


def tt_to_tensor(tt):
    """The full tensor of a tensor train: contract the cores along their shared ranks, left to right.

    Examples
    --------
    >>> import numpy as np
    >>> import tensorbook as tb
    >>> tb.tt_to_tensor([np.ones((1, 2, 2)), np.ones((2, 3, 1))])
    array([[2., 2., 2.],
           [2., 2., 2.]])
    """
    tt = tt if isinstance(tt, TTTensor) else TTTensor(tt)
    result = tt[0].reshape(tt[0].shape[1], tt[0].shape[2])
    for core in tt[1:]:
        r, size, r_next = core.shape
        result = (result @ core.reshape(r, size * r_next)).reshape(-1, r_next)
    return result.reshape(tt.shape)


# --------------------------------------------------------------------------
# shared checks
# --------------------------------------------------------------------------


def _data_tensor(tensor, min_ndim=2):
    """The tensor as a C-contiguous float array divided by its norm, and that norm.

    Every algorithm works on the unit-norm tensor and rescales its result, so
    that squares of entries neither overflow nor underflow at any scale.
    """
    x = as_float_array(tensor, "tensor", min_ndim=min_ndim)
    if x.size == 0:
        raise ValueError(f"tensor must not have a mode of size 0, got shape {x.shape}")
    check_finite({"tensor": x})
    scale = float(norm(x))
    if scale == 0:
        raise ValueError("tensor must not be all zeros (it has no low-rank structure to find)")
    return np.ascontiguousarray(x / x.dtype.type(scale)), scale


def _thin_svd(matrix):
    """``u, s, vt`` of a thin SVD, through a QR of the long side first when the matrix is far from square.

    LAPACK's SVD of a very wide (or tall) matrix is several times slower than
    a QR decomposition followed by the SVD of the small square factor, which
    is as accurate (QR is backward stable).
    """
    rows, cols = matrix.shape
    if cols > 2 * rows:  # A = R^T Q^T
        q, r = np.linalg.qr(matrix.T)
        u, s, wt = np.linalg.svd(r.T)
        return u, s, wt @ q.T
    if rows > 2 * cols:  # A = Q R
        q, r = np.linalg.qr(matrix)
        u, s, vt = np.linalg.svd(r)
        return q @ u, s, vt
    return np.linalg.svd(matrix, full_matrices=False)


def _leading_left_singular_vectors(matrix, k, *, accurate=True):
    """The k leading left singular vectors of ``matrix`` (``min(k, rows, cols)`` of them).

    ``accurate``: an SVD (of the small triangular factor of a QR
    decomposition, for a wide matrix: as accurate, and far cheaper than
    LAPACK's SVD of the wide matrix). Otherwise, for a wide matrix,
    the eigenvectors of its small Gram matrix: several times faster, but the
    squared singular values lose half the digits of the small directions,
    which is fine for a starting point (CP-ALS's init) and not for HOSVD.
    NumPy's LAPACK (not SciPy's): NumPy and SciPy each load their own
    OpenBLAS, and alternating between them leaves one library's worker
    threads spinning on the cores the other needs (measured: 2-3x slower on
    two threads than on one).
    """
    rows, cols = matrix.shape
    if rows <= cols:
        if not accurate:
            _, vecs = np.linalg.eigh(matrix @ matrix.T)
            return vecs[:, ::-1][:, :k]
        # A = R^T Q^T (QR of A^T, backward stable): A's left singular vectors are R^T's
        matrix = np.linalg.qr(matrix.T, mode="r").T
    u, _, _ = np.linalg.svd(matrix, full_matrices=False)
    return u[:, :k]


# --------------------------------------------------------------------------
# CP by alternating least squares
# --------------------------------------------------------------------------


def cp_als(tensor, rank, *, n_iter_max=100, tol=1e-8, init="svd", random_state=None, verbose=False):
    r"""CP decomposition by alternating least squares.

    Each sweep updates one factor at a time by the least-squares solution
    :math:`A_k = M_k V_k^{-1}`, where :math:`M_k` is the MTTKRP of the tensor
    with the other factors (:func:`tensorbook.mttkrp`, one pass over the
    tensor, no Khatri-Rao product formed) and :math:`V_k` the Hadamard
    product of their Gram matrices (R x R), then moves the column norms into
    the weights. The relative error :math:`\|X - \hat X\| / \|X\|` is computed
    from those same small matrices, without forming :math:`\hat X`; it never
    increases from sweep to sweep (down to about 1e-8, where computing it as
    :math:`\sqrt{\|X\|^2 - 2\langle X, \hat X\rangle + \|\hat X\|^2}`
    loses its digits to cancellation). The algorithm runs on :math:`X /
    \|X\|` and scales the weights back, so no scale overflows. Iterations stop after ``n_iter_max`` sweeps
    or when the error changes by less than ``tol``.

    Parameters
    ----------
    tensor : array_like, at least 2-D
    rank : int
        Number of components R.
    n_iter_max : int, default 100
    tol : float, default 1e-8
        Stop when the relative error changes by less (0 runs all sweeps).
    init : {"svd", "random"} or CP tensor
        ``"svd"``: the leading left singular vectors of each unfolding (padded
        with random columns where R exceeds their number); ``"random"``:
        standard normal factors; or anything that unpacks as ``(weights,
        factors)`` (a CPTensor, TensorLy's too) to start from.
    random_state : None, int or numpy.random.Generator
    verbose : bool, default False
        Show a progress bar over the sweeps (tqdm), with the current error.

    Returns
    -------
    CPTensor
        Its ``errors`` attribute holds the relative error after each sweep.

    Examples
    --------
    >>> import numpy as np
    >>> import tensorbook as tb
    >>> X = tb.random_cp((6, 7, 8), 3, random_state=0).to_tensor()
    >>> cp = tb.cp_als(X, 3, random_state=0)
    >>> bool(cp.errors[-1] < 1e-6), np.allclose(cp.to_tensor(), X, atol=1e-5)
    (True, True)
    """
    rank = check_int(rank, "rank")
    n_iter_max = check_int(n_iter_max, "n_iter_max", minimum=0)
    tol = check_tol(tol)
    rng = check_random_state(random_state)
    # BLAS runs single-threaded throughout, from the first norm on: the heavy
    # work is the Numba MTTKRP kernel, and BLAS threads, once woken, keep
    # spinning on the cores that kernel needs (measured: 4-12 ms stalls, a
    # third of the run time).
    with single_threaded_blas():
        x, scale = _data_tensor(tensor)
        factors = _cp_init(x, rank, init, rng, scale)
        weights, errors = _als_sweeps(x, factors, n_iter_max, tol, verbose)
    return CPTensor(weights * scale, factors, errors=errors)


def _als_sweeps(x, factors, n_iter_max, tol, verbose):
    """The ALS loop on a unit-norm tensor: updates ``factors`` in place, returns the weights and the error history."""
    rank = factors[0].shape[1]
    weights = np.ones(rank, dtype=x.dtype)
    grams = [f.T @ f for f in factors]
    errors = []
    with progress_bar(n_iter_max, f"CP-ALS, rank {rank}", "sweep", verbose) as bar:
        for sweep in range(n_iter_max):
            weights, error = _als_sweep(x, factors, grams)
            errors.append(error)
            bar.set_postfix(error=f"{error:.3e}")
            bar.update()
            if sweep > 0 and abs(errors[-2] - error) < tol:
                break
    return weights, errors


def _als_sweep(x, factors, grams):
    """One ALS sweep: each factor (and its Gram matrix) updated in place; returns the weights and the relative error."""
    dtype, rank, last = x.dtype, factors[0].shape[1], x.ndim - 1
    for k in range(x.ndim):
        v = np.ones((rank, rank), dtype=dtype)
        for j in range(x.ndim):
            if j != k:
                v *= grams[j]
        m = mttkrp(x, factors, k)
        try:
            factor = np.linalg.solve(v, m.T).T
        except np.linalg.LinAlgError:  # rank above what the other modes can carry
            factor = m @ np.linalg.pinv(v, hermitian=True)
        weights = np.linalg.norm(factor, axis=0)
        weights[weights == 0] = 1.0
        factors[k] = factor / weights
        grams[k] = factors[k].T @ factors[k]
    # ||X - Xhat||^2 = 1 - 2 <X, Xhat> + ||Xhat||^2 (X has unit norm), from
    # I x R and R x R matrices only, in float64 whatever the data's dtype
    inner_product = np.sum(m * factors[last] * weights, dtype=np.float64)
    hadamard = np.ones((rank, rank))
    for g in grams:
        hadamard *= g
    w64 = weights.astype(np.float64)
    return weights, math.sqrt(max(1.0 - 2 * inner_product + w64 @ hadamard @ w64, 0.0))


def _cp_init(x, rank, init, rng, scale):
    """Starting factors for the unit-norm tensor ``x`` (the data divided by ``scale``)."""
    if not isinstance(init, str):  # anything that unpacks as (weights, factors), TensorLy's CPTensor too
        try:
            weights, factors = init
        except (TypeError, ValueError):
            raise ValueError(f"init must be 'svd', 'random' or a CP tensor (weights, factors), got {init!r}") from None
        cp = CPTensor(weights, factors)
        if cp.shape != x.shape or cp.rank != rank:
            raise ValueError(
                f"init must be a CP tensor of shape {x.shape} and rank {rank}, got shape {cp.shape} and rank {cp.rank}"
            )
        factors = [f.astype(x.dtype, copy=True) for f in cp.factors]
        factors[0] = factors[0] * (cp.weights / scale)
        return factors
    if init == "random":
        return [rng.standard_normal((size, rank)).astype(x.dtype) for size in x.shape]
    if init == "svd":
        factors = []
        for k, size in enumerate(x.shape):
            u = _leading_left_singular_vectors(unfold(x, k), rank, accurate=False)
            if u.shape[1] < rank:  # more components than the unfolding has singular vectors
                u = np.hstack([u, rng.standard_normal((size, rank - u.shape[1]))])
            factors.append(np.ascontiguousarray(u, dtype=x.dtype))
        return factors
    raise ValueError(f"init must be 'svd', 'random' or a CP tensor (weights, factors), got {init!r}")


# --------------------------------------------------------------------------
# Tucker: HOSVD and HOOI
# --------------------------------------------------------------------------


def _tucker_rank(rank, shape):
    if rank is None:  # the full multilinear rank the shape allows (TensorLy's rank=None)
        return [min(size, math.prod(shape) // size) for size in shape]
    if isinstance(rank, numbers.Integral) and not isinstance(rank, bool):
        rank = check_int(rank, "rank")
        return [min(rank, size, math.prod(shape) // size) for size in shape]
    else:
        try:
            ranks = [check_int(r, f"rank[{k}]") for k, r in enumerate(rank)]
        except TypeError:
            raise TypeError(f"rank must be an integer or one integer per mode, got {rank!r}") from None
        if len(ranks) != len(shape):
            raise ValueError(f"rank must give one integer per mode ({len(shape)}), got {len(ranks)}")
    for k, (r, size) in enumerate(zip(ranks, shape)):
        others = math.prod(shape) // size
        if r > size or r > others:
            raise ValueError(
                f"rank[{k}] = {r} cannot exist for shape {tuple(shape)}: a Tucker rank is at most the "
                f"size of its mode ({size}) and the product of the other sizes ({others})"
            )
    return ranks


def _completed(u, basis):
    """``u`` (orthonormal columns) completed to as many columns as ``basis`` with directions of ``basis``.

    HOOI's projected unfolding of mode k has prod_{j != k} R_j columns, so it
    yields fewer than R_k singular vectors when R_k exceeds that product. The
    rank asked for is still honoured, as HOSVD honours it: the missing
    columns are the HOSVD factor's directions orthogonal to ``u``. They
    change neither the approximation nor its error (the core's slices along
    them are zero), and the factors keep the shapes asked for.
    """
    m, r = u.shape[1], basis.shape[1]
    if m >= r:
        return u
    q = np.linalg.qr(np.hstack([u, basis - u @ (u.T @ basis)]))[0]  # q[:, :m] spans u; the rest is orthogonal to it
    return np.hstack([u, q[:, m:r]])


def tucker(tensor, rank, *, method="hooi", n_iter_max=100, tol=1e-8, verbose=False):
    r"""Tucker decomposition by HOSVD, refined by HOOI.

    HOSVD (De Lathauwer, De Moor & Vandewalle 2000) takes as ``U_k`` the
    leading ``R_k`` left singular vectors of each unfolding and the core
    :math:`G = X \times_0 U_0^T \cdots`; it is exact when every ``R_k`` is
    the rank of the corresponding unfolding. HOOI (higher-order orthogonal
    iteration) starts there and repeats: for each mode, project the tensor
    on the other factors and take the leading singular vectors of the
    result. With orthonormal factors :math:`\|X - \hat X\|^2 = \|X\|^2 -
    \|G\|^2`, so every sweep's error is one small norm; it never increases
    (up to rounding).

    Parameters
    ----------
    tensor : array_like, at least 2-D
    rank : int, sequence of int, or None
        The multilinear rank; an integer is used for every mode (capped at
        the largest rank the shape allows: the mode's size and the product
        of the other sizes); None is the full rank the shape allows. A
        sequence must be possible for the shape, and is returned as given
        by both methods, also when some ``R_k`` exceeds the product of the
        other ranks (then the core's mode-k unfolding has rank at most that
        product, and the extra columns of ``U_k`` carry nothing).
    method : {"hooi", "hosvd"}
    n_iter_max : int, default 100
        HOOI sweeps at most.
    tol : float, default 1e-8
        Stop HOOI when the relative error changes by less (0 runs every sweep).
    verbose : bool, default False
        Show a progress bar over the HOOI sweeps (tqdm), with the current error.

    Returns
    -------
    TuckerTensor
        Orthonormal factors; ``errors`` holds the relative error of the
        HOSVD and after each HOOI sweep.

    Examples
    --------
    >>> import numpy as np
    >>> import tensorbook as tb
    >>> X = tb.random_tucker((6, 7, 8), (2, 3, 4), random_state=0).to_tensor()
    >>> t = tb.tucker(X, (2, 3, 4), method="hosvd")
    >>> t.rank, bool(np.allclose(t.to_tensor(), X))
    ((2, 3, 4), True)
    """
    x, scale = _data_tensor(tensor)
    ranks = _tucker_rank(rank, x.shape)
    if method not in ("hooi", "hosvd"):
        raise ValueError(f"method must be 'hooi' or 'hosvd', got {method!r}")
    n_iter_max = check_int(n_iter_max, "n_iter_max", minimum=0)
    tol = check_tol(tol)

    def error_of(core):  # x has unit norm
        return math.sqrt(max(1.0 - float(norm(core)) ** 2, 0.0))

    factors = [_leading_left_singular_vectors(unfold(x, k), r) for k, r in enumerate(ranks)]
    hosvd = list(factors)
    core = multi_mode_dot(x, factors, transpose=True)
    errors = [error_of(core)]
    if method == "hooi":
        with progress_bar(n_iter_max, f"HOOI, rank {tuple(ranks)}", "sweep", verbose) as bar:
            for _ in range(n_iter_max):
                for k in range(x.ndim):
                    projected = multi_mode_dot(x, factors, skip=k, transpose=True)
                    factors[k] = _completed(_leading_left_singular_vectors(unfold(projected, k), ranks[k]),
                                            hosvd[k])
                core = multi_mode_dot(x, factors, transpose=True)
                errors.append(error_of(core))
                bar.set_postfix(error=f"{errors[-1]:.3e}")
                bar.update()
                if abs(errors[-2] - errors[-1]) < tol:
                    break
    return TuckerTensor(core * scale, factors, errors=errors)


# --------------------------------------------------------------------------
# tensor train by TT-SVD
# --------------------------------------------------------------------------


def _max_tt_ranks(shape):
    return [min(math.prod(shape[: k + 1]), math.prod(shape[k + 1:])) for k in range(len(shape) - 1)]


def _tt_ranks(rank, shape):
    """The d - 1 inner TT ranks from an integer (capped per bond) or a sequence (checked)."""
    d, limits = len(shape), _max_tt_ranks(shape)
    if isinstance(rank, numbers.Integral) and not isinstance(rank, bool):
        return [min(check_int(rank, "rank"), limit) for limit in limits]
    if isinstance(rank, (str, bytes)) or not hasattr(rank, "__iter__"):
        raise TypeError(f"rank must be an integer or a sequence of integers, got {rank!r}")
    ranks = [check_int(r, f"rank[{k}]") for k, r in enumerate(rank)]
    if len(ranks) == d + 1:
        if ranks[0] != 1 or ranks[-1] != 1:
            raise ValueError(f"rank must start and end with 1 (the boundary ranks), got {ranks}")
        ranks = ranks[1:-1]
    if len(ranks) != d - 1:
        raise ValueError(f"rank must give the {d - 1} inner ranks (or all {d + 1}), got {len(ranks)}")
    for k, (r, limit) in enumerate(zip(ranks, limits)):
        if r > limit:
            raise ValueError(
                f"rank[{k}] = {r} cannot exist for shape {tuple(shape)}: the rank between modes {k} and "
                f"{k + 1} is at most min(prod(shape[:{k + 1}]), prod(shape[{k + 1}:])) = {limit}"
            )
    return ranks


def tt_svd(tensor, rank=None, eps=None):
    r"""Tensor-train decomposition by TT-SVD (Oseledets 2011).

    Sweeps left to right: reshape the remainder into a matrix whose rows are
    (previous rank x current mode), take its SVD, keep the leading singular
    vectors as the core and pass ``S V^T`` on. With ``eps``, each truncation
    drops singular values whose tail norm is at most
    :math:`\delta = \varepsilon \|A\| / \sqrt{d-1}`, which guarantees
    :math:`\|A - \text{TT}\| \le \varepsilon \|A\|`; with ``rank``, each
    bond keeps at most that many.

    Parameters
    ----------
    tensor : array_like, at least 2-D
    rank : int or sequence of int, optional
        An integer caps every bond at that rank (and at the largest rank the
        shape allows); a sequence gives the ``d - 1`` inner ranks, or all
        ``d + 1`` with ones at both ends, and each must be possible for the shape.
    eps : float, optional
        Relative accuracy. Give exactly one of ``rank`` and ``eps``.

    Returns
    -------
    TTTensor

    Examples
    --------
    >>> import numpy as np
    >>> import tensorbook as tb
    >>> x = np.linspace(0, 1, 2**10).reshape((2,) * 10)
    >>> tt = tb.tt_svd(np.sin(4 * x), eps=1e-10)
    >>> tt.rank, bool(tb.norm(tt.to_tensor() - np.sin(4 * x)) <= 1e-10 * tb.norm(np.sin(4 * x)))
    ((1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1), True)
    """
    x, scale = _data_tensor(tensor)
    d = x.ndim
    if (rank is None) == (eps is None):
        raise ValueError("give exactly one of rank and eps")
    if eps is not None:
        eps = check_real(eps, "eps", low=0)
        caps, delta = _max_tt_ranks(x.shape), eps / math.sqrt(d - 1)  # x has unit norm
    else:
        caps, delta = _tt_ranks(rank, x.shape), 0.0
    cores = []
    remainder = x
    r_prev = 1
    for k in range(d - 1):
        matrix = remainder.reshape(r_prev * x.shape[k], -1)
        u, s, vt = _thin_svd(matrix)
        # tail[j] = norm of the singular values from j on
        tail = np.sqrt(np.cumsum((s**2)[::-1])[::-1])
        r = int(np.count_nonzero(tail > delta)) if delta > 0 else len(s)
        r = max(1, min(r, caps[k]))
        cores.append(u[:, :r].reshape(r_prev, x.shape[k], r))
        remainder = s[:r, None] * vt[:r]
        r_prev = r
    cores.append(remainder.reshape(r_prev, x.shape[-1], 1) * scale)
    return TTTensor(cores)


# --------------------------------------------------------------------------
# the robust tensor power method
# --------------------------------------------------------------------------


def _symmetric_operator(tensor, dim):
    """(dimension, T(I, ., .) on a batch) for a dense symmetric tensor or a callable."""
    if callable(tensor):
        dim = check_int(dim, "dim") if dim is not None else None
        if dim is None:
            raise ValueError("dim (the dimension k) must be given when tensor is a callable")

        def apply(thetas):
            out = np.array(tensor(thetas), dtype=float)  # a copy: updated in place later
            if out.shape != thetas.shape:
                raise ValueError(
                    f"tensor (a callable) must map a batch of shape {thetas.shape} to the same shape, "
                    f"got {out.shape}"
                )
            check_finite({"tensor (a callable)'s output": out})
            return out

        return dim, apply, 1.0
    t = _cubic(tensor)
    k = t.shape[0]
    if dim is not None and dim != k:
        raise ValueError(f"dim must match the tensor's size {k} (or be left out), got {dim!r}")
    check_finite({"tensor": t})
    scale = float(np.max(np.abs(t)))
    if scale == 0:
        raise ValueError("tensor must not be all zeros (it has no components to find)")
    t = t / scale  # unit scale: no overflow or underflow in the cubes
    asymmetry = max(float(np.max(np.abs(t - t.transpose(p)))) for p in [(1, 0, 2), (0, 2, 1), (2, 1, 0)])
    tolerance = max(1e-8, 100 * float(np.finfo(t.dtype).eps))
    if asymmetry > tolerance:
        raise ValueError(
            "tensor must be symmetric (T[i,j,k] the same under every permutation of i, j, k); "
            f"its largest asymmetry is {asymmetry:.3g} relative to its largest entry (allowed: "
            f"{tolerance:.1g}). Symmetrise it first, e.g. average it over its six transposes"
        )
    t = np.ascontiguousarray(t, dtype=np.float64)
    # checked once here (finite, symmetric, unit scale); the power method's thetas are unit vectors
    return k, lambda thetas: _ivv(t, thetas), scale


def symmetric_power_method(tensor, rank, *, n_restarts=10, n_iter=100, tol=1e-10, dim=None, random_state=None):
    r"""Robust tensor power method: a symmetric orthogonal decomposition :math:`T \approx \sum_i \lambda_i v_i^{\circ 3}`.

    Algorithm 1 of Anandkumar, Ge, Hsu, Kakade & Telgarsky (JMLR 2014). For
    each component: draw ``n_restarts`` starting vectors uniformly on the
    unit sphere; run up to ``n_iter`` power updates :math:`\theta \leftarrow
    T(I, \theta, \theta) / \|T(I, \theta, \theta)\|` from each; keep the one
    with the largest :math:`T(\theta, \theta, \theta)`; run up to ``n_iter``
    more updates from it; set :math:`\lambda = T(\theta, \theta, \theta)`;
    deflate, :math:`T \leftarrow T - \lambda \theta^{\circ 3}`. Updates
    stop early once no vector moves by more than ``tol``. Deflation is
    applied implicitly, so ``tensor`` may be an operator.

    Parameters
    ----------
    tensor : array_like of shape (k, k, k), or callable
        A symmetric tensor, or a function mapping a batch of vectors
        (b, k) to :math:`T(I, \theta, \theta)` for each (b, k): a tensor
        known only through its contractions, never formed.
    rank : int
        Number of components (at most k).
    n_restarts : int, default 10
    n_iter : int, default 100
    tol : float, default 1e-10
    dim : int, optional
        k; required when ``tensor`` is a callable.
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    CPTensor
        Weights :math:`\lambda` (in the order found, largest first in
        practice) and three copies of the (k, rank) matrix of vectors
        :math:`v_i`.

    Raises
    ------
    ValueError
        For a tensor that is not cubic or not symmetric (to 1e-8 relative to
        its largest entry, or 100 machine epsilons in float32), a rank out of
        range, or NaN/infinity.

    Examples
    --------
    >>> import numpy as np
    >>> import tensorbook as tb
    >>> V = np.linalg.qr(np.random.default_rng(0).standard_normal((5, 3)))[0]
    >>> T = tb.cp_to_tensor((np.array([3.0, 2.0, 1.0]), [V, V, V]))
    >>> cp = tb.symmetric_power_method(T, 3, random_state=0)
    >>> np.round(cp.weights, 6)
    array([3., 2., 1.])
    """
    k, apply, scale = _symmetric_operator(tensor, dim)
    rank = check_int(rank, "rank")
    if rank > k:
        raise ValueError(f"rank must be at most the dimension k = {k} (orthogonal components), got {rank}")
    n_restarts = check_int(n_restarts, "n_restarts")
    n_iter = check_int(n_iter, "n_iter", minimum=0)
    tol = check_tol(tol)
    rng = check_random_state(random_state)
    lambdas, vectors = [], []

    def deflated(thetas):  # T - sum_j lam_j v_j^(x)3, applied to each theta
        out = apply(thetas)
        if lambdas:
            found = np.column_stack(vectors)
            out -= ((thetas @ found) ** 2 * lambdas) @ found.T
        return out

    def iterate(thetas):
        for _ in range(n_iter):
            new = deflated(thetas)
            new /= np.maximum(np.linalg.norm(new, axis=1, keepdims=True), np.finfo(float).tiny)
            moved = np.max(np.linalg.norm(new - thetas, axis=1))
            thetas = new
            if moved < tol:
                break
        return thetas

    for _ in range(rank):
        starts = rng.standard_normal((n_restarts, k))
        starts /= np.linalg.norm(starts, axis=1, keepdims=True)
        thetas = iterate(starts)
        values = np.einsum("bi,bi->b", deflated(thetas), thetas)
        best = iterate(thetas[[int(np.argmax(values))]])
        lam = float(deflated(best)[0] @ best[0])
        if lambdas and abs(lam) <= 1e-12 * abs(lambdas[0]):
            warnings.warn(
                f"component {len(lambdas)} has weight {lam * scale:.3g}, zero next to the first "
                f"({lambdas[0] * scale:.3g}): the tensor has fewer than rank={rank} components",
                RuntimeWarning, stacklevel=2,
            )
        lambdas.append(lam)
        vectors.append(best[0])
    v = np.column_stack(vectors)
    return CPTensor(np.array(lambdas) * scale, [v, v.copy(), v.copy()])


# --------------------------------------------------------------------------
# Jennrich's algorithm (simultaneous diagonalisation)
# --------------------------------------------------------------------------


def jennrich(tensor, rank, *, random_state=None):
    r"""CP decomposition of a 3-way tensor by simultaneous diagonalisation (Jennrich's algorithm).

    For :math:`T = \sum_{r=1}^R w_r\, a_r \circ b_r \circ c_r` with
    :math:`A` (I x R) and :math:`B` (J x R) of full column rank and no two
    columns of :math:`C` parallel, two random combinations of the frontal
    slices, :math:`T_x = \sum_k x_k T[:, :, k] = A\,\mathrm{diag}(w \odot
    C^\top x)\,B^\top` and likewise :math:`T_y`, give
    :math:`T_x T_y^{+} = A\,\mathrm{diag}\big((C^\top x) / (C^\top y)\big)\,A^{+}`,
    whose eigenvectors are the columns of :math:`A` (Harshman 1970;
    Leurgans, Ross & Abel 1993). Each :math:`w_r\, b_r \circ c_r` is then
    the rank-one matrix in row :math:`r` of :math:`A^{+} T_{(0)}`. No
    iterations and no starting point: the decomposition is exact on an
    exact tensor, up to the order and scaling of the components, which are
    unique there (Kruskal's condition holds). Modes 0 and 1 are first
    projected onto their R leading left singular vectors, so the
    eigenproblem is R x R. On a noisy tensor the answer moves with the noise
    divided by the gaps between the eigenvalues; three random pairs
    :math:`(x, y)` are drawn and the one with the widest relative gap kept.
    A few sweeps of :func:`cp_als` started from it (``init=``) polish it.

    Parameters
    ----------
    tensor : array_like of shape (I, J, K)
        With I >= rank and J >= rank.
    rank : int
        The number of components R.
    random_state : None, int or numpy.random.Generator
        For the random combinations x, y.

    Returns
    -------
    CPTensor
        Unit-norm factor columns, the signs of ``a_r`` and ``b_r`` chosen so
        that their largest entries are positive, weights sorted from the
        largest magnitude.

    Raises
    ------
    ValueError
        If the tensor is not 3-way, has NaN or infinity, or is all zeros; if
        ``rank`` exceeds I or J; if mode 0 or mode 1 has numerical rank below
        ``rank`` (A or B lacks full column rank: the decomposition is not
        unique there); if the eigenvalues are not real and distinct (two
        columns of C parallel, K = 1, or noise larger than the gaps: use
        :func:`cp_als`).

    Examples
    --------
    >>> import numpy as np
    >>> import tensorbook as tb
    >>> rng = np.random.default_rng(0)
    >>> A, B, C = rng.standard_normal((5, 3)), rng.standard_normal((6, 3)), rng.standard_normal((4, 3))
    >>> T = tb.cp_to_tensor((np.ones(3), [A, B, C]))
    >>> cp = tb.jennrich(T, 3, random_state=0)
    >>> bool(np.allclose(cp.to_tensor(), T))
    True
    """
    x, scale = _data_tensor(tensor, min_ndim=3)
    if x.ndim != 3:
        raise ValueError(f"tensor must have 3 modes for Jennrich's algorithm, got {x.ndim} (shape {x.shape})")
    rank = check_int(rank, "rank")
    rng = check_random_state(random_state)
    I, J, K = x.shape
    if rank > min(I, J):
        raise ValueError(
            f"rank must be at most min(I, J) = {min(I, J)} for a tensor of shape {x.shape}: Jennrich's "
            f"algorithm needs the first two factor matrices (I x rank, J x rank) to have full column rank, "
            f"got rank={rank}"
        )
    work = x.astype(np.float64)  # small eigenproblems, in double precision whatever the input
    rtol = math.sqrt(np.finfo(x.dtype).eps)
    bases = []
    for mode in (0, 1):
        u, s, _ = _thin_svd(unfold(work, mode))
        if s.size < rank or s[rank - 1] <= rtol * s[0]:
            found = int(np.sum(s > rtol * s[0]))
            raise ValueError(
                f"rank={rank} exceeds the numerical rank {found} of the tensor's mode-{mode} unfolding: the "
                f"factor matrix of mode {mode} would not have full column rank, so the rank-{rank} CP "
                f"decomposition is not unique (Jennrich's condition fails); use a smaller rank or cp_als"
            )
        bases.append(u[:, :rank])
    U, V = bases
    core = np.einsum("ijk,ia,jb->abk", work, U, V, optimize=True)  # (R, R, K): modes 0 and 1 compressed
    best = None
    for _ in range(3):
        tx, ty = core @ rng.standard_normal(K), core @ rng.standard_normal(K)
        try:
            values, vectors = np.linalg.eig(tx @ np.linalg.inv(ty))
        except np.linalg.LinAlgError:
            continue
        gap = _relative_gap(values)
        if best is None or gap > best[0]:
            best = (gap, values, vectors)
    if best is None or best[0] <= rtol:
        why = ("the tensor has a single frontal slice (K = 1), so every pair of slice combinations is proportional"
               if K == 1 else "two columns of the mode-2 factor are parallel, or the noise exceeds the gaps between "
               "components")
        raise ValueError(
            f"tensor has no rank-{rank} CP decomposition that Jennrich's algorithm can separate: the "
            f"eigenvalues of T_x T_y^-1 are not real and distinct ({why}); use cp_als"
        )
    a = U @ best[2].real
    a /= np.linalg.norm(a, axis=0)
    rows = np.linalg.lstsq(a, unfold(work, 0), rcond=None)[0]  # row r: w_r vec(b_r o c_r)
    weights, b, c = np.empty(rank), np.empty((J, rank)), np.empty((K, rank))
    for r in range(rank):
        ub, sb, vtb = np.linalg.svd(rows[r].reshape(J, K), full_matrices=False)
        weights[r], b[:, r], c[:, r] = sb[0], ub[:, 0], vtb[0]
    for f in (a, b):  # signs: the largest entry of a_r and b_r positive, the rest carried by c_r
        flip = np.sign(f[np.argmax(np.abs(f), axis=0), np.arange(rank)])
        f *= flip
        c *= flip
    order = np.argsort(-np.abs(weights), kind="stable")
    factors = [f[:, order].astype(x.dtype) for f in (a, b, c)]
    return CPTensor((weights[order] * scale).astype(x.dtype), factors)


def _relative_gap(values):
    """The smallest distance between two eigenvalues relative to the largest, 0 if any is not real."""
    top = np.max(np.abs(values))
    if top == 0 or np.max(np.abs(values.imag)) > 1e-9 * top:
        return 0.0
    real = np.sort(values.real)
    if real.size < 2:
        return 1.0
    return float(np.min(np.diff(real)) / top)


# --------------------------------------------------------------------------
# random low-rank tensors
# --------------------------------------------------------------------------


def random_cp(shape, rank, *, random_state=None):
    """A CP tensor with standard normal factors and unit weights.

    Examples
    --------
    >>> import tensorbook as tb
    >>> tb.random_cp((3, 4, 5), 2, random_state=0)
    CPTensor(shape=(3, 4, 5), rank=2)
    """
    shape, rank = check_shape(shape), check_int(rank, "rank")
    rng = check_random_state(random_state)
    return CPTensor(np.ones(rank), [rng.standard_normal((s, rank)) for s in shape])


def random_tucker(shape, rank, *, random_state=None):
    """A Tucker tensor with a standard normal core and orthonormal factors.

    Examples
    --------
    >>> import tensorbook as tb
    >>> tb.random_tucker((3, 4, 5), (2, 2, 3), random_state=0)
    TuckerTensor(shape=(3, 4, 5), rank=(2, 2, 3))
    """
    shape = check_shape(shape)
    ranks = _tucker_rank(rank, shape)
    rng = check_random_state(random_state)
    factors = [np.linalg.qr(rng.standard_normal((s, r)))[0] for s, r in zip(shape, ranks)]
    return TuckerTensor(rng.standard_normal(ranks), factors)


def random_tt(shape, rank, *, random_state=None):
    """A tensor train with standard normal cores; ``rank`` an integer (capped per bond) or the inner ranks.

    Examples
    --------
    >>> import tensorbook as tb
    >>> tb.random_tt((2, 3, 4, 5), 3, random_state=0)
    TTTensor(shape=(2, 3, 4, 5), rank=(1, 2, 3, 3, 1))
    """
    shape = check_shape(shape)
    ranks = [1, *_tt_ranks(rank, shape), 1]
    rng = check_random_state(random_state)
    return TTTensor([rng.standard_normal((ranks[k], s, ranks[k + 1])) for k, s in enumerate(shape)])
