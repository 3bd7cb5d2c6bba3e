"""Spectral LDA's moment passes as map-reduce over chunks of documents: in process, on Dask threads or a cluster.

Every quantity :class:`tensorbook.topics.SpectralLDA` needs from the
documents is a sum over documents: the first pass gives the number of
documents kept, :math:`\\sum_d c_d / n_d` and :math:`\\sum_d w_{2,d} c_d`;
each product with M2 (the randomised eigensolver asks for 2 +
``n_power_iter`` of them) gives :math:`\\sum_d w_{2,d} c_d (c_d^\\top Q)`,
a V x p block; the whitened third moment gives a k x k x k tensor, a V x k
block, a V-vector and a k x k matrix. So each pass maps one function over
chunks of documents, each chunk returning its small partial sums, and adds
them; the driver holds partial sums (V x p at most), never the documents.

The per-chunk functions are the ones the in-memory fit also uses, on
blocks of rows fixed by the counts; what changes is where the chunks come from and where the maps
run (the machinery is in :mod:`tensorbook._corpus`; this module holds the
public names):

- the chunks: the shards of a :class:`ShardedCorpus` (``.npz`` files written
  by :func:`save_shards` or ``scipy.sparse.save_npz``, loaded and validated
  by the task that needs them, in every pass, so a corpus larger than memory
  streams through), or an in-memory ``X`` cut into chunks of rows;
- where: ``client=None`` (in this process, one shard after the other),
  ``"threads"`` (Dask's threaded scheduler), or a ``distributed`` cluster
  (``"local"``, a scheduler address, or a ``distributed.Client``).

The partial sums are added in chunk order, whatever the scheduler, so the
result does not depend on it (for the same chunks, up to the rounding of a
multithreaded BLAS: Dask's workers use one BLAS thread each); it differs
from the in-memory fit, which cuts the corpus into blocks of its own, only
by rounding. Tasks are pure
functions of their inputs with one key per chunk and pass, and the driver
adds exactly one result per key: when a worker dies, Dask recomputes what it
held (the load of an in-memory chunk included: the chunk is part of its
task) and nothing is lost or counted twice.

On a cluster, chunk i prefers the same worker thread in every pass (a loose
preference: any worker runs it if that one is busy or gone), so that the
tasks of a pass spread over the workers rather than gather where the pass's
argument is, and the chunks of an in-memory ``X`` (sent to the workers once,
at the start of the fit) stay where they are. ``client="local"`` starts
worker processes: in a script, call the fit under
``if __name__ == "__main__":``.

Examples
--------
>>> import tempfile
>>> import numpy as np
>>> from tensorbook.distributed import save_shards
>>> from tensorbook.topics import SpectralLDA, make_lda_corpus
>>> X, _, _ = make_lda_corpus(2000, 3, 50, 60, alpha=0.2, random_state=0)
>>> with tempfile.TemporaryDirectory() as directory:
...     corpus = save_shards(X, directory, docs_per_shard=500)
...     streamed = SpectralLDA(3, alpha0=0.6, random_state=0).fit(corpus)
...     threaded = SpectralLDA(3, alpha0=0.6, random_state=0, client="threads").fit(corpus)
>>> in_memory = SpectralLDA(3, alpha0=0.6, random_state=0).fit(X)
>>> len(corpus)
4
>>> [bool(np.allclose(fit.components_, in_memory.components_, rtol=0, atol=1e-12)) for fit in (streamed, threaded)]
[True, True]
"""

import errno
import glob
import math
import os

import scipy.sparse

from ._corpus import ShardedCorpus
from ._validation import check_int

__all__ = ["ShardedCorpus", "save_shards"]


def save_shards(X, directory, docs_per_shard, *, compressed=False, overwrite=False):
    """Write the rows of ``X`` (documents x vocabulary) as CSR shards ``shard-00000.npz``, ... in ``directory``.

    Parameters
    ----------
    X : array_like or sparse matrix of shape (n_documents, n_features)
        Word counts; their dtype is kept.
    directory : str or path
        Created if needed.
    docs_per_shard : int
        Documents per shard (the last may hold fewer).
    compressed : bool, default False
        Compress the files (smaller, slower to read in every pass).
    overwrite : bool, default False
        Replace the ``shard-*.npz`` files already in ``directory`` (otherwise
        they are an error: a directory of old and new shards would be one
        corpus).

    Returns
    -------
    ShardedCorpus

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from tensorbook.distributed import save_shards
    >>> corpus = save_shards(np.array([[1, 2], [0, 3], [4, 0]]), tempfile.mkdtemp(), docs_per_shard=2)
    >>> corpus
    ShardedCorpus(2 shards: 2 file(s), 0 in memory, n_features=2)
    """
    from sklearn.utils.validation import check_array

    counts = scipy.sparse.csr_array(check_array(X, accept_sparse="csr", dtype=None, input_name="X"))
    size = check_int(docs_per_shard, "docs_per_shard")
    directory = os.fspath(directory)
    os.makedirs(directory, exist_ok=True)
    old = glob.glob(os.path.join(glob.escape(directory), "shard-*.npz"))
    if old and not overwrite:
        raise FileExistsError(errno.EEXIST, f"{len(old)} shard file(s) already there (overwrite=True replaces them)",
                              directory)
    for path in old:
        os.remove(path)
    n_shards = math.ceil(counts.shape[0] / size)
    width = max(5, len(str(n_shards - 1)))
    paths = []
    for i in range(n_shards):
        path = os.path.join(directory, f"shard-{i:0{width}d}.npz")
        scipy.sparse.save_npz(path, counts[i * size:(i + 1) * size], compressed=compressed)
        paths.append(path)
    return ShardedCorpus(paths, n_features=counts.shape[1])
