"""The comparison of the tensor-layers chapter: held-out accuracy against the number of parameters, cached as JSON.

Two tasks, every model trained by :func:`tensorbook.nn.train` (Adam at 1e-2, weight decay 1e-4, early stopping on a
random fifth of the training part; digits: batch 64, at most 150 epochs, patience 15; Sort-of-CLEVR, 25 times more
examples: batch 256, at most 60 epochs, patience 8), three seeds each:

- **digits**: scikit-learn's 1,797 handwritten digits, 8 x 8 images scaled to [0, 1], split 70/30 (stratified,
  seed 0). Each family is swept over its size:

  - ``dense``: flatten, a dense layer of ``h`` units, ReLU, a dense layer to the 10 classes;
  - ``TCL + TRL``: a tensor contraction layer to ``(k, k)``, ReLU, a Tucker tensor regression layer of rank
    ``(k, k, 10)``: the image keeps its two modes from input to logits;
  - ``TT layer``: flatten, a TT-dense layer 64 = 4 x 4 x 4 -> 32 = 4 x 4 x 2 of rank ``r``, ReLU, a dense layer
    to the 10 classes: the ``dense`` family's ``h = 32`` model with its first weight matrix in TT form.

- **Sort-of-CLEVR**: 1,500 training scenes and 500 test scenes (54,000 and 18,000 questions) from
  :func:`tensorbook.datasets.make_sort_of_clevr` (seeds 0 and 1), the images encoded by the fixed
  :func:`tensorbook.datasets.sort_of_clevr_features` (18 numbers) and the questions as their 11 bits. Every
  model is ``fusion(image, question)`` to 64 units, ReLU, dense 64, ReLU, dense to the 10 answers; only the fusion
  differs: ``concatenation``, ``full bilinear``, ``MLB`` (rank R), ``MUTAN`` (ranks t, t, t) and ``Tensor Sketch``
  (compact bilinear pooling, sketch size D). Accuracy is also reported on the relational and non-relational
  questions apart.

    .venv/bin/python benchmarks/tensor_layers_comparison.py [--seeds 3] [--tasks digits clevr]
        [--out benchmarks/results/tensor_layers_comparison.json]

The chapter reads the JSON it writes.
"""

import argparse
import json
import os
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # small matrices: one BLAS thread, the same numbers on any machine
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from tensorbook import nn  # noqa: E402
from tensorbook.datasets import make_sort_of_clevr, sort_of_clevr_features  # noqa: E402

TRAINING = {"digits": dict(n_epochs=150, batch_size=64, learning_rate=1e-2, weight_decay=1e-4, patience=15),
            "clevr": dict(n_epochs=60, batch_size=256, learning_rate=1e-2, weight_decay=1e-4, patience=8)}

# family -> (size parameter, its values, builder(size, seed))
DIGIT_MODELS = {
    "dense": ("h", (3, 8, 16, 32), lambda h, seed: nn.Sequential(
        nn.Flatten(), nn.Dense(64, h, random_state=seed), nn.ReLU(), nn.Dense(h, 10, random_state=seed + 1))),
    "TCL + TRL": ("k", (2, 3, 5, 8), lambda k, seed: nn.Sequential(
        nn.TensorContraction((8, 8), (k, k), random_state=seed), nn.ReLU(),
        nn.TuckerRegression((k, k), 10, (k, k, 10), random_state=seed + 1))),
    "TT layer": ("r", (1, 2, 4, 8), lambda r, seed: nn.Sequential(
        nn.Flatten(), nn.TTDense((4, 4, 4), (4, 4, 2), (r, r), random_state=seed), nn.ReLU(),
        nn.Dense(32, 10, random_state=seed + 1))),
}

HIDDEN = 64
FUSIONS = {
    "concatenation": ("-", (None,), lambda _, seed: nn.Sequential(
        nn.Concat(18, 11), nn.Dense(29, HIDDEN, random_state=seed))),
    "full bilinear": ("-", (None,), lambda _, seed: nn.BilinearFusion(18, 11, HIDDEN, random_state=seed)),
    "MLB": ("R", (4, 16, 64), lambda R, seed: nn.MLBFusion(18, 11, HIDDEN, R, random_state=seed)),
    "MUTAN": ("t", (4, 8, 16), lambda t, seed: nn.MUTANFusion(18, 11, HIDDEN, (t, t, t), random_state=seed)),
    "Tensor Sketch": ("D", (64, 256, 1024), lambda D, seed: nn.SketchFusion(18, 11, HIDDEN, D, random_state=seed)),
}


def vqa_model(fusion, size, seed):
    """The fusion, then the same head for every fusion."""
    return nn.Sequential(FUSIONS[fusion][2](size, seed), nn.ReLU(), nn.Dense(HIDDEN, HIDDEN, random_state=seed + 1),
                         nn.ReLU(), nn.Dense(HIDDEN, 10, random_state=seed + 2))


def digits_data():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_fit, X_test, y_fit, y_test = train_test_split(X.reshape(-1, 8, 8) / 16.0, y, test_size=0.3, random_state=0,
                                                    stratify=y)
    return X_fit, X_test, y_fit, y_test


def clevr_data(n_fit=1500, n_test=500):
    out = []
    for n, seed in ((n_fit, 0), (n_test, 1)):
        data = make_sort_of_clevr(n, random_state=seed)
        image = sort_of_clevr_features(data["images"])[data["scene"]]
        out.append(((image, data["questions"]), data["answers"], data["relational"]))
    return out


def run(task, seeds):
    rows = []
    if task == "digits":
        X_fit, X_test, y_fit, y_test = digits_data()
        for family, (param, sizes, build) in DIGIT_MODELS.items():
            for size in sizes:
                accuracies, seconds = [], []
                for seed in range(seeds):
                    model = build(size, 10 * seed)
                    start = time.perf_counter()
                    history = nn.train(model, X_fit, y_fit, random_state=seed, **TRAINING[task])
                    seconds.append(time.perf_counter() - start)
                    accuracies.append(float(np.mean(nn.predict(model, X_test) == y_test)))
                rows.append({"family": family, "param": param, "size": size, "n_params": model.n_params,
                             "accuracy": accuracies, "epochs": history["best_epoch"] + 1, "seconds": seconds})
                print(f"digits  {family:>12} {param}={size:<4} {model.n_params:>6,} parameters: accuracy "
                      f"{np.mean(accuracies):.4f} ± {np.std(accuracies):.4f} ({np.mean(seconds):.1f} s)", flush=True)
    else:
        (x_fit, y_fit, _), (x_test, y_test, relational) = clevr_data()
        for fusion, (param, sizes, _) in FUSIONS.items():
            for size in sizes:
                result = {"family": fusion, "param": param, "size": size, "accuracy": [], "relational": [],
                          "non_relational": [], "seconds": []}
                for seed in range(seeds):
                    model = vqa_model(fusion, size, 10 * seed)
                    start = time.perf_counter()
                    nn.train(model, x_fit, y_fit, random_state=seed, **TRAINING[task])
                    result["seconds"].append(time.perf_counter() - start)
                    right = nn.predict(model, x_test) == y_test
                    result["accuracy"].append(float(right.mean()))
                    result["relational"].append(float(right[relational].mean()))
                    result["non_relational"].append(float(right[~relational].mean()))
                result["n_params"] = model.n_params
                result["fusion_params"] = model.parts["0"].n_params
                rows.append(result)
                print(f"clevr {fusion:>14} {param}={size!s:<5} {model.n_params:>7,} parameters: accuracy "
                      f"{np.mean(result['accuracy']):.4f} (relational {np.mean(result['relational']):.4f}, "
                      f"non-relational {np.mean(result['non_relational']):.4f}) "
                      f"({np.mean(result['seconds']):.1f} s)", flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--tasks", nargs="+", default=["digits", "clevr"], choices=["digits", "clevr"])
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).parent / "results" / "tensor_layers_comparison.json")
    args = parser.parse_args()
    start = time.perf_counter()
    path = args.out
    results = json.loads(path.read_text()) if path.exists() else {}  # a task not asked for keeps its cached rows
    results.update({task: run(task, args.seeds) for task in args.tasks})
    results["meta"] = {"seeds": args.seeds, "training": TRAINING, "hidden": HIDDEN,
                       "seconds": round(time.perf_counter() - start, 1), "python": platform.python_version(),
                       "date": datetime.now(timezone.utc).strftime("%Y-%m-%d")}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.out} in {results['meta']['seconds']} s")


if __name__ == "__main__":
    main()
