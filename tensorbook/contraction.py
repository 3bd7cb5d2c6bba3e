"""Tensor contractions with einsum semantics and an optimised pairwise order.

A contraction of several tensors is evaluated as a sequence of pairwise
contractions, each a (batched) matrix product. The order matters enormously:
``A @ B @ v`` costs ``n^3`` flops one way and ``n^2`` the other, and for
networks of tensors the gap grows with every operand. :func:`contraction_cost`
finds the cheapest order and :func:`contract` runs it. Up to
:data:`MAX_OPTIMAL` operands every order is searched (dynamic programming
over subsets of operands); beyond, the search is restricted to orders that
contract, inside each connected part of the network, only tensors sharing an
index (dynamic programming over connected subsets, as opt_einsum's ``dp``),
within a work budget (:data:`DP_BUDGET`), and falls back to the
best of seeded random greedy passes when that budget runs out. Every search
is deterministic, and every order found is compared with greedy orders and
left to right, so it is never more expensive than those.

Cost model: contracting two tensors whose indices together are ``U`` costs
``prod_{i in U} dim(i)`` multiplications, and as many additions when some
index is summed, so ``2 m n k`` flops for an ``(m, k) @ (k, n)`` product,
the usual GEMM count (and opt_einsum's ``opt_cost``). Memory is counted as
the number of entries of the largest tensor any step creates. Single-operand
steps (a diagonal, or a sum over an index no other operand has) are done
first and count one addition per entry summed.
"""

import functools
import itertools
import math
import numbers
import random
import string
from dataclasses import dataclass, field

import numpy as np

from ._validation import as_array, check_finite_result

__all__ = ["contract", "contraction_cost", "ContractionCost", "ContractionPlan", "parse_subscripts"]

#: Largest number of operands for which every pairwise order is searched (dynamic programming over subsets).
MAX_OPTIMAL = 12

#: Beyond MAX_OPTIMAL: how much work the search over connected subsets may do before it gives up for the
#: best greedy order, counted as candidate partners looked at (a pair actually costed counts 16). A budget of
#: work, not of seconds, so that the order found does not depend on the machine or its load. Spent in full
#: (by a network where one index joins most operands, such as 40 vectors "i,i,...,i"), it is about 1 s of
#: planning on the 2-core reference machine, fallback included; order="greedy" plans those in milliseconds.
#: On the expressions of benchmarks/contract_bench.py beyond 12 operands, at most 0.7 s, and no order
#: costlier than opt_einsum's "auto" or "random-greedy" (with 500,000, 0.5 s, but one order 1.2x dearer
#: than random-greedy's; with 6 million, 1.2 s and 2 s, for the same costs).
DP_BUDGET = 1_500_000

#: Seeded random greedy passes tried when that search gives up (pass ``r`` draws from ``random.Random(r)``).
GREEDY_TRIALS = 32

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
    method : {"optimal", "dp", "greedy"}
        The search that found ``optimal``: ``"optimal"``, every order (up to
        :data:`MAX_OPTIMAL` operands); ``"dp"``, every order that contracts
        only tensors sharing an index inside each connected part of the
        network (beyond); ``"greedy"``, the best of the greedy passes (when
        that search would need more work than :data:`DP_BUDGET` allows).
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


# The order searches work on bit sets: operand k is bit k of a subset ("mask") of operands, and index c is
# bit c of a set of indices. An order is a list of (mask, mask) pairs, each contracting the results of two
# disjoint subsets; _masks_to_path turns it into positions in the shrinking list of tensors.


class _Network:
    """The operands of a contraction as bit sets of indices, and the size of any set of indices.

    ``bits[k]`` has bit ``c`` set when operand ``k`` has the ``c``-th index (letters in sorted order),
    ``out`` the same for the output, and ``size(b)`` is the number of entries of a tensor whose indices
    are ``b``: a product of dimensions, read from one table of products per 8 indices. The terms are
    those of :func:`_preprocess`: every index of an operand is in the output or in another operand.
    """

    def __init__(self, terms, output, dims):
        letters = sorted(set("".join(terms)) | set(output))
        bit = {c: 1 << k for k, c in enumerate(letters)}
        self.n = len(terms)
        self.bits = [sum(bit[c] for c in set(t)) for t in terms]
        self.out = sum(bit[c] for c in output)
        sizes = [dims[c] for c in letters]
        tables = []
        for start in range(0, len(sizes), 8):
            chunk = sizes[start:start + 8] + [1] * 8
            table = [1] * 256
            for m in range(1, 256):
                low = m & -m
                table[m] = table[m ^ low] * chunk[low.bit_length() - 1]
            tables.append(table)
        width = 2 if len(tables) <= 2 else 4 if len(tables) <= 4 else 7  # tables of 1s pad to a fixed width
        tables += [[1] * 256] * (width - len(tables))
        if len(tables) == 2:
            t0, t1 = tables
            self.size = lambda b: t0[b & 255] * t1[b >> 8]
        elif len(tables) == 4:
            t0, t1, t2, t3 = tables
            self.size = lambda b: t0[b & 255] * t1[b >> 8 & 255] * t2[b >> 16 & 255] * t3[b >> 24]
        else:
            t0, t1, t2, t3, t4, t5, t6 = tables
            self.size = lambda b: (t0[b & 255] * t1[b >> 8 & 255] * t2[b >> 16 & 255] * t3[b >> 24 & 255]
                                   * t4[b >> 32 & 255] * t5[b >> 40 & 255] * t6[b >> 48])

    def step(self, a, b, keep):
        """Flops of contracting tensors with indices ``a`` and ``b`` into ``keep``: the module's cost model."""
        union = a | b
        return self.size(union) * (2 if union & ~keep else 1)


def _unfold(split, roots):
    """The order (children first) of the contraction tree ``split[mask] = (mask1, mask2)`` below each root."""
    order = []
    stack = [(root, False) for root in reversed(roots)]
    while stack:
        mask, expanded = stack.pop()
        pair = split.get(mask)
        if pair is None:
            continue
        if expanded:
            order.append(pair)
        else:
            stack += [(mask, True), (pair[1], False), (pair[0], False)]
    return order


def _optimal_order(net, cap=math.inf):
    """The cheapest order of all: dynamic programming over every subset of operands (``3^n / 2`` splits).

    Each subset keeps the cheapest (flops, then largest intermediate) way of
    contracting it into one tensor, over every split into two non-empty
    subsets, outer products included. A subset whose flops, plus the size of
    its result (what the step that takes the result will cost at least),
    exceed ``cap`` (the cost of an order already known) is dropped: it cannot
    be part of an order that costs at most ``cap``, so the result stays exact.
    Returns ``(flops, largest, order)``, or ``None`` if nothing costs at most ``cap``.
    """
    n, bits, size = net.n, net.bits, net.size
    full = (1 << n) - 1
    inside = [0] * (full + 1)
    for m in range(1, full + 1):
        low = m & -m
        inside[m] = inside[m ^ low] | bits[low.bit_length() - 1]
    keep = [inside[m] & (inside[full ^ m] | net.out) for m in range(full + 1)]
    flops = [math.inf] * (full + 1)
    largest = [0] * (full + 1)
    split = {}
    for k in range(n):
        flops[1 << k] = 0
    for mask in range(3, full + 1):
        high = 1 << (mask.bit_length() - 1)
        if high == mask:
            continue
        kept = keep[mask]
        kept_size = size(kept)
        # its last step costs at least kept_size, and so does the later step that takes its result
        limit = cap - kept_size if mask != full else cap
        if kept_size > limit:
            continue
        summed = ~kept
        best_f, best_l, best_sub = limit, math.inf, 0
        rest = mask ^ high
        sub = rest  # each split once, as (sub, other): sub, the part without the last operand, counts down
        while sub:
            other = mask ^ sub
            f = flops[other] + flops[sub]
            if f <= best_f:
                union = keep[other] | keep[sub]
                f += size(union) * (2 if union & summed else 1)
                if f <= best_f:
                    big = max(largest[other], largest[sub], kept_size)
                    if f < best_f or big < best_l:
                        best_f, best_l, best_sub = f, big, sub
            sub = (sub - 1) & rest
        if best_sub:  # (of the cheapest splits, the first in this order: the earlier, slower search chose it too)
            flops[mask], largest[mask], split[mask] = best_f, best_l, (best_sub, mask ^ best_sub)
    if full not in split:
        return None
    return flops[full], largest[full], _unfold(split, [full])


def _components(net):
    """The operands in groups that share no index with one another (the connected parts of the network)."""
    groups = []  # (operands, their indices)
    for k, b in enumerate(net.bits):
        members, joined, apart = [k], b, []
        for group in groups:
            if group[1] & b:
                members, joined = group[0] + members, joined | group[1]
            else:
                apart.append(group)
        groups = apart + [(members, joined)]
    return [sorted(g[0]) for g in groups]


_CAP_STEPS, _CAP_GROWTH = 5, 4
_JOIN_WORK = 16  # a pair evaluated costs about as much time as 16 partners looked at


def _connected_order(net, cap=math.inf, budget=math.inf):
    """The cheapest order that contracts, inside each connected part, only tensors sharing an index.

    Dynamic programming over connected subsets of operands, built by size from
    pairs of disjoint connected subsets that share an index (partners are
    looked up through the operands next to a subset), the idea of opt_einsum's
    ``dp`` optimizer. Subsets costing more than a cap are dropped, as in
    :func:`_optimal_order`; the cap starts at ``cap / 4**5`` and grows 4x at
    a time up to ``cap`` until an order is found, which is then the cheapest
    of its kind: a loose ``cap`` (from a poor greedy order) costs little,
    as passes with a low cap are quick. The parts, each contracted into one
    tensor, are then multiplied together, the two smallest first. The search
    misses only orders that take an outer product of two tensors sharing no
    index before the end, rarely the cheapest. Returns ``(flops, largest,
    order)``, or ``None`` if its work (see :data:`DP_BUDGET`) exceeded
    ``budget`` or no order costs at most ``cap``.
    """
    n, bits = net.n, net.bits
    near = [sum(1 << j for j in range(n) if j != k and bits[j] & bits[k]) for k in range(n)]
    keeps, split, work = {}, {}, [0]
    total_f, total_l, parts = 0, 0, []
    for comp in _components(net):
        for attempt in range(_CAP_STEPS, -1, -1):
            limit = cap / _CAP_GROWTH**attempt if attempt else cap  # (the last one exact)
            top = _connected_part(net, comp, limit, near, keeps, split, work, budget)
            if top is None:
                return None  # over budget
            if top:
                break
        else:
            return None  # nothing within the cap
        ((s, (kept, f, big, _)),) = top.items()
        total_f, total_l = total_f + f, max(total_l, big)
        parts.append((net.size(kept), s, kept))
    order = _unfold(split, [s for _, s, _ in parts])
    parts.sort()
    while len(parts) > 1:  # outer products of the parts, smallest first
        (_, s1, k1), (_, s2, k2) = parts[0], parts[1]
        union = k1 | k2
        total_f, total_l = total_f + net.step(k1, k2, union), max(total_l, net.size(union))
        order.append((s1, s2))
        parts = sorted(parts[2:] + [(net.size(union), s1 | s2, union)])
    return total_f, total_l, order


def _connected_part(net, comp, cap, near, keeps, split, work, budget):
    """One pass of :func:`_connected_order` over the operands ``comp`` with costs up to ``cap``.

    Returns the best way to contract all of ``comp`` as ``{mask: (indices,
    flops, largest, neighbours)}`` (empty if none costs at most ``cap``), or
    ``None`` once ``work[0]``, the work done (see :data:`DP_BUDGET`), exceeds
    ``budget``. ``split`` collects each subset's best split.
    """
    bits, size, full, last = net.bits, net.size, (1 << net.n) - 1, len(comp)
    levels = [None, {1 << k: (bits[k], 0, 0, near[k]) for k in comp}]
    ranked = [None]  # ranked[m]: (flops, mask, indices) of every subset of m operands, cheapest first
    holders = [None]  # holders[m][operand bit]: the same, for the subsets holding that operand
    level = None

    def join(s1, k1, l1, near1, s2, k2, f):
        work[0] += _JOIN_WORK
        _, _, l2, near2 = found[s2]
        s, union = s1 | s2, k1 | k2
        known = keeps.get(s)
        if known is None:
            outside, y = net.out, full ^ s
            while y:
                low = y & -y
                outside |= bits[low.bit_length() - 1]
                y ^= low
            kept = union & outside
            known = keeps[s] = (kept, size(kept))
        kept, kept_size = known
        bound = kept_size if m < last else 0  # the step that takes this result will cost at least its size
        if f + bound > cap:
            return
        f += size(union) * (2 if union & ~kept else 1)
        if f + bound > cap:
            return
        big = max(l1, l2, kept_size)
        old = level.get(s)
        if old is None or f < old[1] or (f == old[1] and big < old[2]):
            level[s] = (kept, f, big, near1 | near2)
            split[s] = (s1, s2)

    for m in range(2, last + 1):
        work[0] += (m - 1) * len(levels[m - 1])  # indexing the last level
        if work[0] > budget:
            return None
        everyone = sorted((entry[1], s, entry[0]) for s, entry in levels[m - 1].items())
        by_operand = {}
        for item in everyone:
            x = item[1]
            while x:
                low = x & -x
                by_operand.setdefault(low, []).append(item)
                x ^= low
        ranked.append(everyone)
        holders.append(by_operand)
        level = {}
        double = m < last  # a lower bound on the flops still to come: the size of the result
        for a in range(1, m // 2 + 1):
            b = m - a
            partners, found, every_b = holders[b], levels[b], ranked[b]
            for s1, (k1, f1, l1, near1) in levels[a].items():
                candidates = near1 & ~s1
                groups, total, x = [], 0, candidates
                while x:
                    low = x & -x
                    x ^= low
                    group = partners.get(low)
                    if group:
                        groups.append((low, group))
                        total += len(group)
                if total > len(every_b):  # fewer to look at in the whole level than through the neighbours
                    work[0] += len(every_b)
                    for f2, s2, k2 in every_b:
                        f = f1 + f2
                        if f > cap:
                            break  # the rest cost more
                        if s1 & s2 or (a == b and s1 > s2) or not s2 & candidates:
                            continue
                        # the step costs at least the size of k1 | k2, its result at least that of k1 ^ k2
                        if f + size(k1 | k2) + (size(k1 ^ k2) if double else 0) <= cap:
                            join(s1, k1, l1, near1, s2, k2, f)
                else:
                    work[0] += total
                    for low, group in groups:
                        for f2, s2, k2 in group:
                            f = f1 + f2
                            if f > cap:
                                break
                            # s2 is met once per neighbour of s1 it holds: take it at the lowest one
                            if s1 & s2 or s2 & candidates & (low - 1) or (a == b and s1 > s2):
                                continue
                            if f + size(k1 | k2) + (size(k1 ^ k2) if double else 0) <= cap:
                                join(s1, k1, l1, near1, s2, k2, f)
                if work[0] > budget:
                    return None
        levels.append(level)
    return levels[-1]


def _greedy_order(net, rule="flops", rng=None, branches=8):
    """One greedy pass: repeatedly contract the best pair of tensors that share an index.

    ``rule="flops"`` ranks a pair by the flops of its step (then the size of
    its result); ``rule="size"`` by the size of the result minus the sizes of
    the two tensors (then flops), the rule of opt_einsum's ``greedy``. With no
    pair sharing an index, the two smallest tensors are multiplied. With a
    ``random.Random`` ``rng``, the pair is drawn among the ``branches`` best
    with weights ``exp(-(rank - best) / |best|)``, as opt_einsum's
    ``random-greedy`` does. Returns ``(flops, largest, order)``.
    """
    size, out = net.size, net.out
    current = {1 << k: b for k, b in enumerate(net.bits)}
    count = {}
    for b in net.bits:
        while b:
            low = b & -b
            count[low] = count.get(low, 0) + 1
            b ^= low
    total_f, total_l, order = 0, 0, []
    while len(current) > 1:
        once = twice = 0
        holders = {}
        for index, c in count.items():
            if c == 1:
                once |= index
            elif c == 2:
                twice |= index
        for s, b in current.items():
            while b:
                low = b & -b
                holders.setdefault(low, []).append(s)
                b ^= low
        pairs = set()
        for group in holders.values():
            if len(group) > 1:
                pairs.update(itertools.combinations(sorted(group), 2))
        ranked = []
        for s1, s2 in pairs:
            a, b = current[s1], current[s2]
            gone = (((a ^ b) & once) | (a & b & twice)) & ~out  # indices no other tensor (nor the output) has
            kept = (a | b) & ~gone
            f = net.step(a, b, kept)
            key = (f, size(kept)) if rule == "flops" else (size(kept) - size(a) - size(b), f)
            ranked.append((key, s1, s2, kept, f))
        if not ranked:
            (s1, a), (s2, b) = sorted(current.items(), key=lambda item: (size(item[1]), item[0]))[:2]
            ranked = [((0, 0), min(s1, s2), max(s1, s2), a | b, net.step(a, b, a | b))]
        ranked.sort()
        choice = ranked[0]
        if rng is not None and len(ranked) > 1:
            top = ranked[:branches]
            best = top[0][0][0]
            scale = max(1, abs(best))
            choice = rng.choices(top, weights=[math.exp(-(r[0][0] - best) / scale) for r in top])[0]
        _, s1, s2, kept, f = choice
        for b, d in ((current.pop(s1), -1), (current.pop(s2), -1), (kept, 1)):
            while b:
                low = b & -b
                count[low] += d
                b ^= low
        current[s1 | s2] = kept
        total_f, total_l = total_f + f, max(total_l, size(kept))
        order.append((s1, s2))
    return total_f, total_l, order


def _order_cost(net, order):
    """``(flops, largest, order)`` of an order given as mask pairs, replayed on the network."""
    current = {1 << k: b for k, b in enumerate(net.bits)}
    total_f = total_l = 0
    for s1, s2 in order:
        a, b = current.pop(s1), current.pop(s2)
        outside = net.out
        for other in current.values():
            outside |= other
        kept = (a | b) & outside
        total_f, total_l = total_f + net.step(a, b, kept), max(total_l, net.size(kept))
        current[s1 | s2] = kept
    return total_f, total_l, list(order)


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


def _search(terms, output, dims, order="optimal"):
    """The pairwise order for ``order`` ("optimal" or "greedy") and the name of the search that found it.

    ``"optimal"``: up to :data:`MAX_OPTIMAL` operands every order is searched
    (:func:`_optimal_order`, method ``"optimal"``); beyond, the search over
    connected subsets (:func:`_connected_order`, method ``"dp"``) within
    the work budget :data:`DP_BUDGET`, and if it gives up, the best of
    :data:`GREEDY_TRIALS` seeded random greedy passes (method ``"greedy"``).
    Either way the two plain greedy passes and left to right are candidates
    too, and the cheapest (flops, then largest intermediate) is returned.
    ``"greedy"``: one greedy pass by flops, or left to right if that is cheaper.
    Everything is deterministic.
    """
    net = _Network(terms, output, dims)
    n = net.n
    left = [(1, 2)] + [((1 << k) - 1, 1 << k) for k in range(2, n)]
    candidates = [_greedy_order(net, "flops"), _order_cost(net, left)]
    if order == "greedy":
        return min(candidates, key=lambda c: c[:2])[2], "greedy"
    candidates.append(_greedy_order(net, "size"))
    cap = min(c[0] for c in candidates)
    if n <= MAX_OPTIMAL:
        found, method = _optimal_order(net, cap), "optimal"
    else:
        found, method = _connected_order(net, cap, DP_BUDGET), "dp"
    if found is None:  # (only beyond MAX_OPTIMAL: the greedy orders are within the cap)
        method = "greedy"
        candidates += [_greedy_order(net, ("flops", "size")[seed % 2], random.Random(seed))
                       for seed in range(GREEDY_TRIALS)]
    else:
        candidates.insert(0, found)  # ties go to the exhaustive search
    return min(candidates, key=lambda c: c[:2])[2], method


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
    if len(terms) == 1:
        return (), "optimal"
    if order == "left-to-right":
        return tuple(_left_to_right(len(terms))), order
    masks, method = _search(terms, output, dict(dims_items), order)
    return tuple(_masks_to_path(masks, len(terms))), method


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
        ``.steps``, ``.flops`` and ``.largest_intermediate``, and ``.method``,
        the search that found ``.optimal``; ``print`` it for a table.

    Examples
    --------
    >>> import tensorbook as tb
    >>> cost = tb.contraction_cost("ij,jk,k->i", (1000, 1000), (1000, 1000), (1000,))
    >>> cost.left_to_right.flops, cost.optimal.flops
    (2002000000, 4000000)
    >>> cost.optimal.path
    ((1, 2), (0, 1))

    Beyond ``MAX_OPTIMAL`` operands, here a chain of 16 matrices, 100 x 10 and
    10 x 100 in turn, the search runs over connected subsets (``"dp"``):

    >>> spec = ",".join("abcdefghijklmnopq"[k:k + 2] for k in range(16)) + "->aq"
    >>> shapes = [(100, 10) if k % 2 == 0 else (10, 100) for k in range(16)]
    >>> cost = tb.contraction_cost(spec, *shapes)
    >>> cost.method, cost.optimal.flops, cost.left_to_right.flops
    ('dp', 372000, 3000000)
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
        ``"optimal"`` searches every order up to ``MAX_OPTIMAL`` operands,
        and beyond every order without outer products inside a connected
        part (see :class:`ContractionCost`'s ``method``); ``"greedy"`` takes
        one greedy pass (the cheapest step first), which plans faster;
        ``"left-to-right"`` contracts ``((A B) C) ...``, to compare.

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
