"""Private Numba kernels behind :mod:`tensorbook.tenalg` (MTTKRP), :mod:`tensorbook.topics` (the LDA E-step
and Gibbs sweeps) and :mod:`tensorbook.forecast` (the LSTM gates, forward and backward).

Each kernel only loops and writes into ``out``; the public wrappers validate,
cast and allocate. All jitted code lives in this one module so that Numba's
on-disk cache (``cache=True``, honouring ``NUMBA_CACHE_DIR``) never serves a
kernel compiled against a stale helper from another file. Nothing is compiled
at import time: the first call of each signature compiles (about a second),
later calls and later processes load it from the cache.
"""

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

# Reassociation (to vectorise the reductions) and fused multiply-adds, but not
# the "no NaN / no infinity" assumptions of fastmath=True: a NaN or infinity
# in the tensor must reach the result, where the wrappers look for it.
_FASTMATH = {"reassoc", "contract", "arcp", "nsz"}


@intrinsic
def _prefetch(typingctx, array, row, col):
    """Ask the CPU to start loading the cache line of ``array[row, col]`` (2-D, C order); no other effect.

    LLVM's ``llvm.prefetch`` (read, keep in all cache levels). The MTTKRP kernels
    compute on a few rows of the tensor at a time; without it the memory reads and
    the arithmetic take turns instead of overlapping (on the 2-core reference
    machine, float64 mode 0 of a 200^3 tensor: 9.5 ms without, 7.5 ms with, on
    one thread). The address must lie inside ``array``.
    """
    sig = types.void(array, row, col)

    def codegen(context, builder, signature, args):
        arraytype = signature.args[0]
        arr = context.make_array(arraytype)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, arraytype, arr, [args[1], args[2]], wraparound=False)
        byte_ptr = builder.bitcast(ptr, ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_ptr.type, i32, i32, i32]), "llvm.prefetch.p0i8")
        builder.call(fn, [byte_ptr, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen


@njit(cache=True, fastmath=_FASTMATH)
def _rows_times_factor(xm, ct, z, lo, hi, ahead):
    """``z[m - lo, r] = sum_k xm[m, k] ct[r, k]`` for rows ``lo <= m < hi`` of ``xm``.

    Two rows by five rank columns at a time: ten independent accumulators along
    ``k`` (the contiguous axis), so the vectorised loop keeps both FMA units busy
    and each load of a row of ``xm`` serves five FMAs. ``ct`` has a multiple of
    five rows (zero padded) and ``z`` one spare row for an odd row count.
    While it works on rows ``m, m + 1`` it prefetches rows ``m + ahead, m +
    ahead + 1`` (none when ``ahead`` is 0), a share in each block of ranks.
    """
    n_pad, n_k = ct.shape
    zero = np.zeros(1, z.dtype)[0]
    line = max(1, 64 // xm.itemsize)
    n_blocks = n_pad // 5
    m = lo
    while m < hi:
        r0 = xm[m]
        r1 = xm[min(m + 1, hi - 1)]
        q = m - lo
        for r in range(0, n_pad, 5):
            if ahead > 0 and m + ahead + 1 < xm.shape[0]:
                part = r // 5
                for k in range(part * n_k // n_blocks // line * line, (part + 1) * n_k // n_blocks, line):
                    _prefetch(xm, m + ahead, k)
                    _prefetch(xm, m + ahead + 1, k)
            c0 = ct[r]
            c1 = ct[r + 1]
            c2 = ct[r + 2]
            c3 = ct[r + 3]
            c4 = ct[r + 4]
            s00 = zero
            s01 = zero
            s02 = zero
            s03 = zero
            s04 = zero
            s10 = zero
            s11 = zero
            s12 = zero
            s13 = zero
            s14 = zero
            for k in range(n_k):
                u = r0[k]
                v = r1[k]
                c = c0[k]
                s00 += u * c
                s10 += v * c
                c = c1[k]
                s01 += u * c
                s11 += v * c
                c = c2[k]
                s02 += u * c
                s12 += v * c
                c = c3[k]
                s03 += u * c
                s13 += v * c
                c = c4[k]
                s04 += u * c
                s14 += v * c
            z[q, r] = s00
            z[q, r + 1] = s01
            z[q, r + 2] = s02
            z[q, r + 3] = s03
            z[q, r + 4] = s04
            z[q + 1, r] = s10
            z[q + 1, r + 1] = s11
            z[q + 1, r + 2] = s12
            z[q + 1, r + 3] = s13
            z[q + 1, r + 4] = s14
        m += 2


_TILE = 64  # rows of the tensor per call of _rows_times_factor: its results stay in L1


@njit(cache=True, parallel=True, fastmath=_FASTMATH)
def mttkrp_rows(xm, n_i, n_b, left, right, ct, parts, n_a_chunks, n_i_chunks, n_b_chunks, ahead):
    """MTTKRP for a mode that is not the last one, in one pass over the tensor.

    ``xm`` is the tensor as a matrix of rows ``(a, i, b)`` (C order) by the last
    mode ``k``: ``a`` runs over the modes before the target, ``i`` over the
    target mode (``n_i``), ``b`` over the modes between it and the last
    (``n_b``). ``left`` (A, R) and ``right`` (B, R) are the Khatri-Rao products
    of those groups of factors, ``ct`` the last factor transposed and padded
    with zero rows to a multiple of five. Each row is first contracted with the
    last factor (``z = row @ C``, two rows by five columns in registers), then
    ``z * left[a] * right[b]`` is added to row ``i`` of the result: the
    Khatri-Rao product of all the other factors is never formed.

    The work is split into ``n_a_chunks * n_i_chunks * n_b_chunks`` tasks;
    tasks that share an ``(a, b)`` chunk write different rows of the same
    ``parts[a_chunk * n_b_chunks + b_chunk]`` (I, R), which the caller sums in
    order. The ``a`` and ``b`` chunk counts depend on the shape only, so the
    result does not depend on the number of threads. Rows ``ahead`` of the
    current ones are prefetched (0: none).
    """
    n_rows, n_k = xm.shape
    n_a = n_rows // (n_i * n_b)
    rank = parts.shape[2]
    n_tasks = n_a_chunks * n_i_chunks * n_b_chunks
    for task in prange(n_tasks):
        ac = task // (n_i_chunks * n_b_chunks)
        ic = (task // n_b_chunks) % n_i_chunks
        bc = task % n_b_chunks
        a_lo, a_hi = ac * n_a // n_a_chunks, (ac + 1) * n_a // n_a_chunks
        i_lo, i_hi = ic * n_i // n_i_chunks, (ic + 1) * n_i // n_i_chunks
        b_lo, b_hi = bc * n_b // n_b_chunks, (bc + 1) * n_b // n_b_chunks
        part = parts[ac * n_b_chunks + bc]
        z = np.empty((_TILE + 1, ct.shape[0]), dtype=parts.dtype)
        whole_b = b_lo == 0 and b_hi == n_b
        for a in range(a_lo, a_hi):
            # rows (a, i, b) for i in [i_lo, i_hi), b in [b_lo, b_hi): one run when b is whole
            n_runs = 1 if whole_b else i_hi - i_lo
            for run in range(n_runs):
                if whole_b:
                    start = (a * n_i + i_lo) * n_b
                    stop = (a * n_i + i_hi) * n_b
                else:
                    start = (a * n_i + i_lo + run) * n_b + b_lo
                    stop = start + (b_hi - b_lo)
                # (i, b) of row `start`, then stepped along (no division per row)
                i = start // n_b - a * n_i
                b = start % n_b
                for lo in range(start, stop, _TILE):
                    hi = min(lo + _TILE, stop)
                    _rows_times_factor(xm, ct, z, lo, hi, ahead)
                    for q in range(hi - lo):
                        for r in range(rank):
                            part[i, r] += z[q, r] * left[a, r] * right[b, r]
                        b += 1
                        if b == n_b:
                            b = 0
                            i += 1


#: The last mode's MTTKRP multiplies blocks of this many rows of the tensor at a time (their
#: weights, a (16, R) block of the Khatri-Rao product, are made first), tile by tile of the
#: result: 5 rank rows by one 64-byte line of the last mode, held in ten 256-bit (AVX) registers.
_LAST_MODE_ROWS = 16
_TILE_RANKS = 5


@intrinsic(prefer_literal=True)
def _fma_tile(typingctx, xm, w, acc, m0, m1, k0, r0, n_ranks, n_vectors):
    """``acc[r0 + r, k0 + k] += sum_{m0 <= m < m1} w[m - m0, r0 + r] * xm[m, k0 + k]``, in registers.

    For ``r < n_ranks`` (1 to 5) and ``k`` over ``n_vectors`` (1 or 2, a constant) 256-bit
    vectors (4 float64 or 8 float32 each): the tile of ``acc`` is loaded into ``n_ranks *
    n_vectors`` vector registers, each row ``m`` of ``xm`` adds ``w[m - m0, r] * xm[m,
    k0:...]`` to them with multiply-adds (``llvm.fmuladd``: fused where the CPU has FMA; one
    load of the row's vectors serves every rank, one broadcast of a weight every vector), and
    the tile is stored back once. The sums run over ``m`` in order. The code is generated
    once for each rank count and chosen at run time. The three arrays must be C-contiguous
    2-D arrays of one float dtype (otherwise the call does not compile), and every index
    inside them (not checked here).

    LLVM IR, because Numba's vectorisers do not keep such a tile in registers: written as
    40 scalar accumulators in Numba, the loop vectoriser vectorises along ``m`` (the
    reduction) or the SLP vectoriser leaves them scalar and spilled (float64 200^3, one
    thread: 41-45 ms against 6.0-6.4 ms).
    """
    arrays = (xm, w, acc)
    if not (isinstance(n_vectors, types.IntegerLiteral) and isinstance(n_ranks, types.Integer)
            and all(isinstance(a, types.Array) and a.ndim == 2 and a.layout == "C" for a in arrays)
            and isinstance(xm.dtype, types.Float) and xm.dtype == w.dtype == acc.dtype):
        return None  # a typing error: only C-contiguous 2-D arrays of one float dtype
    sig = types.void(xm, w, acc, m0, m1, k0, r0, n_ranks, n_vectors)
    n_v = n_vectors.literal_value

    def codegen(context, builder, signature, args):
        xt, wt, at = signature.args[:3]
        x_arr, w_arr, a_arr = (context.make_array(t)(context, builder, a) for t, a in zip((xt, wt, at), args))
        m0v, m1v, k0v, r0v, n_rv = (context.cast(builder, a, t, types.intp)
                                    for a, t in zip(args[3:8], signature.args[3:8]))
        elem = context.get_value_type(xt.dtype)
        size = context.get_abi_sizeof(elem)
        lanes = 32 // size
        vec = ir.VectorType(elem, lanes)
        intp = context.get_value_type(types.intp)
        fma = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(vec, [vec, vec, vec]), f"llvm.fmuladd.v{lanes}f{8 * size}")
        splat = ir.Constant(ir.VectorType(ir.IntType(32), lanes), [0] * lanes)

        def at_(arr, aty, i, j):
            return cgutils.get_item_pointer(context, builder, aty, arr, [i, j], wraparound=False)

        def column(v):
            return builder.add(k0v, ir.Constant(intp, v * lanes))

        def rank(r):
            return builder.add(r0v, ir.Constant(intp, r))

        def vector_at(arr, aty, i, j):
            return builder.bitcast(at_(arr, aty, i, j), vec.as_pointer())

        def emit(n_r):
            # the tile, in stack slots that LLVM promotes to registers
            tile = {}
            for r in range(n_r):
                for v in range(n_v):
                    tile[r, v] = cgutils.alloca_once(builder, vec)
                    builder.store(builder.load(vector_at(a_arr, at, rank(r), column(v)), align=size), tile[r, v])
            with cgutils.for_range(builder, builder.sub(m1v, m0v)) as loop:
                m = builder.add(m0v, loop.index)
                xs = [builder.load(vector_at(x_arr, xt, m, column(v)), align=size) for v in range(n_v)]
                for r in range(n_r):
                    weight = builder.load(at_(w_arr, wt, loop.index, rank(r)))
                    weights = builder.insert_element(ir.Constant(vec, ir.Undefined), weight,
                                                     ir.Constant(ir.IntType(32), 0))
                    weights = builder.shuffle_vector(weights, ir.Constant(vec, ir.Undefined), splat)
                    for v in range(n_v):
                        builder.store(builder.call(fma, [weights, xs[v], builder.load(tile[r, v])]), tile[r, v])
            for r in range(n_r):
                for v in range(n_v):
                    builder.store(builder.load(tile[r, v]), vector_at(a_arr, at, rank(r), column(v)), align=size)

        for n_r in range(1, _TILE_RANKS + 1):
            with builder.if_then(builder.icmp_signed("==", n_rv, ir.Constant(intp, n_r))):
                emit(n_r)
        return context.get_dummy_value()

    return sig, codegen


@njit(cache=True, parallel=True, fastmath=_FASTMATH)
def mttkrp_cols(xm, n_j, left, prev, parts, n_k_chunks, ahead):
    """MTTKRP for the last mode, in one pass over the tensor.

    ``xm`` is the tensor as a matrix of rows ``(a, j)`` (C order: ``a`` over
    the modes before the last-but-one, ``j`` over the last-but-one, ``n_j``)
    by the last mode ``k``. ``left`` (A, R) is the Khatri-Rao product of the
    first factors, ``prev`` (J, R) the factor of the last-but-one mode. Writes
    ``parts[c, r, k] = sum over the rows m of chunk c of w[m, r] xm[m, k]``
    with ``w[m, r] = left[a, r] prev[j, r]``, made on the fly for blocks of
    16 rows (the Khatri-Rao product is never formed), which
    :func:`_fma_tile` then adds tile by tile: 5 ranks by one 64-byte line of
    ``k`` in registers, the columns past the last whole line by one vector,
    then one at a time. The caller sums ``parts`` over ``c`` in order; the row
    chunks (``parts.shape[0]``) depend on the shape only, so the result does
    not depend on the number of threads. Each chunk is also split into
    ``n_k_chunks`` ranges of whole lines of ``k``, which change nothing in the
    result: every column goes through the same code whatever the split. The
    line of each row ``ahead`` of the block (0: none) is prefetched before the
    tiles of that line are computed.
    """
    n_rows, n_k = xm.shape
    n_chunks, rank = parts.shape[0], parts.shape[1]
    lanes = 32 // xm.itemsize
    line = 2 * lanes
    n_lines = n_k // line
    for task in prange(n_chunks * n_k_chunks):
        c = task // n_k_chunks
        kc = task % n_k_chunks
        lo, hi = c * n_rows // n_chunks, (c + 1) * n_rows // n_chunks
        line_lo, line_hi = kc * n_lines // n_k_chunks, (kc + 1) * n_lines // n_k_chunks
        last = kc == n_k_chunks - 1  # the columns past the last whole line
        acc = parts[c]
        w = np.empty((_LAST_MODE_ROWS, rank), dtype=parts.dtype)
        a = lo // n_j  # (a, j) of row `lo`, then stepped along (no division per row)
        j = lo % n_j
        for m0 in range(lo, hi, _LAST_MODE_ROWS):
            m1 = min(m0 + _LAST_MODE_ROWS, hi)
            for q in range(m1 - m0):
                for r in range(rank):
                    w[q, r] = left[a, r] * prev[j, r]
                j += 1
                if j == n_j:
                    j = 0
                    a += 1
            p_hi = min(m1 + ahead, n_rows) if ahead > 0 else 0
            for t in range(line_lo, line_hi):
                k0 = t * line
                for m in range(m0 + ahead, p_hi):
                    _prefetch(xm, m, k0)
                for r0 in range(0, rank, _TILE_RANKS):
                    _fma_tile(xm, w, acc, m0, m1, k0, r0, min(_TILE_RANKS, rank - r0), 2)
            if last:
                k0 = n_lines * line
                if k0 + lanes <= n_k:
                    for r0 in range(0, rank, _TILE_RANKS):
                        _fma_tile(xm, w, acc, m0, m1, k0, r0, min(_TILE_RANKS, rank - r0), 1)
                    k0 += lanes
                for r in range(rank):
                    for k in range(k0, n_k):
                        s = acc[r, k]
                        for q in range(m1 - m0):
                            s += w[q, r] * xm[m0 + q, k]
                        acc[r, k] = s


@njit(cache=True, fastmath=_FASTMATH)
def _shifted_digamma(x):
    """``(y, r)`` with psi(x) = log(y) + r, for x > 0.

    ``y`` is x shifted to at least 10 by psi(x) = psi(x + 1) - 1/x (the
    reciprocals summed as one fraction: one division, not one per shift), and
    ``r`` the shifts' sum plus the asymptotic series at ``y`` without its log.
    """
    num = 0.0
    den = 1.0
    while x < 10.0:  # num / den += 1 / x
        num = num * x + den
        den *= x
        x += 1.0
    inv = 1.0 / x
    inv2 = inv * inv
    series = inv2 * (1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (1.0 / 240 - inv2 / 132))))
    return x, -0.5 * inv - series - num / den


@njit(cache=True, fastmath=_FASTMATH)
def _digamma(x):
    """psi(x) for x > 0 (see :func:`_shifted_digamma`)."""
    y, r = _shifted_digamma(x)
    return np.log(y) + r


@njit(cache=True, fastmath=_FASTMATH)
def _exp_expected_log(gamma, out):
    """``out[k] = exp(E[log theta_k])`` for theta ~ Dirichlet(gamma): exp(psi(gamma_k) - psi(sum gamma)).

    With psi(x) = log(y) + r (:func:`_shifted_digamma`) this is
    ``y_k / y_sum * exp(r_k - r_sum)``: one exponential per topic and no logarithm.
    """
    total = 0.0
    for k in range(gamma.shape[0]):
        total += gamma[k]
    y_sum, r_sum = _shifted_digamma(total)
    scale = 1.0 / y_sum
    for k in range(gamma.shape[0]):
        y, r = _shifted_digamma(gamma[k])
        out[k] = y * scale * np.exp(r - r_sum)


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def lda_e_step(indptr, indices, counts, beta_t, alpha, gamma, stats_t, lo, hi, n_inner, tol):
    """Variational E-step of LDA for documents ``lo`` to ``hi - 1``; returns the inner iterations run.

    Documents are CSR rows (``indptr`` int64, ``indices`` int32, ``counts``
    float64); ``beta_t`` is (V, K) topic-word probabilities (the topics in
    columns), ``alpha`` (K,) the Dirichlet prior. Updates the documents' rows
    of ``gamma`` (D, K), the variational Dirichlet parameters, in place
    (iterating ``gamma_dk = alpha_k + sum_v c_dv phi_dvk`` with
    ``phi_dvk ∝ beta_vk exp(E[log theta_dk])`` at most ``n_inner`` times, or
    until the mean absolute change is below ``tol``), and adds their
    sufficient statistics ``sum_d c_dv phi_dvk`` to ``stats_t`` (V, K).

    Serial and ``nogil``: the caller runs blocks of documents on threads,
    each block with its own ``stats_t``. A document's topic probabilities
    are gathered once into a (K, words) block, so that every inner
    iteration streams contiguous memory.
    """
    n_topics = beta_t.shape[1]
    width = 1
    for d in range(lo, hi):
        width = max(width, indptr[d + 1] - indptr[d])
    local = np.empty((n_topics, width))
    ratio = np.empty(width)
    expected = np.empty(n_topics)
    n_run = 0
    for d in range(lo, hi):
        start = indptr[d]
        n = indptr[d + 1] - start
        for j in range(n):
            row = beta_t[indices[start + j]]
            for k in range(n_topics):
                local[k, j] = row[k]
        g = gamma[d]
        for _ in range(n_inner + 1):
            n_run += 1
            _exp_expected_log(g, expected)
            for j in range(n):  # ratio_j = c_j / sum_k expected_k beta_jk
                ratio[j] = 1e-100
            for k in range(n_topics):
                e = expected[k]
                b = local[k]
                for j in range(n):
                    ratio[j] += e * b[j]
            for j in range(n):
                ratio[j] = counts[start + j] / ratio[j]
            change = 0.0
            for k in range(n_topics):
                b = local[k]
                s = 0.0
                for j in range(n):
                    s += ratio[j] * b[j]
                value = alpha[k] + expected[k] * s
                change += abs(value - g[k])
                g[k] = value
            if change < tol * n_topics:
                break
        _exp_expected_log(g, expected)  # statistics with the final E[log theta]
        for j in range(n):
            ratio[j] = 1e-100
        for k in range(n_topics):
            e = expected[k]
            b = local[k]
            for j in range(n):
                ratio[j] += e * b[j]
        for j in range(n):
            weight = counts[start + j] / ratio[j]
            out = stats_t[indices[start + j]]
            for k in range(n_topics):
                out[k] += weight * expected[k] * local[k, j]
    return n_run


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True, inline="always")
def _mix64(x):
    """SplitMix64's output function: a bijection of the 64-bit integers that scrambles every bit."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@njit(cache=True, inline="always")
def _document_stream(seed, d):
    """The first state of document ``d``'s random stream under ``seed`` (its own stream: any order of documents,
    any thread, gives the same draws)."""
    return _mix64(np.uint64(seed) + np.uint64(d) * _GOLDEN)


@njit(cache=True, inline="always")
def _uniform(state):
    """SplitMix64: the next state and a uniform double in [0, 1) from the 53 high bits of its output."""
    state = state + _GOLDEN
    return state, (_mix64(state) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, inline="always")
def _pick_from(cumulative, n_topics, u, guess):
    """The first topic whose cumulative weight exceeds ``u`` (the last if rounding leaves none); ``guess`` first.

    Most draws of a sweep give a word back its topic: testing that topic's
    interval first is a branch the CPU predicts well, where the scan's exit
    is mispredicted at nearly every draw (a collapsed sweep at D = 500,000,
    K = 10 from the spectral start: 18 % faster). ``guess`` -1: scan only.
    """
    if guess >= 0 and (guess == 0 or cumulative[guess - 1] <= u) and (
            guess == n_topics - 1 or cumulative[guess] > u):
        return guess
    k = 0
    while k < n_topics - 1 and cumulative[k] <= u:
        k += 1
    return k


@njit(cache=True, inline="always", fastmath=_FASTMATH)
def _draw(row, weight, cumulative, state, guess):
    """A topic drawn with probability ``∝ row[k] weight[k]`` from the stream ``state``, ``guess`` tested first.

    Returns the stream's next state, the topic and the sum of the weights;
    ``cumulative`` holds their running sums.
    """
    n_topics = row.shape[0]
    total = 0.0
    for k in range(n_topics):
        total += row[k] * weight[k]
        cumulative[k] = total
    state, u = _uniform(state)
    return state, _pick_from(cumulative, n_topics, u * total, guess), total


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def lda_gibbs_start(indptr, indices, counts, tokptr, topics_t, alpha, z, seed, first, lo, hi, n_sweeps, word_topic):
    """First topic assignments of documents ``lo`` to ``hi - 1``, drawn under fixed topics; counted into ``word_topic``.

    Documents are CSR rows (``indptr`` int64, ``indices`` int32, integer
    ``counts`` float64); ``tokptr[d]`` (int64) is the first of document d's
    tokens in ``z`` (uint16), one entry per word occurrence, in the order of
    the row's nonzeros. With ``topics_t`` (V, K) the topic-word probabilities
    held fixed, the document's topic counts ``n_dk`` are collapsed: each
    token's topic is drawn from ``p(k) ∝ topics_t[w, k] (n_dk + alpha_k)``,
    first in order from empty counts, then ``n_sweeps`` Gibbs sweeps (each
    token against the others' topics). Then ``word_topic[w, k]`` (V, K) counts
    the block's tokens of word w in topic k. Row d is document ``first + d``
    of the corpus, and its draws come from that document's own stream
    (:func:`_document_stream` of ``seed`` and ``first + d``), whatever
    block it is in.
    """
    n_topics = topics_t.shape[1]
    n_dk = np.empty(n_topics)
    cumulative = np.empty(n_topics)
    for d in range(lo, hi):
        state = _document_stream(seed, first + d)
        for k in range(n_topics):
            n_dk[k] = alpha[k]
        start = indptr[d]
        for sweep in range(n_sweeps + 1):
            t = tokptr[d]
            for j in range(indptr[d + 1] - start):
                row = topics_t[indices[start + j]]
                for _ in range(int(counts[start + j])):
                    old = z[t] if sweep else 0
                    if sweep:
                        n_dk[old] -= 1.0
                    state, new, _ = _draw(row, n_dk, cumulative, state, old if sweep else -1)
                    z[t] = new
                    n_dk[new] += 1.0
                    t += 1
        t = tokptr[d]
        for j in range(indptr[d + 1] - start):
            out = word_topic[indices[start + j]]
            for _ in range(int(counts[start + j])):
                out[z[t]] += 1.0
                t += 1


@njit(cache=True, inline="always", fastmath=_FASTMATH)
def _gibbs_documents(indptr, indices, counts, tokptr, alpha, word_topic, totals, z, seed, first, lo, hi, expected,
                     accumulate):
    """The loop of :func:`lda_gibbs_sweep`; inlined twice, with ``accumulate`` a constant in each copy (a test
    of it in the token loop cost 14 % of the sweep)."""
    n_topics = word_topic.shape[1]
    n_dk = np.empty(n_topics)  # n_dk + alpha_k
    inverse = np.empty(n_topics)  # 1 / (n_k + V beta)
    inverse_less = np.empty(n_topics)  # 1 / (n_k + V beta - 1): the totals without the token's own topic
    weight = np.empty(n_topics)  # (n_dk + alpha_k) / (n_k + V beta)
    cumulative = np.empty(n_topics)
    for k in range(n_topics):
        inverse[k] = 1.0 / totals[k]
        inverse_less[k] = 1.0 / (totals[k] - 1.0)  # used only for a topic holding a token (n_k >= 1)
    for d in range(lo, hi):
        state = _document_stream(seed, first + d)
        for k in range(n_topics):
            n_dk[k] = alpha[k]
        for t in range(tokptr[d], tokptr[d + 1]):
            n_dk[z[t]] += 1.0
        for k in range(n_topics):
            weight[k] = n_dk[k] * inverse[k]
        start = indptr[d]
        t = tokptr[d]
        for j in range(indptr[d + 1] - start):
            w = indices[start + j]
            row = word_topic[w]
            for _ in range(int(counts[start + j])):
                old = z[t]
                saved = weight[old]
                n_dk[old] -= 1.0
                weight[old] = n_dk[old] * inverse_less[old]  # every count without token t
                row[old] -= 1.0
                state, new, total = _draw(row, weight, cumulative, state, old)
                if new == old:  # the totals are as they were: no division (the common case)
                    n_dk[old] += 1.0
                    weight[old] = saved
                else:  # weight[old] already holds n_dk / (its new total)
                    totals[old] -= 1.0
                    inverse[old] = inverse_less[old]
                    inverse_less[old] = 1.0 / (totals[old] - 1.0)
                    totals[new] += 1.0
                    inverse_less[new] = inverse[new]
                    inverse[new] = 1.0 / totals[new]
                    n_dk[new] += 1.0
                    weight[new] = n_dk[new] * inverse[new]
                z[t] = new
                row[new] += 1.0
                t += 1
                if accumulate:
                    out = expected[w]
                    scale = 1.0 / total
                    previous = 0.0
                    for k in range(n_topics):
                        out[k] += (cumulative[k] - previous) * scale
                        previous = cumulative[k]


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def lda_gibbs_sweep(indptr, indices, counts, tokptr, alpha, word_topic, totals, z, seed, first, lo, hi, expected):
    """One collapsed Gibbs sweep over documents ``lo`` to ``hi - 1`` of LDA (topics and proportions integrated out).

    Layout as in :func:`lda_gibbs_start`. ``word_topic`` (V, K) holds the
    word-topic counts plus the prior, ``n_wk + beta``, and ``totals`` (K,)
    the topic totals ``n_k + V beta``; both are updated in place as tokens
    move, so that within the block each draw sees every earlier move. Token t
    of word w in document d gets topic k with probability ``∝ (n_wk + beta)
    (n_dk + alpha_k) / (n_k + V beta)``, every count without t itself: the
    exact collapsed conditional. If ``expected`` has rows, it gains each
    draw's probabilities (V, K): the Rao-Blackwellised expected word-topic
    counts of the sweep.
    """
    if expected.shape[0] > 0:
        _gibbs_documents(indptr, indices, counts, tokptr, alpha, word_topic, totals, z, seed, first, lo, hi, expected,
                         True)
    else:
        _gibbs_documents(indptr, indices, counts, tokptr, alpha, word_topic, totals, z, seed, first, lo, hi, expected,
                         False)


@njit(cache=True, fastmath=_FASTMATH)
def lstm_gates_prepare(a, x_part, acts):
    """``acts = (a + x_part)`` scaled for :func:`lstm_cell_update`: halved for the
    sigmoid gates i, f, o (with the forget bias: (f + 1) / 2), unchanged for j."""
    n_batch, width = a.shape
    n_hidden = width // 4
    for b in range(n_batch):
        for k in range(n_hidden):
            acts[b, k] = 0.5 * (a[b, k] + x_part[b, k])
            acts[b, n_hidden + k] = a[b, n_hidden + k] + x_part[b, n_hidden + k]
            acts[b, 2 * n_hidden + k] = 0.5 * (a[b, 2 * n_hidden + k] + x_part[b, 2 * n_hidden + k]) + 0.5
            acts[b, 3 * n_hidden + k] = 0.5 * (a[b, 3 * n_hidden + k] + x_part[b, 3 * n_hidden + k])


@njit(cache=True, fastmath=_FASTMATH)
def lstm_cell_update(acts, c_prev, c):
    """The arithmetic half of an LSTM step (the transcendental half is NumPy's vectorised tanh).

    On entry ``acts = [tanh(i/2), tanh(j), tanh((f+1)/2), tanh(o/2)]`` (batch x 4H);
    on exit the three gates hold sigmoid(x) = (1 + tanh(x/2)) / 2, and
    ``c = c_prev * sigmoid(f + 1) + sigmoid(i) * tanh(j)``.
    """
    n_batch, n_hidden = c.shape
    for b in range(n_batch):
        for k in range(n_hidden):
            gi = 0.5 + 0.5 * acts[b, k]
            gf = 0.5 + 0.5 * acts[b, 2 * n_hidden + k]
            acts[b, k] = gi
            acts[b, 2 * n_hidden + k] = gf
            acts[b, 3 * n_hidden + k] = 0.5 + 0.5 * acts[b, 3 * n_hidden + k]
            c[b, k] = c_prev[b, k] * gf + gi * acts[b, n_hidden + k]


@njit(cache=True, fastmath=_FASTMATH)
def lstm_gates_backward(acts, c_prev, tanh_c, dh, dc, dpre):
    """Backward through :func:`lstm_gates_forward`.

    ``dh`` is dLoss/dh_t; ``dc`` holds dLoss/dc_t from later steps on entry and
    dLoss/dc_(t-1) on exit; ``dpre`` receives dLoss/dpre.
    """
    n_batch, n_hidden = dh.shape
    for b in range(n_batch):
        for k in range(n_hidden):
            gi = acts[b, k]
            gj = acts[b, n_hidden + k]
            gf = acts[b, 2 * n_hidden + k]
            go = acts[b, 3 * n_hidden + k]
            tc = tanh_c[b, k]
            dht = dh[b, k]
            dct = dc[b, k] + dht * go * (1.0 - tc * tc)
            dpre[b, k] = dct * gj * gi * (1.0 - gi)
            dpre[b, n_hidden + k] = dct * gi * (1.0 - gj * gj)
            dpre[b, 2 * n_hidden + k] = dct * c_prev[b, k] * gf * (1.0 - gf)
            dpre[b, 3 * n_hidden + k] = dht * tc * go * (1.0 - go)
            dc[b, k] = dct * gf


@njit(cache=True, fastmath=_FASTMATH)
def row_kron(a, s, out):
    """``out[b] = kron(a[b], s[b])`` for every row ``b``: the running rank vector times one copy of the state."""
    n_batch, n_rank = a.shape
    n_state = s.shape[1]
    for b in range(n_batch):
        for r in range(n_rank):
            ar = a[b, r]
            for k in range(n_state):
                out[b, r * n_state + k] = ar * s[b, k]


@njit(cache=True, fastmath=_FASTMATH)
def row_kron_backward(dz, a, s, da, ds):
    """Backward through :func:`row_kron`: ``da[b, r] = sum_k dz[b, r, k] s[b, k]`` and
    ``ds[b, k] += sum_r dz[b, r, k] a[b, r]`` (``dz`` is batch x (rank * state))."""
    n_batch, n_rank = a.shape
    n_state = s.shape[1]
    for b in range(n_batch):
        for r in range(n_rank):
            ar = a[b, r]
            acc = 0.0
            for k in range(n_state):
                g = dz[b, r * n_state + k]
                acc += g * s[b, k]
                ds[b, k] += g * ar
            da[b, r] = acc
