"""Recurrent forecasters in NumPy + Numba: an LSTM, and tensor-train RNNs of higher order.

A tensor-train RNN (Yu, Zheng, Anandkumar & Yue, 2017) replaces the linear
recurrence ``U h(t-1)`` of an RNN by a polynomial of order ``P`` in the
augmented state ``s(t) = [1; h(t-1); ...; h(t-L)]`` (``L`` lags, so
``S = L*H + 1`` entries): the ``P``-fold outer product of ``s(t)`` contracted
with a transition tensor of ``S**P * D`` entries. The tensor is held as a
tensor train of ``P`` cores ``G_p`` of shape ``(r(p), S, r(p+1))``, ``p = 0, ..., P-1``, with ``r(0) = 1``
and ``r(P) = D``, the width of the pre-activations, and contracted core by
core: one copy of ``s(t)`` at a time, so nothing of size ``S**P`` is ever formed.

Three cells share one implementation, a *transition* followed by an
*activation*:

========  ===========================================  ===========
cell      transition                                   activation
========  ===========================================  ===========
"lstm"    ``U h(t-1)`` (one core, no lags, no ``1``)   LSTM gates
"trnn"    tensor train of order ``P`` on ``s(t)``      ``tanh``
"tlstm"   tensor train of order ``P`` on ``s(t)``      LSTM gates
========  ===========================================  ===========

A ``"tlstm"`` of order 1 is the *matrix LSTM*: a dense linear map of ``L``
lagged states (the gates see all ``L`` lags, but no products of them).

The gates are ``[i, j, f, o] = W x(t) + transition + b``, then
``c(t) = c(t-1) * sigmoid(f + 1) + sigmoid(i) * tanh(j)`` and
``h(t) = tanh(c(t)) * sigmoid(o)``.

The forecaster is a sequence-to-sequence model: an encoder cell reads the
history, a decoder cell (same architecture, its own weights) starts from the
encoder's state and lagged hidden states, and at every step feeds its own
prediction ``y = W_y h + b_y`` back as its next input, in training as at test
time. Gradients are by backpropagation through time, written out below and
checked against finite differences in the tests; training uses Adam with
gradient-norm clipping, a chronological validation split and early stopping.

Seasonality is handled by default: :class:`Forecaster` finds the dominant
period of its training series (:func:`dominant_period`), models the seasonal
changes ``y(t) - y(t - season)`` with the seasonal-naive forecast as its
starting point (a skip connection, the output layer at zero), and trains on a
full season ahead. The baselines to judge it against are :func:`persistence`,
:func:`seasonal_naive` and Holt-Winters :func:`exponential_smoothing`.
"""

import math
import numbers

import numpy as np

from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from . import _kernels
from ._validation import as_float_array, check_finite, check_int, check_random_state, check_real
from ._optim import Adam as _Adam
from ._progress import progress_bar
from ._threads import single_threaded_blas

__all__ = [
    "Forecaster",
    "dominant_period",
    "exponential_smoothing",
    "n_parameters",
    "persistence",
    "seasonal_naive",
    "sliding_windows",
    "rmse_by_horizon",
    "compare_forecasters",
]

CELLS = ("lstm", "trnn", "tlstm")


# ---------------------------------------------------------------------------
# Architecture and parameter layout
# ---------------------------------------------------------------------------


class _Spec:
    """The shapes of one encoder-decoder model; the parameters live in one flat vector."""

    def __init__(self, cell, n_features, hidden_size, n_lags, order, ranks, residual=False):
        self.cell = cell
        self.residual = residual
        self.n_features = n_features
        self.hidden = hidden_size
        self.lstm = cell in ("lstm", "tlstm")
        self.width = 4 * hidden_size if self.lstm else hidden_size
        if cell == "lstm":
            self.n_lags, self.order, self.const = 1, 1, 0
            self.state = hidden_size
            self.ranks = (1, self.width)
        else:
            self.n_lags, self.order, self.const = n_lags, order, 1
            self.state = n_lags * hidden_size + 1
            self.ranks = (1, *ranks, self.width)
        shapes = []
        for part in ("enc", "dec"):
            shapes.append((f"{part}_W", (n_features, self.width)))
            shapes.append((f"{part}_b", (self.width,)))
            for p in range(self.order):
                shapes.append((f"{part}_G{p}", (self.ranks[p], self.state, self.ranks[p + 1])))
        shapes.append(("out_W", (hidden_size, n_features)))
        shapes.append(("out_b", (n_features,)))
        self.shapes = shapes
        self.size = sum(math.prod(shape) for _, shape in shapes)

    def views(self, flat):
        """Named views into the flat vector ``flat`` (parameters or gradients)."""
        out, start = {}, 0
        for name, shape in self.shapes:
            stop = start + math.prod(shape)
            out[name] = flat[start:stop].reshape(shape)
            start = stop
        return out

    def init(self, rng, dtype):
        """Glorot-style random weights (every pre-activation starts with variance about 1); output layer 0."""
        flat = np.zeros(self.size, dtype=dtype)
        v = self.views(flat)
        for part in ("enc", "dec"):
            fan_in = self.n_features + self.hidden
            v[f"{part}_W"][...] = rng.normal(0.0, 1.0 / math.sqrt(fan_in), v[f"{part}_W"].shape)
            for p in range(self.order):
                core = v[f"{part}_G{p}"]
                if p == self.order - 1:
                    scale = 1.0 / math.sqrt(fan_in * self.ranks[p])
                else:  # inner cores keep the running rank vector near unit size
                    scale = 1.0 / math.sqrt(self.state)
                core[...] = rng.normal(0.0, scale, core.shape)
        # The output layer starts at zero: an untrained forecaster makes its skip forecast exactly
        # (persistence with the residual decoder, the seasonal-naive forecast with seasonal differencing).
        v["out_W"][...] = 0.0
        return flat


def _check_cell_args(cell, hidden_size, n_lags, order, tt_rank):
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
    hidden_size = check_int(hidden_size, "hidden_size")
    if cell == "lstm":
        for name, value in (("n_lags", n_lags), ("order", order), ("tt_rank", tt_rank)):
            if value is not None:
                raise ValueError(
                    f"{name} applies to the tensor-train cells 'trnn' and 'tlstm' only; "
                    f"leave it None for cell='lstm', got {value!r}"
                )
        return hidden_size, 1, 1, ()
    n_lags = check_int(2 if n_lags is None else n_lags, "n_lags")
    order = check_int(2 if order is None else order, "order")
    tt_rank = 4 if tt_rank is None else tt_rank
    if isinstance(tt_rank, numbers.Integral) and not isinstance(tt_rank, bool):
        ranks = (check_int(tt_rank, "tt_rank"),) * (order - 1)
    else:
        try:
            ranks = tuple(tt_rank)
        except TypeError:
            raise TypeError(f"tt_rank must be an integer or a sequence of integers, got {tt_rank!r}") from None
        if len(ranks) != order - 1:
            raise ValueError(
                f"tt_rank must hold order - 1 = {order - 1} inner ranks, got {len(ranks)}: {tt_rank!r}"
            )
        ranks = tuple(check_int(r, "tt_rank") for r in ranks)
    return hidden_size, n_lags, order, ranks


def n_parameters(cell, n_features, hidden_size, n_lags=None, order=None, tt_rank=None, *, dense=False):
    """Number of trainable parameters of a :class:`Forecaster` (encoder, decoder and output layer).

    Each cell has ``W`` (``F x D``), ``b`` (``D``) and its transition; the
    output layer has ``H x F + F``. The transition of ``"lstm"`` is ``H x D``;
    that of ``"trnn"``/``"tlstm"`` is the tensor train
    ``sum_p r(p) * S * r(p+1)`` with ``S = L*H + 1``, or, with
    ``dense=True``, the full transition tensor ``S**P * D`` that the train
    replaces. ``D`` is ``4H`` for the LSTM cells and ``H`` for ``"trnn"``.

    Parameters
    ----------
    cell : {"lstm", "trnn", "tlstm"}
    n_features, hidden_size : int
    n_lags, order, tt_rank : int, optional
        As in :class:`Forecaster` (defaults 2, 2 and 4; must be None for ``"lstm"``).
    dense : bool
        Count a dense transition tensor instead of the tensor train.

    Returns
    -------
    int

    Examples
    --------
    >>> from tensorbook.forecast import n_parameters
    >>> n_parameters("lstm", 1, 8)          # 2 * (1*32 + 32 + 8*32) + 8 + 1
    649
    >>> n_parameters("tlstm", 1, 8, n_lags=2, order=3, tt_rank=4)
    5169
    >>> n_parameters("tlstm", 1, 8, n_lags=2, order=3, tt_rank=4, dense=True)
    314569
    """
    n_features = check_int(n_features, "n_features")
    hidden_size, n_lags, order, ranks = _check_cell_args(cell, hidden_size, n_lags, order, tt_rank)
    spec = _Spec(cell, n_features, hidden_size, n_lags, order, ranks)
    if not dense or cell == "lstm":
        return spec.size
    per_cell_train = sum(spec.ranks[p] * spec.state * spec.ranks[p + 1] for p in range(order))
    return spec.size + 2 * (spec.state**order * spec.width - per_cell_train)


# ---------------------------------------------------------------------------
# The dominant period of a series
# ---------------------------------------------------------------------------

_PERIOD_Z = 4.0  # how many standard errors an autocorrelation peak must clear to count as a season


def _autocorrelation(series, max_lag):
    """Autocorrelation at lags 0..max_lag of each feature, linearly detrended, averaged over the features."""
    n_time = series.shape[0]
    t = np.arange(n_time, dtype=np.float64)
    t -= t.mean()
    centred = series - series.mean(axis=0)
    slope = (t @ centred) / (t @ t)
    resid = centred - t[:, None] * slope
    spectrum = np.fft.rfft(resid, 2 * n_time, axis=0)
    cov = np.fft.irfft(spectrum * np.conj(spectrum), 2 * n_time, axis=0)[: max_lag + 1]
    var = cov[0]
    keep = var > 1e-12 * np.maximum(1.0, np.abs(series).max(axis=0)) ** 2
    if not keep.any():
        return np.zeros(max_lag + 1)
    return (cov[:, keep] / var[keep]).mean(axis=1)


def dominant_period(series, max_lag=None):
    """The dominant seasonal period of a series, from its autocorrelation, or None if it has none.

    The rule, on the series as given (the training data):

    1. Remove each feature's mean and linear trend, and compute its sample
       autocorrelation ``r(k)`` at lags ``k = 1, ..., max_lag``; average
       over the features.
    2. Score each candidate period ``k`` (``2 <= k <= max_lag // 2``) by
       ``(r(k) + r(2k)) / 2``: a true season repeats, so the series is
       correlated with itself one *and* two periods back, while a chance
       bump of the autocorrelation (or a quasi-period that fades) rarely is.
    3. The dominant period is the candidate whose score is the highest
       local maximum.
    4. It counts only if ``r(k)`` is significant: at least 4 standard errors,
       with Bartlett's standard error ``sqrt((1 + 2 r(1)**2 + ... + 2 r(m)**2) / n)``
       (``n`` time steps), the sum running over the short-memory lags ``1, ..., m``,
       those before ``r`` first turns negative (``m <= k - 1``). It allows for the
       correlation of nearby steps: a random walk or a slow AR process has a
       large ``r`` over many lags, hence a large error, and no season.
       Otherwise the result is None.

    The level series is used rather than its first differences: differencing
    a noisy series multiplies its noise and leaves little of a smooth cycle in
    the autocorrelation, while the detrending and Bartlett's error keep trends
    and random walks from passing as seasons.

    Parameters
    ----------
    series : array_like, shape (time,) or (time, features)
        Evenly spaced, finite observations.
    max_lag : int, optional
        The largest lag examined; candidate periods go up to ``max_lag // 2``.
        Default ``time // 3``, so that a period is seen at least three times
        (twice at its scoring lag ``2k``, with at least a third of the
        series overlapping). At most ``time - 1``.

    Returns
    -------
    int or None

    Examples
    --------
    >>> import numpy as np
    >>> from tensorbook.forecast import dominant_period
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(30 * 48)                          # 30 days, half-hourly
    >>> daily = np.sin(2 * np.pi * t / 48) + 0.5 * rng.standard_normal(t.size)
    >>> dominant_period(daily)
    48
    >>> print(dominant_period(np.cumsum(rng.standard_normal(1000))))   # a random walk
    None
    """
    arr = as_float_array(series, "series", ndim=(1, 2))
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    check_finite({"series": arr})
    n_time = arr.shape[0]
    if max_lag is None:
        max_lag = n_time // 3
    else:
        max_lag = check_int(max_lag, "max_lag")
        if max_lag >= n_time:
            raise ValueError(f"max_lag must be less than the series length {n_time}, got {max_lag}")
    if max_lag < 6:
        return None
    r = _autocorrelation(arr, max_lag)
    lags = np.arange(2, max_lag // 2 + 1)
    score = (r[lags] + r[2 * lags]) / 2
    inner = np.flatnonzero((score[1:-1] > score[:-2]) & (score[1:-1] >= score[2:])) + 1
    if inner.size == 0:
        return None
    best = int(lags[inner[np.argmax(score[inner])]])
    negative = np.flatnonzero(r[1:best] <= 0.0)
    memory = int(negative[0]) + 1 if negative.size else best  # the lags before r first turns negative
    std_error = math.sqrt((1.0 + 2.0 * float(np.sum(r[1:memory] ** 2))) / n_time)
    return best if r[best] >= _PERIOD_Z * std_error else None


# ---------------------------------------------------------------------------
# Forward pass and backpropagation through time
# ---------------------------------------------------------------------------


def _forward(spec, theta, x, n_out):
    """Run the encoder over ``x[:-1]`` and the decoder for ``n_out`` steps.

    ``x`` is time-major, shape ``(T, B, F)`` (scaled). Returns the predictions
    ``(n_out, B, F)`` and everything the backward pass needs.
    """
    v = spec.views(theta)
    n_in, n_batch, n_feat = x.shape
    n_enc = n_in - 1
    n_steps = n_enc + n_out
    H, L, D, S = spec.hidden, spec.n_lags, spec.width, spec.state
    dtype = theta.dtype
    hs = np.zeros((L + n_steps, n_batch, H), dtype)  # hs[L + t] = h(t); the first L are the zero start
    X = np.empty((n_steps, n_batch, n_feat), dtype)  # the input of every step
    X[: n_enc + 1] = x
    Y = np.empty((n_out, n_batch, n_feat), dtype)
    if spec.const:
        states = np.empty((n_steps, n_batch, S), dtype)
        states[:, :, 0] = 1.0
    else:  # the LSTM's state is h(t-1) itself
        states = hs[L - 1 : L - 1 + n_steps]
    runs = [np.empty((n_steps, n_batch, spec.ranks[p]), dtype) for p in range(1, spec.order)]
    z = [np.empty((n_batch, spec.ranks[p] * S), dtype) for p in range(1, spec.order)]
    x_part = np.empty((n_batch, D), dtype)
    if spec.lstm:
        cs = np.zeros((n_steps + 1, n_batch, H), dtype)
        acts = np.empty((n_steps, n_batch, D), dtype)
        tanh_c = np.empty((n_steps, n_batch, H), dtype)
    pre_enc = (X[:n_enc].reshape(-1, n_feat) @ v["enc_W"] + v["enc_b"]).reshape(n_enc, n_batch, D)
    cores = _core_matrices(spec, v)
    for t in range(n_steps):
        part = "enc" if t < n_enc else "dec"
        s = states[t]
        if spec.const:  # s(t) = [1; h(t-1); ...; h(t-L)], zeros before the start
            for lag in range(1, L + 1):
                block = s[:, 1 + (lag - 1) * H : 1 + lag * H]
                if t - lag >= 0:
                    block[...] = hs[L + t - lag]
                else:
                    block[...] = 0.0
        a = s @ cores[part][0]
        for p in range(1, spec.order):
            runs[p - 1][t] = a
            _kernels.row_kron(a, s, z[p - 1])
            a = z[p - 1] @ cores[part][p]
        if t < n_enc:
            xp = pre_enc[t]
        else:
            np.matmul(X[t], v["dec_W"], out=x_part)
            x_part += v["dec_b"]
            xp = x_part
        if spec.lstm:
            _kernels.lstm_gates_prepare(a, xp, acts[t])
            np.tanh(acts[t], out=acts[t])
            _kernels.lstm_cell_update(acts[t], cs[t], cs[t + 1])
            np.tanh(cs[t + 1], out=tanh_c[t])
            np.multiply(tanh_c[t], acts[t][:, 3 * H :], out=hs[L + t])
        else:
            np.add(a, xp, out=hs[L + t])
            np.tanh(hs[L + t], out=hs[L + t])
        if t >= n_enc:
            k = t - n_enc
            np.matmul(hs[L + t], v["out_W"], out=Y[k])
            Y[k] += v["out_b"]
            if spec.residual:  # predict the change from the step's input
                Y[k] += X[t]
            if t + 1 < n_steps:
                X[t + 1] = Y[k]
    cache = {"hs": hs, "X": X, "states": states, "runs": runs, "n_enc": n_enc}
    if spec.lstm:
        cache.update(cs=cs, acts=acts, tanh_c=tanh_c)
    return Y, cache


def _core_matrices(spec, v):
    """Each core ``G_p`` as the matrix ``(r(p) * S) x r(p+1)`` that one contraction step multiplies by."""
    return {
        part: [v[f"{part}_G{p}"].reshape(spec.ranks[p] * spec.state, -1) for p in range(spec.order)]
        for part in ("enc", "dec")
    }


def _backward(spec, theta, cache, dY):
    """Gradient of the loss with respect to ``theta``, given dLoss/dY.

    The sequential part (through time) runs step by step; the weight
    gradients are then summed over all steps at once, one GEMM per matrix.
    """
    v = spec.views(theta)
    grad = np.zeros_like(theta)
    g = spec.views(grad)
    hs, X, n_enc, states, runs = cache["hs"], cache["X"], cache["n_enc"], cache["states"], cache["runs"]
    n_steps, n_batch, n_feat = X.shape
    n_out = n_steps - n_enc
    H, L, D, S = spec.hidden, spec.n_lags, spec.width, spec.state
    dtype = theta.dtype
    dhs = np.zeros_like(hs)
    dc = np.zeros((n_batch, H), dtype)
    dpre = np.empty((n_steps, n_batch, D), dtype)  # dLoss/d(pre-activation), every step
    dys = np.empty((n_out, n_batch, n_feat), dtype)  # dLoss/dy, the fed-back path included
    druns = [np.empty_like(r) for r in runs]  # dLoss/d(running rank vector), every step
    ds = np.empty((n_batch, S), dtype)
    cores = _core_matrices(spec, v)
    for t in range(n_steps - 1, -1, -1):
        part = "enc" if t < n_enc else "dec"
        if t >= n_enc:
            k = t - n_enc
            dy = dys[k]
            np.copyto(dy, dY[k])
            if t + 1 < n_steps:  # y(k) was the input of step t + 1
                dy += dpre[t + 1] @ v["dec_W"].T
                if spec.residual:  # ... and, through the residual connection, part of y(k + 1)
                    dy += dys[k + 1]
            dhs[L + t] += dy @ v["out_W"].T
        if spec.lstm:
            _kernels.lstm_gates_backward(
                cache["acts"][t], cache["cs"][t], cache["tanh_c"][t], dhs[L + t], dc, dpre[t]
            )
        else:
            h = hs[L + t]
            np.multiply(dhs[L + t], 1.0 - h * h, out=dpre[t])
        s = states[t]
        da = dpre[t]
        ds[...] = 0.0
        for p in range(spec.order - 1, 0, -1):
            dz = da @ cores[part][p].T
            _kernels.row_kron_backward(dz, runs[p - 1][t], s, druns[p - 1][t], ds)
            da = druns[p - 1][t]
        if t == 0:
            continue  # h(-1), ..., h(-L) are the fixed zero start: nothing flows further back
        ds += da @ cores[part][0].T
        off = spec.const
        for lag in range(1, min(L, t) + 1):
            dhs[L + t - lag] += ds[:, off + (lag - 1) * H : off + lag * H]
    # Weight gradients: one GEMM per matrix over all steps of the encoder, then of the decoder.
    for part, rows in (("enc", slice(0, n_enc)), ("dec", slice(n_enc, n_steps))):
        n_rows = (rows.stop - rows.start) * n_batch
        if n_rows == 0:
            continue
        dp = dpre[rows].reshape(n_rows, D)
        g[f"{part}_W"] += X[rows].reshape(n_rows, n_feat).T @ dp
        g[f"{part}_b"] += dp.sum(axis=0)
        st = states[rows].reshape(n_rows, S)
        for p in range(spec.order):
            d_out = dp if p == spec.order - 1 else druns[p][rows].reshape(n_rows, -1)
            if p == 0:
                z = st
            else:
                z = np.empty((n_rows, spec.ranks[p] * S), dtype)
                _kernels.row_kron(runs[p - 1][rows].reshape(n_rows, -1), st, z)
            g[f"{part}_G{p}"] += (z.T @ d_out).reshape(spec.ranks[p], S, -1)
    g["out_W"] += hs[L + n_enc :].reshape(-1, H).T @ dys.reshape(-1, n_feat)
    g["out_b"] += dys.reshape(-1, n_feat).sum(axis=0)
    return grad


def _loss_and_grad(spec, theta, x, target):
    """Mean squared error over the horizon and its gradient; ``x`` (T, B, F), ``target`` (n_out, B, F)."""
    Y, cache = _forward(spec, theta, x, target.shape[0])
    diff = Y - target
    loss = float(np.mean(diff * diff))
    dY = diff * (2.0 / diff.size)
    return loss, _backward(spec, theta, cache, dY)


# ---------------------------------------------------------------------------
# The estimator
# ---------------------------------------------------------------------------


class Forecaster(BaseEstimator):
    """A sequence-to-sequence recurrent forecaster: LSTM, tensor-train RNN or tensor-train LSTM.

    Parameters
    ----------
    cell : {"lstm", "trnn", "tlstm"}
        The recurrent cell (see the module docstring). ``"tlstm"`` with
        ``order=1`` is the matrix LSTM: lags, no tensor train.
    hidden_size : int
        ``H``, the size of the hidden state.
    n_lags, order, tt_rank : int, optional
        For ``"trnn"``/``"tlstm"`` only: the number ``L`` of lagged hidden
        states in ``s(t)``, the polynomial order ``P``, and the inner ranks of
        the tensor train (one int for all, or ``order - 1`` ints). Defaults
        2, 2 and 4. Must be None for ``"lstm"``.
    input_steps : int
        Length of the history the encoder reads (at least 1; the last value
        of the history is the decoder's first input).
    residual : bool or "auto"
        True: the decoder predicts the change from its input,
        ``y = x + W_y h + b_y``. False: ``y = W_y h + b_y``. The output layer
        starts at zero, so an untrained forecaster makes the forecast of its
        *skip*: with ``residual=True`` the last value repeated (persistence),
        with ``residual=False`` and a season the seasonal-naive forecast
        (plus the training part's mean seasonal change). "auto" (default):
        False when the forecaster differences by a season, True otherwise,
        so the network only learns a correction to the better of the two
        naive forecasts. (A residual decoder on seasonal changes would start
        from "the last seasonal change persists", which on a noisy series is
        worse than seasonal naive a day ahead.)
    season : int, "auto" or None
        Seasonal differencing: with a period ``s``, the networks model the
        change ``y(t) - y(t - s)`` (what :func:`seasonal_naive` gets wrong)
        and the forecast adds back the value one season earlier. The history
        given to :meth:`predict` must then hold ``input_steps + s`` steps.
        "auto" (default): ``s`` is :func:`dominant_period` of the series
        given to :meth:`fit` (the highest significant peak of its
        autocorrelation; None when there is none); ``season_`` holds what it
        found. None: no differencing, the networks model ``y`` itself.
    output_steps : int or "auto"
        Horizon trained on: the loss is the mean squared error of the decoder's
        ``output_steps`` predictions, each fed back as the next input.
        :meth:`predict` can run the decoder for any horizon, but beyond
        ``output_steps`` it runs on states it was never trained on, and its
        errors grow fast: train on the horizon you forecast. "auto"
        (default): a full season, ``season_`` steps, when there is one (a day
        ahead for a daily cycle), else 12; ``output_steps_`` holds it.
    batch_size, learning_rate, clip_norm : int, float, float or None
        Adam's mini-batch size and step size; gradients whose norm exceeds
        ``clip_norm`` are scaled down to it (None: no clipping).
    max_epochs, patience : int
        Training stops after ``max_epochs`` passes over the training windows,
        or earlier when the validation loss has not improved for ``patience``
        epochs; the parameters of the best epoch are kept.
    validation_fraction : float
        The last fraction of the series (in time) used for validation only,
        in ``(0, 0.5]``.
    dtype : {"float32", "float64"}
        Floating-point type of the parameters and the computation (float32
        is about 1.7 times faster; the gradient checks use float64).
    verbose : bool, default False
        Show a progress bar over the epochs (tqdm), with the training and validation losses.
    random_state : None, int or numpy.random.Generator
        Seeds the initial weights and the order of the mini-batches.

    Attributes
    ----------
    season_ : int or None
        The seasonal period used: ``season``, or what "auto" found.
    residual_ : bool
        Whether the decoder is residual: ``residual``, or what "auto" chose.
    output_steps_ : int
        The horizon trained on: ``output_steps``, or what "auto" chose.
    n_features_in_ : int
    n_params_ : int
        Trainable parameters (:func:`n_parameters`).
    params_ : dict of numpy.ndarray
        The trained weights by name (encoder ``enc_*``, decoder ``dec_*``,
        output layer ``out_*``); ``*_G0``, ``*_G1``, ... are the tensor-train cores (numbered from 0, as on the notation page).
    mean_, scale_ : numpy.ndarray
        Per-feature mean and standard deviation of the training part; the
        networks see ``(series - mean_) / scale_`` and predictions are mapped back.
    history_ : dict
        ``train_loss`` and ``val_loss`` per epoch (mean squared error in scaled
        units), and ``initial_val_loss``, the validation loss of the untrained
        start.
    best_epoch_, n_epochs_ : int
        The epoch whose weights are kept (the lowest validation loss), and
        the number of epochs run. ``best_epoch_`` is -1 when no epoch improved
        on the untrained start, whose output layer is zero: the forecaster
        then makes its skip forecast (see ``residual``), so training never
        leaves it worse, on the validation windows, than that naive forecast.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorbook.forecast import Forecaster
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(600)
    >>> series = (np.sin(2 * np.pi * t / 24) + 0.2 * rng.standard_normal(600))[:, None]   # (time, features)
    >>> model = Forecaster("tlstm", hidden_size=8, input_steps=12, output_steps=6,
    ...                    max_epochs=5, random_state=0).fit(series)
    >>> model.season_, model.residual_          # the daily cycle, found in the data
    (24, False)
    >>> model.predict(series[:100], horizon=6).shape   # needs input_steps + season_ = 36 steps or more
    (6, 1)
    >>> model.n_params_
    4625
    """

    def __init__(
        self,
        cell="tlstm",
        hidden_size=16,
        n_lags=None,
        order=None,
        tt_rank=None,
        input_steps=12,
        output_steps="auto",
        residual="auto",
        season="auto",
        batch_size=64,
        learning_rate=3e-3,
        clip_norm=1.0,
        max_epochs=50,
        patience=5,
        validation_fraction=0.2,
        dtype="float32",
        verbose=False,
        random_state=None,
    ):
        self.cell = cell
        self.hidden_size = hidden_size
        self.n_lags = n_lags
        self.order = order
        self.tt_rank = tt_rank
        self.input_steps = input_steps
        self.output_steps = output_steps
        self.residual = residual
        self.season = season
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.clip_norm = clip_norm
        self.max_epochs = max_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.dtype = dtype
        self.verbose = verbose
        self.random_state = random_state

    # -- checks ------------------------------------------------------------

    def _validated(self):
        hidden, n_lags, order, ranks = _check_cell_args(
            self.cell, self.hidden_size, self.n_lags, self.order, self.tt_rank
        )
        check_int(self.input_steps, "input_steps")
        if not (isinstance(self.output_steps, str) and self.output_steps == "auto"):
            ok = isinstance(self.output_steps, numbers.Integral) and not isinstance(self.output_steps, bool)
            if not ok or self.output_steps < 1:
                raise ValueError(f"output_steps must be 'auto' or an integer >= 1, got {self.output_steps!r}")
        _check_season(self.season)
        if not (isinstance(self.residual, (bool, np.bool_)) or (isinstance(self.residual, str) and self.residual == "auto")):
            raise ValueError(f"residual must be True, False or 'auto', got {self.residual!r}")
        check_int(self.batch_size, "batch_size")
        check_int(self.max_epochs, "max_epochs")
        check_int(self.patience, "patience")
        check_real(self.learning_rate, "learning_rate", low=0, low_open=True)
        if self.clip_norm is not None:
            check_real(self.clip_norm, "clip_norm", low=0, low_open=True)
        check_real(self.validation_fraction, "validation_fraction", low=0, high=0.5, low_open=True)
        try:
            dtype = np.dtype(self.dtype).name
        except TypeError:
            dtype = None
        if dtype not in ("float64", "float32"):
            raise ValueError(f"dtype must be 'float64' or 'float32', got {self.dtype!r}")
        return hidden, n_lags, order, ranks

    def _check_fitted(self):
        check_is_fitted(self, "theta_")

    # -- training ----------------------------------------------------------

    def fit(self, series):
        """Train on one multivariate series.

        Parameters
        ----------
        series : array_like, shape (time, features)
            Evenly spaced observations, finite. The first
            ``1 - validation_fraction`` of the time steps train the networks;
            the windows whose targets lie in the rest measure the validation
            loss for early stopping.

        Returns
        -------
        self

        Notes
        -----
        BLAS runs on one thread while the networks train or predict: their
        matrix products are small (batch x hidden), a second thread gains
        little on an idle machine and costs several times over on a busy one,
        and one thread makes the results the same whatever the machine's
        thread count.
        """
        with single_threaded_blas():
            return self._fit(series)

    def _fit(self, series):
        hidden, n_lags, order, ranks = self._validated()
        series = _check_series(series, "series")
        season = dominant_period(series) if self.season == "auto" else self.season
        level_scale = None
        if season is not None:
            if series.shape[0] <= season:
                raise ValueError(
                    f"series must be longer than season = {season} steps, got {series.shape[0]}"
                )
            level_scale = series.std(axis=0)
            series = series[season:] - series[:-season]
        n_time, n_feat = series.shape
        if self.output_steps == "auto":
            output_steps = season if season is not None else 12
        else:
            output_steps = self.output_steps
        window = self.input_steps + output_steps
        n_train = int(round(n_time * (1.0 - self.validation_fraction)))
        n_val_windows = n_time - n_train - output_steps + 1
        if n_train - window + 1 < 1 or n_val_windows < 1:
            raise ValueError(
                f"series is too short: {n_time} time steps leave {max(n_train - window + 1, 0)} training "
                f"and {max(n_val_windows, 0)} validation windows of input_steps + output_steps = {window} "
                f"steps with validation_fraction={self.validation_fraction}; both must be >= 1"
            )
        dtype = np.dtype(self.dtype)
        mean = series[:n_train].mean(axis=0)
        scale = series[:n_train].std(axis=0)
        flat = np.flatnonzero(scale <= 1e-12 * np.maximum(1.0, np.abs(mean)))
        if flat.size and level_scale is not None:  # an exactly periodic feature: scale its changes as its values
            scale[flat] = level_scale[flat]
            flat = np.flatnonzero(scale <= 1e-12 * np.maximum(1.0, np.abs(mean)))
        if flat.size:
            raise ValueError(
                f"series feature {int(flat[0])} is constant over the training part; "
                "it cannot be scaled (drop it, or forecast it as a constant)"
            )
        scaled = ((series - mean) / scale).astype(dtype)
        train = sliding_windows(scaled[:n_train], window)
        val = sliding_windows(scaled[n_train - self.input_steps :], window)

        rng = check_random_state(self.random_state)
        residual = season is None if self.residual == "auto" else bool(self.residual)
        spec = _Spec(self.cell, n_feat, hidden, n_lags, order, ranks, residual=residual)
        theta = spec.init(rng, dtype)
        adam = _Adam(spec.size, dtype, float(self.learning_rate), self.clip_norm)
        history = {"train_loss": [], "val_loss": []}
        # The untrained start (the skip forecast: persistence or seasonal naive) is the first candidate:
        # training is kept only where it improves on it on the validation windows.
        initial = _mse(spec, theta, val, self.input_steps)
        history["initial_val_loss"] = initial
        best = (initial, -1, theta.copy())
        with progress_bar(self.max_epochs, f"{self.cell} H={hidden}", "epoch", self.verbose) as bar:
            for epoch in range(self.max_epochs):
                order_ = rng.permutation(train.shape[0])
                total = 0.0
                for start in range(0, order_.size, self.batch_size):
                    batch = train[np.sort(order_[start : start + self.batch_size])]
                    x = batch[:, : self.input_steps].transpose(1, 0, 2)
                    target = batch[:, self.input_steps :].transpose(1, 0, 2)
                    loss, grad = _loss_and_grad(spec, theta, x, target)
                    adam.step(theta, grad)
                    total += loss * batch.shape[0]
                history["train_loss"].append(total / train.shape[0])
                val_loss = _mse(spec, theta, val, self.input_steps)
                history["val_loss"].append(val_loss)
                if val_loss < best[0]:
                    best = (val_loss, epoch, theta.copy())
                bar.set_postfix(train=f"{history['train_loss'][-1]:.4f}", val=f"{val_loss:.4f}")
                bar.update()
                if epoch - best[1] >= self.patience:
                    break
        self.season_ = season
        self.residual_ = residual
        self.output_steps_ = output_steps
        self.spec_ = spec
        self.theta_ = best[2]
        self.params_ = spec.views(self.theta_)
        self.n_features_in_ = n_feat
        self.n_params_ = spec.size
        self.mean_, self.scale_ = mean, scale
        self.history_ = history
        self.best_epoch_ = best[1]
        self.n_epochs_ = len(history["val_loss"])
        return self

    # -- prediction --------------------------------------------------------

    def predict(self, history, horizon):
        """Forecast ``horizon`` steps after the end of ``history``.

        Parameters
        ----------
        history : array_like, shape (time, features) or (batch, time, features)
            Recent observations; the last ``input_steps`` (plus ``season_``)
            of them are used.
        horizon : int
            Number of steps to forecast, >= 1 (any length: the decoder keeps
            feeding back its own predictions).

        Returns
        -------
        numpy.ndarray
            Shape ``(horizon, features)``, or ``(batch, horizon, features)``
            for a batch of histories, in the units of the training series.
        """
        with single_threaded_blas():
            return self._predict(history, horizon)

    def _predict(self, history, horizon):
        self._check_fitted()
        horizon = check_int(horizon, "horizon")
        history = as_float_array(history, "history", ndim=(2, 3))
        single = history.ndim == 2
        batch = history[None] if single else history
        if batch.shape[-1] != self.n_features_in_:
            raise ValueError(
                f"history must have {self.n_features_in_} features (the last axis), as in fit; "
                f"got shape {history.shape}"
            )
        season = self.season_ or 0
        need = self.input_steps + season
        if batch.shape[1] < need:
            what = f"input_steps + season = {self.input_steps} + {season}" if season else f"input_steps = {need}"
            raise ValueError(
                f"history must hold at least {what} time steps, got {batch.shape[1]} (shape {history.shape})"
            )
        batch = np.asarray(batch[:, -need:], dtype=np.float64)
        check_finite({"history": batch})
        recent = batch[:, season:] - batch[:, :-season] if season else batch
        x = ((recent - self.mean_) / self.scale_).astype(self.theta_.dtype)
        out = np.empty((batch.shape[0], horizon, self.n_features_in_))
        for start in range(0, batch.shape[0], 1024):
            Y, _ = _forward(self.spec_, self.theta_, x[start : start + 1024].transpose(1, 0, 2), horizon)
            out[start : start + 1024] = Y.transpose(1, 0, 2)
        out = out * self.scale_ + self.mean_
        for k in range(horizon if season else 0):  # undo the differencing, step by step
            out[:, k] += batch[:, need - season + k] if k < season else out[:, k - season]
        return out[0] if single else out


def _check_season(season):
    """``season`` as None, "auto" or an int >= 1, or a ValueError naming it."""
    if season is None or (isinstance(season, str) and season == "auto"):
        return season
    if isinstance(season, numbers.Integral) and not isinstance(season, bool) and season >= 1:
        return int(season)
    raise ValueError(f"season must be None, 'auto' or an integer >= 1 (a number of time steps), got {season!r}")


def _mse(spec, theta, windows, input_steps):
    """Mean squared error (scaled units) of the model on ``windows`` (n, T, F)."""
    total = 0.0
    for start in range(0, windows.shape[0], 1024):
        batch = windows[start : start + 1024]
        x = batch[:, :input_steps].transpose(1, 0, 2)
        target = batch[:, input_steps:].transpose(1, 0, 2)
        Y, _ = _forward(spec, theta, x, target.shape[0])
        total += float(np.sum((Y - target) ** 2))
    return total / windows[:, input_steps:].size


def _check_series(series, name):
    arr = as_float_array(series, name)
    if arr.ndim != 2:
        hint = " (for one feature, use series.reshape(-1, 1))" if arr.ndim == 1 else ""
        raise ValueError(f"{name} must be 2-D, (time, features); got shape {arr.shape}{hint}")
    if arr.shape[0] < 2 or arr.shape[1] < 1:
        raise ValueError(f"{name} must have at least 2 time steps and 1 feature, got shape {arr.shape}")
    check_finite({name: arr})
    return np.asarray(arr, dtype=np.float64)


# ---------------------------------------------------------------------------
# Baselines and evaluation
# ---------------------------------------------------------------------------


def sliding_windows(series, length, stride=1):
    """All windows of ``length`` consecutive steps of ``series``: a read-only view.

    Parameters
    ----------
    series : numpy.ndarray, shape (time, features)
    length, stride : int

    Returns
    -------
    numpy.ndarray
        Shape ``(n_windows, length, features)`` with
        ``n_windows = (time - length) // stride + 1``.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorbook.forecast import sliding_windows
    >>> sliding_windows(np.arange(6.0)[:, None], 4, stride=2)[:, :, 0]
    array([[0., 1., 2., 3.],
           [2., 3., 4., 5.]])
    """
    series = np.asarray(series)
    if series.ndim != 2:
        raise ValueError(f"series must be 2-D, (time, features); got shape {series.shape}")
    length = check_int(length, "length")
    stride = check_int(stride, "stride")
    if length > series.shape[0]:
        raise ValueError(f"length must be at most the series length {series.shape[0]}, got {length}")
    view = np.lib.stride_tricks.sliding_window_view(series, length, axis=0)  # (n, F, length)
    return view[::stride].transpose(0, 2, 1)


def _as_histories(history):
    history = as_float_array(history, "history", ndim=(2, 3))
    return history, history.ndim == 2


def persistence(history, horizon):
    """The naive forecast: repeat the last observation ``horizon`` times.

    ``history`` is (time, features) or (batch, time, features); the result
    has ``horizon`` in place of ``time``.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorbook.forecast import persistence
    >>> persistence(np.array([[1.0], [2.0], [3.0]]), 2)
    array([[3.],
           [3.]])
    """
    horizon = check_int(horizon, "horizon")
    history, _ = _as_histories(history)
    last = history[..., -1:, :]
    return np.repeat(last, horizon, axis=-2)


def seasonal_naive(history, horizon, season):
    """Repeat the last full season: the forecast for ``t + k`` is the value one (or more) seasons earlier.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorbook.forecast import seasonal_naive
    >>> seasonal_naive(np.arange(6.0)[:, None], 5, season=3)[:, 0]
    array([3., 4., 5., 3., 4.])
    """
    horizon = check_int(horizon, "horizon")
    season = check_int(season, "season")
    history, _ = _as_histories(history)
    if history.shape[-2] < season:
        raise ValueError(
            f"history must hold at least one season ({season} steps), got {history.shape[-2]}"
        )
    last = history[..., history.shape[-2] - season :, :]
    idx = np.arange(horizon) % season
    return last[..., idx, :]


def exponential_smoothing(series, horizon, *, n_fit, season="auto"):
    """Holt-Winters forecasts (additive seasonality, no trend) from every time step after a fitting part.

    The baseline a forecaster's user tries after seasonal naive. Its
    parameters are fitted once, by statsmodels' ``ExponentialSmoothing(...,
    trend=None, seasonal="add", seasonal_periods=season,
    initialization_method="estimated")`` on ``series[:n_fit]``, one feature
    at a time; then, with those parameters fixed, the level ``l`` and the
    seasonal terms ``s`` are updated by every new observation ``y(t)``::

        l(t) = alpha * (y(t) - s(t - m)) + (1 - alpha) * l(t - 1)
        s(t) = gamma * (y(t) - l(t - 1)) + (1 - gamma) * s(t - m)

    (``m = season``) and each forecast is ``l(t) + s(t + k - m)``, the
    seasonal term of the same phase, for ``k = 1, ..., horizon`` (``k <= m``;
    beyond, the last season repeats). Without a season it is simple
    exponential smoothing, ``l(t)`` repeated. Refitting at every forecast
    origin would cost a fit per window; updating the fitted model's states
    is what a user does with a model fitted once.

    Parameters
    ----------
    series : array_like, shape (time, features)
    horizon : int
    n_fit : int
        Length of the fitting part; at least two seasons (``2 * season``
        steps) and at most ``time``.
    season : int, "auto" or None
        The seasonal period; "auto" (default) is
        :func:`dominant_period` of ``series[:n_fit]``.

    Returns
    -------
    numpy.ndarray, shape (time - n_fit + 1, horizon, features)
        Row ``i`` is the forecast of the ``horizon`` steps after
        ``series[:n_fit + i]``, made from that history alone.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorbook.forecast import exponential_smoothing
    >>> t = np.arange(24 * 20)
    >>> series = (10 + np.sin(2 * np.pi * t / 24))[:, None]
    >>> forecasts = exponential_smoothing(series, 6, n_fit=24 * 15, season=24)
    >>> forecasts.shape, bool(np.allclose(forecasts[0], series[24 * 15:24 * 15 + 6], atol=1e-3))
    ((121, 6, 1), True)
    """
    series = _check_series(series, "series")
    horizon = check_int(horizon, "horizon")
    n_time = series.shape[0]
    n_fit = check_int(n_fit, "n_fit", minimum=2)
    if n_fit > n_time:
        raise ValueError(f"n_fit must be at most the series length {n_time}, got {n_fit}")
    season = _check_season(season)
    if season == "auto":
        season = dominant_period(series[:n_fit])
    if season is not None and n_fit < 2 * season:
        raise ValueError(
            f"n_fit must hold at least two seasons (2 * {season} steps) to fit the seasonal terms, got {n_fit}"
        )
    alpha, gamma, level, seasonal = _fit_exponential_smoothing(series[:n_fit], season)
    m = season or 1
    n_out = n_time - n_fit + 1
    out = np.empty((n_out, horizon, series.shape[1]))
    buffer = np.empty((n_time + m, series.shape[1]))  # buffer[m + t] = s(t); the first m are the initial terms
    buffer[:m] = seasonal
    steps = np.arange(horizon)
    for t in range(n_time):
        y = series[t]
        previous = level
        level = alpha * (y - buffer[t]) + (1 - alpha) * previous
        buffer[m + t] = gamma * (y - previous) + (1 - gamma) * buffer[t]
        if t >= n_fit - 1:  # forecast from the history series[:t + 1]
            phase = t + 1 + steps % m  # s(t + 1 + k - m) sits at buffer[t + 1 + k]
            out[t - n_fit + 1] = level + (buffer[phase] if season else 0.0)
    return out


_holt_winters = exponential_smoothing  # for compare_forecasters, whose flag has the same name


def _fit_exponential_smoothing(part, season):
    """statsmodels' fit, one feature at a time: smoothing weights and initial states, as arrays over features."""
    import warnings

    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    n_feat = part.shape[1]
    alpha, gamma, level = np.empty(n_feat), np.zeros(n_feat), np.empty(n_feat)
    seasonal = np.zeros((season or 1, n_feat))
    for j in range(n_feat):
        model = ExponentialSmoothing(part[:, j], trend=None, seasonal=None if season is None else "add",
                                     seasonal_periods=season, initialization_method="estimated")
        with warnings.catch_warnings():  # convergence chatter of the optimiser
            warnings.simplefilter("ignore")
            params = model.fit().params
        alpha[j], level[j] = params["smoothing_level"], params["initial_level"]
        if season is not None:
            gamma[j] = params["smoothing_seasonal"]
            seasonal[:, j] = params["initial_seasons"]
    return alpha, gamma, level, seasonal


def rmse_by_horizon(predictions, truth):
    """Root-mean-squared error at each forecast step, pooled over windows and features.

    Parameters
    ----------
    predictions, truth : array_like, shape (windows, horizon, features)

    Returns
    -------
    numpy.ndarray, shape (horizon,)

    Examples
    --------
    >>> import numpy as np
    >>> from tensorbook.forecast import rmse_by_horizon
    >>> truth = np.zeros((2, 3, 1))
    >>> rmse_by_horizon(truth + [[[1.0], [2.0], [3.0]]], truth)
    array([1., 2., 3.])
    """
    predictions = as_float_array(predictions, "predictions", ndim=3)
    truth = as_float_array(truth, "truth", ndim=3)
    if predictions.shape != truth.shape:
        raise ValueError(
            f"predictions and truth must have the same shape (windows, horizon, features), "
            f"got {predictions.shape} and {truth.shape}"
        )
    return np.sqrt(np.mean((predictions - truth) ** 2, axis=(0, 2)))


def compare_forecasters(series, models, *, input_steps, horizon, seasons=("auto",), exponential_smoothing=True,
                        test_fraction=0.2, seeds=(0,), test_stride=1, verbose=False):
    """RMSE by horizon of baselines and trained forecasters on the last part of one series.

    The first ``1 - test_fraction`` of ``series`` (the *fitting part*) is
    given to each model's :meth:`Forecaster.fit` (which keeps its own last
    ``validation_fraction`` for early stopping) and to the exponential
    smoothing's fit; every window of ``horizon`` steps in the rest (every
    ``test_stride``-th) is forecast from the history before it, and the errors
    are pooled over windows and features at each step ahead.

    The baselines: persistence, seasonal naive for each period of
    ``seasons``, and Holt-Winters exponential smoothing
    (:func:`exponential_smoothing`, additive seasonality with the dominant
    period of the fitting part, parameters fitted once on it, states updated
    by the test observations).

    Parameters
    ----------
    series : array_like, shape (time, features)
    models : dict
        Name -> keyword arguments of :class:`Forecaster` (``input_steps``,
        ``output_steps`` and ``random_state`` are set here: ``output_steps``
        is ``horizon``).
    input_steps, horizon : int
    seasons : sequence of int or "auto"
        Periods for :func:`seasonal_naive` baselines; "auto" is
        :func:`dominant_period` of the fitting part (no baseline if it finds
        none). A baseline sees ``season`` steps of history, which may be
        more than the models' ``input_steps``.
    exponential_smoothing : bool
        Include the exponential-smoothing baseline (needs statsmodels).
    test_fraction : float
        In ``(0, 0.5]``.
    seeds : sequence of int
        Each model is trained once per seed.
    test_stride : int
    verbose : bool
        Progress bars while training.

    Returns
    -------
    dict
        ``rmse``: name -> array (n_seeds, horizon) (one row for the
        baselines); ``n_params``: name -> int (0 for the baselines);
        ``season``: name -> the model's ``season_`` (None without one);
        ``epochs`` and ``seconds``: name -> list per seed; ``period``: what
        :func:`dominant_period` finds in the fitting part; ``n_windows``;
        ``horizon``; ``input_steps``.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorbook.forecast import compare_forecasters
    >>> t = np.arange(800)
    >>> series = (np.sin(2 * np.pi * t / 24) + 0.1 * np.random.default_rng(0).normal(size=800))[:, None]
    >>> result = compare_forecasters(series, {"lstm": dict(cell="lstm", hidden_size=8, max_epochs=3)},
    ...                              input_steps=24, horizon=6)
    >>> result["period"], result["season"]["lstm"], result["rmse"]["lstm"].shape
    (24, 24, (1, 6))
    >>> sorted(result["rmse"])
    ['exponential smoothing (24)', 'lstm', 'persistence', 'seasonal naive (24)']
    """
    import time

    series = _check_series(series, "series")
    input_steps = check_int(input_steps, "input_steps")
    horizon = check_int(horizon, "horizon")
    test_stride = check_int(test_stride, "test_stride")
    check_real(test_fraction, "test_fraction", low=0, high=0.5, low_open=True)
    n_fit = int(round(series.shape[0] * (1.0 - test_fraction)))
    period = dominant_period(series[:n_fit])
    resolved = []
    for p in seasons:
        if isinstance(p, str) and p == "auto":
            if period is not None:
                resolved.append(period)
        else:
            resolved.append(check_int(p, "seasons"))
    seasons = tuple(dict.fromkeys(resolved))
    if series.shape[0] - n_fit < horizon:
        raise ValueError(
            f"series is too short: the test part (from step {n_fit}) holds {series.shape[0] - n_fit} steps, "
            f"fewer than horizon = {horizon}"
        )
    result = {"rmse": {}, "n_params": {}, "season": {}, "epochs": {}, "seconds": {}, "period": period,
              "horizon": horizon, "input_steps": input_steps}
    trained = {}
    for name, kwargs in models.items():
        fitted, epochs, seconds = [], [], []
        for seed in seeds:
            model = Forecaster(**{**kwargs, "input_steps": input_steps, "output_steps": horizon,
                                  "random_state": seed, "verbose": verbose})
            start = time.perf_counter()
            model.fit(series[:n_fit])
            seconds.append(time.perf_counter() - start)
            epochs.append(model.n_epochs_)
            fitted.append(model)
        trained[name] = fitted
        result["n_params"][name] = model.n_params_
        result["season"][name] = model.season_
        result["epochs"][name] = epochs
        result["seconds"][name] = seconds
    context = max((input_steps + (m[0].season_ or 0) for m in trained.values()), default=input_steps)
    context = max((context, input_steps, *seasons))
    if n_fit < context:
        raise ValueError(
            f"series is too short: a test window needs {context} steps of history before the test part, "
            f"which starts at step {n_fit}"
        )
    windows = sliding_windows(series[n_fit - context :], context + horizon, stride=test_stride)
    histories, truth = windows[:, :context], windows[:, context:]
    result["n_windows"] = windows.shape[0]
    baselines = {"persistence": persistence(histories, horizon)}
    for season in seasons:
        baselines[f"seasonal naive ({season})"] = seasonal_naive(histories, horizon, season)
    if exponential_smoothing:
        name = "exponential smoothing" + (f" ({period})" if period is not None else "")
        # row i forecasts after series[:n_fit + i]; window j's history ends at n_fit + j * test_stride
        every = _holt_winters(series, horizon, n_fit=n_fit, season=period)
        baselines[name] = every[: (windows.shape[0] - 1) * test_stride + 1 : test_stride]
    for name, forecast in baselines.items():
        result["rmse"][name] = rmse_by_horizon(forecast, truth)[None]
        result["n_params"][name] = 0
        result["season"][name] = None
    for name, fitted in trained.items():
        result["rmse"][name] = np.array([rmse_by_horizon(m.predict(histories, horizon), truth) for m in fitted])
    order = [*baselines, *trained]
    for key in ("rmse", "n_params", "season"):
        result[key] = {name: result[key][name] for name in order}
    return result
