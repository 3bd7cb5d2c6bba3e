"""Reference answers for the book's exercises.

Each reference is written independently of the solution printed in the book
(different operations on the same data), so a solution that agrees with it is
checked against a second implementation, not against itself. This module is
data: each entry is the keyword arguments of a
:class:`tensorbook.exercises.Exercise`, which :func:`tensorbook.exercise`
builds; it imports nothing from the checker.
"""

import numpy as np


def _entry(number, title, reference, hint="", rtol=1e-7, atol=1e-12, cases=None, forbidden=(), required=(),
           max_peak_bytes=None):
    """One exercise. With ``cases`` (fresh argument tuples), the answer is the reader's function, compared with
    ``reference(*case)`` on each case, ``forbidden`` functions unavailable to it, ``required`` ones called, its
    memory at most ``max_peak_bytes``."""
    return dict(number=number, title=title, reference=reference, hint=hint, rtol=rtol, atol=atol, cases=cases,
                forbidden=tuple(forbidden), required=tuple(required), max_peak_bytes=max_peak_bytes)


def _mean_spectrum():
    from tensorly.datasets import load_indian_pines

    cube = np.asarray(load_indian_pines().tensor, dtype=float)
    total = np.zeros(cube.shape[2])
    for row in cube:  # sum the spectra row by row
        total += row.sum(axis=0)
    return total / (cube.shape[0] * cube.shape[1])


def _grayscale(image, weights):
    image = image.astype(float)
    return sum(w * image[:, :, c] for c, w in enumerate(weights))


def _grayscale_cases():
    """The photo, then images the chapter never showed: random sizes, an 8-bit and a 16-bit one, other weights."""
    from .datasets import load_photo

    rng = np.random.default_rng(12)
    standard = np.array([0.299, 0.587, 0.114])
    return [(load_photo(), standard),
            (rng.integers(0, 256, size=(7, 11, 3)).astype(np.uint8), standard),
            (rng.integers(0, 65536, size=(1, 5, 3)).astype(np.uint16), np.array([0.2126, 0.7152, 0.0722]))]


def _vqa_outer():
    from .datasets import vqa_example

    ex = vqa_example()
    return np.kron(ex["image_features"], ex["question_features"])


def chapter2_data():
    """The seeded tensors of chapter 2's exercises (the chapter builds the same ones)."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((3, 4, 5))
    U = rng.standard_normal((2, 4))
    core = rng.standard_normal((2, 3, 2))
    factors = [rng.standard_normal((n, r)) for n, r in zip((4, 5, 6), core.shape)]
    return X, U, core, factors


def _mode1_loops(X, U):
    Y = np.zeros((X.shape[0], U.shape[0], X.shape[2]))
    for a in range(X.shape[0]):
        for j in range(U.shape[0]):
            for b in range(X.shape[2]):
                Y[a, j, b] = sum(U[j, i] * X[a, i, b] for i in range(X.shape[1]))
    return Y


def _mode1_cases():
    """The chapter's X and U, then shapes it did not use (a mode 1 of size 1, a U that widens the mode)."""
    X, U, _, _ = chapter2_data()
    rng = np.random.default_rng(21)
    return [(X, U), (rng.standard_normal((2, 1, 7)), rng.standard_normal((3, 1))),
            (rng.standard_normal((5, 6, 1)), rng.standard_normal((9, 6)))]


MODE_PRODUCTS = ("tensorbook.mode_dot", "tensorbook.multi_mode_dot", "tensorbook.tenalg.mode_dot",
                 "tensorbook.tenalg.multi_mode_dot", "tensorbook.contract", "numpy.einsum", "numpy.tensordot")


def _tucker_sum_of_outer_products():
    _, _, core, (A, B, C) = chapter2_data()
    full = np.zeros((A.shape[0], B.shape[0], C.shape[0]))
    for p, q, r in np.ndindex(core.shape):
        full += core[p, q, r] * A[:, p][:, None, None] * B[:, q][None, :, None] * C[:, r][None, None, :]
    return full


def _power_step_eigenvector():
    # T = sum_r lam_r a_r (x) a_r (x) a_r with orthonormal a_r, so T(I, a_0, a_0) = lam_0 a_0.
    lam = np.array([3.0, 2.0, 1.0])
    a0 = np.linalg.qr(np.random.default_rng(3).standard_normal((4, 3)))[0][:, 0]
    return lam[0] * a0


def chapter3_data():
    """The seeded data of chapter 3's exercises (the chapter builds the same ones).

    Returns ``(X, B, C)`` for the ALS update, the grid ``x`` of the tensor-train
    exercise, and ``(lam, V, theta0)`` for the power-method exercise.
    """
    rng = np.random.default_rng(3)
    X = rng.standard_normal((4, 5, 6))
    B = rng.standard_normal((5, 3))
    C = rng.standard_normal((6, 3))
    x = np.arange(2**12) / 2**12
    rng = np.random.default_rng(1)
    V = np.linalg.qr(rng.standard_normal((5, 3)))[0]
    theta0 = rng.standard_normal(5)
    theta0 /= np.linalg.norm(theta0)
    return (X, B, C), x, (np.array([4.0, 3.0, 2.0]), V, theta0)


def _tucker_pines_params():
    shape, ranks = (145, 145, 200), (30, 30, 8)
    return int(np.prod(ranks)) + int(np.dot(shape, ranks))  # the core, then one I_k x R_k factor per mode


def _als_update_lstsq(X, factors, mode):
    # X_(n) ~ F_n (kr of the others, in mode order)^T: least squares for F_n with the explicit Khatri-Rao product,
    # its rows built entry by entry in the C order of the unfolding
    others = [k for k in range(X.ndim) if k != mode]
    R = factors[others[0]].shape[1]
    sizes = [X.shape[k] for k in others]
    kr = np.empty((int(np.prod(sizes)), R))
    for row, idx in enumerate(np.ndindex(*sizes)):
        kr[row] = np.prod([factors[k][i] for k, i in zip(others, idx)], axis=0)
    unfolded = np.moveaxis(X, mode, 0).reshape(X.shape[mode], -1)
    solution, *_ = np.linalg.lstsq(kr, unfolded.T, rcond=None)
    return solution.T


def _als_update_cases():
    """The chapter's X, B, C (mode 0), then every mode of tensors it did not use, of order 3 and 4."""
    (X, B, C), _, _ = chapter3_data()
    rng = np.random.default_rng(32)
    cases = [(X, [None, B, C], 0)]
    for shape, rank, mode in [((5, 4, 6), 2, 1), ((3, 7, 4), 4, 2), ((3, 4, 2, 5), 3, 2)]:
        Y = rng.standard_normal(shape)
        factors = [rng.standard_normal((n, rank)) for n in shape]
        factors[mode] = None
        cases.append((Y, factors, mode))
    return cases


def _qtt_ranks():
    # the TT rank at bond k is the rank of the (2^(k+1), 2^(d-k-1)) reshape of the samples.
    # matrix_rank is the machine-precision rank, not the eps = 1e-10 truncation of TT-SVD; the two
    # agree here by a wide margin (the third singular value of every reshape is above 8e-8 ||g||,
    # the truncation threshold is about 3e-11 ||g||), and g = x^2 e^{-x} has ranks of exactly 3
    # (e^{-x} factorises over the bits, x^2 needs 1, x_R, x_R^2 on each side).
    _, x, _ = chapter3_data()
    g = x**2 * np.exp(-x)
    d = int(np.log2(g.size))
    inner = [int(np.linalg.matrix_rank(g.reshape(2 ** (k + 1), -1))) for k in range(d - 1)]
    return (1, *inner, 1)


def _qtt_why():
    # g(x_L + x_R) = x_L^2 e^{-x_L} e^{-x_R} + 2 x_L e^{-x_L} x_R e^{-x_R} + e^{-x_L} x_R^2 e^{-x_R}: three products
    return "b"


def _power_why():
    # the power step multiplies lambda_i c_i by itself: the largest lambda_i |c_i(0)| wins, not the largest lambda_i
    return "c"


def _power_fixed_point():
    # in the basis v_i the update is c_i <- lam_i c_i^2 / norm, so lam_i c_i grows like
    # (lam_i c_i(0))^(2^t): the largest lam_i |c_i(0)| wins, with a positive coefficient.
    _, _, (lam, V, theta0) = chapter3_data()
    return V[:, int(np.argmax(lam * np.abs(V.T @ theta0)))]


def _symmetric_distinct_entries():
    # one distinct entry per multiset {a, b, c}: enumerate them
    import itertools

    return sum(1 for _ in itertools.combinations_with_replacement(range(50), 3))


def _mixture_third_cumulant():
    # integrate (x - m)^3 against the mixture density numerically
    from scipy import integrate, stats

    parts = [(0.3, -1.0, 0.5), (0.7, 2.0, 1.0)]

    def density(x):
        return sum(w * stats.norm.pdf(x, mu, s) for w, mu, s in parts)

    m = integrate.quad(lambda x: x * density(x), -np.inf, np.inf, epsabs=1e-13, epsrel=1e-12)[0]
    return integrate.quad(lambda x: (x - m) ** 3 * density(x), -np.inf, np.inf, epsabs=1e-13, epsrel=1e-12)[0]


def _moment3_ivv_by_document(X, v):
    # M3(I, v, v) = (1/n) sum_j x_j (x_j . v)^2, accumulated one sparse row (document) at a time
    X = X.tocsr()
    total = np.zeros(X.shape[1])
    for j in range(X.shape[0]):
        lo, hi = X.indptr[j], X.indptr[j + 1]
        cols, vals = X.indices[lo:hi], X.data[lo:hi]
        total[cols] += vals * float(vals @ v[cols]) ** 2
    return total / X.shape[0]


def _moment3_ivv_cases():
    """Fresh sparse count matrices, wider than the chapter's (a dense M3 of the widest would take 1.7 PB)."""
    import scipy.sparse

    rng = np.random.default_rng(2024)
    cases = []
    for n, d, density in [(300, 5_000, 0.004), (50, 60_000, 0.001), (1, 7, 0.5)]:
        X = scipy.sparse.random(n, d, density=density, format="csr", rng=rng)
        X.data = np.ceil(4 * X.data)
        cases.append((X, rng.standard_normal(d)))
    return cases


MOMENT_FUNCTIONS = ("tensorbook.moments.moment", "tensorbook.moments.moment3_ivv", "tensorbook.moments.moment3_whitened",
                    "tensorbook.moments.third_cumulant")


def _dense_m3_memory():
    d, itemsize = 5_000, np.dtype(np.float64).itemsize
    largest = 1
    while itemsize * (largest + 1) ** 3 <= 16 * 10**9:  # count up: no cube roots
        largest += 1
    return np.array([itemsize * d**3 / 10**9, largest], dtype=float)


def chapter5_data():
    """The data of chapter 5's exercises (the chapter types in the same numbers).

    Returns the tiny corpus ``tiny`` (3 documents x 4 words) with its
    ``alpha0``, and the power-method weights ``lam_found`` (of a 3-topic
    model fit with alpha0 = 1).
    """
    tiny = np.array([[2, 1, 0, 1], [0, 3, 1, 0], [1, 1, 1, 2]])
    return tiny, 0.5, np.array([2.98, 1.72, 1.22])


#: The spectral model of the Reuters stories that chapter 5 fits (exercise 5.4).
#: Chapter 5 fits as many topics as the Reuters corpus supports at alpha0 = 1 (topic_support, up to 14).
CHAPTER5_REUTERS_FIT = {"alpha0": 1.0, "random_state": 0}


def _m2_by_word_positions(counts, alpha0):
    # expand every document into its word tokens and count the ordered pairs of distinct positions
    counts = np.asarray(counts)
    vocab = counts.shape[1]
    pair_sum, mean_sum = np.zeros((vocab, vocab)), np.zeros(vocab)
    for doc in counts:
        tokens = [w for w in range(vocab) for _ in range(int(doc[w]))]
        n = len(tokens)
        pairs = np.zeros((vocab, vocab))
        for p in range(n):
            mean_sum[tokens[p]] += 1.0 / n
            for q in range(n):
                if p != q:
                    pairs[tokens[p], tokens[q]] += 1.0
        pair_sum += pairs / (n * (n - 1))
    n_docs = counts.shape[0]
    m1 = mean_sum / n_docs
    return pair_sum / n_docs - alpha0 / (alpha0 + 1) * m1[:, None] * m1[None, :]


def _m2_cases():
    """Corpora the chapter did not use: more documents and words, a single document, other alpha0."""
    rng = np.random.default_rng(51)
    cases = []
    for n_docs, vocab, alpha0 in [(7, 5, 1.0), (1, 3, 0.1), (12, 9, 4.0)]:
        counts = rng.integers(0, 4, size=(n_docs, vocab))
        counts[:, 0] += 3 - np.minimum(counts.sum(axis=1), 3)  # at least 3 words in every document
        cases.append((counts, alpha0))
    return cases


def _alpha_from_weights(lam, alpha0):
    # solve lambda(alpha) = 2 / (alpha0 + 2) * sqrt(alpha0 (alpha0 + 1) / alpha) for alpha, one root at a time
    from scipy.optimize import brentq

    def weight(a):
        return 2.0 / (alpha0 + 2.0) * np.sqrt(alpha0 * (alpha0 + 1.0) / a)

    return np.array([brentq(lambda a, lam=lam: weight(a) - lam, 1e-10, 1e6, xtol=1e-15, rtol=1e-14)
                     for lam in np.asarray(lam, dtype=float)])


def _alpha_cases():
    """The chapter's weights, then weights and assumed alpha0 it did not use."""
    _, _, lam_found = chapter5_data()
    return [(lam_found, 1.0), (np.array([5.0, 0.9, 2.2, 1.4]), 0.3), (np.array([1.1]), 7.5)]


def _most_common_topic():
    _, _, lam_found = chapter5_data()
    return int(np.argmax(_alpha_from_weights(lam_found, 1.0)))


def _reuters_entries():
    import lda.datasets

    vocab = len(lda.datasets.load_reuters_vocab())
    return np.array([vocab, 10]) ** 3


def _reuters_pope_topic():
    from .datasets import load_reuters
    from .topics import SpectralLDA

    from .topics import topic_support

    corpus = load_reuters()
    k = topic_support(corpus["counts"], max_components=14, **CHAPTER5_REUTERS_FIT).n_supported
    model = SpectralLDA(k, **CHAPTER5_REUTERS_FIT).fit(corpus["counts"])
    pope = corpus["vocabulary"].index("pope")
    winners = np.flatnonzero(model.components_.argmax(axis=1) == pope)
    if winners.size != 1:
        raise RuntimeError(f"expected exactly one topic whose top word is 'pope', got {winners.size}")
    return int(winners[0])


def forecasting_data():
    """The seeded data of the forecasting chapter's exercises (the chapter builds the same ones).

    Returns ``(states, cores)`` for the batched tensor-train contraction
    (4 augmented states ``s = [1; h]`` of size 7, and three cores of shapes
    (1, 7, 3), (3, 7, 4), (4, 7, 5)), then ``changes``, a forecast of weekly
    changes (400 hours x 3 airports) for exercise 6.4.
    """
    rng = np.random.default_rng(6)
    states = np.column_stack([np.ones(4), rng.standard_normal((4, 6))])
    cores = [rng.standard_normal(shape) for shape in ((1, 7, 3), (3, 7, 4), (4, 7, 5))]
    changes = np.round(rng.normal(0.0, 2.0, (400, 3)), 1)
    return states, cores, changes


#: The TT-LSTM cell of exercise 6.1: F features, hidden size H, L lags, order P, TT rank r.
FORECASTING_CELL = {"n_features": 3, "hidden_size": 32, "n_lags": 3, "order": 3, "tt_rank": 8}

#: Chapter 6's split of the departures: the first 80 % of the hours are for fitting, the rest for testing.
def _layers_data():
    """The seeded arrays of the tensor-layers chapter's exercises (the chapter builds the same ones)."""
    rng = np.random.default_rng(6)
    X = rng.standard_normal((5, 4, 3))          # a batch of 5 matrices, 4 x 3
    U0, U1 = rng.standard_normal((2, 4)), rng.standard_normal((3, 3))
    G = rng.standard_normal((5, 2, 3))          # dL/dY for Y = X x_1 U0 x_2 U1
    x, y = rng.standard_normal(7), rng.standard_normal(5)
    h1, h2 = rng.integers(0, 8, 7), rng.integers(0, 8, 5)
    s1, s2 = rng.choice((-1.0, 1.0), 7), rng.choice((-1.0, 1.0), 5)
    U, V, P = rng.standard_normal((6, 3)), rng.standard_normal((4, 3)), rng.standard_normal((3, 2))
    return dict(X=X, U0=U0, U1=U1, G=G, x=x, y=y, h1=h1, h2=h2, s1=s1, s2=s2, U=U, V=V, P=P)


def _tcl_gradient_u0(X, U0, U1, G):
    grad = np.zeros_like(U0, dtype=float)
    for n in range(X.shape[0]):  # Y[n, r, s] = sum_ij U0[r, i] X[n, i, j] U1[s, j]
        for r in range(grad.shape[0]):
            for i in range(grad.shape[1]):
                grad[r, i] += sum(G[n, r, s] * X[n, i, j] * U1[s, j]
                                  for s in range(U1.shape[0]) for j in range(U1.shape[1]))
    return grad


def _tcl_gradient_cases():
    """Batches and factors of shapes the chapter did not use (a batch of one, square and wide factors)."""
    rng = np.random.default_rng(61)
    cases = []
    for n, (i, j), (r, s) in [(3, (5, 2), (4, 3)), (1, (3, 6), (2, 2)), (4, (2, 2), (2, 5))]:
        cases.append((rng.standard_normal((n, i, j)), rng.standard_normal((r, i)), rng.standard_normal((s, j)),
                      rng.standard_normal((n, r, s))))
    return cases


def _tt_layer_counts():
    m, n, r = (2, 4, 4, 2), (4, 4, 4, 4), (1, 3, 3, 3, 1)
    tt = 0
    for k in range(4):
        tt += r[k] * m[k] * n[k] * r[k + 1]
    rows = cols = 1
    for a, b in zip(m, n):
        rows, cols = rows * a, cols * b
    return np.array([tt + rows, rows * cols + rows])


def _sketch_by_outer_product(x, y, h1, h2, s1, s2, D):
    psi = np.zeros(D)
    for i in range(len(x)):
        for j in range(len(y)):
            psi[(h1[i] + h2[j]) % D] += s1[i] * s2[j] * x[i] * y[j]
    return psi


def _sketch_cases():
    """Vectors, hashes and sketch sizes the chapter did not use (an odd D, hashes that collide)."""
    rng = np.random.default_rng(63)
    cases = []
    for dx, dy, D in [(9, 4, 16), (3, 3, 5), (6, 11, 7)]:
        cases.append((rng.standard_normal(dx), rng.standard_normal(dy), rng.integers(0, D, dx), rng.integers(0, D, dy),
                      rng.choice((-1.0, 1.0), dx), rng.choice((-1.0, 1.0), dy), D))
    return cases


def _mlb_weight():
    d = _layers_data()
    U, V, P = d["U"], d["V"], d["P"]
    W = np.zeros((U.shape[0], V.shape[0], P.shape[1]))
    for r in range(U.shape[1]):
        W += np.multiply.outer(np.outer(U[:, r], V[:, r]), P[r])
    return W


FORECASTING_TEST_FRACTION = 0.2


def _tt_cell_entries():
    # from the definition (Yu et al. 2017), not from the forecaster's code: the state s has
    # S = L H + 1 entries, an LSTM cell 4H pre-activations; P cores (r_p, S, r_(p+1)), r_0 = 1, r_P = 4H.
    # The tensors themselves are allocated (zeros) and their entries counted.
    c = FORECASTING_CELL
    size, width, order = c["n_lags"] * c["hidden_size"] + 1, 4 * c["hidden_size"], c["order"]
    ranks = [1] + [c["tt_rank"]] * (order - 1) + [width]
    cores = [np.zeros((ranks[p], size, ranks[p + 1]), dtype=np.int8) for p in range(order)]
    dense_shape = (size,) * order + (width,)
    return np.array([int(np.prod(dense_shape, dtype=np.int64)), sum(core.size for core in cores)])


def _tt_batch_contraction(states, cores):
    # the dense transition tensor W (S x ... x S x D), formed core after core, then contracted with s in every mode
    W = cores[0][0]                                           # (S, r_1)
    for core in cores[1:]:
        W = np.tensordot(W, core, axes=(-1, 0))               # (S, ..., S, r_(p+1))
    out = []
    for s in states:
        a = W
        for _ in range(len(cores)):
            a = np.tensordot(s, a, axes=(0, 0))               # contract the leading mode with s
        out.append(a)
    return np.array(out)


def _tt_batch_cases():
    """Batches, state sizes, orders and ranks the chapter did not use; the last would take 5.6 MB as a dense W."""
    rng = np.random.default_rng(72)
    cases = []
    for batch, size, ranks in [(6, 5, (1, 2, 3)), (1, 4, (1, 3, 2, 3, 2)), (16, 56, (1, 6, 6, 4))]:
        states = np.column_stack([np.ones(batch), rng.standard_normal((batch, size - 1))])
        cores = [rng.standard_normal((ranks[p], size, ranks[p + 1])) for p in range(len(ranks) - 1)]
        cases.append((states, cores))
    return cases


def _seasonal_naive_rmse_24h():
    # every test hour's forecast from the history that ends 24 hours before it, by the package's baseline
    from .datasets import load_departures
    from .forecast import seasonal_naive, sliding_windows

    dep = load_departures()["values"]
    n_fit = int(round(len(dep) * (1 - FORECASTING_TEST_FRACTION)))
    horizon, rmse = 24, []
    for season in (24, 168):
        windows = sliding_windows(dep[n_fit - horizon + 1 - 168:], 168 + horizon)
        forecast = seasonal_naive(windows[:, :168], horizon, season)[:, -1]
        rmse.append(np.sqrt(np.mean((forecast - windows[:, -1]) ** 2)))
    return np.array(rmse)


def _undo_weekly_differencing():
    # step by step: each forecast is the value (observed or forecast) one week earlier plus the change
    from .datasets import load_departures

    _, _, changes = forecasting_data()
    dep = load_departures()["values"]
    n_fit = int(round(len(dep) * (1 - FORECASTING_TEST_FRACTION)))
    path = list(dep[:n_fit])
    for change in changes:
        path.append(path[-168] + change)
    return np.array(path[n_fit:])



def scaling_data():
    """The seeded data of the scaling chapter's exercises (the chapter builds the same ones).

    Returns the corpus ``X`` (1,500 documents x 60 words, 4 topics, sparse
    word counts, every document with at least 3 words) and the assumed ``alpha0``.
    """
    from .topics import make_lda_corpus

    X, _, _ = make_lda_corpus(1500, 4, 60, 30, alpha=0.3, random_state=7)
    return X, 0.8


#: The documents per chunk of exercise 8.1, and per shard of exercise 8.3.
SCALING_CHUNK, SCALING_SHARD = 300, 250

#: The memory exercise (7.2): vocabulary, topics, and the eigensolver's oversampling (blocks of k + 10 columns).
SCALING_SIZES = {"vocab_size": 10_000, "n_topics": 20, "oversample": 10}

#: The cluster of exercise 7.4: documents, shards, documents per second per worker in a pass, passes per fit,
#: overhead per pass (s), the driver's own work (s), and the numbers of workers.
SCALING_CLUSTER = {"n_documents": 20_000_000, "n_shards": 400, "rate": 250_000, "passes": 6,
                    "overhead": 0.4, "driver": 2.0, "workers": (1, 8, 64, 256)}


def _m3_pass_sums(chunk, W):
    # the four partial sums of the whitened-M3 pass, document by document, from dense rows
    rows = chunk.toarray().astype(float)
    V, k = W.shape
    cube, cy, c3, yy = np.zeros((k, k, k)), np.zeros((V, k)), np.zeros(V), np.zeros((k, k))
    for c in rows:
        n = c.sum()
        if n < 3:
            continue
        w2, w3 = 1 / (n * (n - 1)), 1 / (n * (n - 1) * (n - 2))
        y = W.T @ c
        cube += w3 * np.multiply.outer(np.multiply.outer(y, y), y)
        cy += w3 * np.outer(c, y)
        c3 += w3 * c
        yy += w2 * np.outer(y, y)
    return cube, cy, c3, yy


def _m3_pass_cases():
    """Chunks and whitening matrices of sizes the chapter did not use, with documents of 1 and 2 words among them."""
    import scipy.sparse

    from .topics import make_lda_corpus

    rng = np.random.default_rng(81)
    cases = []
    for n_docs, n_topics, vocab, length, k in [(200, 3, 40, 20, 3), (1, 2, 12, 6, 2), (90, 5, 150, 40, 5)]:
        X, _, _ = make_lda_corpus(n_docs, n_topics, vocab, length, alpha=0.5, random_state=int(rng.integers(1000)))
        short = scipy.sparse.csr_matrix(np.eye(2, vocab))      # a 1-word document and a 2-word one
        short[1, 1] = 1.0
        cases.append((scipy.sparse.vstack([X, short]).tocsr(), rng.standard_normal((vocab, k))))
    return cases


def _dense_vs_partial_bytes():
    # allocate the block and ask NumPy its size; the cube's size from its shape and the item size
    c = SCALING_SIZES
    vocab, width = c["vocab_size"], c["n_topics"] + c["oversample"]
    return np.array([np.prod((vocab,) * 3, dtype=np.int64) * np.dtype(np.float64).itemsize,
                     np.empty((vocab, width)).nbytes], dtype=np.int64)


def _in_memory_components():
    from .topics import SpectralLDA

    X, alpha0 = scaling_data()
    return SpectralLDA(4, alpha0=alpha0, random_state=0).fit(X).components_


def _cluster_throughput():
    # schedule the shards of each pass greedily, one at a time, on the least busy worker
    import heapq

    c = SCALING_CLUSTER
    shard_seconds = c["n_documents"] / c["n_shards"] / c["rate"]
    out = []
    for workers in c["workers"]:
        busy = [0.0] * workers
        for _ in range(c["n_shards"]):
            heapq.heapreplace(busy, busy[0] + shard_seconds)
        fit_seconds = c["passes"] * (max(busy) + c["overhead"]) + c["driver"]
        out.append(c["n_documents"] / fit_seconds)
    return np.array(out)


EXERCISES = {
    e["number"]: e
    for e in [
        _entry(
            "1.1", "the mean spectrum of Indian Pines", _mean_spectrum,
            hint="Average the cube over the two spatial modes (axes 0 and 1); "
                 "the result has one value per band.",
            rtol=1e-9,
        ),
        _entry(
            "1.2", "grayscale as a contraction of the colour mode", _grayscale,
            hint="Only the colour index c is summed, so it appears in the inputs of the "
                 "einsum subscripts but not in the output; convert the photo to floats first.",
            rtol=1e-9,
            cases=_grayscale_cases, required=("numpy.einsum",),
        ),
        _entry(
            "1.3", "the vectorised outer product of image and question features", _vqa_outer,
            hint="Build the d_v x d_q matrix of all products v[i] * q[j], then flatten it in C order.",
            rtol=1e-12,
        ),
        _entry(
            "1.4", "parameters of a bilinear VQA classifier",
            lambda: 2048 * 2400 * 3000,
            hint="A bilinear classifier has one weight per (image feature, question feature, answer) triple.",
            rtol=0, atol=0.5,
        ),
        _entry(
            "2.1", "a mode-1 product through the unfolding", _mode1_loops,
            hint="unfold(X, 1) has the mode-1 fibers as columns; multiply it on the left by U, "
                 "then fold the result back into X's shape with mode 1 of size U.shape[0].",
            rtol=1e-10, cases=_mode1_cases, forbidden=MODE_PRODUCTS,
            required=("tensorbook.unfold", "tensorbook.fold"),
        ),
        _entry(
            "2.2", "flops of two orders for A B v",
            lambda: np.array([2 * 100 * 200 * 300 + 2 * 100 * 300, 2 * 200 * 300 + 2 * 100 * 200]),
            hint="An (m, k) @ (k, n) product costs 2 m k n flops; a matrix-vector product is the case n = 1.",
            rtol=0, atol=0.5,
        ),
        _entry(
            "2.3", "a Tucker tensor from its core and factors", _tucker_sum_of_outer_products,
            hint="Multiply the core by A in mode 0, B in mode 1 and C in mode 2; the result has shape (4, 5, 6).",
            rtol=1e-10,
        ),
        _entry(
            "2.4", "one step of the tensor power method", _power_step_eigenvector,
            hint="T(I, v, v) keeps index i and sums j and k: look for it in the table of contractions.",
            rtol=1e-10,
        ),
        _entry(
            "2.4b", "what T(I, a_0, a_0) is", lambda: float(_power_step_eigenvector() @ _power_step_eigenvector())
            ** 0.5,
            hint="Compare the answer with a_0: divide one by the other, entry by entry; every ratio is the same number: "
                 "answer that one number.",
            rtol=1e-10,
        ),
        _entry(
            "3.1", "the parameter count of a Tucker model", _tucker_pines_params,
            hint="Count the core and each factor matrix separately, then add; compare with the "
                 "145 * 145 * 200 entries of the cube.",
            rtol=0, atol=0.5,
        ),
        _entry(
            "3.2", "one ALS update by hand, for any mode", _als_update_lstsq,
            hint="F_n = MTTKRP(X, factors, n) times the inverse of the Hadamard product of the Gram matrices "
                 "F_k^T F_k of every other mode k; solve with that R x R matrix rather than inverting it.",
            rtol=1e-8, cases=_als_update_cases, required=("tensorbook.mttkrp",),
            forbidden=("tensorbook.cp_als", "tensorbook.decomposition", "tensorly.decomposition.parafac",
                       "numpy.linalg.lstsq", "numpy.linalg.pinv", "tensorbook.khatri_rao"),
        ),
        _entry(
            "3.3b", "why the TT ranks are at most 3", _qtt_why,
            hint="Write x = x_L + x_R (leading and trailing bits) and expand g(x_L + x_R).",
        ),
        _entry(
            "3.3", "the TT ranks of a quantised function", _qtt_ranks,
            hint="Reshape the samples to (2,) * 12 before tb.tt_svd. To explain the ranks, split "
                 "x = x_L + x_R into its leading and trailing bits and expand g(x_L + x_R): how many "
                 "products of a function of x_L and a function of x_R do you need?",
        ),
        _entry(
            "3.4", "the fixed point of the tensor power method", _power_fixed_point,
            hint="Iterate from theta0 until theta stops moving. Which component wins is decided by "
                 "lambda_i |<theta0, v_i>| (equation (3.6), the power step in coordinates), not by lambda_i alone.",
            rtol=1e-8, atol=1e-10,
        ),
        _entry(
            "3.4b", "why the power method chose that component", _power_why,
            hint="Write theta in the basis v_i: one step maps c_i to lambda_i c_i^2 / norm.",
        ),
        _entry(
            "4.1", "the distinct entries of a symmetric tensor", _symmetric_distinct_entries,
            hint="A symmetric entry depends only on the multiset of its indices: count the triples "
                 "a <= b <= c with 0 <= a, b, c < 50.",
            rtol=0, atol=0.5,
        ),
        _entry(
            "4.2", "the third cumulant of a one-dimensional mixture", _mixture_third_cumulant,
            hint="Centre at the mixture's mean first, then expand E[(x - m)^3] component by component; "
                 "the components' variances contribute too.",
            rtol=1e-8, atol=1e-10,
        ),
        _entry(
            "4.3", "M3(I, v, v) from sparse data, implicitly", _moment3_ivv_by_document,
            hint="M3(I, v, v) is the average of x_j (x_j . v)^2 over the rows x_j of X: one product with X and "
                 "one with X.T do it for all rows at once. The result has one entry per word.",
            rtol=1e-10, cases=_moment3_ivv_cases, forbidden=MOMENT_FUNCTIONS,
        ),
        _entry(
            "4.4", "the memory of a dense third moment", _dense_m3_memory,
            hint="Count the entries and the bytes each takes (a gigabyte here is 10^9 bytes).",
            rtol=1e-12, atol=1e-9,
        ),
        _entry(
            "5.1", "the alpha0-corrected M2 of a corpus, dense", _m2_by_word_positions,
            hint="Use the unbiased pair estimator from the text for each document, average, then apply "
                 "the alpha0 correction.",
            rtol=1e-10, cases=_m2_cases,
            forbidden=("tensorbook.topics", "tensorbook._corpus", "tensorbook.moments"),
        ),
        _entry(
            "5.2", "Dirichlet parameters from whitened weights", _alpha_from_weights,
            hint="Invert the relation between lambda_i and alpha_i given in the text, for the alpha0 given.",
            rtol=1e-8, cases=_alpha_cases, forbidden=("tensorbook.topics",),
        ),
        _entry(
            "5.2b", "the most common topic", _most_common_topic,
            hint="The most common topic has the largest alpha_i, so the smallest weight lambda_i.",
            rtol=0, atol=0,
        ),
        _entry(
            "5.3", "the entries of M3 and of the whitened tensor", _reuters_entries,
            hint="A V x V x V tensor has V**3 entries, V the vocabulary size (the number of columns of "
                 "the count matrix); the whitened tensor is k x k x k.",
        ),
        _entry(
            "5.4", "the Reuters topic whose top word is 'pope'", _reuters_pope_topic,
            hint="For each row of spectral.components_, find the word with the largest probability "
                 "(vocabulary[np.argmax(row)]); the answer is the index of the row, an integer.",
            rtol=0, atol=0,
        ),
        _entry(
            "6.1", "the gradient of a contraction layer with respect to its first factor", _tcl_gradient_u0,
            hint="dL/dU0[r, i] = sum over n, s, j of G[n, r, s] X[n, i, j] U1[s, j]: multiply X by U1 along its "
                 "last mode first, then contract with G over the batch and the other output mode.",
            rtol=1e-10, atol=1e-12,
            cases=_tcl_gradient_cases, forbidden=("tensorbook.nn",),
        ),
        _entry(
            "6.2", "the parameters of a TT layer and of the dense layer it replaces", _tt_layer_counts,
            hint="Core k has r_(k-1) m_k n_k r_k entries with r_0 = r_4 = 1; add the 64 biases. The dense layer "
                 "has 256 x 64 weights and 64 biases.",
            rtol=0, atol=0.5,
        ),
        _entry(
            "6.3", "a Tensor Sketch by the FFT", _sketch_by_outer_product,
            hint="c1[h1[i]] += s1[i] x[i] (np.add.at), likewise c2 with y; then "
                 "np.fft.irfft(np.fft.rfft(c1) * np.fft.rfft(c2), n=D).",
            rtol=1e-9, atol=1e-12,
            cases=_sketch_cases, forbidden=("tensorbook.nn",),
        ),
        _entry(
            "6.4", "the CP weight tensor of an MLB fusion", _mlb_weight,
            hint="W[i, j, o] = sum over r of U[i, r] V[j, r] P[r, o]: np.einsum('ir,jr,ro->ijo', U, V, P).",
            rtol=1e-10, atol=1e-12,
        ),
        _entry(
            "7.1", "the dense transition tensor of a TT-LSTM cell and its tensor train", _tt_cell_entries,
            hint="The state has S = L*H + 1 entries and an LSTM cell D = 4H pre-activations; the dense tensor "
                 "has P modes of size S and one of size D, core p has shape (r_p, S, r_(p+1)) with r_0 = 1 "
                 "and r_P = D.",
            rtol=0, atol=0.5,
        ),
        _entry(
            "7.2", "the tensor-train transition of a batch, core by core", _tt_batch_contraction,
            hint="Start with a = states @ cores[0][0] (batch x r_1); for each further core, form the row-wise "
                 "Kronecker product of a and the states (batch x r_p S) and multiply by the core reshaped to "
                 "(r_p S, r_(p+1)).",
            rtol=1e-9, atol=1e-10, cases=_tt_batch_cases, max_peak_bytes=1_000_000,
            forbidden=("tensorbook.forecast", "tensorbook.tt_to_tensor", "tensorly.tt_to_tensor"),
        ),
        _entry(
            "7.3", "the 24-hour-ahead RMSE of the daily and weekly seasonal-naive forecasts", _seasonal_naive_rmse_24h,
            hint="24 hours ahead, the daily seasonal-naive forecast of hour t is the value at t - 24 and the "
                 "weekly one the value at t - 168; compare with the truth at every hour t of the test part "
                 "dep[n_fit:] and pool the three airports.",
            rtol=1e-9,
        ),
        _entry(
            "7.4", "undoing the weekly differencing beyond one week", _undo_weekly_differencing,
            hint="y(t) = y(t - 168) + change(t): for the first 168 hours y(t - 168) is observed, after that "
                 "it is a forecast you have just made.",
            rtol=1e-10,
        ),
        _entry(
            "8.1", "the map of the whitened-M3 pass", _m3_pass_sums,
            hint="Keep the documents with n_d >= 3; with Y = chunk @ W (one row y_d per document) and the weights "
                 "w2, w3 as vectors: einsum('d,di,dj,dk->ijk', w3, Y, Y, Y), chunk.T @ (w3[:, None] * Y), "
                 "chunk.T @ w3 and (w2[:, None] * Y).T @ Y.",
            rtol=1e-9, atol=1e-14, cases=_m3_pass_cases,
            forbidden=("tensorbook.topics", "tensorbook._corpus", "tensorbook.distributed", "tensorbook.moments"),
        ),
        _entry(
            "8.2", "the bytes of a dense M3 and of the largest partial sum", _dense_vs_partial_bytes,
            hint="A float64 takes 8 bytes; the eigensolver's blocks have p = k + 10 columns, so a task of an "
                 "M2 pass returns a V x p array.",
            rtol=0, atol=0.5,
        ),
        _entry(
            "8.3", "the topics fit from shards on disk", _in_memory_components,
            hint="corpus = save_shards(X7, directory, docs_per_shard=250), then "
                 "SpectralLDA(4, alpha0=alpha7, random_state=0).fit(corpus).components_.",
            rtol=1e-8, atol=1e-12,
        ),
        _entry(
            "8.4", "the throughput of a cluster, worker count by worker count", _cluster_throughput,
            hint="In a pass the busiest worker processes ceil(n_shards / w) shards of n_documents / n_shards "
                 "documents each; add the overhead per pass, multiply by the passes, add the driver's work.",
            rtol=1e-9,
        ),
    ]
}
