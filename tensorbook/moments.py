"""Moment tensors of data: explicit (to teach, small dimension) and implicit (at scale).

For data points :math:`x_1, \\dots, x_n \\in \\mathbb{R}^d` (the rows of ``X``):

- the raw moments :math:`M_p = \\frac1n \\sum_j x_j^{\\circ p}` (:func:`moment`);
- the third cumulant :math:`\\kappa_3 = \\frac1n \\sum_j (x_j - \\bar x)^{\\circ 3}`,
  zero for a Gaussian, not for a mixture (:func:`third_cumulant`);
- without forming any :math:`d \\times d \\times d` tensor, the multilinear maps
  :math:`M_3(W, W, W) = \\frac1n \\sum_j (W^\\top x_j)^{\\circ 3}` (a
  :math:`k \\times k \\times k` tensor, :func:`moment3_whitened`) and
  :math:`M_3(I, v, v) = \\frac1n \\sum_j x_j (x_j^\\top v)^2` (a vector,
  :func:`moment3_ivv`), in :math:`O(n k)` extra memory.
"""

import numpy as np

from ._validation import as_float_array, check_finite, check_int

__all__ = ["moment", "third_cumulant", "moment3_whitened", "moment3_ivv", "MAX_DENSE_ENTRIES"]

#: Largest dense moment tensor the explicit functions build (entries).
MAX_DENSE_ENTRIES = 10**8


#: Bytes of the (batch, k, k) working array of the batched third-moment sums.
BATCH_BYTES = 32 << 20


def _data(X, name="X", *, keep_sparse=False):
    """Validated data: a float array, or (``keep_sparse``) a sparse matrix whose stored values are checked."""
    if hasattr(X, "toarray"):
        if keep_sparse:
            if X.shape[0] == 0:
                raise ValueError(f"{name} must hold at least one data point (row), got shape {X.shape}")
            check_finite({name: np.asarray(X.data)})
            return X
        X = X.toarray()  # the explicit moments are for small d
    x = as_float_array(X, name, ndim=2)
    if x.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one data point (row), got shape {x.shape}")
    check_finite({name: x})
    return x


def _check_dense(d, order):
    entries = d**order
    if entries > MAX_DENSE_ENTRIES:
        raise ValueError(
            f"the order-{order} moment of {d}-dimensional data has {entries:,} entries "
            f"({entries * 8 / 1e9:,.1f} GB); use the implicit moment3_whitened / moment3_ivv instead"
        )


def moment(X, order):
    r"""The empirical raw moment :math:`\frac1n \sum_j x_j^{\circ p}` of the rows of ``X``, as a dense tensor.

    Parameters
    ----------
    X : array_like of shape (n, d)
    order : {1, 2, 3}

    Returns
    -------
    numpy.ndarray of shape ``(d,) * order``

    Examples
    --------
    >>> import numpy as np
    >>> from tensorbook.moments import moment
    >>> X = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> moment(X, 2)
    array([[ 5.,  7.],
           [ 7., 10.]])
    """
    x = _data(X)
    order = check_int(order, "order")
    if order > 3:
        raise ValueError(f"order must be 1, 2 or 3, got {order}")
    n, d = x.shape
    _check_dense(d, order)
    if order == 1:
        return x.mean(axis=0)
    if order == 2:
        return x.T @ x / n
    return _sum_of_cubes(x, np.full(n, 1.0 / n))


def third_cumulant(X):
    r"""The empirical third cumulant (the centred third moment) of the rows of ``X``.

    For a Gaussian it is zero: a Gaussian is described by its mean and
    covariance alone. A mixture, a skewed or a latent-variable model has a
    nonzero third cumulant, which holds what the covariance misses.

    Parameters
    ----------
    X : array_like of shape (n, d)

    Returns
    -------
    numpy.ndarray of shape (d, d, d)

    Examples
    --------
    >>> import numpy as np
    >>> from tensorbook.moments import third_cumulant
    >>> gauss = np.random.default_rng(0).standard_normal((200_000, 2))
    >>> bool(np.abs(third_cumulant(gauss)).max() < 0.03)
    True
    """
    x = _data(X)
    return moment(x - x.mean(axis=0), 3)


def moment3_whitened(X, W, *, batch_size=None):
    r"""The :math:`k \times k \times k` tensor :math:`M_3(W, W, W) = \frac1n \sum_j (W^\top x_j)^{\circ 3}`, never forming :math:`M_3`.

    Projects the data first, :math:`Y = X W` (n x k), then sums the cubes of
    its rows as a matrix product over batches of rows: memory
    :math:`O(\text{batch} \cdot k^2)` (about 32 MB by default, whatever k),
    work :math:`O(n d k + n k^3)`.

    Parameters
    ----------
    X : array_like or scipy.sparse matrix of shape (n, d)
    W : array_like of shape (d, k)
    batch_size : int, optional
        Rows per batch (default: as many as fit in 32 MB of working memory).

    Examples
    --------
    >>> import numpy as np
    >>> from tensorbook.moments import moment, moment3_whitened
    >>> rng = np.random.default_rng(0)
    >>> X, W = rng.standard_normal((100, 6)), rng.standard_normal((6, 2))
    >>> dense = np.einsum("abc,ai,bj,ck->ijk", moment(X, 3), W, W, W)
    >>> bool(np.allclose(moment3_whitened(X, W), dense))
    True
    """
    x = _data(X, keep_sparse=True)
    w = as_float_array(W, "W", ndim=2)
    check_finite({"W": w})
    if w.shape[0] != x.shape[1]:
        raise ValueError(f"W must have {x.shape[1]} rows (the dimension of the data), got shape {w.shape}")
    if batch_size is not None:
        batch_size = check_int(batch_size, "batch_size")
    y = np.asarray(x @ w)
    return _sum_of_cubes(y, np.full(y.shape[0], 1.0 / y.shape[0]), batch_size)


def _sum_of_cubes(y, weights, batch_size=None):
    """``sum_j weights[j] y_j (x) y_j (x) y_j`` for the rows y_j of ``y``, batch by batch."""
    return _sum_of_triples(y * weights[:, None], y, y, batch_size)


def _sum_of_triples(a, b, c, batch_size=None):
    """``sum_j a_j (x) b_j (x) c_j`` over the rows of three (n, k) arrays, in batches of rows.

    Each batch is one matrix product of its (batch, k*k) pair products with
    its rows of ``c``: the working memory is ``batch * k * k`` numbers (about
    32 MB by default), whatever n.
    """
    n, k = a.shape
    if batch_size is None:
        batch_size = max(1, BATCH_BYTES // (8 * k * k))
    out = np.zeros((k * k, k))
    for lo in range(0, n, batch_size):
        pairs = (a[lo:lo + batch_size, :, None] * b[lo:lo + batch_size, None, :]).reshape(-1, k * k)
        out += pairs.T @ c[lo:lo + batch_size]
    return out.reshape(k, k, k)


def moment3_ivv(X, v):
    r"""The vector :math:`M_3(I, v, v) = \frac1n \sum_j x_j (x_j^\top v)^2` (or a batch of them), never forming :math:`M_3`.

    Parameters
    ----------
    X : array_like or scipy.sparse matrix of shape (n, d)
    v : array_like of shape (d,) or (batch, d)

    Examples
    --------
    >>> import numpy as np
    >>> import tensorbook as tb
    >>> from tensorbook.moments import moment, moment3_ivv
    >>> rng = np.random.default_rng(0)
    >>> X, v = rng.standard_normal((100, 5)), rng.standard_normal(5)
    >>> bool(np.allclose(moment3_ivv(X, v), tb.tensor_ivv(moment(X, 3), v)))
    True
    """
    x = _data(X, keep_sparse=True)
    vs = as_float_array(v, "v", ndim=(1, 2))
    check_finite({"v": vs})
    if vs.shape[-1] != x.shape[1]:
        raise ValueError(f"v must have length {x.shape[1]} (the dimension of the data), got shape {vs.shape}")
    batch = np.atleast_2d(vs)
    projections = np.asarray(x @ batch.T)  # (n, batch)
    out = np.asarray(x.T @ projections**2).T / x.shape[0]
    return out[0] if vs.ndim == 1 else out
