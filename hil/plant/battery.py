"""The home battery: one-way efficiencies, SoC window, power limits.

Units: kW, kWh, hours. Power is +charging / −discharging at the AC terminals (``agent/units.py``)::

    charging    (P > 0):  E' = E + η_c · P · h           loss = (1 − η_c) · P · h
    discharging (P < 0):  E' = E + P · h / η_d           loss = (1/η_d − 1) · |P| · h

so a round trip returns η_c · η_d of what was put in (loss 1 − η_c·η_d). A setpoint outside the
power limits, or one that would take the stored energy outside [soc_min, soc_max] · capacity
within the step, is clipped to what the battery can do; the step says so (``clipped``) and what
was asked (``requested_kw``), as a real inverter reports a derating.
"""

from __future__ import annotations

from dataclasses import dataclass

from hil.errors import PlantDataError


@dataclass(frozen=True)
class BatteryStep:
    power_kw: float  # what was delivered (+charge / −discharge)
    requested_kw: float
    clipped: bool
    grid_kwh: float  # energy at the AC terminals (+ into the battery)
    stored_kwh: float  # change of stored energy
    loss_kwh: float


@dataclass
class Battery:
    capacity_kwh: float
    max_charge_kw: float
    max_discharge_kw: float  # a magnitude
    charge_efficiency: float = 0.95
    discharge_efficiency: float = 0.95
    soc_min: float = 0.05  # fractions of capacity
    soc_max: float = 0.95
    energy_kwh: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.soc_min < self.soc_max <= 1.0:
            raise PlantDataError(
                f"need 0 <= soc_min < soc_max <= 1 (got {self.soc_min}, {self.soc_max})", field="soc"
            )
        if not (0 < self.charge_efficiency <= 1 and 0 < self.discharge_efficiency <= 1):
            raise PlantDataError("efficiencies must lie in (0, 1]", field="efficiency")
        if self.energy_kwh == 0.0:
            self.energy_kwh = self.capacity_kwh * (self.soc_min + self.soc_max) / 2.0

    @property
    def soc(self) -> float:
        return self.energy_kwh / self.capacity_kwh

    def feasible_kw(self, requested_kw: float, dt_s: float) -> float:
        """The power closest to ``requested_kw`` the battery can hold for ``dt_s``."""
        h = dt_s / 3600.0
        p = max(-self.max_discharge_kw, min(requested_kw, self.max_charge_kw))
        if p > 0:
            room = max(0.0, self.soc_max * self.capacity_kwh - self.energy_kwh)
            p = min(p, room / (self.charge_efficiency * h))
        elif p < 0:
            avail = max(0.0, self.energy_kwh - self.soc_min * self.capacity_kwh)
            p = max(p, -avail * self.discharge_efficiency / h)
        return p

    def step(self, requested_kw: float, dt_s: float) -> BatteryStep:
        h = dt_s / 3600.0
        p = self.feasible_kw(requested_kw, dt_s)
        stored = self.charge_efficiency * p * h if p >= 0 else p * h / self.discharge_efficiency
        self.energy_kwh += stored
        grid = p * h
        # Requests within a rounding hair of the limit are not a clip worth reporting.
        clipped = abs(p - requested_kw) > 1e-9 * max(1.0, abs(requested_kw))
        return BatteryStep(p, requested_kw, clipped, grid, stored, grid - stored)
