"""One explorer design: a pure function from a state to a figure, its controls, and two drivers.

An :class:`Explorer` is

* its **controls**, in order: :class:`Dropdown` and :class:`Slider` objects.
  A control's values may depend on the controls before it (a slider over the
  slices of whichever mode the dropdown picked): ``values`` is then a
  function of the state so far;
* ``draw(state)``: the figure (matplotlib) of a state, a dict from control
  names to values; it reads nothing else and changes nothing;
* ``text(state)`` (optional): a line of HTML shown above the figure;
* ``caption(state)``: a plain sentence naming the state.

Two drivers show it:

* **live** (:func:`live`, JupyterLab): ipywidgets controls whose changes call
  ``draw`` in the kernel and show the figure in an ``Output``, over the full
  range of every control;
* **static** (:func:`static_html`, the published book, no kernel): the build
  enumerates the states on each control's static grid (every value, or about
  16 evenly spaced ones for a long slider, said under the control), calls the
  same ``draw`` for each, and embeds the images (WebP) with the controls; the
  book's script ``tensorbook-explorer.js`` (``book/_ext``) switches between
  them as the reader moves any control, combinations included.

:class:`ExplorerWidget`, what the public functions return, is the live widget
(an ``ipywidgets.VBox``). When the environment variable
``TENSORBOOK_STATIC_EXPLORERS`` is ``1`` (the book build sets it), its display
also carries the static version under its own MIME type, which the book
renders in place of the live widget and JupyterLab ignores.
"""

import base64
import html
import io
import json
import os
import uuid
from dataclasses import dataclass
from typing import Any, Callable

import ipywidgets as widgets
import numpy as np

STATIC_ENV = "TENSORBOOK_STATIC_EXPLORERS"
STATIC_MIME = "application/vnd.tensorbook.explorer+html"
#: A slider with more values than this shows about this many in the static book.
STATIC_STEPS = 16
#: Resolution and WebP quality of the static images.
STATIC_DPI = 72
STATIC_QUALITY = 80


@dataclass
class Dropdown:
    """A choice among labelled options: ``options`` is a list of ``(label, value)`` pairs or of values."""

    name: str
    description: str
    options: Any
    value: Any = None
    width: str = "initial"

    def values(self, state):
        return [value for _, value in self.labelled(state)]

    def labelled(self, state):
        options = self.options(state) if callable(self.options) else self.options
        return [o if isinstance(o, tuple) and len(o) == 2 else (str(o), o) for o in options]


@dataclass
class Slider:
    """A slider over ``values`` (a list, or a function of the state so far).

    ``kind``: ``"int"`` (evenly spaced integers: an ``IntSlider``),
    ``"float"`` (a ``FloatSlider``) or ``"selection"`` (any labels: a
    ``SelectionSlider``). ``static`` optionally gives the static book's grid
    (a subset of the values, or a function of the state).
    """

    name: str
    description: str
    values: Any
    value: Any = None
    kind: str = "int"
    static: Any = None
    readout_format: str = ".2f"
    width: str = "initial"
    format: Callable[[Any], str] = None

    def all_values(self, state):
        return list(self.values(state) if callable(self.values) else self.values)

    def label(self, value):
        if self.format is not None:
            return self.format(value)
        if self.kind == "float":
            return format(value, self.readout_format)
        return str(value)


@dataclass
class Explorer:
    """Controls, a pure ``draw(state)``, optional ``text(state)`` and ``caption(state)``."""

    controls: list
    draw: Callable[[dict], Any]
    text: Callable[[dict], str] = None
    caption: Callable[[dict], str] = None
    figure_alt: str = "the explorer's figure"

    def default_caption(self, state):
        return "; ".join(f"{c.description} = {_label(c, state, state[c.name])}" for c in self.controls)

    def describe(self, state):
        return (self.caption or self.default_caption)(state)


def _label(control, state, value):
    if isinstance(control, Dropdown):
        return next((label for label, v in control.labelled(state) if v == value), str(value))
    return control.label(value)


def _valid(control, state, value):
    """``value`` if the control allows it given ``state``, else the nearest allowed value (or the first)."""
    values = control.values(state) if isinstance(control, Dropdown) else control.all_values(state)
    if value in values:
        return value
    if isinstance(control, Slider) and control.kind in ("int", "float") and values:
        return min(values, key=lambda v: abs(v - value))
    return values[0]


def initial_state(explorer):
    """The state the controls start in: each control's ``value`` (or its first), made valid in order."""
    state = {}
    for control in explorer.controls:
        values = control.values(state) if isinstance(control, Dropdown) else control.all_values(state)
        if not values:
            raise ValueError(f"the control {control.description!r} has no values")
        state[control.name] = _valid(control, state, values[0] if control.value is None else control.value)
    return state


# --------------------------------------------------------------------------
# live: ipywidgets in a kernel
# --------------------------------------------------------------------------


def _make_widget(control, state):
    style = {"description_width": control.width}
    value = state[control.name]
    if isinstance(control, Dropdown):
        return widgets.Dropdown(options=control.labelled(state), value=value, description=control.description,
                                style=style)
    values = control.all_values(state)
    if control.kind == "selection":
        return widgets.SelectionSlider(options=values, value=value, description=control.description,
                                       continuous_update=False, style=style)
    step = values[1] - values[0] if len(values) > 1 else 1
    if control.kind == "int":
        return widgets.IntSlider(value=value, min=values[0], max=values[-1], step=step,
                                 description=control.description, continuous_update=False, style=style)
    return widgets.FloatSlider(value=value, min=values[0], max=values[-1], step=step,
                               description=control.description, continuous_update=False,
                               readout_format=control.readout_format, style=style)


def _set_domain(widget, control, state):
    """Give a dependent control's widget the values allowed by ``state`` (keeping its value if it can)."""
    values = control.values(state) if isinstance(control, Dropdown) else control.all_values(state)
    keep = _valid(control, state, widget.value)
    if isinstance(control, Dropdown):
        widget.options = control.labelled(state)
    elif control.kind == "selection":
        widget.options = values
    else:
        if values[-1] < widget.min:
            widget.min = values[0]
            widget.max = values[-1]
        else:
            widget.max = values[-1]
            widget.min = values[0]
    widget.value = keep
    return keep


class ExplorerWidget(widgets.VBox):
    """An explorer's live widget: a VBox of its controls, its text (if any) and its output.

    In the book build (``TENSORBOOK_STATIC_EXPLORERS=1``) its display also
    carries the static version, under :data:`STATIC_MIME`.
    """

    def __init__(self, *, explorer, **kwargs):
        super().__init__(**kwargs)
        self.explorer = explorer

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        if os.environ.get(STATIC_ENV) == "1":
            bundle = dict(bundle or {})
            bundle[STATIC_MIME] = static_html(self.explorer)
        return bundle


def live(explorer):
    """The live widget: controls, an HTML line if the explorer has ``text``, and an ``Output`` with the figure."""
    state = initial_state(explorer)
    controls = [_make_widget(c, state) for c in explorer.controls]
    text = widgets.HTML() if explorer.text is not None else None
    out = widgets.Output()
    busy = [False]

    def redraw():
        import IPython
        import IPython.display
        import matplotlib.pyplot as plt

        current = dict(state)
        if text is not None:
            text.value = explorer.text(current)
        if IPython.get_ipython() is None:  # outside IPython there is nowhere to draw
            return
        with out:
            out.clear_output(wait=True)
            fig = explorer.draw(current)
            if fig is not None:
                IPython.display.display(fig)
                plt.close(fig)

    def on_change(index):
        def handler(change):
            if busy[0]:
                return
            busy[0] = True
            try:
                state[explorer.controls[index].name] = change["new"]
                for later, widget in zip(explorer.controls[index + 1:], controls[index + 1:]):
                    state[later.name] = _set_domain(widget, later, state)
            finally:
                busy[0] = False
            redraw()
        return handler

    for i, widget in enumerate(controls):
        widget.observe(on_change(i), names="value")
    redraw()
    children = [*controls, *([text] if text is not None else []), out]
    return ExplorerWidget(children=children, explorer=explorer)


# --------------------------------------------------------------------------
# static: every state of the grid, embedded
# --------------------------------------------------------------------------


def static_grid(control, state):
    """The values a control takes in the static book, given the state of the controls before it."""
    values = control.values(state) if isinstance(control, Dropdown) else control.all_values(state)
    if isinstance(control, Dropdown):
        return values
    if control.static is not None:
        wanted = set(control.static(state) if callable(control.static) else control.static)
        wanted.add(control.value)  # the value the live widget starts at is always on the grid
        return [v for v in values if v in wanted] or values[:1]
    if len(values) <= STATIC_STEPS + 4:
        return values
    picks = np.unique(np.round(np.linspace(0, len(values) - 1, STATIC_STEPS)).astype(int))
    default = control.value if control.value in values else None
    chosen = {int(i) for i in picks} | ({values.index(default)} if default is not None else set())
    return [values[i] for i in sorted(chosen)]


def sparse_grid(largest, value, steps=None):
    """A static grid for an integer slider from 1 to ``largest``: ``steps`` (default 1, 4, 16, ...) up to
    ``largest``, with ``largest`` and the starting ``value``."""
    if steps is None:
        steps = [4**i for i in range(int(np.log(max(largest, 1)) / np.log(4)) + 1)]
    return sorted({s for s in steps if s <= largest} | {largest, value})


def figure_to_webp(fig, dpi=STATIC_DPI, quality=STATIC_QUALITY):
    """A matplotlib figure as a ``data:image/webp`` URI (drawn once, at ``dpi``, straight from the canvas)."""
    from PIL import Image

    fig.set_dpi(dpi)
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[:, :, :3]
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="WEBP", quality=quality, method=3)
    return "data:image/webp;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def _states(explorer):
    """Every state of the static grid, (indices, state) in order; each control's grid labels by the indices of
    the controls before it; and for each slider the (static, live) numbers of values where they differ."""
    grids = [dict() for _ in explorer.controls]
    coarser = {}

    def walk(j, state, prefix):
        if j == len(explorer.controls):
            yield prefix, dict(state)
            return
        control = explorer.controls[j]
        grid = static_grid(control, state)
        grids[j][",".join(map(str, prefix))] = [_label(control, state, v) for v in grid]
        if isinstance(control, Slider) and len(grid) < len(control.all_values(state)):
            coarser.setdefault(j, (len(grid), len(control.all_values(state))))
        for i, value in enumerate(grid):
            state[control.name] = value
            yield from walk(j + 1, state, prefix + (i,))
        del state[control.name]

    states = list(walk(0, {}, ()))
    return states, grids, coarser


def _initial_key(explorer, states):
    target = initial_state(explorer)
    best, best_score = states[0][0], None
    for key, state in states:  # the grid state closest to the live start (exactly it when on the grid)
        score = sum(state[c.name] != target[c.name] for c in explorer.controls)
        if best_score is None or score < best_score:
            best, best_score = key, score
    return best


def _render(explorer, state):
    """One state's caption, image and text: the same ``draw`` and ``text`` as the live widget's."""
    import matplotlib.pyplot as plt

    entry = {"caption": explorer.describe(state)}
    fig = explorer.draw(state)
    if fig is not None:
        entry["img"] = figure_to_webp(fig)
        plt.close(fig)
    if explorer.text is not None:
        entry["text"] = explorer.text(state)
    return entry


_JOB = None  # (explorer, states) for the forked workers of _render_all


def _render_job(i):
    explorer, states = _JOB
    return _render(explorer, states[i][1])


def _render_all(explorer, states):
    """Every state rendered, in order. With many states and several cores, by forked worker processes
    (they inherit the explorer: its draw may be a closure); the images are the same either way."""
    import multiprocessing
    import warnings

    global _JOB
    workers = min(os.cpu_count() or 1, 4, len(states) // 4)
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [_render(explorer, state) for _, state in states]
    _JOB = (explorer, states)
    try:
        with warnings.catch_warnings():  # Python >= 3.12 warns about forking a threaded process (the kernel)
            warnings.simplefilter("ignore", DeprecationWarning)
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                return pool.map(_render_job, range(len(states)), chunksize=4)
    finally:
        _JOB = None


def static_html(explorer):
    """The static explorer: its controls as HTML, and every state's image, text and caption, embedded."""
    states, grids, coarser = _states(explorer)
    rendered = {",".join(map(str, key)): entry for (key, _), entry in zip(states, _render_all(explorer, states))}
    initial = _initial_key(explorer, states)
    controls = []
    for j, control in enumerate(explorer.controls):
        spec = {"name": control.name, "description": control.description,
                "kind": "select" if isinstance(control, Dropdown) else "range", "grids": grids[j]}
        if j in coarser:
            shown, total = coarser[j]
            spec["note"] = (f"static book: {shown} of the live slider's {total} values "
                            "(run the notebook for all of them)")
        controls.append(spec)
    payload = {"controls": controls, "states": rendered, "initial": ",".join(map(str, initial))}
    uid = f"tbx-{uuid.UUID(int=_digest(payload)).hex[:12]}"
    data = json.dumps(payload, separators=(",", ":")).replace("</", "<\\/")
    first = rendered[payload["initial"]]
    parts = [f'<div class="tb-explorer" id="{uid}">',
             '<div class="tb-explorer-controls"></div>',
             f'<p class="tb-explorer-caption">{html.escape(first["caption"])}</p>']
    if "text" in first:
        parts.append(f'<div class="tb-explorer-text">{first["text"]}</div>')
    if "img" in first:
        parts.append(f'<img class="tb-explorer-figure" alt="{html.escape(explorer.figure_alt)}" src="{first["img"]}">')
    parts.append(f'<script type="application/json" class="tb-explorer-states">{data}</script>')
    parts.append('<noscript>This explorer needs JavaScript to switch between its states.</noscript></div>')
    return "".join(parts)


def _digest(payload):
    import hashlib

    return int.from_bytes(hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).digest()[:16], "big")
