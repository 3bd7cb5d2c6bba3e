"""SpectralLDA's moment passes over chunks of documents: in memory, streamed, on Dask threads and a LocalCluster.

One run prints the BLAS libraries and kernels in use (as the other scripts),
then, on a synthetic corpus ``make_lda_corpus(100_000, 20, 5_000, 100,
alpha=0.05, random_state=0)`` (D = 100,000 documents of about 100 words, V =
5,000, K = 20; generation not timed) written as uncompressed CSR shards by
``tensorbook.distributed.save_shards`` (8, 32 and 128 shards, writing not
timed), one row per way of running ``SpectralLDA(20, alpha0=1.0,
random_state=0).fit``:

- ``in memory``: ``client=None`` with the matrix in memory (no Dask: blocks
  of about ``BLOCK_NNZ`` nonzeros on BLAS's threads), the reference;
- ``streamed``: ``client=None`` with a ``ShardedCorpus``: one shard after
  the other in this process, each loaded and validated in every pass;
- ``threads``: ``client="threads"`` (Dask's threaded scheduler) with the
  shards, and with the in-memory matrix (cut into 2 chunks per thread);
- ``cluster``: a ``distributed.LocalCluster(n_workers=w,
  threads_per_worker=1)`` on 127.0.0.1 for w in 1, 2, started once per w
  (its start-up time is printed, not counted), with the shards (each task
  loads its shard on its worker) and with the in-memory matrix (sent once to
  the workers as chunk tasks).

Columns: the fit's best wall time of N timed calls after one untimed warm-up
call (``best_ms`` of ``_common``: the 0.3 s settle pause first), the
throughput in documents per second of the whole fit (6 passes over the
documents: the first, 2 + n_power_iter = 4 products with M2, the whitened
M3), the driver's peak RSS increase during a timed call (the free heap returned
to the OS with glibc's ``malloc_trim(0)``, then VmHWM reset to VmRSS through
/proc/self/clear_refs before it; the corpus, when in memory, is in the
baseline; with a cluster the driver also runs the scheduler), for a
cluster the largest worker peak RSS (each worker's VmHWM reset the same way,
read with ``client.run``: absolute, and the increase over its RSS before the
call) and the largest worker memory Dask itself reported (the scheduler's
``metrics["memory"]`` of each worker, sampled every 50 ms during the call),
and the largest absolute difference of ``components_`` from the in-memory
fit.

    .venv/bin/python benchmarks/dask_bench.py [--repeat 3] [--quick]

``--quick``: D = 20,000 and V = 2,000, one timed call. BLAS in this process
is limited to 2 threads (threadpoolctl; Numba too); Dask's nannies start
their workers with one BLAS thread. Last it prints how many CPUs other
processes kept busy (/proc/stat; the workers are this script's children and
are subtracted) and warns when the timings are suspect.
"""

import argparse
import ctypes
import gc
import inspect
import math
import os
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np

from tensorbook.distributed import save_shards
from tensorbook.topics import SpectralLDA, make_lda_corpus, topic_recovery_error

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OTHERS_MAX, SETTLE_S, cpu_snapshot, limited_threads, other_cpus, print_environment  # noqa: E402

FULL = dict(n_docs=100_000, n_topics=20, vocab_size=5_000, doc_length=100, alpha=0.05)
QUICK = dict(n_docs=20_000, n_topics=20, vocab_size=2_000, doc_length=100, alpha=0.05)
ALPHA0 = 1.0
CHUNKS = (8, 32, 128)
WORKERS = (1, 2)
THREADS = 2


def status_kb(field, pid="self"):
    """A field of /proc/<pid>/status in bytes (VmRSS, VmHWM), or 0 where there is no /proc."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def reset_peak():
    """Return the free heap to the OS (glibc ``malloc_trim``), then reset VmHWM to VmRSS (Linux); True if it worked.

    Without the trim, memory freed by the previous call but kept by the
    allocator would count in the baseline, and a peak below it would read +0.
    """
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def worker_memory():
    """Run on a worker: (VmRSS, VmHWM) in bytes."""
    return status_kb("VmRSS"), status_kb("VmHWM")


def children_cpu():
    t = os.times()
    return t.children_user + t.children_system


class DaskMemorySampler:
    """The largest worker memory the scheduler reports (``metrics["memory"]``), sampled in a thread."""

    def __init__(self, client, every=0.05):
        self.client, self.every, self.peak = client, every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        # all the workers (newer versions of distributed list only the first 5 unless asked)
        kwargs = {"n_workers": -1} if "n_workers" in inspect.signature(self.client.scheduler_info).parameters else {}
        while not self._stop.is_set():
            try:
                workers = self.client.scheduler_info(**kwargs)["workers"].values()
                self.peak = max([self.peak] + [w.get("metrics", {}).get("memory", 0) for w in workers])
            except Exception:  # the client is closing: stop sampling
                return
            self._stop.wait(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def measure(fit, repeat, client=None):
    """Best time of ``repeat`` calls of ``fit()`` after a warm-up, and the memory peaks of the timed calls."""
    time.sleep(SETTLE_S)
    model = fit()
    best, driver, worker_abs, worker_inc, reported, resettable = math.inf, 0, 0, 0, 0, True
    for _ in range(repeat):
        gc.collect()
        if client is not None:
            client.run(reset_peak)
            before = client.run(worker_memory)
        resettable &= reset_peak()
        rss0 = status_kb("VmRSS")
        sampler = DaskMemorySampler(client) if client is not None else None
        t0 = time.perf_counter()
        if sampler:
            with sampler:
                model = fit()
        else:
            model = fit()
        best = min(best, time.perf_counter() - t0)
        driver = max(driver, status_kb("VmHWM") - rss0)
        if client is not None:
            after = client.run(worker_memory)
            for address, (_, hwm) in after.items():
                worker_abs = max(worker_abs, hwm)
                if address in before:
                    worker_inc = max(worker_inc, hwm - before[address][0])
            reported = max(reported, sampler.peak)
    return dict(seconds=best, driver=driver, worker_abs=worker_abs, worker_inc=worker_inc, reported=reported,
                model=model, resettable=resettable)


def spectral(k, client=None):
    return SpectralLDA(k, alpha0=ALPHA0, random_state=0, client=client)


def quiet(fn):
    """``fn`` with the "documents left out" warning silenced (every document has about 100 words here)."""
    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return fn()
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed calls per row (the best is kept)")
    parser.add_argument("--quick", action="store_true", help="D = 20,000, V = 2,000, one timed call")
    args = parser.parse_args()
    spec, repeat = (QUICK, 1) if args.quick else (FULL, args.repeat)

    from distributed import Client, LocalCluster

    print_environment()
    start, children0 = cpu_snapshot(), children_cpu()
    t0 = time.perf_counter()
    X, topics, _ = make_lda_corpus(spec["n_docs"], spec["n_topics"], spec["vocab_size"], spec["doc_length"],
                                   alpha=spec["alpha"], random_state=0)
    k, n_docs = spec["n_topics"], X.shape[0]
    nbytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    print(f"\nCorpus: make_lda_corpus({n_docs:_}, {k}, {spec['vocab_size']:_}, {spec['doc_length']},"
          f" alpha={spec['alpha']}, random_state=0): {X.nnz:,} nonzeros, CSR {X.data.dtype}/{X.indices.dtype}"
          f" {nbytes / 1e6:.0f} MB; generated in {time.perf_counter() - t0:.1f} s (not counted)")
    print(f"SpectralLDA({k}, alpha0={ALPHA0}, random_state=0).fit: best of {repeat} after one warm-up call;"
          f" BLAS and Numba limited to {THREADS} threads in this process\n")

    rows = []

    def row(mode, data, chunks, workers, result):
        rows.append(dict(mode=mode, data=data, chunks=chunks, workers=workers, **result))
        r = rows[-1]
        print(f"  measured: {mode:9s} {data:9s} chunks={chunks!s:>4s} workers={workers:5s} {r['seconds']:.2f} s",
              flush=True)

    with tempfile.TemporaryDirectory(prefix="tensorbook-dask-bench-") as tmp:
        corpora = {}
        for n in CHUNKS:
            t0 = time.perf_counter()
            corpora[n] = save_shards(X, os.path.join(tmp, f"{n}"), docs_per_shard=math.ceil(n_docs / n))
            size = sum(os.path.getsize(p) for p in corpora[n].shards)
            print(f"  {len(corpora[n])} shards of {math.ceil(n_docs / n):,} documents: {size / 1e6:.0f} MB on disk,"
                  f" written in {time.perf_counter() - t0:.1f} s (not counted)")
        print()
        with limited_threads(THREADS):
            reference = measure(quiet(lambda: spectral(k).fit(X)), repeat)
            from tensorbook._corpus import _InMemory  # how many blocks the in-memory passes use (not timed)

            row("in memory", "X", len(_InMemory.of(X).blocks), f"{THREADS}t", reference)
            for n in CHUNKS:
                row("streamed", "shards", n, "-", measure(quiet(lambda: spectral(k).fit(corpora[n])), repeat))
            row("threads", "X", 2 * (os.cpu_count() or 1), f"{os.cpu_count()}t",
                measure(quiet(lambda: spectral(k, "threads").fit(X)), repeat))
            for n in CHUNKS:
                row("threads", "shards", n, f"{os.cpu_count()}t",
                    measure(quiet(lambda: spectral(k, "threads").fit(corpora[n])), repeat))
            for w in WORKERS:
                t0 = time.perf_counter()
                cluster = LocalCluster(n_workers=w, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address="127.0.0.1:0")
                client = Client(cluster, set_as_default=False)
                print(f"  LocalCluster({w} worker(s) x 1 thread) started in {time.perf_counter() - t0:.1f} s"
                      " (not counted)")
                try:
                    row("cluster", "X", 2 * w, f"{w}x1",
                        measure(quiet(lambda: spectral(k, client).fit(X)), repeat, client))
                    for n in CHUNKS:
                        row("cluster", "shards", n, f"{w}x1",
                            measure(quiet(lambda: spectral(k, client).fit(corpora[n])), repeat, client))
                finally:
                    client.close()
                    cluster.close()

    base = reference["model"].components_
    print(f"\nD = {n_docs:,} documents, V = {X.shape[1]:,}, K = {k}; topic L1 of the in-memory fit"
          f" {topic_recovery_error(topics, base):.4f}. MB = 10^6 bytes.\n")
    header = (f"{'mode':9s} {'data':6s} {'chunks':>6s} {'workers':>7s} {'fit s':>7s} {'docs/s':>9s} {'vs mem':>6s}"
              f" {'driver +MB':>10s} {'worker MB':>9s} {'worker +MB':>10s} {'dask MB':>8s} {'max|dcomp|':>10s}")
    print(header)
    print("-" * len(header))
    for r in rows:
        diff = float(np.abs(r["model"].components_ - base).max())
        cluster = r["mode"] == "cluster"
        print(f"{r['mode']:9s} {r['data']:6s} {r['chunks']:>6} {r['workers']:>7s} {r['seconds']:7.2f}"
              f" {n_docs / r['seconds']:9,.0f} {reference['seconds'] / r['seconds']:5.2f}x"
              f" {r['driver'] / 1e6:10.0f}"
              + (f" {r['worker_abs'] / 1e6:9.0f} {r['worker_inc'] / 1e6:10.0f} {r['reported'] / 1e6:8.0f}"
                 if cluster else f" {'-':>9s} {'-':>10s} {'-':>8s}")
              + f" {diff:10.1e}")
    if not all(r["resettable"] for r in rows):
        print("\nNOTE: /proc/self/clear_refs could not reset VmHWM: the driver peaks are upper bounds.")
    worst = max(float(np.abs(r["model"].components_ - base).max()) for r in rows)
    print(f"\nAll fits equal the in-memory one to {worst:.1e} (max |difference| of components_).")

    others = other_cpus(start)
    if others is not None:
        others = max(others - (children_cpu() - children0) / (time.perf_counter() - start[0]), 0.0)
        print(f"Other processes kept {others:.2f} CPUs busy on average during the run.")
    if (others or 0) > OTHERS_MAX:
        print("\nWARNING: another process was competing for the cores; rerun on an idle machine.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
