"""Plotly figures that work in JupyterLab and in the offline book.

JupyterLab draws plotly's own ``application/vnd.plotly.v1+json`` output, but
myst-nb (the book) drops that output. :func:`setup` makes the renderer
``"tensorbook"`` the default: it emits the plotly JSON *and* a small HTML
snippet that draws the same figure with a global ``Plotly`` object. The book
serves ``plotly.min.js`` from its own static files (``book/_ext``), so no page
loads anything from another host; where ``Plotly`` is missing the snippet says
so instead of failing silently.
"""

import html
import json
import uuid

import plotly.io as pio
from plotly.io._base_renderers import PlotlyRenderer

__all__ = ["setup", "OfflineRenderer", "figure_html", "tensor_network"]

RENDERER_NAME = "tensorbook"


def figure_html(fig_dict, height=None):
    """HTML that draws ``fig_dict`` with an already loaded ``Plotly`` global.

    Parameters
    ----------
    fig_dict : dict or plotly.graph_objects.Figure
    height : int, optional
        Height in pixels; defaults to the layout's height, else 450.

    Returns
    -------
    str
        A ``<div>`` and an inline ``<script>``; no external resource.

    Examples
    --------
    >>> import plotly.graph_objects as go
    >>> snippet = figure_html(go.Figure(go.Scatter(y=[1, 3, 2])))
    >>> "Plotly.newPlot" in snippet and "src=" not in snippet
    True
    """
    if not isinstance(fig_dict, dict):
        fig_dict = fig_dict.to_plotly_json()
    payload = json.loads(pio.to_json(fig_dict, validate=False))
    layout = payload.get("layout", {})
    height = int(height or layout.get("height") or 450)
    div_id = f"tb-plotly-{uuid.uuid4().hex}"
    figure = {
        "data": payload.get("data", []),
        "layout": layout,
        "frames": payload.get("frames", []),
        "config": {"responsive": True, "displaylogo": False, "typesetMath": False, **payload.get("config", {})},
    }
    # Escape "</" so a string in the figure cannot close the script element.
    spec = json.dumps(figure).replace("</", "<\\/")
    return (
        f'<div id="{div_id}" class="plotly-graph-div" style="height:{height}px;width:100%;"></div>\n'
        "<script type=\"text/javascript\">(function () {\n"
        f"  var el = document.getElementById({json.dumps(div_id)});\n"
        "  if (!window.Plotly) {\n"
        f"    el.textContent = {json.dumps(html.escape('plotly.js is not loaded on this page.'))};\n"
        "    return;\n"
        "  }\n"
        f"  window.Plotly.newPlot(el, {spec});\n"
        "})();</script>"
    )


class OfflineRenderer(PlotlyRenderer):
    """Plotly's JSON mimetype (for JupyterLab) plus offline HTML (for the book)."""

    def to_mimebundle(self, fig_dict):
        bundle = super().to_mimebundle(fig_dict)
        bundle["text/html"] = figure_html(bundle["application/vnd.plotly.v1+json"])
        return bundle


def setup():
    """Register the ``"tensorbook"`` renderer and make it plotly's default.

    Call once at the top of a chapter. Returns the renderer's name.

    Examples
    --------
    >>> import plotly.io as pio
    >>> from tensorbook import plotting
    >>> plotting.setup()
    'tensorbook'
    >>> pio.renderers.default
    'tensorbook'
    """
    pio.renderers[RENDERER_NAME] = OfflineRenderer()
    pio.renderers.default = RENDERER_NAME
    return RENDERER_NAME


def tensor_network(subscripts, *shapes, names=None, ax=None, title=None):
    """Draw the tensor-network (Penrose) diagram of an einsum specification.

    Each operand is a node; each index is a line (a *leg*). A line joining
    two nodes is an index they share, summed unless it is also in the
    output; several indices shared by the same two nodes are drawn side by
    side. A leg with a free end is an output index; a leg ending in a short
    bar is an index of one operand only that is summed away. An index shared
    by three or more operands (or by two and the output) meets at a small
    dot; a repeated index within one operand (a trace or diagonal) is a loop.
    With ``shapes``, every leg is labelled with its size too.

    Parameters
    ----------
    subscripts : str
        An einsum specification, e.g. ``"ij,jk->ik"``.
    *shapes : tuple of int, optional
        The operand shapes (default: indices unlabelled by size).
    names : sequence of str, optional
        A short name per operand (default ``A``, ``B``, ``C``, ...).
    ax : matplotlib.axes.Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from tensorbook.plotting import tensor_network
    >>> fig = tensor_network("ij,jk,k->i", (3, 4), (4, 5), (5,), names=["A", "B", "v"])
    >>> sorted(t.get_text() for t in fig.axes[0].texts if len(t.get_text()) == 1)
    ['A', 'B', 'v']
    """
    import string

    import matplotlib.pyplot as plt
    import numpy as np

    from .contraction import parse_subscripts

    if not isinstance(subscripts, str):
        raise TypeError(f"subscripts must be a string such as 'ij,jk->ik', got {type(subscripts).__name__}")
    terms = subscripts.replace(" ", "").split("->")[0].split(",")
    sized = bool(shapes)
    if not shapes:
        shapes = tuple((2,) * len(t.replace("...", "")) for t in terms)
    elif len(shapes) != len(terms):
        raise ValueError(f"shapes must give one shape per operand ({len(terms)}), got {len(shapes)}")
    inputs, output, dims = parse_subscripts(subscripts, shapes)
    n = len(inputs)
    names = list(string.ascii_uppercase[:n]) if names is None else [str(x) for x in names]
    if len(names) != n:
        raise ValueError(f"names must give one name per operand ({n}), got {len(names)}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.2, 4.2))
    else:
        fig = ax.figure
    angles = np.pi / 2 + 2 * np.pi * np.arange(n) / n
    pos = np.c_[np.cos(angles), np.sin(angles)] * (0.0 if n == 1 else 1.0)
    centre = pos.mean(axis=0)
    line = dict(color="0.25", lw=2, zorder=1)
    box = dict(boxstyle="round,pad=0.15", fc="white", ec="none")

    def label(c):
        return f"{c} ({dims[c]})" if sized else c

    def outward(point):
        away = point - centre
        return np.arctan2(away[1], away[0]) if np.hypot(*away) > 1e-9 else -np.pi / 2

    owners = {}
    for k, term in enumerate(inputs):
        for c in dict.fromkeys(term):
            owners.setdefault(c, []).append(k)
    legs = {}  # anchor key -> list of (index, capped)
    anchors = {k: pos[k] for k in range(n)}
    pairs = {}
    for c, ks in owners.items():
        free = c in output
        if len(ks) == 2 and not free:
            pairs.setdefault(tuple(ks), []).append(c)
        elif len(ks) >= 2:  # a hyperedge meets at a dot
            hub = pos[ks].mean(axis=0) + 0.25 * (0.5 + len(legs) % 3) * np.array([0.0, 1.0])
            for k in ks:
                ax.plot([pos[k][0], hub[0]], [pos[k][1], hub[1]], **line)
            ax.plot(*hub, "o", color="0.25", ms=6, zorder=2)
            anchors[c] = hub
            if free:
                legs.setdefault(c, []).append((c, False))
            else:
                ax.text(*(hub + (0.0, 0.18)), label(c), ha="center", va="center", fontsize=10, bbox=box, zorder=3)
        else:
            k = ks[0]
            if inputs[k].count(c) > 1:  # a diagonal or trace: a loop on the node
                direction = outward(pos[k]) + np.pi / 2
                middle = pos[k] + 0.34 * np.array([np.cos(direction), np.sin(direction)])
                ax.add_patch(plt.Circle(middle, 0.16, fill=False, color="0.25", lw=2, zorder=1))
                ax.text(*(pos[k] + 0.62 * np.array([np.cos(direction), np.sin(direction)])), label(c),
                        ha="center", va="center", fontsize=10)
                if free:
                    legs.setdefault(k, []).append((c, False))
            else:
                legs.setdefault(k, []).append((c, not free))
    for (i, j), shared in pairs.items():
        (x0, y0), (x1, y1) = pos[i], pos[j]
        normal = np.array([y0 - y1, x1 - x0]) / max(np.hypot(x1 - x0, y1 - y0), 1e-9)
        for t, c in enumerate(shared):
            shift = (t - (len(shared) - 1) / 2) * 0.45 * normal
            ax.plot([x0 + shift[0], x1 + shift[0]], [y0 + shift[1], y1 + shift[1]], **line)
            middle = (pos[i] + pos[j]) / 2 + shift
            ax.text(*middle, label(c), ha="center", va="center", fontsize=10, bbox=box, zorder=3)
    for key, items in legs.items():
        anchor = anchors[key]
        base = outward(anchor)
        for t, (c, capped) in enumerate(items):
            angle = base + (t - (len(items) - 1) / 2) * 0.6
            unit = np.array([np.cos(angle), np.sin(angle)])
            tip = anchor + 0.7 * unit
            ax.plot([anchor[0], tip[0]], [anchor[1], tip[1]], **line)
            if capped:  # summed within its operand: the leg ends in a bar
                bar = 0.09 * np.array([-unit[1], unit[0]])
                ax.plot([tip[0] - bar[0], tip[0] + bar[0]], [tip[1] - bar[1], tip[1] + bar[1]], **line)
            ax.text(*(anchor + 0.95 * unit), label(c), ha="center", va="center", fontsize=10)
    for k in range(n):
        ax.add_patch(plt.Circle(pos[k], 0.2, color="#4c72b0", zorder=4))
        ax.text(*pos[k], names[k], color="white", ha="center", va="center", fontsize=12,
                fontweight="bold", zorder=5)
    ax.set_aspect("equal")
    ax.set_xlim(-2.1, 2.1)
    ax.set_ylim(-2.0, 2.0)
    ax.axis("off")
    ax.set_title(title if title is not None else f"{','.join(inputs)}->{output}")
    return fig
