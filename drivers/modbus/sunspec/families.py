"""SunSpec model families and what each device role needs of them (data only, no I/O).

The configuration check reads this without loading any driver; the driver and ``hems probe``
use it to say what a unit lacks for the role it is given.
"""

from __future__ import annotations

from collections.abc import Collection

INVERTERS = frozenset({101, 102, 103, 111, 112, 113})
METERS = frozenset({201, 202, 203, 204, 211, 212, 213, 214})
COMMON, NAMEPLATE, SETTINGS, CONTROLS, STORAGE, MPPT, BATTERY = 1, 120, 121, 123, 124, 160, 802
POLLED = INVERTERS | METERS | {NAMEPLATE, SETTINGS, CONTROLS, STORAGE, MPPT, BATTERY}
# The DER models of IEEE 1547-2018 (701 measurements, 702 capacity, ...): this driver reads
# none of them, so a unit with only these offers no capability here.
DER_MODELS = range(700, 800)

# role -> (the capability it needs, the models that give it, in words); roles a SunSpec unit
# cannot serve are absent.
ROLE_NEEDS: dict[str, tuple[str, str]] = {
    "meter": ("energy_meter", "a meter model (201-204 or 211-214)"),
    "pv_inverter": ("pv_inverter", "an inverter model (101-103 or 111-113)"),
    "battery": ("battery", "storage model 124 and battery model 802"),
}
# The models each role reads from its unit; choosing an instance of another is a mistake.
ROLE_MODELS: dict[str, frozenset[int]] = {
    "meter": METERS,
    "pv_inverter": INVERTERS | {NAMEPLATE, SETTINGS, CONTROLS, MPPT, BATTERY},
    "battery": frozenset({STORAGE, BATTERY}),
}


def lacking(role: str, model_ids: Collection[int]) -> str | None:
    """What a unit with ``model_ids`` lacks for ``role``, in words; None if it has what is needed."""
    need = ROLE_NEEDS.get(role)
    if need is None:
        return f"a SunSpec unit cannot serve role {role!r}"
    capability, models = need
    ids = set(model_ids)
    if role == "meter" and ids & METERS:
        return None
    if role == "pv_inverter" and ids & INVERTERS:
        return None
    if role == "battery" and {STORAGE, BATTERY} <= ids:
        return None
    found = ", ".join(str(i) for i in sorted(ids)) or "none"
    text = f"role {role} needs capability {capability}: {models}; the unit has models {found}"
    if role == "pv_inverter" and any(i in DER_MODELS for i in ids):
        text += " (DER models 7xx are not read by this driver)"
    return text
