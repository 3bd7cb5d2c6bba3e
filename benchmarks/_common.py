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


def interleaved_ms(cases, rounds):
    """Median and spread (min, max) in ms of each of ``cases`` (name -> fn), timed in interleaved rounds.

    Each round calls every case once, in the same order, after one untimed warm-up round: a slow
    stretch of the machine then hits every case alike, and the ratios between cases keep their meaning.
    """
    import statistics

    for fn in cases.values():
        fn()
    times = {name: [] for name in cases}
    for _ in range(rounds):
        for name, fn in cases.items():
            t0 = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - t0) * 1e3)
    return {name: (statistics.median(t), min(t), max(t)) for name, t in times.items()}


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
