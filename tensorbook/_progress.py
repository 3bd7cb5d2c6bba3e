"""Progress of long work, one way: a tqdm bar (a widget in a notebook, text on a terminal).

Every long-running public routine takes ``verbose=False`` (the name
scikit-learn and TensorLy use) and, when it is true, reports through
:func:`progress_bar`; nothing prints.
"""

__all__ = ["progress_bar"]


class _Silent:
    """The bar when ``verbose`` is false: accepts the same calls and shows nothing."""

    def update(self, n=1):
        pass

    def set_postfix(self, **kwargs):
        pass

    def set_description(self, desc):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def progress_bar(total, desc, unit, verbose):
    """A tqdm bar of ``total`` steps of ``unit`` labelled ``desc`` when ``verbose``, else a silent stand-in.

    Use it as a context manager, so that the bar closes however the work ends.

    Examples
    --------
    >>> from tensorbook._progress import progress_bar
    >>> with progress_bar(3, "sweeps", "sweep", verbose=False) as bar:
    ...     for _ in range(3):
    ...         bar.update()
    """
    if not verbose:
        return _Silent()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit)
