"""Chapter 3's explorer: low-rank approximations of an image, by method and rank."""

import numpy as np

from .._validation import as_array
from ._frame import Dropdown, Explorer, Slider, live


def low_rank_explorer(original, models, *, method=None, rank=None, title="", figsize=(11, 3.8)):
    r"""A widget to compare low-rank approximations of an image: method, rank, size and error.

    A dropdown picks the method (a key of ``models``) and a slider one of its
    ranks. The output shows the original image, the reconstruction and, for
    every model given, the relative error :math:`\|X - \hat X\| / \|X\|`
    against the number of parameters, with the current model highlighted;
    the title compares the parameter count with the size of the original.
    Pass decompositions computed beforehand: the widget only reconstructs.
    The static book shows every method at every rank.

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
    ExplorerWidget
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
    summary, images = {}, {}  # method -> [(label, n_params, relative error)]; (method, label) -> reconstruction
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
            images[name, label] = full
            rows.append((label, int(model.n_params), float(np.linalg.norm(full - original)) / norm_x))
        summary[name] = rows
    first = next(iter(models)) if method is None else method
    if first not in models:
        raise ValueError(f"method must be one of {list(models)}, got {method!r}")
    first_rank = next(iter(models[first])) if rank is None else rank
    if first_rank not in models[first]:
        raise ValueError(f"rank must be one of {list(models[first])} (the ranks of {first!r}), got {rank!r}")

    def show(ax, image):
        if image.ndim == 3:
            ax.imshow(np.clip(image, 0, 1))
        else:
            ax.imshow(image, cmap="gray", vmin=float(original.min()), vmax=float(original.max()))
        ax.axis("off")

    def draw(state):
        import matplotlib.pyplot as plt

        m, label = state["method"], state["rank"]
        _, n_params, error = next(row for row in summary[m] if row[0] == label)
        fig, axes = plt.subplots(1, 3, figsize=figsize, gridspec_kw={"width_ratios": [1, 1, 1.3]})
        show(axes[0], original)
        axes[0].set_title(f"original: {original.size:,} entries")
        show(axes[1], images[m, label])
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
        return fig

    controls = [Dropdown("method", "method", list(models), first),
                Slider("rank", "rank", lambda state: list(models[state["method"]]), first_rank, kind="selection")]
    caption = lambda state: f"{title} {state['method']}, rank {state['rank']}".strip()  # noqa: E731
    return live(Explorer(controls, draw, caption=caption, figure_alt="the image and its low-rank approximation"))
