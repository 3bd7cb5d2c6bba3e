"""The BLAS thread policy, in one place.

Two rules, used by three modules:

* :func:`single_threaded_blas`: BLAS on one thread for a block of work whose
  matrix products are small (CP-ALS around the Numba MTTKRP kernel, the
  recurrent forecasters), so that woken BLAS threads do not spin on the cores
  the rest needs, and so that the results do not depend on the machine's
  thread count.
* :func:`split_between_threads` and :func:`map_between_threads`: work cut
  into blocks, run by as many Python threads as BLAS has, each with
  single-threaded BLAS (the mode-n products of :mod:`tensorbook.tenalg`; the
  passes of spectral LDA over an in-memory corpus, whose blocks are fixed by
  the data, so that the sums do not depend on the thread count).

threadpoolctl's limits are process-wide: a limit set in one thread applies to
every thread's BLAS calls while it lasts.
"""

import contextlib
import functools
import os
import threading

import numpy as np

__all__ = ["single_threaded_blas", "blas_threads", "split_between_threads", "map_between_threads"]


@functools.cache
def _controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def blas_threads():
    """The number of threads BLAS would use now (the largest over the loaded BLAS libraries)."""
    blas = _controller().select(user_api="blas")
    return max((lib.num_threads for lib in blas.lib_controllers), default=1)


# The limit is shared by every thread of the process: the first caller to enter sets it, the last to
# leave restores the counts the first one found. (Each caller restoring the counts it saw on entry
# would let two overlapping callers leave BLAS on one thread for good: A saves N, B saves 1, A
# restores N, B restores 1.)
_limit_lock = threading.Lock()
_limit_state = {"depth": 0, "limiter": None}


@contextlib.contextmanager
def single_threaded_blas():
    """A context manager limiting every loaded BLAS library to one thread, restoring the counts on exit.

    Overlapping uses (nested, or from several threads at once) share one
    limit: the counts found by the first are restored when the last one exits.
    """
    with _limit_lock:
        if _limit_state["depth"] == 0:
            _limit_state["limiter"] = _controller().limit(limits=1, user_api="blas")
        _limit_state["depth"] += 1
    try:
        yield
    finally:
        with _limit_lock:
            _limit_state["depth"] -= 1
            if _limit_state["depth"] == 0:
                _limit_state["limiter"].restore_original_limits()
                _limit_state["limiter"] = None


@functools.cache
def _thread_pool(n_threads):
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(n_threads, thread_name_prefix="tensorbook")


# A forked child inherits the pool object but not its threads: start afresh.
os.register_at_fork(after_in_child=_thread_pool.cache_clear)
# One split at a time: a split started from inside another (a pass function that calls mode_dot, a
# fit run on a thread of the pool) runs in its caller's thread instead of waiting for the pool.
_split_lock = threading.Lock()


def _on_threads(fn, items):
    """``[fn(item) for item in items]`` run on BLAS's threads, each with single-threaded BLAS; None when it cannot.

    It cannot (returns None) when there is one item, BLAS has one thread, or
    another split is running in this process (a call from inside a split
    included); the caller then runs the work itself.
    """
    if len(items) < 2 or not _split_lock.acquire(blocking=False):
        return None
    try:
        threads = blas_threads()
        if threads < 2:
            return None
        with single_threaded_blas():
            return list(_thread_pool(threads).map(fn, items))
    finally:
        _split_lock.release()


def split_between_threads(run, n_items):
    """``run(lo, hi)`` over ``range(n_items)`` cut between BLAS's threads, or None when it cannot split.

    Returns the list of the parts' results. It does not split (returns None)
    when BLAS has one thread, there is one item, or another split is running
    in this process; the caller then runs the work itself.
    """
    threads = blas_threads() if n_items >= 2 else 1
    bounds = np.linspace(0, n_items, min(threads, n_items) + 1).astype(int)
    return _on_threads(lambda bound: run(*bound), list(zip(bounds[:-1], bounds[1:])))


def map_between_threads(fn, items):
    """``[fn(item) for item in items]``, on BLAS's threads when it can (see ``_on_threads``), else in this thread.

    Each call of ``fn`` runs with single-threaded BLAS, on a thread of the
    pool or (when it cannot split) in this one. The items are the caller's,
    fixed by the data: the results are the same whichever thread computed
    each, so a caller that combines them in order gets a result that does
    not depend on the thread count.
    """
    items = list(items)
    results = _on_threads(fn, items)
    if results is None:
        with single_threaded_blas():
            results = [fn(item) for item in items]
    return results
