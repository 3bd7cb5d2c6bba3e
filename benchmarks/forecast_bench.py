"""One training step of tensorbook's recurrent forecasters, against PyTorch's LSTM on the CPU.

The step is the issue's: a batch of 64 sequences of 12 steps with 8 input
features, hidden size 64, float32; forward pass, backpropagation through time,
gradient-norm clipping and one Adam update. Two set-ups:

- ``sequence``: the network reads 12 steps and predicts the next one.
  tensorbook: ``input_steps=12, output_steps=1`` (an encoder of 11 steps, the
  decoder's one step; the encoder's input projections are one GEMM).
  PyTorch: ``nn.LSTM(8, 64)`` over the 12 steps (its fused C++ loop), then
  ``nn.Linear(64, 8)`` on the last hidden state.
- ``seq2seq``: what :class:`tensorbook.forecast.Forecaster` trains: an encoder
  reads 6 steps, a decoder with its own weights runs 6 more, feeding its
  prediction back as its next input (12 cell steps). PyTorch: ``nn.LSTM`` as
  encoder, an ``nn.LSTMCell`` decoder in a Python loop, same feedback.

For each, the best of N timed blocks of 20 steps (after warm-up), at 1 and 2
threads (threadpoolctl for NumPy's BLAS and Numba, ``torch.set_num_threads``),
and the machine's float32 GEMM peak at n = 2000 for scale. Then the TLSTM of
the paper's size (2 lags, order 2, tensor-train rank 4) and the matrix LSTM
(2 lags, order 1) in the same steps, as ratios to our LSTM, with the
multiply-adds per sample and step of each recurrent transition (the TLSTM's
last core is 4 x 129 x 256 against the LSTM's 64 x 256: 8 times the work).

Targets: our LSTM no slower than ``nn.LSTM``; the TLSTM at most 2x our LSTM.
PyTorch rows are skipped when torch is not installed (optional extra
``bench``: ``pip install -e '.[bench]'``).

    .venv/bin/python benchmarks/forecast_bench.py [--repeat 7]
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from tensorbook import forecast as fc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OTHERS_MAX, SETTLE_S, cpu_snapshot, limited_threads, other_cpus, print_environment  # noqa: E402
from gemm_peak import gemm_gflops  # noqa: E402

BATCH, STEPS, FEATURES, HIDDEN = 64, 12, 8, 64
SETUPS = {"sequence": (STEPS, 1), "seq2seq": (STEPS // 2, STEPS // 2)}  # (input_steps, output_steps)
CELLS = {
    "lstm": ("lstm", None, None, None),
    "tlstm (L=2, P=2, r=4)": ("tlstm", 2, 2, 4),
    "matrix lstm (L=2, P=1)": ("tlstm", 2, 1, None),
}


def best_block_ms(step, repeat, block=20):
    """Best-of-``repeat`` mean time of one call of ``step`` over blocks of ``block`` calls, in ms."""
    time.sleep(SETTLE_S)
    for _ in range(5):
        step()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(block):
            step()
        best = min(best, (time.perf_counter() - t0) / block)
    return best * 1e3


def ours(cell, n_lags, order, tt_rank, setup):
    """A closure doing one training step of our model, and its parameter count."""
    n_in, n_out = SETUPS[setup]
    hidden, n_lags, order, ranks = fc._check_cell_args(cell, HIDDEN, n_lags, order, tt_rank)
    spec = fc._Spec(cell, FEATURES, hidden, n_lags, order, ranks)
    rng = np.random.default_rng(0)
    theta = spec.init(rng, np.float32)
    adam = fc._Adam(spec.size, np.float32, 1e-3, 1.0)
    x = rng.standard_normal((n_in + (1 if setup == "sequence" else 0), BATCH, FEATURES)).astype(np.float32)
    x = x[:n_in]
    target = rng.standard_normal((n_out, BATCH, FEATURES)).astype(np.float32)

    def step():
        _, grad = fc._loss_and_grad(spec, theta, x, target)
        adam.step(theta, grad)

    return step, spec.size


def torch_step(setup):
    """The same step in PyTorch, or None when torch is not installed."""
    try:
        import torch
    except ImportError:
        return None, 0
    torch.manual_seed(0)
    n_in, n_out = SETUPS[setup]
    enc = torch.nn.LSTM(FEATURES, HIDDEN)
    head = torch.nn.Linear(HIDDEN, FEATURES)
    modules = [enc, head]
    if setup == "seq2seq":
        dec = torch.nn.LSTMCell(FEATURES, HIDDEN)
        modules.append(dec)
    params = [p for m in modules for p in m.parameters()]
    opt = torch.optim.Adam(params, lr=1e-3)
    x = torch.randn(n_in, BATCH, FEATURES)
    target = torch.randn(n_out, BATCH, FEATURES)

    def step():
        opt.zero_grad()
        if setup == "sequence":
            out, _ = enc(x)
            pred = head(out[-1])[None]
        else:
            _, (h, c) = enc(x[:-1])
            h, c = h[0], c[0]
            y, preds = x[-1], []
            for _ in range(n_out):
                h, c = dec(y, (h, c))
                y = head(h)
                preds.append(y)
            pred = torch.stack(preds)
        loss = ((pred - target) ** 2).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()

    return step, sum(p.numel() for p in params)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print_environment()
    try:
        import torch
        print(f"PyTorch {torch.__version__}")
    except ImportError:
        torch = None
        print("PyTorch is not installed: its rows are skipped (pip install -e '.[bench]')")
    start = cpu_snapshot()
    peaks = {t: gemm_gflops(2000, t, 3, np.float32) for t in (1, 2)}
    print(f"float32 GEMM peak (n = 2000): {peaks[1]:.0f} GFLOP/s on 1 thread, {peaks[2]:.0f} on 2")
    print(f"\nOne training step: batch {BATCH}, {STEPS} steps, {FEATURES} features, hidden {HIDDEN}, float32 (ms)")
    results = {}
    for setup in SETUPS:
        print(f"\n{setup}: input_steps, output_steps = {SETUPS[setup]}")
        print(f"{'model':<26}{'params':>9}{'1 thread':>10}{'2 threads':>11}{'vs our lstm':>17}")
        for threads in (1, 2):
            with limited_threads(threads):
                if torch is not None:
                    torch.set_num_threads(threads)
                step, n = torch_step(setup)
                if step is not None:
                    results[setup, "torch nn.LSTM", threads] = (best_block_ms(step, args.repeat), n)
                for name, (cell, lags, order, rank) in CELLS.items():
                    step, n = ours(cell, lags, order, rank, setup)
                    results[setup, name, threads] = (best_block_ms(step, args.repeat), n)
        for name in (["torch nn.LSTM"] if torch is not None else []) + list(CELLS):
            t1, n = results[setup, name, 1]
            t2, _ = results[setup, name, 2]
            ratio = f"{t1 / results[setup, 'lstm', 1][0]:.2f}x / {t2 / results[setup, 'lstm', 2][0]:.2f}x"
            print(f"{name:<26}{n:>9,}{t1:>10.2f}{t2:>11.2f}{ratio:>17}")
    S, D, r = 2 * HIDDEN + 1, 4 * HIDDEN, 4
    print(f"\nMultiply-adds per sample and step in the recurrent transition: LSTM {HIDDEN * D:,};"
          f" TLSTM {S * r + r * S * D:,} ({(S * r + r * S * D) / (HIDDEN * D):.1f}x); matrix LSTM {S * D:,}"
          f" ({S * D / (HIDDEN * D):.1f}x)")
    print("\nTargets (best of 1 and 2 threads for each side):")
    for setup in SETUPS:
        ours_best = min(results[setup, "lstm", t][0] for t in (1, 2))
        if torch is not None:
            torch_best = min(results[setup, "torch nn.LSTM", t][0] for t in (1, 2))
            verdict = "MET" if ours_best <= torch_best else "NOT MET"
            print(f"  {setup}: our LSTM {ours_best:.2f} ms vs nn.LSTM {torch_best:.2f} ms"
                  f" ({ours_best / torch_best:.2f}x): {verdict}")
        tl = min(results[setup, "tlstm (L=2, P=2, r=4)", t][0] for t in (1, 2))
        verdict = "MET" if tl <= 2 * ours_best else "NOT MET"
        print(f"  {setup}: TLSTM {tl:.2f} ms = {tl / ours_best:.2f}x our LSTM (target <= 2x): {verdict}")
    busy = other_cpus(start)
    if busy is not None:
        print(f"\nOther processes kept {busy:.2f} CPUs busy during the run"
              + (" (timings suspect)" if busy > OTHERS_MAX else ""))


if __name__ == "__main__":
    main()
