"""The spot price model: how the price deviations settle at differs from the forward price.

``spot = f + e + s`` per row of the forward file (an hour for the shipped prices), with ``f`` the
forward (day-ahead) price:

* ``e``: AR(1) noise, ``e_0 ~ N(0, σ²)``, ``e_k = ρ·e_(k-1) + σ·√(1−ρ²)·z_k`` — stationary
  standard deviation ``σ`` (``sigma_per_kwh``), lag-one correlation ``ρ`` (``correlation``);
* ``s`` (model ``volatile`` only): a spike overlay, independent per row: with probability
  ``spike_probability`` the row carries a spike of size ``Exponential(spike_mean_per_kwh)``,
  upward with probability ``spike_up_share``, else downward; a spike lasts its row and is at
  most :data:`SPIKE_MAX_PER_KWH` (inside the retailer link's default price cap of 5, beyond which
  the agent refuses a price as garbage; the formulas below ignore the cut, which for mean sizes
  up to 1 EUR/kWh moves them by less than 2 %).

So ``E[spot − f] = p·m·(2u − 1)`` and ``Var[spot − f] = σ² + p·2m² − (p·m·(2u − 1))²`` for
``p, m, u`` the spike probability, mean size and up share.

Draws come from numpy's PCG64 seeded with ``spot.seed`` and, when given, the run's seed (the
simulator passes it so that ``hems simulate --seed N`` draws another realisation), so a
scenario and seed always give the same spot prices. The noise and the spikes are drawn from
separate streams: switching spikes on does not move the noise.

:func:`calibrate` derives the parameters from a price series' own hour-to-hour changes ``Δ``
(no real-time or intraday series ships with the project, so the day-ahead series stands in
for the size of the news that moves a price within an hour): the innovation ``σ·√(1−ρ²)`` is
the robust standard deviation of ``Δ`` (1.4826 × its median absolute deviation); spikes are
the changes more than ``threshold`` robust deviations from the median change: their share is
the probability, their mean absolute size the mean size, the share of them upward the up share.
``ρ`` is not identified by the changes alone and is given.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from agent.scenario.series import RawSeries, Vec

# 1.4826 × MAD estimates the standard deviation of normal data, unmoved by the tails.
_MAD_TO_SIGMA = 1.4826
SPIKE_MAX_PER_KWH = 4.0


@dataclass(frozen=True)
class Calibration:
    sigma_per_kwh: float  # stationary σ of the AR(1) noise, for the given correlation
    innovation_per_kwh: float
    spike_probability: float
    spike_mean_per_kwh: float
    spike_up_share: float


def noise(n: int, sigma_per_kwh: float, correlation: float, rng: np.random.Generator) -> Vec:
    z = rng.standard_normal(n)
    e = np.empty(n)
    if n == 0:
        return e
    e[0] = sigma_per_kwh * z[0]
    innovation = sigma_per_kwh * np.sqrt(1.0 - correlation * correlation)
    for k in range(1, n):
        e[k] = correlation * e[k - 1] + innovation * z[k]
    return e


def spikes(n: int, probability: float, mean_per_kwh: float, up_share: float, rng: np.random.Generator) -> Vec:
    hit = rng.random(n) < probability
    size = (
        np.minimum(rng.exponential(mean_per_kwh, n), SPIKE_MAX_PER_KWH) if mean_per_kwh > 0 else np.zeros(n)
    )
    up = rng.random(n) < up_share
    return np.where(hit, np.where(up, size, -size), 0.0)


def draw(
    forward: RawSeries,
    *,
    sigma_per_kwh: float,
    correlation: float,
    seed: int,
    run_seed: int | None = None,
    spike_probability: float = 0.0,
    spike_mean_per_kwh: float = 0.0,
    spike_up_share: float = 0.5,
) -> RawSeries:
    """Spot on the forward series' own grid and time axis."""
    n = len(forward.values)
    if run_seed is None:
        rng = np.random.default_rng(seed)
        e = noise(n, sigma_per_kwh, correlation, rng)
        spike_rng = np.random.default_rng([seed, 1])
    else:
        noise_seq, spike_seq = np.random.SeedSequence([seed, run_seed]).spawn(2)
        e = noise(n, sigma_per_kwh, correlation, np.random.default_rng(noise_seq))
        spike_rng = np.random.default_rng(spike_seq)
    s = spikes(n, spike_probability, spike_mean_per_kwh, spike_up_share, spike_rng)
    return dataclasses.replace(forward, values=forward.values + e + s)


def calibrate(prices_per_kwh: Vec, *, correlation: float, threshold: float = 4.0) -> Calibration:
    """The model's parameters from a series' hour-to-hour changes (gaps skipped)."""
    p = np.asarray(prices_per_kwh, dtype=np.float64)
    d = np.diff(p)
    d = d[np.isfinite(d)]
    if len(d) < 2:
        raise ValueError("needs at least three consecutive prices")
    if not 0.0 <= correlation < 1.0:
        raise ValueError("correlation must be 0 <= rho < 1")
    centre = float(np.median(d))
    robust = _MAD_TO_SIGMA * float(np.median(np.abs(d - centre)))
    tail = np.abs(d - centre) > threshold * robust
    count = int(tail.sum())
    return Calibration(
        sigma_per_kwh=robust / float(np.sqrt(1.0 - correlation * correlation)),
        innovation_per_kwh=robust,
        spike_probability=count / len(d),
        spike_mean_per_kwh=float(np.abs(d[tail]).mean()) if count else 0.0,
        spike_up_share=float((d[tail] > 0).mean()) if count else 0.5,
    )
