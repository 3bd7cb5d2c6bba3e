"""Execute the notebooks that jupyter-cache lacks several at a time, before Sphinx reads them.

myst-nb's ``cache`` mode executes a notebook when Sphinx reads it, one after
the other, each in a kernel of its own. On a machine with several cores that
leaves cores idle for most of a clean build. :func:`execute_missing` runs
first (Sphinx's ``env-before-read-docs``): it reads each notebook to be read
exactly as myst-nb does, skips those the cache already matches, executes the
others with ``workers`` kernels at once (longest chapter first) and stores
each result in the cache as myst-nb would. When Sphinx then reads the
documents, myst-nb finds every notebook in the cache.

Each kernel gets ``cores // workers`` threads of BLAS, OpenMP and Numba
(unless the environment already sets them), so that parallel kernels do not
oversubscribe the cores. A notebook whose execution fails is not cached:
myst-nb executes it again itself and reports the error as it always does.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def default_workers() -> int:
    """Kernels to run at once: the cores this process may use, at most 4 (each chapter is one kernel)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


def kernel_environment(workers: int, cores: int | None = None) -> dict:
    """The environment of each kernel: this process's, with ``cores // workers`` threads where unset."""
    cores = cores or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    env = dict(os.environ)
    threads = str(max(1, cores // max(1, workers)))
    for name in THREAD_VARIABLES:
        env.setdefault(name, threads)
    return env


def _execute(nb, cwd: str, timeout: int, allow_errors: bool, env: dict):
    """Execute ``nb`` in place in a kernel started in ``cwd`` with ``env``; (seconds, error or None)."""
    import nbclient

    start = time.perf_counter()
    # record_timing off as in jupyter-cache: timing metadata in the cells would change the notebook's cache key
    client = nbclient.NotebookClient(nb, timeout=timeout, allow_errors=allow_errors, kernel_name=_kernel(nb),
                                     record_timing=False, resources={"metadata": {"path": cwd}})
    try:
        client.execute(env=env)
    except Exception as error:  # a failing cell, a timeout, a dead kernel: myst-nb re-executes and reports it
        return time.perf_counter() - start, error
    return time.perf_counter() - start, None


def _kernel(nb) -> str:
    return nb.metadata.get("kernelspec", {}).get("name", "python3")


def execute_missing(app, env, docnames, workers: int | None = None) -> list[str]:
    """Execute, ``workers`` at a time, the notebooks among ``docnames`` that the execution cache lacks, and
    cache them as myst-nb does; returns the documents executed. Does nothing unless myst-nb runs in
    ``cache`` mode with execution in the notebook's own folder."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from myst_nb.core.read import create_nb_reader

    nb_config = env.mystnb_config
    if nb_config.execution_mode != "cache" or nb_config.execution_in_temp or nb_config.kernel_rgx_aliases:
        return []
    workers = workers or app.config.tensorbook_execution_workers or default_workers()
    cache = get_cache(nb_config.execution_cache_path or ".jupyter_cache")

    todo = []
    for docname in docnames:
        path = Path(env.doc2path(docname))
        if any(path.match(p) for p in nb_config.execution_excludepatterns):
            continue
        text = path.read_text(encoding="utf8")
        reader = create_nb_reader(str(path), env.myst_config, nb_config, text)
        if reader is None:
            continue
        nb = reader.read(text)
        try:
            cache.match_cache_notebook(nb)
            continue  # already cached
        except KeyError:
            pass
        todo.append((docname, path, reader.read_fmt, nb))
    if not todo:
        return []
    todo.sort(key=lambda item: item[1].stat().st_size, reverse=True)  # the longest chapters first
    kernel_env = kernel_environment(min(workers, len(todo)))
    logger.info("tensorbook: executing %d notebooks, %d at a time (%s threads each)", len(todo),
                min(workers, len(todo)), kernel_env["OMP_NUM_THREADS"])
    executed = []
    with ThreadPoolExecutor(max_workers=min(workers, len(todo))) as pool:
        futures = {pool.submit(_execute, nb, str(path.parent), nb_config.execution_timeout,
                               nb_config.execution_allow_errors, kernel_env): (docname, path, fmt, nb)
                   for docname, path, fmt, nb in todo}
        for future in as_completed(futures):
            docname, path, fmt, nb = futures[future]
            seconds, error = future.result()
            if error is not None:
                logger.info("tensorbook: %s failed in the parallel pass (%s: %s); it is executed again when read, "
                            "to report it", docname, type(error).__name__, str(error)[-2000:])
                continue
            record = cache.add_nb_to_project(str(path), read_data=fmt) if fmt else cache.add_nb_to_project(str(path))
            cache.cache_notebook_bundle(CacheBundleIn(nb, record.uri, data={"execution_seconds": seconds}),
                                        check_validity=False, overwrite=True)
            logger.info("tensorbook: executed %s in %.1f s", docname, seconds)
            executed.append(docname)
    return executed
