r"""Tensor layers for neural networks, in NumPy: every forward pass is a contraction, and so is every gradient.

The rule behind every backward pass here: if

.. math:: E = \mathrm{contract}(\texttt{"}s_0, s_1, \ldots \to o\texttt{"}, A_0, A_1, \ldots)

and :math:`G = \partial L / \partial E`, then

.. math:: \partial L / \partial A_k = \mathrm{contract}(\texttt{"}o, s_0, \ldots, \widehat{s_k}, \ldots \to s_k\texttt{"}, G, A_0, \ldots, \widehat{A_k}, \ldots)

(the output's subscripts take the place of operand :math:`k`'s, which become
the output), as long as every index of :math:`s_k` appears once in it and
also in :math:`o` or another operand (:func:`contraction_gradient`). So one
layer, :class:`Contraction`, with its backward pass written once, gives

* :class:`TensorContraction`, the tensor contraction layer (Kossaifi et al.,
  2017): a batch ``X`` of shape ``(N, I_1, ..., I_K)`` to
  ``X ×_1 U_1 ... ×_K U_K``;
* :class:`TuckerRegression` and :class:`CPRegression`, the tensor regression
  layer (Kossaifi et al., 2020): logits ``<X, W[..., c]> + b_c`` with the
  weight tensor ``W`` in Tucker or CP form, never formed;
* :class:`TTDense`, the tensor-train layer (Novikov et al., 2015): a dense
  layer whose ``(prod m_k) x (prod n_k)`` weight matrix is a TT-matrix;
* :class:`Dense` and :class:`BilinearFusion` (``z = x^T W y + b`` for each
  output).

The layers built from these and an activation: :class:`MLBFusion` (Kim et
al., 2017: a rank-R CP bilinear model) and :class:`MUTANFusion` (Ben-younes et
al., 2017: a Tucker bilinear model). :class:`SketchFusion` is compact
bilinear pooling (Gao et al., 2016; Fukui et al., 2016): the Tensor Sketch of
the outer product (:func:`tensor_sketch`, Pham & Pagh, 2013), then a dense
layer.

Every layer has ``params`` (a dict of arrays, updated in place by an
optimiser), ``n_params``, ``forward(*inputs) -> (output, cache)`` and
``backward(cache, grad_output) -> (input_grads, param_grads)``; the tests check
each backward pass against central finite differences and each forward pass
against a dense reference.
"""

import math
import string

import numpy as np

from ._validation import as_float_array, check_finite, check_int, check_random_state
from .contraction import _compile, _pairwise, contract

__all__ = [
    "contraction_gradient", "contraction_gradients", "TensorSketch", "tensor_sketch",
    "Layer", "Contraction", "Dense", "TensorContraction", "TuckerRegression", "CPRegression", "TTDense",
    "BilinearFusion", "MLBFusion", "MUTANFusion", "SketchFusion",
    "ReLU", "Flatten", "Concat", "Sequential", "softmax_cross_entropy", "train", "predict",
]


# --------------------------------------------------------------------------
# the rule
# --------------------------------------------------------------------------


def _split(subscripts):
    if not isinstance(subscripts, str) or "->" not in subscripts or "." in subscripts:
        raise ValueError(
            f"subscripts must be an explicit einsum specification without '...', such as 'ij,jk->ik', "
            f"got {subscripts!r}"
        )
    left, output = subscripts.replace(" ", "").split("->")
    return left.split(","), output


def contraction_gradient(subscripts, operands, grad_output, wrt):
    """The gradient of a loss with respect to one operand of a contraction: itself a contraction.

    For ``E = contract(subscripts, *operands)`` and ``grad_output`` the
    gradient of a scalar loss with respect to ``E``, returns the gradient
    with respect to ``operands[wrt]``: the contraction of ``grad_output``
    with every other operand, whose output subscripts are those of
    ``operands[wrt]``.

    Parameters
    ----------
    subscripts : str
        An explicit einsum specification (with ``->``, no ``...``).
    operands : sequence of array_like
    grad_output : array_like
        Same shape as the contraction's result.
    wrt : int
        Which operand.

    Returns
    -------
    numpy.ndarray
        Same shape as ``operands[wrt]``.

    Raises
    ------
    ValueError
        If an index of ``operands[wrt]`` is repeated in it (a diagonal) or
        appears neither in the output nor in another operand (a sum inside
        one operand): the gradient is then not a single contraction.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorbook.nn import contraction_gradient
    >>> A, B = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    >>> G = np.ones((2, 4))  # the gradient of L = sum(A @ B)
    >>> np.allclose(contraction_gradient("ij,jk->ik", [A, B], G, 0), G @ B.T)
    True
    >>> np.allclose(contraction_gradient("ij,jk->ik", [A, B], G, 1), A.T @ G)
    True
    """
    inputs, output = _split(subscripts)
    if len(inputs) != len(operands):
        raise ValueError(f"subscripts name {len(inputs)} operands, got {len(operands)}")
    if isinstance(wrt, bool) or not isinstance(wrt, (int, np.integer)) or not 0 <= wrt < len(inputs):
        raise ValueError(f"wrt must be an operand index in [0, {len(inputs)}), got {wrt!r}")
    target = inputs[wrt]
    others = [s for k, s in enumerate(inputs) if k != wrt]
    elsewhere = set(output).union(*others) if others else set(output)
    for index in target:
        if target.count(index) > 1:
            raise ValueError(f"operand {wrt} ({target!r}) repeats the index {index!r}: a diagonal has no "
                             "single-contraction gradient")
        if index not in elsewhere:
            raise ValueError(f"index {index!r} of operand {wrt} ({target!r}) appears nowhere else: the gradient "
                             "would be a broadcast, not a contraction")
    rest = [op for k, op in enumerate(operands) if k != wrt]
    return contract(",".join([output, *others]) + "->" + target, grad_output, *rest)


def contraction_gradients(subscripts, operands, grad_output):
    """The gradients with respect to every operand of a contraction at once, sharing the work.

    The same rule as :func:`contraction_gradient`, applied step by step
    along the pairwise order in which :func:`tensorbook.contract` evaluates
    the contraction (reverse mode): the forward steps are redone, keeping
    each intermediate, then walked backwards, each step ``C = contract(la,
    lb -> lc)(A, B)`` giving ``dA = contract(lc, lb -> la)(dC, B)`` and ``dB
    = contract(la, lc -> lb)(A, dC)``. All the gradients cost about two more
    evaluations of the contraction, where one :func:`contraction_gradient`
    per operand costs one each, and an operand that meets a large input (a
    layer's batch) early no longer makes every gradient pass over it again.

    Parameters
    ----------
    subscripts : str
        An explicit einsum specification (with ``->``, no ``...``).
    operands : sequence of array_like
    grad_output : array_like

    Returns
    -------
    list of numpy.ndarray
        One gradient per operand, each of its operand's shape.

    Raises
    ------
    ValueError
        If an operand or ``grad_output`` holds NaN or infinity (naming it),
        or as :func:`contraction_gradient`.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorbook.nn import contraction_gradient, contraction_gradients
    >>> rng = np.random.default_rng(0)
    >>> ops = [rng.normal(size=s) for s in ((5, 4, 3), (2, 4), (3, 3))]
    >>> G = rng.normal(size=(5, 2, 3))
    >>> all(np.allclose(g, contraction_gradient("nij,ri,sj->nrs", ops, G, k))
    ...     for k, g in enumerate(contraction_gradients("nij,ri,sj->nrs", ops, G)))
    True
    """
    _split(subscripts)
    operands = [as_float_array(op, f"operands[{k}]") for k, op in enumerate(operands)]
    grad_output = as_float_array(grad_output, "grad_output")
    check_finite({"operands": operands, "grad_output": grad_output})
    return _contraction_gradients(subscripts, operands, grad_output)


def _contraction_gradients(subscripts, operands, grad_output):
    """:func:`contraction_gradients` on operands already checked (the layers': checked at their input)."""
    parsed, terms, out, _, steps = _compile(subscripts.replace(" ", ""), tuple(op.shape for op in operands), "optimal")
    if len(operands) < 3 or list(terms) != list(parsed) or any(len(set(t)) != len(t) for t in terms):
        # one or two operands (the rule itself is cheapest), an index summed inside one operand or a
        # diagonal (the rule per operand checks and says so)
        return [contraction_gradient(subscripts, operands, grad_output, k) for k in range(len(operands))]
    # each step below is tb.contract's own pairwise kernel, without its per-call checks
    tensors, labels, tape = list(operands), list(terms), []
    for i, j, keep in steps:
        la, lb = labels[i], labels[j]
        result, lc = _pairwise(tensors[i], la, tensors[j], lb, keep)
        tape.append((i, j, la, lb, lc, tensors[i], tensors[j]))
        for k in (j, i):
            tensors.pop(k)
            labels.pop(k)
        tensors.append(result)
        labels.append(lc)
    grads = [_reorder(np.asarray(grad_output), out, labels[0])]
    for i, j, la, lb, lc, a, b in reversed(tape):
        gc = grads.pop()
        grads.insert(i, _pair(gc, lc, b, lb, la))  # dA = contract(lc, lb -> la)(dC, B)
        grads.insert(j, _pair(a, la, gc, lc, lb))  # dB = contract(la, lc -> lb)(A, dC)
    return grads


def _reorder(x, labels, target):
    """``x`` (indices ``labels``) with its axes in the order of ``target`` (the same letters)."""
    return x if labels == target else x.transpose([labels.index(c) for c in target])


def _pair(a, la, b, lb, target):
    """The two-operand contraction ``la, lb -> target`` by tb.contract's pairwise kernel (every index of
    ``target`` in ``la`` or ``lb``, every other index in both)."""
    result, label = _pairwise(a, la, b, lb, frozenset(target))
    return np.ascontiguousarray(_reorder(result, label, target))


# --------------------------------------------------------------------------
# Tensor Sketch
# --------------------------------------------------------------------------


class TensorSketch:
    r"""The Tensor Sketch of outer products ``x ∘ y`` (Pham & Pagh, 2013), with its hashes fixed.

    Two independent count sketches (Charikar, Chen & Farach-Colton, 2002),
    :math:`C_1(\mathbf{x})_j = \sum_{i: h_1(i) = j} s_1(i) x_i` and likewise
    :math:`C_2` with :math:`(h_2, s_2)`, combined by FFT:
    :math:`\psi(\mathbf{x}, \mathbf{y}) = \mathrm{IFFT}(\mathrm{FFT}(C_1(\mathbf{x})) \odot
    \mathrm{FFT}(C_2(\mathbf{y})))`, the circular convolution of the two. It
    equals the count sketch of the flattened :math:`\mathbf{x} \circ \mathbf{y}`
    under the hash :math:`(h_1(i) + h_2(j)) \bmod D` and sign
    :math:`s_1(i) s_2(j)`, so
    :math:`\mathbb{E}\,\langle \psi(\mathbf{x}, \mathbf{y}), \psi(\mathbf{x}', \mathbf{y}') \rangle
    = \langle \mathbf{x}, \mathbf{x}' \rangle \langle \mathbf{y}, \mathbf{y}' \rangle`
    over the hashes, with a variance that falls as :math:`1/D`.

    Parameters
    ----------
    d1, d2 : int
        Sizes of ``x`` and ``y``.
    dim : int
        ``D``, the size of the sketch.
    random_state : None, int or numpy.random.Generator
        Draws the hashes ``h1, h2`` (uniform on ``0..D-1``) and signs
        ``s1, s2`` (uniform on ±1).

    Attributes
    ----------
    hashes, signs : tuple of two numpy.ndarray
    reachable : numpy.ndarray of bool, shape (dim,)
        The buckets that some pair ``(i, j)`` hashes to; the others are 0
        for every input.
    """

    def __init__(self, d1, d2, dim, random_state=None):
        self.d1, self.d2, self.dim = check_int(d1, "d1"), check_int(d2, "d2"), check_int(dim, "dim")
        rng = check_random_state(random_state)
        self.hashes = (rng.integers(0, self.dim, self.d1), rng.integers(0, self.dim, self.d2))
        self.signs = (rng.choice((-1.0, 1.0), self.d1), rng.choice((-1.0, 1.0), self.d2))
        # the buckets some pair (i, j) hashes to: elsewhere psi is 0 for every input (the FFT leaves round-off there)
        pairs = np.fft.irfft(np.fft.rfft(np.bincount(self.hashes[0], minlength=self.dim))
                             * np.fft.rfft(np.bincount(self.hashes[1], minlength=self.dim)), n=self.dim)
        self.reachable = pairs > 0.5

    def count_sketch(self, x, which):
        """The count sketch of the rows of ``x`` (``(n, d1)`` for ``which=0``, ``(n, d2)`` for 1): ``(n, dim)``."""
        out = np.zeros((x.shape[0], self.dim))
        for j in range(x.shape[1]):  # d columns added into their buckets: O(n d), no d x dim matrix
            out[:, self.hashes[which][j]] += self.signs[which][j] * x[:, j]
        return out

    def _uncount(self, grad, which):
        """The adjoint of count_sketch: (n, dim) -> (n, d)."""
        return grad[:, self.hashes[which]] * self.signs[which]

    def _check(self, x, y):
        x = as_float_array(x, "x", ndim=2)
        y = as_float_array(y, "y", ndim=2)
        if x.shape[1] != self.d1 or y.shape[1] != self.d2:
            raise ValueError(f"x and y must have {self.d1} and {self.d2} columns (the sketch's d1 and d2), got "
                             f"shapes {x.shape} and {y.shape}")
        if x.shape[0] != y.shape[0]:
            raise ValueError(f"x and y must have the same number of rows (one pair per row), got {x.shape[0]} "
                             f"and {y.shape[0]}")
        check_finite({"x": x, "y": y})
        return x, y

    def __call__(self, x, y):
        """``ψ(x, y)`` for each row pair: ``(n, d1), (n, d2) -> (n, dim)``."""
        x, y = self._check(x, y)
        return self._sketch(x, y)[0]

    def _sketch(self, x, y):
        fx = np.fft.rfft(self.count_sketch(x, 0), axis=1)
        fy = np.fft.rfft(self.count_sketch(y, 1), axis=1)
        psi = np.fft.irfft(fx * fy, n=self.dim, axis=1)
        psi[:, ~self.reachable] = 0.0
        return psi, (fx, fy)

    def _backward(self, spectra, grad):
        """Gradients of ψ's loss with respect to x and y: a circular correlation with the other sketch."""
        fx, fy = spectra
        fg = np.fft.rfft(np.where(self.reachable, grad, 0.0), axis=1)
        gx = np.fft.irfft(fg * np.conj(fy), n=self.dim, axis=1)
        gy = np.fft.irfft(fg * np.conj(fx), n=self.dim, axis=1)
        return self._uncount(gx, 0), self._uncount(gy, 1)


def tensor_sketch(x, y, dim, random_state=None):
    r"""The Tensor Sketch of each outer product ``x[i] ∘ y[i]``: a ``dim``-vector that keeps their inner products.

    ``⟨ψ(x, y), ψ(x', y')⟩`` estimates ``⟨x, x'⟩⟨y, y'⟩`` without bias over
    the hashes, which ``random_state`` draws (one hash pair per
    ``random_state``: the same seed sketches every batch alike). The cost is
    ``O(n (d1 + d2 + dim log dim))``, against ``O(n d1 d2)`` for the outer
    products themselves. See :class:`TensorSketch`.

    Parameters
    ----------
    x : array_like, shape (n, d1)
    y : array_like, shape (n, d2)
    dim : int
        The sketch size ``D``.
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    numpy.ndarray, shape (n, dim)

    Examples
    --------
    >>> import numpy as np
    >>> import tensorbook as tb
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(2, 30)), rng.normal(size=(2, 20))
    >>> psi = tb.tensor_sketch(x, y, 4096, random_state=1)
    >>> psi.shape
    (2, 4096)
    >>> exact = (x[0] @ x[1]) * (y[0] @ y[1])
    >>> bool(abs(psi[0] @ psi[1] - exact) < 0.25 * np.linalg.norm(x[0]) * np.linalg.norm(x[1])
    ...      * np.linalg.norm(y[0]) * np.linalg.norm(y[1]))
    True
    """
    x = as_float_array(x, "x", ndim=2)
    y = as_float_array(y, "y", ndim=2)
    return TensorSketch(x.shape[1], y.shape[1], dim, random_state)(x, y)


# --------------------------------------------------------------------------
# layers
# --------------------------------------------------------------------------


class Layer:
    """A layer: ``params`` (name -> array), ``forward(*inputs) -> (output, cache)``,
    ``backward(cache, grad_output) -> (tuple of input gradients, dict of parameter gradients)``."""

    params: dict

    @property
    def n_params(self):
        """The number of trainable numbers."""
        return int(sum(p.size for p in self.params.values()))

    def __call__(self, *inputs):
        return self.forward(*inputs)[0]

    def __repr__(self):
        shapes = ", ".join(f"{k}{tuple(v.shape)}" for k, v in self.params.items())
        return f"{type(self).__name__}({shapes}; {self.n_params:,} parameters)"


def _init(rng, shape, fan_in):
    """Glorot-style normal initial values: standard deviation 1/sqrt(fan_in)."""
    return rng.standard_normal(shape) / math.sqrt(fan_in)


class Contraction(Layer):
    """A layer that is one contraction of its inputs with its parameters, plus an optional bias.

    ``output = contract(subscripts, *inputs, *params.values()) + bias`` (the
    bias added along the last axis). The backward pass applies
    :func:`contraction_gradient` to each input and each parameter.

    Parameters
    ----------
    subscripts : str
        Explicit einsum specification: the inputs' subscripts first, then the
        parameters' in the order of ``params``.
    n_inputs : int
    params : dict of name -> numpy.ndarray
    bias : numpy.ndarray or None
        Shape ``(output's last dimension,)``; stored as ``params["bias"]``.
    """

    def __init__(self, subscripts, n_inputs, params, bias=None):
        inputs, output = _split(subscripts)
        if len(inputs) != n_inputs + len(params):
            raise ValueError(f"subscripts name {len(inputs)} operands; expected n_inputs + len(params) = "
                             f"{n_inputs} + {len(params)}")
        self.subscripts, self.n_inputs = subscripts, n_inputs
        self._weights = list(params)
        self.params = dict(params)
        if bias is not None:
            self.params["bias"] = bias

    def _operands(self, inputs):
        if len(inputs) != self.n_inputs:
            raise ValueError(f"{type(self).__name__} takes {self.n_inputs} input(s), got {len(inputs)}")
        return [*inputs, *(self.params[k] for k in self._weights)]

    def forward(self, *inputs):
        operands = self._operands(inputs)
        out = contract(self.subscripts, *operands)
        if "bias" in self.params:
            out = out + self.params["bias"]
        return out, operands

    def backward(self, cache, grad_output):
        operands = cache
        grads = _contraction_gradients(self.subscripts, operands, grad_output)
        param_grads = dict(zip(self._weights, grads[self.n_inputs:]))
        if "bias" in self.params:
            param_grads["bias"] = grad_output.reshape(-1, grad_output.shape[-1]).sum(axis=0)
        return tuple(grads[: self.n_inputs]), param_grads


def _letters(n, skip=""):
    letters = [c for c in string.ascii_letters if c not in skip]
    if n > len(letters):
        raise ValueError(f"too many modes for one contraction ({n} indices, at most {len(letters)})")
    return letters[:n]


def _check_batch(x, shape, name):
    x = as_float_array(x, name)
    if x.shape[1:] != tuple(shape) or x.ndim != len(shape) + 1:
        raise ValueError(f"{name} must have shape (batch, {', '.join(map(str, shape))}), got {x.shape}")
    check_finite({name: x})
    return x


def _sizes(values, name, length=None):
    values = [values] * length if isinstance(values, (int, np.integer)) and length else values
    try:
        values = [check_int(v, name) for v in values]
    except TypeError:
        raise ValueError(f"{name} must be a sequence of positive integers, got {values!r}") from None
    if length is not None and len(values) != length:
        raise ValueError(f"{name} must have {length} entries (one per mode), got {len(values)}")
    return values


def _check_pair(x, y, d1, d2):
    x, y = _check_batch(x, (d1,), "x"), _check_batch(y, (d2,), "y")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y must have the same number of rows (one pair per row), got {x.shape[0]} and "
                         f"{y.shape[0]}")
    return x, y


class Dense(Contraction):
    """``y = x W + b``: ``(N, n_in) -> (N, n_out)``, the contraction ``"ni,io->no"``."""

    def __init__(self, n_in, n_out, *, bias=True, random_state=None):
        n_in, n_out = check_int(n_in, "n_in"), check_int(n_out, "n_out")
        rng = check_random_state(random_state)
        super().__init__("ni,io->no", 1, {"W": _init(rng, (n_in, n_out), n_in)},
                         np.zeros(n_out) if bias else None)

    def forward(self, x):
        return super().forward(_check_batch(x, self.params["W"].shape[:1], "x"))


class TensorContraction(Contraction):
    """The tensor contraction layer (Kossaifi et al., 2017): ``X ×_1 U_1 ... ×_K U_K`` on a batch.

    Keeps the modes of its input: ``(N, I_1, ..., I_K) -> (N, R_1, ..., R_K)``,
    with ``sum_k R_k I_k`` parameters (``U_k`` of shape ``(R_k, I_k)``).
    ``dL/dU_k`` is ``G_(k) Z_(k)^T`` summed over the batch, where ``Z`` is
    ``X`` multiplied along every other mode; ``dL/dX`` is
    ``G ×_1 U_1^T ... ×_K U_K^T``.

    Parameters
    ----------
    input_shape : sequence of int
        ``(I_1, ..., I_K)``, without the batch mode.
    ranks : int or sequence of int
        ``(R_1, ..., R_K)``.
    random_state : None, int or numpy.random.Generator

    Examples
    --------
    >>> import numpy as np
    >>> import tensorbook as tb
    >>> from tensorbook.nn import TensorContraction
    >>> layer = TensorContraction((5, 5, 8), (3, 3, 4), random_state=0)
    >>> X = np.random.default_rng(1).normal(size=(2, 5, 5, 8))
    >>> Y = layer(X)
    >>> Y.shape, layer.n_params
    ((2, 3, 3, 4), 62)
    >>> U = [layer.params[f"U{k}"] for k in range(3)]
    >>> np.allclose(Y[1], tb.multi_mode_dot(X[1], U))
    True
    """

    def __init__(self, input_shape, ranks, *, random_state=None):
        self.input_shape = tuple(_sizes(input_shape, "input_shape"))
        K = len(self.input_shape)
        ranks = _sizes(ranks, "ranks", K)
        rng = check_random_state(random_state)
        modes, new = _letters(K, "n"), _letters(2 * K, "n")[K:]
        subscripts = ",".join(["n" + "".join(modes), *(r + m for r, m in zip(new, modes))]) + "->n" + "".join(new)
        params = {f"U{k}": _init(rng, (R, I), I) for k, (R, I) in enumerate(zip(ranks, self.input_shape))}
        super().__init__(subscripts, 1, params)

    def forward(self, X):
        return super().forward(_check_batch(X, self.input_shape, "X"))


class _Regression(Contraction):
    """A tensor regression layer: ``contract("n<modes>,<weight factors>->no", X, *factors) + b``.

    Two ways to run the same contraction, chosen per call by size: when the
    weight tensor ``W`` (``prod I_k x n_outputs`` entries) is no larger than
    the batch ``X``, form ``W = contract(<factors> -> <modes>o)`` first and
    multiply (one matrix product each way, as a dense layer); otherwise
    contract ``X`` with the factors directly and never form ``W``. Either way
    the backward pass is the rule of :func:`contraction_gradient`, applied to
    the one or two contractions.
    """

    def _split_weight(self):
        inputs, _ = _split(self.subscripts)
        modes = inputs[0][1:]
        self._w_subscripts = ",".join(inputs[1:]) + "->" + modes + "o"
        self._x_subscripts = "n" + modes + "," + modes + "o->no"

    def forward(self, X):
        X = _check_batch(X, self.input_shape, "X")
        if math.prod(self.input_shape) * self.params["bias"].size > X.size:  # W larger than the batch
            return super().forward(X)
        factors = [self.params[k] for k in self._weights]
        W = contract(self._w_subscripts, *factors)
        return contract(self._x_subscripts, X, W) + self.params["bias"], (X, W, factors)

    def backward(self, cache, grad_output):
        if isinstance(cache, list):  # the factored route: one contraction
            return super().backward(cache, grad_output)
        X, W, factors = cache
        gX = contraction_gradient(self._x_subscripts, [X, W], grad_output, 0)
        gW = contraction_gradient(self._x_subscripts, [X, W], grad_output, 1)
        grads = dict(zip(self._weights, _contraction_gradients(self._w_subscripts, factors, gW)))
        grads["bias"] = grad_output.sum(axis=0)
        return (gX,), grads


class TuckerRegression(_Regression):
    """The tensor regression layer, Tucker form (Kossaifi et al., 2020): logits ``<X, W[..., c]> + b_c``.

    ``W = G ×_1 U_1 ... ×_K U_K ×_{K+1} U_out`` of shape
    ``(I_1, ..., I_K, n_outputs)``. When ``W`` would be larger than the
    batch, it is never formed (``X`` is contracted with ``U_1..U_K`` first,
    then with the core and ``U_out``); otherwise it is formed from its
    factors and applied as one matrix product, which reads ``X`` once.

    Parameters
    ----------
    input_shape : sequence of int
        ``(I_1, ..., I_K)``.
    n_outputs : int
    ranks : sequence of int
        ``(R_1, ..., R_K, R_out)``: the Tucker rank of ``W``.
    random_state : None, int or numpy.random.Generator
    """

    def __init__(self, input_shape, n_outputs, ranks, *, random_state=None):
        self.input_shape = tuple(_sizes(input_shape, "input_shape"))
        n_outputs = check_int(n_outputs, "n_outputs")
        K = len(self.input_shape)
        ranks = _sizes(ranks, "ranks", K + 1)
        rng = check_random_state(random_state)
        modes, core = _letters(K, "no"), _letters(3 * K + 2, "no")[K: 2 * K + 1]
        params = {f"U{k}": _init(rng, (I, R), I) for k, (I, R) in enumerate(zip(self.input_shape, ranks))}
        params["core"] = _init(rng, tuple(ranks), math.prod(ranks[:-1]))
        params["U_out"] = _init(rng, (n_outputs, ranks[-1]), ranks[-1])
        subscripts = ",".join(["n" + "".join(modes), *(m + r for m, r in zip(modes, core)), "".join(core),
                               "o" + core[-1]]) + "->no"
        super().__init__(subscripts, 1, params, np.zeros(n_outputs))
        self._split_weight()


class CPRegression(_Regression):
    """The tensor regression layer, CP form: ``W = sum_r U_1[:, r] ∘ ... ∘ U_K[:, r] ∘ U_out[:, r]``.

    Parameters
    ----------
    input_shape : sequence of int
    n_outputs : int
    rank : int
    random_state : None, int or numpy.random.Generator
    """

    def __init__(self, input_shape, n_outputs, rank, *, random_state=None):
        self.input_shape = tuple(_sizes(input_shape, "input_shape"))
        n_outputs, rank = check_int(n_outputs, "n_outputs"), check_int(rank, "rank")
        K = len(self.input_shape)
        rng = check_random_state(random_state)
        modes = _letters(K, "nor")
        params = {f"U{k}": _init(rng, (I, rank), I) for k, I in enumerate(self.input_shape)}
        params["U_out"] = _init(rng, (n_outputs, rank), rank)
        subscripts = ",".join(["n" + "".join(modes), *(m + "r" for m in modes), "or"]) + "->no"
        super().__init__(subscripts, 1, params, np.zeros(n_outputs))
        self._split_weight()


class TTDense(Contraction):
    r"""A dense layer whose weight matrix is a tensor train (Novikov et al., 2015): ``(N, prod n_k) -> (N, prod m_k)``.

    ``W[(i_1..i_d), (j_1..j_d)] = G_1[0, i_1, j_1, :] G_2[:, i_2, j_2, :] ... G_d[:, i_d, j_d, 0]``
    with cores of shape ``(r_{k-1}, m_k, n_k, r_k)``, ``r_0 = r_d = 1``;
    ``y = W x + b`` is contracted core by core on ``x`` reshaped to
    ``(n_1, ..., n_d)``: ``sum_k r_{k-1} m_k n_k r_k`` parameters instead of
    ``prod m_k n_k``. Rows and columns are in C order (``i_1`` slowest).

    Parameters
    ----------
    in_modes : sequence of int
        ``(n_1, ..., n_d)``.
    out_modes : sequence of int
        ``(m_1, ..., m_d)``, as many as ``in_modes``.
    ranks : int or sequence of int
        The ``d - 1`` inner ranks ``r_1, ..., r_{d-1}``.
    bias : bool
    random_state : None, int or numpy.random.Generator

    Examples
    --------
    >>> import numpy as np
    >>> from tensorbook.nn import TTDense
    >>> layer = TTDense((4, 4, 4), (2, 3, 2), ranks=3, random_state=0)
    >>> x = np.random.default_rng(1).normal(size=(5, 64))
    >>> np.allclose(layer(x), x @ layer.to_matrix().T + layer.params["bias"])
    True
    >>> layer.n_params, 64 * 12 + 12
    (168, 780)
    """

    def __init__(self, in_modes, out_modes, ranks, *, bias=True, random_state=None):
        self.in_modes = tuple(_sizes(in_modes, "in_modes"))
        self.out_modes = tuple(_sizes(out_modes, "out_modes", len(self.in_modes)))
        d = len(self.in_modes)
        inner = _sizes(ranks, "ranks", d - 1) if d > 1 else []
        full = [1, *inner, 1]
        rng = check_random_state(random_state)
        # indices: n (batch), j_k (input modes), i_k (output modes), a_k (the d-1 inner ranks)
        letters = _letters(3 * d, "n")
        j, i, a = letters[:d], letters[d: 2 * d], letters[2 * d:]
        params, cores = {}, []
        for k in range(d):
            # the boundary cores drop their size-1 rank (an index in one operand only has no gradient rule)
            shape = tuple(s for s, keep in ((full[k], k > 0), (self.out_modes[k], True), (self.in_modes[k], True),
                                            (full[k + 1], k < d - 1)) if keep)
            fan_in = self.in_modes[k] * full[k]
            params[f"G{k}"] = _init(rng, shape, fan_in)
            cores.append((a[k - 1] if k > 0 else "") + i[k] + j[k] + (a[k] if k < d - 1 else ""))
        subscripts = ",".join(["n" + "".join(j), *cores]) + "->n" + "".join(i)
        self.n_in, self.n_out = math.prod(self.in_modes), math.prod(self.out_modes)
        self.ranks = tuple(full)
        super().__init__(subscripts, 1, params, np.zeros(self.n_out) if bias else None)

    def forward(self, x):
        x = _check_batch(x, (self.n_in,), "x")
        operands = self._operands([x.reshape(-1, *self.in_modes)])
        out = contract(self.subscripts, *operands).reshape(-1, self.n_out)
        if "bias" in self.params:
            out = out + self.params["bias"]
        return out, operands

    def backward(self, cache, grad_output):
        (gx,), grads = super().backward(cache, grad_output.reshape(-1, *self.out_modes))
        if "bias" in grads:
            grads["bias"] = grad_output.sum(axis=0)
        return (gx.reshape(-1, self.n_in),), grads

    def to_matrix(self):
        """The dense ``(prod m_k, prod n_k)`` weight matrix (for checking; the layer never forms it)."""
        inputs, output = _split(self.subscripts)  # inputs[0] is "n" + the input modes, output "n" + the output modes
        spec = ",".join(inputs[1:]) + "->" + output[1:] + inputs[0][1:]
        return contract(spec, *(self.params[f"G{k}"] for k in range(len(self.in_modes)))).reshape(self.n_out, self.n_in)


class BilinearFusion(Contraction):
    """Full bilinear fusion of two vectors: ``z_o = x^T W[:, :, o] y + b_o``, ``d1 d2 n_out`` weights."""

    def __init__(self, d1, d2, n_out, *, random_state=None):
        d1, d2, n_out = check_int(d1, "d1"), check_int(d2, "d2"), check_int(n_out, "n_out")
        rng = check_random_state(random_state)
        self.d1, self.d2 = d1, d2
        super().__init__("ni,nj,ijo->no", 2, {"W": _init(rng, (d1, d2, n_out), math.sqrt(d1 * d2))},
                         np.zeros(n_out))

    def forward(self, x, y):
        return super().forward(*_check_pair(x, y, self.d1, self.d2))


class _Composite(Layer):
    """Layers joined by name; params are named ``"<part>.<param>"`` and shared with the parts."""

    def _collect(self, parts):
        self.parts = parts
        self.params = {f"{name}.{key}": value for name, part in parts.items() for key, value in part.params.items()}

    @staticmethod
    def _prefixed(name, grads):
        return {f"{name}.{key}": value for key, value in grads.items()}


class _ProjectedBilinear(_Composite):
    """``z = out(tanh(x W_x + b_x), tanh(y W_y + b_y))``: both inputs projected, then a bilinear contraction."""

    def _build(self, d1, d2, px, py, out, rng):
        self.d1, self.d2 = check_int(d1, "d1"), check_int(d2, "d2")
        self._collect({"x": Dense(self.d1, px, random_state=rng), "y": Dense(self.d2, py, random_state=rng),
                       "out": out})

    def forward(self, x, y):
        x, y = _check_pair(x, y, self.d1, self.d2)
        (px, cx), (py, cy) = self.parts["x"].forward(x), self.parts["y"].forward(y)
        hx, hy = np.tanh(px), np.tanh(py)
        z, cz = self.parts["out"].forward(hx, hy)
        return z, (cx, cy, cz, hx, hy)

    def backward(self, cache, grad_output):
        cx, cy, cz, hx, hy = cache
        (ghx, ghy), gout = self.parts["out"].backward(cz, grad_output)
        (gx,), gpx = self.parts["x"].backward(cx, ghx * (1 - hx**2))
        (gy,), gpy = self.parts["y"].backward(cy, ghy * (1 - hy**2))
        return (gx, gy), {**self._prefixed("x", gpx), **self._prefixed("y", gpy), **self._prefixed("out", gout)}


class MLBFusion(_ProjectedBilinear):
    r"""Multimodal low-rank bilinear fusion (MLB; Kim et al., 2017): a rank-R CP bilinear model.

    ``z = (tanh(x U + b_U) ⊙ tanh(y V + b_V)) P + b``: between the two
    ``tanh``, the bilinear weight ``sum_r U[:, r] ∘ V[:, r] ∘ P[r, :]`` is in
    CP form, ``R (d1 + d2 + n_out)`` weights instead of ``d1 d2 n_out``.

    Parameters
    ----------
    d1, d2, n_out : int
    rank : int
    random_state : None, int or numpy.random.Generator
    """

    def __init__(self, d1, d2, n_out, rank, *, random_state=None):
        rng = check_random_state(random_state)
        rank, n_out = check_int(rank, "rank"), check_int(n_out, "n_out")
        out = Contraction("nr,nr,ro->no", 2, {"P": _init(rng, (rank, n_out), rank)}, np.zeros(n_out))
        self._build(d1, d2, rank, rank, out, rng)


class MUTANFusion(_ProjectedBilinear):
    r"""Multimodal Tucker fusion (MUTAN; Ben-younes et al., 2017): a Tucker bilinear model.

    ``z = T ×_1 tanh(x W_x + b_x) ×_2 tanh(y W_y + b_y) ×_3 W_o + b`` with the
    core ``T`` of shape ``(t_x, t_y, t_o)``: the bilinear weight is in Tucker
    form with ranks ``(t_x, t_y, t_o)``.

    Parameters
    ----------
    d1, d2, n_out : int
    ranks : sequence of three int
        ``(t_x, t_y, t_o)``.
    random_state : None, int or numpy.random.Generator
    """

    def __init__(self, d1, d2, n_out, ranks, *, random_state=None):
        rng = check_random_state(random_state)
        tx, ty, to = _sizes(ranks, "ranks", 3)
        n_out = check_int(n_out, "n_out")
        core = {"T": _init(rng, (tx, ty, to), math.sqrt(tx * ty)), "W_o": _init(rng, (to, n_out), to)}
        self._build(d1, d2, tx, ty, Contraction("np,nq,pqk,ko->no", 2, core, np.zeros(n_out)), rng)


class SketchFusion(_Composite):
    r"""Compact bilinear pooling (Gao et al., 2016; MCB, Fukui et al., 2016): a dense layer on the Tensor Sketch.

    ``z = normalise(ψ(x, y)) W + b``, with ``ψ`` the fixed Tensor Sketch of
    ``x ∘ y`` (:class:`TensorSketch`, ``dim`` entries) and ``normalise`` the
    signed square root followed by division by the L2 norm, as in MCB. Only
    the dense layer is trained: ``dim n_out + n_out`` weights.

    Parameters
    ----------
    d1, d2, n_out : int
    dim : int
        The sketch size.
    random_state : None, int or numpy.random.Generator
        Draws the sketch's hashes and the dense layer's initial weights.
    """

    def __init__(self, d1, d2, n_out, dim, *, random_state=None):
        rng = check_random_state(random_state)
        self.sketch = TensorSketch(d1, d2, dim, rng)
        self._collect({"out": Dense(dim, n_out, random_state=rng)})

    def forward(self, x, y):
        x, y = self.sketch._check(x, y)
        psi, spectra = self.sketch._sketch(x, y)
        root = np.sqrt(np.abs(psi))
        s = np.sign(psi) * root
        norm = np.maximum(np.linalg.norm(s, axis=1, keepdims=True), 1e-12)
        u = s / norm
        z, cz = self.parts["out"].forward(u)
        return z, (spectra, root, norm, u, cz)

    def backward(self, cache, grad_output):
        spectra, root, norm, u, cz = cache
        (gu,), gout = self.parts["out"].backward(cz, grad_output)
        gs = (gu - u * np.sum(gu * u, axis=1, keepdims=True)) / norm   # through the L2 normalisation
        # d/dpsi sign(psi) sqrt|psi| = 1 / (2 sqrt|psi|); taken as 0 where psi is exactly 0, which is an empty
        # bucket (no pair of indices hashes to it), whose value no input can move
        gpsi = np.divide(0.5 * gs, root, out=np.zeros_like(gs), where=root > 0)
        gx, gy = self.sketch._backward(spectra, gpsi)
        return (gx, gy), self._prefixed("out", gout)


# --------------------------------------------------------------------------
# activations, composition, the loss and the trainer
# --------------------------------------------------------------------------


class ReLU(Layer):
    """``max(x, 0)``, elementwise."""

    def __init__(self):
        self.params = {}

    def forward(self, x):
        return np.maximum(x, 0.0), x > 0

    def backward(self, cache, grad_output):
        return (grad_output * cache,), {}

    def __repr__(self):
        return "ReLU()"


class Flatten(Layer):
    """``(N, I_1, ..., I_K) -> (N, I_1 ... I_K)`` (C order), or any other batch shape ``(N, ...) -> (N, *shape)``."""

    def __init__(self, shape=(-1,)):
        self.shape = tuple(shape)
        self.params = {}

    def forward(self, x):
        return x.reshape(x.shape[0], *self.shape), x.shape

    def backward(self, cache, grad_output):
        return (grad_output.reshape(cache),), {}

    def __repr__(self):
        return f"Flatten({self.shape})" if self.shape != (-1,) else "Flatten()"


class Concat(Layer):
    """Two inputs side by side, ``(N, d1), (N, d2) -> (N, d1 + d2)``: the baseline that fuses nothing.

    Whatever interaction between the two inputs a model needs, the layers
    after it must learn.
    """

    def __init__(self, d1, d2):
        self.d1, self.d2 = check_int(d1, "d1"), check_int(d2, "d2")
        self.params = {}

    def forward(self, x, y):
        x, y = _check_pair(x, y, self.d1, self.d2)
        return np.concatenate([x, y], axis=1), None

    def backward(self, cache, grad_output):
        return (grad_output[:, : self.d1], grad_output[:, self.d1:]), {}

    def __repr__(self):
        return f"Concat({self.d1}, {self.d2})"


class Sequential(_Composite):
    """Layers applied in turn; the first may take several inputs (a fusion of two modalities).

    Parameters are named ``"<position>.<name>"``: ``"0.U0"``, ``"2.W"``, ...

    Examples
    --------
    >>> import numpy as np
    >>> from tensorbook.nn import Sequential, TensorContraction, ReLU, Flatten, Dense
    >>> model = Sequential(TensorContraction((8, 8), (4, 4), random_state=0), ReLU(), Flatten(),
    ...                    Dense(16, 10, random_state=0))
    >>> model(np.zeros((3, 8, 8))).shape, model.n_params
    ((3, 10), 234)
    """

    def __init__(self, *layers):
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layer {i} must be a tensorbook.nn layer, got {type(layer).__name__}")
        if not layers:
            raise ValueError("Sequential needs at least one layer")
        self._collect({str(i): layer for i, layer in enumerate(layers)})

    def forward(self, *inputs):
        caches, out = [], inputs
        for layer in self.parts.values():
            y, cache = layer.forward(*out)
            caches.append(cache)
            out = (y,)
        return out[0], caches

    def backward(self, cache, grad_output):
        grads, g = {}, (grad_output,)
        for (name, layer), c in reversed(list(zip(self.parts.items(), cache))):
            g, pg = layer.backward(c, g[0])
            grads.update(self._prefixed(name, pg))
        return g, grads

    def __repr__(self):
        inner = ",\n  ".join(repr(layer) for layer in self.parts.values())
        return f"Sequential(\n  {inner}\n)  # {self.n_params:,} parameters"


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy of integer ``labels`` under ``softmax(logits)``, and its gradient with respect to the logits.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorbook.nn import softmax_cross_entropy
    >>> loss, grad = softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 3]))
    >>> bool(abs(loss - np.log(4)) < 1e-12), grad.shape
    (True, (2, 4))
    """
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = logits.shape[0]
    loss = -float(log_p[np.arange(n), labels].mean())
    grad = np.exp(log_p)
    grad[np.arange(n), labels] -= 1.0
    return loss, grad / n


def _as_inputs(inputs):
    """One input array or a tuple of them (a model with several inputs): a tuple of float arrays, same length."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    arrays = tuple(as_float_array(x, f"inputs[{k}]" if len(inputs) > 1 else "inputs", min_ndim=1)
                   for k, x in enumerate(inputs))
    check_finite({"inputs": list(arrays)} if len(arrays) > 1 else {"inputs": arrays[0]})
    lengths = {x.shape[0] for x in arrays}
    if len(lengths) != 1:
        raise ValueError(f"every input must have one row per example, got lengths {[x.shape[0] for x in arrays]}")
    return arrays


def predict(model, inputs, batch_size=1024):
    """The class with the largest logit, for each example (``inputs``: an array, or a tuple for several inputs)."""
    inputs = _as_inputs(inputs)
    n = inputs[0].shape[0]
    return np.concatenate([model(*(x[i: i + batch_size] for x in inputs)).argmax(axis=1)
                           for i in range(0, n, batch_size)]) if n else np.zeros(0, int)


def train(model, inputs, labels, *, n_epochs=100, batch_size=64, learning_rate=1e-2, weight_decay=0.0,
          validation_fraction=0.2, patience=10, clip_norm=None, random_state=None, verbose=False):
    """Train a classifier by mini-batch Adam on softmax cross-entropy, with early stopping on a validation split.

    The examples are split at random (``random_state``) into training and
    validation parts; after each epoch the validation loss is measured and
    the parameters of the best epoch are kept (restored in place when
    training stops, after ``patience`` epochs without improvement or
    ``n_epochs``). The optimiser is the forecaster's (Adam with optional
    global-norm clipping).

    Parameters
    ----------
    model : Layer
        Its output is ``(N, n_classes)`` logits.
    inputs : array_like or tuple of array_like
        One array (first axis: the examples), or a tuple for a model with
        several inputs (a fusion layer's ``x`` and ``y``).
    labels : array_like of int, shape (N,)
        Classes ``0 .. n_classes - 1``.
    n_epochs, batch_size, patience : int
    learning_rate : float
    weight_decay : float
        L2 penalty ``weight_decay / 2 * ||θ||^2`` added to the loss.
    validation_fraction : float
        In (0, 1).
    clip_norm : float or None
    random_state : None, int or numpy.random.Generator
        The split and the order of the mini-batches.
    verbose : bool
        A tqdm bar over the epochs.

    Returns
    -------
    dict
        ``train_loss``, ``val_loss``, ``val_accuracy`` (one entry per
        epoch), ``best_epoch``.
    """
    from ._optim import Adam
    from ._progress import progress_bar
    from ._validation import check_real

    inputs = _as_inputs(inputs)
    labels = np.asarray(labels)
    n = inputs[0].shape[0]
    if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be {n} integers (one per example), got shape {labels.shape} and dtype "
                         f"{labels.dtype}")
    n_epochs, batch_size, patience = (check_int(n_epochs, "n_epochs"), check_int(batch_size, "batch_size"),
                                      check_int(patience, "patience"))
    learning_rate = check_real(learning_rate, "learning_rate", low=0, low_open=True)
    weight_decay = check_real(weight_decay, "weight_decay", low=0)
    validation_fraction = check_real(validation_fraction, "validation_fraction", low=0, high=1, low_open=True,
                                     high_open=True)
    rng = check_random_state(random_state)
    n_val = int(round(n * validation_fraction))
    if n_val < 1 or n - n_val < 1:
        raise ValueError(f"validation_fraction={validation_fraction} leaves {n - n_val} training and {n_val} "
                         f"validation examples of {n}; both must be >= 1")
    n_classes = model(*(x[:1] for x in inputs)).shape[1]
    if labels.min() < 0 or labels.max() >= n_classes:
        raise ValueError(f"labels must lie in 0..{n_classes - 1} (the model has {n_classes} outputs), got "
                         f"{labels.min()}..{labels.max()}")
    order = rng.permutation(n)
    val, fit = order[:n_val], order[n_val:]
    names = list(model.params)
    arrays = [model.params[k] for k in names]
    sizes = np.cumsum([0] + [a.size for a in arrays])
    theta = np.concatenate([a.ravel() for a in arrays]) if arrays else np.zeros(0)
    adam = Adam(theta.size, theta.dtype, learning_rate, clip_norm)

    def write(vector):
        for a, lo, hi in zip(arrays, sizes[:-1], sizes[1:]):
            a[...] = vector[lo:hi].reshape(a.shape)

    def evaluate(rows):
        logits = model(*(x[rows] for x in inputs))
        return softmax_cross_entropy(logits, labels[rows])[0], float(np.mean(logits.argmax(axis=1) == labels[rows]))

    history = {"train_loss": [], "val_loss": [], "val_accuracy": []}
    best = (np.inf, 0, theta.copy())
    with progress_bar(n_epochs, type(model).__name__, "epoch", verbose) as bar:
        for epoch in range(n_epochs):
            shuffled = rng.permutation(fit)
            total = 0.0
            for start in range(0, shuffled.size, batch_size):
                rows = shuffled[start: start + batch_size]
                logits, cache = model.forward(*(x[rows] for x in inputs))
                loss, grad = softmax_cross_entropy(logits, labels[rows])
                _, grads = model.backward(cache, grad)
                g = np.concatenate([grads[k].ravel() for k in names])
                if weight_decay:
                    g = g + weight_decay * theta
                adam.step(theta, g)
                write(theta)
                total += loss * rows.size
            val_loss, val_accuracy = evaluate(val)
            history["train_loss"].append(total / fit.size)
            history["val_loss"].append(val_loss)
            history["val_accuracy"].append(val_accuracy)
            if val_loss < best[0]:
                best = (val_loss, epoch, theta.copy())
            bar.set_postfix(train=f"{history['train_loss'][-1]:.4f}", val=f"{val_loss:.4f}",
                            accuracy=f"{val_accuracy:.3f}")
            bar.update()
            if epoch - best[1] >= patience:
                break
    write(best[2])
    history["best_epoch"] = best[1]
    return history
