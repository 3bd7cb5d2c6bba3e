"""This machine's float64 GEMM peak (GFLOP/s) at 1 and 2 BLAS threads.

Every benchmark in this folder reports its kernels as a fraction of this peak,
next to ratios against NumPy / TensorLy / scikit-learn measured in the same run.

    .venv/bin/python benchmarks/gemm_peak.py [--n 2000] [--repeat 5]

Note: on some processors this workplace sets OPENBLAS_CORETYPE (and
OPENBLAS_L2_SIZE), which slow a current OpenBLAS; the kernel in use is printed
so the number can be read for what it is.
"""

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits


def gemm_gflops(n: int, threads: int, repeat: int, dtype=np.float64) -> float:
    """Best-of-``repeat`` GFLOP/s of an n x n matrix product (2 n^3 flops), float64 unless ``dtype``."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n)).astype(dtype), rng.standard_normal((n, n)).astype(dtype)
    out = np.empty((n, n), dtype)
    with threadpool_limits(limits=threads, user_api="blas"):
        np.matmul(a, b, out=out)  # warm up
        best = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            np.matmul(a, b, out=out)
            best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    for info in blas:
        print(f"BLAS: {info.get('internal_api')} {info.get('version')}, kernel {info.get('architecture')}")
    print(f"{'threads':>7} | {'GFLOP/s':>8}   (float64 GEMM, n = {args.n}, best of {args.repeat})")
    for threads in (1, 2):
        print(f"{threads:>7} | {gemm_gflops(args.n, threads, args.repeat):8.1f}")


if __name__ == "__main__":
    main()
