"""Chapter helpers: offline data loaders, the plotly renderer, the slice explorer."""

import json
import re

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from tensorbook import datasets, plotting, widgets


def test_photo_is_the_grace_hopper_portrait():
    photo = datasets.load_photo()
    assert photo.shape == (600, 512, 3) and photo.dtype == np.uint8
    # recorded from the decoded JPEG; the tolerance absorbs JPEG decoder differences
    assert abs(photo.mean() - 80.45) < 0.5
    assert photo.min() == 0 and photo.max() == 255


def test_video_frames_are_crops_of_the_photo():
    photo = datasets.load_photo()
    video = datasets.load_video(5, (100, 80))
    assert video.shape == (5, 100, 80, 3)
    np.testing.assert_array_equal(video[0], photo[250:350, :80])
    np.testing.assert_array_equal(video[-1], photo[250:350, -80:])
    # a horizontal pan: consecutive frames see the same pixels, shifted by (512 - 80) / 8
    video = datasets.load_video(9, (100, 80))
    np.testing.assert_array_equal(video[1, :, : 80 - 54], video[0, :, 54:])
    with pytest.raises(ValueError, match="frame_shape must be .* no larger than"):
        datasets.load_video(3, (700, 10))
    with pytest.raises(ValueError, match="n_frames must contain positive integers"):
        datasets.load_video(0)
    with pytest.raises(ValueError, match=r"frame_shape must be \(height, width\).*got \(10, 10, 3\)"):
        datasets.load_video(3, (10, 10, 3))


def test_vqa_features():
    ex = datasets.vqa_example("what colour is the jacket", grid=2)
    photo = datasets.load_photo() / 255.0
    np.testing.assert_allclose(ex["image_features"][:3], photo[:300, :256].mean(axis=(0, 1)))
    vocab = datasets.QUESTION_VOCABULARY
    assert ex["question_features"][vocab.index("colour")] == 1
    assert ex["question_features"].sum() == 5
    with pytest.raises(ValueError, match=r"unknown words \['zebra'\]"):
        datasets.vqa_example("what colour is the zebra")
    with pytest.raises(TypeError, match="question must be a string, got int"):
        datasets.vqa_example(3)
    with pytest.raises(ValueError, match=r"grid must be at most 64 \(cells of at least 8 x 8 pixels\), got 1000"):
        datasets.vqa_example(grid=1000)


def test_renderer_emits_json_and_offline_html():
    plotting.setup()
    fig = go.Figure(go.Scatter(y=[1, 3, 2], name="</script><b>x"))
    bundle = pio.renderers["tensorbook"].to_mimebundle(fig.to_plotly_json())
    assert set(bundle) == {"application/vnd.plotly.v1+json", "text/html"}
    html = bundle["text/html"]
    assert "src=" not in html and "http" not in html          # nothing fetched
    assert html.count("</script>") == 1                          # the trace name cannot break out
    spec = re.search(r"newPlot\(el, (.*)\);\n\}\)\(\);</script>", html, re.S).group(1)
    data = json.loads(spec.replace("<\\/", "</"))
    assert data["data"][0]["y"] == [1, 3, 2]


def test_slice_explorer_tracks_mode_sizes():
    x = np.arange(60.0).reshape(3, 4, 5)
    w = widgets.slice_explorer(x, ["a", "b", "c"])
    mode, index = w.children[0], w.children[1]
    assert index.max == 2
    mode.value = 2
    assert index.max == 4
    index.value = 4
    mode.value = 1
    assert index.max == 3 and index.value == 3
    np.testing.assert_array_equal(widgets.tensors._slice_image(x, 1, 3), x[:, 3, :])
    rgb = np.zeros((2, 6, 7, 3), dtype=np.uint8)
    assert widgets.tensors._slice_image(rgb, 0, 1).shape == (6, 7, 3)


@pytest.mark.parametrize(
    "tensor, names, match",
    [
        (np.zeros((2, 3)), None, "tensor must be 3-D"),
        (np.zeros((2, 3, 4, 5)), None, "last mode of size 3"),
        (np.zeros((2, 3, 4)), ["a"], "mode_names must have 3 entries, got 1"),
    ],
)
def test_slice_explorer_rejects_bad_input(tensor, names, match):
    with pytest.raises(ValueError, match=match):
        widgets.slice_explorer(tensor, names)


def test_low_rank_explorer_checks_its_image_and_switches_method():
    import tensorbook as tb
    from tensorbook.widgets import low_rank_explorer

    X = np.random.default_rng(0).random((8, 6, 3))
    models = {"CP": {r: tb.cp_als(X, r, random_state=0) for r in (1, 2)},
              "Tucker": {r: tb.tucker(X, (r, r, 3)) for r in (1, 2, 3)}}
    w = low_rank_explorer(X, models)
    w.children[0].value = "Tucker"  # the slider now offers Tucker's ranks
    assert w.children[1].options == (1, 2, 3)
    with pytest.raises(ValueError, match=r"original must hold colour values in \[0, 1\]"):
        low_rank_explorer(X * 255, models)


def _numbers_in(html):
    """The integers written with thousands separators (or plain) in a widget's text, in order."""
    return [int(n.replace(",", "")) for n in re.findall(r"<b>([\d,]+)</b>", html)]


def test_tt_parameter_explorer_shows_the_counts_of_n_parameters():
    from tensorbook.forecast import n_parameters
    from tensorbook.widgets import tt_parameter_explorer

    w = tt_parameter_explorer(n_features=3, hidden_size=8)
    cell, lags, order, rank, text = w.children[:5]
    assert (cell.value, lags.value, order.value, rank.value) == ("tlstm", 2, 2, 4)
    for c, L, P, r in [("tlstm", 2, 2, 4), ("trnn", 3, 2, 4), ("trnn", 3, 4, 4), ("tlstm", 1, 3, 2), ("tlstm", 5, 6, 16)]:
        cell.value, lags.value, order.value, rank.value = c, L, P, r
        kw = dict(n_lags=L, order=P, tt_rank=r)
        assert _numbers_in(text.value) == [n_parameters(c, 3, 8, **kw), n_parameters(c, 3, 8, **kw, dense=True)]
        assert f"an LSTM of the same H has {n_parameters('lstm', 3, 8):,}" in text.value
        assert f"(S = LH + 1 = {8 * L + 1})" in text.value
    # a dense transition of order 6 with 5 lags: (5 * 8 + 1)**6 * 32 entries per cell, shown exactly
    assert _numbers_in(text.value)[1] > 2 * 41**6 * 32


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(cell="lstm"), "cell must be 'trnn' or 'tlstm'"),
        (dict(order=7), r"order must be at most 6 \(the largest value on its slider\), got 7"),
        (dict(tt_rank=0), "tt_rank must be an integer >= 1, got 0"),
        (dict(max_lags=2.5), "max_lags must be an integer >= 1"),
    ],
)
def test_tt_parameter_explorer_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        widgets.tt_parameter_explorer(**kwargs)


def test_forecast_explorer_pairs_each_step_with_its_k_step_ahead_forecast():
    rng = np.random.default_rng(0)
    series = rng.standard_normal((60, 2))
    start, n_origins, max_h = 30, 25, 4
    # row i forecasts series[start + i + k - 1] at horizon k: the truth plus a known error 10 * k
    exact = np.stack([series[start + i: start + i + max_h] for i in range(n_origins)])
    shifted = exact + 10.0 * np.arange(1, max_h + 1)[None, :, None]
    w = widgets.forecast_explorer(series, {"exact": exact, "shifted": shifted}, start=start, horizon=3,
                                  feature_names=["a", "b"])
    pick, slider, text = w.children[:3]
    assert (pick.value, slider.max, slider.value) == ("exact", max_h, 3)
    # steps that every horizon forecasts: start + max_h - 1 to start + n_origins - 1
    assert "RMSE over steps 33 to 54: <b>exact 0</b>, shifted 30</p>" in text.value
    slider.value = 1
    pick.value = "shifted"
    assert "exact 0, <b>shifted 10</b>" in text.value
    np.testing.assert_array_equal(widgets.forecasting._k_step_ahead(exact, start, 2, 33, 55), series[33:55])
    w = widgets.forecast_explorer(series, {"exact": exact}, start=start, stretch=5)
    assert "steps 33 to 37" in w.children[2].value
    times = np.arange("2024-01-01T00", 60, dtype="datetime64[h]")
    w = widgets.forecast_explorer(series, {"exact": exact}, start=start, stretch=5, times=times)
    assert "RMSE over 2024-01-02T09 to 2024-01-02T13" in w.children[2].value


@pytest.mark.parametrize(
    "forecasts, kwargs, match",
    [
        ({}, {}, "forecasts must be a non-empty dict"),
        ({"m": np.zeros((5, 2, 3))}, {}, r"must have shape \(n_origins, max_horizon, 2\)"),
        ({"m": np.zeros((5, 2, 2)), "n": np.zeros((6, 2, 2))}, {}, "every forecast must have the same shape"),
        ({"m": np.zeros((5, 2, 2))}, dict(horizon=3), "horizon must be at most max_horizon = 2, got 3"),
        ({"m": np.zeros((5, 2, 2))}, dict(model="x"), r"model must be one of \['m'\]"),
        ({"m": np.zeros((5, 6, 2))}, {}, "no time step has a forecast at every horizon"),
        ({"m": np.zeros((5, 2, 2))}, dict(start=9), "beyond the end of series"),
        ({"m": np.zeros((5, 2, 2))}, dict(times=np.arange(3)), r"times must have one entry per time step"),
    ],
)
def test_forecast_explorer_rejects_bad_input(forecasts, kwargs, match):
    with pytest.raises(ValueError, match=match):
        widgets.forecast_explorer(np.zeros((12, 2)), forecasts, **{"start": 4, **kwargs})


def _drawn_figures(monkeypatch):
    """Make the widgets draw as if in IPython, and collect the matplotlib figures they display."""
    import IPython
    import IPython.display
    import matplotlib.pyplot as plt

    class Shell:  # enough of an IPython shell for ipywidgets' Output; an error while drawing fails the test
        kernel = None

        def showtraceback(self, exc_info, tb_offset=0):
            raise exc_info[1]

    plt.switch_backend("Agg")  # before get_ipython is replaced: matplotlib asks it when it picks a backend
    figures = []
    monkeypatch.setattr(IPython, "get_ipython", Shell)
    monkeypatch.setattr(IPython.display, "display", lambda obj, *args, **kwargs: figures.append(obj))
    return figures


def test_scaling_explorer_draws_the_numbers_it_is_given(monkeypatch):
    figures = _drawn_figures(monkeypatch)
    runs = {"in process": {"chunks": [2, 4, 8], "seconds": [0.5, 0.4, 0.8], "memory_mb": [60.0, 30.0, 15.0]},
            "threads": {"chunks": [2, 4, 8], "seconds": [0.25, 0.5, 1.0], "memory_mb": [120.0, 61.0, 31.0]},
            "cluster": {"chunks": [2, 4, 8], "seconds": [2.0, 4.0, 5.0], "memory_mb": [5.0, 5.5, 6.0]}}
    w = widgets.scaling_explorer(runs, 40_000, reference={"seconds": 0.2, "memory_mb": 100.0})
    pick, slider, text = w.children[:3]
    assert (pick.value, slider.min, slider.max, slider.value) == ("in process", 0, 2, 0)
    for name, index in [("in process", 0), ("threads", 2), ("cluster", 1), ("threads", 1)]:
        pick.value, slider.value = name, index
        left, right = figures[-1].axes
        # left: the throughput of every scheduler at the chosen number of chunks, in the order given
        assert [t.get_text() for t in left.get_xticklabels()] == list(runs)
        np.testing.assert_allclose([bar.get_height() for bar in left.patches],
                                   [40_000 / runs[m]["seconds"][index] for m in runs])
        # right: the chosen scheduler's peak memory at every number of chunks
        assert [t.get_text() for t in right.get_xticklabels()] == ["2", "4", "8"]
        np.testing.assert_allclose([bar.get_height() for bar in right.patches], runs[name]["memory_mb"])
        # the chosen scheduler and the chosen number of chunks stand out: their bars alone have their colour
        for ax, chosen in ((left, list(runs).index(name)), (right, index)):
            colours = [bar.get_facecolor() for bar in ax.patches]
            assert colours.count(colours[chosen]) == 1
        # the reference, as dashed lines: its throughput and its memory
        assert left.lines[0].get_ydata()[0] == 40_000 / 0.2 and right.lines[0].get_ydata()[0] == 100.0
        seconds, memory = runs[name]["seconds"][index], runs[name]["memory_mb"][index]
        assert text.value == (f"<p>{name}, {[2, 4, 8][index]} chunks: <b>{seconds:.3g} s</b> per fit "
                              f"({seconds / 6:.3g} s per pass), <b>{40_000 / seconds:,.0f}</b> documents per second, "
                              f"peak memory <b>{memory:.3g} MB</b></p>")
    assert len(figures) >= 5  # one drawing at creation, one per change


@pytest.mark.parametrize(
    "measurements, kwargs, match",
    [
        ({}, {}, "measurements must be a non-empty dict"),
        ({"a": {"chunks": [2], "seconds": [1.0]}}, {}, r"must be a dict with the keys \['chunks', 'seconds', 'memory_mb'\]"),
        ({"a": {"chunks": [2, 4], "seconds": [1.0], "memory_mb": [1.0, 2.0]}}, {},
         r"measurements\['a'\]\['seconds'\] must have one entry per number of chunks \(2\)"),
        ({"a": {"chunks": [2], "seconds": [1.0], "memory_mb": [1.0]},
          "b": {"chunks": [4], "seconds": [1.0], "memory_mb": [1.0]}}, {}, "every scheduler must be measured on the same chunks"),
        ({"a": {"chunks": [2], "seconds": [0.0], "memory_mb": [1.0]}}, {}, "must hold finite numbers > 0"),
        ({"a": {"chunks": [2.5], "seconds": [1.0], "memory_mb": [1.0]}}, {}, "must be a non-empty list of integers >= 1"),
        ({"a": {"chunks": [2], "seconds": [1.0], "memory_mb": [1.0]}}, dict(index=1), r"index must be at most 0"),
        ({"a": {"chunks": [2], "seconds": [1.0], "memory_mb": [1.0]}}, dict(scheduler="b"), r"scheduler must be one of \['a'\]"),
        ({"a": {"chunks": [2], "seconds": [1.0], "memory_mb": [1.0]}}, dict(reference={"seconds": 1.0}),
         "reference must be None or a dict with the keys 'seconds' and 'memory_mb'"),
    ],
)
def test_scaling_explorer_rejects_bad_input(measurements, kwargs, match):
    with pytest.raises(ValueError, match=match):
        widgets.scaling_explorer(measurements, 1000, **kwargs)
