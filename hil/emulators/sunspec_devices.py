"""What the emulated grid meter and hybrid inverter show in SunSpec terms, and what their controls mean.

Meter: common (1) + three-phase meter (203). ``W`` is positive while the home imports, as
SunSpec meters count power flowing from the grid into the premises, which is our sign too.

Hybrid inverter with battery: common (1), three-phase inverter (103: ``W`` is the AC output, PV
minus what the battery takes, as a real hybrid reports it; ``DCW`` the DC power into the bridge,
the same here as the plant has one lossless balance; ``WH`` counts the PV energy), nameplate (120), settings
(121), immediate controls (123: curtailment ``WMaxLimPct`` of ``WMax`` while ``WMaxLim_Ena`` = 1),
basic storage (124: ``ChaState`` SoC, ``WChaMax``; control ``StorCtl_Mod`` bit 0 = charge at
``InWRte`` % of ``WChaMax``, bit 1 = discharge at ``OutWRte`` %, both = hold within both rates,
0 = the inverter's own self-consumption logic) and the battery model (802, ``W`` positive while
discharging, as the model defines it; the battery is started and under remote control:
``SetInvState`` = started, ``LocRemCtl`` = remote, as the agent's writes to 124 take effect).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from drivers.modbus.sunspec.image import Value
from hil.errors import EmulatorError
from hil.plant.params import HomeParams
from hil.plant.plant import Plant

NOMINAL_V = 230.0
METER = 203
INVERTER, NAMEPLATE, SETTINGS, CONTROLS, STORAGE, BATTERY = 103, 120, 121, 123, 124, 802
# Model 802's enumerations (sunspec2/models/json/model_802.json): LocRemCtl 0 REMOTE / 1 LOCAL;
# SetInvState 1 INVERTER_STOPPED / 2 INVERTER_STANDBY / 3 INVERTER_STARTED.
LOC_REM_CTL_REMOTE = 0
SET_INV_STATE_STARTED = 3


def _common(model: str, serial: str) -> dict[str, Value]:
    return {"Mn": "hems-hil", "Md": model, "Opt": "emulated", "Vr": "1.0", "SN": serial, "DA": 1}


def meter_models(serial: str = "HIL-M-0001") -> list[tuple[int, dict[str, Value]]]:
    fixed: dict[str, Value] = {
        "A_SF": -2, "V_SF": -1, "Hz_SF": -2, "W_SF": 0, "TotWh_SF": 0,
        "PhV": NOMINAL_V, "PhVphA": NOMINAL_V, "PhVphB": NOMINAL_V, "PhVphC": NOMINAL_V,
        "PPV": 400.0, "PhVphAB": 400.0, "PhVphBC": 400.0, "PhVphCA": 400.0, "Hz": 50.0, "Evt": 0,
    }  # fmt: skip
    return [(1, _common("grid meter", serial)), (METER, fixed)]


def meter_values(grid_kw: float, import_kwh: float, export_kwh: float) -> dict[str, Value]:
    w = grid_kw * 1000.0
    amps = abs(w) / (3 * NOMINAL_V)
    return {
        "W": round(w), "WphA": round(w / 3), "WphB": round(w / 3), "WphC": round(w / 3),
        "A": 3 * amps, "AphA": amps, "AphB": amps, "AphC": amps,
        "TotWhImp": round(import_kwh * 1000.0), "TotWhExp": round(export_kwh * 1000.0),
    }  # fmt: skip


def inverter_models(p: HomeParams, serial: str = "HIL-I-0001") -> list[tuple[int, dict[str, Value]]]:
    rated_w = p.pv_peak_kw * 1000.0
    return [
        (1, _common("hybrid inverter", serial)),
        (INVERTER, {
            "A_SF": -2, "V_SF": -1, "W_SF": 0, "Hz_SF": -2, "WH_SF": 0, "DCW_SF": 0, "Tmp_SF": -1,
            "PhVphA": NOMINAL_V, "PhVphB": NOMINAL_V, "PhVphC": NOMINAL_V, "Hz": 50.0, "TmpCab": 35.0,
            "Evt1": 0, "Evt2": 0,
        }),
        (NAMEPLATE, {
            "DERTyp": 82, "WRtg": rated_w, "WRtg_SF": 0, "VARtg": rated_w, "VARtg_SF": 0,
            "VArRtgQ1": rated_w / 2, "VArRtgQ2": rated_w / 2, "VArRtgQ3": -rated_w / 2,
            "VArRtgQ4": -rated_w / 2, "VArRtg_SF": 0, "ARtg": rated_w / (3 * NOMINAL_V), "ARtg_SF": -2,
            "PFRtgQ1": 0.8, "PFRtgQ2": 0.8, "PFRtgQ3": -0.8, "PFRtgQ4": -0.8, "PFRtg_SF": -3,
            "WHRtg": p.battery_kwh * 1000.0, "WHRtg_SF": 0,
            "MaxChaRte": p.battery_charge_kw * 1000.0, "MaxChaRte_SF": 0,
            "MaxDisChaRte": p.battery_discharge_kw * 1000.0, "MaxDisChaRte_SF": 0,
        }),
        (SETTINGS, {
            "WMax": rated_w, "WMax_SF": 0, "VRef": NOMINAL_V, "VRef_SF": -1, "VRefOfs": 0, "VRefOfs_SF": 0,
        }),
        (CONTROLS, {
            "Conn": 1, "WMaxLimPct": 100.0, "WMaxLimPct_SF": -1, "WMaxLim_Ena": 0,
            "OutPFSet": 1.0, "OutPFSet_SF": -3, "OutPFSet_Ena": 0, "VArPct_Ena": 0,
        }),
        (STORAGE, {
            "WChaMax": p.battery_charge_kw * 1000.0, "WChaMax_SF": 0, "WChaGra": 100, "WDisChaGra": 100,
            "WChaDisChaGra_SF": 0, "StorCtl_Mod": 0, "MinRsvPct": p.soc_min * 100.0, "MinRsvPct_SF": -1,
            "ChaState_SF": -1, "InBatV": 400.0, "InBatV_SF": -1, "InWRte": 0.0, "OutWRte": 0.0,
            "InOutWRte_SF": -2, "ChaGriSet": 1,
        }),
        (BATTERY, {
            "AHRtg": p.battery_kwh * 1000.0 / 400.0, "AHRtg_SF": -1, "WHRtg": p.battery_kwh * 1000.0,
            "WHRtg_SF": 0, "WChaRteMax": p.battery_charge_kw * 1000.0,
            "WDisChaRteMax": p.battery_discharge_kw * 1000.0, "WChaDisChaMax_SF": 0,
            "SoCMax": p.soc_max * 100.0, "SoCMin": p.soc_min * 100.0, "SoC_SF": -1,
            "LocRemCtl": LOC_REM_CTL_REMOTE, "Typ": 4, "State": 3, "Evt1": 0, "Evt2": 0, "EvtVnd1": 0,
            "EvtVnd2": 0, "V": 400.0, "V_SF": -1, "CellV_SF": -3, "A_SF": -2, "AMax_SF": -2, "W_SF": 0,
            "SetOp": 1, "SetInvState": SET_INV_STATE_STARTED, "AlmRst": 0,
        }),
    ]  # fmt: skip


def inverter_values(plant: Plant, battery_kw: float) -> dict[int, dict[str, Value]]:
    """The measurement points of the inverter's models from the plant's latest state."""
    pv_kw = plant.last.powers_kw["pv"] if plant.last is not None else 0.0
    pv_energy_kwh = plant.pv.energy_kwh if plant.pv is not None else 0.0
    soc_pct = plant.battery.soc * 100.0 if plant.battery is not None else 0.0
    ac_w = (pv_kw - battery_kw) * 1000.0  # a hybrid's AC output: PV less the battery's charge
    amps = abs(ac_w) / (3 * NOMINAL_V)
    charging = 4 if battery_kw > 1e-6 else 3 if battery_kw < -1e-6 else 6
    return {
        INVERTER: {
            "W": round(ac_w), "WH": round(pv_energy_kwh * 1000.0), "DCW": round(ac_w),
            "A": 3 * amps, "AphA": amps, "AphB": amps, "AphC": amps, "St": 4 if pv_kw > 0 else 2,
        },
        STORAGE: {"ChaState": soc_pct, "ChaSt": charging},
        BATTERY: {"SoC": soc_pct, "W": round(-battery_kw * 1000.0), "A": -battery_kw * 1000.0 / 400.0},
    }  # fmt: skip


@dataclass
class InverterControls:
    """The control points the agent last wrote (SunSpec units: %, W, mode bits)."""

    w_max_w: float
    w_cha_max_w: float
    lim_pct: float = 100.0
    lim_enabled: bool = False
    stor_mode: int = 0
    in_pct: float = 0.0
    out_pct: float = 0.0

    def accept(self, model_id: int, written: dict[str, float | int | str]) -> None:
        """Check and take a decoded write; :class:`EmulatorError` refuses it (nothing changes)."""
        new = dict(written)
        for key in ("WMaxLimPct",):
            if key in new and not 0.0 <= float(new[key]) <= 100.0:
                raise EmulatorError(f"{key} {new[key]} outside 0..100 %")
        for key in ("InWRte", "OutWRte"):
            if key in new and not -100.0 <= float(new[key]) <= 100.0:
                raise EmulatorError(f"{key} {new[key]} outside -100..100 %")
        if "StorCtl_Mod" in new and int(new["StorCtl_Mod"]) not in (0, 1, 2, 3):
            raise EmulatorError(f"StorCtl_Mod {new['StorCtl_Mod']} has unknown bits")
        if "WMaxLim_Ena" in new and int(new["WMaxLim_Ena"]) not in (0, 1):
            raise EmulatorError(f"WMaxLim_Ena {new['WMaxLim_Ena']} is neither 0 nor 1")
        if model_id == CONTROLS:
            self.lim_pct = float(new.get("WMaxLimPct", self.lim_pct))
            self.lim_enabled = int(new.get("WMaxLim_Ena", int(self.lim_enabled))) == 1
        elif model_id == STORAGE:
            self.stor_mode = int(new.get("StorCtl_Mod", self.stor_mode))
            self.in_pct = float(new.get("InWRte", self.in_pct))
            self.out_pct = float(new.get("OutWRte", self.out_pct))
            self.w_cha_max_w = float(new.get("WChaMax", self.w_cha_max_w))
        elif model_id == SETTINGS:
            self.w_max_w = float(new.get("WMax", self.w_max_w))

    def pv_limit_kw(self) -> float | None:
        return self.lim_pct / 100.0 * self.w_max_w / 1000.0 if self.lim_enabled else None

    def battery_setpoint_kw(self) -> float:
        """The exact battery power these controls ask for (+charge), where they ask for one."""
        if self.stor_mode == 1:
            return self.in_pct / 100.0 * self.w_cha_max_w / 1000.0
        if self.stor_mode == 2:
            return -self.out_pct / 100.0 * self.w_cha_max_w / 1000.0
        return 0.0

    def battery_window_kw(self) -> tuple[float, float] | None:
        """The self-consumption window these controls leave the inverter's own loop (kW), or None
        where they ask for an exact power: no control (mode 0) leaves it all, mode 3 its rates."""
        if self.stor_mode == 0:
            return (-math.inf, math.inf)
        if self.stor_mode == 3:
            rate_kw = self.w_cha_max_w / 1000.0
            return (-self.out_pct / 100.0 * rate_kw, self.in_pct / 100.0 * rate_kw)
        return None
