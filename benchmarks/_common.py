"""Helpers shared by the benchmark scripts: the timing rule and the environment line."""

import os
import time
from pathlib import Path

from contextlib import contextmanager

import numba
from threadpoolctl import threadpool_info, threadpool_limits

SETTLE_S = 0.3


def best_ms(fn, repeat):
    """Best-of-``repeat`` wall time of ``fn()`` in ms, after one untimed warm-up call.

    It first sleeps SETTLE_S so that the worker threads of the previous kernel
    (OpenBLAS and OpenMP threads busy-wait for a while after a call) are idle
    and do not take the cores from this one: on two cores they would.
    """
    time.sleep(SETTLE_S)
    fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1e3


def print_environment():
    """Print the OpenBLAS variables, CPU count and load, then each BLAS library and its kernel."""
    env = {k: os.environ.get(k, "unset") for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    print("Environment: " + ", ".join(f"{k}={v}" for k, v in env.items())
          + f"; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    for info in (i for i in threadpool_info() if i.get("user_api") == "blas"):
        print(f"BLAS: {info.get('internal_api')} {info.get('version')}, kernel {info.get('architecture')}"
              f" ({Path(info.get('filepath', '')).name})")


def cpu_snapshot():
    """(wall time, busy CPU seconds of the whole machine, CPU seconds of this process), for ``other_cpus``.

    The machine's share is read from /proc/stat (Linux); elsewhere it is None.
    """
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
        # user nice system idle iowait irq softirq steal ...: all but idle and iowait are busy
        busy = (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        busy = None
    own = os.times()
    return time.perf_counter(), busy, own.user + own.system


def other_cpus(start):
    """Average number of CPUs kept busy by other processes since ``start`` (a ``cpu_snapshot()``), or None."""
    end = cpu_snapshot()
    if start[1] is None or end[1] is None:
        return None
    return max((end[1] - start[1]) - (end[2] - start[2]), 0.0) / (end[0] - start[0])

#: CPUs used by other processes (on average) above which the timings are suspect.
OTHERS_MAX = 0.1


@contextmanager
def limited_threads(threads):
    """BLAS (threadpoolctl) and Numba both limited to ``threads``."""
    with threadpool_limits(limits=threads, user_api="blas"):
        numba.set_num_threads(threads)
        yield


def interleaved_ms(cases, rounds, settle=0.0):
    """Median and spread (min, max) in ms of each of ``cases`` (name -> fn), timed in interleaved rounds.

    Each round calls every case once, in the same order (A B C A B C ...), after one untimed
    warm-up round: a slow stretch of the machine then hits every case alike, and the ratios
    between cases keep their meaning. With ``settle`` > 0 it waits that many seconds before
    each timed call, so that the busy-waiting worker threads of the previous case's library
    (OpenBLAS, OpenMP) are idle and do not take a core from the next one: on two cores they
    would. It waits busily: after a sleep, a virtual CPU resumes slowly and the next call is
    timed on a cold core.
    """
    import statistics

    for fn in cases.values():
        fn()
    times = {name: [] for name in cases}
    for _ in range(rounds):
        for name, fn in cases.items():
            if settle:
                _spin(settle)
            t0 = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - t0) * 1e3)
    return {name: (statistics.median(t), min(t), max(t)) for name, t in times.items()}


def _spin(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def bandwidth_gbs(n_bytes=400_000_000, repeat=5):
    """Memory bandwidth in GB/s: the best of ``repeat`` copies of an array of ``n_bytes`` (read + write)."""
    import numpy as np

    a = np.ones(n_bytes // 8)
    b = np.empty_like(a)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        np.copyto(b, a)
        best = min(best, time.perf_counter() - t0)
    return 2 * a.nbytes / best / 1e9


def read_bandwidth_gbs(threads, n_bytes=512_000_000, repeat=5):
    """Read bandwidth in GB/s at ``threads`` threads: the best of ``repeat`` sums of an array of ``n_bytes``.

    A parallel Numba loop, one vectorised sum per thread, reads the array once (no
    writes): the limit of any kernel that must read a tensor once (an MTTKRP, a
    mode-n product with few output rows). On the reference machine it reads faster
    than ``np.sum`` (22 against 18 GB/s on one thread).
    """
    import numpy as np

    a = np.ones(n_bytes // 8)
    with limited_threads(threads):
        _read_sum(a, threads)  # compile (or load from the cache) and touch the pages
        best = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            _read_sum(a, threads)
            best = min(best, time.perf_counter() - t0)
    return a.nbytes / best / 1e9


def _read_sum(a, threads):
    return _read_sum_kernel()(a, threads)


_KERNEL = []


def _read_sum_kernel():
    if not _KERNEL:
        import numpy as np
        from numba import njit, prange

        @njit(fastmath=True)
        def sum_slice(a):  # a slice starting at 0: LLVM vectorises this loop (not one over range(lo, hi))
            s = 0.0
            for i in range(a.shape[0]):
                s += a[i]
            return s

        @njit(parallel=True)
        def kernel(a, n_chunks):
            n = a.shape[0]
            step = (n + n_chunks - 1) // n_chunks
            partial = np.zeros(n_chunks)
            for c in prange(n_chunks):
                partial[c] = sum_slice(a[c * step:min(n, (c + 1) * step)])
            return partial.sum()

        _KERNEL.append(kernel)
    return _KERNEL[0]


def print_machine(threads=(1, 2), gemm_n=2000):
    """Print the environment, then this machine's float64 GEMM peak and read bandwidth at each thread count.

    Returns ``{"gemm": {t: GFLOP/s}, "read": {t: GB/s}}`` so that a script can report its
    kernels as shares of both limits. Every benchmark calls it first: machines differ by
    2x, so the absolute times of a run only mean something next to these.
    """
    from gemm_peak import gemm_gflops

    print_environment()
    gemm = {t: gemm_gflops(gemm_n, t, 5) for t in threads}
    read = {t: read_bandwidth_gbs(t) for t in threads}
    print(f"GEMM peak (float64, n={gemm_n}, best of 5): "
          + ", ".join(f"{gemm[t]:.1f} GFLOP/s at {t} thread(s)" for t in threads))
    print("Read bandwidth (sum of 512 MB, best of 5): "
          + ", ".join(f"{read[t]:.1f} GB/s at {t} thread(s)" for t in threads))
    return {"gemm": gemm, "read": read}
