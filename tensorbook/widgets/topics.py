"""Chapter 5's explorer: the tensor power method, iteration by iteration."""

import numpy as np

from .._validation import as_array
from ._frame import Dropdown, Explorer, Slider, live


def power_method_explorer(paths, reference, *, path=None, step=0, reference_name="v", title="", figsize=(11, 3.6)):
    r"""A widget to step through tensor power iterations and compare each iterate with reference vectors.

    A dropdown picks a run of the power method (a key of ``paths``: which
    component, which start) and a slider the iteration. The output draws,
    with matplotlib, the current unit vector :math:`\theta` next to the
    closest reference vector (sign-aligned), and the overlaps
    :math:`|\langle \theta, \mathbf{v}_i \rangle|` with every reference
    vector, so you see one overlap climb to 1 while the others die out. The
    static book shows every run at the iterations 0, 1, 2, 3, 5, 12, 20, 32
    and the last.

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
    ExplorerWidget
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
    ref_norms = np.maximum(np.linalg.norm(reference, axis=0), np.finfo(float).tiny)

    def overlaps(state):
        run = runs[state["run"]]
        theta = run[state["iteration"]] / max(np.linalg.norm(run[state["iteration"]]), np.finfo(float).tiny)
        inner = theta @ reference / ref_norms
        return theta, inner, int(np.argmax(np.abs(inner)))

    def draw(state):
        import matplotlib.pyplot as plt

        theta, inner, best = overlaps(state)
        closest = np.sign(inner[best] or 1.0) * reference[:, best] / ref_norms[best]
        fig, axes = plt.subplots(1, 2, figsize=figsize, gridspec_kw={"width_ratios": [1.4, 1]})
        x = np.arange(k)
        axes[0].bar(x - 0.2, theta, width=0.4, label="θ")
        axes[0].bar(x + 0.2, closest, width=0.4, alpha=0.6, label=f"closest {reference_name}_{best} (sign-aligned)")
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
        fig.suptitle(f"{title} {state['run']}, iteration {state['iteration']}: closest {reference_name}_{best}, "
                     f"overlap {abs(inner[best]):.4f}".strip())
        fig.tight_layout()
        return fig

    def caption(state):
        _, inner, best = overlaps(state)
        return (f"{title} {state['run']}, iteration {state['iteration']}: closest {reference_name}_{best}, "
                f"overlap {abs(inner[best]):.4f}").strip()

    controls = [Dropdown("run", "run", list(runs), first),
                Slider("iteration", "iteration", lambda state: range(runs[state["run"]].shape[0]),
                       min(max(int(step), 0), runs[first].shape[0] - 1),
                       static=lambda state: [0, 1, 2, 3, 5, 12, 20, 32, runs[state["run"]].shape[0] - 1])]
    return live(Explorer(controls, draw, caption=caption, figure_alt="the iterate and its overlaps with the topics"))
