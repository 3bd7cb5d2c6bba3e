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


def chapter2_data():
    """The seeded tensors of chapter 2's exercises (the chapter builds the same ones)."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((3, 4, 5))
    U = rng.standard_normal((2, 4))
    core = rng.standard_normal((2, 3, 2))
    factors = [rng.standard_normal((n, r)) for n, r in zip((4, 5, 6), core.shape)]
    return X, U, core, factors


def _mode1_loops():
    X, U, _, _ = chapter2_data()
    Y = np.zeros((X.shape[0], U.shape[0], X.shape[2]))
    for a in range(X.shape[0]):
        for j in range(U.shape[0]):
            for b in range(X.shape[2]):
                Y[a, j, b] = sum(U[j, i] * X[a, i, b] for i in range(X.shape[1]))
    return Y


def _tucker_sum_of_outer_products():
    _, _, core, (A, B, C) = chapter2_data()
    full = np.zeros((A.shape[0], B.shape[0], C.shape[0]))
    for p, q, r in np.ndindex(core.shape):
        full += core[p, q, r] * A[:, p][:, None, None] * B[:, q][None, :, None] * C[:, r][None, None, :]
    return full


def _power_step_eigenvector():
    # T = sum_r lam_r a_r (x) a_r (x) a_r with orthonormal a_r, so T(I, a_0, a_0) = lam_0 a_0.
    lam = np.array([3.0, 2.0, 1.0])
    a0 = np.linalg.qr(np.random.default_rng(3).standard_normal((4, 3)))[0][:, 0]
    return lam[0] * a0


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
        Exercise(
            "2.1", "a mode-1 product through the unfolding", _mode1_loops,
            hint="unfold(X, 1) has the mode-1 fibers as columns; multiply it on the left by U, "
                 "then fold the result back into the shape (3, 2, 5).",
            rtol=1e-10,
        ),
        Exercise(
            "2.2", "flops of two orders for A B v",
            lambda: np.array([2 * 100 * 200 * 300 + 2 * 100 * 300, 2 * 200 * 300 + 2 * 100 * 200]),
            hint="An (m, k) @ (k, n) product costs 2 m k n flops; a matrix-vector product is the case n = 1.",
            rtol=0, atol=0.5,
        ),
        Exercise(
            "2.3", "a Tucker tensor from its core and factors", _tucker_sum_of_outer_products,
            hint="Multiply the core by A in mode 0, B in mode 1 and C in mode 2; the result has shape (4, 5, 6).",
            rtol=1e-10,
        ),
        Exercise(
            "2.4", "one step of the tensor power method", _power_step_eigenvector,
            hint="T(I, v, v) keeps index i and sums j and k: look for it in the table of contractions.",
            rtol=1e-10,
        ),
    ]
}
