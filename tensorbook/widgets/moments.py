"""Chapter 4's explorer: the third cumulant of a distribution as a parameter moves."""

import numpy as np

from .._validation import as_array, check_int
from ._frame import Dropdown, Explorer, Slider, live


def _sampled_cumulant(samplers, name, value):
    """Data drawn by ``samplers[name](value)`` and its empirical third cumulant."""
    from ..moments import third_cumulant

    data = as_array(samplers[name](value), f"samplers[{name!r}]({value:g})")
    if data.ndim != 2 or not 2 <= data.shape[1] <= 6 or data.shape[0] < 2:
        raise ValueError(
            f"samplers[{name!r}] must return data of shape (n, d) with n >= 2 points and 2 <= d <= 6 "
            f"dimensions, got shape {data.shape}"
        )
    return data, third_cumulant(data)


def moment_explorer(samplers, *, parameter="weight", values=(0.05, 0.95, 0.05), value=None, family=None,
                    vmax=None, n_points=1500, title="", figsize=(12.5, 3.4)):
    r"""A widget to watch the third cumulant of a distribution change with a parameter.

    A dropdown picks a family of distributions (a key of ``samplers``) and a
    slider the value of its parameter. The family's sampler draws data with
    that value, and the output shows a scatter plot of the data (its first two
    coordinates) next to the slices :math:`\kappa_3[:, :, k]` of its empirical
    third cumulant (:func:`tensorbook.moments.third_cumulant`), drawn as
    heatmaps on one colour scale centred at zero, with the entries written in
    when the dimension is at most 4. Standardise the samplers' data (mean 0,
    covariance I) and every difference you see is one that the mean and the
    covariance cannot show. The static book shows every family at every other
    value of the slider (and the last, and the value shown first).

    Parameters
    ----------
    samplers : dict
        ``family name -> sampler``; ``sampler(value)`` returns data of shape
        ``(n, d)`` with :math:`2 \le d \le 6`. Seed the sampler (the same seed
        for every value) so that moving the slider changes the distribution,
        not the sample.
    parameter : str
        The name of the parameter, shown on the slider.
    values : tuple of float
        ``(min, max, step)`` of the slider.
    value : float, optional
        The value shown first (default: ``min``).
    family : str, optional
        The family shown first (default: the first key of ``samplers``).
    vmax : float, optional
        The colour scale runs from ``-vmax`` to ``vmax``; by default, the
        largest absolute entry of every family's cumulant at the first value.
        It stays fixed as the controls move, so sizes can be compared.
    n_points : int
        At most this many points are drawn in the scatter plot.
    title : str
    figsize : tuple of float

    Returns
    -------
    ExplorerWidget
        ``.children[0]`` the family dropdown, ``.children[1]`` the parameter
        slider (a ``FloatSlider``), ``.children[2]`` the output.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorbook.widgets import moment_explorer
    >>> def two_points(w):  # +1 with probability w, else -1, on the first axis
    ...     x = np.where(np.random.default_rng(0).random(1000) < w, 1.0, -1.0)
    ...     return np.column_stack([x, np.zeros_like(x)])
    >>> w = moment_explorer({"two points": two_points}, value=0.3)
    >>> w.children[0].value, w.children[1].description, w.children[1].value
    ('two points', 'weight', 0.3)
    """
    if not isinstance(samplers, dict) or not samplers:
        raise ValueError("samplers must be a non-empty dict: family name -> sampler(value) returning data (n, d)")
    for name, sampler in samplers.items():
        if not callable(sampler):
            raise TypeError(f"samplers[{name!r}] must be callable, got {type(sampler).__name__}")
    try:
        lo, hi, step = (float(x) for x in values)
    except (TypeError, ValueError):
        raise ValueError(f"values must be (min, max, step), got {values!r}") from None
    if not (lo < hi and step > 0):
        raise ValueError(f"values must be (min, max, step) with min < max and step > 0, got {values!r}")
    first_value = lo if value is None else float(value)
    if not lo <= first_value <= hi:
        raise ValueError(f"value must be between {lo:g} and {hi:g}, got {value!r}")
    first = next(iter(samplers)) if family is None else family
    if first not in samplers:
        raise ValueError(f"family must be one of {list(samplers)}, got {family!r}")
    n_points = check_int(n_points, "n_points")
    if vmax is None:
        vmax = max(float(np.abs(_sampled_cumulant(samplers, name, first_value)[1]).max()) for name in samplers)
        vmax = vmax if vmax > 0 else 1.0
    elif not float(vmax) > 0:
        raise ValueError(f"vmax must be positive, got {vmax!r}")
    vmax = float(vmax)
    n_steps = int(round((hi - lo) / step))
    grid = [round(lo + i * step, 12) for i in range(n_steps + 1)]

    def draw(state):
        import matplotlib.pyplot as plt

        name, v = state["family"], state["value"]
        data, kappa = _sampled_cumulant(samplers, name, v)
        d = data.shape[1]
        fig, axes = plt.subplots(1, d + 1, figsize=figsize, layout="constrained",
                                 gridspec_kw={"width_ratios": [1.25] + [1] * d})
        shown = data[:n_points]
        axes[0].scatter(shown[:, 0], shown[:, 1], s=3, alpha=0.4)
        axes[0].set_xlabel("$x_0$")
        axes[0].set_ylabel("$x_1$")
        axes[0].set_title(f"{len(shown):,} of {len(data):,} points")
        axes[0].set_aspect("equal", adjustable="datalim")
        for k in range(d):
            ax = axes[k + 1]
            image = ax.imshow(kappa[:, :, k], cmap="RdBu_r", vmin=-vmax, vmax=vmax)
            ax.set_title(rf"$\kappa_3[:, :, {k}]$")
            ax.set_xticks(range(d))
            ax.set_yticks(range(d))
            if d <= 4:
                for i, j in np.ndindex(d, d):
                    entry = kappa[i, j, k]
                    label = f"{entry:.2f}".replace("-0.00", "0.00")
                    ax.text(j, i, label, ha="center", va="center", fontsize=8,
                            color="white" if abs(entry) > 0.6 * vmax else "black")
        fig.colorbar(image, ax=axes[1:], shrink=0.8)
        fig.suptitle(
            f"{title} {name}, {parameter} = {v:.2f}: largest |entry| of the third cumulant "
            f"{np.abs(kappa).max():.3f}".strip()
        )
        return fig

    controls = [Dropdown("family", "family", list(samplers), first),
                Slider("value", parameter, grid, first_value, kind="float",
                       static=lambda state: grid[::2] + [grid[-1]])]
    caption = lambda state: f"{title} {state['family']}, {parameter} = {state['value']:.2f}".strip()  # noqa: E731
    return live(Explorer(controls, draw, caption=caption,
                         figure_alt="the data and the slices of its third cumulant"))
