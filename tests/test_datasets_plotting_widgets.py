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
    np.testing.assert_array_equal(widgets._slice_image(x, 1, 3), x[:, 3, :])
    rgb = np.zeros((2, 6, 7, 3), dtype=np.uint8)
    assert widgets._slice_image(rgb, 0, 1).shape == (6, 7, 3)


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
