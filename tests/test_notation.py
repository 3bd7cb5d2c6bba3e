"""Every matrix of the notation page's worked example, checked against the code."""

import re
from pathlib import Path

import numpy as np
import pytest
import tensorly as tl

import tensorbook as tb

PAGE = (Path(__file__).resolve().parents[1] / "book" / "notation.md").read_text()
X = np.arange(1, 25).reshape((3, 4, 2), order="F")


def page_matrices(label):
    """The bmatrix blocks of the display equation labelled ``label``, as int arrays."""
    m = re.search(r"\$\$\n((?:(?!\$\$).)*?)\n\$\$ \(" + re.escape(label) + r"\)", PAGE, re.S)
    assert m, f"equation ({label}) not found on the notation page"
    blocks = re.findall(r"\\begin\{bmatrix\}(.*?)\\end\{bmatrix\}", m.group(1), re.S)
    return [np.array([[int(v) for v in row.split("&")] for row in b.split("\\\\")]) for b in blocks]


def test_slices():
    s0, s1 = page_matrices("notation-slices")
    np.testing.assert_array_equal(s0, X[:, :, 0])
    np.testing.assert_array_equal(s1, X[:, :, 1])


@pytest.mark.parametrize("mode", [0, 1, 2])
def test_c_order_unfoldings(mode):
    (shown,) = page_matrices(f"notation-c-{mode}")
    np.testing.assert_array_equal(shown, tb.unfold(X, mode))
    np.testing.assert_array_equal(shown, tl.unfold(X, mode))


@pytest.mark.parametrize("mode", [0, 1, 2])
def test_kolda_bader_unfoldings(mode):
    (shown,) = page_matrices(f"notation-f-{mode}")
    # Kolda & Bader's definition, entry by entry (1-based formula, shifted to 0-based):
    # column j = sum over k != n of i_k * J_k, J_k = product of the sizes of earlier modes != n
    expected = np.zeros_like(shown)
    for idx in np.ndindex(X.shape):
        col, stride = 0, 1
        for k in range(3):
            if k != mode:
                col += idx[k] * stride
                stride *= X.shape[k]
        expected[idx[mode], col] = X[idx]
    np.testing.assert_array_equal(shown, expected)
    # and the NumPy expression the page gives for it
    np.testing.assert_array_equal(shown, np.reshape(np.moveaxis(X, mode, 0), (X.shape[mode], -1), order="F"))


def test_vec_of_outer_is_kronecker():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([5.0, 7.0])
    np.testing.assert_array_equal(np.einsum("i,j->ij", a, b).ravel(), np.kron(a, b))


def test_stated_identities():
    rng = np.random.default_rng(0)
    G = rng.standard_normal((2, 3, 4))
    A, B, C = (rng.standard_normal((n, r)) for n, r in [(5, 2), (6, 3), (7, 4)])
    full = np.einsum("pqr,ip,jq,kr->ijk", G, A, B, C)
    # Tucker, unfolded in this book's convention
    np.testing.assert_allclose(tb.unfold(full, 0), A @ tb.unfold(G, 0) @ np.kron(B, C).T)
    # CP: X_(0) = A diag(w) (B ⊙ C)^T with the Khatri-Rao product of the table
    R, w = 3, rng.standard_normal(3)
    A, B, C = (rng.standard_normal((n, R)) for n in (4, 5, 6))
    cp = np.einsum("r,ir,jr,kr->ijk", w, A, B, C)
    khatri_rao = np.einsum("ir,jr->ijr", B, C).reshape(-1, R)
    np.testing.assert_allclose(tb.unfold(cp, 0), A @ np.diag(w) @ khatri_rao.T)
    np.testing.assert_allclose(khatri_rao, tl.tenalg.khatri_rao([B, C]))
