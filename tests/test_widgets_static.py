"""The explorers' two drivers: the static version embeds the states the live one would draw."""

import base64
import io
import json
import re

import numpy as np
import pytest
from PIL import Image

import tensorbook as tb
from tensorbook.widgets import _frame, contraction_explorer, low_rank_explorer, slice_explorer
from tensorbook.widgets._frame import STATIC_ENV, STATIC_MIME, sparse_grid, static_grid, static_html


def _payload(html):
    return json.loads(re.search(r'class="tb-explorer-states">(.*?)</script>', html, re.S).group(1).replace("<\\/", "</"))


def _image(uri):
    assert uri.startswith("data:image/webp;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGB"))


@pytest.fixture(autouse=True)
def agg():
    import matplotlib

    matplotlib.use("Agg")


def _models():
    X = np.random.default_rng(0).random((12, 10, 3))
    return X, {"CP": {r: tb.cp_als(X, r, random_state=0) for r in (1, 2, 4)},
               "Tucker": {r: tb.tucker(X, (r, r, 3)) for r in (1, 3)}}


def test_the_static_version_holds_every_state_of_the_grid_drawn_by_the_live_code():
    X, models = _models()
    widget = low_rank_explorer(X, models, method="Tucker", rank=3)
    payload = _payload(static_html(widget.explorer))
    # every method at every one of its ranks (the slider's values depend on the method)
    assert payload["controls"][1]["grids"] == {"0": ["1", "2", "4"], "1": ["1", "3"]}
    assert sorted(payload["states"]) == ["0,0", "0,1", "0,2", "1,0", "1,1"]
    assert payload["initial"] == "1,1"  # the live widget's start: Tucker, rank 3
    captions = {s["caption"] for s in payload["states"].values()}
    assert len(captions) == 5 and "Tucker, rank 3" in captions
    images = [_image(s["img"]) for s in payload["states"].values()]
    assert all(a.shape == images[0].shape for a in images)
    assert len({a.tobytes() for a in images}) == 5  # five different pictures
    # the picture of a state is the live draw of that state, encoded
    state = {"method": "CP", "rank": 4}
    import matplotlib.pyplot as plt

    fig = widget.explorer.draw(state)
    expected = _image(_frame.figure_to_webp(fig))
    plt.close(fig)
    np.testing.assert_array_equal(_image(payload["states"]["0,2"]["img"]), expected)


def test_the_book_build_gets_the_static_version_and_jupyterlab_only_the_widget(monkeypatch):
    X, models = _models()
    widget = low_rank_explorer(X, models)
    monkeypatch.delenv(STATIC_ENV, raising=False)
    bundle = widget._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle and STATIC_MIME not in bundle
    monkeypatch.setenv(STATIC_ENV, "1")
    bundle = widget._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle and bundle[STATIC_MIME].startswith('<div class="tb-explorer"')


def test_a_long_slider_is_thinned_to_about_16_values_and_says_so():
    widget = slice_explorer(np.random.default_rng(0).random((5, 40, 200)), ["a", "b", "c"])
    payload = _payload(static_html(widget.explorer))
    grids = payload["controls"][1]["grids"]
    assert [len(grids[m]) for m in ("0", "1", "2")] == [5, 16, 16]
    assert grids["2"][0] == "0" and grids["2"][-1] == "199"
    assert payload["controls"][1]["note"].startswith("static book: ")
    assert "note" not in payload["controls"][0]
    assert len(payload["states"]) == 5 + 16 + 16


def test_explicit_static_grids_keep_the_starting_value():
    control = _frame.Slider("n", "n", range(2, 201, 2), 44, static=[2, 100, 200])
    assert static_grid(control, {}) == [2, 44, 100, 200]
    assert sparse_grid(16, 4) == [1, 4, 16] and sparse_grid(6, 3) == [1, 3, 4, 6]
    assert sparse_grid(24, 12, steps=(1, 2, 3, 6, 48)) == [1, 2, 3, 6, 12, 24]


def test_static_html_is_deterministic_and_escapes_its_payload():
    widget = contraction_explorer(contractions={"</script> a": ("ij,jk->ik", ((1, 1), (1, 1)), "AB")}, n=4, n_max=8)
    first, second = static_html(widget.explorer), static_html(widget.explorer)
    assert first == second
    assert first.count("</script>") == 1  # the name cannot close the script early
    assert _payload(first)["controls"][0]["grids"][""] == ["</script> a"]


def test_the_layer_explorer_offers_every_model_in_the_static_book():
    from tensorbook.widgets import layer_explorer

    rows = [{"family": "dense", "param": "h", "size": h, "n_params": 75 * h + 10, "accuracy": [0.8 + h / 100, 0.9]}
            for h in (3, 8, 16)]
    rows += [{"family": "concatenation", "param": "-", "size": None, "n_params": 2000, "accuracy": [0.7, 0.72],
              "relational": [0.6, 0.61], "non_relational": [0.8, 0.83]}]
    widget = layer_explorer(rows, task="toy:", family="concatenation")
    payload = _payload(static_html(widget.explorer))
    assert payload["controls"][1]["grids"] == {"0": ["3", "8", "16"], "1": ["-"]}
    assert payload["initial"] == "1,0"
    captions = [payload["states"][k]["caption"] for k in ("0,0", "0,1", "0,2", "1,0")]
    assert captions == ["toy: dense, h = 3", "toy: dense, h = 8", "toy: dense, h = 16", "toy: concatenation"]
    assert len({payload["states"][k]["img"] for k in payload["states"]}) == 4
    with pytest.raises(ValueError, match="rows\\[0\\] lacks"):
        layer_explorer([{"family": "x"}])
