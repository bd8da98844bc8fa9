"""Prices of the soft constraints, in one place.

Every bound a starting state can violate (SoC outside its limits, a cold house, a cold tank, an EV
that cannot reach its target, a base load above the fuse) is soft: a non-negative slack variable
absorbs the violation and is charged at one of these prices. They are set well above any plausible
energy price (retail tariffs top out near 1 currency/kWh, day-ahead spikes near 3) so the optimum
never trades a violation for cheaper energy, yet they are finite, so the problem is never
infeasible. The ordering says what gives way first: the battery's reserve floor before its SoC
limits, comfort before safety limits.

Units: currency per kWh of energy-equivalent, or per kelvin-hour for temperatures (a band missed
by 1 K for one hour costs the value below; heating a house by 1 K costs well under 1 kWh).
"""

from __future__ import annotations

# Energy bought or sold outside every tender ladder step (imbalance nobody offered to take).
UNMATCHED_ENERGY_PER_KWH = 10.0
# Import above the connection's import limit (the fuse): only when base load alone exceeds it.
IMPORT_OVER_LIMIT_PER_KWH = 50.0
# Battery below its reserve floor (kept for backup), and outside its SoC limits.
BATTERY_RESERVE_PER_KWH = 5.0
BATTERY_SOC_LIMIT_PER_KWH = 20.0
# EV energy short of its target at departure.
EV_SHORTFALL_PER_KWH = 20.0
# Indoor temperature outside the comfort band, per kelvin-hour.
COMFORT_BAND_PER_K_H = 10.0
# Tank temperature outside its band, per kelvin-hour.
TANK_BAND_PER_K_H = 10.0

# Curtailing an inverter the config says cannot be curtailed: only when nothing else can take
# the power (export limit reached, storage full); the plan then shows what the grid will do.
FORBIDDEN_CURTAILMENT_PER_KWH = 30.0

# The slack variables these prices are charged on (device modules name them). The optimum leaves
# them at zero unless a starting state, an exhausted ladder or the fuse forces them, so a re-plan
# first solves without them and proves the result optimal (agent/optimizer/screened.py). Not here:
# curtailment and the battery's reserve, which cheap or negative prices make worth using.
SOFT_VARIABLES = frozenset(
    {
        "x_buy", "x_sell", "over",  # unmatched energy, import above the fuse (grid.py)
        "bat_low", "bat_high",  # battery outside its SoC limits (battery.py)
        "ev_short",  # EV short of its target (ev.py)
        "hp_cold", "hp_hot",  # house outside its comfort band (heat_pump.py)
        "wh_cold", "wh_hot",  # tank outside its band (water_heater.py)
    }
)  # fmt: skip

# Stand-in for an infinite bound where a solver interface needs finite numbers (the cvxpy
# reference); far beyond any physical kW, kWh or degree in a home.
BIG = 1.0e4
