"""Chapter 6's explorer: held-out accuracy against the number of parameters, model by model."""

import numpy as np

from ._frame import Dropdown, Explorer, Slider, live


def layer_explorer(rows, *, task="", family=None, size=None, figsize=(11, 3.8)):
    """A widget to compare model families by size: parameters, held-out accuracy, and its spread over seeds.

    A dropdown picks a family (a kind of layer or fusion) and a slider its
    size (a rank, a width, a sketch size). The left panel plots every
    family's mean accuracy against its parameter count, with the chosen model
    ringed; the right panel shows the chosen model's accuracy for each seed
    (and, when the rows have them, on the relational and non-relational
    questions apart). The static book shows every family at every size.

    Parameters
    ----------
    rows : list of dict
        One per model, as ``benchmarks/tensor_layers_comparison.py`` writes
        them: ``family``, ``param`` (the size's name), ``size``,
        ``n_params`` and ``accuracy`` (a list, one entry per seed);
        optionally ``relational`` and ``non_relational`` (lists too).
    task : str
        Named in the titles.
    family, size : optional
        The model shown first (default: the first row's); a row whose
        ``size`` is None (a family of one model) is on the slider as "-".
    figsize : tuple of float

    Returns
    -------
    ExplorerWidget
        ``.children[0]`` the family dropdown, ``.children[1]`` the size
        slider (a ``SelectionSlider``), ``.children[2]`` the output.

    Examples
    --------
    >>> from tensorbook.widgets import layer_explorer
    >>> rows = [{"family": "dense", "param": "h", "size": h, "n_params": 75 * h + 10, "accuracy": [0.9, 0.92]}
    ...         for h in (8, 16)] + [{"family": "TT", "param": "r", "size": 2, "n_params": 474, "accuracy": [0.95]}]
    >>> w = layer_explorer(rows, task="digits")
    >>> w.children[0].value, w.children[1].options
    ('dense', (8, 16))
    >>> w.children[0].value = "TT"
    >>> w.children[1].options, w.children[1].value
    ((2,), 2)
    """
    if not isinstance(rows, (list, tuple)) or not rows:
        raise ValueError("rows must be a non-empty list of dicts (family, param, size, n_params, accuracy)")
    families = {}
    for i, row in enumerate(rows):
        missing = {"family", "param", "size", "n_params", "accuracy"} - set(row)
        if missing:
            raise ValueError(f"rows[{i}] lacks {sorted(missing)}")
        if not row["accuracy"]:
            raise ValueError(f"rows[{i}]['accuracy'] must hold one accuracy per seed, got none")
        families.setdefault(row["family"], {})["-" if row["size"] is None else row["size"]] = row  # no size: "-"
    first = rows[0]["family"] if family is None else family
    if first not in families:
        raise ValueError(f"family must be one of {list(families)}, got {family!r}")
    first_size = next(iter(families[first])) if size is None else size  # "-" for a family without sizes
    if first_size not in families[first]:
        raise ValueError(f"size must be one of {list(families[first])} (the sizes of {first!r}), got {size!r}")

    def label(row):
        return f"{row['family']}" + ("" if row["size"] is None else f", {row['param']} = {row['size']}")

    def draw(state):
        import matplotlib.pyplot as plt

        row = families[state["family"]][state["size"]]
        parts = [("all questions", row["accuracy"])]
        if "relational" in row:
            parts += [("relational", row["relational"]), ("non-relational", row["non_relational"])]
        fig, axes = plt.subplots(1, 2, figsize=figsize, gridspec_kw={"width_ratios": [1.6, 1]})
        for name, by_size in families.items():
            points = sorted((r["n_params"], float(np.mean(r["accuracy"]))) for r in by_size.values())
            axes[0].plot(*zip(*points), "o-", label=name)
        axes[0].plot([row["n_params"]], [np.mean(row["accuracy"])], "o", markersize=15, markerfacecolor="none",
                     markeredgecolor="black", markeredgewidth=2, label="shown")
        axes[0].set_xscale("log")
        axes[0].set_xlabel("parameters")
        axes[0].set_ylabel("held-out accuracy (mean over seeds)")
        axes[0].grid(alpha=0.3)
        axes[0].legend(fontsize=8)
        for k, (name, values) in enumerate(parts):
            axes[1].scatter(np.full(len(values), k) + np.linspace(-0.12, 0.12, len(values)), values, zorder=3)
            axes[1].hlines(np.mean(values), k - 0.3, k + 0.3, color="black")
        axes[1].set_xticks(range(len(parts)))
        axes[1].set_xticklabels([name for name, _ in parts])
        low = min(min(v) for _, v in parts)
        axes[1].set_ylim(max(0.0, low - 0.05), 1.0)
        axes[1].set_title("accuracy of each seed (bar: mean)")
        axes[1].grid(axis="y", alpha=0.3)
        fig.suptitle(f"{task} {label(row)}: {row['n_params']:,} parameters, accuracy "
                     f"{np.mean(row['accuracy']):.3f} ± {np.std(row['accuracy']):.3f}".strip())
        fig.tight_layout()
        return fig

    controls = [Dropdown("family", "model", list(families), first),
                Slider("size", "size", lambda state: list(families[state["family"]]), first_size, kind="selection")]
    caption = lambda state: f"{task} {label(families[state['family']][state['size']])}".strip()  # noqa: E731
    return live(Explorer(controls, draw, caption=caption,
                         figure_alt="held-out accuracy against the number of parameters"))
