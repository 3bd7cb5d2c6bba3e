"""Speed of the tensor layers: forward + backward of the TT layer and the tensor regression layer against the dense
layer each replaces, in NumPy, and against PyTorch CPU (``nn.Linear``, and tensorly-torch's ``FactorizedLinear`` and
``TRL``) when they are installed.

    .venv/bin/python benchmarks/tensor_layers_bench.py [--rounds 25] [--batch 256]

Two set-ups, float32, one training step's layer work (forward, then backward for the input and every parameter):

- **TT layer** 1,024 -> 1,024 (modes 4 x 8 x 8 x 4 both ways), rank 8, against a dense 1,024 x 1,024 layer;
- **TRL**: a batch of (16, 16, 16) tensors to 10 classes, Tucker rank (4, 4, 4, 10), against flatten + a dense
  4,096 x 10 layer.

Times are medians of interleaved rounds (every case once per round), with the spread (min-max) printed, on 1 and
2 BLAS threads, with the machine's GEMM peak and memory bandwidth: machines differ, ratios travel. PyTorch and
tensorly-torch are optional: ``pip install -e '.[bench]'`` (PyTorch 2.13.0 CPU) and ``pip install tensorly-torch``.
"""

import argparse

import numpy as np
from _common import bandwidth_gbs, interleaved_ms, limited_threads, print_environment
from gemm_peak import gemm_gflops

from tensorbook import nn

DTYPE = np.float32


def ours_step(layer, x):
    """Forward and backward of one of our layers on a batch (the loss gradient a fixed random array)."""
    out = layer(x)
    grad = np.random.default_rng(1).standard_normal(out.shape).astype(DTYPE)

    def step():
        y, cache = layer.forward(x)
        layer.backward(cache, grad)

    return step


def dense_step(n_in, n_out, x):
    """The dense layer in NumPy, as a training step needs it: y = x W + b, dX = G W^T, dW = X^T G, db = sum G."""
    rng = np.random.default_rng(0)
    W = (rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(DTYPE)
    b = np.zeros(n_out, DTYPE)
    flat = x.reshape(len(x), -1)
    G = rng.standard_normal((len(x), n_out)).astype(DTYPE)

    def step():
        _ = flat @ W + b
        _ = G @ W.T
        _ = flat.T @ G
        _ = G.sum(axis=0)

    return step


def torch_steps(batch, threads):
    """PyTorch's nn.Linear, and tensorly-torch's layers if installed: name -> step, or {} without PyTorch."""
    try:
        import torch
    except ImportError:
        return {}
    torch.set_num_threads(threads)
    steps = {}

    def make(module, shape):
        x = torch.randn(*shape, requires_grad=True)
        out = module(x)
        g = torch.randn_like(out)

        def step():
            module.zero_grad(set_to_none=True)
            x.grad = None
            module(x).backward(g)

        return step

    steps["tt: torch nn.Linear 1024x1024"] = make(torch.nn.Linear(1024, 1024), (batch, 1024))
    steps["trl: torch flatten + nn.Linear 4096x10"] = make(torch.nn.Sequential(torch.nn.Flatten(),
                                                                              torch.nn.Linear(4096, 10)),
                                                          (batch, 16, 16, 16))
    try:
        import tltorch
    except ImportError:
        return steps
    steps["tt: tensorly-torch FactorizedLinear (TT, rank 8)"] = make(
        tltorch.FactorizedLinear(in_tensorized_features=(4, 8, 8, 4), out_tensorized_features=(4, 8, 8, 4),
                                 factorization="blocktt", rank=8), (batch, 1024))
    steps["trl: tensorly-torch TRL (Tucker)"] = make(
        tltorch.TRL(input_shape=(16, 16, 16), output_shape=(10,), factorization="tucker", rank=(4, 4, 4, 10)),
        (batch, 16, 16, 16))
    return steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--batch", type=int, default=256)
    args = parser.parse_args()
    print_environment()
    peaks = {t: gemm_gflops(2000, t, 3, np.float32) for t in (1, 2)}
    print(f"float32 GEMM peak (n = 2000): {peaks[1]:.0f} GFLOP/s on 1 thread, {peaks[2]:.0f} on 2; "
          f"memory bandwidth (copy): {bandwidth_gbs():.1f} GB/s")
    rng = np.random.default_rng(0)
    x_tt = rng.standard_normal((args.batch, 1024)).astype(DTYPE)
    x_trl = rng.standard_normal((args.batch, 16, 16, 16)).astype(DTYPE)
    tt = nn.TTDense((4, 8, 8, 4), (4, 8, 8, 4), 8, random_state=0)
    trl = nn.TuckerRegression((16, 16, 16), 10, (4, 4, 4, 10), random_state=0)
    for layer in (tt, trl):
        for key, value in layer.params.items():
            layer.params[key] = value.astype(DTYPE)
    print(f"\nbatch {args.batch}, float32; TT layer {tt.n_params:,} parameters against {1024 * 1024 + 1024:,}; "
          f"TRL {trl.n_params:,} against {4096 * 10 + 10:,}")
    for threads in (1, 2):
        with limited_threads(threads):
            cases = {
                "tt: ours TTDense": ours_step(tt, x_tt),
                "tt: NumPy dense 1024x1024": dense_step(1024, 1024, x_tt),
                "trl: ours TuckerRegression": ours_step(trl, x_trl),
                "trl: NumPy flatten + dense 4096x10": dense_step(4096, 10, x_trl),
                **torch_steps(args.batch, threads),
            }
            times = interleaved_ms(cases, args.rounds)
        print(f"\n{threads} thread(s): median ms over {args.rounds} interleaved rounds (min-max), ratio to NumPy dense")
        for name, (median, low, high) in times.items():
            base = times["tt: NumPy dense 1024x1024" if name.startswith("tt") else "trl: NumPy flatten + dense 4096x10"][0]
            print(f"  {name:<50}{median:>9.3f}  ({low:.3f}-{high:.3f}){median / base:>8.2f}x")
    if not torch_steps(1, 1):
        print("\nPyTorch is not installed: its rows are skipped (pip install -e '.[bench]')")


if __name__ == "__main__":
    main()
