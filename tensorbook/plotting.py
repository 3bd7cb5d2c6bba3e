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


def tensor_network(subscripts, *shapes, ax=None, title=None):
    """Draw the tensor-network (Penrose) diagram of an einsum specification.

    Each operand is a node; each index is a line. A line joining two nodes is
    an index they share and that is summed (contracted) unless it also
    appears in the output; a line with a free end is an output index; an
    index shared by three or more operands meets at a small dot; a repeated
    index within one operand (a trace or diagonal) is a loop. With
    ``shapes``, every line is labelled with its size too.

    Parameters
    ----------
    subscripts : str
        An einsum specification, e.g. ``"ij,jk->ik"``.
    *shapes : tuple of int, optional
        The operand shapes (default: every index of size 2, labels only).
    ax : matplotlib.axes.Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from tensorbook.plotting import tensor_network
    >>> fig = tensor_network("ij,jk,k->i", (3, 4), (4, 5), (5,))
    >>> sorted(t.get_text() for t in fig.axes[0].texts if len(t.get_text()) == 1)
    ['A', 'B', 'C']
    """
    import string

    import matplotlib.pyplot as plt
    import numpy as np

    from .contraction import parse_subscripts

    if not isinstance(subscripts, str):
        raise TypeError(f"subscripts must be a string such as 'ij,jk->ik', got {type(subscripts).__name__}")
    terms = subscripts.replace(" ", "").split("->")[0].split(",")
    if not shapes:
        shapes = tuple((2,) * len(t.replace("...", "")) for t in terms)
    elif len(shapes) != len(terms):
        raise ValueError(f"shapes must give one shape per operand ({len(terms)}), got {len(shapes)}")
    inputs, output, dims = parse_subscripts(subscripts, shapes)
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.2, 4.2))
    else:
        fig = ax.figure
    n = len(inputs)
    names = string.ascii_uppercase
    angles = np.pi / 2 + 2 * np.pi * np.arange(n) / n
    pos = np.c_[np.cos(angles), np.sin(angles)] * (0.0 if n == 1 else 1.0)

    def label(c):
        return f"{c} ({dims[c]})" if shapes else c

    owners = {}
    for k, term in enumerate(inputs):
        for c in dict.fromkeys(term):
            owners.setdefault(c, []).append(k)
    line = dict(color="0.25", lw=2, zorder=1)
    for c, ks in owners.items():
        free = c in output
        if len(ks) == 2 and not free:
            (x0, y0), (x1, y1) = pos[ks[0]], pos[ks[1]]
            ax.plot([x0, x1], [y0, y1], **line)
            ax.text((x0 + x1) / 2, (y0 + y1) / 2, label(c), ha="center", va="center", fontsize=10,
                    bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none"), zorder=3)
            continue
        # a hyperedge (3+ operands, or 2 operands and the output) meets at a dot
        if len(ks) >= 2:
            hub = pos[ks].mean(axis=0) + (0.0, 0.18 * (1 + list(owners).index(c) % 3))
            for k in ks:
                ax.plot([pos[k][0], hub[0]], [pos[k][1], hub[1]], **line)
            ax.plot(*hub, "o", color="0.25", ms=5, zorder=2)
            anchor = hub
        else:
            anchor = pos[ks[0]]
        if free:
            spokes = [o for o in output if o in owners and len(owners[o]) == 1 and owners[o][0] == ks[0]]
            away = anchor - (pos.mean(axis=0) if n > 1 else (0.0, -1.0))
            base = np.arctan2(away[1], away[0]) if np.hypot(*away) > 1e-9 else -np.pi / 2
            spread = (spokes.index(c) - (len(spokes) - 1) / 2) * 0.6 if c in spokes else 0.0
            tip = anchor + 0.75 * np.array([np.cos(base + spread), np.sin(base + spread)])
            ax.plot([anchor[0], tip[0]], [anchor[1], tip[1]], **line)
            ax.text(*(anchor + 0.95 * (tip - anchor) / 0.75), label(c), ha="center", va="center", fontsize=10)
        if inputs[ks[0]].count(c) > 1:  # a trace / diagonal within one operand
            loop = plt.Circle(anchor + (0.0, 0.32), 0.2, fill=False, **{"color": "0.25", "lw": 2})
            ax.add_patch(loop)
            ax.text(*(anchor + (0.0, 0.6)), label(c), ha="center", va="center", fontsize=10)
    for k, term in enumerate(inputs):
        ax.add_patch(plt.Circle(pos[k], 0.2, color="#4c72b0", zorder=4))
        ax.text(*pos[k], names[k % 26], color="white", ha="center", va="center", fontsize=12,
                fontweight="bold", zorder=5)
    ax.set_aspect("equal")
    ax.set_xlim(-2.1, 2.1)
    ax.set_ylim(-2.0, 2.0)
    ax.axis("off")
    ax.set_title(title if title is not None else f"{','.join(inputs)}->{output}")
    return fig
