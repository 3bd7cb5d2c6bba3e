"""Tensor layers: every backward pass against central finite differences, every forward pass against a dense
reference (TensorLy or NumPy), and the Tensor Sketch against the count sketch of the outer product it stands for."""

import numpy as np
import pytest
import tensorly as tl
from tensorly.tt_matrix import tt_matrix_to_matrix

import tensorbook as tb
from tensorbook import nn


def _loss_weights(layer, inputs, seed=0):
    out = layer(*inputs)
    return np.random.default_rng(seed).standard_normal(out.shape)


def _finite_difference_check(layer, inputs, eps=1e-6):
    """Loss = sum(R * layer(*inputs)) with a fixed random R; the analytic gradient of every input and parameter
    entry against central differences, at a generic point: biases start at 0, which can put a ReLU exactly on its
    kink (a sample whose activations all clip to 0), so they are drawn at random first."""
    rng = np.random.default_rng(7)
    for name, value in layer.params.items():
        if name.endswith("bias"):
            value[...] = rng.normal(0.0, 0.3, value.shape)
    R = _loss_weights(layer, inputs)
    out, cache = layer.forward(*inputs)
    input_grads, param_grads = layer.backward(cache, R)
    assert set(param_grads) == set(layer.params)

    def loss():
        return float(np.sum(R * layer(*inputs)))

    targets = [(f"input {k}", x, g) for k, (x, g) in enumerate(zip(inputs, input_grads))]
    targets += [(name, layer.params[name], param_grads[name]) for name in layer.params]
    for name, array, grad in targets:
        assert grad.shape == array.shape, name
        numeric = np.empty_like(array)
        for idx in np.ndindex(array.shape):
            keep = array[idx]
            array[idx] = keep + eps
            up = loss()
            array[idx] = keep - eps
            down = loss()
            array[idx] = keep
            numeric[idx] = (up - down) / (2 * eps)
        error = np.linalg.norm(grad - numeric) / max(np.linalg.norm(numeric), 1e-12)
        assert error < 1e-6, f"{type(layer).__name__}: {name}: relative error {error:.2e}"


def _batch(shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape)


LAYERS = {
    "dense": lambda: (nn.Dense(5, 3, random_state=0), [_batch((4, 5))]),
    "contraction 3-way": lambda: (nn.TensorContraction((4, 3, 5), (2, 3, 2), random_state=0), [_batch((3, 4, 3, 5))]),
    "contraction 2-way": lambda: (nn.TensorContraction((5, 4), 3, random_state=0), [_batch((3, 5, 4))]),
    "tucker regression": lambda: (nn.TuckerRegression((4, 3, 5), 3, (2, 2, 3, 2), random_state=0),
                                  [_batch((3, 4, 3, 5))]),
    "cp regression": lambda: (nn.CPRegression((4, 3, 5), 3, 3, random_state=0), [_batch((3, 4, 3, 5))]),
    # fewer examples than classes: the weight tensor is not formed (the other route)
    "tucker regression, W not formed": lambda: (nn.TuckerRegression((4, 3, 5), 3, (2, 2, 3, 2), random_state=0),
                                                [_batch((2, 4, 3, 5))]),
    "cp regression, W not formed": lambda: (nn.CPRegression((4, 3, 5), 3, 3, random_state=0), [_batch((2, 4, 3, 5))]),
    "tt dense 3 cores": lambda: (nn.TTDense((2, 3, 2), (3, 2, 2), (2, 3), random_state=0), [_batch((3, 12))]),
    "tt dense 1 core": lambda: (nn.TTDense((5,), (3,), (), random_state=0), [_batch((3, 5))]),
    "tt dense 2 cores, no bias": lambda: (nn.TTDense((3, 2), (2, 4), 2, bias=False, random_state=0),
                                          [_batch((3, 6))]),
    "bilinear": lambda: (nn.BilinearFusion(4, 3, 2, random_state=0), [_batch((3, 4)), _batch((3, 3), 2)]),
    "mlb": lambda: (nn.MLBFusion(4, 3, 2, 3, random_state=0), [_batch((3, 4)), _batch((3, 3), 2)]),
    "mutan": lambda: (nn.MUTANFusion(4, 3, 2, (2, 3, 2), random_state=0), [_batch((3, 4)), _batch((3, 3), 2)]),
    "sketch": lambda: (nn.SketchFusion(4, 3, 2, 16, random_state=0), [_batch((3, 4)), _batch((3, 3), 2)]),
    "concat": lambda: (nn.Sequential(nn.Concat(4, 3), nn.Dense(7, 2, random_state=0)),
                       [_batch((3, 4)), _batch((3, 3), 2)]),
}


@pytest.mark.parametrize("name", LAYERS)
def test_backward_pass_matches_central_differences(name):
    layer, inputs = LAYERS[name]()
    _finite_difference_check(layer, inputs)


def test_contraction_layer_is_the_multilinear_product():
    layer = nn.TensorContraction((4, 3, 5), (2, 3, 2), random_state=0)
    X = _batch((3, 4, 3, 5))
    U = [layer.params[f"U{k}"] for k in range(3)]
    expected = np.stack([tl.tenalg.multi_mode_dot(x, U) for x in X])
    np.testing.assert_allclose(layer(X), expected, rtol=1e-12, atol=1e-12)
    assert layer.n_params == 2 * 4 + 3 * 3 + 2 * 5


def test_tucker_regression_is_the_inner_product_with_the_full_weight_tensor():
    layer = nn.TuckerRegression((4, 3, 5), 3, (2, 2, 3, 2), random_state=0)
    layer.params["bias"][:] = [0.5, -1.0, 2.0]
    p = layer.params
    W = tl.tucker_to_tensor((p["core"], [p["U0"], p["U1"], p["U2"], p["U_out"]]))
    X = _batch((6, 4, 3, 5))
    np.testing.assert_allclose(layer(X), np.einsum("nabc,abco->no", X, W) + p["bias"], rtol=1e-12, atol=1e-12)


def test_cp_regression_is_the_inner_product_with_the_full_weight_tensor():
    layer = nn.CPRegression((4, 3, 5), 3, 2, random_state=0)
    p = layer.params
    W = tl.cp_to_tensor((np.ones(2), [p["U0"], p["U1"], p["U2"], p["U_out"]]))
    X = _batch((6, 4, 3, 5))
    np.testing.assert_allclose(layer(X), np.einsum("nabc,abco->no", X, W) + p["bias"], rtol=1e-12, atol=1e-12)
    assert layer.n_params == 2 * (4 + 3 + 5 + 3) + 3


@pytest.mark.parametrize("in_modes, out_modes, ranks", [((2, 3, 2), (3, 2, 2), (2, 3)), ((4, 4), (2, 5), 3),
                                                        ((6,), (4,), ())])
def test_tt_layer_is_the_dense_layer_of_its_tt_matrix(in_modes, out_modes, ranks):
    layer = nn.TTDense(in_modes, out_modes, ranks, random_state=0)
    layer.params["bias"][:] = np.arange(layer.n_out)
    d = len(in_modes)
    full = layer.ranks
    cores = [layer.params[f"G{k}"].reshape(full[k], out_modes[k], in_modes[k], full[k + 1]) for k in range(d)]
    W = tt_matrix_to_matrix(cores)  # TensorLy's TT-matrix: cores (r_{k-1}, rows_k, columns_k, r_k)
    np.testing.assert_allclose(layer.to_matrix(), W, rtol=1e-12, atol=1e-12)
    x = _batch((5, layer.n_in))
    np.testing.assert_allclose(layer(x), x @ W.T + layer.params["bias"], rtol=1e-12, atol=1e-12)
    assert layer.n_params == sum(c.size for c in cores) + layer.n_out


def test_fusions_match_their_formulas():
    x, y = _batch((5, 4)), _batch((5, 3), 2)
    full = nn.BilinearFusion(4, 3, 2, random_state=0)
    expected = np.array([[x[n] @ full.params["W"][:, :, o] @ y[n] for o in range(2)] for n in range(5)])
    np.testing.assert_allclose(full(x, y), expected, rtol=1e-12, atol=1e-12)

    mlb = nn.MLBFusion(4, 3, 2, 3, random_state=0)
    p = mlb.params
    hx, hy = np.tanh(x @ p["x.W"] + p["x.bias"]), np.tanh(y @ p["y.W"] + p["y.bias"])
    np.testing.assert_allclose(mlb(x, y), (hx * hy) @ p["out.P"] + p["out.bias"], rtol=1e-12, atol=1e-12)
    # the same model as a full bilinear one on (hx, hy), with the CP weight formed
    W = np.einsum("ir,jr,ro->ijo", np.eye(3), np.eye(3), p["out.P"])
    np.testing.assert_allclose(mlb(x, y), np.einsum("ni,nj,ijo->no", hx, hy, W) + p["out.bias"], atol=1e-12)

    mutan = nn.MUTANFusion(4, 3, 2, (2, 3, 2), random_state=0)
    p = mutan.params
    hx, hy = np.tanh(x @ p["x.W"] + p["x.bias"]), np.tanh(y @ p["y.W"] + p["y.bias"])
    core = tl.tenalg.mode_dot(p["out.T"], p["out.W_o"].T, 2)
    np.testing.assert_allclose(mutan(x, y), np.einsum("ni,nj,ijo->no", hx, hy, core) + p["out.bias"], atol=1e-12)


def test_tensor_sketch_is_the_count_sketch_of_the_outer_product():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((3, 7)), rng.standard_normal((3, 5))
    sketch = nn.TensorSketch(7, 5, 11, random_state=4)
    (h1, h2), (s1, s2) = sketch.hashes, sketch.signs
    expected = np.zeros((3, 11))
    for i in range(7):
        for j in range(5):
            expected[:, (h1[i] + h2[j]) % 11] += s1[i] * s2[j] * x[:, i] * y[:, j]
    np.testing.assert_allclose(sketch(x, y), expected, atol=1e-12)
    np.testing.assert_allclose(tb.tensor_sketch(x, y, 11, random_state=4), expected, atol=1e-12)


def test_tensor_sketch_estimates_the_product_of_inner_products_without_bias():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((2, 20)), rng.standard_normal((2, 15))
    x[1] += x[0]  # correlated pairs: a product of inner products well away from 0
    y[1] += y[0]
    exact = (x[0] @ x[1]) * (y[0] @ y[1])
    variances = {}
    for dim in (32, 256):
        estimates = []
        for seed in range(600):
            psi = tb.tensor_sketch(x, y, dim, random_state=seed)
            estimates.append(psi[0] @ psi[1])
        estimates = np.array(estimates)
        standard_error = estimates.std(ddof=1) / np.sqrt(estimates.size)
        assert abs(estimates.mean() - exact) < 4 * standard_error, (dim, estimates.mean(), exact, standard_error)
        variances[dim] = estimates.var(ddof=1)
    assert variances[256] < variances[32] / 3  # falls as 1/D: 8x here, up to sampling noise


def test_one_hash_pair_per_random_state():
    x, y = _batch((4, 6)), _batch((4, 5), 2)
    np.testing.assert_array_equal(tb.tensor_sketch(x, y, 32, random_state=3), tb.tensor_sketch(x, y, 32, random_state=3))
    # the rows are sketched independently of the batch they come in
    np.testing.assert_array_equal(tb.tensor_sketch(x[:2], y[:2], 32, random_state=3),
                                  tb.tensor_sketch(x, y, 32, random_state=3)[:2])
    assert not np.allclose(tb.tensor_sketch(x, y, 32, random_state=3), tb.tensor_sketch(x, y, 32, random_state=4))


@pytest.mark.parametrize("call, message", [
    (lambda: tb.tensor_sketch(np.ones((3, 4)), np.ones((2, 4)), 8), "same number of rows"),
    (lambda: tb.tensor_sketch(np.ones(4), np.ones((1, 4)), 8), "x"),
    (lambda: tb.tensor_sketch(np.ones((2, 4)), np.full((2, 3), np.nan), 8), "y must contain only finite"),
    (lambda: nn.TensorContraction((3, 2), 2)(np.full((1, 3, 2), np.nan)), "X must contain only finite"),
    (lambda: nn.TTDense((2, 3), (3, 2), 2)(np.full((4, 6), np.inf)), "x must contain only finite"),
    (lambda: nn.MLBFusion(4, 3, 2, 2)(np.ones((2, 4)), np.full((2, 3), np.nan)), "y must contain only finite"),
    (lambda: nn.train(nn.Dense(2, 3), np.full((10, 2), np.nan), np.zeros(10, int)), "inputs must contain only finite"),
    (lambda: nn.TuckerRegression((4, 3), 2, (2, 0, 2)), "ranks must be an integer >= 1"),
    (lambda: nn.TTDense((2, 3), (3, 2), -1), "ranks must be an integer >= 1"),
    (lambda: nn.CPRegression((4, 3), 2, 0), "rank must be an integer >= 1"),
    (lambda: tb.tensor_sketch(np.ones((2, 4)), np.ones((2, 3)), 0), "dim"),
    (lambda: tb.tensor_sketch(np.ones((2, 4)), np.ones((2, 3)), 8.0), "dim"),
    (lambda: nn.TensorContraction((4, 3), (2, 2, 2)), "ranks must have 2 entries"),
    (lambda: nn.TensorContraction((4, 3), 2)(np.ones((5, 3, 4))), "X must have shape (batch, 4, 3)"),
    (lambda: nn.TTDense((2, 3), (3, 2, 2), 2), "out_modes must have 2 entries"),
    (lambda: nn.TTDense((2, 3), (3, 2), 2)(np.ones((4, 5))), "x must have shape (batch, 6)"),
    (lambda: nn.TuckerRegression((4, 3), 2, (2, 2)), "ranks must have 3 entries"),
    (lambda: nn.MLBFusion(4, 3, 2, 0), "rank"),
    (lambda: nn.BilinearFusion(4, 3, 2)(np.ones((2, 4)), np.ones((3, 3))), "same number|y must have"),
])
def test_bad_input_names_the_argument(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


def test_contraction_gradient_refuses_what_is_not_a_contraction():
    A, B = np.ones((2, 3)), np.ones((3,))
    with pytest.raises(ValueError, match="appears nowhere else"):
        nn.contraction_gradient("ij,j->j", [A, B], np.ones(3), 0)
    with pytest.raises(ValueError, match="repeats the index"):
        nn.contraction_gradient("ii->", [np.ones((2, 2))], np.array(1.0), 0)
    with pytest.raises(ValueError, match="explicit"):
        nn.contraction_gradient("ij,jk", [A, A.T], np.ones((2, 2)), 0)


# --- composition, loss, trainer ------------------------------------------------------------------------------------


def test_a_sequential_network_backpropagates_through_every_layer():
    model = nn.Sequential(nn.TensorContraction((4, 5), (3, 2), random_state=0), nn.ReLU(), nn.Flatten(),
                          nn.TTDense((2, 3), (2, 2), 2, random_state=1), nn.ReLU(), nn.Dense(4, 3, random_state=2))
    _finite_difference_check(model, [_batch((5, 4, 5))])
    fusion = nn.Sequential(nn.MLBFusion(4, 3, 5, 2, random_state=0), nn.ReLU(), nn.Dense(5, 3, random_state=1))
    _finite_difference_check(fusion, [_batch((4, 4)), _batch((4, 3), 2)])
    assert set(fusion.params) >= {"0.x.W", "0.out.P", "2.W", "2.bias"}


def test_softmax_cross_entropy_gradient():
    logits, labels = _batch((6, 4)), np.array([0, 3, 1, 1, 2, 0])
    loss, grad = nn.softmax_cross_entropy(logits, labels)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(6), labels])), rel=1e-12)
    numeric = np.zeros_like(logits)
    for idx in np.ndindex(logits.shape):
        up, down = logits.copy(), logits.copy()
        up[idx] += 1e-6
        down[idx] -= 1e-6
        numeric[idx] = (nn.softmax_cross_entropy(up, labels)[0] - nn.softmax_cross_entropy(down, labels)[0]) / 2e-6
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


def _digits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.3, random_state=0, stratify=y)


def test_training_a_softmax_layer_matches_scikit_learns_logistic_regression():
    from sklearn.linear_model import LogisticRegression

    X_fit, X_test, y_fit, y_test = _digits()
    ours = nn.Dense(64, 10, random_state=0)
    history = nn.train(ours, X_fit, y_fit, n_epochs=200, learning_rate=1e-2, weight_decay=1e-4, patience=15,
                       random_state=0)
    ours_accuracy = np.mean(nn.predict(ours, X_test) == y_test)
    theirs = LogisticRegression(max_iter=2000).fit(X_fit, y_fit).score(X_test, y_test)
    assert ours_accuracy > theirs - 0.02, (ours_accuracy, theirs)
    # the kept parameters are those of the best validation epoch
    assert history["val_loss"][history["best_epoch"]] == min(history["val_loss"])


def test_training_is_reproducible_and_restores_the_best_epoch():
    X_fit, _, y_fit, _ = _digits()
    X_fit = X_fit.reshape(-1, 8, 8)

    def fit(seed):
        model = nn.Sequential(nn.TensorContraction((8, 8), (4, 4), random_state=seed), nn.ReLU(),
                              nn.CPRegression((4, 4), 10, 8, random_state=seed))
        history = nn.train(model, X_fit, y_fit, n_epochs=12, patience=3, random_state=seed)
        return model, history

    (a, ha), (b, hb) = fit(0), fit(0)
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name])
    assert ha == hb
    c, hc = fit(1)
    assert hc["val_loss"] != ha["val_loss"]
    assert max(ha["val_accuracy"]) > 0.8


@pytest.mark.parametrize("kwargs, message", [
    ({"labels": np.zeros(10)}, "labels must be 10 integers"),
    ({"labels": np.arange(10) % 3 + 8}, r"labels must lie in 0..9"),
    ({"validation_fraction": 1.0}, "validation_fraction"),
    ({"validation_fraction": 0.01}, "leaves"),
    ({"learning_rate": 0}, "learning_rate"),
    ({"n_epochs": 0}, "n_epochs"),
])
def test_train_names_the_bad_argument(kwargs, message):
    arguments = {"labels": np.arange(10) % 10, **kwargs}
    labels = arguments.pop("labels")
    with pytest.raises(ValueError, match=message):
        nn.train(nn.Dense(4, 10), np.ones((10, 4)), labels, **arguments)


@pytest.mark.parametrize("layer", [nn.TuckerRegression((4, 3, 5), 6, (2, 2, 3, 2), random_state=0),
                                   nn.CPRegression((4, 3, 5), 6, 3, random_state=0)])
def test_both_routes_of_a_regression_layer_agree(layer):
    """W formed (batch at least the number of classes) or not (fewer examples): same outputs, same gradients."""
    X = _batch((8, 4, 3, 5))
    G = _batch((8, 6), 3)
    out, cache = layer.forward(X)  # 8 >= 6 classes: W formed
    assert isinstance(cache, tuple)
    (gx,), grads = layer.backward(cache, G)
    parts = [layer.forward(X[i:i + 4]) for i in (0, 4)]  # 4 < 6: X contracted with the factors
    assert all(isinstance(c, list) for _, c in parts)
    np.testing.assert_allclose(np.concatenate([o for o, _ in parts]), out, rtol=1e-12, atol=1e-12)
    back = [layer.backward(c, G[i:i + 4]) for (_, c), i in zip(parts, (0, 4))]
    np.testing.assert_allclose(np.concatenate([b[0][0] for b in back]), gx, rtol=1e-10, atol=1e-12)
    for name in grads:
        np.testing.assert_allclose(back[0][1][name] + back[1][1][name], grads[name], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("spec, shapes", [
    ("nabc,xa,yb,zc->nxyz", [(3, 4, 3, 5), (2, 4), (3, 3), (2, 5)]),
    ("nabc,ad,be,cf,defg,og->no", [(2, 4, 3, 5), (4, 2), (3, 2), (5, 3), (2, 2, 3, 2), (6, 2)]),
    ("ar,br,cr,or->abco", [(4, 3), (5, 3), (2, 3), (6, 3)]),
    ("nab,aib,bjc,ck->nijk", [(3, 2, 3), (2, 4, 3), (3, 2, 2), (2, 3)]),
    ("ij,jk,kl,lm->im", [(3, 4), (4, 5), (5, 2), (2, 6)]),
    ("ni,nj,ijo->no", [(4, 3), (4, 2), (3, 2, 5)]),
])
def test_all_gradients_at_once_equal_the_rule_operand_by_operand(spec, shapes):
    rng = np.random.default_rng(0)
    ops = [rng.standard_normal(s) for s in shapes]
    G = rng.standard_normal(np.einsum(spec, *ops).shape)
    together = nn.contraction_gradients(spec, ops, G)
    for k, g in enumerate(together):
        np.testing.assert_allclose(g, nn.contraction_gradient(spec, ops, G, k), rtol=1e-10, atol=1e-12)


def test_all_gradients_at_once_refuse_nan_naming_the_operand():
    ops = [np.ones((2, 3)), np.full((3, 4), np.nan), np.ones((4, 2))]
    with pytest.raises(ValueError, match=r"operands\[1\] must contain only finite"):
        nn.contraction_gradients("ij,jk,kl->il", ops, np.ones((2, 2)))
    with pytest.raises(ValueError, match="grad_output must contain only finite"):
        nn.contraction_gradients("ij,jk,kl->il", [np.ones((2, 3)), np.ones((3, 4)), np.ones((4, 2))],
                                 np.full((2, 2), np.inf))
