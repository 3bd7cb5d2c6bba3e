"""SpectralLDA's moment passes over chunks of documents: in process, on Dask threads and on a local cluster.

Every chunked fit must equal the in-memory one (same random_state) to 1e-10;
a worker killed mid-fit must neither lose nor double-count a chunk; a bad
shard must be named; the in-process streaming of shards must keep memory
flat as the corpus grows. The tests that start clusters are marked slow.
"""

import os
import pickle
import re
import signal
import subprocess
import sys
import threading
import time
import tracemalloc
import warnings
from collections import Counter

import numpy as np
import pytest
import scipy.sparse

from tensorbook.distributed import ShardedCorpus, save_shards
from tensorbook.topics import SpectralLDA, make_lda_corpus

ATTRIBUTES = ("components_", "alpha_", "weights_", "eigenvalues_", "noise_level_")
PARAMS = dict(alpha0=0.8, random_state=0)
N_SHORT = 5 + 700  # documents with fewer than 3 words: 5 scattered, and the whole third shard


def fit(X, client=None, k=4, **params):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".* document\(s\) with fewer than 3 words")
        return SpectralLDA(k, client=client, **(PARAMS | params)).fit(X)


def assert_same_fit(model, reference, atol=1e-10):
    for name in ATTRIBUTES:
        np.testing.assert_allclose(getattr(model, name), getattr(reference, name), rtol=0, atol=atol, err_msg=name)
    assert model.n_documents_dropped_ == reference.n_documents_dropped_


@pytest.fixture(scope="module")
def corpus():
    """6,000 documents (V = 300, K = 4) with short ones: 5 scattered and all of rows 1400-2099 (a whole shard)."""
    X, _, _ = make_lda_corpus(6000, 4, 300, 60, alpha=0.2, random_state=0)
    X = X.tolil()
    for rows in (slice(0, 5), slice(1400, 2100)):
        X[rows] = 0
        X[rows, 7] = 2
    X = scipy.sparse.csr_array(X.tocsr())
    with pytest.warns(UserWarning, match=rf"{N_SHORT} document\(s\) with fewer than 3 words"):
        reference = SpectralLDA(4, **PARAMS).fit(X)
    assert reference.n_documents_dropped_ == N_SHORT
    return X, reference


@pytest.fixture(scope="module")
def shards(corpus, tmp_path_factory):
    """The corpus as 9 shards on disk (700 documents each, the last 400)."""
    return save_shards(corpus[0], tmp_path_factory.mktemp("shards"), docs_per_shard=700)


@pytest.fixture(scope="module")
def cluster_client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address="127.0.0.1:0")  # None would still bind 0.0.0.0:8787
    client = Client(cluster, set_as_default=False)
    yield client
    client.close()
    cluster.close()


# --------------------------------------------------------------------------
# equal to the in-memory fit
# --------------------------------------------------------------------------


def test_in_process_streaming_of_shards_equals_the_in_memory_fit(corpus, shards):
    X, reference = corpus
    assert len(shards) == 9 and shards.n_features == 300
    with pytest.warns(UserWarning, match=rf"{N_SHORT} document\(s\) with fewer than 3 words"):
        streamed = SpectralLDA(4, **PARAMS).fit(shards)
    assert_same_fit(streamed, reference)
    assert streamed.n_features_in_ == 300
    np.testing.assert_allclose(streamed.transform(X[:20]), reference.transform(X[:20]), atol=1e-9)
    # the same from a directory, a glob pattern, and uneven pieces already in memory
    directory = os.path.dirname(shards.shards[0])
    pattern = os.path.join(directory, "shard-*.npz")
    assert ShardedCorpus(directory).shards == ShardedCorpus(pattern).shards == shards.shards
    assert_same_fit(fit(ShardedCorpus(directory)), reference)
    pieces = ShardedCorpus([X[:1], X[1:1500], X[1500:4000], X[4000:]])
    assert_same_fit(fit(pieces), reference)


def test_dask_threads_equal_the_in_memory_fit(corpus, shards):
    X, reference = corpus
    assert_same_fit(fit(X, "threads"), reference)
    assert_same_fit(fit(shards, "threads"), reference)
    with pytest.warns(UserWarning, match=rf"{N_SHORT} document\(s\) with fewer than 3 words"):
        SpectralLDA(4, client="threads", **PARAMS).fit(shards)


def test_refinement_of_an_in_memory_x_with_a_client_equals_the_in_memory_one(corpus):
    X, _ = corpus
    assert_same_fit(fit(X, "threads", refine_iter=2), fit(X, refine_iter=2), atol=1e-9)


def test_gibbs_refinement_of_an_in_memory_x_with_a_client_matches_the_in_memory_one(corpus):
    # The moments agree to rounding; the draws then agree unless a rounding difference moves one of them
    # across a topic boundary, after which the chains differ by Monte Carlo noise: close topics, not equal bits.
    from tensorbook.topics import topic_recovery_error

    X, _ = corpus
    on_client, in_memory = (fit(X, client, refine_iter=3, refine_method="gibbs") for client in ("threads", None))
    np.testing.assert_allclose(on_client.alpha_, in_memory.alpha_, rtol=1e-9)
    assert topic_recovery_error(in_memory.components_, on_client.components_) < 0.02


@pytest.mark.slow
def test_a_local_cluster_equals_the_in_memory_fit(corpus, shards, cluster_client):
    X, reference = corpus
    assert_same_fit(fit(X, cluster_client), reference)  # X cut into chunks, sent once to the workers
    assert_same_fit(fit(shards, cluster_client), reference)  # each task loads its shard on its worker
    pieces = ShardedCorpus([X[:1], X[1:1500], X[1500:4000], X[4000:]])
    assert_same_fit(fit(pieces, cluster_client), reference)
    with pytest.warns(UserWarning, match=rf"{N_SHORT} document\(s\) with fewer than 3 words"):
        SpectralLDA(4, client=cluster_client, **PARAMS).fit(shards)
    # the cluster keeps nothing of the fits (the releases reach the scheduler asynchronously)
    deadline = time.monotonic() + 10
    while (left := [k for k in cluster_client.who_has() if "tensorbook" in str(k)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not left


@pytest.mark.slow
def test_client_by_address_local_cluster_clone_and_pickle(corpus, shards, cluster_client):
    from sklearn.base import clone

    X, reference = corpus
    address = cluster_client.scheduler.address
    assert_same_fit(fit(shards, address), reference)
    lda = SpectralLDA(4, client=cluster_client, **PARAMS)
    assert clone(lda).client is cluster_client  # a live client is shared, not copied
    with pytest.warns(UserWarning, match="fewer than 3 words"):
        restored = pickle.loads(pickle.dumps(lda.fit(shards)))
    assert restored.client == address  # pickled as its address
    assert_same_fit(restored, reference)
    assert_same_fit(fit(X[:3000], "local"), fit(X[:3000]))  # a LocalCluster for the fit, closed after


# --------------------------------------------------------------------------
# a worker dies mid-fit
# --------------------------------------------------------------------------


def _slow_tasks(delay):
    """Run on each worker: every chunk task of a pass takes ``delay`` more seconds (a restarted worker is fast)."""
    import time

    import tensorbook._corpus as corpus

    apply = corpus._apply

    def slow(*args):
        time.sleep(delay)
        return apply(*args)

    corpus._apply = slow  # the tasks name tensorbook._corpus._apply: the workers look it up when they run one


@pytest.mark.slow
@pytest.mark.parametrize("data", ["shards on disk", "pieces in memory"])
def test_a_worker_killed_mid_fit_loses_and_double_counts_no_chunk(corpus, tmp_path, data):
    """24 chunks; a worker dies during the products with M2. Dask reruns its tasks elsewhere (and, for pieces in
    memory, recomputes the chunks it held from their tasks), and the driver adds one result per chunk."""
    import cloudpickle
    from distributed import Client, LocalCluster, get_task_stream

    X, reference = corpus
    if data == "shards on disk":
        sharded = save_shards(X, tmp_path, docs_per_shard=250)
    else:
        sharded = ShardedCorpus([X[i:i + 250] for i in range(0, X.shape[0], 250)])
    assert len(sharded) == 24
    # a fresh cluster (it loses a worker); its HTTP server on a free port, not on the module cluster's 8787
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address="127.0.0.1:0")
    client = Client(cluster, set_as_default=False)
    try:
        cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import this test module
        try:
            client.run(_slow_tasks, 0.05)
        finally:
            cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
        result = {}

        def run():
            try:
                result["model"] = fit(sharded, client)
            except BaseException as exc:  # reported by the main thread
                result["error"] = exc

        thread = threading.Thread(target=run)
        stream = get_task_stream(client)
        stream.__enter__()
        thread.start()
        deadline, victim = time.monotonic() + 60, None
        while victim is None and time.monotonic() < deadline and thread.is_alive():
            busy = {w: keys for w, keys in client.processing().items() if any("m2_pass" in str(k) for k in keys)}
            if busy:  # a worker is in the middle of the products with M2: kill its process
                victim = next(iter(busy))
            else:
                time.sleep(0.02)
        assert victim is not None, "the fit never reached the M2 passes"
        nanny = next(n for n in cluster.workers.values() if n.worker_address == victim)
        os.kill(nanny.process.process.pid, signal.SIGKILL)
        assert thread.is_alive(), "the fit ended before the worker was killed: the test proves nothing"
        thread.join(120)
        stream.__exit__(None, None, None)
        assert not thread.is_alive()
        if "error" in result:
            raise result["error"]
        assert victim not in client.nthreads()  # the worker really died
        assert_same_fit(result["model"], reference)
        if data == "pieces in memory":  # the chunks the dead worker held were computed again, from their tasks
            runs = Counter(task["key"] for task in stream.data if "tensorbook-chunk-" in task["key"])
            assert len(runs) == 24 and max(runs.values()) == 2, runs
    finally:
        client.close()
        cluster.close()


# --------------------------------------------------------------------------
# bad shards are named
# --------------------------------------------------------------------------


def _write_bad(kind, path, good):
    """A bad shard of ``kind`` at ``path`` (``good``: a good CSR shard to spoil)."""
    if kind == "missing":
        return
    if kind == "corrupt bytes":
        path.write_bytes(b"\x00not a zip file\xff" * 64)
    elif kind == "truncated":
        scipy.sparse.save_npz(path, good)
        path.write_bytes(path.read_bytes()[:200])
    elif kind == "dense npz":
        np.savez(path, counts=good.toarray())
    elif kind == "csc":
        scipy.sparse.save_npz(path, scipy.sparse.csc_array(good))
    elif kind == "wrong vocabulary":
        scipy.sparse.save_npz(path, scipy.sparse.csr_array((good.data, good.indices, good.indptr),
                                                           shape=(good.shape[0], good.shape[1] + 1)))
    else:
        bad = good.astype(np.float64)
        bad.data[3] = {"negative": -1.0, "non-integer": 1.5, "nan": np.nan}[kind]
        scipy.sparse.save_npz(path, bad)


MESSAGES = {
    "missing": (FileNotFoundError, "shard file not found"),
    "corrupt bytes": (ValueError, "is not a sparse matrix written by scipy.sparse.save_npz"),
    "truncated": (ValueError, "is not a sparse matrix written by scipy.sparse.save_npz"),
    "dense npz": (ValueError, "is not a sparse matrix written by scipy.sparse.save_npz"),
    "csc": (ValueError, "holds a CSC matrix; shards must be CSR"),
    "wrong vocabulary": (ValueError, r"has 301 columns \(words\), but the first shard '.*' has 300"),
    "negative": (ValueError, "Negative values in data passed to shard"),
    "non-integer": (ValueError, "must contain integer word counts, got non-integer values"),
    "nan": (ValueError, "contains NaN"),
}


def _corpus_with_a_bad_shard(X, directory, kind, position):
    directory.mkdir()
    good = save_shards(X[:1500], directory, docs_per_shard=500).shards
    bad = directory / "bad.npz"
    _write_bad(kind, bad, X[500:1000])
    paths = list(good)
    paths.insert(position, str(bad))
    return ShardedCorpus(paths), str(bad)


@pytest.mark.parametrize("kind, position", [(kind, 1) for kind in MESSAGES] + [("missing", 0), ("corrupt bytes", 0)])
def test_a_bad_shard_is_named_in_process(corpus, tmp_path, kind, position):
    sharded, bad = _corpus_with_a_bad_shard(corpus[0], tmp_path / "c", kind, position)
    error, message = MESSAGES[kind]
    with pytest.raises(error, match=message) as info:
        fit(sharded)
    assert bad in str(info.value)


def test_a_bad_shard_is_named_with_dask_threads(corpus, tmp_path):
    sharded, bad = _corpus_with_a_bad_shard(corpus[0], tmp_path / "c", "negative", 2)
    with pytest.raises(ValueError, match=re.escape(bad)):
        fit(sharded, "threads")


@pytest.mark.slow
@pytest.mark.parametrize("kind, position", [("missing", 1), ("corrupt bytes", 1), ("wrong vocabulary", 1),
                                            ("negative", 1), ("missing", 0)])
def test_a_bad_shard_is_named_through_the_cluster(corpus, tmp_path, cluster_client, kind, position):
    sharded, bad = _corpus_with_a_bad_shard(corpus[0], tmp_path / "c", kind, position)
    error, message = MESSAGES[kind]
    with pytest.raises(error, match=message) as info:
        fit(sharded, cluster_client)
    assert bad in str(info.value)


def test_bad_in_memory_pieces_and_arguments_are_rejected_clearly(corpus, tmp_path):
    X, _ = corpus
    negative = X[:100].astype(float)
    negative.data[0] = -2
    with pytest.raises(ValueError, match="Negative values in data passed to shard 1"):
        fit(ShardedCorpus([X[:100], negative]))
    with pytest.raises(ValueError, match="Negative values in data passed to X"):  # as in the in-memory fit
        fit(scipy.sparse.vstack([X[:3000], negative]).tocsr(), "threads")
    with pytest.raises(ValueError, match="shard 1 has 299 columns"):
        fit(ShardedCorpus([X[:100], X[:100, :299]]))
    with pytest.raises(ValueError, match="the corpus must hold at least one document with 3 or more words"):
        fit(ShardedCorpus([X[1400:1500], X[1500:1600]]))
    with pytest.raises(ValueError, match="refine_iter must be 0 with a ShardedCorpus"):
        fit(ShardedCorpus([X[:100]]), refine_iter=1)
    with pytest.raises(ValueError, match="client must be None, 'threads', 'local', a scheduler address"):
        fit(X, "processes")
    with pytest.raises(TypeError, match="client must be None"):
        fit(X, 3)
    with pytest.raises(ValueError, match="holds no .npz files"):
        ShardedCorpus(tmp_path)
    with pytest.raises(ValueError, match="no file matches the pattern"):
        ShardedCorpus(str(tmp_path / "*.npz"))
    with pytest.raises(TypeError, match="shard 0 must be a path or a matrix"):
        ShardedCorpus([3])
    save_shards(X[:10], tmp_path / "s", docs_per_shard=4)
    with pytest.raises(FileExistsError, match="overwrite=True replaces them"):
        save_shards(X[:10], tmp_path / "s", docs_per_shard=5)
    assert len(save_shards(X[:10], tmp_path / "s", docs_per_shard=5, overwrite=True)) == 2
    assert len(ShardedCorpus(tmp_path / "s")) == 2


# --------------------------------------------------------------------------
# memory and imports
# --------------------------------------------------------------------------


def test_in_process_streaming_memory_is_flat_as_the_corpus_grows(tmp_path):
    X, _, _ = make_lda_corpus(24_000, 3, 1000, 100, alpha=0.2, random_state=1)
    paths = save_shards(X, tmp_path, docs_per_shard=2000).shards  # 12 shards of about 2.2 MB (CSR) each
    del X
    peaks = {}
    for n in (3, 12):
        sharded = ShardedCorpus(paths[:n])
        fit(sharded, k=3)  # warm-up
        tracemalloc.start()
        try:
            fit(sharded, k=3)
            peaks[n] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    # holding the shards would take 4x the memory with 12 as with 3 (about +20 MB)
    assert peaks[12] < 1.3 * peaks[3], peaks


def test_the_in_memory_fit_does_not_import_dask():
    code = ("import sys, warnings; import tensorbook.topics as t; "
            "X = t.make_lda_corpus(500, 2, 30, 40, random_state=0)[0]; t.SpectralLDA(2, random_state=0).fit(X); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'dask', 'distributed'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
