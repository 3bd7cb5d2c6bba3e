"""Chapter 8's explorer: measured fits by scheduler and number of chunks."""

import html

import numpy as np

from .._validation import as_array, check_int
from ._frame import Dropdown, Explorer, Slider, live

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
    in-memory fit) is drawn as a dashed line on both. A line of
    text above the plot gives the numbers, with the time per pass over the
    documents (``seconds / passes``). Pass measurements made beforehand: the
    widget only draws. The static book shows every scheduler at every point of the grid.

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
    ExplorerWidget
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
    runs, grid, n_documents, reference = _scaling_grid(measurements, n_documents, reference)
    passes = check_int(passes, "passes")
    first = next(iter(runs)) if scheduler is None else scheduler
    if first not in runs:
        raise ValueError(f"scheduler must be one of {list(runs)}, got {scheduler!r}")
    index = check_int(index, "index", minimum=0)
    if index >= len(grid):
        raise ValueError(f"index must be at most {len(grid) - 1} (the chunk grid {grid}), got {index}")
    names = list(runs)

    def text(state):
        name, i = state["scheduler"], state["index"]
        seconds, memory = runs[name]["seconds"][i], runs[name]["memory_mb"][i]
        return (
            f"<p>{html.escape(name)}, {grid[i]} chunks: <b>{seconds:.3g} s</b> per fit ({seconds / passes:.3g} s per pass), "
            f"<b>{n_documents / seconds:,.0f}</b> documents per second, peak memory <b>{memory:.3g} MB</b></p>"
        )

    def draw(state):
        import matplotlib.pyplot as plt

        name, i = state["scheduler"], state["index"]
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
        return fig

    controls = [Dropdown("scheduler", "scheduler", names, first),
                Slider("index", "chunk grid point", range(len(grid)), index, format=lambda i: f"{grid[i]} chunks")]
    caption = lambda state: f"{title} {state['scheduler']}, {grid[state['index']]} chunks".strip()  # noqa: E731
    return live(Explorer(controls, draw, text=text, caption=caption,
                         figure_alt="throughput by scheduler and peak memory by number of chunks"))
