"""The corpus in chunks, the passes over it, and where they run (in memory, on Dask threads or a cluster).

Every quantity :class:`tensorbook.topics.SpectralLDA` needs from the
documents is a sum over documents, so each pass maps one per-chunk function
(``_first_pass``, ``_m2_pass``, ``_m3_pass``) over chunks of documents and
adds the partial sums in chunk order. This module owns all of it:

- the chunks: :func:`_chunk` validates word counts into a :class:`_Chunk`
  (documents with at least 3 words, their weights); a :class:`ShardedCorpus`
  names ``.npz`` shards, each loaded and validated by the task that needs it;
- the per-chunk functions of the passes and :func:`_add`, which adds their results;
- the runners, which say where a pass runs: :class:`_InMemory` (blocks of
  an in-memory corpus on threads of this process, no Dask), :class:`_Sequential` (shards one after the other in
  this process), :class:`_Threads` (Dask's threaded scheduler) and
  :class:`_Distributed` (a ``distributed`` client); :func:`open_runner`
  picks one.

:mod:`tensorbook.topics` (the estimator) and :mod:`tensorbook.distributed`
(the public shard helpers) both import this module; neither imports the
other. Importing it imports no Dask module: the runners that need Dask import
it when they start.

What the runners guarantee (sums added in chunk order, so the result does
not depend on the scheduler; one task key per chunk and pass, so a dead
worker's chunks are recomputed once and never counted twice; each chunk's
preferred worker thread) is stated in :mod:`tensorbook.distributed`, the
public face of this module.
"""

import errno
import glob
import math
import os
import uuid
import warnings

import numpy as np
import scipy.sparse

from ._threads import map_between_threads
from ._validation import check_int
from .moments import _sum_of_cubes

#: Documents per chunk above which an in-memory X is cut into more chunks than 2 per worker thread.
MAX_DOCS_PER_CHUNK = 50_000

#: Chunks in flight per worker thread on a cluster (their partial sums wait on the workers until added).
WINDOW_PER_THREAD = 4


# --------------------------------------------------------------------------
# word counts in chunks
# --------------------------------------------------------------------------


def _counts(X, name="X", *, min_words=3, require=True):
    """Validated CSR counts (documents x vocabulary), their lengths, and the mask of documents kept.

    scikit-learn's checks first (so the messages are the ones its users
    know: NaN, negative values, complex or empty input), then the rule of
    this model: word counts are non-negative integers. ``require``: at least
    one document must be kept (off for one chunk of a larger corpus). A
    canonical CSR input (sorted indices, no duplicates, no stored zeros) is
    used as it is, in its own dtype (no copy; :class:`_Chunk` casts its
    documents to float64); any other is copied to float64 first, so that
    duplicates are summed without overflow and the caller's arrays are never
    changed.
    """
    from sklearn.utils.validation import check_array, check_non_negative

    counts = check_array(X, accept_sparse="csr", input_name=name)
    check_non_negative(counts, name)
    counts = scipy.sparse.csr_array(counts)
    if not counts.has_canonical_format or not np.all(counts.data):
        counts = counts.astype(np.float64)  # a copy: sum_duplicates and eliminate_zeros work in place
        counts.sum_duplicates()
        counts.eliminate_zeros()
    if counts.dtype.kind not in "biu" and np.any(counts.data != np.round(counts.data)):
        raise ValueError(f"{name} must contain integer word counts, got non-integer values")
    lengths = np.asarray(counts.sum(axis=1, dtype=np.float64)).ravel()
    keep = lengths >= min_words
    if require and min_words and not np.any(keep):
        raise ValueError(f"{name} must hold at least one document with {min_words} or more words")
    return counts, lengths, keep


class _Chunk:
    """A validated chunk of documents: the counts of those with at least 3 words, their weights and signs.

    The counts are cast to float64 here, once (a sparse product with integer
    counts would cast them again on every pass).
    """

    def __init__(self, counts, lengths, n_dropped):
        self.counts, self.lengths, self.n_dropped = counts.astype(np.float64, copy=False), lengths, n_dropped
        self.w2 = 1.0 / (lengths * (lengths - 1))  # 1 / (n (n-1))
        self.w3 = self.w2 / (lengths - 2)  # 1 / (n (n-1) (n-2))
        self.signs = _document_signs(self.counts)

    def __sizeof__(self):  # the arrays' bytes: what Dask's memory accounting and task placement read
        arrays = (self.counts.data, self.counts.indices, self.counts.indptr, self.lengths, self.w2, self.w3,
                  self.signs)
        return object.__sizeof__(self) + sum(a.nbytes for a in arrays)


def _mix(h):
    """SplitMix64's finaliser on an array of uint64 (wrapping arithmetic, in place): a well-mixed hash of each entry."""
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return h


def _document_signs(counts):
    """A sign +1 or -1 for each document (row of canonical CSR counts), a hash of its words and their counts.

    The noise level of M2 (``SpectralLDA.noise_level_``) is estimated by
    flipping the sign of each document's term at random; the signs come from
    the documents' contents, so a document has the same sign in whichever
    chunk, shard or order it is read, and the estimate does not depend on how
    the corpus is cut. Copies of one document share a sign, as they should:
    they are one observation, not several.
    """
    if counts.shape[0] == 0:
        return np.zeros(0)
    per_word = counts.indices.astype(np.uint64)
    per_word += np.uint64(1)
    per_word *= np.uint64(0x9E3779B97F4A7C15)
    per_word += np.minimum(counts.data, 2.0**31).astype(np.uint64) << np.uint64(32)
    per_document = np.add.reduceat(_mix(per_word), counts.indptr[:-1].astype(np.intp))  # rows never empty here
    return 1.0 - 2.0 * (_mix(per_document) >> np.uint64(63)).astype(np.float64)


def _chunk(X, name="X", *, require=True):
    """``X`` validated as one chunk of documents (see ``_counts``); short documents are left out."""
    counts, lengths, keep = _counts(X, name, require=require)
    return _Chunk(counts[keep], lengths[keep], int(np.count_nonzero(~keep)))


# --------------------------------------------------------------------------
# the passes: per-chunk partial sums, added in chunk order
# --------------------------------------------------------------------------


def _first_pass(chunk):
    """Partial sums of the first pass: documents kept and dropped, sum_d c_d / n_d, sum_d w2_d c_d.

    And the same two sums with each document's sign (``sign_m1``,
    ``sign_s2``), for the noise level of M2.
    """
    counts, inverse = chunk.counts, 1.0 / chunk.lengths
    weights = np.column_stack([inverse, chunk.w2, chunk.signs * inverse, chunk.signs * chunk.w2])
    sums = np.asarray(counts.T @ weights)  # (V, 4): one sparse pass for the four sums
    return {"n_docs": counts.shape[0], "n_dropped": chunk.n_dropped, "m1": sums[:, 0], "s2": sums[:, 1],
            "sign_m1": sums[:, 2], "sign_s2": sums[:, 3]}


def _m2_pass(chunk, q, q_noise=None):
    """Partial sum of M2 @ Q's data term, sum_d w2_d c_d (c_d^T Q), a (V, p) block.

    With ``q_noise`` (V, p'), also the signed sums of the noise operator's
    data terms on it: ``noise`` = sum_d s_d w2_d c_d (c_d^T Q'), (V, p'), and
    ``noise_m1`` = sum_d s_d (c_d^T Q') / n_d, (p',). One product with the
    counts serves both blocks.
    """
    counts, w2 = chunk.counts, chunk.w2
    if q_noise is None:
        return np.asarray(counts.T @ (w2[:, None] * np.asarray(counts @ q)))
    p = q.shape[1]
    projected = np.asarray(counts @ np.hstack([q, q_noise]))  # (D, p + p')
    weighted = projected * w2[:, None]
    weighted[:, p:] *= chunk.signs[:, None]
    data = np.asarray(counts.T @ weighted)
    return {"m2": data[:, :p], "noise": data[:, p:],
            "noise_m1": (chunk.signs / chunk.lengths) @ projected[:, p:]}


def _m3_pass(chunk, whitener, n_docs, batch_size):
    """Partial sums of the whitened third moment's data terms, from the projections y_d = W^T c_d."""
    counts, w2, w3 = chunk.counts, chunk.w2, chunk.w3
    y = np.asarray(counts @ whitener)  # (D, k)
    return {
        "e3": _sum_of_cubes(y, w3 / n_docs, batch_size),  # sum_d w3_d / D y_d^(x)3
        "z": np.asarray(counts.T @ (w3[:, None] * y)),  # (V, k): z_i = sum_d w3_d c_di y_d
        "s3": np.asarray(counts.T @ w3),
        "e2": (y.T * (w2 / n_docs)) @ y,
    }


def _add(a, b):
    """The sum of two partial results (arrays, numbers, or dicts of them)."""
    if isinstance(a, dict):
        return {key: _add(a[key], b[key]) for key in a}
    return a + b


# --------------------------------------------------------------------------
# shards
# --------------------------------------------------------------------------


class ShardedCorpus:
    """A corpus of documents in shards: ``.npz`` files of word counts, or matrices in memory.

    Each shard is a CSR matrix, documents x vocabulary, of word counts
    (non-negative integers), all with the same vocabulary size; files are
    those written by :func:`save_shards` or ``scipy.sparse.save_npz``.
    Nothing is read here: each shard is loaded and checked by the task that
    needs it (on a Dask worker, or in this process with ``client=None``), and
    a bad shard (missing, not a CSR ``.npz``, another vocabulary size,
    negative, non-integer or NaN counts) raises an error naming its file.

    Parameters
    ----------
    shards : str, path, or sequence of (path or matrix)
        A directory (its ``*.npz`` files, in name order), a glob pattern
        (``"corpus/shard-*.npz"``: the matches in name order), one file, or a
        sequence of shards, each a path or a matrix already in memory.
        Paths are made absolute: the workers must see the same files.
    n_features : int, optional
        The vocabulary size; by default that of the first shard.

    Attributes
    ----------
    shards : tuple
        Absolute paths (str) and in-memory matrices, in order.
    n_features : int or None

    Examples
    --------
    >>> import tempfile
    >>> import scipy.sparse
    >>> from tensorbook.distributed import ShardedCorpus
    >>> directory = tempfile.mkdtemp()
    >>> for i in range(3):
    ...     scipy.sparse.save_npz(f"{directory}/part-{i}.npz", scipy.sparse.csr_array([[1, 2, 0], [0, 3, 1]]))
    >>> corpus = ShardedCorpus(directory)
    >>> len(corpus), [path.rsplit("/", 1)[1] for path in corpus.shards]
    (3, ['part-0.npz', 'part-1.npz', 'part-2.npz'])
    """

    def __init__(self, shards, *, n_features=None):
        if isinstance(shards, (str, os.PathLike)):
            where = os.fspath(shards)
            if os.path.isdir(where):
                items = sorted(glob.glob(os.path.join(glob.escape(where), "*.npz")))
                if not items:
                    raise ValueError(f"shards: the directory {where!r} holds no .npz files")
            elif glob.has_magic(where):
                items = sorted(glob.glob(where))
                if not items:
                    raise ValueError(f"shards: no file matches the pattern {where!r}")
            else:
                items = [where]
        else:
            try:
                items = list(shards)
            except TypeError:
                raise TypeError(f"shards must be a directory, a glob pattern, a path or a sequence of them (or of "
                                f"matrices), got {type(shards).__name__}") from None
            if not items:
                raise ValueError("shards must not be empty")
        self.shards = tuple(_source(item, i) for i, item in enumerate(items))
        self.n_features = None if n_features is None else check_int(n_features, "n_features")

    def __len__(self):
        return len(self.shards)

    def __repr__(self):
        files = sum(isinstance(s, str) for s in self.shards)
        return (f"ShardedCorpus({len(self)} shards: {files} file(s), {len(self) - files} in memory"
                + (f", n_features={self.n_features}" if self.n_features is not None else "") + ")")


def _source(item, index):
    if isinstance(item, (str, os.PathLike)):
        return os.path.abspath(os.fspath(item))
    if scipy.sparse.issparse(item) or isinstance(item, np.ndarray):
        if item.ndim != 2:
            raise ValueError(f"shard {index} must be a 2-D matrix (documents x vocabulary), got shape {item.shape}")
        return item
    raise TypeError(f"shard {index} must be a path or a matrix (documents x vocabulary), got {type(item).__name__}")


def _label(source, index):
    return f"shard {source!r}" if isinstance(source, str) else f"shard {index}"


def _npz_error(path, exc):
    return ValueError(f"shard {path!r} is not a sparse matrix written by scipy.sparse.save_npz "
                      f"({type(exc).__name__}: {exc})")


def _shard_n_features(path):
    """The vocabulary size of the shard at ``path``, from its header only."""
    try:
        with np.load(path, allow_pickle=False) as f:
            shape = tuple(int(n) for n in f["shape"])
    except FileNotFoundError:
        raise FileNotFoundError(errno.ENOENT, "shard file not found", path) from None
    except Exception as exc:
        raise _npz_error(path, exc) from exc
    if len(shape) != 2:
        raise ValueError(f"shard {path!r} must be a 2-D matrix (documents x vocabulary), got shape {shape}")
    return shape[1]


def _check_width(label, width, vocab):
    n_features, reference = vocab
    if width != n_features:
        raise ValueError(f"{label} has {width} columns (words), but {reference} has {n_features}: "
                         "all shards must share one vocabulary")


def _load_shard(path, vocab):
    """The shard at ``path`` loaded and validated as a chunk; every error names the file."""
    try:
        matrix = scipy.sparse.load_npz(path)
    except FileNotFoundError:
        raise FileNotFoundError(errno.ENOENT, "shard file not found", path) from None
    except Exception as exc:
        raise _npz_error(path, exc) from exc
    if matrix.format != "csr":
        raise ValueError(f"shard {path!r} holds a {matrix.format.upper()} matrix; shards must be CSR "
                         "(documents x vocabulary), as written by save_shards")
    try:
        matrix.check_format(full_check=True)  # indices in range, sorted pointers: a damaged file fails here
    except ValueError as exc:
        raise _npz_error(path, exc) from exc
    return _prepare(matrix, f"shard {path!r}", vocab)


def _prepare(matrix, label, vocab, name=None):
    """An in-memory piece (or a loaded shard) checked against the vocabulary and validated as a chunk."""
    _check_width(label, matrix.shape[1], vocab)
    try:
        return _chunk(matrix, name or label, require=False)
    except ValueError as exc:
        if label in str(exc) or name:
            raise
        raise ValueError(f"{label}: {exc}") from exc


def _apply(fn, source, vocab, *args):
    """The task of one chunk and one pass: ``fn(chunk, *args)``, loading the chunk first if it is a file."""
    chunk = source if isinstance(source, _Chunk) else _load_shard(source, vocab)
    return fn(chunk, *args)


def _identity(value):
    return value


# --------------------------------------------------------------------------
# where the passes run
# --------------------------------------------------------------------------


#: Nonzeros per block of an in-memory corpus (about 3 MB of float64 counts and int32 word indices,
#: and a few MB of per-document products: they stay in the cache between the steps of a pass).
BLOCK_NNZ = 1 << 18


class _InMemory:
    """The in-memory corpus in this process: map-reduce over blocks of documents, on BLAS's threads.

    The blocks are fixed by the counts (about ``BLOCK_NNZ`` nonzeros each)
    and their partial sums are added in block order, so the result does not
    depend on the number of threads. Each block is cast and hashed (its
    weights and signs) by the thread that first gets it.
    """

    name = "X"

    def __init__(self, counts, lengths, n_dropped):
        self.counts, self.n_dropped = counts, n_dropped
        self.n_features = counts.shape[1]
        n_blocks = max(1, min(counts.shape[0], math.ceil(counts.nnz / BLOCK_NNZ)))
        bounds = np.unique(np.searchsorted(counts.indptr, np.linspace(0, counts.nnz, n_blocks + 1)[1:-1]))
        bounds = np.concatenate([[0], bounds[(bounds > 0) & (bounds < counts.shape[0])], [counts.shape[0]]])
        self.blocks = map_between_threads(
            lambda bound: _Chunk(counts[bound[0]:bound[1]], lengths[bound[0]:bound[1]], 0),
            zip(bounds[:-1], bounds[1:]))
        self.blocks[0].n_dropped = n_dropped  # counted once, by the first pass

    @classmethod
    def of(cls, X, name="X"):
        """``X`` validated (see ``_counts``), short documents left out, in blocks."""
        counts, lengths, keep = _counts(X, name)
        if not keep.all():
            counts, lengths = counts[keep], lengths[keep]
        return cls(counts, lengths, int(np.count_nonzero(~keep)))

    def map_sum(self, fn, *args):
        parts = map_between_threads(lambda block: fn(block, *args), self.blocks)
        total = parts[0]
        for part in parts[1:]:
            total = _add(total, part)
        return total

    def close(self):
        pass


class _Runner:
    """Map a per-chunk function over the chunks (``map_sum``) and add the results in chunk order.

    ``sources``: paths (loaded by each task) and in-memory pieces (prepared
    once, by ``_prepare_pieces``); ``labels`` name them in errors; ``name``
    names the corpus; ``piece_name`` is the name in the validation messages of
    the pieces of an in-memory X ("X", as in the in-memory fit).
    """

    def __init__(self, sources, labels, name, n_features=None, piece_name=None):
        self.name = name
        if n_features is None:
            first = sources[0]
            n_features = self._call(_shard_n_features, first) if isinstance(first, str) else first.shape[1]
            reference = f"the first {labels[0]}"
        else:
            reference = f"the corpus (n_features={n_features})"
        self.n_features = n_features
        self._vocab = (n_features, reference)
        self._sources = self._prepare_pieces(sources, labels, piece_name)

    def close(self):
        pass


class _Sequential(_Runner):
    """client=None with a ShardedCorpus: one chunk after the other in this process (memory: one shard)."""

    def _call(self, fn, *args):
        return fn(*args)

    def _prepare_pieces(self, sources, labels, piece_name):
        return [s if isinstance(s, str) else _prepare(s, label, self._vocab, piece_name)
                for s, label in zip(sources, labels)]

    def map_sum(self, fn, *args):
        total = None
        for source in self._sources:
            part = _apply(fn, source, self._vocab, *args)
            total = part if total is None else _add(total, part)
        return total


class _Threads(_Runner):
    """client="threads": Dask's threaded scheduler; the fold of the partial sums is a chain in chunk order."""

    def __init__(self, *args, **kwargs):
        import dask

        self._dask = dask
        self._uid = uuid.uuid4().hex
        super().__init__(*args, **kwargs)

    def _call(self, fn, *args):
        return fn(*args)

    def _literal(self, value, what):
        return self._dask.delayed(value, name=f"tensorbook-{what}-{self._uid}", traverse=False)

    def _prepare_pieces(self, sources, labels, piece_name):
        delayed = self._dask.delayed
        tasks = {i: delayed(_prepare, pure=False)(self._literal(s, f"piece{i}"), label, self._literal(self._vocab,
                                                  f"vocab-prep{i}"), piece_name)
                 for i, (s, label) in enumerate(zip(sources, labels)) if not isinstance(s, str)}
        chunks = dict(zip(tasks, self._dask.compute(*tasks.values(), scheduler="threads"))) if tasks else {}
        return [self._literal(chunks.get(i, s), f"source{i}") for i, s in enumerate(sources)]

    def map_sum(self, fn, *args):
        delayed = self._dask.delayed
        tag = uuid.uuid4().hex
        vocab = self._literal(self._vocab, f"vocab-{tag}")
        literals = [self._literal(a, f"arg{j}-{tag}") for j, a in enumerate(args)]
        total = None
        for source in self._sources:
            part = delayed(_apply, pure=False)(fn, source, vocab, *literals)
            total = part if total is None else delayed(_add, pure=False)(total, part)
        return total.compute(scheduler="threads")

    @staticmethod
    def n_threads():
        return os.cpu_count() or 1


class _Distributed(_Runner):
    """A ``distributed`` client: one task per chunk and pass, gathered and added in chunk order by the driver.

    At most ``WINDOW_PER_THREAD`` tasks per worker thread are in flight, so
    the partial sums waiting on the workers are bounded whatever the number
    of chunks. Each pass's arguments (Q, W) are submitted once as tasks of
    their own (not scattered: a task's result that a dead worker held is
    recomputed from its specification, a scattered value would be lost), and
    so are the in-memory pieces of an X, kept on the workers for the fit.
    """

    def __init__(self, client, *args, owned=(), **kwargs):
        self.client, self._owned, self._uid = client, owned, uuid.uuid4().hex
        self._held = []
        try:
            super().__init__(*args, **kwargs)
        except BaseException:
            self.close()
            raise

    def _submit(self, fn, *args, key, slot=None):
        where = {}
        if slot is not None and self._slots:  # chunk i prefers one worker thread in every pass (loosely)
            where = dict(workers=[self._slots[slot % len(self._slots)]], allow_other_workers=True)
        return self.client.submit(fn, *args, key=f"tensorbook-{key}-{self._uid}", pure=False, **where)

    def _refresh_slots(self):
        """One entry per worker thread. Without these preferences Dask would run every task of a pass where
        the pass's argument (Q or W) is, for its shards are but file names: on one worker."""
        self._slots = [w for w, n in sorted(self.client.nthreads().items()) for _ in range(n)]

    def _call(self, fn, *args):
        future = self._submit(fn, *args, key=fn.__name__.strip("_"))
        try:
            return future.result()
        finally:
            future.release()

    def _prepare_pieces(self, sources, labels, piece_name):
        self._refresh_slots()
        out = []
        for i, (s, label) in enumerate(zip(sources, labels)):
            if not isinstance(s, str):
                with warnings.catch_warnings():  # the chunk is in its task on purpose, sent once: not a mistake
                    warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
                    s = self._submit(_prepare, s, label, self._vocab, piece_name, key=f"chunk-{i}", slot=i)
                self._held.append(s)
            out.append(s)
        return out

    def map_sum(self, fn, *args):
        tag = f"{fn.__name__.strip('_')}-{uuid.uuid4().hex[:8]}"
        self._refresh_slots()  # (a worker may have been replaced)
        literals = [self._submit(_identity, a, key=f"{tag}-arg{j}") for j, a in enumerate(args)]
        n = len(self._sources)
        # at most `window` chunks in flight: the results the driver has not added yet wait on the workers
        window = max(4, WINDOW_PER_THREAD * len(self._slots))
        futures = {}

        def submit(i):
            futures[i] = self._submit(_apply, fn, self._sources[i], self._vocab, *literals, key=f"{tag}-{i}", slot=i)

        for i in range(min(window, n)):
            submit(i)
        total = None
        try:
            for i in range(n):  # exactly one result per chunk key, added in chunk order
                future = futures.pop(i)
                part = future.result()
                future.release()
                if i + window < n:
                    submit(i + window)
                total = part if total is None else _add(total, part)
        finally:
            if futures:
                self.client.cancel(list(futures.values()))
            for future in literals:
                future.release()
        return total

    def close(self):
        for future in self._held:
            future.release()
        self._held = []
        for resource in self._owned:  # the client, then the cluster, that the fit started
            resource.close()
        self._owned = ()


def open_runner(X, client=None):
    """Where the passes of ``SpectralLDA(client=client).fit(X)`` run: a runner with ``map_sum`` and ``close``.

    ``X`` is word counts in memory or a :class:`ShardedCorpus`; ``client`` is
    None, ``"threads"``, ``"local"``, a scheduler address or a
    ``distributed.Client`` (see :class:`tensorbook.topics.SpectralLDA`). An
    in-memory ``X`` with no client is validated here and cut into blocks
    (:class:`_InMemory`).
    """
    if client is not None and not isinstance(client, str) and not (hasattr(client, "submit")
                                                                   and hasattr(client, "nthreads")):
        raise TypeError(f"client must be None, 'threads', 'local', a scheduler address or a distributed.Client, "
                        f"got {type(client).__name__}")
    if isinstance(client, str) and client not in ("threads", "local") and "://" not in client:
        raise ValueError(f"client must be None, 'threads', 'local', a scheduler address such as "
                         f"'tcp://host:8786' or a distributed.Client, got {client!r}")
    if client is None and not isinstance(X, ShardedCorpus):
        return _InMemory.of(X)  # the whole corpus in this process, in blocks on threads: no Dask
    if isinstance(X, ShardedCorpus):
        sources, matrix = list(X.shards), None
        labels = [_label(s, i) for i, s in enumerate(sources)]
        kwargs = dict(name="the corpus", n_features=X.n_features)
    else:
        from sklearn.utils.validation import check_array

        matrix = scipy.sparse.csr_array(check_array(X, accept_sparse="csr", dtype=None, input_name="X"))
        sources = labels = None
        kwargs = dict(name="X", n_features=matrix.shape[1], piece_name="X")

    def pieces(n_threads):
        if matrix is None:
            return sources, labels
        n_docs = matrix.shape[0]
        n_chunks = min(n_docs, max(2 * n_threads, math.ceil(n_docs / MAX_DOCS_PER_CHUNK)))
        bounds = np.linspace(0, n_docs, n_chunks + 1).round().astype(int)
        parts = [matrix[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:])]
        return parts, [f"X rows {lo}-{hi - 1}" for lo, hi in zip(bounds[:-1], bounds[1:])]

    if client is None:
        return _Sequential(*pieces(1), **kwargs)
    if client == "threads":
        return _Threads(*pieces(_Threads.n_threads()), **kwargs)
    owned = []
    try:
        if client == "local":
            from distributed import Client, LocalCluster

            cluster = LocalCluster(host="127.0.0.1", dashboard_address="127.0.0.1:0", processes=True)  # a free port
            owned.append(cluster)
            client = Client(cluster, set_as_default=False)
            owned.insert(0, client)
        elif isinstance(client, str):
            from distributed import Client

            client = Client(client, set_as_default=False)
            owned.append(client)
        n_threads = max(1, sum(client.nthreads().values()))
    except BaseException:
        for resource in owned:
            resource.close()
        raise
    return _Distributed(client, *pieces(n_threads), owned=tuple(owned), **kwargs)
