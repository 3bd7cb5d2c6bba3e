"""A myst-nb mime-renderer plugin (entry point ``myst_nb.mime_renderers``).

Two MIME types of tensorbook's outputs:

* ``tensorbook.plotting`` emits each plotly figure twice: as plotly's JSON
  mimetype for JupyterLab and as offline HTML for the book. myst-nb does not
  know the JSON mimetype and would warn about every figure (the book builds
  with warnings as errors). The JSON is marked handled (drawn by its HTML
  sibling) and given no priority, so the HTML is always chosen.
* An explorer (``tensorbook.widgets``) displayed in the book build also
  carries its static version (``application/vnd.tensorbook.explorer+html``,
  see ``tensorbook.widgets._frame``): in HTML builds it goes before the live
  widget's view, so the page shows the explorer that works without a kernel.
  Other builders ignore it.
"""

PLOTLY_MIME = "application/vnd.plotly.v1+json"
EXPLORER_MIME = "application/vnd.tensorbook.explorer+html"


class PlotlyJsonHandledByHtml:
    mime_priority_overrides = [("*", PLOTLY_MIME, None), ("*", EXPLORER_MIME, None),
                               *((builder, EXPLORER_MIME, 5) for builder in ("html", "dirhtml", "singlehtml"))]

    @staticmethod
    def handle_mime(renderer, data, inline):
        if data.mime_type == PLOTLY_MIME:
            return []
        if data.mime_type == EXPLORER_MIME:
            from docutils import nodes

            return [nodes.raw(text=data.string, format="html", classes=["output", "tb-explorer-output"])]
        return None
