"""Real data as tensors, all offline: nothing here downloads anything.

* :func:`load_photo`: an RGB photograph (3-way: height x width x colour), the
  portrait of Rear Admiral Grace Hopper that Matplotlib ships as sample data
  (a U.S. Navy photograph, public domain).
* :func:`load_video`: a short horizontal camera pan across that photograph
  (4-way: time x height x width x colour). The frames are real pixels; the
  motion is made here.
* :func:`vqa_example`: a visual-question-answering style pair of feature
  vectors, one from the photo and one from a question, for the outer product.
The Indian Pines hyperspectral cube comes from ``tensorly.datasets``.
"""

import numpy as np

from ._validation import check_shape

__all__ = ["load_photo", "load_video", "vqa_example", "load_reuters", "QUESTION_VOCABULARY"]


def load_photo():
    """The Grace Hopper portrait shipped with Matplotlib, as a uint8 tensor.

    Returns
    -------
    numpy.ndarray
        Shape ``(600, 512, 3)``: height, width, colour (red, green, blue).

    Examples
    --------
    >>> from tensorbook.datasets import load_photo
    >>> photo = load_photo()
    >>> photo.shape, photo.dtype
    ((600, 512, 3), dtype('uint8'))
    """
    from matplotlib import cbook
    from PIL import Image

    with cbook.get_sample_data("grace_hopper.jpg") as f:
        image = Image.open(f)
        image.load()
    return np.asarray(image.convert("RGB"))


def load_video(n_frames=12, frame_shape=(120, 96)):
    """A short video: a camera window panning left to right across the photo.

    The window stays at the same rows (vertically centred), so slicing the
    video along height gives a space-time image of one row of pixels.

    Parameters
    ----------
    n_frames : int
        Number of frames (time steps), at least 1.
    frame_shape : tuple of int
        ``(height, width)`` of each frame; at most ``(600, 512)``.

    Returns
    -------
    numpy.ndarray
        uint8 tensor of shape ``(n_frames, height, width, 3)``.

    Examples
    --------
    >>> from tensorbook.datasets import load_video
    >>> load_video(8, (60, 50)).shape
    (8, 60, 50, 3)
    """
    (n_frames,) = check_shape([n_frames], "n_frames")
    frame_shape = check_shape(frame_shape, "frame_shape")
    photo = load_photo()
    if len(frame_shape) != 2 or frame_shape[0] > photo.shape[0] or frame_shape[1] > photo.shape[1]:
        raise ValueError(
            f"frame_shape must be (height, width) no larger than {photo.shape[:2]}, got {frame_shape}"
        )
    height, width = frame_shape
    top = (photo.shape[0] - height) // 2
    cols = np.linspace(0, photo.shape[1] - width, n_frames).round().astype(int)
    return np.stack([photo[top:top + height, c:c + width] for c in cols])


QUESTION_VOCABULARY = (
    "what", "colour", "is", "the", "jacket", "hair", "background",
    "who", "wearing", "a", "tie", "uniform", "how", "many", "people",
)


def vqa_example(question="what colour is the jacket", grid=4):
    """Feature vectors for an image and a question, as in visual question answering.

    The image feature is the mean colour of each cell of a ``grid`` x ``grid``
    partition of the photo (a stand-in for a CNN's pooled features); the
    question feature is a bag of words over :data:`QUESTION_VOCABULARY`.

    Returns
    -------
    dict
        ``image_features`` (length ``3 * grid**2``, values in [0, 1]),
        ``question_features`` (length ``len(QUESTION_VOCABULARY)``), and
        ``question``.

    Examples
    --------
    >>> from tensorbook.datasets import vqa_example
    >>> ex = vqa_example()
    >>> ex["image_features"].shape, ex["question_features"].shape
    ((48,), (15,))
    """
    (grid,) = check_shape([grid], "grid")
    if grid > 64:
        raise ValueError(f"grid must be at most 64 (cells of at least 8 x 8 pixels), got {grid}")
    if not isinstance(question, str):
        raise TypeError(f"question must be a string, got {type(question).__name__}")
    words = question.lower().replace("?", "").split()
    unknown = sorted(set(words) - set(QUESTION_VOCABULARY))
    if unknown:
        raise ValueError(
            f"question may only use words of QUESTION_VOCABULARY, got unknown words {unknown}"
        )
    photo = load_photo().astype(float) / 255.0
    h, w = photo.shape[0] // grid, photo.shape[1] // grid
    cells = photo[: h * grid, : w * grid].reshape(grid, h, grid, w, 3).mean(axis=(1, 3))
    q = np.array([words.count(v) for v in QUESTION_VOCABULARY], dtype=float)
    return {
        "image_features": cells.reshape(-1),
        "question_features": q,
        "question": question,
    }


def load_reuters():
    """A small real corpus: 395 Reuters news stories as word counts over a 4,258-word vocabulary.

    The counts, vocabulary and titles ship with the ``lda`` package (Allen
    Riddell et al., MPL 2.0; ``lda.datasets.load_reuters``), a subset of the
    Reuters news collection (stories mostly from August 1996 to August 1997, stop words removed) used there to
    test LDA. Nothing is downloaded.

    Returns
    -------
    dict
        ``counts`` (scipy.sparse.csr_array, documents x words, int64),
        ``vocabulary`` (tuple of str) and ``titles`` (tuple of str).

    Examples
    --------
    >>> from tensorbook.datasets import load_reuters
    >>> corpus = load_reuters()
    >>> corpus["counts"].shape, len(corpus["vocabulary"]), corpus["titles"][0][:30]
    ((395, 4258), 4258, '0 UK: Prince Charles spearhead')
    """
    import lda.datasets
    import scipy.sparse

    counts = scipy.sparse.csr_array(np.asarray(lda.datasets.load_reuters(), dtype=np.int64))
    return {
        "counts": counts,
        "vocabulary": tuple(lda.datasets.load_reuters_vocab()),
        "titles": tuple(lda.datasets.load_reuters_titles()),
    }
