"""A myst-nb mime-renderer plugin (entry point ``myst_nb.mime_renderers``).

``tensorbook.plotting`` emits each plotly figure twice: as plotly's JSON
mimetype for JupyterLab and as offline HTML for the book. myst-nb does not know
the JSON mimetype and would warn about every figure (the book builds with
warnings as errors). This plugin tells it that the JSON is handled (drawn by
its HTML sibling) and gives it no priority, so the HTML is always chosen.
"""

PLOTLY_MIME = "application/vnd.plotly.v1+json"


class PlotlyJsonHandledByHtml:
    mime_priority_overrides = [("*", PLOTLY_MIME, None)]

    @staticmethod
    def handle_mime(renderer, data, inline):
        if data.mime_type == PLOTLY_MIME:
            return []
        return None
