"""Seasonality by default: dominant_period, season="auto" / residual="auto" in Forecaster, the
exponential-smoothing baseline against statsmodels, and the networks against seasonal naive a day ahead."""

import warnings

import numpy as np
import pytest

from tensorbook.datasets import load_departures, load_weather
from tensorbook.forecast import (
    Forecaster,
    compare_forecasters,
    dominant_period,
    exponential_smoothing,
    persistence,
    rmse_by_horizon,
    seasonal_naive,
    sliding_windows,
)


def half_hourly(seed, days=90):
    """A half-hourly series with a daily cycle: a profile of three harmonics whose amplitude varies from
    day to day, a daily level that follows an AR(1) from day to day, and AR(1) noise from step to step."""
    rng = np.random.default_rng(seed)
    t = np.arange(days * 48)
    phase = 2 * np.pi * t / 48
    profile = np.sin(phase - 2.0) + 0.5 * np.sin(2 * phase + 0.5) + 0.25 * np.cos(3 * phase)
    level = np.zeros(days)
    for d in range(1, days):
        level[d] = 0.8 * level[d - 1] + 0.3 * rng.standard_normal()
    amplitude = 1 + 0.1 * rng.standard_normal(days)
    noise = np.zeros(t.size)
    shocks = 0.25 * rng.standard_normal(t.size)
    for i in range(1, t.size):
        noise[i] = 0.7 * noise[i - 1] + shocks[i]
    return (np.repeat(level, 48) + np.repeat(amplitude, 48) * profile + noise)[:, None]


def half_hourly_drifting(seed, days=60):
    """A daily cycle plus a slowly drifting disturbance (AR(1), 0.99 per half hour) and white noise:
    yesterday's value carries yesterday's disturbance, which the last hours show has moved."""
    rng = np.random.default_rng(seed)
    t = np.arange(days * 48)
    drift = np.zeros(t.size)
    shocks = 0.1 * rng.standard_normal(t.size)
    for i in range(1, t.size):
        drift[i] = 0.99 * drift[i - 1] + shocks[i]
    return (np.sin(2 * np.pi * t / 48) + drift + 0.1 * rng.standard_normal(t.size))[:, None]


# --------------------------------------------------------------------------
# dominant_period
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_dominant_period_finds_the_daily_cycle_of_half_hourly_series(seed):
    assert dominant_period(half_hourly(seed)[: 70 * 48]) == 48
    assert dominant_period(half_hourly_drifting(seed)) == 48


@pytest.mark.parametrize("seed", range(5))
def test_dominant_period_is_none_without_a_season(seed):
    rng = np.random.default_rng(seed)
    white = rng.standard_normal((3000, 2))
    walk = np.cumsum(rng.standard_normal((3000, 1)), axis=0)
    ar = np.zeros(3000)
    for i in range(1, 3000):
        ar[i] = 0.95 * ar[i - 1] + rng.standard_normal()
    trend = 0.01 * np.arange(3000.0) + rng.standard_normal(3000)
    for series in (white, walk, ar, trend, np.cumsum(walk, axis=0)):
        assert dominant_period(series) is None


def test_dominant_period_prefers_the_week_when_weekends_differ():
    rng = np.random.default_rng(0)
    t = np.arange(10 * 168)
    weekday = (t // 24) % 7 < 5
    series = np.sin(2 * np.pi * t / 24) * np.where(weekday, 1.0, 0.3) + 0.2 * rng.standard_normal(t.size)
    assert dominant_period(series) == 168
    assert dominant_period(series, max_lag=300) == 24  # a week is not a candidate below 2 * 168


def test_dominant_period_on_the_shipped_hourly_series():
    departures = load_departures()["values"]
    weather = load_weather()["values"][:-29]
    assert dominant_period(departures[: int(round(0.8 * len(departures)))]) == 168
    assert dominant_period(weather[: int(round(0.8 * len(weather)))]) == 24
    assert dominant_period(departures[: int(round(0.7 * len(departures)))]) == 168  # the issue's 70 %


def test_dominant_period_inputs():
    rng = np.random.default_rng(0)
    t = np.arange(600)
    cycle = np.sin(2 * np.pi * t / 24) + 0.3 * rng.standard_normal(600)
    assert dominant_period(cycle) == dominant_period(cycle[:, None]) == 24
    assert dominant_period(cycle.tolist()) == 24
    # a constant feature contributes nothing; the other one still counts
    assert dominant_period(np.column_stack([cycle, np.full(600, 3.0)])) == 24
    assert dominant_period(np.full(600, 3.0)) is None
    assert dominant_period(cycle[:10]) is None  # too short for any candidate
    with pytest.raises(ValueError, match="max_lag must be less than the series length 600, got 600"):
        dominant_period(cycle, max_lag=600)
    with pytest.raises(ValueError, match="max_lag must be an integer >= 1, got 0"):
        dominant_period(cycle, max_lag=0)
    with pytest.raises(ValueError, match=r"series must be 1-D or 2-D, got shape \(2, 3, 4\)"):
        dominant_period(np.ones((2, 3, 4)))
    bad = cycle.copy()
    bad[5] = np.nan
    with pytest.raises(ValueError, match="series must contain only finite values"):
        dominant_period(bad)


# --------------------------------------------------------------------------
# Forecaster: season="auto", residual="auto", the untrained start
# --------------------------------------------------------------------------


def _cycle(n=400, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return np.column_stack([np.sin(2 * np.pi * t / 12), np.cos(2 * np.pi * t / 12) + 3]) + 0.2 * rng.standard_normal((n, 2))


def test_season_auto_is_the_default_and_is_exposed():
    series = _cycle()
    model = Forecaster("lstm", hidden_size=3, input_steps=6, output_steps=3, max_epochs=1, random_state=0)
    assert model.get_params()["season"] == "auto" and model.get_params()["residual"] == "auto"
    model.fit(series)
    assert model.season_ == 12 == dominant_period(series) and model.residual_ is False
    with pytest.raises(ValueError, match=r"history must hold at least input_steps \+ season = 6 \+ 12 time steps, got 17"):
        model.predict(series[:17], 3)
    assert model.predict(series[:18], 3).shape == (3, 2)
    # no season found: no differencing, and the residual decoder
    noise = np.random.default_rng(1).standard_normal((400, 2))
    plain = Forecaster("lstm", hidden_size=3, input_steps=6, output_steps=3, max_epochs=1, random_state=0).fit(noise)
    assert plain.season_ is None and plain.residual_ is True
    assert plain.predict(noise[:6], 2).shape == (2, 2)
    # output_steps="auto": a full season ahead, or 12 steps without one
    rng = np.random.default_rng(2)
    daily = (np.sin(2 * np.pi * np.arange(480) / 24) + 0.2 * rng.standard_normal(480))[:, None]
    auto = Forecaster("lstm", hidden_size=3, input_steps=6, max_epochs=1, random_state=0).fit(daily)
    assert (auto.season_, auto.output_steps_, auto.get_params()["output_steps"]) == (24, 24, "auto")
    auto.fit(noise)
    assert (auto.season_, auto.output_steps_) == (None, 12)
    # explicit settings are kept
    both = Forecaster("lstm", hidden_size=3, input_steps=6, output_steps=3, max_epochs=1, season=12, residual=True,
                      random_state=0).fit(series)
    assert both.season_ == 12 and both.residual_ is True and both.output_steps_ == 3


@pytest.mark.parametrize("bad", ["yes", "Auto", None, 1, 0.5])
def test_residual_argument_checked(bad):
    with pytest.raises(ValueError, match=r"residual must be True, False or 'auto', got"):
        Forecaster("lstm", hidden_size=3, input_steps=4, output_steps=2, max_epochs=1, residual=bad).fit(_cycle(100))


@pytest.mark.parametrize("season", [None, 12])
def test_the_untrained_forecaster_makes_its_skip_forecast(season):
    """Output layer at zero: persistence with the residual decoder, seasonal naive (plus the mean seasonal
    change of the training part) with seasonal differencing."""
    series = _cycle()
    model = Forecaster("tlstm", hidden_size=4, n_lags=2, order=2, tt_rank=2, input_steps=6, output_steps=3,
                       max_epochs=1, season=season, dtype="float64", random_state=0).fit(series)
    model.theta_ = model.spec_.init(np.random.default_rng(5), np.float64)
    hist = sliding_windows(series[200:260], 30)
    forecast = model.predict(hist, 12)
    if season is None:
        np.testing.assert_allclose(forecast, persistence(hist, 12), rtol=1e-12)
    else:
        np.testing.assert_allclose(forecast, seasonal_naive(hist, 12, 12) + model.mean_, rtol=1e-12)


def test_early_stopping_starts_from_the_untrained_forecaster():
    series = _cycle()
    model = Forecaster("lstm", hidden_size=4, input_steps=6, output_steps=3, max_epochs=4, patience=4,
                       dtype="float64", random_state=0).fit(series)
    h = model.history_
    assert h["initial_val_loss"] > 0 and len(h["val_loss"]) == model.n_epochs_
    best = min(h["val_loss"])
    assert model.best_epoch_ == (int(np.argmin(h["val_loss"])) if best < h["initial_val_loss"] else -1)
    # a learning rate that only makes things worse: the untrained start is kept
    worse = Forecaster("lstm", hidden_size=4, input_steps=6, output_steps=3, max_epochs=3, patience=2,
                       learning_rate=5.0, clip_norm=None, dtype="float64", random_state=0).fit(series)
    if min(worse.history_["val_loss"]) >= worse.history_["initial_val_loss"]:
        assert worse.best_epoch_ == -1 and worse.n_epochs_ == 2
        np.testing.assert_array_equal(worse.theta_, worse.spec_.init(np.random.default_rng(0), np.float64))


# --------------------------------------------------------------------------
# exponential smoothing against statsmodels
# --------------------------------------------------------------------------


def _statsmodels_fit(y, season):
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ExponentialSmoothing(y, trend=None, seasonal=None if season is None else "add",
                                    seasonal_periods=season, initialization_method="estimated").fit()


@pytest.mark.parametrize("season", [24, None])
def test_exponential_smoothing_is_statsmodels_with_its_states_updated(season):
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    rng = np.random.default_rng(0)
    t = np.arange(24 * 30)
    series = np.column_stack([10 + 3 * np.sin(2 * np.pi * t / 24), 5 + np.cos(2 * np.pi * t / 24)])
    series = series + np.cumsum(0.1 * rng.standard_normal(series.shape), axis=0) + 0.3 * rng.standard_normal(series.shape)
    n_fit = 24 * 20
    ours = exponential_smoothing(series, 30, n_fit=n_fit, season=season)
    assert ours.shape == (len(series) - n_fit + 1, 30, 2)
    for j in range(2):
        fitted = _statsmodels_fit(series[:n_fit, j], season)
        # from the end of the fitting part: statsmodels' own forecast (beyond a season: the season repeats)
        np.testing.assert_allclose(ours[0, :, j], fitted.forecast(30), rtol=1e-10)
        # later origins: the same parameters, run over the longer history by statsmodels
        p = fitted.params
        known = dict(initial_level=p["initial_level"])
        smoothing = dict(smoothing_level=p["smoothing_level"])
        if season is not None:
            known["initial_seasonal"] = p["initial_seasons"]
            smoothing["smoothing_seasonal"] = p["smoothing_seasonal"]
        for i in (1, 57, len(series) - n_fit):
            rerun = ExponentialSmoothing(series[: n_fit + i, j], trend=None,
                                         seasonal=None if season is None else "add", seasonal_periods=season,
                                         initialization_method="known", **known).fit(optimized=False, **smoothing)
            np.testing.assert_allclose(ours[i, :, j], rerun.forecast(30), rtol=1e-10)


def test_exponential_smoothing_arguments():
    rng = np.random.default_rng(0)
    t = np.arange(600)
    series = (np.sin(2 * np.pi * t / 24) + 0.2 * rng.standard_normal(600))[:, None]
    auto = exponential_smoothing(series, 5, n_fit=480)
    np.testing.assert_array_equal(auto, exponential_smoothing(series, 5, n_fit=480, season=24))
    assert exponential_smoothing(series, 5, n_fit=600).shape == (1, 5, 1)
    with pytest.raises(ValueError, match="n_fit must be at most the series length 600, got 601"):
        exponential_smoothing(series, 5, n_fit=601)
    with pytest.raises(ValueError, match=r"n_fit must hold at least two seasons \(2 \* 24 steps\)"):
        exponential_smoothing(series, 5, n_fit=40, season=24)
    with pytest.raises(ValueError, match="season must be None, 'auto' or an integer >= 1"):
        exponential_smoothing(series, 5, n_fit=480, season="weekly")
    with pytest.raises(ValueError, match="horizon must be an integer >= 1, got 0"):
        exponential_smoothing(series, 0, n_fit=480)


# --------------------------------------------------------------------------
# compare_forecasters: the baselines by default
# --------------------------------------------------------------------------


def test_compare_forecasters_adds_the_detected_season_and_exponential_smoothing():
    series = _cycle(300)
    models = {"lstm": dict(cell="lstm", hidden_size=3, max_epochs=1, dtype="float64")}
    r = compare_forecasters(series, models, input_steps=6, horizon=5, seeds=(0,), test_stride=4)
    assert r["period"] == 12 and r["season"]["lstm"] == 12
    assert list(r["rmse"]) == ["persistence", "seasonal naive (12)", "exponential smoothing (12)", "lstm"]
    context = 6 + 12
    windows = sliding_windows(series[240 - context:], context + 5, stride=4)
    truth = windows[:, context:]
    every = exponential_smoothing(series, 5, n_fit=240, season=12)
    np.testing.assert_allclose(r["rmse"]["exponential smoothing (12)"][0],
                               rmse_by_horizon(every[::4][: len(windows)], truth))
    assert r["n_params"]["exponential smoothing (12)"] == 0
    # without seasonality: no seasonal baseline, simple exponential smoothing
    noise = np.random.default_rng(0).standard_normal((300, 1))
    r = compare_forecasters(noise, {}, input_steps=6, horizon=5, exponential_smoothing=False)
    assert r["period"] is None and list(r["rmse"]) == ["persistence"]
    r = compare_forecasters(noise, {}, input_steps=6, horizon=5)
    assert list(r["rmse"]) == ["persistence", "exponential smoothing"]


# --------------------------------------------------------------------------
# The networks against seasonal naive a day ahead (issue 15)
# --------------------------------------------------------------------------

ISSUE_CONFIG = dict(cell="tlstm", hidden_size=16, n_lags=3, order=2, tt_rank=4, input_steps=96, random_state=0)


def _day_ahead(series, fraction=0.7, stride=3):
    """RMSE over the 48 steps of a day ahead, of the default-configured network and the baselines."""
    n_fit = int(round(fraction * len(series)))
    model = Forecaster(**ISSUE_CONFIG).fit(series[:n_fit])
    context = 96 + (model.season_ or 0)
    windows = sliding_windows(series[n_fit - context:], context + 48, stride=stride)
    hist, truth = windows[:, :context], windows[:, context:]

    def rmse(forecast):
        return float(np.sqrt(np.mean((forecast - truth) ** 2)))

    return model, rmse(model.predict(hist, 48)), rmse(seasonal_naive(hist, 48, 48)), rmse(persistence(hist, 48))


@pytest.mark.parametrize("seed", [0, 1])
def test_default_network_beats_seasonal_naive_a_day_ahead_with_a_drifting_disturbance(seed):
    model, ours, naive, last = _day_ahead(half_hourly_drifting(seed))
    assert model.season_ == 48 and model.residual_ is False
    assert ours < 0.95 * naive < last, (ours, naive, last)  # measured: 0.507 against 0.556 (seed 0), 0.568 against 0.631 (seed 1)


def test_default_network_beats_seasonal_naive_a_day_ahead_on_a_noisy_daily_cycle():
    """The harder series: daily levels that wander from day to day, noise from step to step. The margin
    is small (exponential smoothing does better: 0.524); without the defaults (season=None, a 12-step
    decoder run for 48 steps) the same network was 35 % worse than seasonal naive here (0.787 vs 0.583)."""
    model, ours, naive, last = _day_ahead(half_hourly(0))
    assert (model.season_, model.residual_, model.output_steps_) == (48, False, 48)
    assert ours < 0.99 * naive < last, (ours, naive, last)  # measured: 0.563 against 0.583
