"""Interactive explorers for the chapters (ipywidgets + matplotlib)."""

import numpy as np

from ._validation import as_array

__all__ = ["slice_explorer", "contraction_explorer", "CONTRACTIONS", "low_rank_explorer"]


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

    pick.observe(draw, names="value")
    size.observe(draw, names="value")
    draw()
    return widgets.VBox([pick, size, out])


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
