"""Private Numba kernels behind :mod:`tensorbook.tenalg` (MTTKRP), :mod:`tensorbook.topics` (the LDA E-step)
and :mod:`tensorbook.forecast` (the LSTM gates, forward and backward).

Each kernel only loops and writes into ``out``; the public wrappers validate,
cast and allocate. All jitted code lives in this one module so that Numba's
on-disk cache (``cache=True``, honouring ``NUMBA_CACHE_DIR``) never serves a
kernel compiled against a stale helper from another file. Nothing is compiled
at import time: the first call of each signature compiles (about a second),
later calls and later processes load it from the cache.
"""

import numpy as np
from numba import njit, prange

# Reassociation (to vectorise the reductions) and fused multiply-adds, but not
# the "no NaN / no infinity" assumptions of fastmath=True: a NaN or infinity
# in the tensor must reach the result, where the wrappers look for it.
_FASTMATH = {"reassoc", "contract", "arcp", "nsz"}


@njit(cache=True, parallel=True, fastmath=_FASTMATH)
def mttkrp_inner(x, left, right, last_t, out, n_blocks):
    """MTTKRP for a mode that is not the last one.

    ``x`` has shape ``(A, I, B, K)``: the modes before the target, the target
    mode, the modes strictly between it and the last mode, and the last mode.
    ``left`` (A, R) and ``right`` (B, R) are the Khatri-Rao products of the
    factors of those groups of modes, ``last_t`` (R, K) the last factor
    transposed. Writes ``out[i, r] = sum_{a,b,k} x[a,i,b,k] left[a,r]
    right[b,r] last_t[r,k]``; the full Khatri-Rao product (A*B*K, R) is never
    formed. Parallel over ``n_blocks`` blocks of ``i``; within a block the
    loops follow memory order, so each thread streams contiguous runs of
    ``x``, and four rank columns share each load of a tensor fibre.
    """
    n_a, n_i, n_b, n_k = x.shape
    rank = out.shape[1]
    block = (n_i + n_blocks - 1) // n_blocks
    for blk in prange(n_blocks):
        lo = blk * block
        hi = min(lo + block, n_i)
        acc = np.zeros((max(hi - lo, 0), rank), dtype=np.float64)
        tmp = np.empty(rank, dtype=np.float64)
        for a in range(n_a):
            for i in range(lo, hi):
                for b in range(n_b):
                    row = x[a, i, b]
                    r = 0
                    while r + 4 <= rank:
                        c0 = last_t[r]
                        c1 = last_t[r + 1]
                        c2 = last_t[r + 2]
                        c3 = last_t[r + 3]
                        s0 = 0.0
                        s1 = 0.0
                        s2 = 0.0
                        s3 = 0.0
                        for k in range(n_k):
                            v = row[k]
                            s0 += v * c0[k]
                            s1 += v * c1[k]
                            s2 += v * c2[k]
                            s3 += v * c3[k]
                        tmp[r] = s0
                        tmp[r + 1] = s1
                        tmp[r + 2] = s2
                        tmp[r + 3] = s3
                        r += 4
                    while r < rank:
                        c0 = last_t[r]
                        s0 = 0.0
                        for k in range(n_k):
                            s0 += row[k] * c0[k]
                        tmp[r] = s0
                        r += 1
                    for r in range(rank):
                        acc[i - lo, r] += tmp[r] * left[a, r] * right[b, r]
        for i in range(lo, hi):
            for r in range(rank):
                out[i, r] = acc[i - lo, r]


@njit(cache=True, parallel=True, fastmath=_FASTMATH)
def mttkrp_last(x, left, prev, parts):
    """MTTKRP for the last mode, as per-block partial sums.

    ``x`` has shape ``(A, J, I)``: the modes before the last-but-one, the
    last-but-one mode and the target (last) mode. ``left`` (A, R) is the
    Khatri-Rao product of the first factors, ``prev`` (J, R) the factor of the
    last-but-one mode. The ``A`` slices are split into ``parts.shape[0]``
    blocks, one per thread; block ``t`` writes ``parts[t, r, i] = sum over its
    a, and all j, of x[a,j,i] left[a,r] prev[j,r]``, and the caller sums the
    blocks. The innermost loop runs along contiguous memory, eight fibres of
    ``x`` at a time, updating two rank columns per load of those fibres.
    """
    n_a, n_j, n_i = x.shape
    n_blocks, rank = parts.shape[0], parts.shape[1]
    block = (n_a + n_blocks - 1) // n_blocks
    for blk in prange(n_blocks):
        lo = blk * block
        hi = min(lo + block, n_a)
        acc = np.zeros((rank, n_i), dtype=np.float64)
        for a in range(lo, hi):
            j = 0
            while j + 8 <= n_j:
                x0 = x[a, j]
                x1 = x[a, j + 1]
                x2 = x[a, j + 2]
                x3 = x[a, j + 3]
                x4 = x[a, j + 4]
                x5 = x[a, j + 5]
                x6 = x[a, j + 6]
                x7 = x[a, j + 7]
                r = 0
                while r + 2 <= rank:
                    la = left[a, r]
                    lb = left[a, r + 1]
                    p0, p1, p2, p3 = prev[j, r] * la, prev[j + 1, r] * la, prev[j + 2, r] * la, prev[j + 3, r] * la
                    p4, p5, p6, p7 = prev[j + 4, r] * la, prev[j + 5, r] * la, prev[j + 6, r] * la, prev[j + 7, r] * la
                    q0, q1, q2, q3 = (prev[j, r + 1] * lb, prev[j + 1, r + 1] * lb,
                                      prev[j + 2, r + 1] * lb, prev[j + 3, r + 1] * lb)
                    q4, q5, q6, q7 = (prev[j + 4, r + 1] * lb, prev[j + 5, r + 1] * lb,
                                      prev[j + 6, r + 1] * lb, prev[j + 7, r + 1] * lb)
                    za = acc[r]
                    zb = acc[r + 1]
                    for i in range(n_i):
                        v0, v1, v2, v3 = x0[i], x1[i], x2[i], x3[i]
                        v4, v5, v6, v7 = x4[i], x5[i], x6[i], x7[i]
                        za[i] += (p0 * v0 + p1 * v1 + p2 * v2 + p3 * v3) + (p4 * v4 + p5 * v5 + p6 * v6 + p7 * v7)
                        zb[i] += (q0 * v0 + q1 * v1 + q2 * v2 + q3 * v3) + (q4 * v4 + q5 * v5 + q6 * v6 + q7 * v7)
                    r += 2
                while r < rank:  # an odd last rank column
                    za = acc[r]
                    for jj in range(8):
                        w = prev[j + jj, r] * left[a, r]
                        row = x[a, j + jj]
                        for i in range(n_i):
                            za[i] += w * row[i]
                    r += 1
                j += 8
            while j < n_j:  # the last fibres, fewer than eight
                row = x[a, j]
                for r in range(rank):
                    w = prev[j, r] * left[a, r]
                    za = acc[r]
                    for i in range(n_i):
                        za[i] += w * row[i]
                j += 1
        for r in range(rank):
            for i in range(n_i):
                parts[blk, r, i] = acc[r, i]


@njit(cache=True)
def _digamma(x):
    """psi(x) for x > 0: shift to x >= 10 by psi(x) = psi(x + 1) - 1/x, then the asymptotic series."""
    result = 0.0
    while x < 10.0:
        result -= 1.0 / x
        x += 1.0
    inv = 1.0 / x
    inv2 = inv * inv
    series = inv2 * (1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (1.0 / 240 - inv2 / 132))))
    return result + np.log(x) - 0.5 * inv - series


@njit(cache=True)
def _exp_expected_log(gamma, out):
    """``out[k] = exp(E[log theta_k])`` for theta ~ Dirichlet(gamma): exp(psi(gamma_k) - psi(sum gamma))."""
    total = 0.0
    for k in range(gamma.shape[0]):
        total += gamma[k]
    shift = _digamma(total)
    for k in range(gamma.shape[0]):
        out[k] = np.exp(_digamma(gamma[k]) - shift)


@njit(cache=True, parallel=True)
def lda_e_step(indptr, indices, counts, beta, alpha, gamma, sstats, n_inner, tol):
    """Variational E-step of LDA for every document, in parallel over blocks of documents.

    Documents are CSR rows (``indptr``, ``indices``, ``counts``); ``beta`` is
    (K, V) topic-word probabilities, ``alpha`` (K,) the Dirichlet prior.
    Updates ``gamma`` (D, K), the variational Dirichlet parameters, in place
    (iterating ``gamma_dk = alpha_k + sum_v c_dv phi_dvk`` with
    ``phi_dvk ∝ beta_kv exp(E[log theta_dk])`` at most ``n_inner`` times, or
    until the mean change is below ``tol``), and writes each block's
    sufficient statistics ``sum_d c_dv phi_dvk`` into ``sstats[block]``.
    """
    n_docs = indptr.shape[0] - 1
    n_blocks, n_topics = sstats.shape[0], sstats.shape[1]
    size = (n_docs + n_blocks - 1) // n_blocks
    for blk in prange(n_blocks):
        stats = sstats[blk]
        stats[:] = 0.0
        expected = np.empty(n_topics)
        new = np.empty(n_topics)
        for d in range(blk * size, min((blk + 1) * size, n_docs)):
            start, end = indptr[d], indptr[d + 1]
            g = gamma[d]
            for _ in range(n_inner + 1):
                _exp_expected_log(g, expected)
                for k in range(n_topics):
                    new[k] = 0.0
                for j in range(start, end):
                    v = indices[j]
                    norm = 1e-100
                    for k in range(n_topics):
                        norm += expected[k] * beta[k, v]
                    weight = counts[j] / norm
                    for k in range(n_topics):
                        new[k] += weight * beta[k, v]
                change = 0.0
                for k in range(n_topics):
                    value = alpha[k] + expected[k] * new[k]
                    change += abs(value - g[k])
                    g[k] = value
                if change / n_topics < tol:
                    break
            _exp_expected_log(g, expected)  # statistics with the final E[log theta]
            for j in range(start, end):
                v = indices[j]
                norm = 1e-100
                for k in range(n_topics):
                    norm += expected[k] * beta[k, v]
                weight = counts[j] / norm
                for k in range(n_topics):
                    stats[k, v] += weight * expected[k] * beta[k, v]


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
