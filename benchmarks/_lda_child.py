"""One timed LDA fit in a fresh process, for ``lda_bench.py``: tensorbook, tomotopy or gensim.

    python benchmarks/_lda_child.py '{"method": "tomotopy", "corpus": "...npz", "out": "...npz", ...}'

Only the standard library and NumPy are imported before the clock starts (the
corpus is read with NumPy alone), so the times include everything the
method's own library loads: its imports, and compiled code (Numba's on-disk
cache, tomotopy's and gensim's extension modules). Three phases are timed:

- ``import``: ``from tensorbook.topics import SpectralLDA`` (with
  ``scipy.sparse``), ``import tomotopy``, or gensim's ``LdaMulticore`` and
  ``Sparse2Corpus``;
- ``prepare``: the corpus into the method's input: a CSR matrix for
  tensorbook and for gensim's ``Sparse2Corpus``; for tomotopy, its
  ``add_doc`` calls only (each document's list of word strings is built
  outside the clock, as a tomotopy user already has token lists);
- ``fit``: the fit; for tomotopy the Gibbs iterations, with the time spent
  in the checkpoint callback (every ``check_every`` iterations, it copies
  the topics) left out.

It writes the topics (rows summing to 1, columns in the corpus's word
order) to ``out`` and prints one JSON line with the times. A tensorbook
child with ``refine`` > 0 also reports Numba's cache hits and misses for the
refinement's kernels (the E-step, or the two Gibbs kernels) and their largest
number of compiled signatures; the method
``tensorbook-kernel`` times the import of ``tensorbook.topics`` and then the
kernel's load alone (its compile, with an empty ``NUMBA_CACHE_DIR``).
"""

import json
import sys
import time

import numpy as np


def _tensorbook(spec, corpus):
    t0 = time.perf_counter()
    import scipy.sparse

    from tensorbook.topics import SpectralLDA

    t1 = time.perf_counter()
    X = scipy.sparse.csr_array((corpus["data"], corpus["indices"], corpus["indptr"]), shape=corpus["shape"])
    t2 = time.perf_counter()
    method = spec.get("refine_method", "em")
    model = SpectralLDA(spec["k"], alpha0=spec["alpha0"], refine_iter=spec["refine"], refine_method=method,
                        topic_word_prior=spec.get("eta"), random_state=spec["seed"]).fit(X)
    t3 = time.perf_counter()
    info = {}
    if spec["refine"]:  # did this process compile the refinement's kernels, or load them from Numba's cache?
        from tensorbook import _kernels

        kernels = [_kernels.lda_e_step] if method == "em" else [_kernels.lda_gibbs_start, _kernels.lda_gibbs_sweep]
        info = {"cache_hits": sum(k.stats.cache_hits.total() for k in kernels),
                "cache_misses": sum(k.stats.cache_misses.total() for k in kernels),
                "signatures": max(len(k.signatures) for k in kernels)}
    return (t1 - t0, t2 - t1, t3 - t2), model.components_, {}, info


def _tensorbook_kernel(spec, corpus):
    """The E-step kernel's load alone (or its compile, with an empty cache): what loading it at import would cost."""
    t0 = time.perf_counter()
    from tensorbook import topics

    t1 = time.perf_counter()
    kernel = topics._e_step_kernel()
    t2 = time.perf_counter()
    info = {"cache_hits": kernel.stats.cache_hits.total(), "cache_misses": kernel.stats.cache_misses.total(),
            "signatures": len(kernel.signatures)}
    return (t1 - t0, 0.0, t2 - t1), np.zeros((1, corpus["shape"][1])), {}, info


def _tomotopy(spec, corpus):
    t0 = time.perf_counter()
    import tomotopy

    t1 = time.perf_counter()
    k, vocab_size = spec["k"], corpus["shape"][1]
    model = tomotopy.LDAModel(k=k, alpha=spec["alpha0"] / k, eta=spec["eta"], seed=spec["seed"])
    model.optim_interval = 0  # keep the priors fixed (tomotopy re-estimates alpha every 10 iterations by default)
    words = [str(v) for v in range(vocab_size)]
    indptr, indices, data = corpus["indptr"], corpus["indices"], corpus["data"]
    adding = 0.0
    for d in range(len(indptr) - 1):
        lo, hi = indptr[d], indptr[d + 1]
        tokens = [words[v] for v in np.repeat(indices[lo:hi], data[lo:hi])]
        start = time.perf_counter()
        model.add_doc(tokens)
        adding += time.perf_counter() - start

    def topics_now(m):
        used = np.fromiter((int(w) for w in m.used_vocabs), dtype=np.int64)
        out = np.zeros((k, vocab_size))
        for topic in range(k):
            out[topic, used] = m.get_topic_word_dist(topic)
        return out / out.sum(axis=1, keepdims=True)

    checkpoints, aside = {"iterations": [], "seconds": [], "topics": []}, [0.0]

    def callback(m, iteration, total):
        start = time.perf_counter()
        checkpoints["iterations"].append(iteration)
        checkpoints["seconds"].append(start - t_train - aside[0])
        checkpoints["topics"].append(topics_now(m))
        aside[0] += time.perf_counter() - start

    t_train = time.perf_counter()
    model.train(spec["iterations"], workers=spec["threads"], callback_interval=spec["check_every"],
                callback=callback)
    t3 = time.perf_counter()
    fit = t3 - t_train - aside[0]
    if not checkpoints["iterations"] or checkpoints["iterations"][-1] != spec["iterations"]:
        checkpoints["iterations"].append(spec["iterations"])
        checkpoints["seconds"].append(fit)
        checkpoints["topics"].append(topics_now(model))
    return (t1 - t0, adding, fit), topics_now(model), checkpoints, {"global_step": model.global_step}


def _gensim(spec, corpus):
    t0 = time.perf_counter()
    import scipy.sparse
    from gensim.matutils import Sparse2Corpus
    from gensim.models import LdaMulticore

    t1 = time.perf_counter()
    X = scipy.sparse.csr_array((corpus["data"], corpus["indices"], corpus["indptr"]), shape=corpus["shape"])
    stream = Sparse2Corpus(X, documents_columns=False)
    id2word = {v: str(v) for v in range(corpus["shape"][1])}
    t2 = time.perf_counter()
    model = LdaMulticore(stream, num_topics=spec["k"], id2word=id2word, workers=spec["workers"],
                         passes=spec["passes"], alpha=spec["alpha0"] / spec["k"], eta=spec["eta"],
                         random_state=spec["seed"], eval_every=None)
    t3 = time.perf_counter()
    topics = model.get_topics().astype(np.float64)
    return (t1 - t0, t2 - t1, t3 - t2), topics / topics.sum(axis=1, keepdims=True), {}, {}


def main(spec):
    with np.load(spec["corpus"]) as z:
        corpus = {"indptr": z["indptr"], "indices": z["indices"], "data": z["data"], "shape": tuple(z["shape"])}
    run = {"tensorbook": _tensorbook, "tensorbook-kernel": _tensorbook_kernel, "tomotopy": _tomotopy,
           "gensim": _gensim}[spec["method"]]
    (imported, prepared, fitted), topics, checkpoints, info = run(spec, corpus)
    arrays = {"topics": topics}
    if checkpoints:
        arrays.update(iterations=np.array(checkpoints["iterations"]), seconds=np.array(checkpoints["seconds"]),
                      checkpoint_topics=np.array(checkpoints["topics"]))
    np.savez(spec["out"], **arrays)
    print(json.dumps({"import": imported, "prepare": prepared, "fit": fitted, **info}))
    return 0


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))
