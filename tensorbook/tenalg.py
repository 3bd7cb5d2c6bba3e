"""Tensor algebra: unfoldings and their inverse.

Convention (the notation page of the book): modes are 0-based, and the mode-n
unfolding is TensorLy's C-order one, ``moveaxis(X, n, 0).reshape(I_n, -1)``.
"""

import numpy as np

from ._validation import as_array, check_mode, check_shape

__all__ = ["unfold", "fold"]


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
