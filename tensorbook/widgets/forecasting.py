"""Chapter 7's explorers: the parameters of a tensor-train cell, and multi-step forecasts against the truth."""

import html

import numpy as np

from .._validation import as_array, check_int
from ._frame import Dropdown, Explorer, Slider, live, sparse_grid


def _tt_counts(cell, n_features, hidden_size, n_lags, order, tt_rank):
    """Parameters of a forecaster with a tensor-train transition and with the dense tensor it replaces."""
    from ..forecast import n_parameters

    kwargs = dict(n_lags=n_lags, order=order, tt_rank=tt_rank)
    return {
        "tensor train": n_parameters(cell, n_features, hidden_size, **kwargs),
        "dense": n_parameters(cell, n_features, hidden_size, **kwargs, dense=True),
        "lstm": n_parameters("lstm", n_features, hidden_size),
    }


def tt_parameter_explorer(n_features=1, hidden_size=16, *, cell="tlstm", n_lags=2, order=2, tt_rank=4,
                          max_lags=8, max_order=6, max_rank=16, figsize=(9, 3.6)):
    r"""A widget to count the parameters of a tensor-train RNN against the dense transition it replaces.

    A dropdown picks the cell (``"trnn"`` or ``"tlstm"``) and three sliders
    the number of lags :math:`L`, the order :math:`P` and the tensor-train
    rank :math:`r`. The output draws, with matplotlib and on a log axis, the
    trainable parameters of the whole forecaster (encoder, decoder and output
    layer, :func:`tensorbook.forecast.n_parameters`) with its transition held
    as a tensor train and as the dense tensor of :math:`S^P D` entries
    (:math:`S = LH + 1`), next to a plain LSTM of the same hidden size. A line
    of text above the plot gives the same numbers. The static book offers
    the lags 1, 2, 4, 8, ..., the orders 1, 2, 3 and the ranks 1, 4, 16, ...,
    each up to its slider's largest value, with the largest and the value
    shown first.

    Parameters
    ----------
    n_features, hidden_size : int
        ``F`` and ``H``, fixed for the widget.
    cell : {"trnn", "tlstm"}
        The cell shown first.
    n_lags, order, tt_rank : int
        The values shown first.
    max_lags, max_order, max_rank : int
        The largest values on the sliders.
    figsize : tuple of float

    Returns
    -------
    ExplorerWidget
        ``.children[0]`` the cell dropdown, ``.children[1:4]`` the ``IntSlider``\ s
        for lags, order and rank, ``.children[4]`` the text (an ``HTML`` widget),
        ``.children[5]`` the output.

    Examples
    --------
    >>> from tensorbook.forecast import n_parameters
    >>> from tensorbook.widgets import tt_parameter_explorer
    >>> w = tt_parameter_explorer(n_features=3, hidden_size=8, order=3)
    >>> [c.description for c in w.children[:4]]
    ['cell', 'lags L', 'order P', 'TT rank r']
    >>> f"{n_parameters('tlstm', 3, 8, n_lags=2, order=3, tt_rank=4, dense=True):,}" in w.children[4].value
    True
    >>> w.children[0].value = "trnn"
    >>> f"{n_parameters('trnn', 3, 8, n_lags=2, order=3, tt_rank=4):,}" in w.children[4].value
    True
    """
    n_features = check_int(n_features, "n_features")
    hidden_size = check_int(hidden_size, "hidden_size")
    if cell not in ("trnn", "tlstm"):
        raise ValueError(f"cell must be 'trnn' or 'tlstm' (the tensor-train cells), got {cell!r}")
    limits = {}
    for name, value, max_name, largest in (("n_lags", n_lags, "max_lags", max_lags),
                                           ("order", order, "max_order", max_order),
                                           ("tt_rank", tt_rank, "max_rank", max_rank)):
        value = check_int(value, name)
        largest = check_int(largest, max_name)
        if value > largest:
            raise ValueError(f"{name} must be at most {largest} (the largest value on its slider), got {value}")
        limits[name] = (value, largest)

    def text(state):
        L, P, r = state["n_lags"], state["order"], state["tt_rank"]
        counts = _tt_counts(state["cell"], n_features, hidden_size, L, P, r)
        S = L * hidden_size + 1
        ratio = counts["dense"] / counts["tensor train"]
        return (
            f"<p>{state['cell']}, F = {n_features}, H = {hidden_size}, L = {L}, P = {P}, r = {r} "
            f"(S = LH + 1 = {S}): <b>{counts['tensor train']:,}</b> parameters with the tensor train, "
            f"<b>{counts['dense']:,}</b> with the dense transition ({ratio:,.3g} times more); "
            f"an LSTM of the same H has {counts['lstm']:,}.</p>"
        )

    def draw(state):
        import matplotlib.pyplot as plt

        L, P, r = state["n_lags"], state["order"], state["tt_rank"]
        counts = _tt_counts(state["cell"], n_features, hidden_size, L, P, r)
        S = L * hidden_size + 1
        fig, ax = plt.subplots(figsize=figsize)
        cell_name = {"trnn": "TT-RNN", "tlstm": "TT-LSTM"}[state["cell"]]
        labels = ["LSTM", f"{cell_name}, tensor train", f"{cell_name}, dense"]
        values = [counts["lstm"], counts["tensor train"], counts["dense"]]
        bars = ax.barh(labels, [float(v) for v in values], color=["tab:gray", "tab:green", "tab:red"])
        ax.set_xscale("log")
        ax.set_xlim(10, float(max(values)) * 300)
        for bar, value in zip(bars, values):
            ax.text(float(value) * 1.3, bar.get_y() + bar.get_height() / 2, f"{value:,}", va="center")
        ax.set_xlabel("trainable parameters (log scale)")
        ax.set_title(f"{cell_name}: L = {L} lags, order P = {P}, rank r = {r}: the dense transition has "
                     f"{S}^{P} x {4 * hidden_size if state['cell'] == 'tlstm' else hidden_size} entries per cell")
        ax.grid(axis="x", alpha=0.3)
        fig.tight_layout()
        return fig

    controls = [Dropdown("cell", "cell", [("TT-RNN (tanh)", "trnn"), ("TT-LSTM (gates)", "tlstm")], cell)]
    # The static book's grids: lags and ranks by powers (2 and 4), every order up to 3 (where the tensor
    # explodes), each with the slider's largest and starting values.
    for name, label, steps in (("n_lags", "lags L", [2**i for i in range(8)]), ("order", "order P", (1, 2, 3)),
                               ("tt_rank", "TT rank r", None)):
        value, largest = limits[name]
        controls.append(Slider(name, label, range(1, largest + 1), value, static=sparse_grid(largest, value, steps)))
    return live(Explorer(controls, draw, text=text,
                         figure_alt="the parameters of the forecaster with a tensor-train and a dense transition"))


def _k_step_ahead(forecast, start, k, lo, hi):
    """Rows ``lo:hi`` (times) of the ``k``-step-ahead forecasts: ``forecast[t - start - k + 1, k - 1]``."""
    return forecast[lo - start - k + 1 : hi - start - k + 1, k - 1]


def forecast_explorer(series, forecasts, *, start, model=None, horizon=1, stretch=None, times=None,
                      feature_names=None, title="", figsize=(9, 6)):
    r"""A widget to compare multi-step forecasts with the truth, one horizon at a time.

    A dropdown picks a model (a key of ``forecasts``) and a slider the
    horizon :math:`k`. The output draws, with matplotlib, the truth and the
    model's :math:`k`-step-ahead forecast of every time step of a stretch of
    the series (one panel per feature), and the root-mean-squared error at
    horizon :math:`k` of every model over that stretch, the chosen one
    highlighted. Moving the slider shows how a forecast degrades as it looks
    further ahead. A line of text above the plot gives the errors. The static
    book offers the horizons 1, 2, 3, 4, 6, 8, 12, 16, 20, 24, ... up to
    ``max_horizon`` (and the one shown first).

    Parameters
    ----------
    series : array_like, shape (time,) or (time, features)
        The observed series (the truth), in the units of the forecasts.
    forecasts : dict
        ``name -> array of shape (n_origins, max_horizon, features)`` (or
        ``(n_origins, max_horizon)`` for one feature), computed beforehand.
        Row ``i`` is the forecast made from the history ``series[:start + i]``:
        ``forecasts[name][i, k - 1]`` forecasts ``series[start + i + k - 1]``.
        All models must have the same shape.
    start : int
        The time step that row 0 forecasts one step ahead (the end of its history).
    model : str, optional
        The model shown first (default: the first key of ``forecasts``).
    horizon : int
        The horizon shown first, between 1 and ``max_horizon``.
    stretch : int, optional
        How many time steps to draw: the first ``stretch`` of those for which
        every horizon has a forecast (default: all of them).
    times : array_like, optional
        The time stamps of ``series`` (for example ``datetime64``), for the x axis.
    feature_names : sequence of str, optional
        One name per feature, for the panels.
    title : str
    figsize : tuple of float

    Returns
    -------
    ExplorerWidget
        ``.children[0]`` the model dropdown, ``.children[1]`` the horizon
        ``IntSlider``, ``.children[2]`` the text (an ``HTML`` widget),
        ``.children[3]`` the output.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorbook.widgets import forecast_explorer
    >>> series = np.arange(20.0)
    >>> origins = np.arange(10, 16)                       # forecasts made after steps 9, ..., 14
    >>> exact = (origins[:, None] + np.arange(3)).astype(float)     # 3 steps ahead, all right
    >>> w = forecast_explorer(series, {"exact": exact, "persistence": np.repeat(origins[:, None] - 1.0, 3, axis=1)},
    ...                       start=10, horizon=2)
    >>> w.children[0].value, w.children[1].max, w.children[1].value
    ('exact', 3, 2)
    >>> print(w.children[2].value)
    <p>2 steps ahead, RMSE over steps 12 to 15: <b>exact 0</b>, persistence 2</p>
    """
    series = as_array(series, "series").astype(float)
    if series.ndim == 1:
        series = series[:, None]
    if series.ndim != 2:
        raise ValueError(f"series must be (time,) or (time, features), got shape {series.shape}")
    n_time, n_feat = series.shape
    if not isinstance(forecasts, dict) or not forecasts:
        raise ValueError("forecasts must be a non-empty dict: name -> (n_origins, max_horizon, features) array")
    start = check_int(start, "start")
    runs, shape = {}, None
    for name, forecast in forecasts.items():
        forecast = as_array(forecast, f"forecasts[{name!r}]").astype(float)
        if forecast.ndim == 2 and n_feat == 1:
            forecast = forecast[:, :, None]
        if forecast.ndim != 3 or forecast.shape[2] != n_feat or 0 in forecast.shape:
            raise ValueError(
                f"forecasts[{name!r}] must have shape (n_origins, max_horizon, {n_feat}) "
                f"({n_feat} features, as series), got {forecast.shape}"
            )
        if shape is not None and forecast.shape != shape:
            raise ValueError(f"every forecast must have the same shape; forecasts[{name!r}] has "
                             f"{forecast.shape}, the first one {shape}")
        shape = forecast.shape
        runs[name] = forecast
    n_origins, max_horizon, _ = shape
    if start + n_origins - 1 > n_time:
        raise ValueError(f"the last forecast origin start + n_origins - 1 = {start + n_origins - 1} is beyond "
                         f"the end of series ({n_time} steps)")
    lo = start + max_horizon - 1  # the first step that every horizon forecasts
    hi = min(start + n_origins, n_time)  # one past the last step that every horizon forecasts
    if hi <= lo:
        raise ValueError(
            f"no time step has a forecast at every horizon: {n_origins} origins from start = {start} with "
            f"max_horizon = {max_horizon} within a series of {n_time} steps (need n_origins >= max_horizon)"
        )
    if stretch is not None:
        hi = min(hi, lo + check_int(stretch, "stretch"))
    if times is None:
        x = np.arange(n_time)
    else:
        x = np.asarray(times)
        if x.shape != (n_time,):
            raise ValueError(f"times must have one entry per time step, shape ({n_time},), got {x.shape}")
    if feature_names is None:
        feature_names = [f"feature {j}" for j in range(n_feat)] if n_feat > 1 else [""]
    feature_names = list(feature_names)
    if len(feature_names) != n_feat:
        raise ValueError(f"feature_names must have {n_feat} entries, got {len(feature_names)}")
    first = next(iter(runs)) if model is None else model
    if first not in runs:
        raise ValueError(f"model must be one of {list(runs)}, got {model!r}")
    horizon = check_int(horizon, "horizon")
    if horizon > max_horizon:
        raise ValueError(f"horizon must be at most max_horizon = {max_horizon}, got {horizon}")

    truth = series[lo:hi]
    span = f"steps {lo} to {hi - 1}" if times is None else f"{x[lo]} to {x[hi - 1]}"

    def rmse_at(k):
        return {name: float(np.sqrt(np.mean((_k_step_ahead(f, start, k, lo, hi) - truth) ** 2)))
                for name, f in runs.items()}

    def text(state):
        name, k = state["model"], state["horizon"]
        errors = rmse_at(k)
        return (
            f"<p>{k} step{'s' if k > 1 else ''} ahead, RMSE over {span}: "
            + ", ".join(f"<b>{html.escape(m)} {e:.4g}</b>" if m == name else f"{html.escape(m)} {e:.4g}"
                        for m, e in errors.items())
            + "</p>"
        )

    def draw(state):
        import matplotlib.pyplot as plt

        name, k = state["model"], state["horizon"]
        errors = rmse_at(k)
        shown = _k_step_ahead(runs[name], start, k, lo, hi)
        fig = plt.figure(figsize=figsize)
        grid = fig.add_gridspec(n_feat, 2, width_ratios=[3.2, 1])
        for j in range(n_feat):
            ax = fig.add_subplot(grid[j, 0])
            ax.plot(x[lo:hi], truth[:, j], color="black", linewidth=1.2, label="truth")
            ax.plot(x[lo:hi], shown[:, j], color="tab:orange", linewidth=1.2,
                    label=f"{name}, {k} step{'s' if k > 1 else ''} ahead")
            ax.set_ylabel(feature_names[j])
            if j == 0:
                ax.legend(loc="upper left", fontsize=8, ncol=2)
            if j < n_feat - 1:
                ax.tick_params(labelbottom=False)
            elif times is not None:
                ax.tick_params(axis="x", labelrotation=30)
        ax_bar = fig.add_subplot(grid[:, 1])
        names = list(errors)
        values = [errors[m] for m in names]
        bars = ax_bar.barh(names, values, color=["tab:orange" if m == name else "tab:gray" for m in names])
        for bar, value in zip(bars, values):
            ax_bar.text(value, bar.get_y() + bar.get_height() / 2, f" {value:.3g}", va="center", fontsize=8)
        ax_bar.set_xlim(0, 1.25 * max(max(values), np.finfo(float).tiny))
        ax_bar.invert_yaxis()
        ax_bar.set_xlabel(f"RMSE, {k} step{'s' if k > 1 else ''} ahead")
        fig.suptitle(f"{title} {name}: the forecast of each step made {k} step{'s' if k > 1 else ''} "
                     "earlier".strip())
        fig.tight_layout()
        return fig

    controls = [Dropdown("model", "model", list(runs), first),
                Slider("horizon", "steps ahead k", range(1, max_horizon + 1), horizon,
                       static=sparse_grid(max_horizon, horizon, steps=(1, 2, 3, 4, 6, 8, 12, 16, 20, 24, 36, 48)))]
    caption = lambda state: (f"{title} {state['model']}, {state['horizon']} "  # noqa: E731
                             f"step{'s' if state['horizon'] > 1 else ''} ahead").strip()
    return live(Explorer(controls, draw, text=text, caption=caption,
                         figure_alt="the truth and the forecasts made k steps earlier"))
