"""Chapter 1's explorer: the slices of a tensor along any mode."""

import numpy as np

from .._validation import as_array
from ._frame import Dropdown, Explorer, Slider, live


def _slice_image(tensor, mode, index):
    """The slice ``tensor[..., index, ...]`` (along ``mode``) as an image array."""
    image = np.take(tensor, index, axis=mode)
    if image.ndim == 3 and image.shape[-1] == 3 and mode != tensor.ndim - 1:
        return image  # an RGB slice of a colour tensor
    return image if image.ndim == 2 else image.reshape(image.shape[0], -1)


def slice_explorer(tensor, mode_names=None, *, title="", cmap="viridis", figsize=(4.5, 4.5)):
    """A widget to browse the slices of a 3-way (or RGB 4-way) tensor along any mode.

    A dropdown picks the mode to slice along and a slider the index; the slice
    is drawn with matplotlib. For a 4-way tensor whose last mode has size 3
    (a video: time x height x width x colour) slices along the first three
    modes keep their colours. In the static book the slider offers about 16
    evenly spaced indices of each mode.

    Parameters
    ----------
    tensor : array_like, 3-D or 4-D
    mode_names : sequence of str, optional
        One name per mode, shown in the dropdown.
    title : str
    cmap : str
        Colormap for single-channel slices.
    figsize : tuple of float

    Returns
    -------
    ExplorerWidget
        An ``ipywidgets.VBox``: ``.children[0]`` is the mode dropdown,
        ``.children[1]`` the index slider, ``.children[2]`` the output.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorbook.widgets import slice_explorer
    >>> w = slice_explorer(np.zeros((4, 5, 6)), ["row", "column", "band"])
    >>> w.children[1].max  # slider over mode 0 by default
    3
    """
    tensor = as_array(tensor, "tensor")
    if tensor.ndim not in (3, 4) or (tensor.ndim == 4 and tensor.shape[-1] != 3):
        raise ValueError(
            "tensor must be 3-D, or 4-D with a last mode of size 3 (colour), "
            f"got shape {tensor.shape}"
        )
    n_modes = tensor.ndim if tensor.ndim == 3 else 3
    if mode_names is None:
        mode_names = [f"mode {m}" for m in range(n_modes)]
    mode_names = list(mode_names)
    if len(mode_names) != n_modes:
        raise ValueError(f"mode_names must have {n_modes} entries, got {len(mode_names)}")
    lo, hi = float(np.min(tensor)), float(np.max(tensor))

    def draw(state):
        import matplotlib.pyplot as plt

        m, i = state["mode"], state["index"]
        image = _slice_image(tensor, m, i)
        fig, ax = plt.subplots(figsize=figsize)
        if image.ndim == 3:
            ax.imshow(image if image.dtype == np.uint8 else np.clip(image, 0, 1))
        else:
            ax.imshow(image, cmap=cmap, vmin=lo, vmax=hi, aspect="auto")
        ax.set_title(f"{title} {mode_names[m]} = {i}: slice of shape {image.shape}".strip())
        return fig

    controls = [
        Dropdown("mode", "slice along",
                 [(f"{name} (mode {m}, size {tensor.shape[m]})", m) for m, name in enumerate(mode_names)], 0),
        Slider("index", "index", lambda state: range(tensor.shape[state["mode"]]), 0),
    ]
    caption = (lambda state: f"{title} {mode_names[state['mode']]} = {state['index']} "
               f"(slice along mode {state['mode']})".strip())
    return live(Explorer(controls, draw, caption=caption, figure_alt="a slice of the tensor"))
