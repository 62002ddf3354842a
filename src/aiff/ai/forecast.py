"""Daily ticket volume forecasts: a weekly-seasonal regression with a damped trend, and its baseline.

Model: ordinary least squares on the last `window` days, y_t = a + b·t + Σ_d s_d·[dow(t) = d] (six
day-of-week dummies), so the weekly profile is averaged over many weeks instead of copied from one (which
is what the seasonal-naive baseline does, noise included). The trend is damped (φ per day) when projected,
forecasts are clipped at 0, and intervals come from the empirical quantiles of the in-sample residuals,
widened with the horizon by √(1 + h/window).

The baseline is seasonal-naive: the value of the same weekday in the last observed week.
`backtest` compares both by rolling-origin evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

HORIZONS = (7, 14, 30)


@dataclass
class Forecast:
    start: date | None
    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    level: float
    fit_r2: float | None
    n_obs: int

    def as_rows(self) -> list[dict]:
        rows = []
        for i, (m, lo, hi) in enumerate(zip(self.mean, self.lower, self.upper)):
            day = (self.start + timedelta(days=i)).isoformat() if self.start else i + 1
            rows.append({"date": day, "forecast": round(float(m), 2), "lower": round(float(lo), 2), "upper": round(float(hi), 2)})
        return rows


def _design(t: np.ndarray, dow: np.ndarray) -> np.ndarray:
    cols = [np.ones_like(t, dtype=float), t.astype(float)]
    cols += [(dow == d).astype(float) for d in range(1, 7)]
    return np.column_stack(cols)


def seasonal_naive(y: np.ndarray, horizon: int, season: int = 7) -> np.ndarray:
    """The baseline: repeat the last observed season."""
    y = np.asarray(y, dtype=float)
    if len(y) < season:
        return np.full(horizon, float(y.mean()) if len(y) else 0.0)
    last = y[-season:]
    return np.array([last[i % season] for i in range(horizon)])


def forecast(
    y: np.ndarray,
    horizon: int,
    *,
    start_dow: int = 0,
    start: date | None = None,
    window: int = 84,
    damping: float = 0.98,
    level: float = 0.8,
) -> Forecast:
    """Forecast `horizon` days after the series `y` (daily counts, oldest first).

    Args:
        y: observed daily counts.
        horizon: days to forecast.
        start_dow: weekday (0 = Monday) of y[0]; with `start` given it is derived from it.
        start: the date of y[0], so the forecast rows carry dates.
        window: how many recent days to fit on.
        damping: per-day damping of the trend when projected.
        level: central coverage of the interval (from residual quantiles).
    """
    y = np.asarray(y, dtype=float)
    n = len(y)
    first_forecast_day = start + timedelta(days=n) if start else None
    if start is not None:
        start_dow = start.weekday()
    if n < 14:
        mean = np.full(horizon, y.mean() if n else 0.0)
        spread = (y.std() if n > 1 else max(mean[0], 1.0)) * 1.3
        return Forecast(first_forecast_day, mean, np.maximum(mean - spread, 0), mean + spread, level, None, n)
    w = min(window, n)
    t = np.arange(n - w, n)
    dow = (start_dow + t) % 7
    X = _design(t, dow)
    coef, *_ = np.linalg.lstsq(X, y[-w:], rcond=None)
    fitted = X @ coef
    resid = y[-w:] - fitted
    ss_tot = float(((y[-w:] - y[-w:].mean()) ** 2).sum())
    r2 = 1 - float((resid**2).sum()) / ss_tot if ss_tot > 0 else None

    h = np.arange(1, horizon + 1)
    damp = np.cumsum(damping**h)  # damped steps beyond the last observation
    tf = n - 1 + damp
    dow_f = (start_dow + n - 1 + h) % 7
    Xf = _design(tf, dow_f)
    mean = np.maximum(Xf @ coef, 0.0)
    lo_q, hi_q = np.quantile(resid, [(1 - level) / 2, 1 - (1 - level) / 2])
    widen = np.sqrt(1 + h / w)
    return Forecast(first_forecast_day, mean, np.maximum(mean + lo_q * widen, 0.0), np.maximum(mean + hi_q * widen, 0.0), level, r2, n)


def mape(actual: np.ndarray, predicted: np.ndarray) -> float | None:
    """Mean absolute percentage error over days with a non-zero actual (None when there are none)."""
    actual, predicted = np.asarray(actual, dtype=float), np.asarray(predicted, dtype=float)
    mask = actual > 0
    if not mask.any():
        return None
    return float(np.mean(np.abs(actual[mask] - predicted[mask]) / actual[mask]) * 100)


@dataclass
class BacktestResult:
    horizon: int
    origins: int
    model_mape: float | None
    naive_mape: float | None
    model_mae: float
    naive_mae: float

    @property
    def beats_baseline(self) -> bool:
        if self.model_mape is not None and self.naive_mape is not None:
            return self.model_mape < self.naive_mape
        return self.model_mae < self.naive_mae


def backtest(y: np.ndarray, horizon: int, *, min_train: int = 56, step: int = 7, start_dow: int = 0) -> BacktestResult:
    """Rolling-origin evaluation: fit on y[:o], score the next `horizon` days, for o every `step` days."""
    y = np.asarray(y, dtype=float)
    actual_all, model_all, naive_all = [], [], []
    origins = 0
    for o in range(min_train, len(y) - horizon + 1, step):
        actual = y[o : o + horizon]
        actual_all.append(actual)
        model_all.append(forecast(y[:o], horizon, start_dow=start_dow).mean)
        naive_all.append(seasonal_naive(y[:o], horizon))
        origins += 1
    if not origins:
        return BacktestResult(horizon, 0, None, None, float("nan"), float("nan"))
    a, m, s = np.concatenate(actual_all), np.concatenate(model_all), np.concatenate(naive_all)
    return BacktestResult(horizon, origins, mape(a, m), mape(a, s), float(np.mean(np.abs(a - m))), float(np.mean(np.abs(a - s))))
