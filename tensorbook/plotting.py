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

__all__ = ["setup", "OfflineRenderer", "figure_html"]

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
