"""Tensor contractions with einsum semantics and an optimised pairwise order.

A contraction of several tensors is evaluated as a sequence of pairwise
contractions, each a (batched) matrix product. The order matters enormously:
``A @ B @ v`` costs ``n^3`` flops one way and ``n^2`` the other, and for
networks of tensors the gap grows with every operand. :func:`contraction_cost`
finds the cheapest order (dynamic programming over subsets of operands,
greedy beyond :data:`MAX_OPTIMAL`), and :func:`contract` runs it.

Cost model: contracting two tensors whose indices together are ``U`` costs
``prod_{i in U} dim(i)`` multiplications, and as many additions when some
index is summed, so ``2 m n k`` flops for an ``(m, k) @ (k, n)`` product,
the usual GEMM count. Memory is counted as the number of entries of the
largest tensor any step creates. Single-operand steps (a diagonal, or a sum
over an index no other operand has) are done first and count one addition
per entry summed.
"""

import functools
import itertools
import math
import numbers
import string
from dataclasses import dataclass, field

import numpy as np

from ._validation import as_array, check_finite_result

__all__ = ["contract", "contraction_cost", "ContractionCost", "ContractionPlan", "parse_subscripts"]

#: Largest number of operands for which the exact (dynamic-programming) order is searched.
MAX_OPTIMAL = 12

_LETTERS = string.ascii_letters


# --------------------------------------------------------------------------
# parsing
# --------------------------------------------------------------------------


def parse_subscripts(subscripts, shapes):
    """Parse an einsum specification against operand shapes.

    Returns ``(inputs, output, dims)``: one string of index letters per
    operand (ellipses expanded into fresh letters, aligned from the right as
    in NumPy broadcasting), the output string (explicit, or NumPy's implicit
    rule: the indices that appear once, in alphabetical order, after any
    ellipsis dimensions), and the size of every index (size-1 dimensions
    broadcast).

    Examples
    --------
    >>> from tensorbook.contraction import parse_subscripts
    >>> parse_subscripts("ij,jk", [(2, 3), (3, 4)])
    (['ij', 'jk'], 'ik', {'i': 2, 'j': 3, 'k': 4})
    """
    if not isinstance(subscripts, str):
        raise TypeError(f"subscripts must be a string such as 'ij,jk->ik', got {type(subscripts).__name__}")
    spec = subscripts.replace(" ", "")
    if spec.count("->") > 1:
        raise ValueError(f"subscripts must contain '->' at most once, got {subscripts!r}")
    lhs, arrow, rhs = spec.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(
            f"subscripts has {len(terms)} input term(s) but {len(shapes)} operand(s) were given: {subscripts!r}"
        )
    for term in terms + ([rhs] if arrow else []):
        bad = set(term.replace("...", "")) - set(_LETTERS)
        if bad or term.replace("...", "").count(".") or term.count("...") > 1:
            raise ValueError(
                f"subscripts must use letters a-z, A-Z and at most one '...' per term, got {term!r} in {subscripts!r}"
            )
    used = set(spec) & set(_LETTERS)
    fresh = [c for c in _LETTERS if c not in used]
    n_ellipsis = 0
    for term, shape in zip(terms, shapes):
        if "..." in term:
            n_ellipsis = max(n_ellipsis, len(shape) - (len(term) - 3))
    ell = "".join(fresh[:n_ellipsis])
    if len(ell) < n_ellipsis:
        raise ValueError("subscripts uses too many indices: at most 52 letters are available")
    inputs = []
    for k, (term, shape) in enumerate(zip(terms, shapes)):
        if "..." in term:
            n = len(shape) - (len(term) - 3)
            if n < 0:
                raise ValueError(
                    f"operand {k} has {len(shape)} dimension(s) but its term {term!r} names {len(term) - 3}"
                )
            term = term.replace("...", ell[n_ellipsis - n:])
        if len(term) != len(shape):
            raise ValueError(
                f"operand {k} has {len(shape)} dimension(s) (shape {tuple(shape)}) but its term "
                f"{terms[k]!r} has {len(term)} index letter(s)"
            )
        inputs.append(term)
    dims = {}
    for k, (term, shape) in enumerate(zip(inputs, shapes)):
        own = {}
        for index, size in zip(term, shape):
            if own.setdefault(index, size) != size:
                raise ValueError(
                    f"operand {k} repeats index {index!r} with sizes {own[index]} and {size} "
                    f"({subscripts!r}); a repeated index (a diagonal) needs equal sizes"
                )
        for index, size in zip(term, shape):
            size = int(size)
            old = dims.get(index)
            if old is None or old == 1:
                dims[index] = size  # a size-1 dimension broadcasts (to 0 too)
            elif size not in (old, 1):
                raise ValueError(
                    f"index {index!r} has size {old} in one operand and {size} in operand {k} "
                    f"({subscripts!r}); sizes must agree (or be 1, which broadcasts)"
                )
    if arrow:
        if "..." in rhs:
            rhs = rhs.replace("...", ell)
        elif ell and any(c in ell for term in inputs for c in term):
            raise ValueError(f"subscripts output must contain '...' when the inputs do, got {subscripts!r}")
        for index in rhs:
            if index not in dims:
                raise ValueError(f"output index {index!r} of {subscripts!r} does not appear in any input")
        if len(set(rhs)) != len(rhs):
            raise ValueError(f"output of {subscripts!r} repeats an index")
        output = rhs
    else:
        counts = {}
        for term in inputs:
            for index in term:
                counts[index] = counts.get(index, 0) + 1
        output = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return inputs, output, dims


# --------------------------------------------------------------------------
# planning
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ContractionStep:
    """One pairwise contraction: ``"ab,bc->ac"`` with its flops and result size."""

    subscripts: str
    flops: int
    size: int


@dataclass(frozen=True)
class ContractionPlan:
    """An order of pairwise contractions and what it costs.

    ``path`` lists, step by step, the positions of the two tensors contracted
    in the current list of tensors (the result is appended at the end), as
    :func:`numpy.einsum_path` does.
    """

    path: tuple
    steps: tuple
    flops: int
    largest_intermediate: int


@dataclass(frozen=True)
class ContractionCost:
    """The cost of a contraction in the optimised order and left to right.

    Attributes
    ----------
    subscripts : str
        The specification with ellipses expanded and the output explicit.
    optimal, left_to_right : ContractionPlan
        ``optimal.flops`` and ``optimal.largest_intermediate`` (entries) for
        the cheapest order found, and the same for ``((A B) C) D ...``.
    """

    subscripts: str
    shapes: tuple
    optimal: ContractionPlan
    left_to_right: ContractionPlan
    method: str = field(default="optimal")

    @property
    def speedup(self):
        """Flops left to right divided by flops in the optimised order."""
        if self.optimal.flops == 0:
            return 1.0
        return self.left_to_right.flops / self.optimal.flops

    def __str__(self):
        rows = [f"contraction {self.subscripts}  shapes {', '.join(str(tuple(s)) for s in self.shapes)}"]
        for name, plan in (("optimised (" + self.method + ")", self.optimal), ("left to right", self.left_to_right)):
            rows.append(
                f"  {name:<24} {plan.flops:>16,d} flops   largest intermediate {plan.largest_intermediate:>14,d} entries"
            )
            for step in plan.steps:
                rows.append(f"      {step.subscripts:<28} {step.flops:>16,d} flops  {step.size:>12,d} entries")
        rows.append(f"  the optimised order needs {self.speedup:,.1f}x fewer flops")
        return "\n".join(rows)


def _needed(terms, i, j, output):
    """Indices still needed after contracting ``terms[i]`` with ``terms[j]``."""
    needed = set(output)
    for k, t in enumerate(terms):
        if k not in (i, j):
            needed.update(t)
    return frozenset(needed)


def _pair_cost(a, b, keep, dims):
    union = a | b
    size_union = math.prod(dims[i] for i in union)
    result = union & keep
    flops = size_union * (2 if union - result else 1)
    return flops, result, math.prod(dims[i] for i in result)


def _reductions(inputs, terms, dims):
    """The single-operand steps that take diagonals and sum indices used nowhere else."""
    steps = []
    for src, dst in zip(inputs, terms):
        if src != dst:
            summed = set(src) - set(dst)
            flops = math.prod(dims[c] for c in set(src)) if summed else 0
            steps.append(ContractionStep(f"{src}->{dst}", flops, math.prod(dims[c] for c in dst)))
    return tuple(steps)


def _plan(terms, output, dims, path, reductions=()):
    """Replay ``path`` over index sets ``terms`` (after ``reductions``): steps, flops, largest intermediate."""
    current = [frozenset(t) for t in terms]
    labels = list(terms)
    steps = list(reductions)
    total = sum(step.flops for step in steps)
    largest = max((step.size for step in steps), default=0)
    for i, j in path:
        flops, result, size = _pair_cost(current[i], current[j], _needed(current, i, j, output), dims)
        la, lb = labels[i], labels[j]
        lr = "".join(c for c in la + lb if c in result)
        lr = "".join(dict.fromkeys(lr))
        steps.append(ContractionStep(f"{la},{lb}->{lr}", flops, size))
        total += flops
        largest = max(largest, size)
        for k in sorted((i, j), reverse=True):
            current.pop(k)
            labels.pop(k)
        current.append(result)
        labels.append(lr)
    return ContractionPlan(tuple(path), tuple(steps), total, largest)


def _left_to_right(n):
    """((A B) C) D ...: each step takes the next operand and the running result (kept last)."""
    return [(0, 1)] + [(0, m - 1) for m in range(n - 1, 1, -1)] if n > 1 else []


def _optimal_path(terms, output, dims):
    """Cheapest pairwise order (flops, then largest intermediate) by DP over subsets."""
    n = len(terms)
    sets = [frozenset(t) for t in terms]
    full = (1 << n) - 1
    out = frozenset(output)

    def indices_of(mask):
        inside, outside = set(), set(out)
        for k in range(n):
            (inside if mask >> k & 1 else outside).update(sets[k])
        return frozenset(inside & outside)

    result_of = {}
    best = {}
    for k in range(n):
        m = 1 << k
        result_of[m] = indices_of(m)
        best[m] = (0, 0, None)
    for mask in sorted(range(1, full + 1), key=lambda m: bin(m).count("1")):
        if mask in best:
            continue
        result_of[mask] = indices_of(mask)
        keep = result_of[mask]
        candidate = None
        sub = (mask - 1) & mask
        while sub:
            other = mask ^ sub
            if sub < other:
                fa, la, _ = best[sub]
                fb, lb, _ = best[other]
                union = result_of[sub] | result_of[other]
                flops = math.prod(dims[i] for i in union) * (2 if union - keep else 1)
                size = math.prod(dims[i] for i in keep)
                cost = (fa + fb + flops, max(la, lb, size))
                if candidate is None or cost < candidate[:2]:
                    candidate = (*cost, (sub, other))
            sub = (sub - 1) & mask
        best[mask] = candidate
    # Unfold the tree into a path over the shrinking list of tensors.
    order = []

    def visit(mask):
        split = best[mask][2]
        if split is None:
            return
        visit(split[0])
        visit(split[1])
        order.append(split)

    visit(full)
    return _masks_to_path(order, n)


def _masks_to_path(order, n):
    current = [1 << k for k in range(n)]
    path = []
    for a, b in order:
        i, j = sorted((current.index(a), current.index(b)))
        path.append((i, j))
        current.pop(j)
        current.pop(i)
        current.append(a | b)
    return path


def _greedy_path(terms, output, dims):
    """Repeatedly contract the pair with the cheapest step (ties: smallest result)."""
    current = [frozenset(t) for t in terms]
    path = []
    while len(current) > 1:
        best = None
        for i, j in itertools.combinations(range(len(current)), 2):
            flops, result, size = _pair_cost(current[i], current[j], _needed(current, i, j, output), dims)
            shares = bool(current[i] & current[j])
            key = (not shares, flops, size)
            if best is None or key < best[0]:
                best = (key, i, j, result)
        _, i, j, result = best
        path.append((i, j))
        current.pop(j)
        current.pop(i)
        current.append(result)
    return path


def _preprocess(inputs, output):
    """Per-operand einsum that removes repeated indices and sums indices used nowhere else."""
    reduced = []
    for k, term in enumerate(inputs):
        elsewhere = set(output)
        for m, other in enumerate(inputs):
            if m != k:
                elsewhere |= set(other)
        kept = "".join(c for c in dict.fromkeys(term) if c in elsewhere)
        reduced.append(kept)
    return reduced


@functools.lru_cache(maxsize=1024)
def _compile(subscripts, shapes, order):
    """Everything about a contraction that depends only on its specification and the operands' shapes
    (memoised, as a layer calls the same contraction at every step): the parsed input and preprocessed
    subscripts, the output's subscripts and shape, and each pairwise step with the indices it must keep."""
    inputs, output, dims = parse_subscripts(subscripts, list(shapes))
    terms = _preprocess(inputs, output)
    path, _ = _choose_path(terms, output, dims, order)
    labels, steps = list(terms), []
    for i, j in path:
        keep = _needed(labels, i, j, output)
        steps.append((i, j, keep))
        a, b = labels[i], labels[j]
        for k in (j, i):
            labels.pop(k)
        labels.append("".join([c for c in a if c in b and c in keep] + [c for c in a if c not in b]
                              + [c for c in b if c not in a]))  # as _pairwise labels its result
    return tuple(inputs), tuple(terms), output, tuple(dims[c] for c in output), tuple(steps)


def _choose_path(terms, output, dims, order):
    """The pairwise path for ``order``, and the search actually used (memoised)."""
    return _choose_path_cached(tuple(terms), output, tuple(sorted(dims.items())), order)


@functools.lru_cache(maxsize=512)
def _choose_path_cached(terms, output, dims_items, order):
    dims = dict(dims_items)
    if len(terms) == 1:
        return (), "optimal"
    if order == "left-to-right":
        return tuple(_left_to_right(len(terms))), order
    if order == "optimal" and len(terms) <= MAX_OPTIMAL:
        return tuple(_optimal_path(terms, output, dims)), "optimal"
    path = _greedy_path(terms, output, dims)
    greedy, left = (_plan(terms, output, dims, p) for p in (path, _left_to_right(len(terms))))
    if (left.flops, left.largest_intermediate) < (greedy.flops, greedy.largest_intermediate):
        path = left.path  # greedy can lose to the plain order
    return tuple(path), "greedy"


def _check_operand_shape(shape, k):
    try:
        shape = tuple(shape)
    except TypeError:
        raise TypeError(f"shapes[{k}] must be a tuple of sizes, got {shape!r}") from None
    if not all(isinstance(d, numbers.Integral) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise ValueError(f"shapes[{k}] must contain non-negative integers only, got {shape}")
    return tuple(int(d) for d in shape)


def contraction_cost(subscripts, *shapes):
    """Flops and largest intermediate of a contraction, optimised order versus left to right.

    Parameters
    ----------
    subscripts : str
        An einsum specification, e.g. ``"ij,jk,kl->il"``.
    *shapes : tuple of int
        The shape of each operand.

    Returns
    -------
    ContractionCost
        ``.optimal`` and ``.left_to_right`` plans, each with ``.path``,
        ``.steps``, ``.flops`` and ``.largest_intermediate``; ``print`` it for a table.

    Examples
    --------
    >>> import tensorbook as tb
    >>> cost = tb.contraction_cost("ij,jk,k->i", (1000, 1000), (1000, 1000), (1000,))
    >>> cost.left_to_right.flops, cost.optimal.flops
    (2002000000, 4000000)
    >>> cost.optimal.path
    ((1, 2), (0, 1))
    """
    shapes = tuple(_check_operand_shape(s, k) for k, s in enumerate(shapes))
    inputs, output, dims = parse_subscripts(subscripts, shapes)
    terms = _preprocess(inputs, output)
    path, method = _choose_path(terms, output, dims, "optimal")
    reductions = _reductions(inputs, terms, dims)
    optimal = _plan(terms, output, dims, path, reductions)
    left = _plan(terms, output, dims, _left_to_right(len(terms)), reductions)
    return ContractionCost(f"{','.join(inputs)}->{output}", shapes, optimal, left, method)


# --------------------------------------------------------------------------
# execution
# --------------------------------------------------------------------------


def _pairwise(a, la, b, lb, keep):
    """Contract ``a`` (indices ``la``) with ``b`` (``lb``) as one batched matmul.

    Indices in both and kept are the batch, in both and not kept are summed
    (a size-1 dimension broadcasts against the other operand's), in one only
    are free. Returns the result and its index string: batch, free of ``a``,
    free of ``b``.
    """
    size_a, size_b = dict(zip(la, a.shape)), dict(zip(lb, b.shape))
    batch = [c for c in la if c in lb and c in keep]
    summed = [c for c in la if c in lb and c not in keep]
    free_a = [c for c in la if c not in lb]
    free_b = [c for c in lb if c not in la]
    shared = {c: size_b[c] if size_a[c] == 1 else size_a[c] for c in batch + summed}  # 1 broadcasts
    n_sum = math.prod(shared[c] for c in summed)
    n_a = math.prod(size_a[c] for c in free_a)
    n_b = math.prod(size_b[c] for c in free_b)
    if not batch and all(size_a[c] == size_b[c] for c in summed):  # a plain matrix product: no copy if avoidable
        out = _as_matrix(a, la, free_a, summed, n_a, n_sum) @ _as_matrix(b, lb, summed, free_b, n_sum, n_b)
        return out.reshape([size_a[c] for c in free_a] + [size_b[c] for c in free_b]), "".join(free_a + free_b)
    shape_a = [shared[c] for c in batch] + [size_a[c] for c in free_a] + [shared[c] for c in summed]
    shape_b = [shared[c] for c in batch] + [shared[c] for c in summed] + [size_b[c] for c in free_b]
    at = np.broadcast_to(a.transpose([la.index(c) for c in batch + free_a + summed]), shape_a)
    bt = np.broadcast_to(b.transpose([lb.index(c) for c in batch + summed + free_b]), shape_b)
    n_batch = math.prod(shared[c] for c in batch)
    out = np.matmul(at.reshape(n_batch, n_a, n_sum), bt.reshape(n_batch, n_sum, n_b))
    out_shape = [shared[c] for c in batch] + [size_a[c] for c in free_a] + [size_b[c] for c in free_b]
    return out.reshape(out_shape), "".join(batch + free_a + free_b)


def _as_matrix(x, labels, rows, cols, n_rows, n_cols):
    """``x`` (indices ``labels``, all of them in ``rows`` or ``cols``) as an ``(n_rows, n_cols)`` matrix.

    When its indices already run rows then columns, or columns then rows, this
    is a reshape (a view of a contiguous array) or the transpose of one, which
    BLAS reads as it is; otherwise the transposed array is copied once.
    """
    if list(labels) == rows + cols:
        return x.reshape(n_rows, n_cols)
    if list(labels) == cols + rows:
        return x.reshape(n_cols, n_rows).T
    return x.transpose([labels.index(c) for c in rows + cols]).reshape(n_rows, n_cols)


def _is_interleaved(args):
    """numpy.einsum's sublist form: an operand, then a list of integer (or Ellipsis) subscripts, ..."""
    return (not isinstance(args[0], str) and len(args) >= 2 and isinstance(args[1], (list, tuple))
            and all(item is Ellipsis or isinstance(item, numbers.Integral) for item in args[1]))


def _from_interleaved(args):
    """``(A, [0, 1], B, [1, 2], [0, 2])`` (numpy.einsum's sublist form) as ``("ab,bc->ac", [A, B])``."""
    args = list(args)
    output = args.pop() if len(args) % 2 == 1 else None
    operands, sublists = args[0::2], args[1::2]

    def spell(sublist, what):
        try:
            items = list(sublist)
        except TypeError:
            raise TypeError(f"{what} must be a list of integer subscripts (numpy.einsum's sublist form), "
                            f"got {type(sublist).__name__}") from None
        out = []
        for item in items:
            if item is Ellipsis:
                out.append("...")
            elif isinstance(item, numbers.Integral) and not isinstance(item, bool) and 0 <= item < 52:
                out.append(string.ascii_letters[int(item)])
            else:
                raise ValueError(f"{what} must hold integers in [0, 52) or Ellipsis, got {item!r}")
        return "".join(out)

    spec = ",".join(spell(sub, f"sublist {k}") for k, sub in enumerate(sublists))
    if output is not None:
        spec += "->" + spell(output, "the output sublist")
    return spec, operands


def contract(*args, order="optimal"):
    """Contract tensors following an einsum specification, in an optimised order.

    Same semantics as :func:`numpy.einsum` (explicit ``->`` output or the
    implicit one, repeated indices for diagonals, ``...`` broadcasting),
    except that a NaN or infinity in an operand raises a ``ValueError``
    naming it instead of spreading through the result. The operands are
    contracted pairwise in the order chosen by :func:`contraction_cost`
    (plans are memoised per specification and shapes), each step a batched
    matrix product.

    Parameters
    ----------
    subscripts : str
        Then the operands: ``contract(subscripts, *operands)``. As in
        :func:`numpy.einsum`, the sublist form ``contract(A, [0, 1], B, [1,
        2], [0, 2])`` is accepted too.
    *operands : array_like
    order : {"optimal", "greedy", "left-to-right"}
        ``"optimal"`` searches every order (up to ``MAX_OPTIMAL`` operands,
        greedy beyond); ``"left-to-right"`` contracts ``((A B) C) ...``, to
        compare.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> import numpy as np
    >>> import tensorbook as tb
    >>> rng = np.random.default_rng(0)
    >>> A, B, v = rng.random((30, 40)), rng.random((40, 50)), rng.random(50)
    >>> np.allclose(tb.contract("ij,jk,k->i", A, B, v), A @ B @ v)
    True
    >>> float(tb.contract("ii", np.eye(3)))  # a trace
    3.0
    """
    if order not in ("optimal", "greedy", "left-to-right"):
        raise ValueError(f"order must be 'optimal', 'greedy' or 'left-to-right', got {order!r}")
    if not args:
        raise ValueError("contract needs the einsum subscripts string and at least one operand, got neither")
    if _is_interleaved(args):
        subscripts, operands = _from_interleaved(args)
    else:
        subscripts, operands = args[0], args[1:]
    if not operands:
        raise ValueError("contract needs at least one operand")
    arrays = [as_array(op, f"operands[{k}]", allow_complex=True) for k, op in enumerate(operands)]
    if not isinstance(subscripts, str):  # not a memo key: let the parser say what is wrong
        parse_subscripts(subscripts, [a.shape for a in arrays])
    inputs, terms, output, out_shape, steps = _compile(subscripts, tuple(a.shape for a in arrays), order)
    # Diagonals and indices used by one operand only: one single-operand einsum each.
    tensors = [
        np.einsum(f"{src}->{dst}", a) if src != dst else a for src, dst, a in zip(inputs, terms, arrays)
    ]
    labels = list(terms)
    for i, j, keep in steps:
        result, label = _pairwise(tensors[i], labels[i], tensors[j], labels[j], keep)
        for k in (j, i):
            tensors.pop(k)
            labels.pop(k)
        tensors.append(result)
        labels.append(label)
    final, label = tensors[0], labels[0]
    final = np.einsum(f"{label}->{output}", final) if label != output else final
    result = final if final.shape == out_shape else np.broadcast_to(final, out_shape)
    # a fresh, writeable, C-ordered array that shares no memory with the operands (as numpy.einsum's)
    if not (result.flags.c_contiguous and result.flags.writeable) or any(
            np.may_share_memory(result, a) for a in arrays):
        result = result.copy()
    check_finite_result(result, {f"operands[{k}]": a for k, a in enumerate(arrays)})
    return result[()] if result.ndim == 0 else result  # a scalar, as numpy.einsum gives
