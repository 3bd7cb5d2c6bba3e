"""The forecasting comparison of chapter 7: RMSE by horizon on three series, cached as JSON.

For each series (hourly departures from the three NYC airports in 2013,
hourly temperatures at the same airports (the last 29 hours, which the source
lacks, left out), and the Lorenz-63 system), every model reads 24 steps and
forecasts 24 (a day, for the hourly series), trained with
:class:`tensorbook.forecast.Forecaster` on the first 80 % of the series (its
last fifth held out for early stopping) and scored on every second window of
the last 20 % by :func:`tensorbook.forecast.compare_forecasters`, three seeds
per model.

The networks use the forecaster's defaults for seasonality: ``season="auto"``
(the dominant period of the training part, :func:`dominant_period`; the JSON
records what it found) and ``residual="auto"`` (with a season, the networks
learn a correction to the seasonal-naive forecast). The baselines are
persistence, seasonal naive with the detected period (and, for the
departures, also a day, 24 steps), and Holt-Winters exponential smoothing
with additive seasonality of the detected period (statsmodels, fitted once
on the training part, its states updated through the test part).

Models (Adam at 3e-3, batch 64, clipping at 1, at most 40 epochs, patience 5,
float32), at the sizes of the first edition (hidden size 32):

- ``lstm``: the plain LSTM;
- ``matrix lstm``: lags 2, order 1 (a dense map of two lagged states);
- ``tlstm``: lags 2, order 2, tensor-train rank 4 (the paper's setting);

and at matched parameter counts: ``tlstm, H=11`` and ``matrix lstm, H=23``
with about the LSTM's parameters, ``lstm, H=90`` with about the TT-LSTM's.
Where a season is found, one LSTM without differencing (``season=None``) is
kept as a row to show what the differencing buys.

    .venv/bin/python benchmarks/forecast_comparison.py [--seeds 3] [--out benchmarks/results/forecast_comparison.json]
        [--datasets departures temperature lorenz]

Its last run, as two processes at once (``--datasets departures`` and ``--datasets temperature lorenz``)
on a 2-core machine shared with other work, took 39 minutes of wall-clock time in all (the JSON records
every training time); an idle machine is faster. The chapter reads the JSON it writes.
"""

import argparse
import json
import os
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from tensorbook.datasets import load_departures, load_weather, lorenz
from tensorbook.forecast import compare_forecasters, dominant_period

HERE = Path(__file__).resolve().parent
COMMON = dict(hidden_size=32, learning_rate=3e-3, batch_size=64, clip_norm=1.0, max_epochs=40, patience=5,
              dtype="float32")
CELLS = {
    "lstm": dict(cell="lstm"),
    "matrix lstm": dict(cell="tlstm", n_lags=2, order=1),
    "tlstm": dict(cell="tlstm", n_lags=2, order=2, tt_rank=4),
}
MATCHED = {  # about the LSTM's parameters (H = 32), and an LSTM with about the TT-LSTM's
    "tlstm, H=11": dict(cell="tlstm", n_lags=2, order=2, tt_rank=4, hidden_size=11),
    "matrix lstm, H=23": dict(cell="tlstm", n_lags=2, order=1, hidden_size=23),
    "lstm, H=90": dict(cell="lstm", hidden_size=90),
}


def datasets():
    """name -> (series, units, seasonal-naive periods ("auto": the detected one))."""
    dep = load_departures()
    weather = load_weather()
    return {
        "departures": (dep["values"], "departures per hour", (24, "auto")),
        # the source has no readings for the last 29 hours of the year (filled flat): left out
        "temperature": (weather["values"][:-29], "°F", ("auto",)),
        "lorenz": (lorenz(50_000, dt=0.01, random_state=0)[::5], "", ("auto",)),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "forecast_comparison.json")
    parser.add_argument("--datasets", nargs="+", help="recompute only these, keeping the others from --out")
    args = parser.parse_args()
    results = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "input_steps": 24,
        "horizon": 24,
        "settings": COMMON,
        "datasets": {},
    }
    if args.datasets:
        results["datasets"] = json.loads(args.out.read_text())["datasets"]
    start = time.perf_counter()
    for name, (series, units, seasons) in datasets().items():
        if args.datasets and name not in args.datasets:
            continue
        models = {label: {**COMMON, **cell} for label, cell in {**CELLS, **MATCHED}.items()}
        if dominant_period(series[: int(round(0.8 * len(series)))]) is not None:
            models["lstm, no differencing"] = {**COMMON, **CELLS["lstm"], "season": None}
        t0 = time.perf_counter()
        r = compare_forecasters(series, models, input_steps=24, horizon=24, seasons=seasons,
                                seeds=tuple(range(args.seeds)), test_stride=2)
        results["datasets"][name] = {
            "units": units,
            "shape": list(series.shape),
            "season": r["period"],
            "n_windows": r["n_windows"],
            "rmse": {k: np.round(v, 6).tolist() for k, v in r["rmse"].items()},
            "n_params": r["n_params"],
            "model_season": r["season"],
            "epochs": r["epochs"],
            "seconds": {k: [round(s, 2) for s in v] for k, v in r["seconds"].items()},
        }
        print(f"\n{name} {series.shape}, {r['n_windows']} test windows, {time.perf_counter() - t0:.0f} s")
        print(f"season found: {r['period']}")
        print(f"{'model':<26}{'params':>8}{'RMSE h=1':>16}{'h=6':>16}{'h=24':>16}{'mean':>16}")
        for model, rmse in r["rmse"].items():
            cols = [rmse[:, 0], rmse[:, 5], rmse[:, 23], rmse.mean(axis=1)]
            text = "".join(f"{c.mean():>9.3f} ± {c.std():<4.2f}" for c in cols)
            print(f"{model:<26}{r['n_params'][model]:>8,}{text}")
    results["seconds"] = round(time.perf_counter() - start, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nwrote {args.out} ({results['seconds']:.0f} s in all)")


if __name__ == "__main__":
    main()
