"""Sort-of-CLEVR: every answer recomputed from the pixels alone (objects found again by connected components)."""

import numpy as np
import pytest
from scipy import ndimage

from tensorbook.datasets import (SORT_OF_CLEVR_ANSWERS, SORT_OF_CLEVR_QUESTIONS,
                                 make_sort_of_clevr, sort_of_clevr_features)


def _objects_from_pixels(image):
    """Each object found from the image alone: {its RGB: (centroid x, centroid y, is a circle)}."""
    painted = image[image.sum(axis=-1) < 3 * 255]  # every non-white pixel
    colours = np.unique(painted, axis=0)
    assert len(colours) == 6  # six colours, nothing blended
    objects = {}
    for rgb in colours:
        mask = np.all(image == rgb, axis=-1)
        _, n = ndimage.label(mask)
        assert n == 1, "each colour is one object: no two overlap or touch"
        ys, xs = np.nonzero(mask)
        box = (np.ptp(xs) + 1) * (np.ptp(ys) + 1)
        objects[tuple(int(v) for v in rgb)] = (xs.mean() + 0.5, ys.mean() + 0.5, mask.sum() / box < 0.95)
    return objects


def test_every_answer_follows_from_the_pixels():
    from tensorbook.datasets import _SORT_OF_CLEVR_RGB

    data = make_sort_of_clevr(12, random_state=3)
    size = data["images"].shape[1]
    q = data["questions"].reshape(12, 6, 6, 11)
    a = data["answers"].reshape(12, 6, 6)
    for s, image in enumerate(data["images"]):
        objects = _objects_from_pixels(image)
        xy = np.array([objects[rgb][:2] for rgb in _SORT_OF_CLEVR_RGB])
        circle = np.array([objects[rgb][2] for rgb in _SORT_OF_CLEVR_RGB])
        np.testing.assert_allclose(xy, data["centres"][s], atol=1e-9)  # symmetric objects
        for c in range(6):
            for t, subtype in enumerate(SORT_OF_CLEVR_QUESTIONS):
                assert q[s, c, t, c] == 1 and q[s, c, t].sum() == 3
                assert q[s, c, t, 6 + (t >= 3)] == 1 and q[s, c, t, 8 + t % 3] == 1
                d = np.linalg.norm(xy - xy[c], axis=1)
                d[c] = np.nan
                expected = {
                    "shape": "circle" if circle[c] else "square",
                    "on the left": "yes" if xy[c, 0] < size / 2 else "no",
                    "on top": "yes" if xy[c, 1] < size / 2 else "no",
                    "shape of the closest": "circle" if circle[np.nanargmin(d)] else "square",
                    "shape of the furthest": "circle" if circle[np.nanargmax(d)] else "square",
                    "how many of its shape": str(int(np.sum(circle == circle[c]))),
                }[subtype]
                assert SORT_OF_CLEVR_ANSWERS[a[s, c, t]] == expected, (s, c, subtype)
    assert data["relational"].reshape(12, 6, 6)[:, :, 3:].all() and not data["relational"].reshape(12, 6, 6)[:, :, :3].any()
    assert np.array_equal(data["scene"], np.repeat(np.arange(12), 36))


def test_features_locate_each_object_and_tell_its_shape():
    data = make_sort_of_clevr(20, random_state=0)
    f = sort_of_clevr_features(data["images"]).reshape(20, 6, 3)
    np.testing.assert_allclose(f[..., :2] * 75, data["centres"], atol=1e-9)
    fill = f[..., 2]
    assert fill[data["shapes"] == 0].min() > 0.99 and fill[data["shapes"] == 1].max() < 0.9


def test_the_same_seed_gives_the_same_task_and_the_answers_are_varied():
    a, b = make_sort_of_clevr(30, random_state=5), make_sort_of_clevr(30, random_state=5)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    counts = np.bincount(a["answers"], minlength=len(SORT_OF_CLEVR_ANSWERS))
    assert (counts[:4] > 100).all()  # yes, no, square and circle all common
    assert not np.array_equal(a["images"], make_sort_of_clevr(30, random_state=6)["images"])


@pytest.mark.parametrize("kwargs, message", [({"n_scenes": 0}, "n_scenes"),
                                             ({"n_scenes": 2, "image_size": 40}, "image_size"),
                                             ({"n_scenes": 2, "object_size": 2}, "object_size")])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_sort_of_clevr(**kwargs)


def test_features_refuse_what_is_not_a_batch_of_rgb_images():
    with pytest.raises(ValueError, match="images must be uint8"):
        sort_of_clevr_features(np.zeros((2, 75, 75, 3)))
