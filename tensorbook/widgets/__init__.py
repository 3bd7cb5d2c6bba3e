"""Interactive explorers for the chapters, live in JupyterLab and working in the static book.

Each explorer is a pure function from a state (the values of its controls) to
a figure, plus its controls and two drivers (see :mod:`tensorbook.widgets._frame`):
in a kernel, ipywidgets redraw it as the controls move; in the book build, the
states on each control's grid are drawn once by the same code and embedded, and
the page switches between them. One module per chapter.
"""

from ._frame import Dropdown, Explorer, ExplorerWidget, Slider
from .forecasting import forecast_explorer, tt_parameter_explorer
from .layers import layer_explorer
from .low_rank import low_rank_explorer
from .moments import moment_explorer
from .operations import CONTRACTIONS, contraction_explorer
from .scale import scaling_explorer
from .tensors import slice_explorer
from .topics import power_method_explorer

__all__ = ["slice_explorer", "contraction_explorer", "CONTRACTIONS", "low_rank_explorer", "moment_explorer",
           "power_method_explorer", "layer_explorer", "tt_parameter_explorer", "forecast_explorer", "scaling_explorer",
           "Explorer", "ExplorerWidget", "Dropdown", "Slider"]
