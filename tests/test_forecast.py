"""Recurrent forecasters: BPTT gradients against finite differences, the forward pass against a
naive dense-tensor reference, parameter counts against hand formulas, training, baselines, errors."""

import inspect
import math

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from tensorbook.forecast import (
    Forecaster,
    _check_cell_args,
    _forward,
    _loss_and_grad,
    _mse,
    _Adam,
    _Spec,
    n_parameters,
    persistence,
    rmse_by_horizon,
    seasonal_naive,
    sliding_windows,
)

F = 2  # features in the small gradient / reference checks

# (cell, hidden, n_lags, order, tt_rank) -- small enough for finite differences over every parameter
CONFIGS = {
    "lstm": ("lstm", 4, None, None, None),
    "trnn-P2": ("trnn", 3, 2, 2, 3),
    "trnn-P3-mixed": ("trnn", 3, 2, 3, (2, 3)),
    "tlstm-P1-L3": ("tlstm", 3, 3, 1, None),  # the matrix LSTM
    "tlstm-P2": ("tlstm", 3, 2, 2, 3),
    "tlstm-P3-mixed": ("tlstm", 3, 2, 3, (2, 4)),
}


def _spec(cell, hidden, n_lags, order, tt_rank, n_features=F, residual=False):
    hidden, n_lags, order, ranks = _check_cell_args(cell, hidden, n_lags, order, tt_rank)
    if residual:  # the decoder predicts the change from its input: y = x + W_y h + b_y
        return _Spec(cell, n_features, hidden, n_lags, order, ranks, residual=True)
    return _Spec(cell, n_features, hidden, n_lags, order, ranks)


def _perturbed_theta(spec, seed, dtype=np.float64):
    """Initial weights moved off the init (biases are 0 there) so no gate is degenerate."""
    rng = np.random.default_rng(seed)
    theta = spec.init(rng, dtype)
    theta += 0.3 * rng.standard_normal(theta.size)
    return theta


def _data(seed, input_steps, output_steps, batch, n_features=F):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((input_steps, batch, n_features))
    target = rng.standard_normal((output_steps, batch, n_features))
    return x, target


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# --------------------------------------------------------------------------
# 1. gradients against central finite differences
# --------------------------------------------------------------------------


def _check_gradient(spec, theta, x, target, tol=1e-6):
    loss, grad = _loss_and_grad(spec, theta, x, target)
    n_out = target.shape[0]

    def f(th):
        Y, _ = _forward(spec, th, x, n_out)
        return np.mean((Y - target) ** 2)

    assert loss == pytest.approx(f(theta), rel=1e-14)
    eps = 1e-6
    fd = np.empty_like(theta)
    th = theta.copy()
    for k in range(theta.size):
        th[k] = theta[k] + eps
        up = f(th)
        th[k] = theta[k] - eps
        down = f(th)
        th[k] = theta[k]
        fd[k] = (up - down) / (2 * eps)
    g, d = spec.views(grad), spec.views(fd)
    errors = {}
    for name, _ in spec.shapes:
        scale = max(np.linalg.norm(g[name]), np.linalg.norm(d[name]))
        assert scale > 1e-4, f"{name}: gradient block unexpectedly ~0 ({scale})"
        errors[name] = np.linalg.norm(g[name] - d[name]) / scale
    bad = {k: v for k, v in errors.items() if not v < tol}
    assert not bad, f"relative gradient errors above {tol}: {bad}"
    return g, d


@pytest.mark.parametrize("config", list(CONFIGS), ids=list(CONFIGS))
def test_gradient_matches_finite_differences(config):
    spec = _spec(*CONFIGS[config])
    assert not getattr(spec, "residual", False)
    theta = _perturbed_theta(spec, seed=1)
    x, target = _data(2, input_steps=4, output_steps=3, batch=3)
    _check_gradient(spec, theta, x, target)


@pytest.mark.parametrize("config", ["lstm", "trnn-P3-mixed", "tlstm-P2"])
def test_gradient_with_residual_decoder(config):
    spec = _spec(*CONFIGS[config], residual=True)
    theta = _perturbed_theta(spec, seed=1)
    x, target = _data(2, input_steps=4, output_steps=3, batch=3)
    _check_gradient(spec, theta, x, target)


@pytest.mark.parametrize(
    "config,input_steps,output_steps",
    [
        ("lstm", 4, 1),
        ("tlstm-P3-mixed", 4, 1),
        ("trnn-P2", 4, 1),
        ("tlstm-P2", 2, 3),  # one encoder step: a lag that reaches into the zero start
    ],
)
def test_gradient_short_sequences(config, input_steps, output_steps):
    spec = _spec(*CONFIGS[config])
    theta = _perturbed_theta(spec, seed=3)
    x, target = _data(4, input_steps, output_steps, batch=2)
    _check_gradient(spec, theta, x, target)


@pytest.mark.parametrize("config", ["lstm", "tlstm-P2", "trnn-P3-mixed"])
@pytest.mark.parametrize("output_steps", [1, 3])
def test_gradient_without_encoder_steps(config, output_steps):
    """input_steps=1: the encoder never runs, so its gradient is exactly 0 (and so are the differences)."""
    spec = _spec(*CONFIGS[config])
    theta = _perturbed_theta(spec, seed=5)
    x, target = _data(6, 1, output_steps, batch=2)
    loss, grad = _loss_and_grad(spec, theta, x, target)
    g = spec.views(grad)
    for name, _ in spec.shapes:
        if name.startswith("enc_"):
            assert np.all(g[name] == 0.0), name
    # the encoder weights do not change the predictions at all
    other = theta.copy()
    v = spec.views(other)
    for name, _ in spec.shapes:
        if name.startswith("enc_"):
            v[name][...] += 1.0
    np.testing.assert_array_equal(_forward(spec, other, x, output_steps)[0], _forward(spec, theta, x, output_steps)[0])
    # the rest against finite differences
    n_out = output_steps
    eps = 1e-6
    th = theta.copy()
    views = spec.views(th)
    for name, _ in spec.shapes:
        if name.startswith("enc_"):
            continue
        block, gb = views[name].reshape(-1), g[name].reshape(-1)
        fd = np.empty(block.size)
        for k in range(block.size):
            orig = block[k]
            block[k] = orig + eps
            up = np.mean((_forward(spec, th, x, n_out)[0] - target) ** 2)
            block[k] = orig - eps
            down = np.mean((_forward(spec, th, x, n_out)[0] - target) ** 2)
            block[k] = orig
            fd[k] = (up - down) / (2 * eps)
        scale = max(np.linalg.norm(gb), np.linalg.norm(fd))
        # with one step, the cores see s = [1; 0; ...] (h = 0 for the LSTM): blocks may be exactly 0
        assert np.linalg.norm(gb - fd) <= 1e-6 * max(scale, 1e-3), name


# --------------------------------------------------------------------------
# 2. a TLSTM of order 1 with one lag is an LSTM
# --------------------------------------------------------------------------


def _lstm_from_tlstm(tlstm_v, lstm_v):
    for part in ("enc", "dec"):
        G = tlstm_v[f"{part}_G0"]  # (1, H + 1, 4H): row 0 multiplies the constant 1
        lstm_v[f"{part}_G0"][...] = G[:, 1:, :]
        lstm_v[f"{part}_b"][...] = tlstm_v[f"{part}_b"] + G[0, 0, :]
        lstm_v[f"{part}_W"][...] = tlstm_v[f"{part}_W"]
    lstm_v["out_W"][...] = tlstm_v["out_W"]
    lstm_v["out_b"][...] = tlstm_v["out_b"]


def test_tlstm_of_order_one_with_one_lag_is_an_lstm():
    H = 5
    tl = _spec("tlstm", H, 1, 1, None)
    ls = _spec("lstm", H, None, None, None)
    assert tl.views(np.zeros(tl.size))["enc_G0"].shape == (1, H + 1, 4 * H)
    theta_tl = _perturbed_theta(tl, seed=7)
    theta_ls = np.full(ls.size, np.nan)
    _lstm_from_tlstm(tl.views(theta_tl), ls.views(theta_ls))
    assert np.all(np.isfinite(theta_ls))
    x, _ = _data(8, input_steps=6, output_steps=1, batch=4)
    Y_tl, _ = _forward(tl, theta_tl, x, 9)
    Y_ls, _ = _forward(ls, theta_ls, x, 9)
    np.testing.assert_allclose(Y_ls, Y_tl, rtol=0, atol=1e-12)
    assert np.ptp(Y_tl) > 0.1  # not a trivially constant output


def test_tlstm_of_order_one_with_one_lag_is_an_lstm_through_the_public_api():
    t = np.arange(120)
    series = np.stack([np.sin(t / 4), np.cos(t / 7)], axis=1) * 3 + 10
    common = dict(hidden_size=4, input_steps=6, output_steps=3, max_epochs=2, dtype="float64", random_state=0)
    tl = Forecaster("tlstm", n_lags=1, order=1, **common).fit(series)
    ls = Forecaster("lstm", **common).fit(series)
    before = ls.predict(series[-10:], 5)
    _lstm_from_tlstm(tl.params_, ls.params_)  # params_ are views into theta_
    after = ls.predict(series[-10:], 5)
    assert not np.allclose(before, after)
    np.testing.assert_allclose(after, tl.predict(series[-10:], 5), rtol=1e-12, atol=1e-10)


# --------------------------------------------------------------------------
# 3. the forward pass against a naive reference
# --------------------------------------------------------------------------


def _dense_transition(spec, v, part):
    """The full transition tensor, shape (S,) * P + (D,), multiplied out from the TT cores."""
    cores = [v[f"{part}_G{p}"] for p in range(spec.order)]
    dense = cores[0][0]  # (S, r1)
    for core in cores[1:]:
        dense = np.einsum("...r,rsq->...sq", dense, core)
    assert dense.shape == (spec.state,) * spec.order + (spec.width,)
    return dense


def _reference_forward(spec, theta, x, n_out):
    """Loop over time and batch, straight from the module docstring's formulas."""
    v = spec.views(theta)
    T, B, _ = x.shape
    H, L, P = spec.hidden, spec.n_lags, spec.order
    trans = {part: _dense_transition(spec, v, part) for part in ("enc", "dec")}
    Y = np.empty((n_out, B, x.shape[2]))
    for b in range(B):
        past = [np.zeros(H) for _ in range(L)]  # h(t-1), ..., h(t-L)
        c = np.zeros(H)

        def step(part, inp):
            nonlocal c
            if spec.cell == "lstm":
                a = past[0] @ trans[part]
            else:
                s = np.concatenate([[1.0], *past[:L]])
                outer = s
                for _ in range(P - 1):
                    outer = np.multiply.outer(outer, s)
                a = np.tensordot(outer, trans[part], axes=P)
            pre = inp @ v[f"{part}_W"] + a + v[f"{part}_b"]
            if spec.cell == "trnn":
                h = np.tanh(pre)
            else:
                i, j, f, o = np.split(pre, 4)
                c = c * _sigmoid(f + 1) + _sigmoid(i) * np.tanh(j)
                h = np.tanh(c) * _sigmoid(o)
            past.insert(0, h)
            del past[L:]
            return h

        for t in range(T - 1):
            step("enc", x[t, b])
        inp = x[T - 1, b]
        for k in range(n_out):
            h = step("dec", inp)
            y = h @ v["out_W"] + v["out_b"]
            if getattr(spec, "residual", False):
                y = y + inp
            Y[k, b] = inp = y
    return Y


@pytest.mark.parametrize("residual", [False, True], ids=["plain", "residual"])
@pytest.mark.parametrize("config", list(CONFIGS), ids=list(CONFIGS))
@pytest.mark.parametrize("input_steps,output_steps", [(5, 4), (1, 3), (3, 1)])
def test_forward_matches_a_naive_dense_reference(config, input_steps, output_steps, residual):
    spec = _spec(*CONFIGS[config], residual=residual)
    assert getattr(spec, "residual", False) == residual
    theta = _perturbed_theta(spec, seed=11)
    x, _ = _data(12, input_steps, output_steps, batch=3)
    Y, _ = _forward(spec, theta, x, output_steps)
    ref = _reference_forward(spec, theta, x, output_steps)
    np.testing.assert_allclose(Y, ref, rtol=0, atol=1e-10)
    assert np.ptp(ref) > 0.05


def test_predict_matches_the_reference_in_original_units():
    rng = np.random.default_rng(0)
    t = np.arange(150)
    series = np.stack([np.sin(t / 3), np.cos(t / 5)], axis=1) * [2.0, 0.5] + [5.0, -1.0]
    series = series + 0.1 * rng.standard_normal(series.shape)
    model = Forecaster("trnn", hidden_size=3, n_lags=3, order=3, tt_rank=(2, 3), input_steps=7,
                       output_steps=4, max_epochs=2, dtype="float64", random_state=0).fit(series)
    hist = np.stack([series[10:30], series[50:70]])
    scaled = (hist[:, -7:] - model.mean_) / model.scale_
    ref = _reference_forward(model.spec_, model.theta_, scaled.transpose(1, 0, 2), 6).transpose(1, 0, 2)
    np.testing.assert_allclose(model.predict(hist, 6), ref * model.scale_ + model.mean_, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(model.mean_, series[:120].mean(axis=0))
    np.testing.assert_allclose(model.scale_, series[:120].std(axis=0))


# --------------------------------------------------------------------------
# 4. parameter counts
# --------------------------------------------------------------------------


def _hand_count(cell, n_features, hidden, n_lags=2, order=2, ranks=None, dense=False):
    D = hidden if cell == "trnn" else 4 * hidden
    if cell == "lstm":
        transition = hidden * D
    else:
        S = n_lags * hidden + 1
        r = (1, *(ranks if ranks is not None else (4,) * (order - 1)), D)
        transition = S**order * D if dense else sum(r[p] * S * r[p + 1] for p in range(order))
    return 2 * (n_features * D + D + transition) + hidden * n_features + n_features


COUNT_CASES = [
    # (cell, F, H, n_lags, order, tt_rank) -- None: the default
    ("lstm", 1, 8, None, None, None),
    ("lstm", 3, 5, None, None, None),
    ("trnn", 2, 6, None, None, None),
    ("trnn", 1, 4, 3, 3, (2, 5)),
    ("tlstm", 1, 8, 2, 3, 4),
    ("tlstm", 2, 3, 4, 1, None),
    ("tlstm", 3, 4, 1, 4, (1, 2, 3)),
]


@pytest.mark.parametrize("case", COUNT_CASES)
def test_parameter_counts(case):
    cell, n_feat, H, L, P, rank = case
    kw = dict(n_lags=L, order=P, tt_rank=rank)
    hand = dict(n_lags=2 if L is None else L, order=2 if P is None else P)
    hand["ranks"] = None if rank is None else ((rank,) * (hand["order"] - 1) if isinstance(rank, int) else rank)
    expected = _hand_count(cell, n_feat, H, **hand)
    assert n_parameters(cell, n_feat, H, **kw) == expected
    dense = n_parameters(cell, n_feat, H, **kw, dense=True)
    if cell == "lstm":
        assert dense == expected
    else:
        assert dense == _hand_count(cell, n_feat, H, **hand, dense=True)
        D = H if cell == "trnn" else 4 * H
        S = hand["n_lags"] * H + 1
        r = (1, *(hand["ranks"] or (4,) * (hand["order"] - 1)), D)
        train = sum(r[p] * S * r[p + 1] for p in range(hand["order"]))
        assert dense - expected == 2 * (S ** hand["order"] * D - train)
    t = np.arange(40.0)
    series = np.stack([np.sin(t / (k + 2)) for k in range(n_feat)], axis=1)
    model = Forecaster(cell, hidden_size=H, **kw, input_steps=3, output_steps=2, max_epochs=1, random_state=0).fit(series)
    assert model.n_params_ == expected == model.theta_.size
    assert sum(p.size for p in model.params_.values()) == expected


def test_parameter_count_docstring_values():
    # 2 * (1*32 + 32 + 8*32) + 8*1 + 1; the tensor train 17*4 + 4*17*4 + 4*17*32; dense 17**3 * 32
    assert n_parameters("lstm", 1, 8) == 649
    assert n_parameters("tlstm", 1, 8, n_lags=2, order=3, tt_rank=4) == 2 * (32 + 32 + 68 + 272 + 2176) + 9
    assert n_parameters("tlstm", 1, 8, n_lags=2, order=3, tt_rank=4, dense=True) == 2 * (32 + 32 + 17**3 * 32) + 9


# --------------------------------------------------------------------------
# 5. training
# --------------------------------------------------------------------------


@pytest.mark.parametrize("cell,kw", [("lstm", {}), ("tlstm", dict(n_lags=2, order=2, tt_rank=2))])
def test_overfits_a_tiny_series(cell, kw):
    t = np.arange(80)
    series = np.sin(2 * np.pi * t / 16)[:, None]
    model = Forecaster(cell, hidden_size=8, input_steps=8, output_steps=4, batch_size=8, learning_rate=1e-2,
                       max_epochs=150, patience=150, validation_fraction=0.1, dtype="float64",
                       random_state=0, **kw).fit(series)
    assert model.n_epochs_ == 150
    # the initial weights are the spec's init drawn from the seeded generator
    theta0 = model.spec_.init(np.random.default_rng(0), np.float64)
    scaled = (series - model.mean_) / model.scale_
    train = sliding_windows(scaled[:72], 12)
    initial = _mse(model.spec_, theta0, train, 8)
    final = _mse(model.spec_, model.theta_, train, 8)
    assert initial > 0.1
    assert final < initial / 100
    assert min(model.history_["train_loss"]) < model.history_["train_loss"][0] / 100


def _seasonal(n=360, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    clean = np.stack([np.sin(2 * np.pi * t / 12), 2 * np.cos(2 * np.pi * t / 12) + 3], axis=1)
    return clean + 0.2 * rng.standard_normal((n, 2))


@pytest.mark.parametrize("season", [None, "auto"], ids=["no-season", "auto-season"])
@pytest.mark.parametrize("cell,kw", [("lstm", {}), ("tlstm", dict(n_lags=2, order=2, tt_rank=2)), ("trnn", {})])
def test_beats_persistence_on_held_out_windows(cell, kw, season):
    series = _seasonal()
    windows = sliding_windows(series[300 - 24:], 30)  # targets all in the held-out last 60 steps
    hist, truth = windows[:, :24], windows[:, 24:]
    model = Forecaster(cell, hidden_size=8, input_steps=12, output_steps=6, batch_size=16, learning_rate=1e-2,
                       max_epochs=30, patience=5, dtype="float64", random_state=0, season=season,
                       **kw).fit(series[:300])
    assert model.season_ == (12 if season == "auto" else None)
    assert model.residual_ == (season is None)
    rmse = rmse_by_horizon(model.predict(hist, 6), truth)
    naive = rmse_by_horizon(persistence(hist, 6), truth)
    assert np.all(rmse < 0.5 * naive), (rmse, naive)
    seasonal = rmse_by_horizon(seasonal_naive(hist, 6, 12), truth).mean()
    if season is None:  # the networks learn the clean cycle under the white noise: better than repeating it
        assert rmse.mean() < seasonal
    else:  # they model y(t) - y(t - 12), whose white noise is unpredictable: about the seasonal-naive error
        assert rmse.mean() < 1.05 * seasonal  # measured: 0.291 and 0.292 against 0.290


@pytest.mark.parametrize("clip", [None, 0.5, 100.0])
def test_adam_matches_the_textbook_update(clip):
    rng = np.random.default_rng(0)
    theta = rng.standard_normal(7)
    ref = theta.copy()
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    m = v = np.zeros(7)
    adam = _Adam(7, np.float64, lr, clip)
    for t in range(1, 6):
        grad = rng.standard_normal(7) * 3
        assert adam.step(theta, grad) == pytest.approx(np.linalg.norm(grad))  # the norm before clipping
        g = grad if clip is None or np.linalg.norm(grad) <= clip else grad * clip / np.linalg.norm(grad)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        ref = ref - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        np.testing.assert_allclose(theta, ref, rtol=1e-6)
    with pytest.raises(FloatingPointError, match="gradient became NaN or infinite"):
        adam.step(theta, np.full(7, np.nan))


def test_seeds_determine_the_result():
    series = _seasonal(120)
    kw = dict(hidden_size=4, input_steps=6, output_steps=3, max_epochs=3, dtype="float64")
    a = Forecaster("tlstm", random_state=3, **kw).fit(series)
    b = Forecaster("tlstm", random_state=3, **kw).fit(series)
    c = Forecaster("tlstm", random_state=4, **kw).fit(series)
    np.testing.assert_array_equal(a.theta_, b.theta_)
    np.testing.assert_array_equal(a.predict(series[-20:], 4), b.predict(series[-20:], 4))
    assert a.history_ == b.history_
    assert not np.allclose(a.theta_, c.theta_)
    assert not np.allclose(a.predict(series[-20:], 4), c.predict(series[-20:], 4))
    # a Generator is accepted too and gives the same as its seed
    d = Forecaster("tlstm", random_state=np.random.default_rng(3), **kw).fit(series)
    np.testing.assert_array_equal(a.theta_, d.theta_)


def test_early_stopping_keeps_the_best_epoch():
    series = _seasonal(300)
    model = Forecaster("lstm", hidden_size=8, input_steps=12, output_steps=6, batch_size=16, learning_rate=3e-2,
                       max_epochs=100, patience=1, season=None, dtype="float64", random_state=0).fit(series)
    val_losses = model.history_["val_loss"]
    assert model.n_epochs_ == len(val_losses) == len(model.history_["train_loss"])
    assert model.n_epochs_ < 100
    assert model.n_epochs_ <= model.best_epoch_ + 2
    assert model.best_epoch_ == int(np.argmin(val_losses))
    # stopped at the first epoch without improvement
    assert model.n_epochs_ == model.best_epoch_ + 2
    assert val_losses[-1] >= val_losses[-2]
    # theta_ is the best epoch's: its validation loss, recomputed, is the minimum
    n_train = int(round(300 * 0.8))
    scaled = (series - model.mean_) / model.scale_
    val = sliding_windows(scaled[n_train - 12:], 18)
    assert val.shape[0] == 300 - n_train - 6 + 1
    assert _mse(model.spec_, model.theta_, val, 12) == pytest.approx(min(val_losses), rel=1e-12)


def test_float32_training_and_prediction():
    series = _seasonal(150)
    model = Forecaster("tlstm", hidden_size=6, order=3, tt_rank=(3, 2), input_steps=8, output_steps=4,
                       max_epochs=3, season=None, dtype="float32", random_state=0).fit(series)
    assert model.theta_.dtype == np.float32
    assert all(p.dtype == np.float32 for p in model.params_.values())
    pred = model.predict(series[-30:], 5)
    assert pred.shape == (5, 2) and np.all(np.isfinite(pred))
    # the float32 forward pass agrees with float64 arithmetic on the same weights
    x = ((series[-8:] - model.mean_) / model.scale_)[:, None, :]
    Y64, _ = _forward(model.spec_, model.theta_.astype(np.float64), x, 5)
    np.testing.assert_allclose(pred, Y64[:, 0] * model.scale_ + model.mean_, rtol=1e-4, atol=1e-4 * model.scale_.max())
    # and so do the gradients
    rng = np.random.default_rng(0)
    target = rng.standard_normal((4, 3, 2))
    xb = rng.standard_normal((8, 3, 2))
    l32, g32 = _loss_and_grad(model.spec_, model.theta_, xb.astype(np.float32), target.astype(np.float32))
    l64, g64 = _loss_and_grad(model.spec_, model.theta_.astype(np.float64), xb, target)
    assert g32.dtype == np.float32
    assert l32 == pytest.approx(l64, rel=1e-5)
    assert np.linalg.norm(g32 - g64) < 1e-4 * np.linalg.norm(g64)
    # np.dtype objects are accepted as well as strings
    m2 = Forecaster("lstm", hidden_size=3, input_steps=4, output_steps=2, max_epochs=1,
                    dtype=np.dtype("float32"), random_state=0).fit(series)
    assert m2.theta_.dtype == np.float32


def test_predict_batch_equals_single_predictions():
    series = _seasonal(200)
    model = Forecaster("trnn", hidden_size=4, input_steps=6, output_steps=3, max_epochs=2, dtype="float64",
                       season=None, random_state=1).fit(series)
    hists = sliding_windows(series, 10)  # 191 histories of 10 steps (predict uses the last 6)
    many = np.concatenate([hists] * 6)  # > 1024: predict works in chunks
    batch = model.predict(many, 7)
    assert batch.shape == (many.shape[0], 7, 2)
    singles = np.stack([model.predict(h, 7) for h in hists])
    np.testing.assert_allclose(batch[: len(hists)], singles, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(batch[-len(hists):], singles, rtol=1e-12, atol=1e-12)
    # only the last input_steps of the history matter
    np.testing.assert_array_equal(model.predict(hists[5][-6:], 7), model.predict(hists[5], 7))
    # integer-valued (or list) histories are accepted
    np.testing.assert_allclose(model.predict(np.round(hists[3]).tolist(), 2),
                               model.predict(np.round(hists[3]), 2))


def test_predictions_are_in_original_units():
    base = _seasonal(200)
    kw = dict(hidden_size=6, input_steps=12, output_steps=4, max_epochs=30, batch_size=16, learning_rate=1e-2,
              season=None, dtype="float64", random_state=0)
    m = Forecaster("lstm", **kw).fit(base)
    shifted = 1000 + 50 * base
    ms = Forecaster("lstm", **kw).fit(shifted)
    np.testing.assert_allclose(ms.mean_, 1000 + 50 * m.mean_)
    np.testing.assert_allclose(ms.scale_, 50 * m.scale_)
    hist = base[150:180]
    pred_s = ms.predict(1000 + 50 * hist, 6)
    # the scaled problem is the same, so the forecast is the same in the new units
    np.testing.assert_allclose(pred_s, 1000 + 50 * m.predict(hist, 6), rtol=1e-7)
    truth = shifted[180:186]
    assert np.all(np.abs(pred_s - 1000) < 300)
    assert np.sqrt(np.mean((pred_s - truth) ** 2)) < 0.5 * np.sqrt(np.mean((shifted[179] - truth) ** 2))


def test_progress_bar(capsys):
    series = _seasonal(80)
    Forecaster("trnn", hidden_size=3, input_steps=4, output_steps=2, max_epochs=2, verbose=True,
               random_state=0).fit(series)
    err = capsys.readouterr().err
    assert "trnn H=3" in err and "2/2" in err


# --------------------------------------------------------------------------
# 6. baselines and evaluation
# --------------------------------------------------------------------------


def test_persistence():
    h = np.arange(12.0).reshape(4, 3)
    np.testing.assert_array_equal(persistence(h, 2), [[9.0, 10.0, 11.0], [9.0, 10.0, 11.0]])
    hb = np.arange(24.0).reshape(2, 4, 3)
    out = persistence(hb, 3)
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out[0], np.tile([9.0, 10.0, 11.0], (3, 1)))
    np.testing.assert_array_equal(out[1], np.tile([21.0, 22.0, 23.0], (3, 1)))


def test_seasonal_naive():
    h = np.array([[0.0, 10], [1, 11], [2, 12], [3, 13], [4, 14]])
    np.testing.assert_array_equal(seasonal_naive(h, 5, 2), [[3, 13], [4, 14], [3, 13], [4, 14], [3, 13]])
    np.testing.assert_array_equal(seasonal_naive(h, 2, 5), h[:2])
    np.testing.assert_array_equal(seasonal_naive(h, 4, 1), np.tile(h[-1], (4, 1)))
    hb = np.stack([h, h + 100])
    out = seasonal_naive(hb, 4, 3)
    assert out.shape == (2, 4, 2)
    np.testing.assert_array_equal(out[1], [[102, 112], [103, 113], [104, 114], [102, 112]])
    # a perfectly periodic series is forecast exactly
    t = np.arange(60)
    s = np.sin(2 * np.pi * t / 12)[:, None]
    np.testing.assert_allclose(seasonal_naive(s[:48], 12, 12), s[48:], atol=1e-12)
    with pytest.raises(ValueError, match=r"history must hold at least one season \(6 steps\), got 5"):
        seasonal_naive(h, 2, 6)


def test_rmse_by_horizon():
    rng = np.random.default_rng(0)
    pred, truth = rng.standard_normal((2, 5, 4, 3))
    expected = [math.sqrt(sum((pred[w, k, f] - truth[w, k, f]) ** 2 for w in range(5) for f in range(3)) / 15)
                for k in range(4)]
    np.testing.assert_allclose(rmse_by_horizon(pred, truth), expected)
    with pytest.raises(ValueError, match="predictions and truth must have the same shape"):
        rmse_by_horizon(pred, truth[:, :3])
    with pytest.raises(ValueError, match="predictions must be 3-D"):
        rmse_by_horizon(pred[0], truth[0])


def test_sliding_windows():
    s = np.arange(14.0).reshape(7, 2)
    w = sliding_windows(s, 3)
    assert w.shape == (5, 3, 2)
    for i in range(5):
        np.testing.assert_array_equal(w[i], s[i : i + 3])
    w2 = sliding_windows(s, 3, stride=2)
    np.testing.assert_array_equal(w2, np.stack([s[0:3], s[2:5], s[4:7]]))
    assert sliding_windows(s, 7).shape == (1, 7, 2)
    assert not w.flags.writeable
    with pytest.raises(ValueError, match="length must be at most the series length 7, got 8"):
        sliding_windows(s, 8)
    with pytest.raises(ValueError, match="series must be 2-D"):
        sliding_windows(s[:, 0], 2)
    with pytest.raises(ValueError, match="stride must be an integer >= 1, got 0"):
        sliding_windows(s, 2, stride=0)


# --------------------------------------------------------------------------
# 7. bad inputs
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted():
    return Forecaster("lstm", hidden_size=3, input_steps=5, output_steps=2, max_epochs=1,
                      random_state=0).fit(_seasonal(60))


def _small(**kw):
    args = dict(hidden_size=3, input_steps=4, output_steps=2, max_epochs=1, random_state=0)
    args.update(kw)
    return Forecaster(**args)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_series_rejected(bad):
    s = _seasonal(60)
    s[17, 1] = bad
    with pytest.raises(ValueError, match="series must contain only finite values"):
        _small().fit(s)


def test_series_shape_rejected():
    with pytest.raises(ValueError, match=r"series must be 2-D.*got shape \(60,\).*reshape\(-1, 1\)"):
        _small().fit(np.sin(np.arange(60.0)))
    with pytest.raises(ValueError, match=r"series must be 2-D.*got shape \(2, 30, 1\)"):
        _small().fit(np.ones((2, 30, 1)))
    with pytest.raises(TypeError, match="series must be an array of numbers"):
        _small().fit([["a"], ["b"]])


def test_series_too_short():
    # 6 steps: round(0.8 * 6) = 5 training steps hold no window of 4 + 2 steps, 1 step no target of 2
    with pytest.raises(ValueError, match=r"series is too short: 6 time steps leave 0 training and 0 validation"):
        _small().fit(_seasonal(6))
    _small().fit(_seasonal(10))  # 3 training windows and 1 validation window: enough
    # enough training windows (11 steps) but the last 1 step cannot hold a target of 3 steps
    with pytest.raises(ValueError, match=r"series is too short: 12 time steps leave 7 training and 0 validation"):
        _small(input_steps=2, output_steps=3, validation_fraction=0.1).fit(_seasonal(12))


def test_constant_feature_rejected():
    s = _seasonal(60)
    s[:, 1] = 7.0
    with pytest.raises(ValueError, match="series feature 1 is constant"):
        _small().fit(s)


def test_predict_errors(fitted):
    hist = _seasonal(20)
    with pytest.raises(ValueError, match=r"history must hold at least input_steps = 5 time steps, got 4"):
        fitted.predict(hist[:4], 3)
    with pytest.raises(ValueError, match=r"history must hold at least input_steps = 5 time steps, got 4"):
        fitted.predict(np.stack([hist[:4]] * 2), 3)
    for horizon in (0, -1, 2.0, "3", True):
        with pytest.raises(ValueError, match="horizon must be an integer >= 1"):
            fitted.predict(hist, horizon)
    with pytest.raises(ValueError, match=r"history must have 2 features .* got shape \(20, 3\)"):
        fitted.predict(np.ones((20, 3)), 3)
    with pytest.raises(ValueError, match=r"history must be 2-D or 3-D, got shape \(20,\)"):
        fitted.predict(hist[:, 0], 3)
    bad = hist.copy()
    bad[-1, 0] = np.nan
    with pytest.raises(ValueError, match="history must contain only finite values"):
        fitted.predict(bad, 3)
    bad = np.stack([hist, hist])
    bad[1, -3, 1] = np.inf
    with pytest.raises(ValueError, match="history must contain only finite values"):
        fitted.predict(bad, 3)


def test_predict_before_fit():
    with pytest.raises(NotFittedError, match="not fitted yet.*fit"):
        _small().predict(np.ones((10, 1)), 2)


def test_cell_argument_errors():
    s = _seasonal(60)
    with pytest.raises(ValueError, match=r"cell must be one of \('lstm', 'trnn', 'tlstm'\), got 'gru'"):
        _small(cell="gru").fit(s)
    with pytest.raises(ValueError, match=r"cell must be one of"):
        n_parameters("gru", 1, 4)
    for name in ("n_lags", "order", "tt_rank"):
        with pytest.raises(ValueError, match=rf"{name} applies to the tensor-train cells .* cell='lstm'"):
            _small(cell="lstm", **{name: 2}).fit(s)
        with pytest.raises(ValueError, match=rf"{name} applies to the tensor-train cells"):
            n_parameters("lstm", 1, 4, **{name: 2})
    with pytest.raises(ValueError, match=r"tt_rank must hold order - 1 = 2 inner ranks, got 1"):
        _small(cell="tlstm", order=3, tt_rank=(2,)).fit(s)
    with pytest.raises(ValueError, match=r"tt_rank must hold order - 1 = 1 inner ranks, got 3"):
        n_parameters("trnn", 1, 4, order=2, tt_rank=[1, 2, 3])
    with pytest.raises(ValueError, match=r"tt_rank must be an integer >= 1, got 0"):
        n_parameters("trnn", 1, 4, order=3, tt_rank=(2, 0))
    with pytest.raises(TypeError, match=r"tt_rank must be an integer or a sequence of integers, got 2.5"):
        n_parameters("trnn", 1, 4, tt_rank=2.5)
    for name in ("n_lags", "order", "hidden_size"):
        with pytest.raises(ValueError, match=rf"{name} must be an integer >= 1, got 0"):
            _small(cell="trnn", **{name: 0}).fit(s)


@pytest.mark.parametrize(
    "kw,match",
    [
        (dict(validation_fraction=0.0), r"validation_fraction must be a number in \(0, 0.5\], got 0.0"),
        (dict(validation_fraction=0.6), r"validation_fraction must be a number in \(0, 0.5\], got 0.6"),
        (dict(validation_fraction=True), r"validation_fraction must be a number in"),
        (dict(learning_rate=0.0), r"learning_rate must be a finite number > 0, got 0.0"),
        (dict(learning_rate=-1e-3), r"learning_rate must be a finite number > 0"),
        (dict(learning_rate="fast"), r"learning_rate must be a finite number > 0"),
        (dict(clip_norm=0), r"clip_norm must be a finite number > 0, got 0"),
        (dict(dtype="float16"), r"dtype must be 'float64' or 'float32', got 'float16'"),
        (dict(dtype="int32"), r"dtype must be 'float64' or 'float32'"),
        (dict(input_steps=0), r"input_steps must be an integer >= 1, got 0"),
        (dict(output_steps=1.5), r"output_steps must be .auto. or an integer >= 1, got 1.5"),
        (dict(output_steps="daily"), r"output_steps must be 'auto' or an integer >= 1, got 'daily'"),
        (dict(season="weekly"), r"season must be None, 'auto' or an integer >= 1 \(a number of time steps\), got 'weekly'"),
        (dict(residual="yes"), r"residual must be True, False or 'auto', got 'yes'"),
        (dict(batch_size=0), r"batch_size must be an integer >= 1"),
        (dict(max_epochs=0), r"max_epochs must be an integer >= 1"),
        (dict(patience=None), r"patience must be an integer >= 1"),
    ],
)
def test_hyperparameter_errors(kw, match):
    with pytest.raises(ValueError, match=match):
        _small(**kw).fit(_seasonal(60))


def test_baseline_errors():
    with pytest.raises(ValueError, match="horizon must be an integer >= 1, got 0"):
        persistence(np.ones((3, 1)), 0)
    with pytest.raises(ValueError, match=r"history must be 2-D or 3-D, got shape \(3,\)"):
        persistence(np.ones(3), 2)
    with pytest.raises(ValueError, match="season must be an integer >= 1, got 0"):
        seasonal_naive(np.ones((3, 1)), 2, 0)


# --------------------------------------------------------------------------
# 8. estimator protocol
# --------------------------------------------------------------------------


def test_get_set_params_and_repr():
    m = Forecaster("trnn", hidden_size=5, order=3, tt_rank=(2, 3), learning_rate=1e-2, random_state=7)
    params = m.get_params()
    assert params["cell"] == "trnn" and params["tt_rank"] == (2, 3) and params["n_lags"] is None
    # scikit-learn's convention: exactly the constructor's arguments
    assert sorted(params) == sorted(inspect.signature(Forecaster).parameters)
    clone = Forecaster(**params)
    assert clone.get_params() == params
    from sklearn.base import clone as sklearn_clone

    assert sklearn_clone(m).get_params() == params and sklearn_clone(m) is not m
    other = Forecaster()
    assert other.set_params(**params) is other
    assert other.get_params() == params
    assert other.set_params(hidden_size=9).hidden_size == 9
    text = repr(m)
    assert text.startswith("Forecaster(cell='trnn', hidden_size=5,") and "tt_rank=(2, 3)" in text
    assert eval(text, {"Forecaster": Forecaster}).get_params() == params
    with pytest.raises(ValueError, match=r"Invalid parameter 'hidden' for estimator Forecaster"):
        m.set_params(hidden=3)
    # the defaults documented in the class docstring
    d = Forecaster().get_params()
    assert (d["cell"], d["hidden_size"], d["input_steps"], d["output_steps"], d["dtype"]) == (
        "tlstm", 16, 12, "auto", "float32")


def test_refit_with_new_params_changes_the_model():
    series = _seasonal(100)
    m = _small(cell="tlstm", n_lags=1, order=1, dtype="float64").fit(series)
    assert m.n_params_ == n_parameters("tlstm", 2, 3, n_lags=1, order=1)
    m.set_params(hidden_size=4, order=2, tt_rank=2).fit(series)
    assert m.n_params_ == n_parameters("tlstm", 2, 4, n_lags=1, order=2, tt_rank=2)
    assert m.predict(series, 3).shape == (3, 2)


# ---------------------------------------------------------------------------
# Seasonal differencing and compare_forecasters
# ---------------------------------------------------------------------------


def test_season_forecast_adds_back_the_value_one_season_earlier():
    """predict with season=s equals: forecast the differences with the same networks, then undo by hand."""
    season, horizon = 12, 30  # horizon > 2 seasons exercises forecasts built on earlier forecasts
    series = _seasonal(400)
    model = Forecaster("tlstm", hidden_size=4, n_lags=2, order=2, tt_rank=2, input_steps=6, output_steps=4,
                       season=season, max_epochs=2, dtype="float64", random_state=0).fit(series)
    plain = Forecaster("tlstm", hidden_size=4, n_lags=2, order=2, tt_rank=2, input_steps=6, output_steps=4,
                       season=None, residual=False, dtype="float64", random_state=0).fit(series[:60])
    assert model.residual_ is False  # residual="auto": with a season, the skip is the seasonal-naive forecast
    plain.theta_, plain.mean_, plain.scale_ = model.theta_, model.mean_, model.scale_  # the same networks
    history = series[100:130]
    diffs = history[season:] - history[:-season]
    z = plain.predict(diffs, horizon)
    expected = np.empty((horizon, 2))
    extended = list(history)
    for k in range(horizon):
        expected[k] = z[k] + extended[len(extended) - season]
        extended.append(expected[k])
    np.testing.assert_allclose(model.predict(history, horizon), expected, rtol=1e-12, atol=1e-12)
    # the differencing is fitted on y(t) - y(t - season): the scaling says so
    d = series[season:] - series[:-season]
    n_train = int(round(d.shape[0] * 0.8))
    np.testing.assert_allclose(model.mean_, d[:n_train].mean(axis=0))


def test_season_needs_a_longer_history():
    model = _small(season=12).fit(_seasonal(120))
    with pytest.raises(ValueError, match=r"history must hold at least input_steps \+ season = 4 \+ 12 time steps, got 15"):
        model.predict(_seasonal(15), 3)
    assert model.predict(_seasonal(16), 3).shape == (3, 2)
    for bad in (0, -3, 2.5, True, "weekly", "Auto"):
        with pytest.raises(ValueError, match=r"season must be None, 'auto' or an integer >= 1 \(a number of time steps\), got"):
            _small(season=bad).fit(_seasonal(120))
    with pytest.raises(ValueError, match="series must be longer than season = 200 steps, got 120"):
        _small(season=200).fit(_seasonal(120))


def test_season_beats_seasonal_naive_on_a_seasonal_series_with_persistent_noise():
    """A daily cycle plus an AR(1) disturbance: repeating yesterday repeats yesterday's disturbance."""
    rng = np.random.default_rng(1)
    t = np.arange(1200)
    ar = np.zeros(t.size)
    for i in range(1, t.size):
        ar[i] = 0.95 * ar[i - 1] + 0.1 * rng.standard_normal()
    series = (np.sin(2 * np.pi * t / 24) + ar)[:, None]
    windows = sliding_windows(series[1000 - 48:], 48 + 12)
    hist, truth = windows[:, :48], windows[:, 48:]
    model = Forecaster("lstm", hidden_size=8, input_steps=24, output_steps=12, season=24, max_epochs=30,
                       learning_rate=1e-2, dtype="float64", random_state=0).fit(series[:1000])
    ours = rmse_by_horizon(model.predict(hist, 12), truth).mean()
    naive = rmse_by_horizon(seasonal_naive(hist, 12, 24), truth).mean()
    assert ours < 0.9 * naive  # measured: 0.28 against 0.37


def test_compare_forecasters_baselines_and_models():
    from tensorbook.forecast import compare_forecasters

    series = _seasonal(300)
    models = {"lstm": dict(cell="lstm", hidden_size=4, max_epochs=2, dtype="float64"),
              "tlstm": dict(cell="tlstm", hidden_size=4, order=2, tt_rank=2, max_epochs=2, dtype="float64",
                            season=12)}
    r = compare_forecasters(series, models, input_steps=6, horizon=5, seasons=(12,), seeds=(0, 1), test_stride=3)
    # windows: the test part starts at round(0.8 * 300) = 240; context = max(6, 6 + 12, 12) = 18
    windows = sliding_windows(series[240 - 18:], 18 + 5, stride=3)
    hist, truth = windows[:, :18], windows[:, 18:]
    assert r["n_windows"] == windows.shape[0]
    np.testing.assert_allclose(r["rmse"]["persistence"][0], rmse_by_horizon(persistence(hist, 5), truth))
    np.testing.assert_allclose(r["rmse"]["seasonal naive (12)"][0], rmse_by_horizon(seasonal_naive(hist, 5, 12), truth))
    one = Forecaster(**models["tlstm"], input_steps=6, output_steps=5, random_state=1).fit(series[:240])
    np.testing.assert_allclose(r["rmse"]["tlstm"][1], rmse_by_horizon(one.predict(hist, 5), truth))
    assert r["rmse"]["lstm"].shape == (2, 5) and not np.allclose(r["rmse"]["lstm"][0], r["rmse"]["lstm"][1])
    assert r["n_params"]["tlstm"] == one.n_params_ and r["n_params"]["persistence"] == 0
    assert len(r["epochs"]["lstm"]) == 2 and len(r["seconds"]["tlstm"]) == 2


def test_compare_forecasters_rejects_bad_arguments():
    from tensorbook.forecast import compare_forecasters

    with pytest.raises(ValueError, match=r"test_fraction must be a number in \(0, 0.5\], got 0.9"):
        compare_forecasters(_seasonal(100), {}, input_steps=4, horizon=2, test_fraction=0.9)
    with pytest.raises(ValueError, match="series is too short"):
        compare_forecasters(_seasonal(40), {}, input_steps=4, horizon=20, test_fraction=0.1)
