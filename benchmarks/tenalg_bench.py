"""tensorbook's mode_dot and MTTKRP against TensorLy and np.einsum: ratios, share of GEMM peak and of bandwidth.

One run prints this machine's limits first (``_common.print_machine``: the
BLAS library and kernel, the float64 GEMM peak and the read bandwidth at 1 and
2 threads, and the float32 GEMM peak), then for a 200x200x200 tensor in float64
and in float32, at 1 and 2 threads, one row per operation and mode:

- ``mode_dot(X, U, mode)`` with U 50x200, against ``tensorly.tenalg.mode_dot``
  and ``np.einsum(..., optimize=True)``; its share of the GEMM peak (of the
  same dtype and thread count) next to TensorLy's;
- ``mttkrp(X, factors, mode)`` with rank-10 factors, against
  ``tensorly.tenalg.unfolding_dot_khatri_rao`` and
  ``np.einsum("abc,br,cr->ar", ..., optimize=True)``-style contractions; its
  share of the bandwidth limit (one read of X at the measured read bandwidth).

Each time is the median of ``--rounds`` (at least 7) interleaved rounds (tb,
TensorLy, einsum, tb, TensorLy, einsum, ...) after one untimed warm-up round,
with its min-max spread; before each timed call the script waits busily 0.3 s
so that the previous library's spinning worker threads (OpenBLAS, OpenMP) are
idle. Ratios are medians of the peers over tensorbook's median: ``vs best`` is
against the faster of TensorLy and einsum. Every result is checked against a
float64 einsum. Last come the targets of issue 16, MET or NOT MET with the
measured number:

- ``mttkrp`` at least 1.2x faster than the faster of einsum and TensorLy, in
  every mode, dtype and thread count;
- ``mode_dot`` never slower than TensorLy (ratio >= 1.0), every mode, dtype and
  thread count;
- every result matches einsum.

    .venv/bin/python benchmarks/tenalg_bench.py [--rounds 7] [--quick] [--check]

``--check`` makes the exit code 1 when a target is not met (otherwise it is 0:
the script is a report); ``--quick`` runs 3 rounds (too few for the targets'
medians; for a smoke test). A full run takes about 4 minutes. Threads are
limited with threadpoolctl for BLAS (which also sizes tensorbook's thread pool
for middle-mode products) and ``numba.set_num_threads`` for Numba's kernels.
The script ends with the CPUs other processes kept busy during the run
(/proc/stat) and warns when the timings are suspect: run it on an idle machine.

The workplace may set OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE on some machines;
the peak, the bandwidth and the kernels are measured in the same environment,
so the ratios are consistent.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import tensorly.tenalg as tl

import tensorbook as tb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OTHERS_MAX, cpu_snapshot, interleaved_ms, limited_threads, other_cpus, print_machine  # noqa: E402
from gemm_peak import gemm_gflops  # noqa: E402

SIZE, ROWS, RANK, THREADS, DTYPES = 200, 50, 10, (1, 2), (np.float64, np.float32)
MODE_DOT_FLOPS = 2 * ROWS * SIZE**3
TARGET_MTTKRP_RATIO, TARGET_MODE_DOT_RATIO = 1.2, 1.0
SETTLE_S = 0.3


def einsum_spec(op, mode):
    """einsum subscripts for mode_dot (U first) or mttkrp (the other factors after X)."""
    modes = "abc"
    if op == "mode_dot":
        out = modes.replace(modes[mode], "j")
        return f"j{modes[mode]},{modes}->{out}"
    others = ",".join(f"{m}r" for k, m in enumerate(modes) if k != mode)
    return f"{modes},{others}->{modes[mode]}r"


def cases(x, u, factors):
    """(op, mode, tensorbook call, TensorLy call, einsum call, einsum operands) for every op and mode."""
    for mode in range(3):
        spec = einsum_spec("mode_dot", mode)
        yield ("mode_dot", mode, lambda m=mode: tb.mode_dot(x, u, m),
               lambda m=mode: tl.mode_dot(x, u, m),
               lambda s=spec: np.einsum(s, u, x, optimize=True), (spec, u, x))
    for mode in range(3):
        spec = einsum_spec("mttkrp", mode)
        others = [f for k, f in enumerate(factors) if k != mode]
        yield ("mttkrp", mode, lambda m=mode: tb.mttkrp(x, factors, m),
               lambda m=mode: tl.unfolding_dot_khatri_rao(x, (None, factors), m),
               lambda s=spec, o=others: np.einsum(s, x, *o, optimize=True), (spec, x, *others))


def run(dtype, threads, rounds, limits):
    """One table row dict per (op, mode) for ``dtype`` at ``threads`` BLAS and Numba threads."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((SIZE, SIZE, SIZE)).astype(dtype)
    u = rng.standard_normal((ROWS, SIZE)).astype(dtype)
    factors = [rng.standard_normal((SIZE, RANK)).astype(dtype) for _ in range(3)]
    rows = []
    with limited_threads(threads):
        for op, mode, f_tb, f_tl, f_es, operands in cases(x, u, factors):
            spec, *arrays = operands
            ref = np.einsum(spec, *[a.astype(np.float64) for a in arrays], optimize=True)
            tol = dict(rtol=1e-4, atol=1e-4 * np.abs(ref).max()) if dtype == np.float32 else {}
            ok = all(np.allclose(f(), ref, **tol) for f in (f_tb, f_tl, f_es))
            times = interleaved_ms({"tb": f_tb, "tl": f_tl, "es": f_es}, rounds, settle=SETTLE_S)
            row = dict(op=op, mode=mode, dtype=np.dtype(dtype).name, threads=threads, ok=ok, **times)
            if op == "mode_dot":
                peak = limits["gemm" if dtype == np.float64 else "gemm32"][threads]
                row.update(tb_pct=pct_peak(times["tb"][0], peak), tl_pct=pct_peak(times["tl"][0], peak))
            else:
                row.update(bw_pct=100 * x.nbytes / (times["tb"][0] * 1e-3) / 1e9 / limits["read"][threads])
            rows.append(row)
    return rows


def pct_peak(ms, peak_gflops):
    """Share (%) of ``peak_gflops`` reached by the mode_dot GEMM's flops done in ``ms``."""
    return 100 * MODE_DOT_FLOPS / (ms * 1e-3) / 1e9 / peak_gflops


def ratio(row, peer):
    """Median time of ``peer`` ("tl", "es" or "best" of both) over tensorbook's median."""
    peer_ms = min(row["tl"][0], row["es"][0]) if peer == "best" else row[peer][0]
    return peer_ms / row["tb"][0]


def print_table(rows):
    head = (f"{'operation':<9} {'mode':>4} {'dtype':>7} {'thr':>3} | {'tensorbook [min-max]':>20}"
            f" {'TensorLy':>8} {'einsum':>8} | {'vs TL':>5} {'vs es':>5} {'vs best':>7} |"
            f" {'%peak tb/TL':>11} {'%bw':>4} | check")
    print(head + "\n" + "-" * len(head))
    for r in rows:
        med, lo, hi = r["tb"]
        pk = f"{r['tb_pct']:5.0f}/{r['tl_pct']:<5.0f}" if "tb_pct" in r else f"{'-':>11}"
        bw = f"{r['bw_pct']:4.0f}" if "bw_pct" in r else f"{'-':>4}"
        print(f"{r['op']:<9} {r['mode']:>4} {r['dtype']:>7} {r['threads']:>3} |"
              f" {med:>6.2f} [{lo:5.2f}-{hi:5.2f}] {r['tl'][0]:>8.2f} {r['es'][0]:>8.2f} |"
              f" {ratio(r, 'tl'):>4.2f}x {ratio(r, 'es'):>4.2f}x {ratio(r, 'best'):>6.2f}x | {pk} {bw} |"
              f" {'OK' if r['ok'] else 'FAIL'}")
    print("(median ms of interleaved rounds, tensorbook's min-max in brackets; vs = peer median / tensorbook"
          " median; %peak = share of the GEMM peak of that dtype and thread count; %bw = share of the"
          " bandwidth limit, one read of X at the measured read bandwidth)")


def check_targets(rows):
    """Print each target with its measured number; return True when all are met."""
    targets = []
    mt = [r for r in rows if r["op"] == "mttkrp"]
    worst = min(mt, key=lambda r: ratio(r, "best"))
    targets.append((f"mttkrp >= {TARGET_MTTKRP_RATIO}x the faster of einsum and TensorLy, every mode,"
                    " dtype and thread count", ratio(worst, "best") >= TARGET_MTTKRP_RATIO,
                    f"lowest {ratio(worst, 'best'):.2f}x ({worst['dtype']}, mode {worst['mode']},"
                    f" {worst['threads']} thread(s))"))
    md = [r for r in rows if r["op"] == "mode_dot"]
    worst = min(md, key=lambda r: ratio(r, "tl"))
    targets.append((f"mode_dot >= {TARGET_MODE_DOT_RATIO}x TensorLy, every mode, dtype and thread count",
                    ratio(worst, "tl") >= TARGET_MODE_DOT_RATIO,
                    f"lowest {ratio(worst, 'tl'):.2f}x ({worst['dtype']}, mode {worst['mode']},"
                    f" {worst['threads']} thread(s))"))
    targets.append(("every result matches einsum", all(r["ok"] for r in rows),
                    f"{sum(not r['ok'] for r in rows)} FAIL"))
    print("\nTargets:")
    for text, met, measured in targets:
        print(f"  {'MET' if met else 'NOT MET':<7}  {text}: {measured}")
    return all(met for _, met, _ in targets)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved timed rounds (median kept)")
    parser.add_argument("--quick", action="store_true", help="3 rounds: a smoke test")
    parser.add_argument("--check", action="store_true", help="exit with 1 if a target is not met")
    args = parser.parse_args()
    rounds = 3 if args.quick else max(args.rounds, 7)

    start = cpu_snapshot()
    limits = print_machine(THREADS)
    limits["gemm32"] = {t: gemm_gflops(2000, t, 5, np.float32) for t in THREADS}
    print("GEMM peak (float32, n=2000, best of 5): "
          + ", ".join(f"{limits['gemm32'][t]:.1f} GFLOP/s at {t} thread(s)" for t in THREADS))
    print(f"\nX: {SIZE}x{SIZE}x{SIZE}; mode_dot with U {ROWS}x{SIZE}; mttkrp rank {RANK};"
          f" medians of {rounds} interleaved rounds\n")
    rows = [row for dtype in DTYPES for t in THREADS for row in run(dtype, t, rounds, limits)]
    print_table(rows)
    all_met = check_targets(rows)
    busy = other_cpus(start)
    if busy is not None:
        print(f"\nOther processes kept {busy:.2f} CPUs busy on average during the run.")
        if busy > OTHERS_MAX:
            print("WARNING: the timings are suspect (another process was competing for the cores and"
                  " the memory); rerun on an idle machine.")
    return 1 if args.check and not all_met else 0


if __name__ == "__main__":
    sys.exit(main())
