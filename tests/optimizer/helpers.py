"""Small hand-made problems for the optimizer tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from agent.optimizer import GridInputs, GridParams

BIG_STEP_KW = 100.0


def spot_grid(
    buy_prices: Sequence[float], sell_prices: Sequence[float] | None = None, *, adder: float = 0.0
) -> GridInputs:
    """One unlimited step each way: the home buys at ``buy_prices`` and sells at ``sell_prices``."""
    buy = np.asarray(buy_prices, dtype=float)
    sell = buy if sell_prices is None else np.asarray(sell_prices, dtype=float)
    t_n = buy.size
    return GridInputs(
        buy_price_per_kwh=buy.reshape(-1, 1),
        buy_max_kw=np.full((t_n, 1), BIG_STEP_KW),
        sell_price_per_kwh=sell.reshape(-1, 1),
        sell_max_kw=np.full((t_n, 1), BIG_STEP_KW),
        position_kw=np.zeros(t_n),
        import_adder_per_kwh=np.full(t_n, adder),
        export_adder_per_kwh=np.zeros(t_n),
    )


def spot_params(import_limit_kw: float = 50.0, export_limit_kw: float = 50.0) -> GridParams:
    return GridParams(
        import_limit_kw=import_limit_kw, export_limit_kw=export_limit_kw, buy_steps=1, sell_steps=1
    )


def zeros(t_n: int) -> np.ndarray:
    return np.zeros(t_n)
