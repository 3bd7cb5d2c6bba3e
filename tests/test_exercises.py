"""The exercise checker, and the exercise bank's references against independent code."""

import numpy as np
import pytest

import tensorbook as tb
from tensorbook.exercises import STRICT_ENV, ExerciseError


@pytest.fixture(autouse=True)
def lenient(monkeypatch):
    monkeypatch.delenv(STRICT_ENV, raising=False)


def test_correct_wrong_and_unanswered():
    expected = np.linspace(0, 1, 6).reshape(2, 3)
    assert tb.check(expected + 1e-12, expected)
    fb = tb.check(expected + 0.1, expected, hint="look again")
    assert not fb and fb.answered and "largest absolute difference 0.1" in fb.message and "look again" in fb.message
    fb = tb.check(expected.T, expected)
    assert not fb and "Expected shape (2, 3), got shape (3, 2)" in fb.message
    fb = tb.check(..., expected)
    assert not fb and not fb.answered and "not answered yet" in fb.message
    assert not tb.check(None, 3.0).answered


def test_types_are_checked_before_values():
    assert "Expected a single number" in tb.check(np.ones(2), 3.0).message
    assert "Expected a NumPy array" in tb.check("abc", np.ones(2)).message
    assert "Expected a tuple" in tb.check(5, (2, 3)).message
    assert tb.check((2, 3), (2, 3)) and tb.check([2, 3], (2, 3))
    assert not tb.check(np.array([1.0, np.nan]), np.ones(2))
    assert tb.check(" Mode ", "mode")
    assert not tb.check(True, 1.0)  # a boolean is not a number answer
    assert tb.check([1.0, 2.0], np.array([1.0, 2.0]))  # lists are accepted for arrays
    assert not tb.check(np.array([1, 2]), np.array([1, 3]))
    assert "1 of 2 entries differ" in tb.check(np.array([1, 2]), np.array([1, 3])).message


def test_tolerances():
    assert tb.check(1.0 + 1e-9, 1.0)
    assert not tb.check(1.0 + 1e-5, 1.0)
    assert tb.check(1.0 + 1e-5, 1.0, rtol=1e-4)


def test_strict_mode_raises_only_on_wrong(monkeypatch):
    monkeypatch.setenv(STRICT_ENV, "1")
    assert tb.check(2.0, 2.0)
    assert not tb.check(..., 2.0)  # unanswered never raises
    with pytest.raises(ExerciseError, match="Exercise 9.9: The number 3 is not within"):
        tb.check(3.0, 2.0, name="Exercise 9.9")


def test_feedback_html_shows_verdict():
    assert "&#10004;" in tb.check(1, 1)._repr_html_()
    assert "&#10008;" in tb.check(2, 1)._repr_html_()
    assert "&lt;b&gt;" in tb.check(2, 1, hint="<b>")._repr_html_()  # escaped


def test_unknown_exercise_is_named():
    with pytest.raises(KeyError, match="number must name an exercise of the book.*got '0.0'"):
        tb.exercise("0.0")


def test_bank_references_agree_with_independent_computations():
    from tensorly.datasets import load_indian_pines

    from tensorbook.datasets import vqa_example

    cube = np.asarray(load_indian_pines().tensor, dtype=float)
    assert tb.exercise("1.1").check(cube.mean(axis=(0, 1)))
    assert tb.exercise("1.2").check(lambda image, w: np.einsum("hwc,c->hw", image.astype(float), w))
    matmul = tb.exercise("1.2").check(lambda image, w: image.astype(float) @ w)
    assert not matmul and "did not call numpy.einsum" in matmul.message
    ex = vqa_example()
    assert tb.exercise("1.3").check(np.outer(ex["image_features"], ex["question_features"]).ravel())
    assert tb.exercise("1.4").check(14_745_600_000)
    assert not tb.exercise("1.4").check(14_745_600_001)


def test_forecasting_references_agree_with_independent_computations():
    import tensorly as tl

    from tensorbook._exercise_bank import FORECASTING_TEST_FRACTION, forecasting_data
    from tensorbook.datasets import load_departures

    S, D = 3 * 32 + 1, 4 * 32  # exercise 7.1: L = 3, H = 32, P = 3, rank 8, an LSTM cell
    assert tb.exercise("7.1").check(np.array([S**3 * D, S * 8 + 8 * S * 8 + 8 * S * D]))
    assert not tb.exercise("7.1").check(np.array([S**3 * D, S * 8 + 8 * S * 8 + 8 * S * D + 1]))

    from tensorbook._exercise_bank import _tt_batch_cases, _tt_batch_contraction

    _, _, changes = forecasting_data()
    for states, cores in _tt_batch_cases()[:2]:  # the bank's dense reference against TensorLy's dense tensor
        dense = tl.tt_to_tensor(cores + [np.eye(cores[-1].shape[2])[:, :, None]])  # the output index as a mode
        letters = "ijklm"[:len(cores)]
        expected = np.einsum(f"{letters}d," + ",".join(f"b{c}" for c in letters) + "->bd", dense,
                             *[states] * len(cores))
        np.testing.assert_allclose(_tt_batch_contraction(states, cores), expected, rtol=1e-10, atol=1e-10)

    def core_by_core(states, cores):
        v = states @ cores[0][0]
        for core in cores[1:]:
            v = np.einsum("ba,bi->bai", v, states).reshape(len(states), -1) @ core.reshape(-1, core.shape[2])
        return v

    def dense_first(states, cores):
        dense = tl.tt_to_tensor(cores + [np.eye(cores[-1].shape[2])[:, :, None]])
        for _ in cores:
            dense = np.einsum("bi,bi...->b...", states, dense if dense.ndim > len(cores) + 1 else dense[None])
        return dense

    assert tb.exercise("7.2").check(core_by_core)
    formed = tb.exercise("7.2").check(dense_first)
    assert not formed and "tensorly" in formed.message  # forbidden: tensorly.tt_to_tensor forms W

    hand = tb.exercise("7.2").check(lambda states, cores: _tt_batch_contraction(states, cores))  # right values
    assert not hand and "MB at its peak" in hand.message

    dep = load_departures()["values"]
    n_fit = int(round(len(dep) * (1 - FORECASTING_TEST_FRACTION)))
    assert n_fit == 7008
    truth = dep[n_fit:]
    assert tb.exercise("7.3").check(np.array([np.sqrt(np.mean((truth - dep[n_fit - s:len(dep) - s]) ** 2))
                                              for s in (24, 168)]))

    # 7.4: after w whole weeks, the forecast is the last observed week plus the sum of w + 1 weekly changes
    padded = np.concatenate([changes, np.zeros((3 * 168 - len(changes), 3))]).reshape(3, 168, 3)
    expected = (dep[n_fit - 168:n_fit][None] + np.cumsum(padded, axis=0)).reshape(-1, 3)[:len(changes)]
    assert tb.exercise("7.4").check(expected)


def test_scaling_references_agree_with_independent_computations(tmp_path):
    import math

    from tensorbook._exercise_bank import SCALING_CLUSTER, scaling_data
    from tensorbook.distributed import save_shards
    from tensorbook.topics import SpectralLDA

    X, alpha0 = scaling_data()
    assert X.shape == (1500, 60) and X.sum(axis=1).min() >= 3  # every document counts in the moments
    # 8.1: the bank's document-by-document sums against the package's own pass on every fresh chunk
    from tensorbook._corpus import _chunk, _m3_pass
    from tensorbook._exercise_bank import _m3_pass_cases, _m3_pass_sums

    for chunk, W in _m3_pass_cases():
        package = _m3_pass(_chunk(chunk, require=False), W, 1, 64)
        for mine, theirs in zip(_m3_pass_sums(chunk, W), (package["e3"], package["z"], package["s3"], package["e2"])):
            np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-15)

    def vectorised(chunk, W):
        n = np.asarray(chunk.sum(axis=1)).ravel()
        keep = n >= 3
        chunk, n = chunk[keep], n[keep]
        w2, w3 = 1 / (n * (n - 1)), 1 / (n * (n - 1) * (n - 2))
        Y = np.asarray(chunk @ W)
        return (np.einsum("d,di,dj,dk->ijk", w3, Y, Y, Y), np.asarray(chunk.T @ (w3[:, None] * Y)),
                np.asarray(chunk.T @ w3), (w2[:, None] * Y).T @ Y)

    assert tb.exercise("8.1").check(vectorised)
    assert not tb.exercise("8.1").check(lambda chunk, W: vectorised(chunk, W)[::-1])
    keeps_short = tb.exercise("8.1").check(lambda chunk, W: vectorised(chunk, W)[:3] + (np.asarray(
        (chunk.T @ chunk).todense())[:W.shape[1], :W.shape[1]],))
    assert not keeps_short
    package = tb.exercise("8.1").check(lambda chunk, W: tuple(_m3_pass(_chunk(chunk, require=False), W, 1, 64).values()))
    assert not package and "called tensorbook._corpus" in package.message

    assert tb.exercise("8.2").check(np.array([8 * 10**12, 8 * 10_000 * 30]))
    assert not tb.exercise("8.2").check(np.array([8 * 10**12, 8 * 10_000 * 20]))  # p = k forgets the oversampling

    corpus = save_shards(X, tmp_path, docs_per_shard=250)
    assert len(corpus) == 6
    assert tb.exercise("8.3").check(SpectralLDA(4, alpha0=alpha0, random_state=0).fit(corpus).components_)
    assert not tb.exercise("8.3").check(SpectralLDA(4, alpha0=alpha0, random_state=1).fit(corpus).components_)

    c = SCALING_CLUSTER
    shard_seconds = c["n_documents"] / c["n_shards"] / c["rate"]
    expected = [c["n_documents"] / (c["passes"] * (math.ceil(c["n_shards"] / w) * shard_seconds + c["overhead"])
                                    + c["driver"]) for w in c["workers"]]
    assert tb.exercise("8.4").check(np.array(expected))
    # 64 workers cannot split 400 shards evenly: the busiest takes 7, which the even split 6.25 misses
    even = [c["n_documents"] / (c["passes"] * (c["n_shards"] / w * shard_seconds + c["overhead"]) + c["driver"])
            for w in c["workers"]]
    assert not tb.exercise("8.4").check(np.array(even))


def test_tensor_layer_exercises_against_the_package_layers():
    import tensorly as tl

    from tensorbook import nn
    from tensorbook._exercise_bank import _layers_data

    from tensorbook._exercise_bank import _sketch_by_outer_product, _sketch_cases, _tcl_gradient_cases, _tcl_gradient_u0

    d = _layers_data()

    def layer_gradient(X, U0, U1, G):  # the package's layer, the oracle for the bank's loops
        layer = nn.TensorContraction(X.shape[1:], (U0.shape[0], U1.shape[0]))
        layer.params["U0"][...], layer.params["U1"][...] = U0, U1
        _, cache = layer.forward(X)
        return layer.backward(cache, G)[1]["U0"]

    for case in _tcl_gradient_cases():
        np.testing.assert_allclose(_tcl_gradient_u0(*case), layer_gradient(*case), rtol=1e-10, atol=1e-12)
    assert tb.exercise("6.1").check(lambda X, U0, U1, G: np.einsum("nrs,nij,sj->ri", G, X, U1))
    assert not tb.exercise("6.1").check(lambda X, U0, U1, G: np.einsum("nrs,nij,sj->ir", G, X, U1).T[:, ::-1])
    via_layer = tb.exercise("6.1").check(layer_gradient)
    assert not via_layer and "called tensorbook.nn.TensorContraction" in via_layer.message
    tt = nn.TTDense((4, 4, 4, 4), (2, 4, 4, 2), 3)
    assert tb.exercise("6.2").check(np.array([tt.n_params, nn.Dense(256, 64).n_params]))
    assert not tb.exercise("6.2").check(np.array([tt.n_params - 64, nn.Dense(256, 64).n_params]))

    def package_sketch(x, y, h1, h2, s1, s2, D):
        sketch = nn.TensorSketch(len(x), len(y), D)
        sketch.hashes, sketch.signs = (h1, h2), (s1, s2)
        sketch.reachable[:] = True
        return sketch(x[None], y[None])[0]

    for case in _sketch_cases():
        np.testing.assert_allclose(_sketch_by_outer_product(*case), package_sketch(*case), atol=1e-12)

    def by_fft(x, y, h1, h2, s1, s2, D):
        c1, c2 = np.bincount(h1, s1 * x, minlength=D), np.bincount(h2, s2 * y, minlength=D)
        return np.real(np.fft.ifft(np.fft.fft(c1) * np.fft.fft(c2)))

    assert tb.exercise("6.3").check(by_fft)
    assert not tb.exercise("6.3").check(lambda x, y, h1, h2, s1, s2, D: np.convolve(x, y)[:D])
    assert "called tensorbook.nn" in tb.exercise("6.3").check(package_sketch).message
    W = tl.cp_to_tensor((np.ones(3), [d["U"], d["V"], d["P"].T]))
    assert tb.exercise("6.4").check(W)
    assert not tb.exercise("6.4").check(W.transpose(1, 0, 2).reshape(W.shape))


# --- function exercises: the reader's code on fresh inputs, forbidden functions unavailable ------------------

def _sum_rows_cases():
    rng = np.random.default_rng(0)
    return [(rng.standard_normal((3, 4)),), (rng.standard_normal((1, 7)),)]


def _reference_sum(A):
    return np.add.reduce(A, axis=0)


def test_a_function_is_run_on_every_fresh_case_and_compared_with_the_reference():
    from tensorbook.exercises import check_function

    seen = []

    def mine(A):
        seen.append(A.shape)
        return A.sum(axis=0)

    assert check_function(mine, _reference_sum, _sum_rows_cases()).correct
    assert seen == [(3, 4), (1, 7)]
    off_by_one = check_function(lambda A: A[1:].sum(axis=0), _reference_sum, _sum_rows_cases())
    assert not off_by_one and "On a fresh input (an array of shape (3, 4))" in off_by_one.message
    raising = check_function(lambda A: A.no_such_method(), _reference_sum, _sum_rows_cases())
    assert not raising and "raised AttributeError" in raising.message
    assert "Expected a function" in check_function(np.ones(4), _reference_sum, _sum_rows_cases()).message
    assert not check_function(..., _reference_sum, _sum_rows_cases()).answered


def test_a_forbidden_function_is_unavailable_to_the_readers_code_only_and_restored_after():
    from numpy import einsum as my_einsum  # an alias in the reader's namespace is caught too
    from tensorbook.exercises import check_function

    original = np.einsum
    by_name = check_function(lambda A: np.einsum("ij->j", A), _reference_sum, _sum_rows_cases(),
                             forbidden=["numpy.einsum"])
    by_alias = check_function(lambda A: my_einsum("ij->j", A), _reference_sum, _sum_rows_cases(),
                              forbidden=["numpy.einsum"])
    for verdict in (by_name, by_alias):
        assert not verdict and "called numpy.einsum" in verdict.message
    # the package's own use of einsum (tb.multi_mode_dot checks itself against it nowhere, but tb.contract
    # parses einsum subscripts without calling it): a package function is not blocked
    via_package = check_function(lambda A: tb.contract("ij->j", A), _reference_sum, _sum_rows_cases(),
                                 forbidden=["numpy.einsum", "numpy.sum"])
    assert via_package.correct
    assert np.einsum is original and my_einsum is original


def test_a_package_function_that_is_forbidden_may_still_run_inside_the_package():
    """Forbidding tb.mode_dot blocks the reader's call, not multi_mode_dot's internal use of the same kernel."""
    from tensorbook.exercises import check_function

    U = np.random.default_rng(1).standard_normal((2, 4))
    cases = [(np.random.default_rng(2).standard_normal((3, 4, 5)),)]

    def reference(X):
        return np.einsum("ja,iak->ijk", U, X)

    blocked = check_function(lambda X: tb.mode_dot(X, U, 1), reference, cases, forbidden=["tensorbook.mode_dot"])
    assert not blocked and "called tensorbook.mode_dot" in blocked.message
    allowed = check_function(lambda X: tb.multi_mode_dot(X, [U], modes=[1]), reference, cases,
                             forbidden=["tensorbook.mode_dot"])
    assert allowed.correct, allowed.message


def test_a_wrong_function_raises_in_strict_mode(monkeypatch):
    from tensorbook.exercises import check_function

    monkeypatch.setenv(STRICT_ENV, "1")
    with pytest.raises(ExerciseError, match="called numpy.einsum"):
        check_function(lambda A: np.einsum("ij->j", A), _reference_sum, _sum_rows_cases(), forbidden=["numpy.einsum"])
    assert check_function(lambda A: A.sum(axis=0), _reference_sum, _sum_rows_cases()).correct


def test_exercise_4_3_takes_a_function_and_refuses_the_package_moments():
    from tensorbook.moments import moment3_ivv

    good = tb.exercise("4.3").check(lambda X, v: X.T @ (X @ v) ** 2 / X.shape[0])
    assert good.correct, good.message
    cheat = tb.exercise("4.3").check(lambda X, v: moment3_ivv(X, v))
    assert not cheat and "moment3_ivv" in cheat.message


def test_a_required_function_must_be_called_and_a_forbidden_module_covers_its_functions():
    from tensorbook.exercises import check_function

    cases = _sum_rows_cases()
    uses = check_function(lambda A: np.einsum("ij->j", A), _reference_sum, cases, required=["numpy.einsum"])
    assert uses.correct, uses.message
    skips = check_function(lambda A: A.sum(axis=0), _reference_sum, cases, required=["numpy.einsum"])
    assert not skips and "did not call numpy.einsum" in skips.message
    module = check_function(lambda A: tb.tenalg.unfold(A, 1).sum(axis=1), _reference_sum, cases,
                            forbidden=["tensorbook.tenalg"])
    assert not module and "called tensorbook.tenalg.unfold" in module.message


def test_chapter_5_exercises_take_functions_checked_against_the_package():
    from tensorbook._exercise_bank import _alpha_cases, _alpha_from_weights, _m2_by_word_positions, _m2_cases
    from tensorbook.topics import lda_moments

    for counts, alpha0 in _m2_cases():  # the bank's token-by-token M2 against the package's implicit operator
        np.testing.assert_allclose(_m2_by_word_positions(counts, alpha0),
                                   lda_moments(counts, alpha0)["m2_apply"](np.eye(counts.shape[1])), atol=1e-14)
    for lam, alpha0 in _alpha_cases():  # and its root-finding against the closed form
        np.testing.assert_allclose(_alpha_from_weights(lam, alpha0),
                                   4 * alpha0 * (alpha0 + 1) / ((alpha0 + 2) ** 2 * lam**2), rtol=1e-10)

    def dense(counts, alpha0):
        n = counts.sum(axis=1)
        m1 = (counts / n[:, None]).mean(axis=0)
        pair = ((counts / (n * (n - 1))[:, None]).T @ counts - np.diag((counts / (n * (n - 1))[:, None]).sum(0)))
        return pair / len(counts) - alpha0 / (alpha0 + 1) * np.outer(m1, m1)

    assert tb.exercise("5.1").check(dense)
    assert not tb.exercise("5.1").check(lambda counts, alpha0: dense(counts, 1.0))  # ignores alpha0
    via_package = tb.exercise("5.1").check(
        lambda counts, alpha0: lda_moments(counts, alpha0)["m2_apply"](np.eye(counts.shape[1])))
    assert not via_package and "lda_moments" in via_package.message
    assert tb.exercise("5.2").check(lambda lam, alpha0: 4 * alpha0 * (alpha0 + 1) / ((alpha0 + 2) ** 2 * lam**2))
    assert not tb.exercise("5.2").check(lambda lam, alpha0: 4 * 2 / (9 * lam**2))  # alpha0 = 1 hard-wired
    assert tb.exercise("5.2b").check(2) and not tb.exercise("5.2b").check(0)


def test_chapter_2_and_3_exercises_take_functions_and_check_the_explanations():
    import tensorly as tl

    from tensorbook._exercise_bank import _als_update_cases, _als_update_lstsq, _mode1_cases, _mode1_loops

    for X, U in _mode1_cases():  # the bank's loops against TensorLy's mode product
        np.testing.assert_allclose(_mode1_loops(X, U), tl.tenalg.mode_dot(X, U, 1), atol=1e-12)

    def by_unfolding(X, U):
        return tb.fold(U @ tb.unfold(X, 1), 1, (X.shape[0], U.shape[0], X.shape[2]))

    assert tb.exercise("2.1").check(by_unfolding)
    assert "called tensorbook.mode_dot" in tb.exercise("2.1").check(lambda X, U: tb.mode_dot(X, U, 1)).message
    skips = tb.exercise("2.1").check(lambda X, U: np.moveaxis(U @ np.moveaxis(X, 1, -2), -2, 1))
    assert not skips and "did not call" in skips.message
    assert tb.exercise("2.4b").check(3.0) and not tb.exercise("2.4b").check(2.0)

    for X, factors, mode in _als_update_cases():  # against the normal equations with TensorLy's Khatri-Rao
        others = [f for k, f in enumerate(factors) if k != mode]
        kr = tl.tenalg.khatri_rao(others)
        expected = tl.unfold(X, mode) @ kr @ np.linalg.inv(kr.T @ kr)
        np.testing.assert_allclose(_als_update_lstsq(X, factors, mode), expected, rtol=1e-8, atol=1e-10)

    def by_mttkrp(X, factors, mode):
        R = next(f.shape[1] for f in factors if f is not None)
        gram = np.ones((R, R))
        for k, f in enumerate(factors):
            if k != mode:
                gram *= f.T @ f
        return np.linalg.solve(gram, tb.mttkrp(X, factors, mode).T).T

    assert tb.exercise("3.2").check(by_mttkrp)
    mode0_only = tb.exercise("3.2").check(lambda X, factors, mode: by_mttkrp(X, factors, 0)[: X.shape[mode]])
    assert not mode0_only
    with_kr = tb.exercise("3.2").check(lambda X, factors, mode: tb.unfold(X, mode) @ tb.khatri_rao(
        [f for k, f in enumerate(factors) if k != mode]) @ np.linalg.pinv(np.ones((1, 1))))
    assert not with_kr and "called" in with_kr.message
    assert tb.exercise("3.3b").check("B") and not tb.exercise("3.3b").check("a")
    assert tb.exercise("3.4b").check("c") and not tb.exercise("3.4b").check("b")
