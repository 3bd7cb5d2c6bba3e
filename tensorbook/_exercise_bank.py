"""Reference answers for the book's exercises.

Each reference is written independently of the solution printed in the book
(different operations on the same data), so a solution that agrees with it is
checked against a second implementation, not against itself.
"""

import numpy as np

from .exercises import Exercise


def _mean_spectrum():
    from tensorly.datasets import load_indian_pines

    cube = np.asarray(load_indian_pines().tensor, dtype=float)
    total = np.zeros(cube.shape[2])
    for row in cube:  # sum the spectra row by row
        total += row.sum(axis=0)
    return total / (cube.shape[0] * cube.shape[1])


def _grayscale():
    from .datasets import load_photo

    photo = load_photo().astype(float)
    weights = (0.299, 0.587, 0.114)
    return sum(w * photo[:, :, c] for c, w in enumerate(weights))


def _vqa_outer():
    from .datasets import vqa_example

    ex = vqa_example()
    return np.kron(ex["image_features"], ex["question_features"])


EXERCISES = {
    e.number: e
    for e in [
        Exercise(
            "1.1", "the mean spectrum of Indian Pines", _mean_spectrum,
            hint="Average the cube over the two spatial modes (axes 0 and 1); "
                 "the result has one value per band.",
            rtol=1e-9,
        ),
        Exercise(
            "1.2", "grayscale as a contraction of the colour mode", _grayscale,
            hint="Only the colour index c is summed, so it appears in the inputs of the "
                 "einsum subscripts but not in the output; convert the photo to floats first.",
            rtol=1e-9,
        ),
        Exercise(
            "1.3", "the vectorised outer product of image and question features", _vqa_outer,
            hint="Build the d_v x d_q matrix of all products v[i] * q[j], then flatten it in C order.",
            rtol=1e-12,
        ),
        Exercise(
            "1.4", "parameters of a bilinear VQA classifier",
            lambda: 2048 * 2400 * 3000,
            hint="A bilinear classifier has one weight per (image feature, question feature, answer) triple.",
            rtol=0, atol=0.5,
        ),
    ]
}
