"""Interactive explorers for the chapters (ipywidgets + matplotlib)."""

import numpy as np

from ._validation import as_array, check_int

__all__ = ["slice_explorer", "contraction_explorer", "CONTRACTIONS", "low_rank_explorer", "moment_explorer",
           "power_method_explorer", "tt_parameter_explorer", "forecast_explorer", "scaling_explorer"]


def _assemble(draw, controls, *outputs):
    """Redraw when any control changes, draw once, and stack the controls above the outputs."""
    import ipywidgets as widgets

    for control in controls:
        control.observe(draw, names="value")
    draw()
    return widgets.VBox([*controls, *outputs])


def _slice_image(tensor, mode, index):
    """The slice ``tensor[..., index, ...]`` (along ``mode``) as an image array."""
    image = np.take(tensor, index, axis=mode)
    if image.ndim == 3 and image.shape[-1] == 3 and mode != tensor.ndim - 1:
        return image  # an RGB slice of a colour tensor
    return image if image.ndim == 2 else image.reshape(image.shape[0], -1)


def slice_explorer(tensor, mode_names=None, *, title="", cmap="viridis", figsize=(4.5, 4.5)):
    """A widget to browse the slices of a 3-way (or RGB 4-way) tensor along any mode.

    A dropdown picks the mode to slice along and a slider the index; the slice
    is drawn with matplotlib. For a 4-way tensor whose last mode has size 3
    (a video: time x height x width x colour) slices along the first three
    modes keep their colours.

    Parameters
    ----------
    tensor : array_like, 3-D or 4-D
    mode_names : sequence of str, optional
        One name per mode, shown in the dropdown.
    title : str
    cmap : str
        Colormap for single-channel slices.
    figsize : tuple of float

    Returns
    -------
    ipywidgets.VBox
        Controls and the output area; ``.children[0]`` is the mode dropdown,
        ``.children[1]`` the index slider.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorbook.widgets import slice_explorer
    >>> w = slice_explorer(np.zeros((4, 5, 6)), ["row", "column", "band"])
    >>> w.children[1].max  # slider over mode 0 by default
    3
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython import get_ipython
    from IPython.display import display

    tensor = as_array(tensor, "tensor")
    if tensor.ndim not in (3, 4) or (tensor.ndim == 4 and tensor.shape[-1] != 3):
        raise ValueError(
            "tensor must be 3-D, or 4-D with a last mode of size 3 (colour), "
            f"got shape {tensor.shape}"
        )
    n_modes = tensor.ndim if tensor.ndim == 3 else 3
    if mode_names is None:
        mode_names = [f"mode {m}" for m in range(n_modes)]
    mode_names = list(mode_names)
    if len(mode_names) != n_modes:
        raise ValueError(f"mode_names must have {n_modes} entries, got {len(mode_names)}")

    mode = widgets.Dropdown(
        options=[(f"{name} (mode {m}, size {tensor.shape[m]})", m) for m, name in enumerate(mode_names)],
        value=0, description="slice along",
        style={"description_width": "initial"},
    )
    index = widgets.IntSlider(value=0, min=0, max=tensor.shape[0] - 1, description="index",
                              continuous_update=False)
    out = widgets.Output()
    lo, hi = float(np.min(tensor)), float(np.max(tensor))

    def draw(*_):
        m, i = mode.value, min(index.value, tensor.shape[mode.value] - 1)
        image = _slice_image(tensor, m, i)
        if get_ipython() is None:  # outside IPython there is nowhere to draw
            return
        with out:
            out.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=figsize)
            if image.ndim == 3:
                ax.imshow(image if image.dtype == np.uint8 else np.clip(image, 0, 1))
            else:
                ax.imshow(image, cmap=cmap, vmin=lo, vmax=hi, aspect="auto")
            ax.set_title(f"{title} {mode_names[m]} = {i}: slice of shape {image.shape}".strip())
            display(fig)
            plt.close(fig)

    def on_mode(change):
        index.max = tensor.shape[change["new"]] - 1
        index.value = min(index.value, index.max)
        draw()

    mode.observe(on_mode, names="value")
    index.observe(draw, names="value")
    draw()
    return widgets.VBox([mode, index, out])


#: Contractions offered by :func:`contraction_explorer`: name -> (subscripts,
#: shape of each operand in units of n, operand names for the diagram).
CONTRACTIONS = {
    "matrix chain A B v": ("ij,jk,k->i", ((1, 1), (1, 1), (1,)), "ABv"),
    "mode-1 product X x_1 U": ("ajb,ij->aib", ((1, 1, 1), (1, 1)), "XU"),
    "Tucker: core times 3 factors": ("abc,ia,jb,kc->ijk", ((0.25, 0.25, 0.25), (1, 0.25), (1, 0.25), (1, 0.25)), "GABC"),
    "CP: 3 factors, rank r": ("ir,jr,kr->ijk", ((1, 0.25), (1, 0.25), (1, 0.25)), "ABC"),
    "MTTKRP X_(0) (B kr C)": ("ijk,jr,kr->ir", ((1, 1, 1), (1, 0.25), (1, 0.25)), "XBC"),
    "tensor train, 4 cores": ("ia,ajb,bkc,cl->ijkl", ((1, 0.25), (0.25, 1, 0.25), (0.25, 1, 0.25), (0.25, 1)), ["G0", "G1", "G2", "G3"]),
    "T(I, v, v)": ("ijk,j,k->i", ((1, 1, 1), (1,), (1,)), "Tvv"),
}


def _scaled_shapes(units, n):
    return tuple(tuple(max(1, int(round(u * n))) for u in shape) for shape in units)


def contraction_explorer(contractions=None, *, n=40, n_max=200):
    """A widget to pick a contraction and see its diagram and the cost of two orders.

    A dropdown picks a contraction (:data:`CONTRACTIONS` by default) and a
    slider the size ``n`` (the mode sizes are multiples of it). The output
    shows the tensor-network diagram (:func:`tensorbook.plotting.tensor_network`)
    and, from :func:`tensorbook.contraction_cost`, the flops and the largest
    intermediate of the optimised order and of the left-to-right order.

    Parameters
    ----------
    contractions : dict, optional
        ``name -> (subscripts, unit shapes, operand names)``; each unit shape
        is scaled by ``n`` (and rounded, at least 1).
    n : int
        Initial size.
    n_max : int
        Largest size on the slider.

    Returns
    -------
    ipywidgets.VBox
        ``.children[0]`` the dropdown, ``.children[1]`` the slider,
        ``.children[2]`` the output.

    Examples
    --------
    >>> from tensorbook.widgets import contraction_explorer
    >>> w = contraction_explorer(n=10)
    >>> w.children[0].value
    'matrix chain A B v'
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython import get_ipython
    from IPython.display import HTML, display

    from .contraction import contraction_cost
    from .plotting import tensor_network

    contractions = dict(CONTRACTIONS if contractions is None else contractions)
    if not contractions:
        raise ValueError("contractions must name at least one contraction, got none")
    pick = widgets.Dropdown(options=list(contractions), description="contraction",
                            style={"description_width": "initial"})
    if not 2 <= n <= n_max:
        raise ValueError(f"n must be between 2 and n_max={n_max}, got {n}")
    size = widgets.IntSlider(value=n, min=2, max=n_max, step=2, description="n",
                             continuous_update=False)
    out = widgets.Output()

    def draw(*_):
        subscripts, units, names = contractions[pick.value]
        shapes = _scaled_shapes(units, size.value)
        cost = contraction_cost(subscripts, *shapes)
        if get_ipython() is None:
            return
        rows = "".join(
            f"<tr><td>{name}</td><td>{plan.flops:,}</td><td>{plan.largest_intermediate:,}</td>"
            f"<td>{'; '.join(step.subscripts for step in plan.steps)}</td></tr>"
            for name, plan in (("optimised", cost.optimal), ("left to right", cost.left_to_right))
        )
        with out:
            out.clear_output(wait=True)
            fig = tensor_network(subscripts, *shapes, names=list(names))
            display(fig)
            plt.close(fig)
            display(HTML(
                f"<p>shapes: {', '.join(map(str, shapes))}</p>"
                "<table><tr><th>order</th><th>flops</th><th>largest intermediate (entries)</th>"
                f"<th>steps</th></tr>{rows}</table>"
                f"<p>the optimised order needs {cost.speedup:,.1f}x fewer flops</p>"
            ))

    return _assemble(draw, [pick, size], out)


def low_rank_explorer(original, models, *, method=None, rank=None, title="", figsize=(11, 3.8)):
    r"""A widget to compare low-rank approximations of an image: method, rank, size and error.

    A dropdown picks the method (a key of ``models``) and a slider one of its
    ranks. The output shows the original image, the reconstruction and, for
    every model given, the relative error :math:`\|X - \hat X\| / \|X\|`
    against the number of parameters, with the current model highlighted;
    the title compares the parameter count with the size of the original.
    Pass decompositions computed beforehand: the widget only reconstructs.

    Parameters
    ----------
    original : array_like
        The image, ``(height, width)`` or ``(height, width, 3)``; colour
        values are expected in [0, 1] (reconstructions are clipped to it).
    models : dict
        ``method name -> {rank label -> low-rank tensor}``, each tensor with
        ``to_tensor()`` and ``n_params`` (a :class:`tensorbook.CPTensor`,
        :class:`tensorbook.TuckerTensor` or :class:`tensorbook.TTTensor`) and
        the shape of ``original``. Rank labels are shown on the slider in the
        order given.
    method : str, optional
        The method shown first (default: the first key of ``models``).
    rank : optional
        The rank label shown first (default: the method's first).
    title : str
    figsize : tuple of float

    Returns
    -------
    ipywidgets.VBox
        ``.children[0]`` the method dropdown, ``.children[1]`` the rank
        slider (a ``SelectionSlider``), ``.children[2]`` the output.

    Examples
    --------
    >>> import numpy as np
    >>> import tensorbook as tb
    >>> from tensorbook.widgets import low_rank_explorer
    >>> X = np.random.default_rng(0).random((8, 6, 3))
    >>> models = {"CP": {r: tb.cp_als(X, r, random_state=0) for r in (1, 2)},
    ...           "Tucker": {r: tb.tucker(X, (r, r, 3)) for r in (1, 2)}}
    >>> w = low_rank_explorer(X, models)
    >>> w.children[0].value, w.children[1].options, w.children[1].value
    ('CP', (1, 2), 1)
    >>> low_rank_explorer(X, models, method="Tucker", rank=2).children[1].value
    2
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython import get_ipython
    from IPython.display import display

    original = as_array(original, "original")
    if original.ndim not in (2, 3) or (original.ndim == 3 and original.shape[-1] != 3):
        raise ValueError(
            f"original must be an image, (height, width) or (height, width, 3), got shape {original.shape}"
        )
    if not isinstance(models, dict) or not models:
        raise ValueError("models must be a non-empty dict: method name -> {rank label -> low-rank tensor}")
    original = original.astype(float)
    if original.min() < 0 or original.max() > 1:
        raise ValueError(
            f"original must hold colour values in [0, 1] (divide a uint8 image by 255), got values in "
            f"[{original.min():.3g}, {original.max():.3g}]"
        )
    norm_x = float(np.linalg.norm(original))
    if norm_x == 0:
        raise ValueError("original must not be all zeros (the relative error is undefined)")
    summary = {}  # method -> [(label, n_params, relative error)]
    for name, by_rank in models.items():
        if not isinstance(by_rank, dict) or not by_rank:
            raise ValueError(f"models[{name!r}] must be a non-empty dict: rank label -> low-rank tensor")
        rows = []
        for label, model in by_rank.items():
            if not (hasattr(model, "to_tensor") and hasattr(model, "n_params")):
                raise TypeError(
                    f"models[{name!r}][{label!r}] must have to_tensor() and n_params (a CPTensor, "
                    f"TuckerTensor or TTTensor), got {type(model).__name__}"
                )
            full = model.to_tensor()
            if full.shape != original.shape:
                raise ValueError(
                    f"models[{name!r}][{label!r}] has shape {full.shape}, original has {original.shape}"
                )
            rows.append((label, int(model.n_params), float(np.linalg.norm(full - original)) / norm_x))
        summary[name] = rows

    first = next(iter(models)) if method is None else method
    if first not in models:
        raise ValueError(f"method must be one of {list(models)}, got {method!r}")
    first_rank = next(iter(models[first])) if rank is None else rank
    if first_rank not in models[first]:
        raise ValueError(f"rank must be one of {list(models[first])} (the ranks of {first!r}), got {rank!r}")
    pick_method = widgets.Dropdown(options=list(models), value=first, description="method",
                                   style={"description_width": "initial"})
    pick_rank = widgets.SelectionSlider(options=list(models[first]), value=first_rank, description="rank",
                                        continuous_update=False)
    out = widgets.Output()

    def show(ax, image):
        if image.ndim == 3:
            ax.imshow(np.clip(image, 0, 1))
        else:
            ax.imshow(image, cmap="gray", vmin=float(original.min()), vmax=float(original.max()))
        ax.axis("off")

    def draw(*_):
        m, label = pick_method.value, pick_rank.value
        if label not in models[m]:  # the options are being swapped
            return
        model = models[m][label]
        _, n_params, error = next(row for row in summary[m] if row[0] == label)
        if get_ipython() is None:  # outside IPython there is nowhere to draw
            return
        with out:
            out.clear_output(wait=True)
            fig, axes = plt.subplots(1, 3, figsize=figsize, gridspec_kw={"width_ratios": [1, 1, 1.3]})
            show(axes[0], original)
            axes[0].set_title(f"original: {original.size:,} entries")
            show(axes[1], model.to_tensor())
            axes[1].set_title(f"{m}, rank {label}")
            for name, rows in summary.items():
                axes[2].plot([r[1] for r in rows], [r[2] for r in rows], "o-", label=name)
            axes[2].plot([n_params], [error], "o", markersize=14, markerfacecolor="none",
                         markeredgecolor="black", markeredgewidth=2, label="shown")
            axes[2].set_xscale("log")
            axes[2].set_xlabel("parameters")
            axes[2].set_ylabel("relative error")
            axes[2].legend()
            axes[2].grid(alpha=0.3)
            fig.suptitle(
                f"{title} {m}, rank {label}: {n_params:,} parameters "
                f"({100 * n_params / original.size:.1f} % of the original), "
                f"relative error {error:.3f}".strip()
            )
            fig.tight_layout()
            display(fig)
            plt.close(fig)

    def on_method(change):
        labels = list(models[change["new"]])
        keep = pick_rank.value if pick_rank.value in labels else labels[0]
        pick_rank.unobserve(draw, names="value")
        pick_rank.options = labels  # resets the value to the first label
        pick_rank.value = keep
        pick_rank.observe(draw, names="value")
        draw()

    pick_method.observe(on_method, names="value")
    pick_rank.observe(draw, names="value")
    draw()
    return widgets.VBox([pick_method, pick_rank, out])


def _sampled_cumulant(samplers, name, value):
    """Data drawn by ``samplers[name](value)`` and its empirical third cumulant."""
    from .moments import third_cumulant

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
    covariance cannot show.

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
    ipywidgets.VBox
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
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython import get_ipython
    from IPython.display import display

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

    pick = widgets.Dropdown(options=list(samplers), value=first, description="family",
                            style={"description_width": "initial"})
    slider = widgets.FloatSlider(value=first_value, min=lo, max=hi, step=step, description=parameter,
                                 continuous_update=False, readout_format=".2f",
                                 style={"description_width": "initial"})
    out = widgets.Output()

    def draw(*_):
        name, v = pick.value, slider.value
        data, kappa = _sampled_cumulant(samplers, name, v)
        if get_ipython() is None:  # outside IPython there is nowhere to draw
            return
        d = data.shape[1]
        with out:
            out.clear_output(wait=True)
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
            display(fig)
            plt.close(fig)

    return _assemble(draw, [pick, slider], out)


def power_method_explorer(paths, reference, *, path=None, step=0, reference_name="v", title="", figsize=(11, 3.6)):
    r"""A widget to step through tensor power iterations and compare each iterate with reference vectors.

    A dropdown picks a run of the power method (a key of ``paths``: which
    component, which start) and a slider the iteration. The output draws,
    with matplotlib, the current unit vector :math:`\theta` next to the
    closest reference vector (sign-aligned), and the overlaps
    :math:`|\langle \theta, \mathbf{v}_i \rangle|` with every reference
    vector, so you see one overlap climb to 1 while the others die out.

    Parameters
    ----------
    paths : dict
        ``label -> array of shape (n_steps + 1, k)``: the iterates
        :math:`\theta_0, \theta_1, \dots` of one run, one per row (computed
        beforehand: the widget only draws).
    reference : array_like of shape (k, r)
        The reference vectors :math:`\mathbf{v}_i` as columns (for example
        the true whitened topics of a topic model).
    path : optional
        The label shown first (default: the first key of ``paths``).
    step : int
        The iteration shown first (clipped to the run's length).
    reference_name : str
        How the reference vectors are called in the labels.
    title : str
    figsize : tuple of float

    Returns
    -------
    ipywidgets.VBox
        ``.children[0]`` the run dropdown, ``.children[1]`` the iteration
        slider (its maximum follows the run), ``.children[2]`` the output.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorbook.widgets import power_method_explorer
    >>> paths = {"start 0": np.array([[0.6, 0.8, 0.0], [0.1, 0.995, 0.0], [0.0, 1.0, 0.0]]),
    ...          "start 1": np.array([[0.0, 0.6, 0.8], [0.0, 0.0, 1.0]])}
    >>> w = power_method_explorer(paths, np.eye(3), step=1)
    >>> w.children[0].value, w.children[1].max, w.children[1].value
    ('start 0', 2, 1)
    >>> w.children[0].value = "start 1"
    >>> w.children[1].max, w.children[1].value
    (1, 1)
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython import get_ipython
    from IPython.display import display

    reference = as_array(reference, "reference").astype(float)
    if reference.ndim != 2:
        raise ValueError(f"reference must be a (k, r) matrix of column vectors, got shape {reference.shape}")
    k, r = reference.shape
    if not isinstance(paths, dict) or not paths:
        raise ValueError("paths must be a non-empty dict: label -> (n_steps + 1, k) array of iterates")
    runs = {}
    for label, run in paths.items():
        run = as_array(run, f"paths[{label!r}]").astype(float)
        if run.ndim != 2 or run.shape[1] != k or run.shape[0] == 0:
            raise ValueError(
                f"paths[{label!r}] must have shape (n_steps + 1, {k}) (k from reference), got {run.shape}"
            )
        runs[label] = run
    first = next(iter(runs)) if path is None else path
    if first not in runs:
        raise ValueError(f"path must be one of {list(runs)}, got {path!r}")

    pick = widgets.Dropdown(options=list(runs), value=first, description="run",
                            style={"description_width": "initial"})
    last = runs[first].shape[0] - 1
    slider = widgets.IntSlider(value=min(max(int(step), 0), last), min=0, max=last, description="iteration",
                               continuous_update=False, style={"description_width": "initial"})
    out = widgets.Output()
    ref_norms = np.maximum(np.linalg.norm(reference, axis=0), np.finfo(float).tiny)

    def draw(*_):
        run = runs[pick.value]
        t = min(slider.value, run.shape[0] - 1)
        theta = run[t] / max(np.linalg.norm(run[t]), np.finfo(float).tiny)
        inner = theta @ reference / ref_norms
        best = int(np.argmax(np.abs(inner)))
        closest = np.sign(inner[best] or 1.0) * reference[:, best] / ref_norms[best]
        if get_ipython() is None:  # outside IPython there is nowhere to draw
            return
        with out:
            out.clear_output(wait=True)
            fig, axes = plt.subplots(1, 2, figsize=figsize, gridspec_kw={"width_ratios": [1.4, 1]})
            x = np.arange(k)
            axes[0].bar(x - 0.2, theta, width=0.4, label="θ")
            axes[0].bar(x + 0.2, closest, width=0.4, alpha=0.6,
                        label=f"closest {reference_name}_{best} (sign-aligned)")
            axes[0].axhline(0, color="black", linewidth=0.8)
            axes[0].set_xticks(x)
            axes[0].set_xlabel("coordinate")
            axes[0].set_ylim(-1.05, 1.05)
            axes[0].legend(loc="lower right", fontsize=8)
            axes[0].set_title("the iterate and the closest reference vector")
            colours = ["tab:orange" if i == best else "tab:gray" for i in range(r)]
            axes[1].bar(np.arange(r), np.abs(inner), color=colours)
            axes[1].axhline(1, color="black", linestyle=":", linewidth=0.8)
            axes[1].set_xticks(np.arange(r))
            axes[1].set_xticklabels([f"{reference_name}_{i}" for i in range(r)])
            axes[1].set_ylim(0, 1.1)
            axes[1].set_title(f"|⟨θ, {reference_name}_i⟩|")
            fig.suptitle(f"{title} {pick.value}, iteration {t}: closest {reference_name}_{best}, "
                         f"overlap {abs(inner[best]):.4f}".strip())
            fig.tight_layout()
            display(fig)
            plt.close(fig)

    def on_pick(change):
        slider.unobserve(draw, names="value")
        slider.max = runs[change["new"]].shape[0] - 1
        slider.value = min(slider.value, slider.max)
        slider.observe(draw, names="value")
        draw()

    pick.observe(on_pick, names="value")
    slider.observe(draw, names="value")
    draw()
    return widgets.VBox([pick, slider, out])


def _tt_counts(cell, n_features, hidden_size, n_lags, order, tt_rank):
    """Parameters of a forecaster with a tensor-train transition and with the dense tensor it replaces."""
    from .forecast import n_parameters

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
    of text above the plot gives the same numbers.

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
    ipywidgets.VBox
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
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython import get_ipython
    from IPython.display import display

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

    pick = widgets.Dropdown(options=[("TT-RNN (tanh)", "trnn"), ("TT-LSTM (gates)", "tlstm")], value=cell,
                            description="cell")
    sliders = [
        widgets.IntSlider(value=limits[name][0], min=1, max=limits[name][1], description=label,
                          continuous_update=False, style={"description_width": "initial"})
        for name, label in (("n_lags", "lags L"), ("order", "order P"), ("tt_rank", "TT rank r"))
    ]
    text = widgets.HTML()
    out = widgets.Output()

    def draw(*_):
        L, P, r = (s.value for s in sliders)
        counts = _tt_counts(pick.value, n_features, hidden_size, L, P, r)
        S = L * hidden_size + 1
        ratio = counts["dense"] / counts["tensor train"]
        text.value = (
            f"<p>{pick.value}, F = {n_features}, H = {hidden_size}, L = {L}, P = {P}, r = {r} "
            f"(S = LH + 1 = {S}): <b>{counts['tensor train']:,}</b> parameters with the tensor train, "
            f"<b>{counts['dense']:,}</b> with the dense transition ({ratio:,.3g} times more); "
            f"an LSTM of the same H has {counts['lstm']:,}.</p>"
        )
        if get_ipython() is None:  # outside IPython there is nowhere to draw
            return
        with out:
            out.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=figsize)
            cell_name = {"trnn": "TT-RNN", "tlstm": "TT-LSTM"}[pick.value]
            labels = ["LSTM", f"{cell_name}, tensor train", f"{cell_name}, dense"]
            values = [counts["lstm"], counts["tensor train"], counts["dense"]]
            bars = ax.barh(labels, values, color=["tab:gray", "tab:green", "tab:red"])
            ax.set_xscale("log")
            ax.set_xlim(10, max(values) * 300)
            for bar, value in zip(bars, values):
                ax.text(value * 1.3, bar.get_y() + bar.get_height() / 2, f"{value:,}", va="center")
            ax.set_xlabel("trainable parameters (log scale)")
            ax.set_title(f"L = {L} lags, order P = {P}, rank r = {r}: the dense transition has "
                         f"{S}^{P} x {4 * hidden_size if pick.value == 'tlstm' else hidden_size} entries per cell")
            ax.grid(axis="x", alpha=0.3)
            fig.tight_layout()
            display(fig)
            plt.close(fig)

    return _assemble(draw, [pick, *sliders], text, out)


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
    further ahead. A line of text above the plot gives the errors.

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
    ipywidgets.VBox
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
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython import get_ipython
    from IPython.display import display

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

    pick = widgets.Dropdown(options=list(runs), value=first, description="model")
    slider = widgets.IntSlider(value=horizon, min=1, max=max_horizon, description="steps ahead k",
                               continuous_update=False, style={"description_width": "initial"})
    text = widgets.HTML()
    out = widgets.Output()
    truth = series[lo:hi]
    span = f"steps {lo} to {hi - 1}" if times is None else f"{x[lo]} to {x[hi - 1]}"

    def rmse_at(k):
        return {name: float(np.sqrt(np.mean((_k_step_ahead(f, start, k, lo, hi) - truth) ** 2)))
                for name, f in runs.items()}

    def draw(*_):
        name, k = pick.value, slider.value
        errors = rmse_at(k)
        text.value = (
            f"<p>{k} step{'s' if k > 1 else ''} ahead, RMSE over {span}: "
            + ", ".join(f"<b>{m} {e:.4g}</b>" if m == name else f"{m} {e:.4g}" for m, e in errors.items())
            + "</p>"
        )
        if get_ipython() is None:  # outside IPython there is nowhere to draw
            return
        shown = _k_step_ahead(runs[name], start, k, lo, hi)
        with out:
            out.clear_output(wait=True)
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
            display(fig)
            plt.close(fig)

    return _assemble(draw, [pick, slider], text, out)


_SCALING_KEYS = ("chunks", "seconds", "memory_mb")


def _scaling_grid(measurements, n_documents, reference):
    """The validated measurements of :func:`scaling_explorer`: name -> dict of float arrays, and the chunk grid."""
    if not isinstance(measurements, dict) or not measurements:
        raise ValueError("measurements must be a non-empty dict: scheduler name -> "
                         "{'chunks': [...], 'seconds': [...], 'memory_mb': [...]}")
    grid, runs = None, {}
    for name, run in measurements.items():
        if not isinstance(run, dict) or any(key not in run for key in _SCALING_KEYS):
            raise ValueError(f"measurements[{name!r}] must be a dict with the keys {list(_SCALING_KEYS)}")
        chunks = as_array(run["chunks"], f"measurements[{name!r}]['chunks']")
        if chunks.ndim != 1 or chunks.size == 0 or not np.issubdtype(chunks.dtype, np.integer) or chunks.min() < 1:
            raise ValueError(f"measurements[{name!r}]['chunks'] must be a non-empty list of integers >= 1, "
                             f"got {run['chunks']!r}")
        if grid is None:
            grid = chunks
        elif not np.array_equal(chunks, grid):
            raise ValueError(f"every scheduler must be measured on the same chunks; measurements[{name!r}] has "
                             f"{chunks.tolist()}, the first one {grid.tolist()}")
        values = {}
        for key in ("seconds", "memory_mb"):
            value = as_array(run[key], f"measurements[{name!r}][{key!r}]").astype(float)
            if value.shape != chunks.shape:
                raise ValueError(f"measurements[{name!r}][{key!r}] must have one entry per number of chunks "
                                 f"({chunks.size}), got shape {value.shape}")
            if not np.all(np.isfinite(value)) or not np.all(value > 0 if key == "seconds" else value >= 0):
                raise ValueError(f"measurements[{name!r}][{key!r}] must hold finite numbers "
                                 f"{'> 0' if key == 'seconds' else '>= 0'}, got {value.tolist()}")
            values[key] = value
        runs[name] = values
    n_documents = check_int(n_documents, "n_documents")
    if reference is not None:
        if not isinstance(reference, dict) or any(key not in reference for key in ("seconds", "memory_mb")):
            raise ValueError("reference must be None or a dict with the keys 'seconds' and 'memory_mb'")
        seconds, memory = float(reference["seconds"]), float(reference["memory_mb"])
        if not (np.isfinite(seconds) and seconds > 0 and np.isfinite(memory) and memory >= 0):
            raise ValueError(f"reference must have seconds > 0 and memory_mb >= 0, got {reference!r}")
        reference = {"seconds": seconds, "memory_mb": memory}
    return runs, [int(c) for c in grid], n_documents, reference


def scaling_explorer(measurements, n_documents, *, scheduler=None, index=0, reference=None, passes=6,
                     title="", figsize=(10, 3.8)):
    r"""A widget to compare measured fits by scheduler and number of chunks: throughput and memory.

    A dropdown picks a scheduler (a key of ``measurements``) and a slider a
    point of the chunk grid (its index: the grid need not be evenly spaced).
    The output draws, with matplotlib, two bar charts: on the left the
    throughput, ``n_documents / seconds`` documents per second, of every
    scheduler at the chosen number of chunks, the chosen scheduler
    highlighted; on the right the peak memory of the chosen scheduler at
    every number of chunks, the chosen one highlighted. A ``reference`` (the
    in-memory fit, one chunk) is drawn as a dashed line on both. A line of
    text above the plot gives the numbers, with the time per pass over the
    documents (``seconds / passes``). Pass measurements made beforehand: the
    widget only draws.

    Parameters
    ----------
    measurements : dict
        ``scheduler name -> {"chunks": [...], "seconds": [...], "memory_mb": [...]}``:
        for each number of chunks (the same list for every scheduler), the
        wall time of a fit in seconds and its peak memory in MB.
    n_documents : int
        The documents of the corpus each fit read (for the throughput).
    scheduler : str, optional
        The scheduler shown first (default: the first key of ``measurements``).
    index : int
        The position in the chunk grid shown first.
    reference : dict, optional
        ``{"seconds": ..., "memory_mb": ...}`` of a reference fit.
    passes : int
        Passes over the documents in one fit (6 for ``SpectralLDA`` with
        ``n_power_iter=2``: the first pass, 4 products with :math:`M_2`, the
        whitened :math:`M_3`).
    title : str
    figsize : tuple of float

    Returns
    -------
    ipywidgets.VBox
        ``.children[0]`` the scheduler dropdown, ``.children[1]`` the
        ``IntSlider`` over the chunk grid, ``.children[2]`` the text (an
        ``HTML`` widget), ``.children[3]`` the output.

    Examples
    --------
    >>> from tensorbook.widgets import scaling_explorer
    >>> runs = {"threads": {"chunks": [2, 8], "seconds": [0.5, 0.4], "memory_mb": [60.0, 20.0]},
    ...         "cluster": {"chunks": [2, 8], "seconds": [1.0, 0.8], "memory_mb": [5.0, 5.5]}}
    >>> w = scaling_explorer(runs, 40_000, index=1)
    >>> w.children[0].value, w.children[1].max, w.children[1].value
    ('threads', 1, 1)
    >>> print(w.children[2].value)
    <p>threads, 8 chunks: <b>0.4 s</b> per fit (0.0667 s per pass), <b>100,000</b> documents per second, peak memory <b>20 MB</b></p>
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython import get_ipython
    from IPython.display import display

    runs, grid, n_documents, reference = _scaling_grid(measurements, n_documents, reference)
    passes = check_int(passes, "passes")
    first = next(iter(runs)) if scheduler is None else scheduler
    if first not in runs:
        raise ValueError(f"scheduler must be one of {list(runs)}, got {scheduler!r}")
    index = check_int(index, "index", minimum=0)
    if index >= len(grid):
        raise ValueError(f"index must be at most {len(grid) - 1} (the chunk grid {grid}), got {index}")

    pick = widgets.Dropdown(options=list(runs), value=first, description="scheduler",
                            style={"description_width": "initial"})
    slider = widgets.IntSlider(value=index, min=0, max=len(grid) - 1, description="chunk grid point",
                               continuous_update=False, style={"description_width": "initial"})
    text = widgets.HTML()
    out = widgets.Output()
    names = list(runs)

    def draw(*_):
        name, i = pick.value, slider.value
        seconds, memory = runs[name]["seconds"][i], runs[name]["memory_mb"][i]
        text.value = (
            f"<p>{name}, {grid[i]} chunks: <b>{seconds:.3g} s</b> per fit ({seconds / passes:.3g} s per pass), "
            f"<b>{n_documents / seconds:,.0f}</b> documents per second, peak memory <b>{memory:.3g} MB</b></p>"
        )
        if get_ipython() is None:  # outside IPython there is nowhere to draw
            return
        with out:
            out.clear_output(wait=True)
            fig, (left, right) = plt.subplots(1, 2, figsize=figsize)
            throughput = [n_documents / runs[m]["seconds"][i] for m in names]
            bars = left.bar(names, throughput, color=["tab:blue" if m == name else "tab:gray" for m in names])
            for bar, value in zip(bars, throughput):
                left.text(bar.get_x() + bar.get_width() / 2, value, f"{value:,.0f}", ha="center", va="bottom",
                          fontsize=8)
            left.set_ylabel("documents per second (whole fit)")
            left.set_title(f"{grid[i]} chunks: throughput by scheduler")
            labels = [str(c) for c in grid]
            bars = right.bar(labels, runs[name]["memory_mb"],
                             color=["tab:orange" if j == i else "tab:gray" for j in range(len(grid))])
            for bar, value in zip(bars, runs[name]["memory_mb"]):
                right.text(bar.get_x() + bar.get_width() / 2, value, f"{value:.3g}", ha="center", va="bottom",
                           fontsize=8)
            right.set_xlabel("chunks")
            right.set_ylabel("peak memory (MB)")
            right.set_title(f"{name}: peak memory by number of chunks")
            if reference is not None:
                for ax, value in ((left, n_documents / reference["seconds"]), (right, reference["memory_mb"])):
                    ax.axhline(value, color="black", linestyle="--", linewidth=1, label="reference (in memory)")
                    ax.legend(loc="upper right", fontsize=8)
            for ax in (left, right):
                ax.set_ylim(0, 1.2 * max([bar.get_height() for bar in ax.patches]
                                         + [line.get_ydata()[0] for line in ax.lines] + [1e-9]))
                ax.grid(axis="y", alpha=0.3)
            fig.suptitle(f"{title} {name}, {grid[i]} chunks".strip())
            fig.tight_layout()
            display(fig)
            plt.close(fig)

    return _assemble(draw, [pick, slider], text, out)
