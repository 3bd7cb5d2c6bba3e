"""tensorbook.decomposition against real oracles: planted truth, TensorLy, NumPy.

Every algorithm is checked on data whose answer is known independently of the
code under test (a planted low-rank tensor, a function whose TT ranks are
known in closed form, an orthogonal symmetric decomposition), against a
reconstruction computed directly with NumPy, and against TensorLy on the same
inputs.
"""

import itertools
import math

import numpy as np
import pytest
import tensorly as tl
from scipy.optimize import linear_sum_assignment
from tensorly.decomposition import parafac as tl_parafac
from tensorly.decomposition import tensor_train as tl_tensor_train
from tensorly.decomposition import tucker as tl_tucker

import tensorbook as tb


# --------------------------------------------------------------------------
# helpers (oracles written with plain NumPy)
# --------------------------------------------------------------------------


def rel_err(x, approx):
    return float(np.linalg.norm((x - approx).ravel()) / np.linalg.norm(x.ravel()))


def add_noise(x, level, seed):
    """``x`` plus Gaussian noise whose Frobenius norm is ``level * ||x||``."""
    noise = np.random.default_rng(seed).standard_normal(x.shape)
    return x + level * np.linalg.norm(x) / np.linalg.norm(noise) * noise


def einsum_cp(weights, factors):
    """sum_r w_r a_r^(0) o a_r^(1) o ... : the definition, written as one einsum."""
    letters = "abcdefgh"[: len(factors)]
    spec = "r," + ",".join(f"{c}r" for c in letters) + "->" + letters
    return np.einsum(spec, weights, *factors)


def congruence_matching(true_factors, est_factors):
    """Hungarian matching on prod_k |cos(a_r^(k), b_s^(k))|; returns (row, col, congruences)."""
    score = np.ones((true_factors[0].shape[1], est_factors[0].shape[1]))
    for a, b in zip(true_factors, est_factors):
        an = a / np.linalg.norm(a, axis=0)
        bn = b / np.linalg.norm(b, axis=0)
        score *= np.abs(an.T @ bn)
    rows, cols = linear_sum_assignment(-score)
    return rows, cols, score[rows, cols]


def symmetrise(t):
    return sum(t.transpose(p) for p in itertools.permutations(range(3))) / 6


def is_nonincreasing(errors, slack=1e-12):
    return all(b <= a + slack for a, b in zip(errors, errors[1:]))


@pytest.fixture(scope="module")
def planted_cp():
    """random_cp((20, 25, 30), 4) plus 1% noise: (truth, noisy tensor)."""
    truth = tb.random_cp((20, 25, 30), 4, random_state=1)
    return truth, add_noise(truth.to_tensor(), 0.01, seed=2)


# --------------------------------------------------------------------------
# containers: construction, validation, unpacking
# --------------------------------------------------------------------------


def test_cp_container_properties_and_einsum_oracle():
    rng = np.random.default_rng(0)
    shape, rank = (3, 4, 5, 2), 3
    weights = rng.standard_normal(rank)
    factors = [rng.standard_normal((s, rank)) for s in shape]
    cp = tb.CPTensor(weights, factors)
    assert cp.shape == shape and cp.rank == rank
    assert cp.n_params == sum(s * rank for s in shape) + rank
    assert cp.errors == ()
    w, f = cp  # unpacks as (weights, factors), like TensorLy's
    np.testing.assert_array_equal(w, weights)
    assert len(f) == 4 and all(np.array_equal(a, b) for a, b in zip(f, factors))
    expected = einsum_cp(weights, factors)
    np.testing.assert_allclose(cp.to_tensor(), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tb.cp_to_tensor(cp), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tb.cp_to_tensor((weights, factors)), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tl.cp_to_tensor(cp), expected, rtol=1e-12, atol=1e-12)
    # weights=None means unit weights
    np.testing.assert_allclose(tb.cp_to_tensor((None, factors)), einsum_cp(np.ones(rank), factors), atol=1e-12)
    # a single mode: the weighted row sums
    single = tb.CPTensor(weights, [factors[0]])
    np.testing.assert_allclose(single.to_tensor(), factors[0] @ weights, atol=1e-12)


def test_tucker_container_properties_and_tensorly():
    rng = np.random.default_rng(1)
    core = rng.standard_normal((2, 3, 4))
    factors = [rng.standard_normal((s, r)) for s, r in zip((5, 6, 7), core.shape)]
    t = tb.TuckerTensor(core, factors)
    assert t.shape == (5, 6, 7) and t.rank == (2, 3, 4)
    assert t.n_params == 2 * 3 * 4 + 5 * 2 + 6 * 3 + 7 * 4
    c, f = t
    np.testing.assert_array_equal(c, core)
    expected = np.einsum("abc,ia,jb,kc->ijk", core, *factors)
    np.testing.assert_allclose(t.to_tensor(), expected, atol=1e-12)
    np.testing.assert_allclose(tb.tucker_to_tensor(t), expected, atol=1e-12)
    np.testing.assert_allclose(tb.tucker_to_tensor((core, factors)), expected, atol=1e-12)
    np.testing.assert_allclose(tl.tucker_to_tensor(t), expected, atol=1e-12)


def test_tt_container_properties_and_tensorly():
    rng = np.random.default_rng(2)
    ranks = (1, 2, 3, 2, 1)
    shape = (3, 4, 5, 2)
    cores = [rng.standard_normal((ranks[k], s, ranks[k + 1])) for k, s in enumerate(shape)]
    tt = tb.TTTensor(cores)
    assert tt.shape == shape and tt.rank == ranks
    assert tt.n_params == sum(ranks[k] * s * ranks[k + 1] for k, s in enumerate(shape))
    assert len(tt) == 4 and all(np.array_equal(a, b) for a, b in zip(tt, cores))
    expected = np.einsum("aib,bjc,ckd,dle->ijkl", *cores)
    np.testing.assert_allclose(tt.to_tensor(), expected, atol=1e-12)
    np.testing.assert_allclose(tb.tt_to_tensor(tt), expected, atol=1e-12)
    np.testing.assert_allclose(tb.tt_to_tensor(cores), expected, atol=1e-12)
    np.testing.assert_allclose(tl.tt_to_tensor(tt), expected, atol=1e-12)


def test_random_containers_unpack_like_tensorly():
    cp = tb.random_cp((4, 5, 6), 3, random_state=0)
    tk = tb.random_tucker((4, 5, 6), (2, 3, 4), random_state=0)
    tt = tb.random_tt((3, 4, 5, 6), 3, random_state=0)
    np.testing.assert_allclose(tl.cp_to_tensor(cp), cp.to_tensor(), atol=1e-12)
    np.testing.assert_allclose(tl.tucker_to_tensor(tk), tk.to_tensor(), atol=1e-12)
    np.testing.assert_allclose(tl.tt_to_tensor(tt), tt.to_tensor(), atol=1e-12)
    assert tt.rank == (1, 3, 3, 3, 1)
    # random_tucker's factors are orthonormal
    for u in tk.factors:
        np.testing.assert_allclose(u.T @ u, np.eye(u.shape[1]), atol=1e-12)


_ones = np.ones


@pytest.mark.parametrize(
    "build, error, match",
    [
        # CPTensor
        (lambda: tb.CPTensor(_ones(2), [_ones((3, 2)), _ones((4, 3))]), ValueError,
         r"factors must all have the same number of columns \(the rank\): factors\[0\] has 2, factors\[1\] has 3"),
        (lambda: tb.CPTensor(_ones(3), [_ones((3, 2)), _ones((4, 2))]), ValueError,
         r"weights must have shape \(2,\), one per column of the factors, got \(3,\)"),
        (lambda: tb.CPTensor(_ones((2, 1)), [_ones((3, 2))]), ValueError, r"weights must be 1-D, got shape \(2, 1\)"),
        (lambda: tb.CPTensor(_ones(2), _ones((3, 2))), TypeError, "factors must be a list of matrices, got ndarray"),
        (lambda: tb.CPTensor(_ones(2), 3.0), TypeError, "factors must be a list of matrices, got float"),
        (lambda: tb.CPTensor(_ones(2), []), ValueError, "factors must hold at least 1 matrix, got 0"),
        (lambda: tb.CPTensor(_ones(2), [_ones(3)]), ValueError, r"factors\[0\] must be 2-D, got shape \(3,\)"),
        (lambda: tb.CPTensor(None, [np.array([["a"]])]), TypeError, r"factors\[0\] must be an array of numbers"),
        (lambda: tb.CPTensor(None, [np.ones((2, 2), dtype=complex)]), TypeError, r"factors\[0\] must be real"),
        (lambda: tb.CPTensor(_ones(2), [_ones((3, 2)), np.array([[1.0, np.nan]])]), ValueError,
         r"factors\[1\] must contain only finite values, got NaN or infinity"),
        (lambda: tb.CPTensor(np.array([1.0, np.inf]), [_ones((3, 2))]), ValueError,
         "weights must contain only finite values"),
        # TuckerTensor
        (lambda: tb.TuckerTensor(_ones((2, 3)), [_ones((4, 2))]), ValueError,
         r"factors must hold one matrix per mode of the core \(2\), got 1"),
        (lambda: tb.TuckerTensor(_ones((2, 3)), [_ones((4, 2)), _ones((5, 2))]), ValueError,
         r"factors\[1\] must have 3 columns \(the size of mode 1 of the core\), got shape \(5, 2\)"),
        (lambda: tb.TuckerTensor(np.float64(1.0), [_ones((4, 1))]), ValueError,
         r"core must have at least 1 dimension\(s\)"),
        (lambda: tb.TuckerTensor(np.full((1, 1), np.nan), [_ones((2, 1)), _ones((2, 1))]), ValueError,
         "core must contain only finite values"),
        (lambda: tb.TuckerTensor(_ones((1, 1)), [_ones((2, 1)), np.full((2, 1), -np.inf)]), ValueError,
         r"factors\[1\] must contain only finite values"),
        (lambda: tb.TuckerTensor(_ones((1, 1)), _ones((2, 1))), TypeError, "factors must be a list of matrices"),
        # TTTensor
        (lambda: tb.TTTensor([_ones((2, 3, 1))]), ValueError,
         r"cores\[0\]\.shape\[0\] must be 1 \(the boundary rank r_0\), got 2"),
        (lambda: tb.TTTensor([_ones((1, 3, 2)), _ones((2, 4, 2))]), ValueError,
         r"cores\[1\]\.shape\[2\] must be 1 \(the boundary rank r_N\), got 2"),
        (lambda: tb.TTTensor([_ones((1, 3, 2)), _ones((3, 4, 1))]), ValueError,
         r"cores\[1\]\.shape\[0\] must equal cores\[0\]\.shape\[2\] \(the rank between modes 0 and 1\), got 3 and 2"),
        (lambda: tb.TTTensor([_ones((1, 3, 2)), _ones((2, 4, 3)), _ones((2, 5, 1))]), ValueError,
         r"cores\[2\]\.shape\[0\] must equal cores\[1\]\.shape\[2\] \(the rank between modes 1 and 2\), got 2 and 3"),
        (lambda: tb.TTTensor([_ones((1, 3))]), ValueError, r"cores\[0\] must be 3-D, got shape \(1, 3\)"),
        (lambda: tb.TTTensor(_ones((1, 2, 1))), TypeError, "cores must be a list of 3-D arrays, got ndarray"),
        (lambda: tb.TTTensor([]), ValueError, "cores must hold at least one core, got none"),
        (lambda: tb.TTTensor([_ones((1, 2, 1)), np.full((1, 2, 1), np.nan)]), ValueError,
         r"cores\[1\] must contain only finite values"),
        # the *_to_tensor functions validate tuples the same way
        (lambda: tb.cp_to_tensor((_ones(3), [_ones((3, 2))])), ValueError, r"weights must have shape \(2,\)"),
        (lambda: tb.tucker_to_tensor((_ones((2, 2)), [_ones((3, 2))])), ValueError, "one matrix per mode"),
        (lambda: tb.tt_to_tensor([_ones((1, 2, 2))]), ValueError, "boundary rank r_N"),
    ],
)
def test_containers_reject_bad_input_with_clear_messages(build, error, match):
    with pytest.raises(error, match=match):
        build()


# --------------------------------------------------------------------------
# CP-ALS
# --------------------------------------------------------------------------


def test_cp_als_recovers_planted_factors(planted_cp):
    truth, x = planted_cp
    cp = tb.cp_als(x, 4, n_iter_max=200, tol=1e-12)
    assert isinstance(cp, tb.CPTensor) and cp.shape == x.shape and cp.rank == 4
    rows, cols, cong = congruence_matching(truth.factors, cp.factors)
    assert cong.min() >= 0.99, cong
    # the component magnitudes match too: |w_s| = prod_k ||a_r^(k)|| (truth has unit weights)
    true_mag = np.prod([np.linalg.norm(f, axis=0) for f in truth.factors], axis=0)
    est_mag = np.abs(cp.weights) * np.prod([np.linalg.norm(f, axis=0) for f in cp.factors], axis=0)
    np.testing.assert_allclose(est_mag[cols], true_mag[rows], rtol=0.03)
    # the fit is at the noise level: error about 0.01, never much above
    assert cp.errors[-1] <= 0.0105
    # the returned error is the real one, computed directly
    assert cp.errors[-1] == pytest.approx(rel_err(x, cp.to_tensor()), abs=1e-8)
    # and the reconstruction is close to the noiseless truth (denoising)
    assert rel_err(truth.to_tensor(), cp.to_tensor()) < 0.01


@pytest.mark.parametrize("init", ["svd", "random"])
def test_cp_als_error_history_nonincreasing_and_exact(planted_cp, init):
    _, x = planted_cp
    cp = tb.cp_als(x, 4, n_iter_max=60, tol=0, init=init, random_state=3)
    assert len(cp.errors) == 60  # tol=0 runs every sweep
    assert is_nonincreasing(cp.errors), np.diff(cp.errors).max()
    assert cp.errors[-1] == pytest.approx(rel_err(x, cp.to_tensor()), abs=1e-8)
    # the same with a rank that is not the planted one (over-fitting the noise)
    cp5 = tb.cp_als(x, 5, n_iter_max=30, tol=0, init=init, random_state=3)
    assert is_nonincreasing(cp5.errors)
    assert cp5.errors[-1] == pytest.approx(rel_err(x, cp5.to_tensor()), abs=1e-8)


def test_cp_als_error_is_exact_on_small_pure_noise():
    # no low-rank structure at all: the error is large and the formula must still match
    x = np.random.default_rng(5).standard_normal((5, 6, 7))
    cp = tb.cp_als(x, 3, n_iter_max=25, tol=0, init="random", random_state=0)
    assert is_nonincreasing(cp.errors)
    for_sure = rel_err(x, cp.to_tensor())
    assert 0.3 < for_sure < 1
    assert cp.errors[-1] == pytest.approx(for_sure, abs=1e-8)


def test_cp_als_exact_rank_reaches_zero_error():
    truth = tb.random_cp((6, 7, 8), 3, random_state=0)
    x = truth.to_tensor()
    cp = tb.cp_als(x, 3, n_iter_max=500, tol=0)
    assert rel_err(x, cp.to_tensor()) < 1e-6
    # The error is computed as sqrt(||X||^2 - 2<X, Xhat> + ||Xhat||^2) / ||X||: a cancellation whose
    # floor is ~sqrt(machine eps) = 1.5e-8, below which the history jitters (by up to ~2e-8 measured).
    # Above that floor it must never increase; at the floor it must still agree with the direct error.
    meaningful = [e for e in cp.errors if e > 1e-6]
    assert len(meaningful) > 5 and is_nonincreasing(meaningful)
    assert cp.errors[-1] == pytest.approx(rel_err(x, cp.to_tensor()), abs=5e-8)
    _, _, cong = congruence_matching(truth.factors, cp.factors)
    assert cong.min() > 1 - 1e-6


def test_cp_als_tol_stops_early(planted_cp):
    _, x = planted_cp
    cp = tb.cp_als(x, 4, n_iter_max=500, tol=1e-6)
    errs = cp.errors
    assert 1 < len(errs) < 500
    assert abs(errs[-2] - errs[-1]) < 1e-6
    assert all(abs(a - b) >= 1e-6 for a, b in zip(errs[:-2], errs[1:-1]))
    # the full run is not meaningfully better: tol stopped near convergence
    full = tb.cp_als(x, 4, n_iter_max=len(errs) + 50, tol=0)
    assert full.errors[len(errs) - 1] == pytest.approx(errs[-1], abs=1e-12)
    assert errs[-1] - full.errors[-1] < 1e-3


def test_cp_als_init_cptensor(planted_cp):
    truth, x = planted_cp
    # starting from the truth, ALS stays there
    cp = tb.cp_als(x, 4, init=truth, n_iter_max=20, tol=0)
    _, _, cong = congruence_matching(truth.factors, cp.factors)
    assert cong.min() > 0.99
    assert cp.errors[0] <= rel_err(x, truth.to_tensor()) + 1e-12  # one sweep can only help
    assert is_nonincreasing(cp.errors)
    # n_iter_max=0 returns the start unchanged (weights absorbed into the factors)
    start = tb.random_cp(x.shape, 4, random_state=9)
    start = tb.CPTensor(np.array([1.0, 2.0, 3.0, 4.0]), start.factors)
    same = tb.cp_als(x, 4, init=start, n_iter_max=0)
    assert same.errors == ()
    np.testing.assert_allclose(same.to_tensor(), start.to_tensor(), atol=1e-12)
    # the init is not modified in place
    before = [f.copy() for f in start.factors]
    tb.cp_als(x, 4, init=start, n_iter_max=3)
    assert all(np.array_equal(a, b) for a, b in zip(before, start.factors))
    # a plain (weights, factors) tuple works too
    from_tuple = tb.cp_als(x, 4, init=(start.weights, start.factors), n_iter_max=3, tol=0)
    from_cp = tb.cp_als(x, 4, init=start, n_iter_max=3, tol=0)
    np.testing.assert_allclose(from_tuple.to_tensor(), from_cp.to_tensor(), atol=1e-12)
    with pytest.raises(ValueError, match=r"init must be a CP tensor of shape \(20, 25, 30\) and rank 4, got shape "
                                         r"\(20, 25, 30\) and rank 3"):
        tb.cp_als(x, 4, init=tb.random_cp(x.shape, 3, random_state=0))


def test_cp_als_float32(planted_cp):
    truth, x = planted_cp
    x32 = x.astype(np.float32)
    cp = tb.cp_als(x32, 4, n_iter_max=100, tol=0)
    assert all(np.all(np.isfinite(f)) for f in cp.factors)
    _, _, cong = congruence_matching(truth.factors, cp.factors)
    assert cong.min() >= 0.99
    direct = rel_err(x, cp.to_tensor().astype(np.float64))
    assert direct < 0.0105
    # float32 cancellation in ||X||^2 - 2<X, Xhat> + ||Xhat||^2 limits the reported error's accuracy
    assert cp.errors[-1] == pytest.approx(direct, abs=2e-3)


def test_cp_als_rank_above_a_mode_size():
    # svd init pads with random columns where R exceeds the mode's size
    truth = tb.random_cp((3, 8, 9), 4, random_state=0)
    x = add_noise(truth.to_tensor(), 0.01, seed=1)
    cp = tb.cp_als(x, 4, n_iter_max=300, tol=0, random_state=0)
    assert cp.rank == 4 and is_nonincreasing(cp.errors)
    assert cp.errors[-1] == pytest.approx(rel_err(x, cp.to_tensor()), abs=1e-8)
    assert cp.errors[-1] < 0.0105
    assert rel_err(truth.to_tensor(), cp.to_tensor()) < 0.01


def test_verbose_shows_one_progress_bar_and_prints_nothing(capsys):
    cp = tb.cp_als(_X, 2, n_iter_max=3, tol=0, verbose=True)
    out, err = capsys.readouterr()
    assert out == ""  # progress is a tqdm bar on stderr, never print()
    assert "CP-ALS, rank 2" in err and "3/3" in err and f"error={cp.errors[-1]:.3e}" in err
    t = tb.tucker(_X, 2, n_iter_max=2, tol=0, verbose=True)
    out, err = capsys.readouterr()
    assert out == "" and "HOOI, rank (2, 2, 2)" in err and f"error={t.errors[-1]:.3e}" in err
    tb.cp_als(_X, 2, n_iter_max=3, verbose=False)
    assert capsys.readouterr() == ("", "")


def test_tucker_and_tt_svd_float32_and_integer_input():
    x = np.random.default_rng(0).standard_normal((5, 6, 7))
    for data in (x.astype(np.float32), np.round(10 * x).astype(np.int64)):
        ref = data.astype(np.float64)
        t = tb.tucker(data, (2, 3, 4))
        assert t.errors[-1] == pytest.approx(rel_err(ref, t.to_tensor().astype(np.float64)), abs=1e-5)
        for u in t.factors:
            np.testing.assert_allclose(u.T @ u, np.eye(u.shape[1]), atol=1e-5)
        tt = tb.tt_svd(data, eps=0.5)
        assert rel_err(ref, tt.to_tensor().astype(np.float64)) <= 0.5
        assert tt.rank != (1, 5, 7, 1)


def test_cp_als_matrix():
    rng = np.random.default_rng(0)
    m = rng.standard_normal((9, 2)) @ rng.standard_normal((2, 7))
    cp = tb.cp_als(m, 2, n_iter_max=50, tol=0)
    np.testing.assert_allclose(cp.to_tensor(), m, atol=1e-8)


def test_cp_als_agrees_with_tensorly():
    truth = tb.random_cp((10, 12, 14), 3, random_state=4)
    x = add_noise(truth.to_tensor(), 0.05, seed=5)
    ours = tb.cp_als(x, 3, init="svd", n_iter_max=100, tol=0)
    theirs = tl_parafac(x, 3, init="svd", n_iter_max=100, tol=0)
    err_ours, err_theirs = rel_err(x, ours.to_tensor()), rel_err(x, tl.cp_to_tensor(theirs))
    assert err_ours == pytest.approx(err_theirs, rel=0.01)
    assert 0.04 < err_ours < 0.06


# --------------------------------------------------------------------------
# Tucker: HOSVD and HOOI
# --------------------------------------------------------------------------


def _orthonormal(u):
    np.testing.assert_allclose(u.T @ u, np.eye(u.shape[1]), atol=1e-10)


def test_hosvd_exact_at_full_multilinear_rank():
    x = np.random.default_rng(0).standard_normal((4, 5, 6))
    t = tb.tucker(x, (4, 5, 6), method="hosvd")
    assert t.rank == (4, 5, 6) and t.shape == x.shape
    np.testing.assert_allclose(t.to_tensor(), x, atol=1e-10)
    assert t.errors[0] < 1e-6  # sqrt of a cancellation: exact up to ~sqrt(machine eps)
    for u in t.factors:
        _orthonormal(u)
    # an integer rank is capped at each mode's size: full rank again
    t_int = tb.tucker(x, 6, method="hosvd")
    assert t_int.rank == (4, 5, 6)
    np.testing.assert_allclose(t_int.to_tensor(), x, atol=1e-10)
    # ... and at the product of the other sizes: a (2, 2, 10) tensor has mode-2 rank at most 4
    flat = np.random.default_rng(9).standard_normal((2, 2, 10))
    t_cap = tb.tucker(flat, 10, method="hosvd")
    assert t_cap.rank == (2, 2, 4)
    np.testing.assert_allclose(t_cap.to_tensor(), flat, atol=1e-10)


def test_hosvd_exact_at_planted_rank():
    planted = tb.random_tucker((7, 8, 9), (2, 3, 4), random_state=0)
    x = planted.to_tensor()
    for method in ("hosvd", "hooi"):
        t = tb.tucker(x, (2, 3, 4), method=method)
        np.testing.assert_allclose(t.to_tensor(), x, atol=1e-10)
        for u, v in zip(t.factors, planted.factors):
            _orthonormal(u)
            # same column space as the planted factor: equal orthogonal projectors
            np.testing.assert_allclose(u @ u.T, v @ v.T, atol=1e-10)


def test_hosvd_factors_are_leading_singular_vectors():
    x = np.random.default_rng(1).standard_normal((5, 6, 7))
    ranks = (2, 3, 4)
    t = tb.tucker(x, ranks, method="hosvd")
    assert len(t.errors) == 1
    for k, (u, r) in enumerate(zip(t.factors, ranks)):
        unfolding = np.moveaxis(x, k, 0).reshape(x.shape[k], -1)
        ref = np.linalg.svd(unfolding)[0][:, :r]
        np.testing.assert_allclose(u @ u.T, ref @ ref.T, atol=1e-8)
    np.testing.assert_allclose(t.core, np.einsum("ijk,ia,jb,kc->abc", x, *t.factors), atol=1e-12)
    assert t.errors[0] == pytest.approx(rel_err(x, t.to_tensor()), abs=1e-10)


def test_hooi_improves_on_hosvd_and_history_nonincreasing():
    planted = tb.random_tucker((10, 11, 12), (3, 3, 3), random_state=2)
    x = add_noise(planted.to_tensor(), 0.3, seed=3)
    hosvd = tb.tucker(x, (3, 3, 3), method="hosvd")
    hooi = tb.tucker(x, (3, 3, 3), method="hooi", n_iter_max=50, tol=0)
    # the HOSVD error, then one per sweep; tol=0 runs every sweep
    assert len(hooi.errors) == 51
    assert abs(hooi.errors[-2] - hooi.errors[-1]) < 1e-12
    assert hooi.errors[0] == pytest.approx(hosvd.errors[0], abs=1e-12)
    assert is_nonincreasing(hooi.errors)
    err_hosvd, err_hooi = rel_err(x, hosvd.to_tensor()), rel_err(x, hooi.to_tensor())
    assert err_hooi <= err_hosvd + 1e-12
    assert hooi.errors[-1] == pytest.approx(err_hooi, abs=1e-10)
    assert hosvd.errors[-1] == pytest.approx(err_hosvd, abs=1e-10)
    for u in hooi.factors:
        _orthonormal(u)
    # on a noisier, unstructured tensor HOOI strictly improves on HOSVD
    y = np.random.default_rng(4).standard_normal((6, 7, 8))
    y_hosvd = tb.tucker(y, (2, 2, 2), method="hosvd")
    y_hooi = tb.tucker(y, (2, 2, 2), n_iter_max=100, tol=0)
    assert is_nonincreasing(y_hooi.errors)
    assert rel_err(y, y_hooi.to_tensor()) < rel_err(y, y_hosvd.to_tensor()) - 1e-6
    assert y_hooi.errors[-1] == pytest.approx(rel_err(y, y_hooi.to_tensor()), abs=1e-10)
    # tol stops HOOI early; n_iter_max=0 is HOSVD
    stopped = tb.tucker(y, (2, 2, 2), n_iter_max=100, tol=1e-4)
    assert len(stopped.errors) < 101 and stopped.errors[-2] - stopped.errors[-1] < 1e-4
    zero = tb.tucker(y, (2, 2, 2), n_iter_max=0)
    np.testing.assert_allclose(zero.to_tensor(), y_hosvd.to_tensor(), atol=1e-12)


def test_tucker_agrees_with_tensorly():
    planted = tb.random_tucker((9, 10, 11), (2, 3, 4), random_state=6)
    x = add_noise(planted.to_tensor(), 0.1, seed=7)
    ours = tb.tucker(x, (2, 3, 4))
    core, factors = tl_tucker(x, rank=[2, 3, 4])
    err_ours = rel_err(x, ours.to_tensor())
    err_theirs = rel_err(x, tl.tucker_to_tensor((core, factors)))
    assert err_ours == pytest.approx(err_theirs, rel=0.01)
    assert err_ours <= err_theirs + 1e-10  # ours runs HOOI to tol=1e-8, TensorLy to 1e-4


# --------------------------------------------------------------------------
# TT-SVD
# --------------------------------------------------------------------------


def test_tt_svd_exact_on_random_tt():
    planted = tb.random_tt((3, 4, 5, 4, 3), [2, 3, 3, 2], random_state=0)
    x = planted.to_tensor()
    tt = tb.tt_svd(x, rank=[2, 3, 3, 2])
    assert tt.rank == (1, 2, 3, 3, 2, 1)
    np.testing.assert_allclose(tt.to_tensor(), x, atol=1e-10 * np.abs(x).max())
    # eps finds the planted ranks on its own
    tt_eps = tb.tt_svd(x, eps=1e-10)
    assert tt_eps.rank == planted.rank
    assert rel_err(x, tt_eps.to_tensor()) <= 1e-10
    # the d+1 form with ones at both ends is the same
    assert tb.tt_svd(x, rank=[1, 2, 3, 3, 2, 1]).rank == tt.rank
    # an integer caps every bond (and at the shape's maximum)
    assert tb.tt_svd(x, rank=2).rank == (1, 2, 2, 2, 2, 1)
    big = tb.tt_svd(x, rank=100)
    assert big.rank == (1, 3, 12, 12, 3, 1)  # min(prod(shape[:k+1]), prod(shape[k+1:]))
    np.testing.assert_allclose(big.to_tensor(), x, atol=1e-10 * np.abs(x).max())
    # the left cores are orthonormal (left-to-right sweep)
    for core in tt[:-1]:
        mat = core.reshape(-1, core.shape[2])
        np.testing.assert_allclose(mat.T @ mat, np.eye(core.shape[2]), atol=1e-10)


@pytest.mark.parametrize("eps", [0.6, 0.3, 1e-1, 1e-2, 1e-4, 1e-8])
def test_tt_svd_eps_bound_on_random_tensors(eps):
    rng = np.random.default_rng(round(-10 * math.log10(eps)))
    for shape in [(4, 5, 6), (3, 3, 3, 3, 3), (2, 7, 3, 5), (6, 2, 2, 2, 6)]:
        x = rng.standard_normal(shape)
        tt = tb.tt_svd(x, eps=eps)
        assert rel_err(x, tt.to_tensor()) <= eps * (1 + 1e-10)
        # the first bond keeps the fewest singular values whose dropped tail is <= eps ||x|| / sqrt(d - 1)
        s = np.linalg.svd(x.reshape(shape[0], -1), compute_uv=False)
        delta = eps * np.linalg.norm(x) / math.sqrt(x.ndim - 1)
        fewest = min(r for r in range(1, len(s) + 1) if np.sqrt(np.sum(s[r:] ** 2)) <= delta)
        assert tt.rank[1] == fewest
    if eps >= 0.3:  # the truncation really bites: the reconstruction is not exact
        assert rel_err(x, tt.to_tensor()) > 1e-3
    # low rank + noise at the eps level: the truncation lands at the planted ranks
    planted = tb.random_tt((4, 5, 6, 5), 2, random_state=1).to_tensor()
    x = add_noise(planted, eps / 10, seed=2)
    tt = tb.tt_svd(x, eps=eps)
    assert rel_err(x, tt.to_tensor()) <= eps
    assert max(tt.rank) <= 2


def test_tt_svd_ranks_shrink_as_eps_grows():
    # a smooth, non-separable function: 1 / (1 + i1 + i2 + i3 + i4 + i5)
    grid = np.indices((6,) * 5).sum(axis=0)
    x = 1.0 / (1.0 + grid)
    previous = None
    for eps in [1e-12, 1e-8, 1e-4, 1e-2, 1e-1]:
        tt = tb.tt_svd(x, eps=eps)
        assert rel_err(x, tt.to_tensor()) <= eps * (1 + 1e-8)
        if previous is not None:
            assert all(r <= p for r, p in zip(tt.rank, previous))
        previous = tt.rank
    assert max(previous) < max(tb.tt_svd(x, eps=1e-12).rank)


def _qtt_grid(d):
    return np.linspace(0.0, 1.0, 2**d).reshape((2,) * d)


def _sum_grid(shape):
    axes = [np.linspace(0.0, 1.0, n) for n in shape]
    return sum(np.meshgrid(*axes, indexing="ij"))


@pytest.mark.parametrize("eps", [1e-12, 1e-8, 1e-4])
@pytest.mark.parametrize(
    "name, make, inner_rank",
    [
        # exp(a + b) = exp(a) exp(b): every unfolding has rank 1
        ("qtt exp", lambda: np.exp(_qtt_grid(12)), 1),
        ("exp(x1+...+x4)", lambda: np.exp(_sum_grid((5, 6, 7, 8))), 1),
        # sin(a + b) = sin a cos b + cos a sin b: rank 2
        ("qtt sin", lambda: np.sin(5 * _qtt_grid(12)), 2),
        ("sin(x1+...+x4)", lambda: np.sin(3 * _sum_grid((5, 6, 7, 8))), 2),
        # a sum of two exponentials of the sum: rank 2
        ("exp + exp", lambda: np.exp(-_sum_grid((5, 6, 7, 8))) + np.exp(-3 * _sum_grid((5, 6, 7, 8))), 2),
        # x1 + ... + x4 = (x1 + rest) * 1: rank 2
        ("x1+...+x4", lambda: _sum_grid((5, 6, 7, 8)) + 1.0, 2),
    ],
)
def test_tt_svd_known_ranks_of_structured_tensors(name, make, inner_rank, eps):
    x = make()
    tt = tb.tt_svd(x, eps=eps)
    assert rel_err(x, tt.to_tensor()) <= eps * (1 + 1e-10)
    if eps <= 1e-8:
        assert tt.rank == (1,) + (inner_rank,) * (x.ndim - 1) + (1,), name
    else:
        assert max(tt.rank) <= inner_rank, name
    # asking for those ranks is (numerically) exact
    exact = tb.tt_svd(x, rank=inner_rank)
    assert rel_err(x, exact.to_tensor()) < 1e-12 * 100


def test_tt_svd_eps_zero_and_two_modes():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 5, 3))
    tt = tb.tt_svd(x, eps=0)
    assert tt.rank == (1, 4, 3, 1)
    np.testing.assert_allclose(tt.to_tensor(), x, atol=1e-12)
    # a matrix: TT-SVD is the truncated SVD (Eckart-Young)
    m = rng.standard_normal((6, 8))
    tt2 = tb.tt_svd(m, rank=3)
    s = np.linalg.svd(m, compute_uv=False)
    assert np.linalg.norm(m - tt2.to_tensor()) == pytest.approx(np.sqrt(np.sum(s[3:] ** 2)), rel=1e-10)


def test_tt_svd_agrees_with_tensorly():
    planted = tb.random_tt((4, 5, 6, 5), 3, random_state=8).to_tensor()
    x = add_noise(planted, 0.1, seed=9)
    r = 3
    ours = tb.tt_svd(x, rank=r)
    theirs = tl_tensor_train(x, rank=[1, r, r, r, 1])
    err_ours, err_theirs = rel_err(x, ours.to_tensor()), rel_err(x, tl.tt_to_tensor(theirs))
    assert err_ours == pytest.approx(err_theirs, rel=0.01)
    assert ours.rank == tuple(c.shape[2] for c in [np.ones((1, 1, 1))] + list(theirs))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"rank": [3, 2]}, ValueError,
         r"rank\[0\] = 3 cannot exist for shape \(2, 3, 4\): the rank between modes 0 and 1 is at most "
         r"min\(prod\(shape\[:1\]\), prod\(shape\[1:\]\)\) = 2"),
        ({"rank": [2, 5]}, ValueError,
         r"rank\[1\] = 5 cannot exist for shape \(2, 3, 4\): the rank between modes 1 and 2 is at most "
         r"min\(prod\(shape\[:2\]\), prod\(shape\[2:\]\)\) = 4"),
        ({"rank": [2, 3, 4, 1]}, ValueError, r"rank must start and end with 1 \(the boundary ranks\), got \[2, 3, 4, 1\]"),
        ({"rank": [2]}, ValueError, r"rank must give the 2 inner ranks \(or all 4\), got 1"),
        ({"rank": [2, 0]}, ValueError, r"rank\[1\] must be an integer >= 1, got 0"),
        ({"rank": 0}, ValueError, "rank must be an integer >= 1, got 0"),
        ({"rank": -2}, ValueError, "rank must be an integer >= 1, got -2"),
        ({"rank": 2.0}, TypeError, "rank must be an integer or a sequence of integers, got 2.0"),
        ({"rank": True}, TypeError, "rank must be an integer or a sequence of integers, got True"),
        ({"rank": 2, "eps": 0.1}, ValueError, "give exactly one of rank and eps"),
        ({}, ValueError, "give exactly one of rank and eps"),
        ({"eps": -0.1}, ValueError, "eps must be a finite number >= 0, got -0.1"),
        ({"eps": float("nan")}, ValueError, "eps must be a finite number >= 0, got nan"),
        ({"eps": "0.1"}, ValueError, "eps must be a finite number >= 0, got '0.1'"),
    ],
)
def test_tt_svd_bad_input(kwargs, error, match):
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    with pytest.raises(error, match=match):
        tb.tt_svd(x, **kwargs)


# --------------------------------------------------------------------------
# symmetric tensor power method
# --------------------------------------------------------------------------

K, R = 8, 5
LAMBDAS = np.array([5.0, 4.0, 3.0, 2.0, 1.0])


@pytest.fixture(scope="module")
def orthogonal_symmetric():
    v = np.linalg.qr(np.random.default_rng(3).standard_normal((K, R)))[0]
    return v, tb.cp_to_tensor((LAMBDAS, [v, v, v]))


def _match_symmetric(v, cp):
    """(vector error, weight error): max over components after matching by |cos|."""
    w = cp.factors[0]
    rows, cols = linear_sum_assignment(-np.abs(v.T @ w))
    vec_err = max(np.linalg.norm(v[:, i] - w[:, j]) for i, j in zip(rows, cols))
    weight_err = max(abs(LAMBDAS[i] - cp.weights[j]) for i, j in zip(rows, cols))
    return vec_err, weight_err


def test_power_method_recovers_orthogonal_decomposition(orthogonal_symmetric):
    v, t = orthogonal_symmetric
    cp = tb.symmetric_power_method(t, R, random_state=0)
    assert isinstance(cp, tb.CPTensor) and cp.shape == (K, K, K) and cp.rank == R
    vec_err, weight_err = _match_symmetric(v, cp)
    assert vec_err < 1e-8 and weight_err < 1e-8
    # all three factors are the same vectors, of unit norm
    np.testing.assert_array_equal(cp.factors[0], cp.factors[1])
    np.testing.assert_array_equal(cp.factors[0], cp.factors[2])
    np.testing.assert_allclose(np.linalg.norm(cp.factors[0], axis=0), 1, atol=1e-12)
    np.testing.assert_allclose(cp.to_tensor(), t, atol=1e-8)
    # distinct weights: found largest first
    np.testing.assert_allclose(cp.weights, LAMBDAS, atol=1e-8)


def test_power_method_through_a_callable(orthogonal_symmetric):
    v, t = orthogonal_symmetric
    calls = []

    def operator(thetas):
        calls.append(thetas.shape)
        return tb.tensor_ivv(t, thetas)

    cp = tb.symmetric_power_method(operator, R, dim=K, random_state=0)
    vec_err, weight_err = _match_symmetric(v, cp)
    assert vec_err < 1e-8 and weight_err < 1e-8
    assert calls and all(s[1] == K for s in calls)
    # same random_state, same operator: the same answer as the dense tensor
    dense = tb.symmetric_power_method(t, R, random_state=0)
    np.testing.assert_allclose(cp.weights, dense.weights, atol=1e-12)
    np.testing.assert_allclose(cp.factors[0], dense.factors[0], atol=1e-12)


def test_power_method_degrades_gracefully_under_noise(orthogonal_symmetric):
    v, t = orthogonal_symmetric
    e = symmetrise(np.random.default_rng(11).standard_normal((K, K, K)))
    e /= np.linalg.norm(e)  # Frobenius norm 1, an upper bound on the operator norm
    min_gap = np.min(np.abs(np.diff(np.sort(np.r_[0.0, LAMBDAS]))))  # = lambda_min = 1 here
    errors = {}
    for eps in [1e-6, 1e-4, 1e-2]:
        cp = tb.symmetric_power_method(t + eps * e, R, random_state=0)
        vec_err, weight_err = _match_symmetric(v, cp)
        # Bound used: errors <= 10 * eps / min_gap, where min_gap is the smallest gap between the
        # weights and zero (= lambda_min here). It is looser than Theorem 5.1 of Anandkumar et al.
        # (2014): |lambda_i - lambda_hat_i| <= 5 eps and ||v_i - v_hat_i|| <= 8 eps / lambda_i.
        assert vec_err <= 10 * eps / min_gap, (eps, vec_err)
        assert weight_err <= 10 * eps / min_gap, (eps, weight_err)
        errors[eps] = (vec_err, weight_err)
    # first-order perturbation: the errors scale with eps (same noise direction, eps x100 -> error ~x100)
    for small, large in [(1e-6, 1e-4), (1e-4, 1e-2)]:
        for which in (0, 1):
            ratio = errors[large][which] / errors[small][which]
            assert 30 < ratio < 300, (small, large, which, ratio)


def test_power_method_bad_input(orthogonal_symmetric):
    _, t = orthogonal_symmetric
    asym = t.copy()
    asym[0, 1, 2] += 1e-3
    with pytest.raises(ValueError, match=r"tensor must be symmetric \(T\[i,j,k\] the same under every permutation"):
        tb.symmetric_power_method(asym, 2)
    with pytest.raises(ValueError, match="Symmetrise it first"):
        tb.symmetric_power_method(np.random.default_rng(0).standard_normal((3, 3, 3)), 2)
    with pytest.raises(ValueError, match=r"tensor must be cubic \(k, k, k\), got shape \(2, 3, 3\)"):
        tb.symmetric_power_method(np.zeros((2, 3, 3)), 1)
    with pytest.raises(ValueError, match=r"tensor must be 3-D, got shape \(3, 3\)"):
        tb.symmetric_power_method(np.eye(3), 1)
    with pytest.raises(ValueError, match=r"rank must be at most the dimension k = 8 \(orthogonal components\), got 9"):
        tb.symmetric_power_method(t, 9)
    with pytest.raises(ValueError, match="rank must be an integer >= 1, got 0"):
        tb.symmetric_power_method(t, 0)
    with pytest.raises(ValueError, match=r"dim \(the dimension k\) must be given when tensor is a callable"):
        tb.symmetric_power_method(lambda th: tb.tensor_ivv(t, th), 2)
    with pytest.raises(ValueError, match="dim must be an integer >= 1, got 0"):
        tb.symmetric_power_method(lambda th: tb.tensor_ivv(t, th), 2, dim=0)
    with pytest.raises(ValueError, match=r"rank must be at most the dimension k = 8"):
        tb.symmetric_power_method(lambda th: tb.tensor_ivv(t, th), 9, dim=K)
    with pytest.raises(ValueError, match=r"tensor \(a callable\) must map a batch of shape \(10, 8\) to the same shape, "
                                         r"got \(8,\)"):
        tb.symmetric_power_method(lambda th: th[0], 2, dim=K)
    bad = t.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="tensor must contain only finite values"):
        tb.symmetric_power_method(bad, 2)


# --------------------------------------------------------------------------
# bad input to the algorithms; reproducible random tensors
# --------------------------------------------------------------------------

_X = np.random.default_rng(0).standard_normal((3, 4, 5))
_NAN = _X.copy()
_NAN[1, 2, 3] = np.nan
_INF = _X.copy()
_INF[0, 0, 0] = np.inf


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: tb.cp_als(_X, 0), ValueError, "rank must be an integer >= 1, got 0"),
        (lambda: tb.cp_als(_X, -1), ValueError, "rank must be an integer >= 1, got -1"),
        (lambda: tb.cp_als(_X, True), ValueError, "rank must be an integer >= 1, got True"),
        (lambda: tb.cp_als(_X, 2.0), ValueError, r"rank must be an integer >= 1, got 2\.0"),
        (lambda: tb.cp_als(_X, 2, n_iter_max=-1), ValueError, "n_iter_max must be an integer >= 0, got -1"),
        (lambda: tb.cp_als(_X, 2, n_iter_max=5.5), ValueError, r"n_iter_max must be an integer >= 0, got 5\.5"),
        (lambda: tb.cp_als(_X, 2, tol=-1e-3), ValueError, "tol must be a finite number >= 0, got -0.001"),
        (lambda: tb.cp_als(_X, 2, tol=float("nan")), ValueError, "tol must be a finite number >= 0, got nan"),
        (lambda: tb.cp_als(_NAN, 2), ValueError, "tensor must contain only finite values, got NaN or infinity"),
        (lambda: tb.cp_als(_INF, 2), ValueError, "tensor must contain only finite values"),
        (lambda: tb.cp_als(np.zeros((3, 4, 5)), 2), ValueError,
         r"tensor must not be all zeros \(it has no low-rank structure to find\)"),
        (lambda: tb.cp_als(_X, 2, init="hosvd"), ValueError, r"init must be 'svd', 'random' or a CP tensor \(weights, factors\), got 'hosvd'"),
        (lambda: tb.cp_als(_X, 2, init=None), ValueError, r"init must be 'svd', 'random' or a CP tensor \(weights, factors\), got None"),
        (lambda: tb.cp_als(np.ones(5), 1), ValueError, r"tensor must have at least 2 dimension\(s\)"),
        (lambda: tb.cp_als(np.ones((3, 0, 2)), 1), ValueError, r"tensor must not have a mode of size 0"),
        (lambda: tb.cp_als(np.array([["a"]]), 1), TypeError, "tensor must be an array of numbers"),
        (lambda: tb.cp_als(_X, 2, random_state="seed"), TypeError,
         "random_state must be None, an integer seed or a numpy.random.Generator, got str"),
        (lambda: tb.tucker(_X, 0), ValueError, "rank must be an integer >= 1, got 0"),
        (lambda: tb.tucker(_X, (2, 0, 2)), ValueError, r"rank\[1\] must be an integer >= 1, got 0"),
        (lambda: tb.tucker(_X, (2, 2)), ValueError, r"rank must give one integer per mode \(3\), got 2"),
        (lambda: tb.tucker(_X, (2, 5, 2)), ValueError,
         r"rank\[1\] = 5 cannot exist for shape \(3, 4, 5\): a Tucker rank is at most the size of its mode \(4\) "
         r"and the product of the other sizes \(15\)"),
        (lambda: tb.tucker(np.ones((2, 3, 10)), (2, 3, 7)), ValueError,
         r"rank\[2\] = 7 cannot exist for shape \(2, 3, 10\).*product of the other sizes \(6\)"),
        (lambda: tb.tucker(_X, 2.5), TypeError, "rank must be an integer or one integer per mode, got 2.5"),
        (lambda: tb.tucker(_X, True), TypeError, "rank must be an integer or one integer per mode, got True"),
        (lambda: tb.tucker(_X, 2, method="svd"), ValueError, "method must be 'hooi' or 'hosvd', got 'svd'"),
        (lambda: tb.tucker(_X, 2, n_iter_max=-3), ValueError, "n_iter_max must be an integer >= 0, got -3"),
        (lambda: tb.tucker(_NAN, 2), ValueError, "tensor must contain only finite values"),
        (lambda: tb.tucker(np.zeros((3, 4, 5)), 2), ValueError, "tensor must not be all zeros"),
        (lambda: tb.tt_svd(_INF, rank=2), ValueError, "tensor must contain only finite values"),
        (lambda: tb.tt_svd(np.ones(4), rank=1), ValueError, r"tensor must have at least 2 dimension\(s\)"),
        (lambda: tb.random_cp((3, 4), 0), ValueError, "rank must be an integer >= 1, got 0"),
        (lambda: tb.random_cp((3, 0), 2), ValueError, r"shape must contain positive integers only, got \(3, 0\)"),
        (lambda: tb.random_cp(3, 2), TypeError, "shape must be a sequence of positive integers, got 3"),
        (lambda: tb.random_tucker((3, 4), (4, 2)), ValueError, r"rank\[0\] = 4 cannot exist for shape \(3, 4\)"),
        (lambda: tb.random_tt((2, 3, 4), [3, 2]), ValueError,
         r"rank\[0\] = 3 cannot exist for shape \(2, 3, 4\): the rank between modes 0 and 1 is at most .* = 2"),
        (lambda: tb.random_tt((2, 3, 4), [2]), ValueError, r"rank must give the 2 inner ranks \(or all 4\), got 1"),
        (lambda: tb.random_tt((2, 3, 4), 0), ValueError, "rank must be an integer >= 1, got 0"),
    ],
)
def test_algorithms_reject_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize(
    "make",
    [
        lambda seed: tb.random_cp((3, 4, 5), 2, random_state=seed).to_tensor(),
        lambda seed: tb.random_tucker((3, 4, 5), (2, 2, 3), random_state=seed).to_tensor(),
        lambda seed: tb.random_tt((3, 4, 5, 2), 2, random_state=seed).to_tensor(),
        lambda seed: tb.cp_als(_X, 2, init="random", n_iter_max=3, random_state=seed).to_tensor(),
        lambda seed: tb.symmetric_power_method(symmetrise(_X[:3, :3, :3]), 2, n_iter=3,
                                               random_state=seed).factors[0],
    ],
)
def test_random_state_reproducible(make):
    np.testing.assert_array_equal(make(0), make(0))
    assert not np.allclose(make(0), make(1))
    # a Generator is accepted and consumed like the integer seed it came from
    np.testing.assert_array_equal(make(np.random.default_rng(7)), make(7))


# --- review fixes: any scale, copy/pickle, ranks above a mode's reach, accuracy, dtypes ----


@pytest.mark.parametrize("scale", [1e-200, 1e-170, 1e155, 1e200])
def test_decompositions_work_at_any_scale(scale):
    def rel(x, approx):  # tb.norm rescales; np.linalg.norm over/underflows at these scales
        return float(tb.norm(x - approx) / tb.norm(x))

    rng = np.random.default_rng(11)
    planted = tb.random_cp((6, 7, 8), 2, random_state=4).to_tensor()
    x = (planted + 1e-3 * rng.standard_normal(planted.shape)) * scale
    cp = tb.cp_als(x, 2, random_state=0)
    assert rel(x, cp.to_tensor()) == pytest.approx(cp.errors[-1], abs=1e-6)
    assert rel(x, cp.to_tensor()) < 1e-2
    tk = tb.tucker(x, (2, 2, 2))
    assert rel(x, tk.to_tensor()) == pytest.approx(tk.errors[-1], abs=1e-6) and tk.errors[-1] < 1e-2
    tt = tb.tt_svd(x, eps=0.3)
    assert rel(x, tt.to_tensor()) <= 0.3
    V = np.linalg.qr(rng.standard_normal((5, 3)))[0]
    T = tb.cp_to_tensor((scale * np.array([3.0, 2.0, 1.0]), [V, V, V]))
    sp = tb.symmetric_power_method(T, 3, random_state=0)
    np.testing.assert_allclose(sp.weights, scale * np.array([3.0, 2.0, 1.0]), rtol=1e-8)


def test_containers_copy_and_pickle():
    import copy
    import pickle

    x = tb.random_cp((4, 5, 6), 2, random_state=0).to_tensor()
    cp = tb.cp_als(x, 2, n_iter_max=5, random_state=0)
    tk = tb.tucker(x, (2, 2, 2))
    tt = tb.tt_svd(x, rank=2)
    for obj in (cp, tk, tt):
        for clone in (copy.copy(obj), copy.deepcopy(obj), pickle.loads(pickle.dumps(obj))):
            assert type(clone) is type(obj)
            np.testing.assert_array_equal(clone.to_tensor(), obj.to_tensor())
    assert pickle.loads(pickle.dumps(cp)).errors == cp.errors


@pytest.mark.parametrize("shape, rank", [((5, 2), 3), ((1, 5), 2), ((2, 2, 2), 5)])
def test_cp_als_rank_above_what_a_mode_can_carry(shape, rank):
    x = np.random.default_rng(3).standard_normal(shape)
    cp = tb.cp_als(x, rank, random_state=0, n_iter_max=50)
    assert cp.rank == rank
    assert rel_err(x, cp.to_tensor()) < 1e-6  # enough components to fit exactly


def test_hosvd_keeps_small_singular_directions_accurate():
    rng = np.random.default_rng(5)
    core = np.zeros((3, 3, 3))
    core[0, 0, 0], core[1, 1, 1], core[2, 2, 2] = 1.0, 1e-5, 1e-7
    factors = [np.linalg.qr(rng.standard_normal((8, 3)))[0] for _ in range(3)]
    x = tb.tucker_to_tensor((core, factors))
    t = tb.tucker(x, (3, 3, 3), method="hosvd")
    assert rel_err(x, t.to_tensor()) < 1e-13


def test_power_method_float32_moment_tensor_is_accepted():
    rng = np.random.default_rng(6)
    data = rng.standard_normal((500, 4)).astype(np.float32)
    m3 = np.einsum("ni,nj,nk->ijk", data, data, data) / 500  # symmetric up to float32 rounding
    cp = tb.symmetric_power_method(m3, 2, random_state=0)
    assert cp.rank == 2


def test_power_method_rejects_a_mismatched_dim_and_bad_callable_output():
    T = tb.cp_to_tensor((np.array([1.0]), [np.eye(3)[:, :1]] * 3))
    with pytest.raises(ValueError, match=r"dim must match the tensor's size 3 \(or be left out\), got 4"):
        tb.symmetric_power_method(T, 1, dim=4)
    with pytest.raises(ValueError, match=r"tensor \(a callable\)'s output must contain only finite values"):
        tb.symmetric_power_method(lambda th: np.full(th.shape, np.nan), 1, dim=3)
    with pytest.warns(RuntimeWarning, match="the tensor has fewer than rank=2 components"):
        tb.symmetric_power_method(T, 2, random_state=0)


def test_cp_als_accepts_a_tensorly_cp_tensor_as_init():
    x = tb.random_cp((5, 6, 7), 2, random_state=1).to_tensor()
    start = tl.cp_tensor.CPTensor((np.ones(2), [np.random.default_rng(2).standard_normal((n, 2)) for n in x.shape]))
    ours = tb.cp_als(x, 2, init=start, n_iter_max=3, tol=0)
    same = tb.cp_als(x, 2, init=tb.CPTensor(*start), n_iter_max=3, tol=0)
    np.testing.assert_allclose(ours.to_tensor(), same.to_tensor(), atol=1e-12)


def test_float32_cp_error_history_matches_the_reconstruction():
    x = tb.random_cp((10, 11, 12), 3, random_state=2).to_tensor()
    x = (x + 0.05 * np.linalg.norm(x) / np.sqrt(x.size) * np.random.default_rng(0).standard_normal(x.shape)).astype(np.float32)
    cp = tb.cp_als(x, 3, n_iter_max=30, tol=0, random_state=0)
    assert cp.weights.dtype == np.float32
    assert cp.errors[-1] == pytest.approx(rel_err(x.astype(float), cp.to_tensor().astype(float)), abs=1e-4)


# --- ranks beyond the product of the other ranks (issue 12) -------------------------------


@pytest.mark.parametrize("ranks", [(2, 3, 1), (1, 4, 3), (3, 1, 3)])
def test_tucker_returns_the_rank_asked_for_even_above_the_product_of_the_others(ranks):
    """TensorLy's own test case: a 3 x 4 x 3 tensor at rank (2, 3, 1). Both methods return that rank, orthonormal
    factors, and HOOI the error TensorLy's HOOI reaches (never worse than HOSVD's)."""
    from tensorly.decomposition import tucker as tl_tucker

    x = np.random.default_rng(1234).random((3, 4, 3))
    fits = {m: tb.tucker(x, list(ranks), method=m) for m in ("hooi", "hosvd")}
    for t in fits.values():
        assert t.rank == ranks and t.core.shape == ranks
        assert [f.shape for f in t.factors] == [(n, r) for n, r in zip(x.shape, ranks)]
        for f in t.factors:
            np.testing.assert_allclose(f.T @ f, np.eye(f.shape[1]), atol=1e-12)
        assert t.errors[-1] == pytest.approx(rel_err(x, t.to_tensor()), abs=1e-10)
    core, factors = tl_tucker(x, rank=list(ranks), n_iter_max=100, tol=1e-10)
    theirs = rel_err(x, tl.tucker_to_tensor((core, factors)))
    assert fits["hooi"].errors[-1] <= theirs + 1e-6
    assert fits["hooi"].errors[-1] <= fits["hosvd"].errors[-1] + 1e-12


def test_tucker_rank_none_is_the_full_rank_and_exact():
    x = np.random.default_rng(0).random((3, 4, 5))
    t = tb.tucker(x, None)
    assert t.rank == (3, 4, 5)
    np.testing.assert_allclose(t.to_tensor(), x, atol=1e-12)
    assert tb.tucker(np.ones((2, 9)), None).rank == (2, 2)


# --- Jennrich's algorithm (issue 15) -------------------------------------------------------


def _planted_3way(shape, rank, seed):
    """A non-orthogonal CP tensor: standard normal factors, weights in [1, 3)."""
    rng = np.random.default_rng(seed)
    return tb.CPTensor(rng.uniform(1, 3, rank), [rng.standard_normal((n, rank)) for n in shape])


@pytest.mark.parametrize("shape, rank", [((5, 6, 4), 3), ((20, 30, 10), 8), ((10, 10, 2), 5), ((7, 7, 7), 7)])
def test_jennrich_recovers_a_planted_non_orthogonal_decomposition_exactly(shape, rank):
    """Exact tensor: the planted factors (matched by the Hungarian method, up to order and scale) and the tensor,
    to round-off; also with K = 2 < rank, where Kruskal's condition still holds and ALS from an SVD start fails."""
    truth = _planted_3way(shape, rank, seed=sum(shape))
    x = einsum_cp(truth.weights, truth.factors)
    cp = tb.jennrich(x, rank, random_state=0)
    assert isinstance(cp, tb.CPTensor) and cp.rank == rank and cp.shape == shape
    assert rel_err(x, einsum_cp(cp.weights, cp.factors)) < 1e-10
    _, _, cong = congruence_matching(truth.factors, cp.factors)
    assert cong.min() > 1 - 1e-10
    for f in cp.factors:
        np.testing.assert_allclose(np.linalg.norm(f, axis=0), 1, atol=1e-12)
    assert np.all(np.diff(np.abs(cp.weights)) <= 0)
    if shape == (10, 10, 2):  # the oracle's own answer where Jennrich is exact: ALS from its SVD start is not
        als = tb.cp_als(x, rank, random_state=0)
        assert rel_err(x, als.to_tensor()) > 1e-3


@pytest.mark.parametrize("level", [1e-3, 1e-2])
def test_jennrich_error_follows_the_noise_and_a_few_als_sweeps_reach_als(level):
    """Noise: Jennrich's fit is within a small multiple of the noise of the true tensor, its factors close to the
    planted ones; 20 ALS sweeps started from it reach the error of 100 sweeps of ALS from scratch."""
    truth = _planted_3way((20, 30, 10), 8, seed=5)
    x = truth.to_tensor()
    noisy = add_noise(x, level, seed=6)
    cp = tb.jennrich(noisy, 8, random_state=0)
    assert rel_err(x, cp.to_tensor()) < 10 * level
    _, _, cong = congruence_matching(truth.factors, cp.factors)
    assert cong.min() > 1 - 50 * level
    polished = tb.cp_als(noisy, 8, init=cp, n_iter_max=20)
    scratch = tb.cp_als(noisy, 8, random_state=0)
    assert polished.errors[-1] <= scratch.errors[-1] + 1e-6
    assert rel_err(x, polished.to_tensor()) < 1.5 * level


def test_jennrich_is_the_same_in_float32_and_does_not_depend_on_the_scale():
    truth = _planted_3way((6, 5, 4), 3, seed=2)
    x = truth.to_tensor()
    cp64 = tb.jennrich(x, 3, random_state=0)
    cp32 = tb.jennrich(x.astype(np.float32), 3, random_state=0)
    assert cp32.weights.dtype == np.float32 and all(f.dtype == np.float32 for f in cp32.factors)
    assert rel_err(x, cp32.to_tensor().astype(float)) < 1e-5
    scaled = tb.jennrich(1e-200 * x, 3, random_state=0)
    np.testing.assert_allclose(scaled.weights, 1e-200 * cp64.weights, rtol=1e-8)


@pytest.mark.parametrize("tensor, rank, match", [
    (np.ones((3, 3)), 1, "at least 3"),
    (np.ones((2, 2, 2, 2)), 1, "3 modes"),
    (np.zeros((3, 3, 3)), 1, "all zeros"),
    (np.full((3, 3, 3), np.nan), 1, "NaN"),
    ("planted", 6, r"min\(I, J\) = 5"),
    ("planted", 4, "numerical rank 3 of the tensor's mode-0 unfolding"),
    ("K=1", 3, "real and distinct"),
    ("parallel C", 3, "real and distinct"),
    ("planted", 0, "rank"),
])
def test_jennrich_refuses_what_it_cannot_decompose_and_says_why(tensor, rank, match):
    truth = _planted_3way((5, 6, 4), 3, seed=3)
    if not isinstance(tensor, str):
        pass
    elif tensor == "planted":
        tensor = truth.to_tensor()
    elif tensor == "K=1":
        tensor = _planted_3way((5, 6, 1), 3, seed=3).to_tensor()
    elif tensor == "parallel C":
        c = truth.factors[2].copy()
        c[:, 1] = -2 * c[:, 0]
        tensor = tb.cp_to_tensor((truth.weights, [truth.factors[0], truth.factors[1], c]))
    with pytest.raises(ValueError, match=match):
        tb.jennrich(tensor, rank)
